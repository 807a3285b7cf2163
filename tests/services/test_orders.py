from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from djmoney.money import Money

from loyalty.exceptions import (
    CurrencyNotAccepted,
    IdempotencyConflict,
    InvalidAmount,
    InvalidOrderId,
    InvalidSource,
    InvalidTimestamp,
    MemberClosed,
    OrderCancelled,
    UnknownOrder,
)
from loyalty.models import EntryType, LedgerEntry, MemberStatus, OrderRecord, OrderStatus
from loyalty.services import cancel_order, confirm_order, record_order, record_refund, release_pending_points
from loyalty.services.batch import BatchIncomplete
from loyalty.services.orders import order_key
from tests.helpers import account_of, assert_books_balance, entries_of, eur, open_lots


def test_an_order_earns_pending_points_rounded_down(member):
    order = record_order(member, order_id="A1", amount=eur("129.99"))
    assert order.points == 129
    account = account_of(member)
    assert (account.available, account.pending) == (0, 129)
    entry = entries_of(member).get()
    assert entry.entry_type == EntryType.EARN
    assert entry.pending_points == 129
    assert entry.amount == eur("129.99")
    assert entry.rate == Decimal("1")


def test_replaying_an_order_ten_times_writes_one_earn_entry(member):
    first = record_order(member, order_id="A1", amount=eur("50.00"))
    replies = [record_order(member, order_id="A1", amount=eur("50.00")) for _ in range(10)]
    assert {reply.pk for reply in replies} == {first.pk}
    assert entries_of(member, entry_type=EntryType.EARN).count() == 1
    assert account_of(member).pending == 50


def test_replaying_an_order_with_another_amount_is_a_conflict(member):
    record_order(member, order_id="A1", amount=eur("50.00"))
    with pytest.raises(IdempotencyConflict):
        record_order(member, order_id="A1", amount=eur("60.00"))
    assert account_of(member).pending == 50


def test_replaying_an_order_for_another_member_is_a_conflict(make_member):
    alice, bob = make_member(), make_member()
    record_order(alice, order_id="A1", amount=eur("50.00"))
    with pytest.raises(IdempotencyConflict):
        record_order(bob, order_id="A1", amount=eur("50.00"))
    assert entries_of(bob).count() == 0


def test_the_same_order_id_from_two_sources_is_two_orders(member):
    record_order(member, order_id="A1", amount=eur("10.00"), source="web")
    record_order(member, order_id="A1", amount=eur("20.00"), source="pos")
    assert account_of(member).pending == 30


def test_an_order_in_a_currency_the_market_does_not_use_is_refused(member):
    with pytest.raises(CurrencyNotAccepted):
        record_order(member, order_id="A1", amount=Money("10.00", "USD"))
    assert not OrderRecord.objects.exists()


def test_zero_decimal_and_three_decimal_currencies_earn_exactly(rates, make_member, make_market):
    tokyo = make_member(market=make_market("JP", "JPY", rate="0.01"))
    kuwait = make_member(market=make_market("KW", "KWD", rate="3.25"))
    assert record_order(tokyo, order_id="J1", amount=Money("15800", "JPY")).points == 158
    order = record_order(kuwait, order_id="K1", amount=Money("10.0005", "KWD"))
    assert order.amount == Money("10.001", "KWD")
    assert order.points == 32


@pytest.mark.parametrize(
    "amount", [10, 10.5, Money("0", "EUR"), Money("-3", "EUR")], ids=["int", "float", "zero", "negative"]
)
def test_invalid_order_amounts_write_nothing(member, amount):
    with pytest.raises(InvalidAmount):
        record_order(member, order_id="A1", amount=amount)
    assert not OrderRecord.objects.exists()


@pytest.mark.parametrize("order_id", ["", "   ", None, "x" * 101])
def test_invalid_order_ids_are_refused(member, order_id):
    with pytest.raises(InvalidOrderId):
        record_order(member, order_id=order_id, amount=eur("10.00"))


def test_a_naive_placed_at_is_refused(member):
    with pytest.raises(InvalidTimestamp):
        record_order(
            member, order_id="A1", amount=eur("10.00"), placed_at=timezone.now().replace(tzinfo=None)
        )


def test_an_order_too_small_for_a_point_is_recorded_without_an_entry(member):
    order = record_order(member, order_id="A1", amount=eur("0.99"))
    assert order.points == 0
    assert entries_of(member).count() == 0
    assert confirm_order(order_id="A1").status == OrderStatus.RELEASED


def test_a_closed_member_earns_nothing(member):
    member.status = MemberStatus.CLOSED
    member.save()
    with pytest.raises(MemberClosed):
        record_order(member, order_id="A1", amount=eur("10.00"))


def test_confirming_releases_pending_points_into_a_lot(member, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 30}
    record_order(member, order_id="A1", amount=eur("40.00"))
    now = timezone.now()
    confirm_order(order_id="A1", now=now)
    account = account_of(member)
    assert (account.available, account.pending, account.lifetime_earned) == (40, 0, 40)
    (lot,) = open_lots(member)
    assert lot.remaining == 40
    assert lot.expires_at == now + timedelta(days=30)
    assert_books_balance()


def test_confirming_twice_releases_once(member):
    record_order(member, order_id="A1", amount=eur("40.00"))
    for _ in range(3):
        confirm_order(order_id="A1")
    assert entries_of(member, entry_type=EntryType.RELEASE).count() == 1
    assert account_of(member).available == 40


def test_the_release_job_releases_orders_after_the_return_window(member, settings):
    settings.LOYALTY = {"PENDING_DAYS": 14}
    now = timezone.now()
    record_order(member, order_id="A1", amount=eur("30.00"), placed_at=now)
    record_order(member, order_id="A2", amount=eur("5.00"), placed_at=now)
    assert release_pending_points(now=now + timedelta(days=13)) == 0
    assert release_pending_points(now=now + timedelta(days=14)) == 2
    assert release_pending_points(now=now + timedelta(days=15)) == 0
    assert account_of(member).available == 35
    assert entries_of(member, entry_type=EntryType.RELEASE).count() == 2


def test_released_points_count_from_the_end_of_the_return_window(member, settings):
    settings.LOYALTY = {"PENDING_DAYS": 14, "POINTS_LIFETIME_DAYS": 365}
    placed = timezone.now() - timedelta(days=100)
    record_order(member, order_id="LATE", amount=eur("30.00"), placed_at=placed)
    (lot,) = open_lots(member)
    assert lot.expires_at == placed + timedelta(days=14 + 365)


def test_cancelling_before_release_removes_the_pending_points(member):
    record_order(member, order_id="A1", amount=eur("40.00"))
    cancel_order(order_id="A1")
    account = account_of(member)
    assert (account.available, account.pending) == (0, 0)
    reversal = entries_of(member, entry_type=EntryType.REVERSAL).get()
    assert reversal.pending_points == -40
    assert reversal.corrects == entries_of(member, entry_type=EntryType.EARN).get()


def test_cancelling_twice_reverses_once(member):
    record_order(member, order_id="A1", amount=eur("40.00"))
    for _ in range(3):
        cancel_order(order_id="A1")
    assert entries_of(member, entry_type=EntryType.REVERSAL).count() == 1


def test_a_cancelled_order_cannot_be_confirmed_or_released(member):
    record_order(member, order_id="A1", amount=eur("40.00"))
    cancel_order(order_id="A1")
    with pytest.raises(OrderCancelled):
        confirm_order(order_id="A1")
    assert release_pending_points(now=timezone.now() + timedelta(days=400)) == 0
    assert account_of(member).available == 0


def test_cancelling_after_release_takes_the_points_back(member):
    record_order(member, order_id="A1", amount=eur("40.00"))
    confirm_order(order_id="A1")
    cancel_order(order_id="A1")
    account = account_of(member)
    assert (account.available, account.lifetime_earned) == (0, 0)
    assert open_lots(member) == []
    assert_books_balance()


@pytest.mark.parametrize("call", [confirm_order, cancel_order])
def test_unknown_orders_are_reported(db, call):
    with pytest.raises(UnknownOrder):
        call(order_id="missing")


def test_ids_containing_colons_never_share_an_idempotency_key(member):
    record_order(member, order_id="X", amount=eur("10.00"))
    record_order(member, order_id="X:refund:Y", amount=eur("20.00"))
    confirm_order(order_id="X")
    record_refund(order_id="X", refund_id="Y:release", amount=eur("5.00"))
    confirm_order(order_id="X:refund:Y")
    record_order(member, order_id="b:c", amount=eur("1.00"), source="a")
    record_order(member, order_id="c", amount=eur("2.00"), source="a:b")
    account = account_of(member)
    assert (account.available, account.pending) == (25, 3)
    assert_books_balance()


def test_an_overlong_source_is_refused(member):
    with pytest.raises(InvalidSource):
        record_order(member, order_id="A1", amount=eur("10.00"), source="s" * 51)


def test_amounts_and_points_beyond_what_the_books_hold_are_refused(member, market):
    with pytest.raises(InvalidAmount):
        record_order(member, order_id="A1", amount=eur("1000000000000000"))
    market.points_per_unit = Decimal("99999999")
    market.save()
    with pytest.raises(InvalidAmount):
        record_order(member, order_id="A2", amount=eur("100000000"))
    assert not OrderRecord.objects.exists()


def test_a_failing_order_does_not_hold_back_the_release_of_the_others(make_member, caplog):
    first, second = make_member(), make_member()
    record_order(first, order_id="BROKEN", amount=eur("10.00"))
    record_order(second, order_id="FINE", amount=eur("10.00"))
    # A stray entry already holding the release key makes releasing BROKEN fail in the database.
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                account=account_of(first),
                entry_type=EntryType.ADJUSTMENT,
                points=1,
                balance_after=1,
                pending_after=0,
                source="test",
                idempotency_key=order_key("shop", "BROKEN", "release"),
            )
        ]
    )
    with pytest.raises(BatchIncomplete, match="1 failed"):
        release_pending_points(now=timezone.now() + timedelta(days=30))
    assert account_of(second).available == 10
    assert OrderRecord.objects.get(external_id="BROKEN").status == OrderStatus.PENDING
    assert "Could not release" in caplog.text
