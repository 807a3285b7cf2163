"""Orders, confirmations, cancellations and refunds: points pending, released and clawed back."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from djmoney.money import Money

from ..conf import loyalty_settings
from ..exceptions import (
    InvalidAmount,
    InvalidOrderId,
    InvalidRefundId,
    InvalidSource,
    InvalidTimestamp,
    MemberClosed,
    OrderCancelled,
    UnknownOrder,
)
from ..models import (
    EarnEvent,
    EntryType,
    LedgerEntry,
    LotAllocation,
    Member,
    MembershipPurchase,
    MemberStatus,
    OrderRecord,
    OrderStatus,
    PointsAccount,
    QualifyingEvent,
    RefundRecord,
)
from ..money import proportional_points, validate_money
from ..selectors.rates import conversion_fields
from ..signals import points_earned, points_released, points_reversed, send_on_commit
from .earning import compute_order_earning, order_lines, record_contributions
from .engagement import count_for_challenges, pay_referral
from .ledger import (
    apply_credit,
    create_lot,
    ensure_same_request,
    ledger_key,
    lock_account,
    lot_expiry,
    plan_debit,
    save_account,
    write_entry,
)
from .tiers import activate_memberships, end_memberships, record_qualifying

DEFAULT_SOURCE = "shop"
SPEND_EXPONENT = Decimal("0.0001")


def order_key(source: str, order_id: str, *event: str) -> str:
    return ledger_key("order", source, order_id, *event)


def record_order(
    member: Member,
    *,
    order_id: str,
    amount: Money,
    placed_at: datetime | None = None,
    lines: Iterable = (),
    source: str = DEFAULT_SOURCE,
) -> OrderRecord:
    """Record a placed order; its points stay pending until confirmation or the return window ends.

    Replaying the same order returns the first record and writes nothing.
    """
    _check_order_id(order_id)
    _check_source(source)
    amount = validate_money(amount)
    placed_at = _aware(placed_at or timezone.now())
    try:
        with transaction.atomic():
            return _record_order(member, source, order_id, amount, placed_at, lines)
    except IntegrityError:
        # The same order id was recorded concurrently for another member; compare with that one.
        existing = OrderRecord.objects.filter(source=source, external_id=order_id).first()
        if existing is None:
            raise
        ensure_same_request(existing.member_id == member.pk and existing.amount == amount)
        return existing


def _record_order(
    member: Member, source: str, order_id: str, amount: Money, placed_at: datetime, lines: Iterable
) -> OrderRecord:
    account = lock_account(member)
    existing = OrderRecord.objects.filter(source=source, external_id=order_id).first()
    if existing is not None:
        ensure_same_request(existing.member_id == member.pk and existing.amount == amount)
        return existing
    if account.member.status == MemberStatus.CLOSED:
        raise MemberClosed()
    earning = compute_order_earning(account.member, amount, lines, at=placed_at, lock=True)
    release_after = placed_at + timedelta(days=loyalty_settings.PENDING_DAYS)
    # An order whose return window already ended (a late import, or no window) is released at once,
    # as of the end of its window.
    released = release_after <= timezone.now()
    order = OrderRecord.objects.create(
        member=member,
        source=source,
        external_id=order_id,
        amount=amount,
        rate=earning.base.rate,
        points=earning.points,
        status_points=earning.status_points,
        qualifying_spend=earning.qualifying_spend,
        placed_at=placed_at,
        release_after=release_after,
        status=OrderStatus.PENDING,
    )
    if order.points:
        account.pending += order.points
        entry = write_entry(
            account,
            entry_type=EntryType.EARN,
            pending_points=order.points,
            source=source,
            source_ref=order_id,
            idempotency_key=order_key(source, order_id, "earn"),
            amount=amount,
            rate=earning.base.rate,
            rate_rule=earning.base.rule,
            effective_at=placed_at,
            **conversion_fields(earning.base.conversion),
        )
        save_account(account)
        record_contributions(entry, account.member, earning.contributions, order=order, at=placed_at)
        send_on_commit(points_earned, LedgerEntry, member=account.member, entry=entry)
    MembershipPurchase.objects.bulk_create(
        [
            MembershipPurchase(member=member, product=product, order=order, tier=product.tier)
            for product in earning.memberships
        ]
    )
    record_qualifying(
        account.member,
        key=order_key(source, order_id, "qualifying"),
        occurred_at=placed_at,
        spend=earning.qualifying_spend,
        status_points=earning.status_points,
        orders=1,
    )
    if released:
        _release(account, order, release_after)
    return order


def confirm_order(*, order_id: str, source: str = DEFAULT_SOURCE, now: datetime | None = None) -> OrderRecord:
    """The order can no longer be returned: release its pending points now (once)."""
    now = _aware(now or timezone.now())
    with transaction.atomic():
        account, order = _lock_order(source, order_id)
        if order.status == OrderStatus.CANCELLED:
            raise OrderCancelled()
        if order.status == OrderStatus.PENDING:
            _release(account, order, now)
    return order


def cancel_order(*, order_id: str, source: str = DEFAULT_SOURCE) -> OrderRecord:
    """Take back every point the order still holds (pending or released). Cancelling twice is a no-op."""
    with transaction.atomic():
        account, order = _lock_order(source, order_id)
        if order.status != OrderStatus.CANCELLED:
            _reverse(account, order, order.points_outstanding, event=("cancel",), reason="order_cancelled")
            _reverse_qualification(
                order, order.amount.amount, event=("cancel",), drop_order=order.refunded < order.amount.amount
            )
            order.status = OrderStatus.CANCELLED
            order.save(update_fields=["status", "points_reversed", "points_forgiven"])
            end_memberships(account.member, order, timezone.now())
    return order


def record_refund(
    *, order_id: str, refund_id: str, amount: Money, source: str = DEFAULT_SOURCE, lines: Iterable = ()
) -> RefundRecord:
    """Claw back points in proportion to the refunded amount, once per ``refund_id``.

    The qualification record loses the same share of the order's spend and status points (and the
    order itself once fully refunded). A paid membership in the order ends when ``lines`` name its
    SKU or the order is fully refunded.
    """
    if not isinstance(refund_id, str) or not refund_id.strip() or len(refund_id) > 100:
        raise InvalidRefundId()
    amount = validate_money(amount)
    with transaction.atomic():
        account, order = _lock_order(source, order_id)
        existing = order.refunds.filter(refund_id=refund_id).first()
        if existing is not None:
            ensure_same_request(existing.amount == amount)
            return existing
        if amount.currency != order.amount.currency:
            raise InvalidAmount()
        refunded = order.refunded + amount.amount
        if refunded > order.amount.amount:
            raise InvalidAmount()
        target = proportional_points(order.points, refunded, order.amount.amount)
        points = max(target - order.points_reversed, 0)
        refunded_skus = {line.sku for line in order_lines(lines, amount.currency.code)}
        fully = refunded == order.amount.amount
        cancelled = order.status == OrderStatus.CANCELLED  # its points and record were already taken back
        _reverse(account, order, points, event=("refund", refund_id), reason="order_refunded")
        if not cancelled:
            _reverse_qualification(order, refunded, event=("refund", refund_id), drop_order=fully)
        order.refunded = refunded
        order.save(update_fields=["refunded", "points_reversed", "points_forgiven"])
        if not cancelled and (fully or refunded_skus):
            end_memberships(account.member, order, timezone.now(), skus=None if fully else refunded_skus)
        return RefundRecord.objects.create(order=order, refund_id=refund_id, amount=amount, points=points)


def release_order(order_pk: int, now: datetime) -> bool:
    """Release one order whose return window ended by ``now``; used by the batch job.

    The points count as released when the window ended, so a late job run does not extend their lifetime.
    """
    with transaction.atomic():
        order = OrderRecord.objects.select_related("member").get(pk=order_pk)
        account = lock_account(order.member)
        order.refresh_from_db()
        if order.status != OrderStatus.PENDING or order.release_after > now:
            return False
        _release(account, order, order.release_after)
        return True


def _release(account: PointsAccount, order: OrderRecord, at: datetime) -> None:
    """Release the order's pending points as of ``at`` and mark it released.

    A paid membership in the order starts, a referral of a first order is paid, and the purchase
    counts towards challenges: all of them only once the order can no longer be returned.
    """
    if order.points_outstanding:
        _release_points(account, order, at)
        save_account(account)
    order.status = OrderStatus.RELEASED
    order.released_at = at
    order.save(update_fields=["status", "released_at"])
    activate_memberships(account.member, order, at)
    if order.refunded < order.amount.amount:  # a fully refunded order is no purchase
        pay_referral(account, at)
        count_for_challenges(account, EarnEvent.PURCHASE, at)


def _release_points(account: PointsAccount, order: OrderRecord, at: datetime) -> None:
    """Move the order's outstanding points from pending to a new lot (the caller saves the account)."""
    points = order.points_outstanding
    account.pending -= points
    spendable = apply_credit(account, points)
    account.lifetime_earned += points
    entry = write_entry(
        account,
        entry_type=EntryType.RELEASE,
        points=points,
        pending_points=-points,
        debt_points=spendable - points,
        source=order.source,
        source_ref=order.external_id,
        idempotency_key=order_key(order.source, order.external_id, "release"),
        effective_at=at,
    )
    create_lot(account, entry, spendable, expires_at=lot_expiry(at), order=order)
    send_on_commit(points_released, LedgerEntry, member=order.member, entry=entry)


def _reverse(account: PointsAccount, order: OrderRecord, points: int, *, event: tuple, reason: str) -> None:
    """Take ``points`` of ``order`` back: from pending before release, else from the order's lots first.

    Released points of the order that expired unused are not taken back a second time: that part
    is forgiven and recorded as written off.
    """
    if points <= 0:
        return
    fields = {
        "entry_type": EntryType.REVERSAL,
        "source": order.source,
        "source_ref": order.external_id,
        "idempotency_key": order_key(order.source, order.external_id, *event),
        "reason": reason,
    }
    plan = None
    if order.status == OrderStatus.PENDING:
        account.pending -= points
        fields |= {"pending_points": -points, "corrects": _entry_of(order, "earn")}
    else:
        forgiven = min(points, max(_expired_points_of(order) - order.points_forgiven, 0))
        owed = points - forgiven
        plan = plan_debit(account, owed, prefer_order=order)
        shortfall = owed - plan.points
        account.available -= plan.points
        account.lifetime_earned -= points
        if loyalty_settings.NEGATIVE_BALANCE_POLICY == "allow_negative":
            account.debt += shortfall
            fields |= {"points": -owed, "debt_points": shortfall, "written_off": forgiven}
        else:
            fields |= {"points": -plan.points, "written_off": shortfall + forgiven}
        fields["corrects"] = _entry_of(order, "release")
        order.points_forgiven += forgiven
    entry = write_entry(account, **fields)
    if plan is not None:
        plan.apply(entry)
    save_account(account)
    order.points_reversed += points
    send_on_commit(points_reversed, LedgerEntry, member=order.member, entry=entry)


def _reverse_qualification(
    order: OrderRecord, refunded_to: Decimal, *, event: tuple, drop_order: bool
) -> None:
    """Take the share of the order between ``order.refunded`` and ``refunded_to`` off the record.

    Shares are computed on cumulative totals, so partial refunds that add up to the whole order take
    off exactly what it added. They count against the window the order was placed in.
    """
    if not QualifyingEvent.objects.filter(
        key=order_key(order.source, order.external_id, "qualifying")
    ).exists():
        return  # recorded before tiers existed: it never counted, so there is nothing to take off
    whole = order.amount.amount
    spend = _share(order.qualifying_spend, refunded_to, whole) - _share(
        order.qualifying_spend, order.refunded, whole
    )
    status_points = proportional_points(order.status_points, refunded_to, whole) - proportional_points(
        order.status_points, order.refunded, whole
    )
    record_qualifying(
        order.member,
        key=order_key(order.source, order.external_id, "qualifying", *event),
        occurred_at=order.placed_at,
        spend=-spend,
        status_points=-status_points,
        orders=-1 if drop_order else 0,
    )


def _share(value: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    if part >= whole:
        return value
    return (value * part / whole).quantize(SPEND_EXPONENT, rounding=ROUND_DOWN)


def _expired_points_of(order: OrderRecord) -> int:
    """Points of the order's lots that expired unused."""
    expired = LotAllocation.objects.filter(lot__order=order, entry__entry_type=EntryType.EXPIRY).aggregate(
        total=Sum("points")
    )
    return expired["total"] or 0


def _entry_of(order: OrderRecord, event: str) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(
        idempotency_key=order_key(order.source, order.external_id, event)
    ).first()


def _lock_order(source: str, order_id: str) -> tuple[PointsAccount, OrderRecord]:
    order = OrderRecord.objects.select_related("member").filter(source=source, external_id=order_id).first()
    if order is None:
        raise UnknownOrder()
    account = lock_account(order.member)
    order.refresh_from_db()
    return account, order


def _check_order_id(value: object) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise InvalidOrderId()


def _check_source(value: object) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 50:
        raise InvalidSource()


def _aware(value: datetime) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidTimestamp()
    return value
