"""How a shop sets the adapter up: its migrations, its system checks, and the plugin without Oscar."""

import os
import subprocess
import sys
from pathlib import Path

from loyalty.integrations.oscar.checks import check_fulfilment_backend, check_oscar_settings

ROOT = Path(__file__).resolve().parent.parent.parent

# Imports every module of the plugin except the Oscar adapter, with Oscar made unimportable.
WITHOUT_OSCAR = """
import importlib, pkgutil, sys
sys.modules["oscar"] = None
import django
django.setup()
import loyalty
for module in pkgutil.walk_packages(loyalty.__path__, "loyalty."):
    if not module.name.startswith("loyalty.integrations.oscar."):
        importlib.import_module(module.name)
print("imported")
"""


def under(settings_module: str) -> dict:
    """Subprocess options: this project's folder, the given settings and the default (SQLite) database."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module}
    environment.pop("DATABASE_URL", None)
    return {"cwd": ROOT, "env": environment, "capture_output": True, "text": True, "timeout": 120}


def test_the_shop_needs_no_migration_beyond_the_shipped_ones():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        **under("tests.hosts.oscar_host"),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_plugin_imports_without_oscar_installed():
    script = [sys.executable, "-c", WITHOUT_OSCAR]
    result = subprocess.run(script, **under("config.settings"))  # noqa: S603 (the script is the constant above)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_a_fulfilment_backend_that_makes_no_vouchers_is_warned_about(settings):
    assert check_fulfilment_backend() == []
    settings.LOYALTY = {**settings.LOYALTY, "FULFILMENT_BACKEND": "loyalty.fulfilment.CouponBackend"}
    assert [warning.id for warning in check_fulfilment_backend()] == ["loyalty_oscar.W001"]


def test_unknown_settings_and_status_actions_are_errors(settings):
    assert check_oscar_settings() == []
    settings.LOYALTY_OSCAR = {"STATUS_ACTION": {}, "STATUS_ACTIONS": {"Complete": "release"}}
    assert [error.id for error in check_oscar_settings()] == ["loyalty_oscar.E002", "loyalty_oscar.E003"]
