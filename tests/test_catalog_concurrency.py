"""Real threads against real PostgreSQL: stock, balances and idempotency keys hold under contention."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.models import EntryType, Redemption, RedemptionStatus, RewardOffer
from loyalty.services import cancel_redemption, expire_redemptions, redeem_reward
from tests.helpers import account_of, assert_books_balance, entries_of, requires_postgres
from tests.test_concurrency import kinds, run_together

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_members_racing_for_the_last_unit_leave_one_winner_and_no_negative_stock(
    make_member, make_reward, fund
):
    reward = make_reward(points=100, stock=1)
    members = [make_member() for _ in range(20)]
    for member in members:
        fund(member, 100)
    outcomes = run_together(
        lambda index: redeem_reward(members[index], reward, idempotency_key=f"last-{index}"), count=20
    )
    assert kinds(outcomes) == Counter({"Redemption": 1, "RewardUnavailable": 19})
    assert RewardOffer.objects.get(reward=reward).stock == 0
    assert Redemption.objects.count() == 1
    winner = next(outcome for outcome in outcomes if isinstance(outcome, Redemption)).member
    assert sorted(account_of(member).available for member in members) == [0] + [100] * 19
    assert account_of(winner).available == 0
    assert_books_balance()


def test_ten_concurrent_redemptions_beyond_the_balance_succeed_exactly_as_often_as_affordable(
    member, make_reward, fund
):
    fund(member, 1000)
    reward = make_reward(points=300)
    outcomes = run_together(
        lambda index: redeem_reward(member, reward, idempotency_key=f"burst-{index}"), count=10
    )
    assert kinds(outcomes) == Counter({"Redemption": 3, "InsufficientPoints": 7})
    assert account_of(member).available == 100
    assert Redemption.objects.filter(member=member).count() == 3
    assert_books_balance()


def test_concurrent_replays_of_one_redeem_request_spend_once(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(points=300)
    outcomes = run_together(lambda index: redeem_reward(member, reward, idempotency_key="same"), count=10)
    assert kinds(outcomes) == Counter({"Redemption": 10})
    assert len({outcome.pk for outcome in outcomes}) == 1
    assert account_of(member).available == 700
    assert entries_of(member, entry_type=EntryType.REDEEM).count() == 1


def test_staff_cancellations_racing_the_expiry_job_return_the_points_once(member, make_reward, fund, staff):
    fund(member, 1000)
    reward = make_reward(points=400, stock=5)
    redemption = redeem_reward(member, reward, idempotency_key="a")
    Redemption.objects.filter(pk=redemption.pk).update(valid_until=timezone.now() - timedelta(seconds=1))

    def race(index: int):
        if index % 2:
            return expire_redemptions()
        return cancel_redemption(redemption, reason="race", actor=staff)

    run_together(race, count=8)
    redemption.refresh_from_db()
    assert redemption.status in (RedemptionStatus.CANCELLED, RedemptionStatus.EXPIRED)
    assert entries_of(member, entry_type=EntryType.REVERSAL).count() == 1
    assert account_of(member).available == 1000
    assert RewardOffer.objects.get(reward=reward).stock == 5
    assert_books_balance()


def test_a_limit_of_one_per_member_holds_under_concurrent_redemptions(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(points=100, limit_per_member=1)
    outcomes = run_together(
        lambda index: redeem_reward(member, reward, idempotency_key=f"limit-{index}"), count=8
    )
    assert kinds(outcomes) == Counter({"Redemption": 1, "RedemptionLimitReached": 7})
    assert account_of(member).available == 900
