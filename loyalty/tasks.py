"""Celery tasks: thin wrappers over the batch services, safe to run twice.

``expire_points``, ``release_pending_points``, ``evaluate_tiers``, ``award_birthday_bonuses``,
``close_challenges`` and ``expire_redemptions`` are meant for Celery beat. Expiry and tier
evaluation fan out over id ranges so that more workers finish sooner; each range is enqueued only
once the transaction that planned it has committed.
"""

from celery import shared_task
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import services
from .models import PointsLot, TierStatus

EXPIRY_RANGE_SIZE = 10_000
TIER_RANGE_SIZE = 5_000

RETRY = {"autoretry_for": (Exception,), "retry_backoff": True, "retry_jitter": True, "max_retries": 5}


@shared_task(name="loyalty.tasks.release_pending_points", **RETRY)
def release_pending_points(now: str | None = None) -> int:
    """Release the points of orders whose return window ended; returns how many orders."""
    return services.release_pending_points(now=_when(now))


@shared_task(name="loyalty.tasks.refresh_exchange_rates", **RETRY)
def refresh_exchange_rates() -> int:
    """Fetch exchange rates into the rate history; returns how many were recorded."""
    return services.refresh_exchange_rates()


@shared_task(name="loyalty.tasks.expire_points")
def expire_points(now: str | None = None) -> int:
    """Plan expiry over account-id ranges and enqueue one task per range; returns how many ranges."""
    moment = _when(now)
    bounds = PointsLot.objects.filter(expires_at__lte=moment, remaining__gt=0).aggregate(
        first=Min("account_id"), last=Max("account_id")
    )
    return _fan_out(expire_points_range, bounds, EXPIRY_RANGE_SIZE, moment)


@shared_task(name="loyalty.tasks.expire_points_range", **RETRY)
def expire_points_range(first_account_id: int, last_account_id: int, now: str) -> int:
    """Expire due lots of accounts ``first_account_id..last_account_id``; returns the points expired."""
    result = services.expire_points(
        now=_when(now), first_account_id=first_account_id, last_account_id=last_account_id
    )
    return result.points


@shared_task(name="loyalty.tasks.evaluate_tiers")
def evaluate_tiers(now: str | None = None) -> int:
    """Plan tier evaluation over member-id ranges and enqueue one task per range; returns how many."""
    moment = _when(now)
    bounds = TierStatus.objects.aggregate(first=Min("member_id"), last=Max("member_id"))
    return _fan_out(evaluate_tiers_range, bounds, TIER_RANGE_SIZE, moment)


@shared_task(name="loyalty.tasks.evaluate_tiers_range", **RETRY)
def evaluate_tiers_range(first_member_id: int, last_member_id: int, now: str) -> int:
    """Evaluate the tiers of members ``first_member_id..last_member_id``; returns how many tiers changed."""
    result = services.evaluate_tiers(
        now=_when(now), first_member_id=first_member_id, last_member_id=last_member_id
    )
    return result.changes


@shared_task(name="loyalty.tasks.award_birthday_bonuses", **RETRY)
def award_birthday_bonuses(now: str | None = None) -> int:
    """Pay birthday bonuses due now in each member's time zone; returns how many members were paid."""
    return services.award_birthday_bonuses(now=_when(now))


@shared_task(name="loyalty.tasks.close_challenges", **RETRY)
def close_challenges(now: str | None = None) -> int:
    """Close challenges whose period ended; returns how many."""
    return services.close_challenges(now=_when(now))


def _fan_out(task, bounds: dict, size: int, moment) -> int:
    """Enqueue ``task(first, last, moment)`` per id range of ``bounds`` once the transaction commits."""
    if bounds["first"] is None:
        return 0
    ranges = [
        (start, min(start + size - 1, bounds["last"]))
        for start in range(bounds["first"], bounds["last"] + 1, size)
    ]
    for first, last in ranges:
        transaction.on_commit(lambda first=first, last=last: task.delay(first, last, moment.isoformat()))
    return len(ranges)


def _when(value: str | None):
    return parse_datetime(value) if value else timezone.now()


@shared_task(name="loyalty.tasks.expire_redemptions", **RETRY)
def expire_redemptions(now: str | None = None) -> int:
    """Expire rewards whose validity ended unused (``EXPIRED_REWARD_POLICY``); returns how many."""
    return services.expire_redemptions(now=_when(now))


@shared_task(name="loyalty.tasks.apply_retention", **RETRY)
def apply_retention(now: str | None = None) -> int:
    """Apply the retention policies; returns how many rows were erased or purged."""
    return sum(run.affected for run in services.apply_retention(now=_when(now)))


@shared_task(name="loyalty.tasks.deliver_webhook")
def deliver_webhook(event_pk: int) -> bool:
    """Deliver one outgoing event if it is due; the outbox itself schedules retries, not Celery."""
    outcome = services.deliver_event(event_pk)
    return outcome is not None and outcome.delivered


@shared_task(name="loyalty.tasks.deliver_webhooks")
def deliver_webhooks(now: str | None = None) -> int:
    """Sweep the outbox: deliver what is due (after a retry delay, or lost by the broker), purge the old.

    Without ``now``, each delivery reads the clock itself: a sweep may take minutes.
    """
    moment = parse_datetime(now) if now else None
    services.purge_delivered_events(now=moment)
    return services.deliver_due_events(now=moment)
