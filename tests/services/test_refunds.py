from datetime import timedelta

import pytest
from django.utils import timezone
from djmoney.money import Money

from loyalty.exceptions import IdempotencyConflict, InvalidAmount, InvalidRefundId
from loyalty.models import EntryType, RefundRecord
from loyalty.services import (
    adjust_points,
    cancel_order,
    confirm_order,
    expire_points,
    record_order,
    record_refund,
    spend_points,
)
from tests.helpers import account_of, assert_books_balance, entries_of, eur, open_lots


@pytest.fixture
def released_order(member):
    record_order(member, order_id="A1", amount=eur("100.00"))
    return confirm_order(order_id="A1")


def test_a_partial_refund_claws_back_points_in_proportion(member, released_order):
    record_refund(order_id="A1", refund_id="R1", amount=eur("25.00"))
    account = account_of(member)
    assert account.available == 75
    reversal = entries_of(member, entry_type=EntryType.REVERSAL).get()
    assert reversal.points == -25
    assert reversal.corrects == entries_of(member, entry_type=EntryType.RELEASE).get()
    assert_books_balance()


def test_replaying_a_refund_ten_times_claws_back_once(member, released_order):
    first = record_refund(order_id="A1", refund_id="R1", amount=eur("25.00"))
    replies = [record_refund(order_id="A1", refund_id="R1", amount=eur("25.00")) for _ in range(10)]
    assert {reply.pk for reply in replies} == {first.pk}
    assert entries_of(member, entry_type=EntryType.REVERSAL).count() == 1
    assert account_of(member).available == 75


def test_replaying_a_refund_with_another_amount_is_a_conflict(member, released_order):
    record_refund(order_id="A1", refund_id="R1", amount=eur("25.00"))
    with pytest.raises(IdempotencyConflict):
        record_refund(order_id="A1", refund_id="R1", amount=eur("30.00"))
    assert account_of(member).available == 75


def test_partial_refunds_adding_up_to_the_order_claw_back_every_point(member):
    record_order(member, order_id="A1", amount=eur("33.33"))
    confirm_order(order_id="A1")
    for number in range(3):
        record_refund(order_id="A1", refund_id=f"R{number}", amount=eur("11.11"))
    assert account_of(member).available == 0
    assert sum(entry.points for entry in entries_of(member, entry_type=EntryType.REVERSAL)) == -33


def test_a_refund_larger_than_what_remains_is_refused_and_writes_nothing(member, released_order):
    record_refund(order_id="A1", refund_id="R1", amount=eur("90.00"))
    with pytest.raises(InvalidAmount):
        record_refund(order_id="A1", refund_id="R2", amount=eur("10.01"))
    assert RefundRecord.objects.count() == 1
    assert account_of(member).available == 10


def test_a_refund_in_another_currency_is_refused(member, released_order):
    with pytest.raises(InvalidAmount):
        record_refund(order_id="A1", refund_id="R1", amount=Money("10.00", "USD"))


def test_a_refund_before_release_reduces_pending_and_the_release_releases_the_rest(member):
    record_order(member, order_id="A1", amount=eur("100.00"))
    record_refund(order_id="A1", refund_id="R1", amount=eur("40.00"))
    assert account_of(member).pending == 60
    confirm_order(order_id="A1")
    account = account_of(member)
    assert (account.available, account.pending, account.lifetime_earned) == (60, 0, 60)
    assert_books_balance()


def test_a_clawback_takes_from_the_refunded_orders_own_lot_first(member, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 365}
    record_order(member, order_id="OLD", amount=eur("50.00"), placed_at=timezone.now() - timedelta(days=200))
    record_order(member, order_id="A1", amount=eur("100.00"))
    confirm_order(order_id="A1")
    record_refund(order_id="A1", refund_id="R1", amount=eur("50.00"))
    remaining = {lot.order.external_id: lot.remaining for lot in open_lots(member)}
    assert remaining == {"OLD": 50, "A1": 50}


def test_clamp_to_zero_writes_off_points_already_spent(member, released_order, settings):
    settings.LOYALTY = {"NEGATIVE_BALANCE_POLICY": "clamp_to_zero"}
    spend_points(member, points=90, idempotency_key="s1", reason="voucher")
    record_refund(order_id="A1", refund_id="R1", amount=eur("50.00"))
    account = account_of(member)
    assert (account.available, account.debt) == (0, 0)
    reversal = entries_of(member, entry_type=EntryType.REVERSAL).get()
    assert (reversal.points, reversal.written_off) == (-10, 40)
    assert_books_balance()


def test_allow_negative_records_a_debt_that_later_earnings_pay_off(member, released_order, settings, staff):
    settings.LOYALTY = {"NEGATIVE_BALANCE_POLICY": "allow_negative"}
    spend_points(member, points=90, idempotency_key="s1", reason="voucher")
    record_refund(order_id="A1", refund_id="R1", amount=eur("50.00"))
    account = account_of(member)
    assert (account.available, account.debt, account.balance) == (0, 40, -40)
    record_order(member, order_id="A2", amount=eur("55.00"))
    confirm_order(order_id="A2")
    account = account_of(member)
    assert (account.available, account.debt) == (15, 0)
    assert_books_balance()
    assert sum(lot.remaining for lot in open_lots(member)) == 15


def test_a_refund_after_cancellation_claws_back_nothing_more(member, released_order):
    cancel_order(order_id="A1")
    refund = record_refund(order_id="A1", refund_id="R1", amount=eur("100.00"))
    assert refund.points == 0
    assert entries_of(member, entry_type=EntryType.REVERSAL).count() == 1


def test_a_debt_is_paid_off_by_a_staff_credit_too(member, released_order, settings, staff):
    settings.LOYALTY = {"NEGATIVE_BALANCE_POLICY": "allow_negative"}
    spend_points(member, points=100, idempotency_key="s1", reason="voucher")
    record_refund(order_id="A1", refund_id="R1", amount=eur("100.00"))
    adjust_points(member, points=30, reason="goodwill", actor=staff)
    account = account_of(member)
    assert (account.available, account.debt) == (0, 70)
    assert_books_balance()


def expire_everything_due(days: int) -> None:
    expire_points(now=timezone.now() + timedelta(days=days))


def test_a_refund_after_the_orders_points_expired_creates_no_debt(member, settings):
    settings.LOYALTY = {"NEGATIVE_BALANCE_POLICY": "allow_negative", "POINTS_LIFETIME_DAYS": 30}
    record_order(member, order_id="A1", amount=eur("100.00"))
    confirm_order(order_id="A1")
    expire_everything_due(31)
    record_refund(order_id="A1", refund_id="R1", amount=eur("100.00"))
    account = account_of(member)
    assert (account.available, account.debt) == (0, 0)
    reversal = entries_of(member, entry_type=EntryType.REVERSAL).get()
    assert (reversal.points, reversal.written_off) == (0, 100)
    assert_books_balance()


def test_a_refund_after_expiry_leaves_the_points_of_other_orders_alone(member, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 30}
    record_order(member, order_id="OLD", amount=eur("100.00"), placed_at=timezone.now() - timedelta(days=60))
    expire_points()
    record_order(member, order_id="NEW", amount=eur("100.00"))
    confirm_order(order_id="NEW")
    record_refund(order_id="OLD", refund_id="R1", amount=eur("100.00"))
    assert account_of(member).available == 100
    assert_books_balance()


def test_only_the_spent_part_of_a_partly_expired_order_is_clawed_back(member, settings):
    settings.LOYALTY = {"NEGATIVE_BALANCE_POLICY": "allow_negative", "POINTS_LIFETIME_DAYS": 30}
    record_order(member, order_id="A1", amount=eur("100.00"))
    confirm_order(order_id="A1")
    spend_points(member, points=60, idempotency_key="s1", reason="voucher")
    expire_everything_due(31)
    record_refund(order_id="A1", refund_id="R1", amount=eur("50.00"))
    record_refund(order_id="A1", refund_id="R2", amount=eur("50.00"))
    account = account_of(member)
    assert (account.available, account.debt, account.balance) == (0, 60, -60)
    assert sum(entry.written_off for entry in entries_of(member, entry_type=EntryType.REVERSAL)) == 40
    assert_books_balance()


@pytest.mark.parametrize("refund_id", ["", None, "r" * 101])
def test_invalid_refund_ids_are_refused(member, released_order, refund_id):
    with pytest.raises(InvalidRefundId):
        record_refund(order_id="A1", refund_id=refund_id, amount=eur("1.00"))
    assert not RefundRecord.objects.exists()
