"""Spending and staff adjustments."""

import uuid

from django.db import transaction
from django.utils import timezone

from ..exceptions import (
    ActorRequired,
    InsufficientPoints,
    InvalidPoints,
    MemberClosed,
    MemberFrozen,
    ReasonRequired,
)
from ..models import EntryType, LedgerEntry, Member, MemberStatus
from ..signals import points_adjusted, points_spent, send_on_commit
from .ledger import (
    apply_credit,
    checked_key,
    create_lot,
    ensure_same_request,
    existing_entry,
    ledger_key,
    lock_account,
    lot_expiry,
    plan_debit,
    save_account,
    write_entry,
)


def spend_points(member: Member, *, points: int, idempotency_key: str, reason: str) -> LedgerEntry:
    """Spend ``points`` from the soonest-expiring lots. A replayed key returns the first entry.

    Raises ``insufficient_points`` (and writes nothing) when the available balance is too low.
    """
    _check_points(points, positive=True)
    reason = checked_reason(reason)
    key = ledger_key("spend", member.number, checked_key(idempotency_key))
    with transaction.atomic():
        account = lock_account(member)
        existing = existing_entry(key)
        if existing is not None:
            ensure_same_request(existing.points == -points)
            return existing
        check_can_spend(account.member)
        if account.available < points:
            raise InsufficientPoints()
        plan = plan_debit(account, points)
        account.available -= points
        account.lifetime_redeemed += points
        entry = write_entry(
            account,
            entry_type=EntryType.REDEEM,
            points=-points,
            source="member",
            idempotency_key=key,
            reason=reason,
        )
        plan.apply(entry)
        save_account(account)
    send_on_commit(points_spent, LedgerEntry, member=member, entry=entry)
    return entry


def adjust_points(
    member: Member, *, points: int, reason: str, actor, idempotency_key: str | None = None
) -> LedgerEntry:
    """A staff correction of ``points`` (either sign) with a mandatory reason, recorded with the actor.

    A negative adjustment cannot take more than the available balance.
    """
    _check_points(points, positive=False)
    reason = checked_reason(reason)
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ActorRequired()
    key = ledger_key("adjust", checked_key(idempotency_key) if idempotency_key else uuid.uuid4().hex)
    now = timezone.now()
    with transaction.atomic():
        account = lock_account(member)
        existing = existing_entry(key)
        if existing is not None:
            ensure_same_request(existing.points == points and existing.account_id == account.pk)
            return existing
        if account.member.status == MemberStatus.CLOSED:
            raise MemberClosed()
        plan = None
        debt_paid = 0
        if points > 0:
            spendable = apply_credit(account, points)
            debt_paid = points - spendable
            account.lifetime_earned += points
        else:
            if account.available < -points:
                raise InsufficientPoints()
            plan = plan_debit(account, -points)
            account.available += points
        entry = write_entry(
            account,
            entry_type=EntryType.ADJUSTMENT,
            points=points,
            debt_points=-debt_paid,
            source="staff",
            idempotency_key=key,
            reason=reason,
            actor=actor,
            effective_at=now,
        )
        if plan is None:
            create_lot(account, entry, spendable, expires_at=lot_expiry(now))
        else:
            plan.apply(entry)
        save_account(account)
    send_on_commit(points_adjusted, LedgerEntry, member=member, entry=entry)
    return entry


def _check_points(points: object, *, positive: bool) -> None:
    if not isinstance(points, int) or isinstance(points, bool) or points == 0 or (positive and points < 0):
        raise InvalidPoints()


def checked_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired()
    return reason.strip()[:255]


def check_can_spend(member: Member) -> None:
    if member.status == MemberStatus.FROZEN:
        raise MemberFrozen()
    if member.status == MemberStatus.CLOSED:
        raise MemberClosed()
