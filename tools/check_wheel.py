"""Fail unless a built wheel contains what a host needs at run time.

Usage: python tools/check_wheel.py WHEEL
"""

import sys
import zipfile

REQUIRED = {
    "templates": "loyalty/templates/loyalty/member_center.html",
    "static files": "loyalty/static/loyalty/css/member-center.css",
    "migrations": "loyalty/migrations/0001_initial.py",
    "compiled catalogs": "loyalty/locale/zh_Hans/LC_MESSAGES/django.mo",
    "admin templates": "loyalty_admin/templates/loyalty_admin/member_action.html",
    "admin static files": "loyalty_admin/static/loyalty_admin/vendor/jquery-ui/jquery-ui.min.js",
    "type marker": "loyalty/py.typed",
}


def main(path: str) -> int:
    names = set(zipfile.ZipFile(path).namelist())
    missing = {what: name for what, name in REQUIRED.items() if name not in names}
    for what, name in missing.items():
        print(f"missing {what}: {name}")
    if not missing:
        print(f"{path}: {len(names)} files, all required parts present")
    return 1 if missing else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
