"""A django-oscar shop with the plugin and its Oscar adapter: the host of the tests in tests/oscar.

Run them in a process of their own: ``pytest --ds=tests.hosts.oscar_host tests/oscar``.
DATABASE_URL selects the database as in config/settings.py; SQLite when unset.
"""

import os
from pathlib import Path

import dj_database_url
import oscar
from oscar.defaults import *  # noqa: F403  (Oscar's settings, as a shop imports them)

from loyalty.i18n import CONTENT_LANGUAGES

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LOCAL_DIR = BASE_DIR / ".local"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "oscar-host-tests-only")
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
SITE_ID = 1

INSTALLED_APPS = [
    "modeltranslation",  # before django.contrib.admin, which oscar.INSTALLED_APPS lists
    *oscar.INSTALLED_APPS,
    "djmoney",
    "djmoney.contrib.exchange",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "loyalty",
    "loyalty.integrations.oscar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]

ROOT_URLCONF = "tests.hosts.oscar_urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.media",
                "django.template.context_processors.static",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = [
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
]

_sqlite_path = LOCAL_DIR / "oscar.sqlite3"
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{_sqlite_path}", conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    LOCAL_DIR.mkdir(exist_ok=True)
    # IMMEDIATE takes the write lock at BEGIN, so a read-then-write transaction never fails to upgrade.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
# The simple backend keeps no index, so there is nothing to update when products change.
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("zh-hans", "简体中文"),
    ("zh-hant", "繁體中文"),
    ("ja", "日本語"),
    ("ko", "한국어"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The plugin's translated texts are stored in its content languages (its shipped migrations match them).
MODELTRANSLATION_LANGUAGES = CONTENT_LANGUAGES
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
MEDIA_URL = "media/"
MEDIA_ROOT = LOCAL_DIR / "oscar-media"

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# Oscar's sandbox pipeline, which the adapter's default STATUS_ACTIONS fit.
OSCAR_DEFAULT_CURRENCY = "EUR"
OSCAR_INITIAL_ORDER_STATUS = "Pending"
OSCAR_INITIAL_LINE_STATUS = "Pending"
OSCAR_ORDER_STATUS_PIPELINE = {
    "Pending": ("Being processed", "Cancelled"),
    "Being processed": ("Complete", "Cancelled"),
    "Complete": (),
    "Cancelled": (),
}
OSCAR_LINE_STATUS_PIPELINE = OSCAR_ORDER_STATUS_PIPELINE
OSCAR_SEND_REGISTRATION_EMAIL = False

LOYALTY = {
    "DEFAULT_MARKET": "EU",
    "BASE_CURRENCY": "EUR",
    "FULFILMENT_BACKEND": "loyalty.integrations.oscar.vouchers.OscarVoucherBackend",
}
LOYALTY_OSCAR = {
    "MARKETS_BY_CURRENCY": {"EUR": "EU"},
}
