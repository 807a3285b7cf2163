"""Tier qualification: the record of each window, upgrades, window closes, grants and paid tiers.

- A qualifying event (an order, its refund or cancellation, engagement points) is recorded with
  ``record_qualifying`` inside the caller's transaction, which then upgrades the member at once if
  the record now reaches a higher tier's entry threshold (``refresh_tier``). Lower figures never
  downgrade here: the next ``evaluate_tiers`` run corrects the tier.
- ``evaluate_tiers`` closes windows that ended (keep, drop one tier or recompute, after the grace
  period), corrects tiers whose record fell below what they were reached with, and ends grants and
  paid periods. It is set-based: a fixed number of queries per id range, whatever its size.
"""

import calendar
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from ..bulk import bulk_insert, bulk_set
from ..conf import loyalty_settings
from ..exceptions import ActorRequired, InvalidTimestamp, ReasonRequired, UnknownTier
from ..models import (
    Member,
    MembershipPurchase,
    MembershipStatus,
    QualifyingEvent,
    Tier,
    TierChange,
    TierChangeReason,
    TierStatus,
)
from ..signals import send_each_on_commit, send_on_commit, tier_changed


@dataclass(frozen=True)
class Totals:
    spend: Decimal = Decimal(0)
    status_points: int = 0
    orders: int = 0

    def get(self, track: str):
        return getattr(self, track)


def ladder() -> list[Tier]:
    """Every tier, lowest first."""
    return list(Tier.objects.order_by("rank"))


def meets(thresholds: dict, totals: Totals) -> bool:
    """A member qualifies when any configured track reaches its threshold."""
    return any(totals.get(track) >= threshold for track, threshold in thresholds.items())


def entry_tier(tiers: list[Tier], totals: Totals) -> Tier | None:
    """The highest tier the record reaches an entry threshold of (or that is open to all)."""
    reached = None
    for tier in tiers:
        if tier.granted_only:
            continue
        if tier.open_to_all or meets(tier.entry_thresholds(), totals):
            reached = tier
    return reached


def kept_tier(tiers: list[Tier], current: Tier | None, closed: Totals) -> Tier | None:
    """The tier a member keeps after a window closes with the record ``closed``."""
    if current is None or current.open_to_all or meets(current.retain_thresholds(), closed):
        return current
    below = [tier for tier in tiers if tier.rank < current.rank and not tier.granted_only]
    if loyalty_settings.TIER_DOWNGRADE == "one_tier":
        return below[-1] if below else None
    for tier in reversed(below):
        if tier.open_to_all or meets(tier.retain_thresholds(), closed):
            return tier
    return None


def higher(*tiers: Tier | None) -> Tier | None:
    present = [tier for tier in tiers if tier is not None]
    return max(present, key=lambda tier: tier.rank) if present else None


# Windows -----------------------------------------------------------------------------------------


def _local_start(year: int, month: int, day: int, tz: zoneinfo.ZoneInfo) -> datetime:
    """Midnight of that date in ``tz``; 29 February falls on the 28th in other years."""
    day = min(day, calendar.monthrange(year, month)[1])
    return datetime(year, month, day, tzinfo=tz)


def months_before(moment: datetime, months: int, tz: zoneinfo.ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def window_at(member: Member, at: datetime, review: datetime | None = None) -> tuple:
    """``(counts_from, closes_at)`` of the member's window at ``at``, in their market's time zone.

    ``review`` is the stored close of a rolling window (12 months after the tier was reached or last
    reviewed); counting then starts 12 months before ``at``.
    """
    kind = loyalty_settings.TIER_WINDOW
    tz = zoneinfo.ZoneInfo(member.market.time_zone)
    local = at.astimezone(tz)
    if kind == "lifetime":
        return None, None
    if kind == "rolling_12_months":
        return months_before(at, 12, tz), review or months_before(at, -12, tz)
    if kind == "calendar_year":
        return _local_start(local.year, 1, 1, tz), _local_start(local.year + 1, 1, 1, tz)
    enrolled = member.enrolled_at.astimezone(tz)
    start = _local_start(local.year, enrolled.month, enrolled.day, tz)
    if start > local:
        start = _local_start(local.year - 1, enrolled.month, enrolled.day, tz)
    return start, _local_start(start.year + 1, enrolled.month, enrolled.day, tz)


def _totals(member_id: int, start: datetime | None, end: datetime | None) -> Totals:
    events = QualifyingEvent.objects.filter(member_id=member_id)
    if start is not None:
        events = events.filter(occurred_at__gte=start)
    if end is not None:
        events = events.filter(occurred_at__lt=end)
    sums = events.aggregate(spend=Sum("spend"), status_points=Sum("status_points"), orders=Sum("orders"))
    return Totals(sums["spend"] or Decimal(0), sums["status_points"] or 0, sums["orders"] or 0)


# Single member (inside the caller's transaction, with the member's account locked) ---------------


def start_status(member: Member, at: datetime) -> TierStatus:
    """Open a new member's tier status and give them the tier open to all, if any."""
    start, end = window_at(member, at)
    status = TierStatus.objects.create(
        member=member, window_start=start, window_end=end, qualified_tier=entry_tier(ladder(), Totals())
    )
    apply_tier(member, status, at, TierChangeReason.QUALIFIED)
    return status


def record_qualifying(
    member: Member,
    *,
    key: str,
    occurred_at: datetime,
    spend: Decimal = Decimal(0),
    status_points: int = 0,
    orders: int = 0,
) -> None:
    """Add a change to the member's record and upgrade them if it crosses a threshold.

    The caller makes the change happen once (``key`` is also unique in the database).
    """
    if not (spend or status_points or orders):
        return
    QualifyingEvent.objects.create(
        member=member,
        key=key,
        occurred_at=occurred_at,
        spend=spend,
        status_points=status_points,
        orders=orders,
    )
    refresh_tier(member, timezone.now(), Totals(spend, status_points, orders), occurred_at)


def refresh_tier(member: Member, at: datetime, change: Totals | None = None, occurred_at=None) -> None:
    """Bring the stored record up to date and upgrade the member if it now reaches a higher tier.

    A fixed window's stored figures are moved by ``change`` (when it falls inside the window); a
    rolling window, or one not yet opened, is recounted. A window that ended but was not closed yet
    by ``evaluate_tiers`` is left to it, but an order already in the next window can upgrade.
    A change that lowers the record marks the status for correction at the next evaluation; if it
    belongs to the window already closed, the tier kept from that window is judged again.
    """
    tiers = ladder()
    status = _status_for_update(member, at, tiers)
    kind = loyalty_settings.TIER_WINDOW
    if change is not None and (change.spend < 0 or change.status_points < 0 or change.orders < 0):
        status.needs_correction = True
        if _in_closed_window(status, occurred_at, kind):
            before, closed_end = window_at(member, status.window_start - timedelta(microseconds=1))
            status.held_tier = kept_tier(tiers, status.held_tier, _totals(member.pk, before, closed_end))
    stale = status.window_end is not None and at >= status.window_end and kind != "rolling_12_months"
    if stale:
        totals = _totals(member.pk, *window_at(member, at))
    elif kind != "rolling_12_months" and change is not None and (status.window_start or kind == "lifetime"):
        if _inside(status, occurred_at):
            status.spend += change.spend
            status.status_points += change.status_points
            status.orders += change.orders
        totals = Totals(status.spend, status.status_points, status.orders)
    else:
        start, end = _current_frame(member, status, at)
        totals = _totals(member.pk, start, end)
        status.spend, status.status_points, status.orders = totals.spend, totals.status_points, totals.orders
    reached = higher(None if stale else status.held_tier, entry_tier(tiers, totals))
    upgraded = reached is not None and (
        status.qualified_tier is None or reached.rank > status.qualified_tier.rank
    )
    if upgraded:
        status.qualified_tier, status.grace_until = reached, None
        if kind == "rolling_12_months":
            status.window_end = months_before(at, -12, zoneinfo.ZoneInfo(member.market.time_zone))
    status.save(
        update_fields=[
            "window_start",
            "window_end",
            "spend",
            "status_points",
            "orders",
            "qualified_tier",
            "held_tier",
            "grace_until",
            "needs_correction",
        ]
    )
    if upgraded:
        apply_tier(member, status, at, TierChangeReason.QUALIFIED)


def _in_closed_window(status: TierStatus, moment: datetime | None, kind: str) -> bool:
    """Whether ``moment`` falls in the calendar or anniversary window closed before the current one."""
    if kind not in ("calendar_year", "anniversary_year") or moment is None or status.window_start is None:
        return False
    return status.held_tier is not None and moment < status.window_start


def _inside(status: TierStatus, moment: datetime | None) -> bool:
    if moment is None:
        return False
    after_start = status.window_start is None or moment >= status.window_start
    return after_start and (status.window_end is None or moment < status.window_end)


def _status_for_update(member: Member, at: datetime, tiers: list[Tier] | None = None) -> TierStatus:
    """The member's status, locked, with its tiers taken from ``tiers`` (the ladder) instead of joins."""
    locked = TierStatus.objects.select_for_update()
    status = locked.filter(member=member).first()
    if status is None:
        start_status(member, at)
        status = locked.get(member=member)
    by_pk = {tier.pk: tier for tier in (ladder() if tiers is None else tiers)}
    for field in ("qualified_tier", "held_tier", "manual_tier", "paid_tier"):
        setattr(status, field, by_pk.get(getattr(status, f"{field}_id")))
    return status


def _current_frame(member: Member, status: TierStatus, at: datetime) -> tuple:
    """Where the current window's count starts and stops (events after ``at`` do not exist yet)."""
    if status.window_start is None and loyalty_settings.TIER_WINDOW != "lifetime":
        status.window_start, status.window_end = window_at(member, at)
    if loyalty_settings.TIER_WINDOW == "rolling_12_months":
        status.window_start = window_at(member, at, status.window_end)[0]
        return status.window_start, None
    return status.window_start, status.window_end


def effective_tier(status: TierStatus, at: datetime) -> Tier | None:
    """The highest of the qualified tier, an unexpired grant and an unexpired paid tier."""
    manual = status.manual_tier if status.manual_until and status.manual_until > at else None
    paid = status.paid_tier if status.paid_until and status.paid_until > at else None
    return higher(status.qualified_tier, manual, paid)


def apply_tier(member: Member, status: TierStatus, at: datetime, reason: str, note: str = "", actor=None):
    """Store the member's effective tier; record and announce a change."""
    new = effective_tier(status, at)
    new_pk = new.pk if new else None
    if new_pk == member.tier_id:
        return None
    change = TierChange.objects.create(
        member=member,
        from_tier_id=member.tier_id,
        to_tier=new,
        reason=reason,
        note=note,
        actor=actor,
        changed_at=at,
    )
    Member.objects.filter(pk=member.pk).update(tier=new)
    member.tier = new
    send_on_commit(tier_changed, TierChange, member=member, change=change)
    return change


def grant_tier(member: Member, *, tier: Tier, until: datetime, reason: str, actor) -> TierChange | None:
    """Staff give ``member`` at least ``tier`` until ``until``; it never raises the qualification record."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ActorRequired()
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired()
    if not isinstance(tier, Tier):
        raise UnknownTier()
    now = timezone.now()
    if not isinstance(until, datetime) or timezone.is_naive(until) or until <= now:
        raise InvalidTimestamp()
    with transaction.atomic():
        status = _status_for_update(member, now)
        status.manual_tier, status.manual_until, status.manual_reason = tier, until, reason.strip()[:255]
        status.save(update_fields=["manual_tier", "manual_until", "manual_reason"])
        member.refresh_from_db(fields=["tier"])
        return apply_tier(
            member, status, now, TierChangeReason.GRANTED, note=status.manual_reason, actor=actor
        )


# Paid memberships ------------------------------------------------------------------------------


def refresh_paid_tier(member: Member, status: TierStatus, at: datetime) -> None:
    """Set the paid tier to the best membership running at ``at``, until its paid period ends."""
    status.paid_tier, status.paid_until = _paid_coverage(
        MembershipPurchase.objects.filter(member=member, status=MembershipStatus.ACTIVE, ends_at__gt=at)
        .select_related("tier")
        .order_by("starts_at"),
        at,
    )


def _paid_coverage(purchases: Iterable[MembershipPurchase], at: datetime) -> tuple:
    """The highest tier paid for at ``at`` and until when, following renewals that start as one ends."""
    by_tier: dict[int, list] = {}
    for purchase in purchases:
        by_tier.setdefault(purchase.tier_id, []).append(purchase)
    best = (None, None)
    for chain in by_tier.values():
        until = None
        for purchase in chain:
            covers = purchase.starts_at <= (until or at)
            if covers and purchase.ends_at > (until or at):
                until = purchase.ends_at
        tier = chain[0].tier
        if until is not None and (best[0] is None or tier.rank > best[0].rank):
            best = (tier, until)
    return best


def activate_memberships(member: Member, order, at: datetime) -> None:
    """The order's paid memberships start now, or when the same tier's current paid period ends."""
    pending = list(order.memberships.filter(status=MembershipStatus.PENDING).select_related("product"))
    if not pending:
        return
    for purchase in pending:
        running_until = (
            MembershipPurchase.objects.filter(
                member=member, tier=purchase.tier_id, status=MembershipStatus.ACTIVE, ends_at__gt=at
            )
            .order_by("-ends_at")
            .values_list("ends_at", flat=True)
            .first()
        )
        purchase.starts_at = running_until or at
        purchase.ends_at = purchase.starts_at + timedelta(days=purchase.product.duration_days)
        purchase.status = MembershipStatus.ACTIVE
        purchase.save(update_fields=["starts_at", "ends_at", "status"])
    _update_paid(member, at, TierChangeReason.PAID)


def end_memberships(member: Member, order, at: datetime, skus: Iterable[str] | None = None) -> None:
    """A refunded or cancelled membership ends at once (all of the order's, or those of ``skus``)."""
    purchases = order.memberships.exclude(status=MembershipStatus.REFUNDED)
    if skus is not None:
        purchases = purchases.filter(product__sku__in=list(skus))
    ended = list(purchases.filter(status=MembershipStatus.ACTIVE).values_list("tier_id", flat=True))
    if not purchases.update(status=MembershipStatus.REFUNDED):
        return
    for tier_id in set(ended):
        _reschedule_renewals(member, tier_id, at)
    _update_paid(member, at, TierChangeReason.PAID_ENDED)


def _reschedule_renewals(member: Member, tier_id: int, at: datetime) -> None:
    """Close the gap a refunded period leaves: the tier's later paid periods follow on one another."""
    running = list(
        MembershipPurchase.objects.filter(
            member=member, tier_id=tier_id, status=MembershipStatus.ACTIVE, ends_at__gt=at
        ).order_by("starts_at", "pk")
    )
    cursor = at
    for purchase in running:
        if purchase.starts_at <= cursor:
            cursor = max(cursor, purchase.ends_at)
            continue
        length = purchase.ends_at - purchase.starts_at
        purchase.starts_at, purchase.ends_at = cursor, cursor + length
        purchase.save(update_fields=["starts_at", "ends_at"])
        cursor = purchase.ends_at


def _update_paid(member: Member, at: datetime, reason: str) -> None:
    status = _status_for_update(member, at)
    refresh_paid_tier(member, status, at)
    status.save(update_fields=["paid_tier", "paid_until"])
    member.refresh_from_db(fields=["tier"])
    apply_tier(member, status, at, reason)


# Batch evaluation ----------------------------------------------------------------------------------


@dataclass
class EvaluationResult:
    members: int = 0
    changes: int = 0


def evaluate_tiers(
    *, now: datetime | None = None, first_member_id: int | None = None, last_member_id: int | None = None
) -> EvaluationResult:
    """Close ended windows, correct tiers from the record, end grants and paid periods; one transaction."""
    now = now or timezone.now()
    span = Q()
    if first_member_id is not None:
        span &= Q(member_id__gte=first_member_id)
    if last_member_id is not None:
        span &= Q(member_id__lte=last_member_id)
    with transaction.atomic():
        rows = list(
            TierStatus.objects.filter(span)
            .select_related("member__market")
            .select_for_update(of=("self",))
            .order_by("member_id")
        )
        if not rows:
            return EvaluationResult()
        tiers = ladder()
        by_pk = {tier.pk: tier for tier in tiers}
        for status in rows:
            _link_tiers(status, by_pk)
        closing = [s for s in rows if s.window_end is not None and s.window_end <= now]
        if _rolling() and closing:
            # A rolling window is judged on the 12 months before its review date.
            for status in closing:
                tz = zoneinfo.ZoneInfo(status.member.market.time_zone)
                status.window_start = months_before(status.window_end, 12, tz)
            bulk_set(TierStatus, closing, ["window_start"])
        closed_totals = (
            _window_totals(span & Q(window_end__lte=now), end_field="window_end") if closing else {}
        )
        reasons: dict[int, str] = {}
        for status in closing:
            _close_window(status, tiers, closed_totals.get(status.pk, Totals()), now, reasons)
        for status in rows:
            if status.window_start is None and loyalty_settings.TIER_WINDOW != "lifetime":
                status.window_start, status.window_end = window_at(status.member, now)
            if _rolling():
                status.window_start = window_at(status.member, now, status.window_end)[0]
        bulk_set(TierStatus, rows, ["window_start", "window_end"])
        current = _window_totals(span, end_field=None if _rolling() else "window_end")
        paid_ended = _paid_periods(rows, now)
        for status in rows:
            _stand(status, tiers, current.get(status.pk, Totals()), now, reasons)
        changes = _apply_batch(rows, now, reasons, paid_ended, span)
    return EvaluationResult(members=len(rows), changes=changes)


def _rolling() -> bool:
    return loyalty_settings.TIER_WINDOW == "rolling_12_months"


def _link_tiers(status: TierStatus, by_pk: dict) -> None:
    for field in ("qualified_tier", "held_tier", "manual_tier", "paid_tier"):
        setattr(status, field, by_pk.get(getattr(status, f"{field}_id")))
    status.member.tier = by_pk.get(status.member.tier_id)


def _window_totals(span: Q, *, end_field: str | None) -> dict[int, Totals]:
    """Each member's record from their stored window start to ``end_field``, for the statuses in ``span``.

    One query, whatever the number of members.
    """
    window = Q(member__qualifying_events__occurred_at__gte=F("window_start")) | Q(window_start__isnull=True)
    if end_field is not None:
        window &= Q(member__qualifying_events__occurred_at__lt=F(end_field)) | Q(
            **{f"{end_field}__isnull": True}
        )
    rows = (
        TierStatus.objects.filter(span)
        .annotate(
            total_spend=Sum("member__qualifying_events__spend", filter=window),
            total_status=Sum("member__qualifying_events__status_points", filter=window),
            total_orders=Sum("member__qualifying_events__orders", filter=window),
        )
        .values_list("pk", "total_spend", "total_status", "total_orders")
    )
    return {pk: Totals(spend or Decimal(0), points or 0, orders or 0) for pk, spend, points, orders in rows}


def _close_window(
    status: TierStatus, tiers: list[Tier], closed: Totals, now: datetime, reasons: dict
) -> None:
    """The window ended: decide the tier kept for the next one and move the window on."""
    before = status.qualified_tier
    kept = kept_tier(tiers, before, closed)
    status.held_tier = kept
    ended = status.window_end
    tz = zoneinfo.ZoneInfo(status.member.market.time_zone)
    if _rolling():
        status.window_end = months_before(max(ended, now), -12, tz)
    else:
        status.window_start, status.window_end = window_at(status.member, max(ended, now))
    grace = loyalty_settings.TIER_GRACE_DAYS
    if kept != before and grace:
        status.grace_until = ended + timedelta(days=grace)
    else:
        status.qualified_tier = kept
        status.grace_until = None
        if kept != before:
            reasons[status.pk] = TierChangeReason.RETAINED_BELOW


def _paid_periods(rows: list[TierStatus], now: datetime) -> set[int]:
    """Paid periods that ended move on to a renewal, if any (one query); returns those that ended."""
    ended = {s.member_id: s for s in rows if s.paid_until is not None and s.paid_until <= now}
    if not ended:
        return set()
    purchases: dict[int, list] = {}
    running = (
        MembershipPurchase.objects.filter(
            member_id__gte=min(ended),
            member_id__lte=max(ended),
            status=MembershipStatus.ACTIVE,
            ends_at__gt=now,
        )
        .select_related("tier")
        .order_by("starts_at")
    )
    for purchase in running:
        purchases.setdefault(purchase.member_id, []).append(purchase)
    for member_id, status in ended.items():
        status.paid_tier, status.paid_until = _paid_coverage(purchases.get(member_id, []), now)
    return set(ended)


def _stand(status: TierStatus, tiers: list[Tier], totals: Totals, now: datetime, reasons: dict) -> None:
    """Store the current record and the tier it supports; a grace period ends or is cancelled.

    The qualified tier only rises here, except after a refund or cancellation lowered the record
    (``needs_correction``): then it follows the record, never below the tier kept from the last window.
    """
    status.spend, status.status_points, status.orders = totals.spend, totals.status_points, totals.orders
    reached = higher(status.held_tier, entry_tier(tiers, totals))
    before = status.qualified_tier
    correcting, status.needs_correction = status.needs_correction, False
    if status.grace_until is not None:
        if before is not None and meets(before.retain_thresholds(), totals):
            status.held_tier, status.grace_until = before, None
            return
        if status.grace_until > now:
            return
        status.grace_until = None
        status.qualified_tier = reached
        reasons.setdefault(status.pk, TierChangeReason.RETAINED_BELOW)
        return
    lower = reached is None or (before is not None and reached.rank < before.rank)
    if lower and not correcting:
        return
    status.qualified_tier = reached
    if before != reached:
        reasons.setdefault(status.pk, TierChangeReason.CORRECTED if lower else TierChangeReason.QUALIFIED)


def _apply_batch(rows: list[TierStatus], now: datetime, reasons: dict, paid_ended: set[int], span: Q) -> int:
    """Write every status, the changed tiers and their history: a fixed number of statements."""
    changes = []
    members = []
    for status in rows:
        member = status.member
        grant_ended = status.manual_until is not None and status.manual_until <= now
        if grant_ended:
            status.manual_tier, status.manual_until, status.manual_reason = None, None, ""
        status.evaluated_at = now
        new = effective_tier(status, now)
        if new != member.tier:
            reason = reasons.get(status.pk, TierChangeReason.QUALIFIED)
            if new is None or (member.tier is not None and new.rank < member.tier.rank):
                if grant_ended:
                    reason = TierChangeReason.GRANT_ENDED
                elif member.pk in paid_ended:
                    reason = TierChangeReason.PAID_ENDED
            changes.append(
                TierChange(member=member, from_tier=member.tier, to_tier=new, reason=reason, changed_at=now)
            )
            member.tier = new
            members.append(member)
    bulk_set(
        TierStatus,
        rows,
        [
            "spend",
            "status_points",
            "orders",
            "qualified_tier",
            "held_tier",
            "grace_until",
            "manual_tier",
            "manual_until",
            "manual_reason",
            "paid_tier",
            "paid_until",
            "needs_correction",
            "evaluated_at",
        ],
    )
    if members:
        bulk_set(Member, members, ["tier"])
        bulk_insert(TierChange, changes, ["member", "from_tier", "to_tier", "reason", "note", "changed_at"])
        by_member = {member.pk: member for member in members}
        send_each_on_commit(
            tier_changed,
            TierChange,
            [
                {"member": by_member[change.member_id], "change": change}
                for change in TierChange.objects.filter(span, changed_at=now).select_related(
                    "from_tier", "to_tier"
                )
                if change.member_id in by_member
            ],
        )
    return len(changes)
