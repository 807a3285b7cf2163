"""Compile gettext catalogs (.po -> .mo) with Babel, so no GNU gettext is needed.

Usage: python tools/compile_catalogs.py SOURCE_DIR [TARGET_DIR]
SOURCE_DIR holds <lang>/LC_MESSAGES/*.po; the .mo files go next to them, or under TARGET_DIR.
"""

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def compile_catalogs(source: Path, target: Path | None = None) -> list[Path]:
    """Compile every catalog below `source`; return the written .mo paths."""
    written = []
    for po_path in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo_path = (target or source) / po_path.relative_to(source).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    paths = compile_catalogs(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else None)
    print(f"compiled {len(paths)} catalog(s)")
