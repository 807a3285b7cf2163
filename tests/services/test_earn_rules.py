"""Earning rules: points modes, conditions, limits, explicit precedence and the simulator."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from djmoney.money import Money

from loyalty.models import EarnContribution, EarnRule, LedgerEntry, OrderRecord
from loyalty.services import cancel_order, record_order, simulate_order
from tests.helpers import eur


def rule(code: str, **fields) -> EarnRule:
    fields.setdefault("event", "purchase")
    fields.setdefault("name", code)
    if "multiplier" in fields:
        fields.setdefault("mode", "multiplier")
    elif "points_per_unit" in fields:
        fields.setdefault("mode", "per_unit")
    markets = fields.pop("markets", ())
    tiers = fields.pop("tiers", ())
    created = EarnRule.objects.create(code=code, **fields)
    created.markets.set(markets)
    created.tiers.set(tiers)
    return created


def parts_of(order: OrderRecord) -> list[tuple[str, str | None, int]]:
    return [
        (part.kind, part.rule.code if part.rule else None, part.points)
        for part in EarnContribution.objects.filter(order=order).select_related("rule")
    ]


def test_each_earn_entry_stores_what_every_rule_contributed(member):
    rule("welcome-bag", fixed_points=50)
    rule("double", multiplier=Decimal("2"))
    order = record_order(member, order_id="A1", amount=eur("40.00"))
    assert order.points == 40 + 40 + 50
    assert sorted(parts_of(order)) == [
        ("base", None, 40),
        ("rule", "double", 40),
        ("rule", "welcome-bag", 50),
    ]
    entry = LedgerEntry.objects.get(source_ref="A1", entry_type="earn")
    assert sum(part.points for part in entry.contributions.all()) == entry.pending_points


def test_per_unit_rules_count_the_order_in_the_base_currency(rates, make_market, make_member):
    usa = make_market("US", "USD")
    member = make_member(market=usa)
    rule("per-euro", points_per_unit=Decimal("2"))
    order = record_order(member, order_id="U1", amount=Money("108.00", "USD"))
    assert ("rule", "per-euro", 200) in parts_of(order)
    assert order.qualifying_spend == Decimal("100.00")


def test_the_tier_multiplier_adds_a_tier_bonus_that_does_not_count_as_status_points(ladder, member):
    record_order(member, order_id="A1", amount=eur("600.00"))  # now Silver (x1.25)
    order = record_order(member, order_id="A2", amount=eur("100.00"))
    assert ("tier", None, 25) in parts_of(order)
    assert order.points == 125
    assert order.status_points == 100


def test_a_campaign_applies_only_in_its_market_and_on_its_local_days(rates, make_market, make_member):
    china = make_market("CN", "CNY", time_zone="Asia/Shanghai")
    europe = make_market("EU2", "EUR")
    shopper, other = make_member(market=china), make_member(market=europe)
    today = timezone.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    rule("lunar-new-year", multiplier=Decimal("2"), markets=[china], starts_on=today, ends_on=today)
    rule("last-year", multiplier=Decimal("3"), markets=[china], ends_on=today - timedelta(days=1), priority=1)
    assert ("rule", "lunar-new-year", 780) in parts_of(
        record_order(shopper, order_id="C1", amount=Money("780", "CNY"))
    )
    assert parts_of(record_order(other, order_id="E1", amount=eur("100.00"))) == [("base", None, 100)]


def test_a_weekday_rule_fires_only_on_those_days_in_the_market_time_zone(member):
    sunday = datetime(2026, 11, 22, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    rule("weekend", fixed_points=10, weekdays=[5, 6])
    assert simulate_order(member, eur("10.00"), at=sunday).points == 20
    assert simulate_order(member, eur("10.00"), at=sunday + timedelta(days=1)).points == 10


def test_a_category_rule_counts_only_the_matching_lines(member):
    rule("shoes-triple", multiplier=Decimal("3"), categories=["shoes"])
    lines = [
        {"sku": "BOOT-1", "category": "shoes", "amount": eur("60.00")},
        {"sku": "SOCK-1", "category": "socks", "amount": eur("40.00")},
    ]
    assert simulate_order(member, eur("100.00"), lines).points == 100 + 120
    assert simulate_order(member, eur("100.00"), [{"sku": "SOCK-1", "category": "socks"}]).points == 100


def test_a_sku_rule_needs_the_sku_in_the_order(member):
    rule("mug-bonus", fixed_points=30, skus=["MUG"])
    assert simulate_order(member, eur("10.00"), [{"sku": "MUG"}]).points == 40
    assert simulate_order(member, eur("10.00"), [{"sku": "CUP"}]).points == 10


def test_a_minimum_order_amount_is_enforced_in_the_base_currency(rates, make_market, make_member):
    member = make_member(market=make_market("JP", "JPY", rate="0.01"))
    rule("big-basket", fixed_points=500, min_order_amount=Decimal("100"))
    assert simulate_order(member, Money("16199", "JPY")).points == 161
    assert simulate_order(member, Money("16200", "JPY")).points == 162 + 500


def test_the_per_member_limit_counts_awards_in_the_period(member, make_member):
    rule("once-a-month", fixed_points=100, limit_per_member=1, limit_period="month")
    assert record_order(member, order_id="A1", amount=eur("10.00")).points == 110
    assert record_order(member, order_id="A2", amount=eur("10.00")).points == 10
    assert record_order(make_member(), order_id="B1", amount=eur("10.00")).points == 110


def test_a_cancelled_order_gives_back_its_place_under_the_limit(member):
    rule("once", fixed_points=100, limit_per_member=1)
    record_order(member, order_id="A1", amount=eur("10.00"))
    cancel_order(order_id="A1")
    assert record_order(member, order_id="A2", amount=eur("10.00")).points == 110


def test_the_first_n_members_cap_stops_after_n_members(make_member):
    rule("first-two", fixed_points=100, max_members=2)
    earned = [record_order(make_member(), order_id=f"O{n}", amount=eur("10.00")).points for n in range(3)]
    assert earned == [110, 110, 10]


def test_a_first_order_rule_pays_only_on_the_first_order(member):
    rule("first", event="first_order", fixed_points=200)
    assert record_order(member, order_id="A1", amount=eur("10.00")).points == 210
    assert record_order(member, order_id="A2", amount=eur("10.00")).points == 10


def test_rules_run_from_the_highest_priority_and_stop_processing_ends_the_run(member):
    rule("low", fixed_points=1, priority=1)
    rule("high-stop", fixed_points=100, priority=10, stop_processing=True)
    assert simulate_order(member, eur("10.00")).points == 10 + 100


def test_a_rule_that_is_not_stackable_never_joins_rules_that_fired_before_it(member):
    rule("high", fixed_points=100, priority=10)
    rule("exclusive", fixed_points=500, priority=5, stackable=False)
    rule("low", fixed_points=1, priority=1)
    assert simulate_order(member, eur("10.00")).points == 10 + 100 + 1


def test_a_rule_that_is_not_stackable_fires_alone_when_first(member):
    rule("exclusive", fixed_points=500, priority=10, stackable=False)
    rule("low", fixed_points=1, priority=1)
    assert simulate_order(member, eur("10.00")).points == 10 + 500


def test_two_rules_with_equal_priority_and_no_stacking_decision_are_refused_when_saved(db):
    rule("a", fixed_points=1, priority=5, stackable=False)
    with pytest.raises(ValidationError) as refused:
        rule("b", fixed_points=2, priority=5)
    assert "a" in str(refused.value)
    assert EarnRule.objects.count() == 1


def test_equal_priority_is_fine_when_both_rules_stack(db):
    rule("a", fixed_points=1, priority=5)
    rule("b", fixed_points=2, priority=5)
    assert EarnRule.objects.count() == 2


def test_the_simulator_result_equals_what_the_real_order_then_earns(ladder, member):
    rule("double", multiplier=Decimal("2"), priority=3)
    rule("shoes", fixed_points=25, categories=["shoes"], priority=2)
    rule("first", event="first_order", fixed_points=200, priority=1)
    lines = [{"sku": "BOOT", "category": "shoes", "amount": eur("70.00")}]
    simulated = simulate_order(member, eur("70.00"), lines)
    order = record_order(member, order_id="A1", amount=eur("70.00"), lines=lines)
    assert order.points == simulated.points
    assert parts_of(order) == [
        (p.kind, p.rule.code if p.rule else None, p.points) for p in simulated.contributions
    ]


def test_the_simulator_writes_nothing(member):
    rule("double", multiplier=Decimal("2"))
    counts = (LedgerEntry.objects.count(), OrderRecord.objects.count(), EarnContribution.objects.count())
    simulate_order(member, eur("70.00"))
    assert counts == (
        LedgerEntry.objects.count(),
        OrderRecord.objects.count(),
        EarnContribution.objects.count(),
    )


def test_malformed_order_lines_are_refused_and_nothing_is_written(member):
    from loyalty.exceptions import InvalidOrderLines

    for lines in (
        [{"sku": ""}],
        [{"sku": "A", "quantity": 0}],
        [{"sku": "A", "amount": Money("1", "USD")}],
        [1],
    ):
        with pytest.raises(InvalidOrderLines):
            record_order(member, order_id="A1", amount=eur("10.00"), lines=lines)
    assert not OrderRecord.objects.exists()


def test_a_fixed_rule_needs_its_points_and_only_order_events_look_at_the_order(db):
    with pytest.raises(ValidationError):
        EarnRule(code="x", name="x", event="purchase", mode="fixed").full_clean()
    with pytest.raises(ValidationError):
        EarnRule(code="y", name="y", event="review", mode="fixed", fixed_points=5, skus=["A"]).full_clean()
    with pytest.raises(ValidationError):
        EarnRule(code="z", name="z", event="review", mode="multiplier", multiplier=2).full_clean()


def test_a_cleared_list_condition_is_saved_as_no_condition(db):
    saved = EarnRule.objects.create(
        code="x", name="x", event="purchase", fixed_points=1, weekdays=None, categories=None, skus=None
    )
    saved.refresh_from_db()
    assert (saved.weekdays, saved.categories, saved.skus) == ([], [], [])


def test_a_purchase_rule_and_a_first_order_rule_cannot_tie(db):
    rule("purchase-exclusive", fixed_points=100, priority=5, stackable=False)
    with pytest.raises(ValidationError):
        rule("first-exclusive", event="first_order", fixed_points=10, priority=5, stackable=False)


def test_a_late_import_does_not_use_up_a_later_periods_limit(member):
    rule("daily", fixed_points=50, limit_per_member=1, limit_period="day")
    assert record_order(member, order_id="TODAY", amount=eur("10.00")).points == 60
    yesterday = timezone.now() - timedelta(days=1)
    assert record_order(member, order_id="LATE", amount=eur("10.00"), placed_at=yesterday).points == 60
