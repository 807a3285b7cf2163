"""The plugin's settings: one ``LOYALTY`` dict in the host's settings, over these defaults.

Values are read on every access, so ``override_settings`` and pytest-django's ``settings``
fixture take effect at once. No other module reads Django settings for the plugin.
"""

from decimal import Decimal
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
    # The program's base currency: rates are quoted against it, liability is summed in it, and
    # orders in markets without a rate of their own earn BASE_POINTS_PER_UNIT per unit of it.
    "BASE_CURRENCY": "EUR",
    "BASE_POINTS_PER_UNIT": Decimal("1"),
    # What one point is worth when redeemed, in the base currency (markets pegged to the base).
    "BASE_POINT_VALUE": Decimal("0.01"),
    # A djmoney exchange backend (djmoney.contrib.exchange.backends.*) or the offline
    # FixedRatesBackend, which serves FIXED_EXCHANGE_RATES (units of each currency per base unit).
    "EXCHANGE_BACKEND": "loyalty.exchange.FixedRatesBackend",
    "FIXED_EXCHANGE_RATES": {},
    # A feed rate older than this is stale: earning still uses it but marks the entry.
    "EXCHANGE_RATE_MAX_AGE_HOURS": 48,
    # How much more value than the base round trip (earn in base, redeem in base) any pair of
    # markets may return; a configuration beyond it is refused.
    "ARBITRAGE_CEILING": Decimal("0.05"),
    # Days a member must wait between two market changes.
    "MARKET_CHANGE_MIN_DAYS": 90,
    # The window a member's qualification record covers, in their market's time zone:
    # "calendar_year", "rolling_12_months" (reviewed 12 months after the tier was reached or last
    # reviewed), "anniversary_year" (from the enrolment date) or "lifetime" (never closes).
    "TIER_WINDOW": "calendar_year",
    # What happens when a window closes below the threshold to keep the tier: "one_tier" drops one
    # tier; "recompute" drops to the highest tier whose keep threshold the closed window met.
    "TIER_DOWNGRADE": "one_tier",
    # Days after a window closes before a downgrade takes effect; reaching the threshold to keep
    # the tier in the new window during these days cancels it.
    "TIER_GRACE_DAYS": 0,
    # Referrals a member can be rewarded for (None: no limit); further referrals are recorded unpaid.
    "REFERRAL_MAX_PER_REFERRER": 20,
    # The birthday bonus reads the birth date only with the member's consent to the purpose
    # "birthday_rewards"; False pays it to every member who gave a birth date.
    "BIRTHDAY_REQUIRES_CONSENT": True,
    # Database alias per residency region ("eu", "uk", "cn", "br", "us", "row") for the plugin's own
    # personal data; a region not listed uses "default". Needs loyalty.routers.ResidencyRouter.
    "RESIDENCY_DATABASES": {},
    # Dotted path of the class that erases and exports the host's own data of a member
    # (loyalty.privacy.PrivacyAdapter); a shop subclasses it.
    "PRIVACY_ADAPTER": "loyalty.privacy.PrivacyAdapter",
    # Deadline of a privacy request per regime ({"months": n}, {"days": n} or {"working_days": n});
    # "default" applies to members under no listed regime. A request is due by the strictest.
    "PRIVACY_REQUEST_DEADLINES": {
        "gdpr": {"months": 1},
        "uk_gdpr": {"months": 1},
        "lgpd": {"days": 15},
        "pipl": {"working_days": 15},
        "ccpa": {"days": 45},
        "default": {"months": 1},
    },
    # Days the download link of a data export stays valid.
    "EXPORT_LINK_DAYS": 7,
    # Dotted path of the class that fulfils redemptions (loyalty.fulfilment.FulfilmentBackend): the
    # default issues the coupon codes; a shop integration can create its own vouchers instead.
    "FULFILMENT_BACKEND": "loyalty.fulfilment.CouponBackend",
    # What happens to the points of a reward that expires unused: "return_points" gives them back
    # (with the expiry dates they had), "forfeit" keeps them spent.
    "EXPIRED_REWARD_POLICY": "return_points",
    # Most units of a reward one redemption may take.
    "REDEMPTION_MAX_QUANTITY": 10,
    # Signed incoming events (POST /api/loyalty/v1/events/): each event source's secret by its code.
    # A list holds the current secret and the previous ones while a secret is being rotated.
    "WEBHOOK_SECRETS": {},
    # Seconds a signature's timestamp may be away from now; an older delivery is refused as a replay.
    "WEBHOOK_TOLERANCE_SECONDS": 300,
    # The shop's endpoint for outgoing events ("" sends none) and the secret they are signed with.
    "WEBHOOK_URL": "",
    "WEBHOOK_SECRET": "",
    # Seconds to wait for the shop's endpoint to answer.
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    # Attempts before an outgoing event is given up (staff can retry it from the console).
    "WEBHOOK_MAX_ATTEMPTS": 12,
    # Seconds before the first retry; each further retry waits twice as long, at most the maximum.
    "WEBHOOK_RETRY_BASE_SECONDS": 30,
    "WEBHOOK_RETRY_MAX_SECONDS": 6 * 60 * 60,
    # Days a delivered outgoing event (its payload names the member) is kept for looking into it.
    "WEBHOOK_KEEP_DAYS": 30,
    # Page size of the ledger endpoint of the REST API.
    "API_PAGE_SIZE": 20,
    # DRF authentication classes of the member API.
    "API_AUTHENTICATION_CLASSES": (
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ),
}

NEGATIVE_BALANCE_POLICIES = ("clamp_to_zero", "allow_negative")
TIER_WINDOWS = ("calendar_year", "rolling_12_months", "anniversary_year", "lifetime")
TIER_DOWNGRADES = ("one_tier", "recompute")
EXPIRED_REWARD_POLICIES = ("return_points", "forfeit")


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
