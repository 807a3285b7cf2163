"""Redeeming rewards, and what happens to a redemption afterwards.

Locks are always taken in one order: the member's points account, then the redemption, then the
offer's stock (a conditional UPDATE), so concurrent redemptions and cancellations cannot deadlock.
Points a redemption gives back come back with the expiry dates they had, so cancelling a reward can
never extend the life of points.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import loyalty_settings
from ..exceptions import (
    ActorRequired,
    CouponCancelled,
    CouponExpired,
    CouponUsed,
    InsufficientPoints,
    InvalidOrderId,
    InvalidQuantity,
    NotStaffFulfilled,
    RedemptionLimitReached,
    RedemptionNotCancellable,
    RewardUnavailable,
    UnknownCoupon,
)
from ..fulfilment import fulfilment_backend
from ..models import (
    COUPON_TYPES,
    STAFF_FULFILLED_TYPES,
    EntryType,
    LedgerEntry,
    Member,
    PointsAccount,
    PointsLot,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardOffer,
    RewardType,
)
from ..money import quantize_money
from ..selectors.catalog import member_can_cancel, redeemed_in_period, visible_offer
from ..signals import (
    points_spent,
    redemption_cancelled,
    redemption_expired,
    redemption_used,
    reward_redeemed,
    send_on_commit,
)
from .ledger import (
    apply_credit,
    checked_key,
    ensure_same_request,
    ledger_key,
    lock_account,
    plan_debit,
    save_account,
    write_entry,
)
from .points import check_can_spend, checked_reason

logger = logging.getLogger(__name__)
Progress = Callable[[int], None]
# Attempts at a coupon code before giving up (a clash is already a one-in-10**15 event).
CODE_ATTEMPTS = 5


def redeem_reward(member: Member, reward: Reward, *, idempotency_key: str, quantity: int = 1) -> Redemption:
    """Spend the member's points on ``quantity`` units of a reward visible to them; issue its coupon.

    A replayed ``idempotency_key`` returns the first redemption and spends nothing. Raises
    ``reward_not_found`` (not visible to the member), ``reward_unavailable`` (out of stock),
    ``redemption_limit_reached``, ``insufficient_points``, ``member_frozen`` or ``member_closed``,
    and then writes nothing.
    """
    key = checked_key(idempotency_key)
    _check_quantity(quantity)
    now = timezone.now()
    with transaction.atomic():
        account = lock_account(member)
        member = account.member
        existing = Redemption.objects.filter(member_id=member.pk, idempotency_key=key).first()
        if existing is not None:
            ensure_same_request(existing.reward_id == reward.pk and existing.quantity == quantity)
            return existing
        check_can_spend(member)
        offer = visible_offer(member, reward.pk, at=now)
        reward = offer.reward
        if quantity > 1 and reward.reward_type in COUPON_TYPES:
            # One coupon code is used once: each coupon is its own redemption.
            raise InvalidQuantity(_("Coupons are redeemed one at a time."))
        _check_limit(member, reward, quantity, now)
        points = offer.points * quantity
        if account.available < points:
            raise InsufficientPoints()
        _take_stock(offer, quantity)
        entry = _spend(account, points, reward=reward, key=key, now=now)
        redemption = _issue(member, offer, quantity=quantity, points=points, entry=entry, key=key, now=now)
        send_on_commit(points_spent, LedgerEntry, member=member, entry=entry)
        send_on_commit(reward_redeemed, Redemption, member=member, redemption=redemption)
    return redemption


def cancel_redemption(redemption: Redemption, *, reason: str, actor=None) -> Redemption:
    """Cancel an issued, unused redemption: its points come back once, its stock returns.

    A member (``actor`` None) can cancel only before the reward's validity ends; staff can cancel any
    issued redemption. Cancelling a cancelled redemption again changes nothing.
    """
    reason = checked_reason(reason)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        raise ActorRequired()
    now = timezone.now()
    with transaction.atomic():
        account = lock_account(redemption.member)
        redemption = _lock_redemption(redemption.pk)
        if redemption.status == RedemptionStatus.CANCELLED:
            return redemption
        staff_may_cancel = actor is not None and redemption.status == RedemptionStatus.ISSUED
        if not (staff_may_cancel or member_can_cancel(redemption, now)):
            raise RedemptionNotCancellable()
        _return_points(account, redemption, actor=actor, now=now)
        _restock(redemption)
        redemption.status = RedemptionStatus.CANCELLED
        redemption.cancelled_at = now
        redemption.cancel_reason = reason
        redemption.actor = actor
        redemption.save(update_fields=["status", "cancelled_at", "cancel_reason", "actor", "return_entry"])
        fulfilment_backend().withdraw(redemption)
        send_on_commit(redemption_cancelled, Redemption, member=account.member, redemption=redemption)
    return redemption


def mark_redemption_used(*, code: str, order_id: str) -> Redemption:
    """The shop reports that a coupon was used on ``order_id``. Reporting the same order again is a no-op.

    Raises ``unknown_coupon``, ``coupon_used`` (on another order), ``coupon_cancelled`` or
    ``coupon_expired``.
    """
    if not isinstance(order_id, str) or not order_id.strip() or len(order_id) > 100:
        raise InvalidOrderId()
    code = code.strip() if isinstance(code, str) else ""
    now = timezone.now()
    with transaction.atomic():
        # Our codes are upper case, so a shopper's lower-case typing still matches; a backend's own
        # codes match as they were issued.
        redemption = (
            Redemption.objects.select_for_update(of=("self",)).filter(code__in={code, code.upper()}).first()
        )
        if redemption is None:
            raise UnknownCoupon()
        if redemption.status == RedemptionStatus.USED:
            if redemption.order_id != order_id:
                raise CouponUsed()
            return redemption
        _check_usable(redemption, now)
        redemption.status = RedemptionStatus.USED
        redemption.used_at = now
        redemption.order_id = order_id
        redemption.save(update_fields=["status", "used_at", "order_id"])
    send_on_commit(redemption_used, Redemption, member=redemption.member, redemption=redemption)
    return redemption


def fulfil_redemption(redemption: Redemption, *, actor) -> Redemption:
    """Staff shipped the gift or delivered the experience: the redemption becomes used. Idempotent."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ActorRequired()
    now = timezone.now()
    with transaction.atomic():
        redemption = _lock_redemption(redemption.pk)
        if redemption.status == RedemptionStatus.USED:
            return redemption
        if (
            redemption.reward_type not in STAFF_FULFILLED_TYPES
            or redemption.status != RedemptionStatus.ISSUED
        ):
            raise NotStaffFulfilled()
        redemption.status = RedemptionStatus.USED
        redemption.used_at = now
        redemption.actor = actor
        redemption.save(update_fields=["status", "used_at", "actor"])
    send_on_commit(redemption_used, Redemption, member=redemption.member, redemption=redemption)
    return redemption


def expire_redemptions(*, now: datetime | None = None, progress: Progress | None = None) -> int:
    """Expire issued redemptions whose validity ended, applying ``EXPIRED_REWARD_POLICY``; returns how many.

    Each redemption is its own transaction; running the job twice changes nothing the second time.
    """
    now = now or timezone.now()
    due = Redemption.objects.filter(status=RedemptionStatus.ISSUED, valid_until__lte=now)
    expired = 0
    after = 0
    while True:
        batch = list(
            due.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[: loyalty_settings.BATCH_SIZE]
        )
        if not batch:
            return expired
        for pk in batch:
            expired += _expire_one(pk, now)
        after = batch[-1]
        if progress:
            progress(expired)


def _expire_one(pk: int, now: datetime) -> int:
    with transaction.atomic():
        member = Member.objects.get(redemptions__pk=pk)
        account = lock_account(member)
        redemption = _lock_redemption(pk)
        if redemption.status != RedemptionStatus.ISSUED or not redemption.validity_ended(now):
            return 0
        fields = ["status"]
        if loyalty_settings.EXPIRED_REWARD_POLICY == "return_points":
            _return_points(account, redemption, actor=None, now=now)
            fields.append("return_entry")
        _restock(redemption)
        redemption.status = RedemptionStatus.EXPIRED
        redemption.save(update_fields=fields)
        fulfilment_backend().withdraw(redemption)
    send_on_commit(redemption_expired, Redemption, member=account.member, redemption=redemption)
    return 1


def _check_quantity(quantity: object) -> None:
    most = loyalty_settings.REDEMPTION_MAX_QUANTITY
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= most:
        raise InvalidQuantity(_("The quantity must be a whole number from 1 to %(most)d.") % {"most": most})


def _check_limit(member: Member, reward: Reward, quantity: int, now: datetime) -> None:
    if reward.limit_per_member is None:
        return
    redeemed = redeemed_in_period(member, [reward], at=now)[reward.pk]
    if redeemed + quantity > reward.limit_per_member:
        raise RedemptionLimitReached()


def _take_stock(offer: RewardOffer, quantity: int) -> None:
    """One conditional UPDATE: of racing members only those the stock covers get a unit."""
    if offer.stock is None:
        return
    taken = RewardOffer.objects.filter(pk=offer.pk, stock__gte=quantity).update(stock=F("stock") - quantity)
    if not taken:
        raise RewardUnavailable()


def _restock(redemption: Redemption) -> None:
    RewardOffer.objects.filter(
        reward_id=redemption.reward_id, market_id=redemption.market_id, stock__isnull=False
    ).update(stock=F("stock") + redemption.quantity)


def _spend(account: PointsAccount, points: int, *, reward: Reward, key: str, now: datetime) -> LedgerEntry:
    plan = plan_debit(account, points)
    account.available -= points
    account.lifetime_redeemed += points
    entry = write_entry(
        account,
        entry_type=EntryType.REDEEM,
        points=-points,
        source="reward",
        source_ref=reward.code,
        idempotency_key=ledger_key("redeem", account.member.number, key),
        effective_at=now,
    )
    plan.apply(entry)
    save_account(account)
    return entry


def _issue(
    member: Member,
    offer: RewardOffer,
    *,
    quantity: int,
    points: int,
    entry: LedgerEntry,
    key: str,
    now: datetime,
) -> Redemption:
    reward = offer.reward
    donation = reward.reward_type == RewardType.CHARITY
    redemption = Redemption(
        member=member,
        reward=reward,
        market_id=offer.market_id,
        quantity=quantity,
        points=points,
        value=quantize_money(offer.value * quantity) if offer.value is not None else None,
        reward_type=reward.reward_type,
        percent_off=reward.percent_off,
        charity_id=reward.charity_id,
        # A donation is made the moment it is redeemed: there is nothing left to use or cancel.
        status=RedemptionStatus.USED if donation else RedemptionStatus.ISSUED,
        used_at=now if donation else None,
        valid_until=now + timedelta(days=reward.valid_days) if reward.expires else None,
        idempotency_key=key,
        entry=entry,
        created_at=now,
    )
    backend = fulfilment_backend()
    for attempt in range(CODE_ATTEMPTS):
        redemption.code = backend.coupon_code(redemption)
        try:
            with transaction.atomic():
                redemption.save()
            break
        except IntegrityError:
            if attempt == CODE_ATTEMPTS - 1 or not Redemption.objects.filter(code=redemption.code).exists():
                raise
            logger.warning("Coupon code clash for reward %s; drawing another.", reward.code)
    backend.issue(redemption)
    if redemption.fulfilment_ref:
        redemption.save(update_fields=["fulfilment_ref"])
    return redemption


def _lock_redemption(pk: int) -> Redemption:
    return Redemption.objects.select_for_update(of=("self",)).select_related("reward", "market").get(pk=pk)


def _check_usable(redemption: Redemption, now: datetime) -> None:
    if redemption.status == RedemptionStatus.CANCELLED:
        raise CouponCancelled()
    if redemption.status == RedemptionStatus.EXPIRED or redemption.validity_ended(now):
        raise CouponExpired()


def _return_points(account: PointsAccount, redemption: Redemption, *, actor, now: datetime) -> None:
    """Give a redemption's points back once (keyed on it), into lots with their old expiry dates.

    The entry carries no reason: a member's words stay on the redemption, never in the ledger.
    """
    points = redemption.points
    spendable = apply_credit(account, points)
    account.lifetime_redeemed -= points
    entry = write_entry(
        account,
        entry_type=EntryType.REVERSAL,
        points=points,
        debt_points=-(points - spendable),
        source="reward",
        source_ref=redemption.code,
        idempotency_key=ledger_key("redemption-return", redemption.pk),
        corrects_id=redemption.entry_id,
        actor=actor,
        effective_at=now,
    )
    lots = []
    left = spendable
    # The latest-expiring points come back first when a debt took part of them.
    taken = redemption.entry.allocations.select_related("lot").order_by(
        F("lot__expires_at").desc(nulls_first=True), "-lot_id"
    )
    for allocation in taken:
        points_back = min(left, allocation.points)
        if points_back:
            lots.append(
                PointsLot(
                    account=account,
                    entry=entry,
                    original=points_back,
                    remaining=points_back,
                    expires_at=allocation.lot.expires_at,
                )
            )
            left -= points_back
    PointsLot.objects.bulk_create(lots)
    save_account(account)
    redemption.return_entry = entry
