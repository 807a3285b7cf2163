"""The write path costs a fixed number of queries, however long the history and however many lots."""

import pytest

from loyalty.services import adjust_points, record_order, spend_points
from loyalty.testing import bulk_history
from tests.helpers import eur


def lots_of(member, staff, count: int) -> None:
    for number in range(count):
        adjust_points(
            member, points=1, reason="lot", actor=staff, idempotency_key=f"lot-{member.pk}-{number}"
        )


@pytest.mark.parametrize("history", [0, 2_000])
def test_recording_an_order_costs_the_same_queries_whatever_the_history(
    member, history, django_assert_num_queries
):
    bulk_history(member, history)
    with django_assert_num_queries(14):
        record_order(member, order_id="A1", amount=eur("10.00"))


def test_spending_from_one_lot_or_fifty_costs_the_same_queries(make_member, staff, django_assert_num_queries):
    counts = []
    for lots in (1, 50):
        member = make_member()
        lots_of(member, staff, lots)
        with django_assert_num_queries(9) as captured:
            spend_points(member, points=lots, idempotency_key="k1", reason="voucher")
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
