from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from ..conf import loyalty_settings
from ..exceptions import NotAMember
from ..models import ContributionKind, EarnContribution, LedgerEntry, Member, PointsAccount, PointsLot


@dataclass(frozen=True)
class MemberSummary:
    """A member's balances as stored (never summed from history)."""

    number: str
    market: str
    status: str
    available: int
    pending: int
    debt: int
    balance: int
    lifetime_earned: int
    lifetime_redeemed: int
    lifetime_expired: int
    next_expiry_points: int
    next_expiry_at: datetime | None


def member_for_user(user) -> Member:
    """The member behind a signed-in user, or ``not_a_member``."""
    if not getattr(user, "is_authenticated", False):
        raise NotAMember()
    member = Member.objects.select_related("market").filter(user=user).first()
    if member is None:
        raise NotAMember()
    return member


def member_summary(member: Member) -> MemberSummary:
    """Two queries whatever the length of the member's history."""
    account = PointsAccount.objects.get(member_id=member.pk)
    next_lot = (
        PointsLot.objects.filter(account=account, remaining__gt=0, expires_at__isnull=False)
        .order_by("expires_at", "id")
        .only("remaining", "expires_at")
        .first()
    )
    return MemberSummary(
        number=member.number,
        market=member.market.code,
        status=member.status,
        available=account.available,
        pending=account.pending,
        debt=account.debt,
        balance=account.balance,
        lifetime_earned=account.lifetime_earned,
        lifetime_redeemed=account.lifetime_redeemed,
        lifetime_expired=account.lifetime_expired,
        next_expiry_points=next_lot.remaining if next_lot else 0,
        next_expiry_at=next_lot.expires_at if next_lot else None,
    )


def ledger_entries(member: Member) -> QuerySet[LedgerEntry]:
    """The member's entries, newest first (uses the (account, -id) index), with what made up each earning.

    The contributions and their rules cost two more queries per page, whatever its length.
    """
    return (
        LedgerEntry.objects.filter(account__member_id=member.pk)
        .order_by("-id")
        .prefetch_related(Prefetch("contributions", queryset=EarnContribution.objects.select_related("rule")))
    )


def contribution_label(part: EarnContribution) -> str:
    """The part's name for people, in the active language: the rule's name, or what the part was."""
    if part.rule is not None:
        return part.rule.name
    return str(ContributionKind(part.kind).label)


def recent_entries(member: Member, limit: int | None = None) -> list[LedgerEntry]:
    return list(ledger_entries(member)[: limit or loyalty_settings.RECENT_HISTORY_SIZE])
