"""How many points an order earns. The tier and campaign rules extend this one function.

The rate that applies, most specific first:
1. the market's rate for the order's currency and the member's tier (an ``EarnRate`` with a tier), then
   the market's rate for the currency (an ``EarnRate`` without one): points per unit of that currency;
2. the market's own ``points_per_unit``: per unit of its default currency, after conversion;
3. the program's ``BASE_POINTS_PER_UNIT``: per unit of the base currency, after conversion.
Points are the exact product of amount, exchange rate and earn rate, rounded down once at the end,
so converting never adds a point the money did not pay for, and the same value paid in another
currency earns the same points.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Q
from djmoney.money import Money

from ..conf import loyalty_settings
from ..exceptions import CurrencyNotAccepted
from ..models import EarnRate, Market, Member
from ..money import whole_points
from ..selectors.rates import Conversion, Quote, convert


class RateRule:
    TIER = "market_currency_tier"
    MARKET_CURRENCY = "market_currency"
    MARKET = "market"
    BASE = "base"


@dataclass(frozen=True)
class OrderPoints:
    points: int
    rate: Decimal  # points per unit of the currency the rate applies to
    rule: str
    conversion: Conversion | None  # None when the rate applies to the order's own currency


def points_for_order(member: Member, amount: Money, lines: Iterable = ()) -> OrderPoints:
    """Points for an order of ``amount`` (already quantized) by ``member``, and how they were computed."""
    market = member.market
    explicit = (
        EarnRate.objects.filter(market=market, currency=amount.currency.code)
        .filter(Q(tier__isnull=True) | Q(tier=member.tier_id))
        .order_by(F("tier").asc(nulls_last=True))
        .values_list("points_per_unit", "tier")
        .first()
    )
    if explicit is None:
        return earn_points(market, amount, None)
    rate, tier = explicit
    return earn_points(market, amount, rate, rule=RateRule.TIER if tier else RateRule.MARKET_CURRENCY)


def earn_points(
    market: Market,
    amount: Money,
    explicit_rate: Decimal | None,
    quotes: dict[str, Quote] | None = None,
    rule: str = RateRule.MARKET_CURRENCY,
) -> OrderPoints:
    """The rate resolution and rounding, given the market's explicit rate for the currency (if any)."""
    currency = amount.currency.code
    if currency not in market.currencies:
        raise CurrencyNotAccepted()
    if explicit_rate is not None:
        return _points(amount, explicit_rate, rule, None)
    if market.points_per_unit is not None:
        rated_currency, rate, rule = market.default_currency, market.points_per_unit, RateRule.MARKET
    else:
        rated_currency, rate = loyalty_settings.BASE_CURRENCY, loyalty_settings.BASE_POINTS_PER_UNIT
        rule = RateRule.BASE
    conversion = convert(amount, rated_currency, quotes) if currency != rated_currency else None
    return _points(amount, rate, rule, conversion)


def _points(amount: Money, rate: Decimal, rule: str, conversion: Conversion | None) -> OrderPoints:
    exact = conversion.exact(amount.amount * rate) if conversion else amount.amount * rate
    return OrderPoints(points=whole_points(exact), rate=rate, rule=rule, conversion=conversion)
