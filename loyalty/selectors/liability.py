"""Outstanding points valued in money: per market at its point value, and in the base currency."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum
from djmoney.money import Money

from ..conf import loyalty_settings
from ..models import Market, PointsAccount
from ..money import quantize_money
from .arbitrage import point_value
from .rates import convert, current_quotes


@dataclass(frozen=True)
class LiabilityLine:
    market: str
    available: int
    pending: int
    point_value: Decimal  # one point, in the market's currency
    value: Money  # available points in the market's currency
    pending_value: Money
    base_value: Money  # the same in the base currency
    base_pending_value: Money
    rate: Decimal  # base units per market-currency unit
    rate_source: str
    rate_as_of: datetime


@dataclass(frozen=True)
class Liability:
    lines: list[LiabilityLine]
    base_value: Money
    base_pending_value: Money


def points_liability() -> Liability:
    """What the program owes its members, market by market (two queries plus the cached rates)."""
    quotes = current_quotes()
    base = loyalty_settings.BASE_CURRENCY
    totals = {
        row["member__market"]: row
        for row in PointsAccount.objects.values("member__market").annotate(
            available=Sum("available"), pending=Sum("pending")
        )
    }
    lines = []
    for market in Market.objects.filter(pk__in=totals).order_by("code"):
        row = totals[market.pk]
        value_per_point = point_value(market, quotes)
        value = Money(row["available"] * value_per_point, market.default_currency)
        pending_value = Money(row["pending"] * value_per_point, market.default_currency)
        to_base = convert(value, base, quotes)
        lines.append(
            LiabilityLine(
                market=market.code,
                available=row["available"],
                pending=row["pending"],
                point_value=value_per_point,
                value=quantize_money(value),
                pending_value=quantize_money(pending_value),
                base_value=to_base.amount,
                base_pending_value=convert(pending_value, base, quotes).amount,
                rate=to_base.rate,
                rate_source=to_base.source,
                rate_as_of=to_base.as_of,
            )
        )
    return Liability(
        lines=lines,
        base_value=sum((line.base_value for line in lines), Money(0, base)),
        base_pending_value=sum((line.base_pending_value for line in lines), Money(0, base)),
    )
