"""A host project configured differently from the demo: other languages, currencies and auto field.

The shipped migrations must not change under it.
"""

from config.settings import *  # noqa: F403

LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch"), ("en", "English"), ("ja", "日本語"), ("pt-br", "Português")]
CURRENCIES = ("USD", "EUR", "JPY")
DEFAULT_CURRENCY = "USD"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
TIME_ZONE = "America/Sao_Paulo"
