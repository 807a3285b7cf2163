"""The plugin's settings: one ``LOYALTY`` dict in the host's settings, over these defaults.

Values are read on every access, so ``override_settings`` and pytest-django's ``settings``
fixture take effect at once. No other module reads Django settings for the plugin.
"""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Template the member-center pages extend; a host points it at its own layout.
    "BASE_TEMPLATE": "loyalty/base.html",
    # Market code new members join when the caller names none (member center "join" button).
    "DEFAULT_MARKET": None,
    # Days points from an order stay pending (the return window) unless the order is confirmed.
    "PENDING_DAYS": 14,
    # Days released points stay spendable; None means points never expire.
    "POINTS_LIFETIME_DAYS": 365,
    # What a refund does when the member already spent the points it claws back:
    # "clamp_to_zero" takes what is left and writes the rest off (recorded on the entry);
    # "allow_negative" records the shortfall as a debt that future earnings pay off first.
    "NEGATIVE_BALANCE_POLICY": "clamp_to_zero",
    # Rows a batch job (expiry, release, audit) handles per transaction.
    "BATCH_SIZE": 500,
    # Entries shown as "recent history" on the member center page.
    "RECENT_HISTORY_SIZE": 10,
    # Page size of the ledger endpoint of the REST API.
    "API_PAGE_SIZE": 20,
    # DRF authentication classes of the member API.
    "API_AUTHENTICATION_CLASSES": (
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ),
}

NEGATIVE_BALANCE_POLICIES = ("clamp_to_zero", "allow_negative")


class LoyaltySettings:
    """Attribute access to ``settings.LOYALTY`` with the defaults above filled in."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown loyalty setting: {name}")
        return user_settings().get(name, DEFAULTS[name])


def user_settings() -> dict[str, Any]:
    """The host's ``LOYALTY`` dict as written (empty when unset)."""
    return getattr(settings, "LOYALTY", None) or {}


loyalty_settings = LoyaltySettings()
