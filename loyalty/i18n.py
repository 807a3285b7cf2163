"""Languages the plugin's translated content (tier, rule, challenge and reward texts) is stored in.

The shipped migrations create one column per language below (django-modeltranslation), so a host
must use exactly this list for the plugin's models: ``MODELTRANSLATION_LANGUAGES = CONTENT_LANGUAGES``.
Check ``loyalty.E009`` explains the alternative for a host that needs other languages.
This module imports nothing from Django so that settings files can import it.
"""

CONTENT_LANGUAGES = ("en", "zh-hans", "zh-hant", "ja", "ko", "de", "fr", "es", "pt-br", "ar")
