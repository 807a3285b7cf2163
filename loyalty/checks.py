"""System checks for a host's configuration of the plugin."""

from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connections
from django.utils.module_loading import import_string

from .conf import (
    DEFAULTS,
    EXPIRED_REWARD_POLICIES,
    NEGATIVE_BALANCE_POLICIES,
    TIER_DOWNGRADES,
    TIER_WINDOWS,
    user_settings,
)
from .i18n import CONTENT_LANGUAGES

REQUIRED_APPS = (
    "modeltranslation",
    "djmoney",
    "djmoney.contrib.exchange",
    "rest_framework",
    "django_filters",
)


@register(Tags.compatibility)
def check_settings(app_configs=None, **kwargs):
    errors = []
    loyalty = user_settings()
    if not isinstance(loyalty, dict):
        return [Error("settings.LOYALTY must be a dict.", id="loyalty.E001")]
    for key in sorted(set(loyalty) - set(DEFAULTS)):
        errors.append(
            Error(
                f"Unknown setting LOYALTY[{key!r}].",
                hint=f"Known settings: {', '.join(sorted(DEFAULTS))}.",
                id="loyalty.E002",
            )
        )
    for key, choices in (
        ("NEGATIVE_BALANCE_POLICY", NEGATIVE_BALANCE_POLICIES),
        ("EXPIRED_REWARD_POLICY", EXPIRED_REWARD_POLICIES),
    ):
        policy = loyalty.get(key, DEFAULTS[key])
        if policy not in choices:
            errors.append(
                Error(
                    f"LOYALTY[{key!r}] is {policy!r}.",
                    hint=f"Use one of: {', '.join(choices)}.",
                    id="loyalty.E003",
                )
            )
    for key in (
        "PENDING_DAYS",
        "BATCH_SIZE",
        "RECENT_HISTORY_SIZE",
        "API_PAGE_SIZE",
        "REDEMPTION_MAX_QUANTITY",
    ):
        value = loyalty.get(key, DEFAULTS[key])
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < (0 if key == "PENDING_DAYS" else 1)
        ):
            errors.append(Error(f"LOYALTY[{key!r}] must be a whole number, is {value!r}.", id="loyalty.E004"))
    lifetime = loyalty.get("POINTS_LIFETIME_DAYS", DEFAULTS["POINTS_LIFETIME_DAYS"])
    if lifetime is not None and (not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime < 1):
        errors.append(
            Error(
                "LOYALTY['POINTS_LIFETIME_DAYS'] must be a positive whole number or None.", id="loyalty.E005"
            )
        )
    for key, choices in (("TIER_WINDOW", TIER_WINDOWS), ("TIER_DOWNGRADE", TIER_DOWNGRADES)):
        value = loyalty.get(key, DEFAULTS[key])
        if value not in choices:
            errors.append(
                Error(
                    f"LOYALTY[{key!r}] is {value!r}.",
                    hint=f"Use one of: {', '.join(choices)}.",
                    id="loyalty.E010",
                )
            )
    for key, allow_none in (("TIER_GRACE_DAYS", False), ("REFERRAL_MAX_PER_REFERRER", True)):
        value = loyalty.get(key, DEFAULTS[key])
        if not (value is None and allow_none) and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            errors.append(
                Error(f"LOYALTY[{key!r}] must be a whole number ≥ 0, is {value!r}.", id="loyalty.E004")
            )
    backend = loyalty.get("FULFILMENT_BACKEND", DEFAULTS["FULFILMENT_BACKEND"])
    try:
        import_string(backend)
    except ImportError:
        errors.append(Error(f"Cannot import the fulfilment backend {backend!r}.", id="loyalty.E011"))
    for path in loyalty.get("API_AUTHENTICATION_CLASSES", DEFAULTS["API_AUTHENTICATION_CLASSES"]):
        try:
            import_string(path)
        except ImportError:
            errors.append(Error(f"Cannot import the API authentication class {path!r}.", id="loyalty.E006"))
    return errors


@register(Tags.compatibility)
def check_residency(app_configs=None, **kwargs):
    """Each residency database must exist, and only the router can send personal data to it."""
    databases = user_settings().get("RESIDENCY_DATABASES", DEFAULTS["RESIDENCY_DATABASES"])
    if not isinstance(databases, dict):
        return [
            Error("LOYALTY['RESIDENCY_DATABASES'] must map regions to database aliases.", id="loyalty.E012")
        ]
    errors = [
        Error(
            f"LOYALTY['RESIDENCY_DATABASES'][{region!r}] names {alias!r}, which is not in DATABASES.",
            id="loyalty.E012",
        )
        for region, alias in databases.items()
        if alias not in settings.DATABASES
    ]
    if databases and "loyalty.routers.ResidencyRouter" not in settings.DATABASE_ROUTERS:
        errors.append(
            Error(
                "LOYALTY['RESIDENCY_DATABASES'] is set but the residency router is not installed.",
                hint='Add "loyalty.routers.ResidencyRouter" to DATABASE_ROUTERS.',
                id="loyalty.E013",
            )
        )
    return errors


@register(Tags.security)
def check_webhooks(app_configs=None, **kwargs):
    """Outgoing events go to an http(s) URL, always signed; incoming secrets are text."""
    errors = []
    url = user_settings().get("WEBHOOK_URL", DEFAULTS["WEBHOOK_URL"])
    if url and urlsplit(url).scheme not in ("http", "https"):
        errors.append(Error("LOYALTY['WEBHOOK_URL'] must be an http or https URL.", id="loyalty.E014"))
    if url and not user_settings().get("WEBHOOK_SECRET"):
        errors.append(
            Error(
                "LOYALTY['WEBHOOK_URL'] is set without LOYALTY['WEBHOOK_SECRET']: outgoing events would "
                "go unsigned, so none are sent.",
                hint="Set WEBHOOK_SECRET from an environment variable and check signatures in your shop.",
                id="loyalty.E014",
            )
        )
    secrets = user_settings().get("WEBHOOK_SECRETS", DEFAULTS["WEBHOOK_SECRETS"])
    if not isinstance(secrets, dict) or not all(
        isinstance(value, str) or (isinstance(value, list | tuple) and all(isinstance(v, str) for v in value))
        for value in secrets.values()
    ):
        errors.append(
            Error(
                "LOYALTY['WEBHOOK_SECRETS'] must map each event source's code to a secret or a list.",
                id="loyalty.E015",
            )
        )
    return errors


@register(Tags.compatibility)
def check_installed_apps(app_configs=None, **kwargs):
    errors = [
        Error(
            f"'{app}' must be in INSTALLED_APPS for the loyalty plugin.",
            id="loyalty.E007",
        )
        for app in REQUIRED_APPS
        if not apps.is_installed(app)
    ]
    installed = list(settings.INSTALLED_APPS)
    if (
        "modeltranslation" in installed
        and "django.contrib.admin" in installed
        and installed.index("modeltranslation") > installed.index("django.contrib.admin")
    ):
        errors.append(
            Error(
                "'modeltranslation' must come before 'django.contrib.admin' in INSTALLED_APPS.",
                id="loyalty.E008",
            )
        )
    auth_classes = user_settings().get("API_AUTHENTICATION_CLASSES", DEFAULTS["API_AUTHENTICATION_CLASSES"])
    token_authentication = "rest_framework.authentication.TokenAuthentication"  # noqa: S105 (a class path)
    if token_authentication in auth_classes and not apps.is_installed("rest_framework.authtoken"):
        errors.append(
            Warning(
                "The member API accepts token authentication, "
                "but 'rest_framework.authtoken' is not installed.",
                hint="Add 'rest_framework.authtoken' to INSTALLED_APPS "
                "or set LOYALTY['API_AUTHENTICATION_CLASSES'].",
                id="loyalty.W002",
            )
        )
    return errors


@register(Tags.database)
def check_content_languages(app_configs=None, **kwargs):
    """The shipped migrations hold one column per content language; another list would need new ones."""
    languages = [code for code, _ in settings.LANGUAGES]
    used = list(getattr(settings, "MODELTRANSLATION_LANGUAGES", languages))
    if set(used) == set(CONTENT_LANGUAGES) or "loyalty" in getattr(settings, "MIGRATION_MODULES", {}):
        return []
    return [
        Error(
            "django-modeltranslation would store the loyalty plugin's texts in "
            f"{', '.join(used)}, but its shipped migrations cover {', '.join(CONTENT_LANGUAGES)}: "
            "makemigrations would write a migration into the installed package.",
            hint="Set MODELTRANSLATION_LANGUAGES = loyalty.i18n.CONTENT_LANGUAGES (your LANGUAGES may be any "
            "subset; texts fall back to English). To store other languages, keep the plugin's migrations in "
            "your project instead: MIGRATION_MODULES = {'loyalty': 'yourproject.loyalty_migrations'}, copy "
            "loyalty/migrations there and run makemigrations loyalty.",
            id="loyalty.E009",
        )
    ]


@register(Tags.caches)
def check_rate_cache(app_configs=None, **kwargs):
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.endswith("LocMemCache") and not settings.DEBUG:
        return [
            Warning(
                "Exchange-rate quotes are cached per process (LocMemCache): a pinned or refreshed rate "
                "reaches other processes only when their cache entry expires (5 minutes).",
                hint="Use a shared cache such as Redis for CACHES['default'].",
                id="loyalty.W003",
            )
        ]
    return []


@register(Tags.database)
def check_database(app_configs=None, databases=None, **kwargs):
    warnings = []
    for alias in databases or ():
        if connections[alias].vendor == "sqlite":
            warnings.append(
                Warning(
                    f"Database {alias!r} is SQLite: row locks are no-ops and all writes are serialized.",
                    hint="Fine for a demo or a small shop; use PostgreSQL for concurrent traffic.",
                    id="loyalty.W001",
                )
            )
    return warnings
