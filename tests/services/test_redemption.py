"""Redeeming rewards: points, stock, limits, idempotency, cancellation, use and expiry."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from djmoney.money import Money

from loyalty.exceptions import (
    ActorRequired,
    CouponCancelled,
    CouponExpired,
    CouponUsed,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidQuantity,
    MemberFrozen,
    NotStaffFulfilled,
    RedemptionLimitReached,
    RedemptionNotCancellable,
    RewardNotFound,
    RewardUnavailable,
    UnknownCoupon,
)
from loyalty.fulfilment import CouponBackend
from loyalty.models import (
    COUPON_ALPHABET,
    Charity,
    EntryType,
    MemberStatus,
    Redemption,
    RedemptionStatus,
    RewardOffer,
)
from loyalty.services import (
    cancel_redemption,
    expire_redemptions,
    fulfil_redemption,
    mark_redemption_used,
    redeem_reward,
)
from loyalty.signals import redemption_cancelled, reward_redeemed
from tests.helpers import account_of, assert_books_balance, entries_of, open_lots

pytestmark = pytest.mark.django_db


def stock_of(reward) -> int | None:
    return RewardOffer.objects.get(reward=reward).stock


def test_redeeming_spends_the_offer_price_and_issues_a_coupon(member, make_reward, fund):
    fund(member, 800)
    redemption = redeem_reward(member, make_reward(points=500, value="5.00"), idempotency_key="r1")
    assert redemption.status == RedemptionStatus.ISSUED
    assert redemption.points == 500
    assert redemption.value == Money(Decimal("5.00"), "EUR")
    assert redemption.entry.points == -500 and redemption.entry.entry_type == EntryType.REDEEM
    assert account_of(member).available == 300
    assert account_of(member).lifetime_redeemed == 500
    assert_books_balance()


def test_a_quantity_multiplies_price_value_and_stock_taken(member, make_reward, fund):
    fund(member, 2000)
    reward = make_reward(points=500, value="5.00", stock=5, reward_type="physical_gift")
    redemption = redeem_reward(member, reward, idempotency_key="r1", quantity=3)
    assert (redemption.points, redemption.value.amount) == (1500, Decimal("15.00"))
    assert stock_of(reward) == 2


def test_coupons_are_redeemed_one_at_a_time_so_each_has_its_own_code(member, make_reward, fund):
    fund(member, 2000)
    for reward_type in ("fixed_discount", "percent_discount", "free_shipping", "free_product"):
        extra = {"percent_off": Decimal("10")} if reward_type == "percent_discount" else {}
        with pytest.raises(InvalidQuantity):
            redeem_reward(
                member,
                make_reward(reward_type, reward_type=reward_type, **extra),
                idempotency_key=reward_type,
                quantity=2,
            )
    assert account_of(member).available == 2000


def test_gifts_and_experiences_never_expire_and_only_staff_cancel_them(member, make_reward, fund, staff):
    fund(member, 1000)
    gift = redeem_reward(
        member, make_reward("mug", reward_type="physical_gift", points=100), idempotency_key="a"
    )
    assert gift.valid_until is None
    assert expire_redemptions(now=timezone.now() + timedelta(days=400)) == 0
    with pytest.raises(RedemptionNotCancellable):
        cancel_redemption(gift, reason="changed my mind")
    assert cancel_redemption(gift, reason="out of stock at the warehouse", actor=staff).status == "cancelled"


def test_a_reward_for_a_deactivated_charity_cannot_be_redeemed(member, make_reward, fund):
    fund(member, 1000)
    charity = Charity.objects.create(name="Closed Fund", is_active=False)
    reward = make_reward(reward_type="charity", charity=charity)
    with pytest.raises(RewardNotFound):
        redeem_reward(member, reward, idempotency_key="a")


def test_a_long_non_latin_idempotency_key_is_accepted_and_replays(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(points=100)
    key = "兑换" * 75
    first = redeem_reward(member, reward, idempotency_key=key)
    assert redeem_reward(member, reward, idempotency_key=key).pk == first.pk
    assert len(first.entry.idempotency_key) <= 1000
    assert account_of(member).available == 900


def test_a_members_cancellation_reason_stays_off_the_ledger(member, make_reward, fund):
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(), idempotency_key="a")
    cancelled = cancel_redemption(redemption, reason="call me on +49 170 1234567")
    assert cancelled.cancel_reason == "call me on +49 170 1234567"
    assert cancelled.return_entry.reason == ""


@pytest.mark.parametrize("quantity", [0, -1, 11, "2", 1.0, True])
def test_a_quantity_outside_one_to_the_maximum_is_refused(member, make_reward, fund, quantity):
    fund(member, 10_000)
    with pytest.raises(InvalidQuantity):
        redeem_reward(member, make_reward(), idempotency_key="r1", quantity=quantity)
    assert not Redemption.objects.exists()


def test_coupon_codes_follow_the_rewards_format_with_random_characters(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(coupon_format="CNY-####-####-##", points=100)
    codes = {redeem_reward(member, reward, idempotency_key=f"r{i}").code for i in range(5)}
    assert len(codes) == 5
    for code in codes:
        assert code.startswith("CNY-") and len(code) == len("CNY-####-####-##")
        assert all(char in COUPON_ALPHABET for char in code[4:].replace("-", ""))


def test_the_same_idempotency_key_returns_the_first_redemption_and_spends_once(member, make_reward, fund):
    fund(member, 1200)
    reward = make_reward(points=500)
    first = redeem_reward(member, reward, idempotency_key="same")
    again = redeem_reward(member, reward, idempotency_key="same")
    assert again.pk == first.pk and again.code == first.code
    assert account_of(member).available == 700
    assert entries_of(member, entry_type=EntryType.REDEEM).count() == 1


def test_a_key_reused_for_another_reward_is_an_idempotency_conflict(member, make_reward, fund):
    fund(member, 1200)
    redeem_reward(member, make_reward("one", points=100), idempotency_key="same")
    with pytest.raises(IdempotencyConflict):
        redeem_reward(member, make_reward("two", points=100), idempotency_key="same")
    assert account_of(member).available == 1100


def test_two_members_may_use_the_same_idempotency_key(make_member, make_reward, fund):
    reward = make_reward(points=100)
    first, second = make_member(), make_member()
    fund(first, 100)
    fund(second, 100)
    assert redeem_reward(first, reward, idempotency_key="k").member == first
    assert redeem_reward(second, reward, idempotency_key="k").member == second


def test_not_enough_points_writes_nothing(member, make_reward, fund):
    fund(member, 499)
    reward = make_reward(points=500, stock=3)
    with pytest.raises(InsufficientPoints):
        redeem_reward(member, reward, idempotency_key="r1")
    assert not Redemption.objects.exists()
    assert stock_of(reward) == 3
    assert account_of(member).available == 499


def test_the_last_unit_goes_to_one_member_and_the_next_gets_reward_unavailable(
    make_member, make_reward, fund
):
    reward = make_reward(points=100, stock=1)
    first, second = make_member(), make_member()
    fund(first, 100)
    fund(second, 100)
    redeem_reward(first, reward, idempotency_key="a")
    with pytest.raises(RewardUnavailable):
        redeem_reward(second, reward, idempotency_key="b")
    assert stock_of(reward) == 0
    assert account_of(second).available == 100


def test_a_frozen_member_cannot_redeem(member, make_reward, fund):
    fund(member, 1000)
    member.status = MemberStatus.FROZEN
    member.save()
    with pytest.raises(MemberFrozen):
        redeem_reward(member, make_reward(), idempotency_key="r1")


def test_a_reward_offered_only_in_another_market_cannot_be_redeemed(member, make_market, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(market=make_market("CN", "CNY", language="zh-hans"))
    with pytest.raises(RewardNotFound):
        redeem_reward(member, reward, idempotency_key="r1")


def test_a_reward_for_other_tiers_cannot_be_redeemed(member, make_reward, fund, ladder):
    fund(member, 1000)
    reward = make_reward()
    reward.tiers.set([ladder["gold"]])
    with pytest.raises(RewardNotFound):
        redeem_reward(member, reward, idempotency_key="r1")
    member.tier = ladder["gold"]
    member.save()
    assert redeem_reward(member, reward, idempotency_key="r1").status == RedemptionStatus.ISSUED


def test_a_seasonal_reward_cannot_be_redeemed_outside_its_days(member, make_reward, fund):
    fund(member, 1000)
    today = timezone.localdate(timezone=timezone.get_fixed_timezone(0))
    later = make_reward("later", starts_on=today + timedelta(days=3))
    past = make_reward("past", starts_on=today - timedelta(days=10), ends_on=today - timedelta(days=3))
    for reward in (later, past):
        with pytest.raises(RewardNotFound):
            redeem_reward(member, reward, idempotency_key=reward.code)


def test_an_inactive_reward_or_offer_cannot_be_redeemed(member, make_reward, fund):
    fund(member, 1000)
    hidden = make_reward("hidden", is_active=False)
    paused = make_reward("paused")
    RewardOffer.objects.filter(reward=paused).update(is_active=False)
    for reward in (hidden, paused):
        with pytest.raises(RewardNotFound):
            redeem_reward(member, reward, idempotency_key=reward.code)


def test_a_per_member_limit_counts_units_in_the_period(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(points=100, limit_per_member=2, limit_period="month", reward_type="physical_gift")
    redeem_reward(member, reward, idempotency_key="a")
    with pytest.raises(RedemptionLimitReached):
        redeem_reward(member, reward, idempotency_key="b", quantity=2)
    redeem_reward(member, reward, idempotency_key="c")
    with pytest.raises(RedemptionLimitReached):
        redeem_reward(member, reward, idempotency_key="d")


def test_a_cancelled_redemption_gives_its_place_in_the_limit_back(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(points=100, limit_per_member=1)
    first = redeem_reward(member, reward, idempotency_key="a")
    cancel_redemption(first, reason="mistake")
    assert redeem_reward(member, reward, idempotency_key="b").status == RedemptionStatus.ISSUED


def test_last_months_redemptions_do_not_count_against_a_monthly_limit(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(points=100, limit_per_member=1, limit_period="month")
    old = redeem_reward(member, reward, idempotency_key="a")
    Redemption.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    assert redeem_reward(member, reward, idempotency_key="b").status == RedemptionStatus.ISSUED


def test_a_redemption_keeps_its_terms_when_the_catalog_changes(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(reward_type="percent_discount", percent_off=Decimal("15"), value="20.00")
    redemption = redeem_reward(member, reward, idempotency_key="a")
    reward.percent_off = Decimal("5")
    reward.save()
    RewardOffer.objects.filter(reward=reward).update(value=Decimal("2.00"), points=1)
    redemption.refresh_from_db()
    assert redemption.percent_off == Decimal("15.00")
    assert redemption.value == Money(Decimal("20.00"), "EUR")
    assert redemption.points == 500


def test_a_donation_is_made_at_once_and_cannot_be_cancelled(member, make_reward, fund):
    fund(member, 1000)
    charity = Charity.objects.create(name="Red Cross")
    reward = make_reward(reward_type="charity", charity=charity, value="5.00")
    donation = redeem_reward(member, reward, idempotency_key="a")
    assert donation.status == RedemptionStatus.USED and donation.used_at is not None
    assert donation.charity == charity and donation.valid_until is None
    with pytest.raises(RedemptionNotCancellable):
        cancel_redemption(donation, reason="regret")


def test_coupons_are_valid_for_the_rewards_days(member, make_reward, fund):
    fund(member, 1000)
    before = timezone.now()
    redemption = redeem_reward(member, make_reward(valid_days=7), idempotency_key="a")
    assert before + timedelta(days=7) <= redemption.valid_until <= timezone.now() + timedelta(days=7)
    unlimited = redeem_reward(member, make_reward("forever", valid_days=None), idempotency_key="b")
    assert unlimited.valid_until is None


def test_reward_redeemed_is_sent_once_the_redemption_commits(
    member, make_reward, fund, django_capture_on_commit_callbacks
):
    fund(member, 1000)
    received = []

    def listener(**kwargs):
        received.append(kwargs["redemption"])

    reward_redeemed.connect(listener)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            redemption = redeem_reward(member, make_reward(), idempotency_key="a")
        assert received == []
        for callback in callbacks:
            callback()
    finally:
        reward_redeemed.disconnect(listener)
    assert received == [redemption]


# Cancellation ---------------------------------------------------------------------------------------------


def test_cancelling_returns_the_points_once_and_restocks(member, make_reward, fund):
    fund(member, 800)
    reward = make_reward(points=500, stock=2)
    redemption = redeem_reward(member, reward, idempotency_key="a")
    cancel_redemption(redemption, reason="changed my mind")
    cancel_redemption(redemption, reason="changed my mind")
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED
    assert redemption.return_entry.points == 500 and redemption.return_entry.corrects == redemption.entry
    assert entries_of(member, entry_type=EntryType.REVERSAL).count() == 1
    assert account_of(member).available == 800
    assert account_of(member).lifetime_redeemed == 0
    assert stock_of(reward) == 2
    assert_books_balance()


def test_returned_points_keep_the_expiry_dates_they_had(member, make_reward, fund):
    fund(member, 300)
    first_expiry = open_lots(member)[0].expires_at
    fund(member, 300)
    redemption = redeem_reward(member, make_reward(points=400), idempotency_key="a")
    returned = cancel_redemption(redemption, reason="mistake").return_entry_id
    expiries = sorted(lot.expires_at for lot in open_lots(member) if lot.entry_id == returned)
    assert len(expiries) == 2 and expiries[0] == first_expiry
    assert sum(lot.remaining for lot in open_lots(member)) == 600
    assert_books_balance()


def test_returned_points_pay_a_debt_first(member, make_reward, fund, settings):
    from loyalty.services import confirm_order, record_order, record_refund
    from tests.helpers import eur

    settings.LOYALTY = {**settings.LOYALTY, "NEGATIVE_BALANCE_POLICY": "allow_negative"}
    record_order(member, order_id="O1", amount=eur("500.00"))
    confirm_order(order_id="O1")
    redemption = redeem_reward(member, make_reward(points=500), idempotency_key="a")
    record_refund(order_id="O1", refund_id="R1", amount=eur("200.00"))
    assert account_of(member).debt == 200
    cancel_redemption(redemption, reason="mistake")
    account = account_of(member)
    assert (account.debt, account.available) == (0, 300)
    assert_books_balance()


def test_a_used_coupon_cannot_be_cancelled(member, make_reward, fund):
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(), idempotency_key="a")
    mark_redemption_used(code=redemption.code, order_id="O-1")
    with pytest.raises(RedemptionNotCancellable):
        cancel_redemption(redemption, reason="late")
    assert account_of(member).available == 500


def test_a_member_cannot_cancel_after_the_validity_but_staff_can(member, make_reward, fund, staff):
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(), idempotency_key="a")
    Redemption.objects.filter(pk=redemption.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    with pytest.raises(RedemptionNotCancellable):
        cancel_redemption(redemption, reason="late")
    cancelled = cancel_redemption(redemption, reason="goodwill", actor=staff)
    assert cancelled.actor == staff and account_of(member).available == 1000


def test_cancelling_needs_a_reason(member, make_reward, fund):
    from loyalty.exceptions import ReasonRequired

    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(), idempotency_key="a")
    with pytest.raises(ReasonRequired):
        cancel_redemption(redemption, reason=" ")


def test_redemption_cancelled_is_sent_with_the_redemption(
    member, make_reward, fund, django_capture_on_commit_callbacks
):
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(), idempotency_key="a")
    received = []

    def listener(**kwargs):
        received.append(kwargs["redemption"].status)

    redemption_cancelled.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            cancel_redemption(redemption, reason="mistake")
    finally:
        redemption_cancelled.disconnect(listener)
    assert received == [RedemptionStatus.CANCELLED]


# Use and fulfilment ---------------------------------------------------------------------------------------


def test_the_shop_marks_a_coupon_used_once_per_order(member, make_reward, fund):
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(), idempotency_key="a")
    used = mark_redemption_used(code=redemption.code.lower(), order_id="O-1")
    again = mark_redemption_used(code=redemption.code, order_id="O-1")
    assert used.status == RedemptionStatus.USED and used.order_id == "O-1"
    assert again.used_at == used.used_at
    with pytest.raises(CouponUsed):
        mark_redemption_used(code=redemption.code, order_id="O-2")


def test_unknown_cancelled_and_expired_coupons_cannot_be_used(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(points=100)
    with pytest.raises(UnknownCoupon):
        mark_redemption_used(code="NOPE-NOPE-NOPE", order_id="O-1")
    cancelled = cancel_redemption(redeem_reward(member, reward, idempotency_key="a"), reason="x")
    with pytest.raises(CouponCancelled):
        mark_redemption_used(code=cancelled.code, order_id="O-1")
    late = redeem_reward(member, reward, idempotency_key="b")
    Redemption.objects.filter(pk=late.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    with pytest.raises(CouponExpired):
        mark_redemption_used(code=late.code, order_id="O-1")


def test_staff_fulfil_gifts_and_experiences_but_not_coupons(member, make_reward, fund, staff):
    fund(member, 1000)
    gift = redeem_reward(
        member, make_reward("mug", reward_type="physical_gift", points=100), idempotency_key="a"
    )
    coupon = redeem_reward(member, make_reward("voucher", points=100), idempotency_key="b")
    fulfilled = fulfil_redemption(gift, actor=staff)
    assert fulfilled.status == RedemptionStatus.USED and fulfilled.actor == staff
    with pytest.raises(NotStaffFulfilled):
        fulfil_redemption(coupon, actor=staff)
    with pytest.raises(ActorRequired):
        fulfil_redemption(gift, actor=None)


# Expiry ---------------------------------------------------------------------------------------------------


def test_expired_coupons_return_their_points_under_the_default_policy(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(points=400, stock=1)
    redemption = redeem_reward(member, reward, idempotency_key="a")
    assert expire_redemptions(now=timezone.now() + timedelta(days=31)) == 1
    assert expire_redemptions(now=timezone.now() + timedelta(days=31)) == 0
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.EXPIRED and redemption.return_entry is not None
    assert account_of(member).available == 1000
    assert stock_of(reward) == 1
    assert_books_balance()


def test_expired_coupons_keep_their_points_spent_when_the_policy_forfeits(
    member, make_reward, fund, settings
):
    settings.LOYALTY = {**settings.LOYALTY, "EXPIRED_REWARD_POLICY": "forfeit"}
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(points=400), idempotency_key="a")
    expire_redemptions(now=timezone.now() + timedelta(days=31))
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.EXPIRED and redemption.return_entry is None
    assert account_of(member).available == 600


def test_expiry_leaves_valid_used_and_unlimited_coupons_alone(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(points=100)
    valid = redeem_reward(member, reward, idempotency_key="a")
    used = redeem_reward(member, reward, idempotency_key="b")
    mark_redemption_used(code=used.code, order_id="O-1")
    forever = redeem_reward(member, make_reward("forever", points=100, valid_days=None), idempotency_key="c")
    assert expire_redemptions(now=timezone.now() + timedelta(days=1)) == 0
    statuses = set(
        Redemption.objects.filter(pk__in=[valid.pk, used.pk, forever.pk]).values_list("status", flat=True)
    )
    assert statuses == {RedemptionStatus.ISSUED, RedemptionStatus.USED}


def test_a_cancelled_then_expired_redemption_returns_its_points_only_once(member, make_reward, fund):
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(points=400), idempotency_key="a")
    cancel_redemption(redemption, reason="mistake")
    expire_redemptions(now=timezone.now() + timedelta(days=31))
    assert account_of(member).available == 1000
    assert entries_of(member, entry_type=EntryType.REVERSAL).count() == 1


# Fulfilment backend ---------------------------------------------------------------------------------------


class FailingBackend(CouponBackend):
    def issue(self, redemption):
        raise RuntimeError("the shop is down")


class LowerCaseBackend(CouponBackend):
    def coupon_code(self, redemption):
        return "shop-" + super().coupon_code(redemption).lower()


def test_a_backends_own_codes_are_found_as_issued(member, make_reward, fund, settings):
    settings.LOYALTY = {**settings.LOYALTY, "FULFILMENT_BACKEND": f"{__name__}.LowerCaseBackend"}
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(), idempotency_key="a")
    assert redemption.code.startswith("shop-")
    assert mark_redemption_used(code=redemption.code, order_id="O-1").status == RedemptionStatus.USED


class VoucherBackend(CouponBackend):
    withdrawn: list = []

    def issue(self, redemption):
        redemption.fulfilment_ref = f"voucher-{redemption.code}"

    def withdraw(self, redemption):
        VoucherBackend.withdrawn.append(redemption.code)


def test_a_failing_backend_leaves_nothing_behind(member, make_reward, fund, settings):
    settings.LOYALTY = {**settings.LOYALTY, "FULFILMENT_BACKEND": f"{__name__}.FailingBackend"}
    fund(member, 1000)
    reward = make_reward(stock=1)
    with pytest.raises(RuntimeError):
        redeem_reward(member, reward, idempotency_key="a")
    assert not Redemption.objects.exists()
    assert stock_of(reward) == 1 and account_of(member).available == 1000


def test_a_backend_records_its_voucher_and_withdraws_it_on_cancel(member, make_reward, fund, settings):
    settings.LOYALTY = {**settings.LOYALTY, "FULFILMENT_BACKEND": f"{__name__}.VoucherBackend"}
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(), idempotency_key="a")
    redemption.refresh_from_db()
    assert redemption.fulfilment_ref == f"voucher-{redemption.code}"
    cancel_redemption(redemption, reason="mistake")
    assert VoucherBackend.withdrawn[-1] == redemption.code
