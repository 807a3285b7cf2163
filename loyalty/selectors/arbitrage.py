"""Round trips between markets: what earning in one market and redeeming in another returns.

For a market A, a currency C it accepts and a market B, the round trip is the value (in the base
currency) that one unit of C spent in A returns when its points are redeemed in B. It is compared
with the base round trip, BASE_POINTS_PER_UNIT x BASE_POINT_VALUE. A pair above
1 + ARBITRAGE_CEILING times the base would let a member farm value by earning in A and redeeming
in B, so such a configuration is refused.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from ..conf import loyalty_settings
from ..exceptions import ArbitrageRisk, ExchangeRateMissing
from ..models import EarnRate, Market, PointValueMode
from .rates import Quote, current_quotes, quote


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
    market: Market, currency: str, explicit: dict, quotes: dict[str, Quote] | None = None
) -> Decimal:
    """Points one unit of ``currency`` earns in ``market``, before rounding, by the rate that applies."""
    if (market.pk, currency) in explicit:
        return explicit[(market.pk, currency)]
    if market.points_per_unit is not None:
        return (
            market.points_per_unit
            * quote(market.default_currency, quotes).rate
            / quote(currency, quotes).rate
        )
    return loyalty_settings.BASE_POINTS_PER_UNIT / quote(currency, quotes).rate


def round_trips(
    markets: Iterable[Market] | None = None,
    earn_rates: Iterable[EarnRate] | None = None,
    quotes: dict[str, Quote] | None = None,
) -> list[RoundTrip]:
    """Every (earn market, currency, redeem market) round trip of active markets; arguments override the
    stored configuration, so a change can be checked before it is saved."""
    markets = [m for m in (markets if markets is not None else Market.objects.all()) if m.is_active]
    explicit: dict[tuple, Decimal] = {}
    # The most generous rate of any tier is the one a member could exploit.
    for rate in earn_rates if earn_rates is not None else EarnRate.objects.all():
        key = (rate.market_id, rate.currency)
        explicit[key] = max(explicit.get(key, rate.points_per_unit), rate.points_per_unit)
    quotes = quotes if quotes is not None else current_quotes()
    base_trip = loyalty_settings.BASE_POINTS_PER_UNIT * loyalty_settings.BASE_POINT_VALUE
    trips = []
    for earn in markets:
        for currency in earn.currencies:
            for redeem in markets:
                try:
                    spent = 1 / quote(currency, quotes).rate
                    points = points_per_unit(earn, currency, explicit, quotes)
                    returned = (
                        points * point_value(redeem, quotes) / quote(redeem.default_currency, quotes).rate
                    )
                    ratio = (returned / spent / base_trip).quantize(Decimal("0.0001"))
                except (ExchangeRateMissing, ArithmeticError):
                    ratio = None
                trips.append(RoundTrip(earn.code, currency, redeem.code, ratio))
    return trips


def check_arbitrage(**configuration) -> None:
    """Raise ``arbitrage_risk`` naming the worst pair when any round trip breaks the ceiling."""
    broken = [trip for trip in round_trips(**configuration) if trip.breaks_ceiling]
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
