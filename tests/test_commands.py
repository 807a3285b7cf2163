"""Management commands: demo seed, audit, expiry and release."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from loyalty.management.commands.loyalty_demo import SHOPPERS
from loyalty.models import (
    LedgerEntry,
    Market,
    Member,
    OrderRecord,
    PointsAccount,
    PointsLot,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardOffer,
)
from loyalty.selectors.arbitrage import check_reward_value
from loyalty.services import adjust_points, record_order, redeem_reward
from tests.helpers import eur


def run(name: str, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=out)
    return out.getvalue()


def test_the_demo_seeds_markets_members_and_history(db):
    output = run("loyalty_demo")
    assert Member.objects.count() == len(SHOPPERS)
    assert LedgerEntry.objects.filter(entry_type="expiry").exists()
    assert LedgerEntry.objects.filter(entry_type="reversal").exists()
    assert "admin / " in output and "alice / " in output


def test_the_demo_seeds_a_catalog_for_every_market_within_each_markets_point_value(db):
    run("loyalty_demo")
    for market in Market.objects.all():
        offers = RewardOffer.objects.filter(market=market)
        assert offers.exists(), market.code
        for offer in offers.exclude(value=None):
            check_reward_value(market, offer.points, offer.value)
    assert Reward.objects.get(code="red-envelope").name_zh_hans == "新春红包"
    assert Redemption.objects.filter(member__user__username="alice").count() == 1


def test_running_the_demo_twice_changes_no_data(db):
    run("loyalty_demo")

    def counts():
        return [model.objects.count() for model in (Member, LedgerEntry, PointsLot, Reward, Redemption)]

    before = counts()
    run("loyalty_demo")
    assert counts() == before


def test_the_audit_passes_on_the_demo_data(db):
    run("loyalty_demo")
    assert f"OK: {len(SHOPPERS)} account(s)" in run("loyalty_audit")


def test_the_audit_fails_with_a_report_after_a_balance_is_corrupted(member, staff):
    adjust_points(member, points=10, reason="welcome", actor=staff)
    PointsAccount.objects.filter(member=member).update(available=25)
    err = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("loyalty_audit", stdout=StringIO(), stderr=err)
    assert failure.value.returncode == 1
    assert f"member {member.number}" in err.getvalue()
    assert "available - debt = sum of entry points: expected 10, found 25" in err.getvalue()


def test_the_audit_notices_lots_that_disagree_with_the_balance(member, staff):
    adjust_points(member, points=10, reason="welcome", actor=staff)
    PointsLot.objects.filter(account__member=member).update(remaining=4)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("loyalty_audit", stdout=StringIO(), stderr=err)
    assert "available = sum of open lots: expected 4, found 10" in err.getvalue()


def test_the_audit_exits_non_zero_from_the_command_line(member, staff):
    adjust_points(member, points=10, reason="welcome", actor=staff)
    PointsAccount.objects.filter(member=member).update(pending=3)
    with pytest.raises(SystemExit) as exit_info:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "loyalty_audit"])
    assert exit_info.value.code == 1


def test_loyalty_release_reports_what_it_released(member):
    record_order(member, order_id="A1", amount=eur("10.00"))
    assert "Released the points of 0 order(s)." in run("loyalty_release")
    OrderRecord.objects.filter(external_id="A1").update(release_after=timezone.now() - timedelta(seconds=1))
    assert "Released the points of 1 order(s)." in run("loyalty_release")
    assert PointsAccount.objects.get(member=member).available == 10


def test_loyalty_expire_reports_what_it_expired(member, staff, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 1}
    adjust_points(member, points=10, reason="welcome", actor=staff)
    assert "Expired 0 point(s)" in run("loyalty_expire")
    PointsLot.objects.filter(account__member=member).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "Expired 10 point(s) from 1 lot(s) in 1 account(s)." in run("loyalty_expire")


def test_loyalty_update_rates_records_the_rates(db, settings):
    settings.LOYALTY = {**settings.LOYALTY, "FIXED_EXCHANGE_RATES": {"USD": "1.08"}}
    assert "Recorded 1 rate(s) against EUR." in run("loyalty_update_rates")


def test_loyalty_update_rates_fails_when_the_new_rates_open_arbitrage(make_market, settings):
    make_market("US", "USD", rate="0.92")
    settings.LOYALTY = {**settings.LOYALTY, "FIXED_EXCHANGE_RATES": {"USD": "10.8"}}
    err = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("loyalty_update_rates", stdout=StringIO(), stderr=err)
    assert failure.value.returncode == 2
    assert "ARBITRAGE earn in US (USD), redeem in" in err.getvalue()


def test_evaluate_tiers_command_reports_progress_and_changes(ladder, member):
    from loyalty.services import record_refund

    record_order(member, order_id="A1", amount=eur("600.00"))
    record_refund(order_id="A1", refund_id="R1", amount=eur("300.00"))
    out = StringIO()
    call_command("loyalty_evaluate_tiers", stdout=out)
    assert "1 member(s) evaluated, 1 tier change(s)" in out.getvalue()
    assert Member.objects.get(pk=member.pk).tier.code == "bronze"


def test_loyalty_expire_rewards_reports_what_it_expired(member, make_reward, fund):
    fund(member, 1000)
    redemption = redeem_reward(member, make_reward(), idempotency_key="a")
    assert "Expired 0 reward(s)." in run("loyalty_expire_rewards")
    Redemption.objects.filter(pk=redemption.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    output = run("loyalty_expire_rewards")
    assert "policy: return_points" in output and "Expired 1 reward(s)." in output
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.EXPIRED
