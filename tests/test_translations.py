"""The shipped catalogs: every language of the member center is complete and keeps the placeholders."""

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
