"""Tier qualification: upgrades at once, downgrades only when a window closes, grants and paid tiers."""

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from loyalty.models import (
    Member,
    MembershipProduct,
    QualifyingEvent,
    TierChange,
    TierChangeReason,
    TierStatus,
)
from loyalty.models.append_only import AppendOnlyError
from loyalty.services import (
    cancel_order,
    confirm_order,
    evaluate_tiers,
    grant_tier,
    record_order,
    record_refund,
)
from loyalty.services.tiers import window_at
from loyalty.signals import tier_changed
from tests.helpers import eur

UTC = zoneinfo.ZoneInfo("UTC")


def tier_of(member) -> str | None:
    member = Member.objects.select_related("tier").get(pk=member.pk)
    return member.tier.code if member.tier else None


def new_year(year: int) -> datetime:
    """Early on 2 January of ``year``: every market's previous calendar year has closed."""
    return datetime(year, 1, 2, 12, tzinfo=UTC)


def test_a_new_member_starts_in_the_tier_open_to_all(ladder, member):
    assert tier_of(member) == "bronze"
    assert TierChange.objects.get(member=member).reason == TierChangeReason.QUALIFIED


def test_an_order_crossing_the_entry_threshold_upgrades_inside_its_own_transaction(ladder, member):
    with transaction.atomic():
        record_order(member, order_id="A1", amount=eur("600.00"))
        assert tier_of(member) == "silver"
        transaction.set_rollback(True)
    assert tier_of(member) == "bronze"


def test_an_upgrade_is_recorded_and_announced_after_commit(
    ladder, member, django_capture_on_commit_callbacks
):
    received = []
    tier_changed.connect(lambda sender, **kw: received.append(kw["change"]), weak=False, dispatch_uid="t1")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            record_order(member, order_id="A1", amount=eur("1200.00"))
    finally:
        tier_changed.disconnect(dispatch_uid="t1")
    change = TierChange.objects.filter(member=member).first()
    assert (change.from_tier.code, change.to_tier.code, change.reason) == ("bronze", "gold", "qualified")
    assert [c.pk for c in received] == [change.pk]


def test_spending_points_does_not_lower_the_tier(ladder, member, staff):
    from loyalty.services import confirm_order, spend_points

    record_order(member, order_id="A1", amount=eur("600.00"))
    confirm_order(order_id="A1")
    spend_points(member, points=600, idempotency_key="all", reason="voucher")
    evaluate_tiers()
    assert tier_of(member) == "silver"


def test_the_order_count_track_qualifies_on_its_own(ladder, member):
    for number in range(10):
        record_order(member, order_id=f"O{number}", amount=eur("5.00"))
    assert tier_of(member) == "silver"
    assert TierStatus.objects.get(member=member).orders == 10


def test_a_refund_that_undoes_the_qualification_corrects_the_tier_at_the_next_evaluation(ladder, member):
    record_order(member, order_id="A1", amount=eur("600.00"))
    record_refund(order_id="A1", refund_id="R1", amount=eur("200.00"))
    assert tier_of(member) == "silver"  # not changed silently by the refund itself
    evaluate_tiers()
    assert tier_of(member) == "bronze"
    assert TierChange.objects.filter(member=member).first().reason == TierChangeReason.CORRECTED
    assert TierStatus.objects.get(member=member).spend == Decimal("400.00")


def test_partial_refunds_that_add_up_to_the_order_take_off_exactly_its_spend_and_count(ladder, member):
    record_order(member, order_id="A1", amount=eur("100.00"))
    for number, amount in enumerate(("33.33", "33.33", "33.34")):
        record_refund(order_id="A1", refund_id=f"R{number}", amount=eur(amount))
    totals = QualifyingEvent.objects.filter(member=member)
    assert sum(e.spend for e in totals) == 0
    assert sum(e.orders for e in totals) == 0
    assert sum(e.status_points for e in totals) == 0


def test_a_cancelled_order_leaves_nothing_on_the_record(ladder, member):
    record_order(member, order_id="A1", amount=eur("600.00"))
    cancel_order(order_id="A1")
    evaluate_tiers()
    status = TierStatus.objects.get(member=member)
    assert (status.spend, status.orders, status.status_points) == (0, 0, 0)
    assert tier_of(member) == "bronze"


def test_a_tier_is_kept_when_the_closed_window_met_the_threshold_to_keep_it(ladder, member):
    record_order(member, order_id="A1", amount=eur("1000.00"))
    evaluate_tiers(now=new_year(timezone.now().year + 1))
    assert tier_of(member) == "gold"


def test_the_tier_is_not_lowered_before_the_window_ends(ladder, member):
    record_order(member, order_id="A1", amount=eur("1000.00"))
    next_year = timezone.now().year + 1
    evaluate_tiers(now=new_year(next_year))
    evaluate_tiers(now=datetime(next_year, 12, 30, tzinfo=UTC))  # nothing bought all year
    assert tier_of(member) == "gold"


def test_a_window_closing_below_the_threshold_to_keep_drops_one_tier(ladder, member):
    record_order(member, order_id="A1", amount=eur("1000.00"))
    next_year = timezone.now().year + 1
    evaluate_tiers(now=new_year(next_year))
    evaluate_tiers(now=new_year(next_year + 1))
    assert tier_of(member) == "silver"
    assert TierChange.objects.filter(member=member).first().reason == TierChangeReason.RETAINED_BELOW


def test_recompute_mode_drops_to_the_tier_the_closed_window_supports(ladder, member, settings):
    settings.LOYALTY = {**settings.LOYALTY, "TIER_DOWNGRADE": "recompute"}
    record_order(member, order_id="A1", amount=eur("1000.00"))
    next_year = timezone.now().year + 1
    evaluate_tiers(now=new_year(next_year))
    evaluate_tiers(now=new_year(next_year + 1))
    assert tier_of(member) == "bronze"


def test_the_retain_threshold_protects_the_tier_even_below_the_entry_threshold(ladder, member):
    record_order(member, order_id="A1", amount=eur("1000.00"))
    next_year = timezone.now().year + 1
    evaluate_tiers(now=new_year(next_year))
    record_order(member, order_id="A2", amount=eur("850.00"), placed_at=datetime(next_year, 3, 1, tzinfo=UTC))
    evaluate_tiers(now=new_year(next_year + 1))
    assert tier_of(member) == "gold"


def test_a_grace_period_delays_the_downgrade_until_it_ends(ladder, member, settings):
    settings.LOYALTY = {**settings.LOYALTY, "TIER_GRACE_DAYS": 30}
    record_order(member, order_id="A1", amount=eur("1000.00"))
    year = timezone.now().year + 1
    evaluate_tiers(now=new_year(year))
    evaluate_tiers(now=new_year(year + 1))
    assert tier_of(member) == "gold"
    assert TierStatus.objects.get(member=member).grace_until is not None
    evaluate_tiers(now=datetime(year + 1, 2, 15, tzinfo=UTC))
    assert tier_of(member) == "silver"


def test_reaching_the_keep_threshold_during_the_grace_period_cancels_the_downgrade(ladder, member, settings):
    settings.LOYALTY = {**settings.LOYALTY, "TIER_GRACE_DAYS": 30}
    record_order(member, order_id="A1", amount=eur("1000.00"))
    year = timezone.now().year + 1
    evaluate_tiers(now=new_year(year))
    evaluate_tiers(now=new_year(year + 1))
    record_order(member, order_id="A2", amount=eur("800.00"), placed_at=datetime(year + 1, 1, 10, tzinfo=UTC))
    evaluate_tiers(now=datetime(year + 1, 1, 11, tzinfo=UTC))
    evaluate_tiers(now=datetime(year + 1, 3, 1, tzinfo=UTC))
    assert tier_of(member) == "gold"
    assert TierStatus.objects.get(member=member).grace_until is None


def test_a_staff_grant_lifts_the_tier_until_its_end_date_and_then_ends(ladder, member, staff):
    grant_tier(
        member, tier=ladder["vip"], until=timezone.now() + timedelta(days=10), reason="goodwill", actor=staff
    )
    assert tier_of(member) == "vip"
    evaluate_tiers(now=timezone.now() + timedelta(days=11))
    assert tier_of(member) == "bronze"
    assert TierChange.objects.filter(member=member).first().reason == TierChangeReason.GRANT_ENDED


def test_a_staff_grant_never_becomes_a_floor_for_qualification(ladder, member, staff):
    grant_tier(
        member, tier=ladder["gold"], until=timezone.now() + timedelta(days=10), reason="vip", actor=staff
    )
    next_year = timezone.now().year + 1
    evaluate_tiers(now=new_year(next_year))
    assert tier_of(member) == "bronze"
    assert TierStatus.objects.get(member=member).held_tier.code == "bronze"


def test_a_member_keeps_a_higher_qualified_tier_during_a_lower_grant(ladder, member, staff):
    record_order(member, order_id="A1", amount=eur("1000.00"))
    grant_tier(
        member, tier=ladder["silver"], until=timezone.now() + timedelta(days=5), reason="x", actor=staff
    )
    assert tier_of(member) == "gold"


def test_a_grant_needs_a_reason_and_a_future_end_date(ladder, member, staff):
    from loyalty.exceptions import InvalidTimestamp, ReasonRequired

    with pytest.raises(ReasonRequired):
        grant_tier(
            member, tier=ladder["vip"], until=timezone.now() + timedelta(days=1), reason=" ", actor=staff
        )
    with pytest.raises(InvalidTimestamp):
        grant_tier(
            member, tier=ladder["vip"], until=timezone.now() - timedelta(days=1), reason="x", actor=staff
        )
    assert tier_of(member) == "bronze"


def test_tier_history_is_append_only(ladder, member):
    change = TierChange.objects.get(member=member)
    with pytest.raises(AppendOnlyError):
        change.save()
    with pytest.raises(AppendOnlyError):
        TierChange.objects.filter(member=member).update(note="x")
    with pytest.raises(AppendOnlyError):
        change.delete()


def test_the_calendar_window_follows_the_market_time_zone(ladder, make_market, make_member):
    kiritimati = make_member(market=make_market("KI", "EUR", time_zone="Pacific/Kiritimati"))
    start, end = window_at(kiritimati, datetime(2026, 12, 31, 11, 0, tzinfo=UTC))
    assert start == datetime(2027, 1, 1, tzinfo=zoneinfo.ZoneInfo("Pacific/Kiritimati"))
    assert end.year == 2028


def test_the_anniversary_window_starts_on_the_enrolment_date(ladder, member, settings):
    settings.LOYALTY = {**settings.LOYALTY, "TIER_WINDOW": "anniversary_year"}
    Member.objects.filter(pk=member.pk).update(enrolled_at=datetime(2024, 2, 29, 12, tzinfo=UTC))
    member.refresh_from_db()
    start, end = window_at(member, datetime(2026, 6, 1, tzinfo=UTC))
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    assert (start, end) == (datetime(2026, 2, 28, tzinfo=berlin), datetime(2027, 2, 28, tzinfo=berlin))


def test_a_rolling_window_is_reviewed_a_year_after_the_tier_was_reached(ladder, member, settings):
    settings.LOYALTY = {**settings.LOYALTY, "TIER_WINDOW": "rolling_12_months"}
    record_order(member, order_id="A1", amount=eur("1000.00"))
    status = TierStatus.objects.get(member=member)
    assert status.window_end.date() >= (timezone.now() + timedelta(days=364)).date()
    evaluate_tiers(now=status.window_end - timedelta(days=1))
    assert tier_of(member) == "gold"
    evaluate_tiers(now=status.window_end + timedelta(days=1))
    assert tier_of(member) == "silver"


def test_the_lifetime_window_never_closes(ladder, member, settings):
    settings.LOYALTY = {**settings.LOYALTY, "TIER_WINDOW": "lifetime"}
    record_order(member, order_id="A1", amount=eur("1000.00"))
    evaluate_tiers(now=timezone.now() + timedelta(days=3650))
    assert tier_of(member) == "gold"


# Paid tiers ---------------------------------------------------------------------------------------


@pytest.fixture
def vip_club(ladder):
    return MembershipProduct.objects.create(sku="VIP-YEAR", tier=ladder["vip"], duration_days=365)


def buy_membership(member, order_id: str):
    return record_order(
        member,
        order_id=order_id,
        amount=eur("99.00"),
        lines=[{"sku": "VIP-YEAR", "amount": eur("99.00")}],
    )


def test_a_paid_tier_starts_only_when_the_membership_order_is_confirmed(vip_club, member):
    buy_membership(member, "M1")
    assert tier_of(member) == "bronze"
    confirm_order(order_id="M1")
    assert tier_of(member) == "vip"
    assert TierChange.objects.filter(member=member).first().reason == TierChangeReason.PAID


def test_a_paid_tier_ends_at_the_end_of_the_paid_period(vip_club, member):
    buy_membership(member, "M1")
    confirm_order(order_id="M1")
    paid_until = TierStatus.objects.get(member=member).paid_until
    evaluate_tiers(now=paid_until - timedelta(minutes=1))
    assert tier_of(member) == "vip"
    evaluate_tiers(now=paid_until + timedelta(minutes=1))
    assert tier_of(member) == "bronze"
    assert TierChange.objects.filter(member=member).first().reason == TierChangeReason.PAID_ENDED


def test_a_renewal_extends_the_paid_period(vip_club, member):
    buy_membership(member, "M1")
    confirm_order(order_id="M1")
    first_end = TierStatus.objects.get(member=member).paid_until
    buy_membership(member, "M2")
    confirm_order(order_id="M2")
    assert TierStatus.objects.get(member=member).paid_until == first_end + timedelta(days=365)
    evaluate_tiers(now=first_end + timedelta(days=1))
    assert tier_of(member) == "vip"


def test_a_refunded_membership_ends_the_paid_tier_at_once(vip_club, member):
    buy_membership(member, "M1")
    confirm_order(order_id="M1")
    record_refund(order_id="M1", refund_id="R1", amount=eur("99.00"))
    assert tier_of(member) == "bronze"


def test_refunding_another_line_of_the_order_keeps_the_membership(vip_club, member):
    record_order(
        member,
        order_id="M1",
        amount=eur("129.00"),
        lines=[{"sku": "VIP-YEAR", "amount": eur("99.00")}, {"sku": "MUG", "amount": eur("30.00")}],
    )
    confirm_order(order_id="M1")
    record_refund(order_id="M1", refund_id="R1", amount=eur("30.00"), lines=[{"sku": "MUG"}])
    assert tier_of(member) == "vip"
    record_refund(order_id="M1", refund_id="R2", amount=eur("10.00"), lines=[{"sku": "VIP-YEAR"}])
    assert tier_of(member) == "bronze"


def test_a_cancelled_membership_order_never_starts_the_paid_tier(vip_club, member):
    buy_membership(member, "M1")
    cancel_order(order_id="M1")
    evaluate_tiers()
    assert tier_of(member) == "bronze"


def test_a_refund_after_the_window_closed_judges_that_window_again(ladder, member):
    year = timezone.now().year
    record_order(member, order_id="A1", amount=eur("1000.00"), placed_at=datetime(year, 1, 5, tzinfo=UTC))
    evaluate_tiers(now=new_year(year + 1))
    record_refund(order_id="A1", refund_id="R1", amount=eur("1000.00"))
    evaluate_tiers(now=new_year(year + 1) + timedelta(days=1))
    assert tier_of(member) == "silver"  # one tier below Gold, as if the window had closed without it


def test_a_rolling_window_never_lowers_the_tier_before_its_review(ladder, member, settings):
    settings.LOYALTY = {**settings.LOYALTY, "TIER_WINDOW": "rolling_12_months"}
    record_order(member, order_id="A1", amount=eur("500.00"), placed_at=timezone.now() - timedelta(days=330))
    record_order(member, order_id="A2", amount=eur("500.00"))
    assert tier_of(member) == "gold"
    evaluate_tiers(now=timezone.now() + timedelta(days=40))  # the first order left the last 12 months
    assert tier_of(member) == "gold"


def test_a_refund_of_a_cancelled_order_takes_nothing_more_off_the_record(ladder, member):
    record_order(member, order_id="A1", amount=eur("600.00"))
    record_order(member, order_id="A2", amount=eur("600.00"))
    cancel_order(order_id="A1")
    record_refund(order_id="A1", refund_id="R1", amount=eur("600.00"))
    evaluate_tiers()
    status = TierStatus.objects.get(member=member)
    assert (status.spend, status.orders) == (Decimal("600.00"), 1)
    assert tier_of(member) == "silver"


def test_an_order_after_the_window_ended_upgrades_before_the_window_is_closed(ladder, member):
    TierStatus.objects.filter(member=member).update(window_end=timezone.now() - timedelta(hours=1))
    record_order(member, order_id="A1", amount=eur("1200.00"))
    assert tier_of(member) == "gold"


def test_an_order_from_before_tiers_existed_can_be_cancelled_without_touching_the_record(ladder, member):
    record_order(member, order_id="A1", amount=eur("50.00"))
    QualifyingEvent.objects.filter(key__contains="A1").delete()  # as for orders recorded before tiers
    TierStatus.objects.filter(member=member).update(orders=0, spend=0, status_points=0)
    cancel_order(order_id="A1")
    assert not QualifyingEvent.objects.filter(member=member).exists()


def test_refunding_a_paid_period_brings_its_renewal_forward(vip_club, member):
    buy_membership(member, "M1")
    confirm_order(order_id="M1")
    buy_membership(member, "M2")
    confirm_order(order_id="M2")
    record_refund(order_id="M1", refund_id="R1", amount=eur("99.00"))
    assert tier_of(member) == "vip"
    paid_until = TierStatus.objects.get(member=member).paid_until
    assert timedelta(days=364) < paid_until - timezone.now() <= timedelta(days=365)
