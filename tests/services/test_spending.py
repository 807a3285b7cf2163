from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.exceptions import (
    IdempotencyConflict,
    InsufficientPoints,
    InvalidIdempotencyKey,
    InvalidPoints,
    MemberClosed,
    MemberFrozen,
    ReasonRequired,
)
from loyalty.models import EntryType, LotAllocation, MemberStatus
from loyalty.services import confirm_order, record_order, spend_points
from tests.helpers import account_of, assert_books_balance, entries_of, eur, open_lots


def give(member, order_id: str, amount: str, *, days_ago: int = 0):
    record_order(
        member, order_id=order_id, amount=eur(amount), placed_at=timezone.now() - timedelta(days=days_ago)
    )
    confirm_order(order_id=order_id)


def test_spending_reduces_the_available_balance(member):
    give(member, "A1", "100")
    entry = spend_points(member, points=30, idempotency_key="k1", reason="voucher")
    assert (entry.points, entry.balance_after, entry.entry_type) == (-30, 70, EntryType.REDEEM)
    account = account_of(member)
    assert (account.available, account.lifetime_redeemed) == (70, 30)


def test_replaying_a_spend_ten_times_spends_once(member):
    give(member, "A1", "100")
    first = spend_points(member, points=30, idempotency_key="k1", reason="voucher")
    replies = [spend_points(member, points=30, idempotency_key="k1", reason="voucher") for _ in range(10)]
    assert {reply.pk for reply in replies} == {first.pk}
    assert account_of(member).available == 70


def test_replaying_a_spend_key_with_other_points_is_a_conflict(member):
    give(member, "A1", "100")
    spend_points(member, points=30, idempotency_key="k1", reason="voucher")
    with pytest.raises(IdempotencyConflict):
        spend_points(member, points=31, idempotency_key="k1", reason="voucher")


def test_two_members_may_use_the_same_key(make_member):
    alice, bob = make_member(), make_member()
    give(alice, "A1", "10")
    give(bob, "B1", "10")
    spend_points(alice, points=5, idempotency_key="checkout-1", reason="voucher")
    spend_points(bob, points=5, idempotency_key="checkout-1", reason="voucher")
    assert account_of(bob).available == 5


def test_spending_more_than_available_fails_and_writes_nothing(member):
    give(member, "A1", "10")
    with pytest.raises(InsufficientPoints):
        spend_points(member, points=11, idempotency_key="k1", reason="voucher")
    assert entries_of(member, entry_type=EntryType.REDEEM).count() == 0
    assert account_of(member).available == 10


def test_pending_points_cannot_be_spent(member):
    record_order(member, order_id="A1", amount=eur("100"))
    with pytest.raises(InsufficientPoints):
        spend_points(member, points=1, idempotency_key="k1", reason="voucher")


@pytest.mark.parametrize(
    ("status", "error"), [(MemberStatus.FROZEN, MemberFrozen), (MemberStatus.CLOSED, MemberClosed)]
)
def test_frozen_and_closed_members_cannot_spend(member, status, error):
    give(member, "A1", "10")
    member.status = status
    member.save()
    with pytest.raises(error):
        spend_points(member, points=1, idempotency_key="k1", reason="voucher")


@pytest.mark.parametrize("points", [0, -5, 1.5, True, "3"])
def test_points_must_be_a_positive_whole_number(member, points):
    with pytest.raises(InvalidPoints):
        spend_points(member, points=points, idempotency_key="k1", reason="voucher")


def test_a_spend_needs_a_key_and_a_reason(member):
    give(member, "A1", "10")
    with pytest.raises(InvalidIdempotencyKey):
        spend_points(member, points=1, idempotency_key="", reason="voucher")
    with pytest.raises(ReasonRequired):
        spend_points(member, points=1, idempotency_key="k1", reason="  ")


def test_spending_uses_the_soonest_expiring_lots_first(member):
    give(member, "LATE", "30", days_ago=1)
    give(member, "SOON", "20", days_ago=300)
    give(member, "MID", "10", days_ago=100)
    entry = spend_points(member, points=25, idempotency_key="k1", reason="voucher")
    remaining = {lot.order.external_id: lot.remaining for lot in open_lots(member)}
    assert remaining == {"MID": 5, "LATE": 30}
    taken = {a.lot.order.external_id: a.points for a in LotAllocation.objects.filter(entry=entry)}
    assert taken == {"SOON": 20, "MID": 5}
    assert_books_balance()
