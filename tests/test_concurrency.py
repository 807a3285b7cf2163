"""Real threads against real PostgreSQL: row locks keep the books right under contention."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from loyalty.exceptions import InsufficientPoints
from loyalty.models import EntryType, LedgerEntry, PointsAccount, PointsLot
from loyalty.services import (
    adjust_points,
    cancel_order,
    confirm_order,
    expire_points,
    record_order,
    record_refund,
    spend_points,
)
from tests.helpers import account_of, assert_books_balance, eur, requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 16


def run_together(target, count: int = THREADS) -> list:
    """Run ``target(i)`` in ``count`` threads released at once; return what each returned or raised."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = target(index)
        except Exception as error:  # noqa: BLE001 (the outcome is asserted by the test)
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return outcomes


def kinds(outcomes: list) -> Counter:
    return Counter(type(outcome).__name__ for outcome in outcomes)


def test_concurrent_spends_never_overdraw_and_succeed_exactly_as_often_as_the_balance_allows(member, staff):
    adjust_points(member, points=100, reason="welcome", actor=staff)
    outcomes = run_together(
        lambda index: spend_points(member, points=15, idempotency_key=f"spend-{index}", reason="voucher")
    )
    assert kinds(outcomes) == Counter({"LedgerEntry": 6, "InsufficientPoints": THREADS - 6})
    assert account_of(member).available == 100 - 6 * 15
    assert_books_balance()


def test_concurrent_replays_of_one_spend_spend_once(member, staff):
    adjust_points(member, points=100, reason="welcome", actor=staff)
    outcomes = run_together(
        lambda index: spend_points(member, points=30, idempotency_key="same", reason="voucher")
    )
    assert len({outcome.pk for outcome in outcomes}) == 1
    assert account_of(member).available == 70


def test_concurrent_deliveries_of_one_order_earn_once(member):
    outcomes = run_together(lambda index: record_order(member, order_id="A1", amount=eur("80.00")))
    assert len({outcome.pk for outcome in outcomes}) == 1
    assert LedgerEntry.objects.filter(entry_type=EntryType.EARN).count() == 1
    assert account_of(member).pending == 80


def test_concurrent_deliveries_of_one_refund_claw_back_once(member):
    record_order(member, order_id="A1", amount=eur("80.00"))
    confirm_order(order_id="A1")
    outcomes = run_together(lambda index: record_refund(order_id="A1", refund_id="R1", amount=eur("40.00")))
    assert len({outcome.pk for outcome in outcomes}) == 1
    assert account_of(member).available == 40


def test_spends_refunds_and_credits_interleaved_on_one_member_neither_deadlock_nor_drift(member, staff):
    for number in range(4):
        record_order(member, order_id=f"A{number}", amount=eur("50.00"))
        confirm_order(order_id=f"A{number}")

    def mixed(index: int):
        if index % 4 == 0:
            return record_refund(order_id=f"A{index // 4}", refund_id="R", amount=eur("25.00"))
        if index % 4 == 1:
            return adjust_points(member, points=5, reason="goodwill", actor=staff)
        return spend_points(member, points=20, idempotency_key=f"s{index}", reason="voucher")

    outcomes = run_together(mixed)
    assert not [
        outcome
        for outcome in outcomes
        if isinstance(outcome, Exception) and not isinstance(outcome, InsufficientPoints)
    ]
    account = PointsAccount.objects.get(member=member)
    assert account.available >= 0
    assert_books_balance()


def test_expiry_racing_spends_keeps_every_point_accounted_for(member, staff, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 30}
    adjust_points(member, points=100, reason="soon expired", actor=staff)
    PointsLot.objects.filter(account__member=member).update(expires_at=timezone.now() - timedelta(minutes=1))
    adjust_points(member, points=100, reason="still valid", actor=staff)

    def race(index: int):
        if index % 2:
            return expire_points()
        return spend_points(member, points=20, idempotency_key=f"s{index}", reason="voucher")

    outcomes = run_together(race)
    assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, InsufficientPoints)]
    account = account_of(member)
    assert account.available + account.lifetime_redeemed + account.lifetime_expired == 200
    assert_books_balance()


def test_confirmations_racing_a_cancellation_leave_nothing_behind(member):
    record_order(member, order_id="A1", amount=eur("80.00"))

    def race(index: int):
        if index == THREADS // 2:
            return cancel_order(order_id="A1")
        return confirm_order(order_id="A1")

    outcomes = run_together(race)
    assert set(kinds(outcomes)) <= {"OrderRecord", "OrderCancelled"}
    account = account_of(member)
    assert (account.available, account.pending) == (0, 0)
    assert LedgerEntry.objects.filter(entry_type=EntryType.REVERSAL).count() == 1
    assert_books_balance()


def test_two_manual_rates_that_break_the_ceiling_only_together_cannot_both_pass(
    rates, staff, market, make_market
):
    from decimal import Decimal

    from loyalty.exceptions import ArbitrageRisk
    from loyalty.services import pin_exchange_rate

    make_market("JP", "JPY", rate="0.006")
    us = make_market("US", "USD", rate="0.92")
    us.point_value_mode, us.point_value = "fixed", Decimal("0.0108")
    us.save()
    pins = [("USD", Decimal("1.04")), ("JPY", Decimal("169"))]

    def pin(index: int):
        currency, rate = pins[index]
        return pin_exchange_rate(currency, rate=rate, reason="race", actor=staff)

    outcomes = run_together(pin, count=2)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["ArbitrageRisk", "ManualExchangeRate"]
    assert isinstance(next(o for o in outcomes if isinstance(o, Exception)), ArbitrageRisk)


def test_concurrent_pins_of_one_currency_leave_one_active_rate(rates, staff):
    from decimal import Decimal

    from loyalty.models import ManualExchangeRate
    from loyalty.services import pin_exchange_rate

    outcomes = run_together(
        lambda index: pin_exchange_rate("USD", rate=Decimal("1.07"), reason=f"pin {index}", actor=staff),
        count=4,
    )
    assert kinds(outcomes) == Counter({"ManualExchangeRate": 4})
    assert ManualExchangeRate.objects.filter(currency="USD", is_active=True).count() == 1
