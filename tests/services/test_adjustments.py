import pytest

from loyalty.exceptions import (
    ActorRequired,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidPoints,
    ReasonRequired,
)
from loyalty.models import EntryType
from loyalty.services import adjust_points
from tests.helpers import account_of, assert_books_balance, entries_of, open_lots


def test_a_credit_records_the_staff_user_and_reason(member, staff):
    entry = adjust_points(member, points=40, reason="Late delivery", actor=staff)
    assert (entry.entry_type, entry.points, entry.actor, entry.reason) == (
        EntryType.ADJUSTMENT,
        40,
        staff,
        "Late delivery",
    )
    assert account_of(member).available == 40
    assert [lot.remaining for lot in open_lots(member)] == [40]


def test_a_debit_takes_from_lots_and_cannot_exceed_the_balance(member, staff):
    adjust_points(member, points=40, reason="credit", actor=staff)
    adjust_points(member, points=-15, reason="correction", actor=staff)
    assert account_of(member).available == 25
    with pytest.raises(InsufficientPoints):
        adjust_points(member, points=-26, reason="correction", actor=staff)
    assert_books_balance()


def test_an_adjustment_needs_a_reason(member, staff):
    with pytest.raises(ReasonRequired):
        adjust_points(member, points=5, reason="", actor=staff)
    assert entries_of(member).count() == 0


def test_an_adjustment_needs_an_actor(member):
    with pytest.raises(ActorRequired):
        adjust_points(member, points=5, reason="goodwill", actor=None)


def test_an_adjustment_of_zero_points_is_refused(member, staff):
    with pytest.raises(InvalidPoints):
        adjust_points(member, points=0, reason="nothing", actor=staff)


def test_an_adjustment_with_a_key_is_applied_once(member, staff):
    for _ in range(5):
        adjust_points(member, points=5, reason="goodwill", actor=staff, idempotency_key="ticket-42")
    assert account_of(member).available == 5


def test_an_adjustment_key_reused_with_other_points_is_a_conflict(member, staff):
    adjust_points(member, points=5, reason="goodwill", actor=staff, idempotency_key="ticket-42")
    with pytest.raises(IdempotencyConflict):
        adjust_points(member, points=6, reason="goodwill", actor=staff, idempotency_key="ticket-42")


def test_an_adjustment_key_reused_for_another_member_is_a_conflict(make_member, staff):
    alice, bob = make_member(), make_member()
    adjust_points(alice, points=5, reason="goodwill", actor=staff, idempotency_key="ticket-42")
    with pytest.raises(IdempotencyConflict):
        adjust_points(bob, points=5, reason="goodwill", actor=staff, idempotency_key="ticket-42")
    assert account_of(bob).available == 0
