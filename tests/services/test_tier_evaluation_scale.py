"""Tier evaluation is set-based: its query count does not grow with the number of members."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loyalty.models import Member, OutboxEvent, QualifyingEvent, TierChange, TierStatus
from loyalty.services import evaluate_tiers
from loyalty.services.tiers import window_at


def bulk_members(market, tiers, count: int, offset: int) -> None:
    """``count`` members with varied records in the current window; some held a tier last window."""
    now = timezone.now()
    members = Member.objects.bulk_create(
        [
            Member(
                number=f"{offset + i:012d}",
                market=market,
                language="en",
                time_zone="UTC",
                tier=tiers["bronze"],
            )
            for i in range(count)
        ]
    )
    start, end = window_at(members[0], now)
    TierStatus.objects.bulk_create(
        [
            TierStatus(
                member=member,
                window_start=start - timedelta(days=366) if i % 3 == 0 else start,
                window_end=start if i % 3 == 0 else end,
                qualified_tier=tiers["gold"] if i % 3 == 0 else tiers["bronze"],
                paid_tier=tiers["vip"] if i % 7 == 0 else None,
                paid_until=now - timedelta(days=1) if i % 7 == 0 else None,
            )
            for i, member in enumerate(members)
        ]
    )
    QualifyingEvent.objects.bulk_create(
        [
            QualifyingEvent(
                member=member,
                key=f"scale:{member.pk}:{n}",
                occurred_at=now - timedelta(days=n),
                spend=Decimal(150 * (i % 9)),
                status_points=10,
                orders=1,
            )
            for i, member in enumerate(members)
            for n in range(2)
        ]
    )


def evaluation_queries(first: int, last: int) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        result = evaluate_tiers(first_member_id=first, last_member_id=last)
    return len(captured.captured_queries), result.changes


@pytest.mark.slow
def test_evaluating_100_or_2000_members_costs_the_same_queries(ladder, market):
    bulk_members(market, ladder, 100, 0)
    small = Member.objects.order_by("pk").values_list("pk", flat=True)
    small_queries, small_changes = evaluation_queries(small.first(), small.last())
    bulk_members(market, ladder, 2000, 10_000)
    large = Member.objects.filter(number__gte=f"{10_000:012d}").order_by("pk").values_list("pk", flat=True)
    large_queries, large_changes = evaluation_queries(large.first(), large.last())
    assert small_changes > 0 and large_changes > small_changes
    assert small_queries == large_queries


def test_a_second_evaluation_at_the_same_moment_changes_nothing(ladder, market):
    bulk_members(market, ladder, 30, 0)
    now = datetime.now(ZoneInfo("UTC"))
    assert evaluate_tiers(now=now).changes > 0
    assert evaluate_tiers(now=now).changes == 0


def test_with_webhooks_on_evaluating_30_or_300_members_costs_the_same_queries(ladder, market, settings):
    settings.LOYALTY = {**settings.LOYALTY, "WEBHOOK_URL": "http://127.0.0.1:9/events", "WEBHOOK_SECRET": "s"}
    bulk_members(market, ladder, 30, 0)
    small = Member.objects.order_by("pk").values_list("pk", flat=True)
    small_queries, small_changes = evaluation_queries(small.first(), small.last())
    bulk_members(market, ladder, 300, 10_000)
    large = Member.objects.filter(number__gte=f"{10_000:012d}").order_by("pk").values_list("pk", flat=True)
    large_queries, large_changes = evaluation_queries(large.first(), large.last())
    assert small_queries == large_queries
    changes = OutboxEvent.objects.filter(event_type="tier.changed")
    assert changes.count() == small_changes + large_changes == TierChange.objects.count()
    assert {event.payload["to_tier"] for event in changes} <= {tier.code for tier in ladder.values()} | {None}
