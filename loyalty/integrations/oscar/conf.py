"""Settings of the django-oscar adapter: one ``LOYALTY_OSCAR`` dict in the host's settings, over defaults.

They live apart from ``LOYALTY`` because they only mean something to a shop running Oscar. Values are
read on every access, so ``override_settings`` takes effect at once. No other module reads them.
"""

from typing import Any

from django.conf import settings

CONFIRM = "confirm"
CANCEL = "cancel"
STATUS_ACTIONS = (CONFIRM, CANCEL)

DEFAULTS: dict[str, Any] = {
    # Market code for customers enrolled when they register, and for those enrolled at an order in a
    # currency that picks no market (below); None: the plugin's LOYALTY["DEFAULT_MARKET"].
    "MARKET": None,
    # Market code per order currency, for customers enrolled at their first order, e.g.
    # {"EUR": "EU", "JPY": "JP"}. A currency not listed picks the one active market whose default
    # currency it is, if there is exactly one; otherwise MARKET applies.
    "MARKETS_BY_CURRENCY": {},
    # Enrol customers when Oscar registers them (its user_registered signal).
    "ENROL_ON_REGISTRATION": True,
    # Enrol customers who are not members yet when they place an order (those who registered
    # before the program existed); False: only members' orders earn points.
    "ENROL_ON_ORDER": True,
    # What an Oscar order status means for the order's points: "confirm" releases them now (the
    # order can no longer be returned), "cancel" takes them all back. Other statuses change nothing.
    # The defaults fit the pipeline of Oscar's sandbox (Pending, Being processed, Complete, Cancelled).
    "STATUS_ACTIONS": {"Complete": CONFIRM, "Cancelled": CANCEL},
    # Codes of the Oscar payment event types that record money paid back to the customer; each such
    # PaymentEvent claws points back in proportion to its amount.
    "REFUND_EVENT_TYPES": ["refund", "refunded"],
}


class OscarSettings:
    """Attribute access to ``settings.LOYALTY_OSCAR`` with the defaults above filled in."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown loyalty Oscar setting: {name}")
        return user_settings().get(name, DEFAULTS[name])


def user_settings() -> dict[str, Any]:
    """The host's ``LOYALTY_OSCAR`` dict as written (empty when unset)."""
    return getattr(settings, "LOYALTY_OSCAR", None) or {}


oscar_settings = OscarSettings()
