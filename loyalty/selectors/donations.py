"""Points donated to charities: what each charity received, per currency, over a period.

A donation is a charity redemption that was made (status ``used``); a cancelled one never counts.
It is dated by when it was made (``used_at``), which for donations is the moment of redeeming.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Sum
from djmoney.money import Money

from ..models import Redemption, RedemptionStatus
from ..money import quantize_money


@dataclass(frozen=True)
class DonationRow:
    """What one charity received in one currency."""

    charity_id: int
    charity: str
    registration_number: str
    currency: str
    donations: int
    points: int
    amount: Money


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    donations: int
    points: int
    amount: Money


def donation_totals(start: datetime, end: datetime) -> list[DonationRow]:
    """Donations made from ``start`` (included) to ``end`` (excluded) per charity and currency; one query."""
    rows = (
        Redemption.objects.filter(
            charity__isnull=False,
            status=RedemptionStatus.USED,
            used_at__gte=start,
            used_at__lt=end,
        )
        .values("charity_id", "charity__name", "charity__registration_number", "value_currency")
        .annotate(donations=Count("id"), points=Sum("points"), amount=Sum("value"))
        .order_by("charity__name", "charity_id", "value_currency")
    )
    return [
        DonationRow(
            charity_id=row["charity_id"],
            charity=row["charity__name"],
            registration_number=row["charity__registration_number"],
            currency=row["value_currency"],
            donations=row["donations"],
            points=row["points"],
            amount=quantize_money(Money(row["amount"] or 0, row["value_currency"])),
        )
        for row in rows
    ]


def totals_by_currency(rows: Iterable[DonationRow]) -> list[CurrencyTotal]:
    """The rows added up per currency (money in different currencies is never added together)."""
    totals: dict[str, CurrencyTotal] = {}
    for row in rows:
        total = totals.get(row.currency) or CurrencyTotal(row.currency, 0, 0, Money(0, row.currency))
        totals[row.currency] = CurrencyTotal(
            row.currency,
            total.donations + row.donations,
            total.points + row.points,
            quantize_money(total.amount + row.amount),
        )
    return [totals[currency] for currency in sorted(totals)]
