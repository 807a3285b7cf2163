"""Round trips between markets: what earning in one market and redeeming in another returns.

For a market A, a currency C it accepts and a market B, the round trip is the value (in the base
currency) that one unit of C spent in A returns when its points are redeemed in B. It is compared
with the base round trip, BASE_POINTS_PER_UNIT x BASE_POINT_VALUE. A pair above
1 + ARBITRAGE_CEILING times the base would let a member farm value by earning in A and redeeming
in B, so such a configuration is refused.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.db import connection
from django.utils.translation import gettext as _
from djmoney.money import Money

from ..conf import loyalty_settings
from ..exceptions import ArbitrageRisk, ExchangeRateMissing
from ..models import EarnRate, Market, PointValueMode
from .rates import Quote, current_quotes, quote

# An arbitrary constant naming the advisory lock of the round-trip configuration.
CONFIGURATION_LOCK = 0x10_7A17


@dataclass(frozen=True)
class RoundTrip:
    earn_market: str
    currency: str
    redeem_market: str
    ratio: Decimal | None  # value returned / value spent, relative to the base round trip; None: no rate

    @property
    def ceiling(self) -> Decimal:
        return 1 + loyalty_settings.ARBITRAGE_CEILING

    @property
    def breaks_ceiling(self) -> bool:
        return self.ratio is not None and self.ratio > self.ceiling


def point_value(market: Market, quotes: dict[str, Quote] | None = None) -> Decimal:
    """What one point is worth when redeemed in ``market``, in its default currency (exact)."""
    if market.point_value_mode == PointValueMode.FIXED:
        return market.point_value
    return loyalty_settings.BASE_POINT_VALUE * quote(market.default_currency, quotes).rate


def points_per_unit(
    market: Market, currency: str, rates: "EarnRates", quotes: dict[str, Quote] | None = None
) -> Decimal:
    """The most points one unit of ``currency`` can earn in ``market``, before rounding, for any member.

    Tier rates count, and so does the rate members without a tier rate fall back to.
    """
    candidates = list(rates.explicit.get((market.pk, currency), ()))
    if (market.pk, currency) not in rates.general:
        candidates.append(_fallback_rate(market, currency, quotes))
    return max(candidates)


def _fallback_rate(market: Market, currency: str, quotes: dict[str, Quote] | None) -> Decimal:
    if market.points_per_unit is not None:
        return (
            market.points_per_unit
            * quote(market.default_currency, quotes).rate
            / quote(currency, quotes).rate
        )
    return loyalty_settings.BASE_POINTS_PER_UNIT / quote(currency, quotes).rate


@dataclass
class EarnRates:
    """Explicit earn rates by (market id, currency), and which of those pairs have a rate for every tier."""

    explicit: dict[tuple, list[Decimal]]
    general: set[tuple]

    @classmethod
    def of(cls, earn_rates: Iterable[EarnRate]) -> "EarnRates":
        rates = cls({}, set())
        for rate in earn_rates:
            key = (rate.market_id, rate.currency)
            rates.explicit.setdefault(key, []).append(rate.points_per_unit)
            if rate.tier_id is None:
                rates.general.add(key)
        return rates


def round_trips(
    markets: Iterable[Market] | None = None,
    earn_rates: Iterable[EarnRate] | None = None,
    quotes: dict[str, Quote] | None = None,
) -> list[RoundTrip]:
    """Every (earn market, currency, redeem market) round trip; arguments override the stored configuration,
    so a change can be checked before it is saved.

    Inactive markets are included: their members can still earn and redeem.
    """
    markets = list(markets if markets is not None else Market.objects.all())
    rates = EarnRates.of(earn_rates if earn_rates is not None else EarnRate.objects.all())
    quotes = quotes if quotes is not None else current_quotes()
    base_trip = loyalty_settings.BASE_POINTS_PER_UNIT * loyalty_settings.BASE_POINT_VALUE
    trips = []
    for earn in markets:
        for currency in earn.currencies:
            for redeem in markets:
                try:
                    spent = 1 / quote(currency, quotes).rate
                    points = points_per_unit(earn, currency, rates, quotes)
                    returned = (
                        points * point_value(redeem, quotes) / quote(redeem.default_currency, quotes).rate
                    )
                    ratio = (returned / spent / base_trip).quantize(Decimal("0.0001"))
                except ExchangeRateMissing:
                    ratio = None
                trips.append(RoundTrip(earn.code, currency, redeem.code, ratio))
    return trips


def check_arbitrage(**configuration) -> None:
    """Raise ``arbitrage_risk`` naming the worst pair when a round trip breaks the ceiling or cannot be
    checked because an exchange rate is missing."""
    trips = round_trips(**configuration)
    unknown = [trip for trip in trips if trip.ratio is None]
    if unknown:
        trip = unknown[0]
        raise ArbitrageRisk(
            _(
                "Earning in %(earn)s (%(currency)s) and redeeming in %(redeem)s cannot be checked: "
                "an exchange rate is missing. Fetch or set the rates first."
            )
            % {"earn": trip.earn_market, "currency": trip.currency, "redeem": trip.redeem_market}
        )
    broken = [trip for trip in trips if trip.breaks_ceiling]
    if broken:
        worst = max(broken, key=lambda trip: trip.ratio)
        raise ArbitrageRisk(
            _(
                "Earning in %(earn)s (%(currency)s) and redeeming in %(redeem)s returns %(ratio)s times the "
                "base round trip; the ceiling is %(ceiling)s."
            )
            % {
                "earn": worst.earn_market,
                "currency": worst.currency,
                "redeem": worst.redeem_market,
                "ratio": worst.ratio,
                "ceiling": worst.ceiling,
            }
        )


def minimum_reward_points(market: Market, value: Money, quotes: dict[str, Quote] | None = None) -> int:
    """The fewest points a reward worth ``value`` (in the market's currency) may cost in ``market``.

    Per point, a reward may return at most the market's point value plus ARBITRAGE_CEILING, the
    same ceiling the round trips between markets keep.
    """
    most_per_point = point_value(market, quotes) * (1 + loyalty_settings.ARBITRAGE_CEILING)
    return int((value.amount / most_per_point).to_integral_value(rounding=ROUND_CEILING))


def check_reward_value(market: Market, points: int, value: Money) -> None:
    """Raise ``arbitrage_risk`` when an offer's points price is too low for its value."""
    fewest = minimum_reward_points(market, value)
    if points < fewest:
        raise ArbitrageRisk(
            _(
                "A reward worth %(value)s in %(market)s must cost at least %(points)s points: it would "
                "return more per point than the market's point value allows."
            )
            % {"value": value, "market": market.code, "points": fewest}
        )


def lock_configuration() -> None:
    """Serialise changes that affect round trips (rates, markets, earn rates) until the transaction ends,
    so that two changes that pass the check one by one cannot break the ceiling together.

    PostgreSQL takes a transaction-level advisory lock; SQLite already runs one writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CONFIGURATION_LOCK])
