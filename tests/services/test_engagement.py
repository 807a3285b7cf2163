"""Sign-up, shop events, referrals, birthdays and challenges."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from loyalty.exceptions import InvalidEvent, InvalidReferralCode, ReferralNotAllowed, SelfReferral
from loyalty.models import (
    Challenge,
    ChallengeProgress,
    EarnRule,
    LedgerEntry,
    Member,
    MemberEvent,
    Referral,
    ReferralStatus,
    TierStatus,
)
from loyalty.services import (
    apply_referral_code,
    award_birthday_bonuses,
    close_challenges,
    confirm_order,
    enroll_member,
    record_event,
    record_order,
    referral_code_for,
)
from loyalty.services.consent import save_profile
from tests.helpers import account_of, assert_books_balance, eur

UTC = ZoneInfo("UTC")


def fixed_rule(code: str, event: str, points: int, **fields) -> EarnRule:
    return EarnRule.objects.create(
        code=code, name=code, event=event, mode="fixed", fixed_points=points, **fields
    )


def bonus_points(member) -> int:
    return sum(
        LedgerEntry.objects.filter(account__member=member, entry_type="bonus").values_list(
            "points", flat=True
        )
    )


def test_a_sign_up_rule_pays_new_members_at_once(market, make_member):
    fixed_rule("welcome", "signup", 100)
    member = make_member()
    assert account_of(member).available == 100
    assert_books_balance()


def test_a_review_pays_once_however_often_it_is_reported(member):
    fixed_rule("review", "review", 20)
    for _ in range(3):
        record_event(member, "review", event_id="rev-1")
    assert bonus_points(member) == 20
    assert MemberEvent.objects.filter(member=member, event="review").count() == 1


def test_a_custom_event_needs_its_name_and_pays_its_own_rule(member):
    fixed_rule("newsletter", "custom", 15, custom_event="newsletter-read")
    with pytest.raises(InvalidEvent):
        record_event(member, "custom", event_id="n1")
    record_event(member, "custom", event_id="n1", custom_event="newsletter-read")
    assert bonus_points(member) == 15


def test_members_cannot_trigger_plugin_events_through_record_event(member):
    fixed_rule("bday", "birthday", 500)
    with pytest.raises(InvalidEvent):
        record_event(member, "birthday", event_id="2026")
    assert bonus_points(member) == 0


def test_engagement_points_count_as_status_points_unless_the_rule_says_not(ladder, member):
    fixed_rule("review", "review", 20)
    fixed_rule("share", "social_share", 5, counts_toward_tier=False)
    record_event(member, "review", event_id="r1")
    record_event(member, "social_share", event_id="s1")
    assert TierStatus.objects.get(member=member).status_points == 20


# Referrals ----------------------------------------------------------------------------------------


@pytest.fixture
def referral_rules(db):
    fixed_rule("referrer", "referral", 300)
    fixed_rule("referred", "referred", 100)


def test_a_referral_is_paid_only_after_the_first_order_is_confirmed(
    referral_rules, member, make_user, market
):
    friend = enroll_member(make_user(), market=market, referral_code=referral_code_for(member))
    record_order(friend, order_id="F1", amount=eur("10.00"))
    assert bonus_points(member) == 0
    confirm_order(order_id="F1")
    assert (bonus_points(member), bonus_points(friend)) == (300, 100)
    assert Referral.objects.get(referred=friend).status == ReferralStatus.REWARDED


def test_a_referral_is_paid_once_whatever_happens_next(referral_rules, member, make_user, market):
    friend = enroll_member(make_user(), market=market, referral_code=referral_code_for(member))
    for number in range(3):
        record_order(friend, order_id=f"F{number}", amount=eur("10.00"))
        confirm_order(order_id=f"F{number}")
        confirm_order(order_id=f"F{number}")
    assert bonus_points(member) == 300
    assert_books_balance()


def test_nobody_can_refer_themselves(referral_rules, member):
    with pytest.raises(SelfReferral):
        apply_referral_code(member, referral_code_for(member))
    assert not Referral.objects.exists()


def test_a_referral_code_cannot_be_added_after_the_first_order(referral_rules, member, make_member):
    late = make_member()
    record_order(late, order_id="L1", amount=eur("10.00"))
    with pytest.raises(ReferralNotAllowed):
        apply_referral_code(late, referral_code_for(member))


def test_two_members_cannot_refer_each_other(referral_rules, member, make_member):
    friend = make_member()
    apply_referral_code(friend, referral_code_for(member))
    with pytest.raises(ReferralNotAllowed):
        apply_referral_code(member, referral_code_for(friend))


def test_an_unknown_code_refuses_the_enrolment_and_writes_nothing(referral_rules, make_user, market):
    user = make_user()
    with pytest.raises(InvalidReferralCode):
        enroll_member(user, market=market, referral_code="NOPE1234")
    assert not Member.objects.filter(user=user).exists()


def test_the_referrer_cap_stops_paying_the_referrer_but_still_welcomes_the_friend(
    referral_rules, member, make_user, market, settings
):
    settings.LOYALTY = {**settings.LOYALTY, "REFERRAL_MAX_PER_REFERRER": 1}
    code = referral_code_for(member)
    friends = [enroll_member(make_user(), market=market, referral_code=code.lower()) for _ in range(2)]
    for number, friend in enumerate(friends):
        record_order(friend, order_id=f"F{number}", amount=eur("10.00"))
        confirm_order(order_id=f"F{number}")
    assert bonus_points(member) == 300
    assert [bonus_points(friend) for friend in friends] == [100, 100]
    assert Referral.objects.get(referred=friends[1]).status == ReferralStatus.CAPPED


# Birthdays ----------------------------------------------------------------------------------------


@pytest.fixture
def birthday_rule(db, settings):
    settings.LOYALTY = {**settings.LOYALTY, "BIRTHDAY_REQUIRES_CONSENT": False}
    return fixed_rule("birthday", "birthday", 250)


def born(make_member, make_market, zone: str, birth_date: date):
    member = make_member(market=make_market(zone.split("/")[-1][:10].upper(), "EUR", time_zone=zone))
    save_profile(member, birth_date=birth_date)
    return member


def test_the_birthday_job_run_twice_on_the_same_day_pays_once(birthday_rule, make_member, make_market):
    member = born(make_member, make_market, "Europe/Paris", date(1990, 6, 1))
    noon = datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert award_birthday_bonuses(now=noon) == 1
    assert award_birthday_bonuses(now=noon + timedelta(hours=3)) == 0
    assert bonus_points(member) == 250


def test_members_far_apart_each_get_the_bonus_on_their_own_birthday(birthday_rule, make_member, make_market):
    kiritimati = born(make_member, make_market, "Pacific/Kiritimati", date(1990, 6, 1))  # UTC+14
    honolulu = born(make_member, make_market, "Pacific/Honolulu", date(1990, 6, 1))  # UTC-10
    award_birthday_bonuses(now=datetime(2026, 5, 31, 11, tzinfo=UTC))  # 1 June 01:00 in Kiritimati
    assert (bonus_points(kiritimati), bonus_points(honolulu)) == (250, 0)
    award_birthday_bonuses(now=datetime(2026, 6, 1, 11, tzinfo=UTC))  # 1 June 01:00 in Honolulu
    assert (bonus_points(kiritimati), bonus_points(honolulu)) == (250, 250)
    award_birthday_bonuses(now=datetime(2026, 6, 2, 9, tzinfo=UTC))  # 1 June 23:00 in Honolulu
    assert (bonus_points(kiritimati), bonus_points(honolulu)) == (250, 250)


def test_a_leap_day_birthday_is_celebrated_on_28_february_in_other_years(
    birthday_rule, make_member, make_market
):
    member = born(make_member, make_market, "Europe/Rome", date(2000, 2, 29))
    award_birthday_bonuses(now=datetime(2027, 2, 28, 12, tzinfo=UTC))
    assert bonus_points(member) == 250


def test_without_consent_the_birth_date_is_not_used(birthday_rule, make_member, make_market, settings):
    settings.LOYALTY = {**settings.LOYALTY, "BIRTHDAY_REQUIRES_CONSENT": True}
    member = born(make_member, make_market, "Europe/Paris", date(1990, 6, 1))
    assert award_birthday_bonuses(now=datetime(2026, 6, 1, 10, tzinfo=UTC)) == 0
    assert bonus_points(member) == 0


# Challenges ---------------------------------------------------------------------------------------


@pytest.fixture
def three_orders(db):
    now = timezone.now()
    return Challenge.objects.create(
        code="three-orders",
        name="Three orders in 30 days",
        badge_name="Regular",
        event="purchase",
        goal=3,
        duration_days=30,
        bonus_points=150,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=90),
    )


def confirmed_order(member, order_id: str):
    record_order(member, order_id=order_id, amount=eur("10.00"))
    confirm_order(order_id=order_id)


def test_completing_a_challenge_pays_its_bonus_and_badge_once(three_orders, member):
    for number in range(5):
        confirmed_order(member, f"O{number}")
    progress = ChallengeProgress.objects.get(member=member)
    assert progress.completed_at is not None and progress.count == 3
    assert bonus_points(member) == 150


def test_placed_but_unconfirmed_orders_do_not_count(three_orders, member):
    for number in range(3):
        record_order(member, order_id=f"O{number}", amount=eur("10.00"))
    assert not ChallengeProgress.objects.filter(member=member, count__gt=0).exists()


def test_the_count_starts_again_when_the_members_window_runs_out(three_orders, member):
    confirmed_order(member, "O1")
    confirmed_order(member, "O2")
    ChallengeProgress.objects.filter(member=member).update(window_end=timezone.now() - timedelta(seconds=1))
    confirmed_order(member, "O3")
    progress = ChallengeProgress.objects.get(member=member)
    assert (progress.count, progress.completed_at) == (1, None)


def test_the_closing_job_closes_ended_challenges_once(three_orders):
    later = three_orders.ends_at + timedelta(minutes=1)
    assert close_challenges(now=later) == 1
    assert close_challenges(now=later) == 0


def test_a_fully_refunded_first_order_pays_no_referral(referral_rules, member, make_user, market):
    from loyalty.services import record_refund

    friend = enroll_member(make_user(), market=market, referral_code=referral_code_for(member))
    record_order(friend, order_id="F1", amount=eur("50.00"))
    record_refund(order_id="F1", refund_id="R1", amount=eur("50.00"))
    confirm_order(order_id="F1")
    assert bonus_points(member) == 0
    assert Referral.objects.get(referred=friend).status == ReferralStatus.PENDING


def test_referral_rings_are_refused(referral_rules, member, make_member):
    second, third = make_member(), make_member()
    apply_referral_code(second, referral_code_for(member))
    apply_referral_code(third, referral_code_for(second))
    with pytest.raises(ReferralNotAllowed):
        apply_referral_code(member, referral_code_for(third))
