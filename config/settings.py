"""Settings of the demo and test host project, read from environment variables.

- DATABASE_URL: a database URL (e.g. postgres://postgres@127.0.0.1:5432/loyalty); SQLite when unset.
- CN_DATABASE_URL: the database for personal data of members whose market's residency region is
  "cn"; by default a second database named after the first with "_cn" appended.
- CELERY_BROKER_URL: a broker URL (redis://..., amqp://...); tasks run eagerly when unset.
- DJANGO_SECRET_KEY: the secret key; a random one is generated into .local/ for the demo when unset.
- LOYALTY_WEBHOOK_SECRETS: the secrets of the event sources, "pos=...,skyair=..."; the demo's two
  sources get random ones in .local/ when unset.
- LOYALTY_WEBHOOK_URL, LOYALTY_WEBHOOK_SECRET: the shop's endpoint for outgoing events (none when
  unset) and the secret they are signed with.
- DJANGO_DEBUG: "1" (default) or "0".
- DJANGO_ALLOWED_HOSTS: comma-separated host names.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.management.utils import get_random_secret_key

from loyalty.i18n import CONTENT_LANGUAGES

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = BASE_DIR / ".local"


def _local_secret(name: str, variable: str = "") -> str:
    """The secret in ``variable`` if set, else one generated once into .local/``name`` for the demo."""
    if variable and os.environ.get(variable):
        return os.environ[variable]
    key_file = LOCAL_DIR / name
    if not key_file.exists():
        LOCAL_DIR.mkdir(exist_ok=True)
        key_file.write_text(get_random_secret_key())
    return key_file.read_text().strip()


def _webhook_secrets() -> dict[str, str]:
    """LOYALTY_WEBHOOK_SECRETS ("pos=...,skyair=..."), else local secrets for the demo's two sources."""
    configured = os.environ.get("LOYALTY_WEBHOOK_SECRETS", "")
    if configured:
        pairs = (item.partition("=") for item in configured.split(",") if item.strip())
        return {code.strip(): secret.strip() for code, _, secret in pairs}
    return {code: _local_secret(f"{code}_webhook_secret") for code in ("pos", "skyair")}


SECRET_KEY = _local_secret("secret_key", "DJANGO_SECRET_KEY")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "djmoney",
    "djmoney.contrib.exchange",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "loyalty",
    "loyalty_admin",
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
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_sqlite_path = BASE_DIR / ".local" / "db.sqlite3"
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{_sqlite_path}", conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    LOCAL_DIR.mkdir(exist_ok=True)
    # IMMEDIATE takes the write lock at BEGIN, so a read-then-write transaction never fails to upgrade.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}


def _residency_database() -> dict:
    """The demo keeps the personal data of its China market in a database of its own."""
    if os.environ.get("CN_DATABASE_URL"):
        return dj_database_url.parse(os.environ["CN_DATABASE_URL"], conn_max_age=0)
    default = DATABASES["default"]
    if default["ENGINE"] == "django.db.backends.sqlite3":
        return {**default, "NAME": str(Path(default["NAME"]).with_name("db-cn.sqlite3"))}
    return {**default, "NAME": f"{default['NAME']}_cn"}


DATABASES["cn"] = _residency_database()
DATABASE_ROUTERS = ["loyalty.routers.ResidencyRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
# The member center's languages, each named in itself; the plugin's content languages.
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
# The plugin's translated texts are stored in these languages (its shipped migrations match them).
MODELTRANSLATION_LANGUAGES = CONTENT_LANGUAGES
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = LOCAL_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = LOCAL_DIR / "media"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "loyalty:member-center"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BEAT_SCHEDULE = {
    "loyalty-release-pending": {"task": "loyalty.tasks.release_pending_points", "schedule": 15 * 60},
    "loyalty-expire": {"task": "loyalty.tasks.expire_points", "schedule": 60 * 60},
    "loyalty-exchange-rates": {"task": "loyalty.tasks.refresh_exchange_rates", "schedule": 6 * 60 * 60},
    "loyalty-tiers": {"task": "loyalty.tasks.evaluate_tiers", "schedule": 60 * 60},
    # Hourly, so that each time zone's birthdays are paid on the member's own day.
    "loyalty-birthdays": {"task": "loyalty.tasks.award_birthday_bonuses", "schedule": 60 * 60},
    "loyalty-challenges": {"task": "loyalty.tasks.close_challenges", "schedule": 60 * 60},
    "loyalty-expire-rewards": {"task": "loyalty.tasks.expire_redemptions", "schedule": 60 * 60},
    "loyalty-retention": {"task": "loyalty.tasks.apply_retention", "schedule": 24 * 60 * 60},
    "loyalty-webhooks": {"task": "loyalty.tasks.deliver_webhooks", "schedule": 60},
}

LOYALTY = {
    "DEFAULT_MARKET": "EU",
    "WEBHOOK_SECRETS": _webhook_secrets(),
    "WEBHOOK_URL": os.environ.get("LOYALTY_WEBHOOK_URL", ""),
    "WEBHOOK_SECRET": os.environ.get("LOYALTY_WEBHOOK_SECRET", ""),
    "RESIDENCY_DATABASES": {"cn": "cn"},
    "BASE_CURRENCY": "EUR",
    # Demo rates (units per 1 EUR) for the offline backend; a shop would use a feed backend instead.
    "FIXED_EXCHANGE_RATES": {
        "USD": "1.08",
        "GBP": "0.85",
        "CNY": "7.80",
        "JPY": "162",
        "KWD": "0.332",
        "BRL": "5.90",
        "ZAR": "19.70",
        "CHF": "0.95",
    },
}
