"""The shipped migrations are complete and do not depend on the host's settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("settings_module", ["config.settings", "tests.hosts.other_host"])
def test_makemigrations_finds_nothing_to_do_under_different_hosts(settings_module):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module}
    environment.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "loyalty", "--check", "--dry-run"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_apply_backwards_and_forwards(transactional_db):
    from django.core.management import call_command

    call_command("migrate", "loyalty", "zero", verbosity=0)
    call_command("migrate", "loyalty", verbosity=0)
