"""Every check of the audit notices the damage it is there for, and stays quiet on healthy books."""

import pytest

from loyalty.models import LotAllocation, PointsAccount, PointsLot
from loyalty.selectors import find_discrepancies
from loyalty.services import adjust_points, confirm_order, record_order, record_refund, spend_points
from tests.helpers import eur


def failing(check: str) -> bool:
    """Whether a discrepancy of the named check (its text up to any entry or lot id) was found."""
    return any(problem.check.startswith(check) for problem in find_discrepancies())


@pytest.fixture
def books(member, staff, settings):
    """A history touching every kind of entry, with a debt."""
    settings.LOYALTY = {"NEGATIVE_BALANCE_POLICY": "allow_negative"}
    adjust_points(member, points=100, reason="welcome", actor=staff)
    record_order(member, order_id="A1", amount=eur("50.00"))
    confirm_order(order_id="A1")
    spend_points(member, points=140, idempotency_key="s1", reason="voucher")
    adjust_points(member, points=-5, reason="fix", actor=staff)
    record_refund(order_id="A1", refund_id="R1", amount=eur("50.00"))
    record_order(member, order_id="A2", amount=eur("20.00"))
    confirm_order(order_id="A2")
    return member


def test_healthy_books_with_debt_pass_every_check(books):
    account = PointsAccount.objects.get(member=books)
    assert (account.available, account.debt) == (0, 25)
    assert list(find_discrepancies()) == []


def test_a_wrong_debt_is_noticed(books):
    PointsAccount.objects.filter(member=books).update(debt=20)
    assert failing("debt = sum of entry debt changes")


def test_points_moved_between_lots_are_noticed(member, staff):
    adjust_points(member, points=100, reason="a", actor=staff)
    adjust_points(member, points=50, reason="b", actor=staff)
    spend_points(member, points=40, idempotency_key="s1", reason="voucher")
    first, second = PointsLot.objects.order_by("id")
    PointsLot.objects.filter(pk=first.pk).update(remaining=first.remaining + 10)
    PointsLot.objects.filter(pk=second.pk).update(remaining=second.remaining - 10)
    assert not failing("available = sum of open lots")
    assert failing("remaining points of lot")


def test_a_debit_whose_allocations_are_missing_is_noticed(member, staff):
    adjust_points(member, points=100, reason="a", actor=staff)
    correction = adjust_points(member, points=-30, reason="fix", actor=staff)
    LotAllocation.objects.filter(entry=correction).delete()
    assert failing("lots allocated to entry")


def test_a_credit_whose_lot_is_missing_is_noticed(member, staff):
    credit = adjust_points(member, points=30, reason="a", actor=staff)
    PointsLot.objects.filter(entry=credit).delete()
    assert failing("lot created by entry")
