"""Partner settlement: the points each partner issued over a period and what it owes for them."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, Sum
from djmoney.money import Money

from ..models import EventSource, PartnerAward, SourceKind
from ..money import quantize_money

# What partner earnings are marked with on the ledger (services.partners writes it).
PARTNER_RATE_RULE = "partner"


@dataclass(frozen=True)
class SettlementRow:
    """What one partner owes, in one currency, for the points it issued in the period."""

    partner_id: int
    partner: str
    code: str
    awards: int
    reversals: int
    points: int  # net of reversals
    amount: Money  # net of reversals


def partner_settlements(start: datetime, end: datetime) -> list[SettlementRow]:
    """Every partner with its awards recorded from ``start`` (included) to ``end`` (excluded); two queries.

    Awards count when they were recorded, so a partner's back-dated event never reopens a settled
    period, and each is valued at the price per point of its day, so a later price change does not
    re-value a period either. Reversals recorded in the period are netted. A partner without awards
    gets a row of zeros in its currency.
    """
    partners = list(EventSource.objects.filter(kind=SourceKind.PARTNER).order_by("name", "code"))
    issued: dict[int, list[dict]] = {}
    for row in (
        PartnerAward.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("partner_id", "value_currency")
        .annotate(
            awards=Count("id", filter=Q(points__gt=0)),
            reversals=Count("id", filter=Q(points__lt=0)),
            points=Sum("points"),
            amount=Sum("value"),
        )
        .order_by("partner_id", "value_currency")
    ):
        issued.setdefault(row["partner_id"], []).append(row)
    return [
        SettlementRow(
            partner_id=partner.pk,
            partner=partner.name,
            code=partner.code,
            awards=row["awards"],
            reversals=row["reversals"],
            points=row["points"],
            amount=quantize_money(Money(row["amount"], row["value_currency"])),
        )
        for partner in partners
        for row in issued.get(
            partner.pk,
            [{"awards": 0, "reversals": 0, "points": 0, "amount": 0, "value_currency": partner.currency}],
        )
    ]
