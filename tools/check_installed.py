"""Smoke-test an installed wheel as a minimal host project would use it (run outside the checkout).

Configures Django with the plugin as the README tells a host to, migrates an in-memory SQLite
database, runs the system checks, confirms makemigrations has nothing to write into the installed
package, and reads a Simplified Chinese string from the compiled catalog shipped in the wheel.
"""

import secrets

import django
from django.conf import settings

from loyalty.i18n import CONTENT_LANGUAGES

settings.configure(
    INSTALLED_APPS=[
        "modeltranslation",
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "djmoney",
        "djmoney.contrib.exchange",
        "rest_framework",
        "django_filters",
        "loyalty",
        "loyalty_admin",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    SECRET_KEY=secrets.token_urlsafe(32),
    LANGUAGES=[("en", "English"), ("zh-hans", "Simplified Chinese")],
    MODELTRANSLATION_LANGUAGES=CONTENT_LANGUAGES,
    USE_TZ=True,
    LOYALTY={"API_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"]},
)
django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import translation  # noqa: E402

import loyalty  # noqa: E402

call_command("migrate", verbosity=0)
call_command("check", fail_level="ERROR")
call_command("makemigrations", "loyalty", check=True, dry_run=True, verbosity=0)
with translation.override("zh-hans"):
    shown = translation.gettext("Your points")
assert shown != "Your points", "the compiled zh_Hans catalog did not load from the installed package"
print(f"installed django-loyalty-engine {loyalty.__version__}: migrated, checks pass, zh-hans says {shown}")
