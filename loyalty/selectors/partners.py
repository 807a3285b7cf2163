"""Partner settlement: the points each partner issued over a period and what they are worth."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum
from djmoney.money import Money

from ..models import EntryType, EventSource, LedgerEntry, SourceKind
from ..money import quantize_money

# What partner earnings are marked with (services.partners writes it; selectors cannot import services).
PARTNER_RATE_RULE = "partner"


@dataclass(frozen=True)
class SettlementRow:
    """What one partner owes for the points it issued: points times its price per point."""

    partner_id: int
    partner: str
    code: str
    awards: int
    points: int
    point_price: Decimal
    amount: Money


def partner_settlements(start: datetime, end: datetime) -> list[SettlementRow]:
    """Every partner with the points recorded from ``start`` (included) to ``end`` (excluded); two queries.

    Points count when they were recorded, so a partner's back-dated event never reopens a settled
    period. They are valued at the partner's price per point in its settlement currency.
    """
    partners = list(EventSource.objects.filter(kind=SourceKind.PARTNER).order_by("name", "code"))
    issued = {
        row["source"]: row
        for row in LedgerEntry.objects.filter(
            entry_type=EntryType.BONUS,
            rate_rule=PARTNER_RATE_RULE,
            source__in=[partner.code for partner in partners],
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("source")
        .annotate(awards=Count("id"), points=Sum("points"))
        .order_by()
    }
    rows = []
    for partner in partners:
        totals = issued.get(partner.code, {"awards": 0, "points": 0})
        rows.append(
            SettlementRow(
                partner_id=partner.pk,
                partner=partner.name,
                code=partner.code,
                awards=totals["awards"],
                points=totals["points"],
                point_price=partner.point_price,
                amount=quantize_money(Money(totals["points"] * partner.point_price, partner.currency)),
            )
        )
    return rows
