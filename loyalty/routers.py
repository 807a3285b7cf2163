"""Data residency: the plugin's personal data goes to the database of the member's region.

Add ``"loyalty.routers.ResidencyRouter"`` to ``DATABASE_ROUTERS`` and map regions to database
aliases in ``LOYALTY["RESIDENCY_DATABASES"]``, e.g. ``{"cn": "cn"}``; regions not listed use
``default``. Migrate each residency database with ``manage.py migrate --database <alias>``: only
the personal-data tables are created there. The rest of the program (members, ledger, consents,
requests) stays in ``default`` and refers to the person by the pseudonymous ``subject_id`` only.
"""

from django.db import DEFAULT_DB_ALIAS

from .conf import loyalty_settings

# The models of loyalty/models/personal.py: the only tables a residency database holds.
PERSONAL_MODELS = frozenset({"memberprofile", "consentevidence", "requestmessage", "dataexport"})


def residency_database(region: str) -> str:
    """The database alias that stores the personal data of ``region``."""
    return loyalty_settings.RESIDENCY_DATABASES.get(region, DEFAULT_DB_ALIAS)


def residency_databases() -> list[str]:
    """Every alias that may hold personal data, ``default`` first."""
    aliases = [DEFAULT_DB_ALIAS]
    for alias in loyalty_settings.RESIDENCY_DATABASES.values():
        if alias not in aliases:
            aliases.append(alias)
    return aliases


def _is_personal(model) -> bool:
    return model._meta.app_label == "loyalty" and model._meta.model_name in PERSONAL_MODELS


class ResidencyRouter:
    def db_for_write(self, model, **hints):
        instance = hints.get("instance")
        if _is_personal(model) and instance is not None and getattr(instance, "region", ""):
            return residency_database(instance.region)
        return None

    db_for_read = db_for_write

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == DEFAULT_DB_ALIAS or db not in loyalty_settings.RESIDENCY_DATABASES.values():
            return None
        return app_label == "loyalty" and model_name in PERSONAL_MODELS
