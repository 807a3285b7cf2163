"""Celery tasks: thin, idempotent, enqueued only once the planning transaction commits."""

from datetime import timedelta

from django.utils import timezone

from loyalty import tasks
from loyalty.models import EntryType, ExchangeRate, OrderRecord, Redemption, RedemptionStatus
from loyalty.services import adjust_points, record_order, redeem_reward
from tests.helpers import account_of, entries_of, eur


def test_the_release_task_can_run_twice(member):
    record_order(member, order_id="A1", amount=eur("10.00"))
    OrderRecord.objects.update(release_after=timezone.now() - timedelta(seconds=1))
    assert tasks.release_pending_points.delay().get() == 1
    assert tasks.release_pending_points.delay().get() == 0
    assert account_of(member).available == 10


def test_expiry_fans_out_range_tasks_only_after_commit(
    make_member, staff, settings, django_capture_on_commit_callbacks
):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 1}
    members = [make_member() for _ in range(3)]
    for member in members:
        adjust_points(member, points=10, reason="welcome", actor=staff)
    later = (timezone.now() + timedelta(days=2)).isoformat()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.expire_points.delay(later).get() == 1
    assert all(account_of(member).available == 10 for member in members)
    for callback in callbacks:
        callback()
    assert all(account_of(member).available == 0 for member in members)


def test_an_expiry_range_task_can_run_twice(member, staff, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 1}
    adjust_points(member, points=10, reason="welcome", actor=staff)
    account_id = account_of(member).pk
    later = (timezone.now() + timedelta(days=2)).isoformat()
    assert tasks.expire_points_range.delay(account_id, account_id, later).get() == 10
    assert tasks.expire_points_range.delay(account_id, account_id, later).get() == 0
    assert entries_of(member, entry_type=EntryType.EXPIRY).count() == 1


def test_nothing_to_expire_enqueues_nothing(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert tasks.expire_points.delay().get() == 0
    assert callbacks == []


def test_the_rate_refresh_task_records_rates_each_run(db, settings):
    settings.LOYALTY = {**settings.LOYALTY, "FIXED_EXCHANGE_RATES": {"USD": "1.08", "JPY": "162"}}
    assert tasks.refresh_exchange_rates.delay().get() == 2
    assert tasks.refresh_exchange_rates.delay().get() == 2
    assert ExchangeRate.objects.filter(currency="USD").count() == 2


def test_tier_evaluation_fans_out_over_member_ranges(ladder, make_member, django_capture_on_commit_callbacks):
    from loyalty.models import Member
    from loyalty.services import record_refund

    members = [make_member() for _ in range(3)]
    record_order(members[1], order_id="A1", amount=eur("600.00"))
    record_refund(order_id="A1", refund_id="R1", amount=eur("300.00"))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.evaluate_tiers() == 1
    assert Member.objects.get(pk=members[1].pk).tier.code == "bronze"


def test_the_reward_expiry_task_can_run_twice(member, make_reward, fund):
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(points=400), idempotency_key="a")
    later = (timezone.now() + timedelta(days=31)).isoformat()
    assert tasks.expire_redemptions.delay(later).get() == 1
    assert tasks.expire_redemptions.delay(later).get() == 0
    assert Redemption.objects.get(pk=redemption.pk).status == RedemptionStatus.EXPIRED
    assert account_of(member).available == 1000
