"""Tier progress, the ladder, referrals and challenges as members see them (read side)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from ..models import (
    Challenge,
    ChallengeProgress,
    Member,
    Referral,
    ReferralStatus,
    Tier,
    TierStatus,
)
from ..models.tiers import TRACKS


@dataclass(frozen=True)
class TrackProgress:
    """One qualification track: where the member stands and what is missing, by ``deadline``."""

    track: str  # "spend" (base currency), "status_points" or "orders"
    current: Decimal | int
    next_threshold: Decimal | int | None  # to enter the next tier
    needed_for_next: Decimal | int | None
    retain_threshold: Decimal | int | None  # to keep the current tier
    needed_to_retain: Decimal | int | None


@dataclass(frozen=True)
class TierProgress:
    tier: Tier | None  # the tier the member holds (granted or paid tiers included)
    qualified_tier: Tier | None  # the tier their record gives them
    next_tier: Tier | None
    tracks: list[TrackProgress]
    window_start: datetime | None
    deadline: datetime | None  # when the window closes (None: lifetime)
    secured: bool  # the current window already meets the threshold to keep the qualified tier
    grace_until: datetime | None
    granted_until: datetime | None
    paid_until: datetime | None
    evaluated_at: datetime | None


def tier_ladder() -> list[Tier]:
    """Every tier, lowest rank first (one query)."""
    return list(Tier.objects.order_by("rank"))


def tier_progress(member: Member, at: datetime | None = None) -> TierProgress:
    """Two queries: the member's status (with their tiers) and the ladder.

    The figures to keep the qualified tier compare the current window with its keep thresholds:
    meeting one of them by ``deadline`` keeps the tier through the next window.
    """
    at = at or timezone.now()
    status = (
        TierStatus.objects.select_related("qualified_tier", "manual_tier", "paid_tier")
        .filter(member_id=member.pk)
        .first()
    ) or TierStatus(member_id=member.pk)
    tiers = tier_ladder()
    current = next((tier for tier in tiers if tier.pk == member.tier_id), None)
    qualified = status.qualified_tier
    above = [t for t in tiers if not t.granted_only and (qualified is None or t.rank > qualified.rank)]
    next_tier = above[0] if above else None
    entry = next_tier.entry_thresholds() if next_tier else {}
    retain = qualified.retain_thresholds() if qualified and not qualified.open_to_all else {}
    figures = {"spend": status.spend, "status_points": status.status_points, "orders": status.orders}
    secured = not retain or any(figures[track] >= threshold for track, threshold in retain.items())
    tracks = []
    for track in TRACKS:
        if track not in entry and track not in retain:
            continue
        value = figures[track]
        tracks.append(
            TrackProgress(
                track=track,
                current=value,
                next_threshold=entry.get(track),
                needed_for_next=_missing(entry.get(track), value),
                retain_threshold=retain.get(track),
                needed_to_retain=_missing(retain.get(track), value),
            )
        )
    return TierProgress(
        tier=current,
        qualified_tier=qualified,
        next_tier=next_tier,
        tracks=tracks,
        window_start=status.window_start,
        deadline=status.window_end,
        secured=secured,
        grace_until=status.grace_until,
        granted_until=_running(status.manual_tier_id, status.manual_until, at),
        paid_until=_running(status.paid_tier_id, status.paid_until, at),
        evaluated_at=status.evaluated_at,
    )


def _running(tier_id: int | None, until: datetime | None, at: datetime) -> datetime | None:
    return until if tier_id and until and until > at else None


def _missing(threshold, value):
    if threshold is None:
        return None
    return max(threshold - value, 0)


@dataclass(frozen=True)
class ReferralStats:
    code: str | None
    pending: int
    rewarded: int
    capped: int


def referral_stats(member: Member) -> ReferralStats:
    counts = Referral.objects.filter(referrer=member).aggregate(
        pending=Count("pk", filter=Q(status=ReferralStatus.PENDING)),
        rewarded=Count("pk", filter=Q(status=ReferralStatus.REWARDED)),
        capped=Count("pk", filter=Q(status=ReferralStatus.CAPPED)),
    )
    return ReferralStats(member.referral_code, counts["pending"], counts["rewarded"], counts["capped"])


@dataclass(frozen=True)
class ChallengeView:
    challenge: Challenge
    count: int
    goal: int
    completed_at: datetime | None
    counting_until: datetime | None


def member_challenges(member: Member, at: datetime | None = None) -> list[ChallengeView]:
    """Running challenges of the member's market and those they completed, with progress (two queries)."""
    at = at or timezone.now()
    progress = {
        p.challenge_id: p for p in ChallengeProgress.objects.filter(member=member).select_related("challenge")
    }
    running = (
        Challenge.objects.filter(is_active=True, closed_at__isnull=True, starts_at__lte=at, ends_at__gt=at)
        .filter(Q(markets__isnull=True) | Q(markets=member.market_id))
        .distinct()
        .order_by("ends_at", "code")
    )
    views = []
    seen = set()
    for challenge in running:
        seen.add(challenge.pk)
        mine = progress.get(challenge.pk)
        live = mine is not None and (mine.completed_at or mine.window_end > at)
        views.append(
            ChallengeView(
                challenge,
                mine.count if live else 0,
                challenge.goal,
                mine.completed_at if mine else None,
                mine.window_end if live and not mine.completed_at else None,
            )
        )
    for challenge_id, mine in progress.items():
        if challenge_id not in seen and mine.completed_at:
            views.append(
                ChallengeView(mine.challenge, mine.count, mine.challenge.goal, mine.completed_at, None)
            )
    return views
