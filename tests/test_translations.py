"""The shipped catalogs: every language of the member center is complete and keeps the placeholders."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from loyalty.i18n import CONTENT_LANGUAGES

LOCALE = Path(__file__).resolve().parents[1] / "locale"
# English is the source language: its catalog holds the msgids only.
TRANSLATED = sorted(path for path in LOCALE.glob("*/LC_MESSAGES/django.po") if path.parts[-3] != "en")


def catalog(path: Path):
    with path.open("rb") as po_file:
        return read_po(po_file, locale=path.parts[-3])


def test_every_content_language_has_a_catalog():
    shipped = {path.parts[-3].lower().replace("_", "-") for path in LOCALE.glob("*/LC_MESSAGES/django.po")}
    assert shipped == set(CONTENT_LANGUAGES)


@pytest.mark.parametrize("path", TRANSLATED, ids=lambda path: path.parts[-3])
def test_a_catalog_translates_every_message(path):
    untranslated = [
        message.id
        for message in catalog(path)
        if message.id
        and (message.fuzzy or not all(message.string if message.pluralizable else [message.string]))
    ]
    assert untranslated == []


@pytest.mark.parametrize("path", TRANSLATED, ids=lambda path: path.parts[-3])
def test_a_catalog_keeps_every_placeholder(path):
    problems = [(message.id, [str(error) for error in errors]) for message, errors in catalog(path).check()]
    assert problems == []


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext) to extract messages"
)
def test_the_catalogs_hold_every_message_of_the_source(tmp_path):
    """A string marked for translation but missing from the catalogs shows in English in every language."""
    root = LOCALE.parent
    for name in ("loyalty", "loyalty_admin", "config"):
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / "manage.py", tmp_path)
    (tmp_path / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-location"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    extracted = {
        (message.id, message.context) for message in catalog(tmp_path / "locale/en/LC_MESSAGES/django.po")
    }
    shipped = {(message.id, message.context) for message in catalog(LOCALE / "en/LC_MESSAGES/django.po")}
    assert extracted - shipped == set()
