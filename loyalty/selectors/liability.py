"""Outstanding points valued in money: per market at its point value, and in the base currency."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum
from djmoney.money import Money

from ..conf import loyalty_settings
from ..exceptions import ExchangeRateMissing
from ..models import Market, PointsAccount
from ..money import quantize_money
from .arbitrage import point_value
from .rates import convert, current_quotes


@dataclass(frozen=True)
class LiabilityLine:
    """One market's outstanding points; the money fields stay empty where an exchange rate is missing."""

    market: str
    available: int
    pending: int
    point_value: Decimal | None = None  # one point, in the market's currency
    value: Money | None = None  # available points in the market's currency
    pending_value: Money | None = None
    base_value: Money | None = None  # the same in the base currency
    base_pending_value: Money | None = None
    rate: Decimal | None = None  # base units per market-currency unit
    rate_source: str = ""
    rate_as_of: datetime | None = None
    rate_stale: bool = False


@dataclass(frozen=True)
class Liability:
    lines: list[LiabilityLine]
    base_value: Money  # of the lines with an exchange rate
    base_pending_value: Money
    complete: bool  # False when a market's value could not be converted


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
    lines = [
        _line(market, totals[market.pk], quotes, base)
        for market in Market.objects.filter(pk__in=totals).order_by("code")
    ]
    priced = [line for line in lines if line.base_value is not None]
    return Liability(
        lines=lines,
        base_value=sum((line.base_value for line in priced), Money(0, base)),
        base_pending_value=sum((line.base_pending_value for line in priced), Money(0, base)),
        complete=len(priced) == len(lines),
    )


def _line(market: Market, totals: dict, quotes: dict, base: str) -> LiabilityLine:
    line = {"market": market.code, "available": totals["available"], "pending": totals["pending"]}
    try:
        per_point = point_value(market, quotes)
        value = Money(totals["available"] * per_point, market.default_currency)
        pending_value = Money(totals["pending"] * per_point, market.default_currency)
        line |= {
            "point_value": per_point,
            "value": quantize_money(value),
            "pending_value": quantize_money(pending_value),
        }
        to_base = convert(value, base, quotes)
        line |= {
            "base_value": to_base.amount,
            "base_pending_value": convert(pending_value, base, quotes).amount,
            "rate": to_base.rate,
            "rate_source": to_base.source,
            "rate_as_of": to_base.as_of,
            "rate_stale": to_base.stale,
        }
    except ExchangeRateMissing:
        pass
    return LiabilityLine(**line)
