"""How many points an order earns. The multi-currency and tier rules extend this one function."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from djmoney.money import Money

from ..exceptions import CurrencyNotAccepted
from ..models import Member
from ..money import points_for_amount


@dataclass(frozen=True)
class OrderPoints:
    points: int
    rate: Decimal


def points_for_order(member: Member, amount: Money, lines: Iterable = ()) -> OrderPoints:
    """Points for an order of ``amount`` (already quantized) by ``member``, rounded down.

    The market's ``points_per_unit`` applies to orders in the market's default currency.
    """
    market = member.market
    if amount.currency.code != market.default_currency:
        raise CurrencyNotAccepted()
    return OrderPoints(points=points_for_amount(amount, market.points_per_unit), rate=market.points_per_unit)
