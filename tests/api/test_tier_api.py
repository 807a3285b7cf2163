"""The member API for tiers, referrals and challenges: each shopper sees only their own."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from loyalty.models import ChallengeProgress, QualifyingEvent, Referral, Tier, TierStatus
from loyalty.services import confirm_order, grant_tier, record_order, referral_code_for
from tests.helpers import eur

MY_TIER = "/api/loyalty/v1/me/tier/"
TIERS = "/api/loyalty/v1/tiers/"
MY_REFERRAL = "/api/loyalty/v1/me/referral/"
MY_CHALLENGES = "/api/loyalty/v1/me/challenges/"


def buy(member, order_id: str, amount: str = "10.00") -> None:
    """A purchase whose return window is over: it counts for challenges and referrals."""
    record_order(member, order_id=order_id, amount=eur(amount))
    confirm_order(order_id=order_id)


# My tier --------------------------------------------------------------------------------------------


def test_my_tier_shows_the_tier_the_next_one_and_what_each_track_needs(ladder, client_for, member):
    record_order(member, order_id="A1", amount=eur("600.00"))
    body = client_for(member).get(MY_TIER).json()
    assert body["tier"]["code"] == "silver"
    assert body["tier"]["earn_multiplier"] == "1.25"
    assert body["next_tier"]["code"] == "gold"
    assert body["currency"] == "EUR"
    spend, orders = body["tracks"]
    assert spend == {
        "track": "spend",
        "current": "600.00",
        "next_threshold": "1000.00",
        "needed_for_next": "400.00",
        "retain_threshold": "300.00",
        "needed_to_retain": "0.00",
    }
    assert orders == {
        "track": "orders",
        "current": 1,
        "next_threshold": None,
        "needed_for_next": None,
        "retain_threshold": 10,
        "needed_to_retain": 9,
    }


def test_my_tier_gives_the_windows_deadline_and_the_benefits_of_the_tier(ladder, client_for, member):
    Tier.objects.filter(code="bronze").update(free_shipping=True, perks=["lounge"], benefits="Birthday gift")
    body = client_for(member).get(MY_TIER).json()
    deadline = TierStatus.objects.get(member=member).window_end
    assert body["deadline"] == deadline.isoformat().replace("+00:00", "Z")
    assert body["tier"]["free_shipping"] is True
    assert body["tier"]["priority_support"] is False
    assert body["tier"]["perks"] == ["lounge"]
    assert body["tier"]["benefits"] == "Birthday gift"
    assert (body["grace_until"], body["granted_until"], body["paid_until"]) == (None, None, None)


def test_my_tier_reflects_an_upgrade_once_an_order_crosses_a_threshold(ladder, client_for, member):
    client = client_for(member)
    assert client.get(MY_TIER).json()["tier"]["code"] == "bronze"
    record_order(member, order_id="A1", amount=eur("499.99"))
    assert client.get(MY_TIER).json()["tier"]["code"] == "bronze"
    record_order(member, order_id="A2", amount=eur("0.01"))
    body = client.get(MY_TIER).json()
    assert body["tier"]["code"] == "silver"
    assert body["next_tier"]["code"] == "gold"


def test_spend_the_member_has_rounds_down_and_spend_still_needed_rounds_up(ladder, client_for, member):
    TierStatus.objects.filter(member=member).update(spend=Decimal("123.4567"))
    (spend, _orders) = client_for(member).get(MY_TIER).json()["tracks"]
    assert (spend["current"], spend["needed_for_next"]) == ("123.45", "376.55")


def test_a_granted_tier_says_until_when(ladder, client_for, member, staff):
    until = timezone.now() + timedelta(days=30)
    grant_tier(member, tier=ladder["vip"], until=until, reason="press", actor=staff)
    body = client_for(member).get(MY_TIER).json()
    assert body["tier"]["code"] == "vip"
    assert body["granted_until"] == until.isoformat().replace("+00:00", "Z")


def test_a_program_without_tiers_answers_with_no_tier(client_for, member):
    body = client_for(member).get(MY_TIER).json()
    assert (body["tier"], body["next_tier"], body["tracks"]) == (None, None, [])


def test_my_tier_is_named_in_the_request_language(ladder, client_for, member):
    Tier.objects.filter(code="bronze").update(name_zh_hans="青铜")
    response = client_for(member).get(MY_TIER, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json()["tier"]["name"] == "青铜"


def test_reading_my_tier_costs_the_same_queries_with_1_or_5000_qualifying_events(
    ladder, client_for, make_member, django_assert_num_queries
):
    for events in (1, 5000):
        member = make_member()
        QualifyingEvent.objects.bulk_create(
            QualifyingEvent(
                member=member, key=f"filler:{member.pk}:{n}", occurred_at=timezone.now(), orders=1
            )
            for n in range(events)
        )
        client = client_for(member)
        with django_assert_num_queries(5):
            assert client.get(MY_TIER).status_code == 200


# The ladder -----------------------------------------------------------------------------------------


def test_the_ladder_lists_every_tier_lowest_first_with_its_thresholds(ladder, client_for, member):
    body = client_for(member).get(TIERS).json()
    assert [tier["code"] for tier in body] == ["bronze", "silver", "gold", "vip"]
    silver = body[1]
    assert silver["currency"] == "EUR"
    assert silver["entry"] == {"spend": "500.00", "status_points": None, "orders": 10}
    assert silver["retain"] == {"spend": "300.00", "status_points": None, "orders": 10}
    assert body[0]["entry"] == {"spend": None, "status_points": None, "orders": None}


def test_the_ladder_marks_tiers_that_are_only_granted_or_bought(ladder, client_for, member):
    body = client_for(member).get(TIERS).json()
    assert {tier["code"]: tier["granted_only"] for tier in body} == {
        "bronze": False,
        "silver": False,
        "gold": False,
        "vip": True,
    }


def test_the_ladder_carries_the_benefit_flags(ladder, client_for, member):
    Tier.objects.filter(code="gold").update(free_shipping=True, priority_support=True, early_access=True)
    gold = client_for(member).get(TIERS).json()[2]
    assert (gold["free_shipping"], gold["priority_support"], gold["early_access"]) == (True, True, True)
    assert gold["earn_multiplier"] == "1.50"


def test_the_ladder_is_translated_into_the_request_language(ladder, client_for, member):
    Tier.objects.filter(code="gold").update(name_en="Gold", name_zh_hans="黄金")
    gold = client_for(member).get(TIERS, HTTP_ACCEPT_LANGUAGE="zh-hans").json()[2]
    assert gold["name"] == "黄金"


def test_an_untranslated_tier_name_falls_back_to_english(ladder, client_for, member):
    Tier.objects.filter(code="gold").update(name_en="Gold", name_zh_hans="")
    gold = client_for(member).get(TIERS, HTTP_ACCEPT_LANGUAGE="zh-hans").json()[2]
    assert gold["name"] == "Gold"


def test_a_signed_in_user_who_is_not_a_member_can_read_the_ladder(ladder, client, make_user):
    client.force_login(make_user())
    assert len(client.get(TIERS).json()) == 4


def test_reading_the_ladder_costs_three_queries(ladder, client_for, member, django_assert_num_queries):
    client = client_for(member)
    with django_assert_num_queries(3):
        assert client.get(TIERS).status_code == 200


# Referrals ------------------------------------------------------------------------------------------


def test_my_referral_code_is_created_on_first_read_and_then_kept(client_for, member):
    client = client_for(member)
    code = client.get(MY_REFERRAL).json()["code"]
    member.refresh_from_db()
    assert code == member.referral_code
    assert client.get(MY_REFERRAL).json()["code"] == code


def test_my_referral_link_is_the_join_page_with_the_code(client_for, member):
    body = client_for(member).get(MY_REFERRAL).json()
    assert body["link"] == f"http://testserver/loyalty/?ref={body['code']}"


def test_my_referral_counts_are_my_own_referrals_by_status(client_for, member, make_member):
    code = referral_code_for(member)
    rewarded = make_member(referral_code=code)
    buy(rewarded, "R1")
    make_member(referral_code=code)
    stranger = make_member()
    make_member(referral_code=referral_code_for(stranger))
    body = client_for(member).get(MY_REFERRAL).json()
    assert (body["pending"], body["rewarded"], body["capped"]) == (1, 1, 0)


def test_applying_a_friends_code_records_the_referral(client_for, member, make_member):
    friend = make_member()
    response = client_for(member).post(
        MY_REFERRAL, {"code": referral_code_for(friend).lower()}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert Referral.objects.get(referred=member).referrer == friend


def test_an_unknown_referral_code_is_a_404(client_for, member):
    response = client_for(member).post(MY_REFERRAL, {"code": "NOSUCHCODE"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "invalid_referral_code"


def test_a_request_without_a_code_is_an_unknown_code(client_for, member):
    response = client_for(member).post(MY_REFERRAL, {}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "invalid_referral_code")


def test_my_own_referral_code_is_a_400(client_for, member):
    response = client_for(member).post(MY_REFERRAL, {"code": referral_code_for(member)}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "self_referral"
    assert not Referral.objects.exists()


def test_a_referral_code_after_the_first_order_is_a_409(client_for, member, make_member):
    record_order(member, order_id="A1", amount=eur("10.00"))
    response = client_for(member).post(MY_REFERRAL, {"code": referral_code_for(make_member())}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "referral_not_allowed"
    assert not Referral.objects.exists()


def test_reading_my_referrals_costs_the_same_queries_with_1_or_30_referrals(
    client_for, make_member, django_assert_num_queries
):
    for referrals in (1, 30):
        member = make_member()
        code = referral_code_for(member)
        for _ in range(referrals):
            make_member(referral_code=code)
        client = client_for(member)
        with django_assert_num_queries(4):
            assert client.get(MY_REFERRAL).status_code == 200


# Challenges -----------------------------------------------------------------------------------------


def test_my_challenges_show_progress_towards_the_goal(client_for, member, make_challenge):
    challenge = make_challenge()
    buy(member, "A1")
    (row,) = client_for(member).get(MY_CHALLENGES).json()
    progress = ChallengeProgress.objects.get(member=member)
    assert row["code"] == "three-orders"
    assert row["name"] == "Three orders"
    assert row["description"] == "Place three orders this month."
    assert (row["count"], row["goal"], row["bonus_points"]) == (1, 3, 100)
    assert row["completed_at"] is None
    assert row["counting_until"] == progress.window_end.isoformat().replace("+00:00", "Z")
    assert row["ends_at"] == challenge.ends_at.isoformat().replace("+00:00", "Z")
    assert row["badge"] == {"name": "Regular", "colour": "#c2410c"}


def test_a_completed_challenge_says_when(client_for, member, make_challenge):
    make_challenge(goal=1)
    buy(member, "A1")
    (row,) = client_for(member).get(MY_CHALLENGES).json()
    assert row["count"] == 1
    assert row["completed_at"] == ChallengeProgress.objects.get(
        member=member
    ).completed_at.isoformat().replace("+00:00", "Z")
    assert row["counting_until"] is None


def test_challenge_texts_are_in_the_request_language(client_for, member, make_challenge):
    make_challenge(name_en="Three orders", name_zh_hans="三笔订单", badge_name_zh_hans="常客")
    (row,) = client_for(member).get(MY_CHALLENGES, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert (row["name"], row["badge"]["name"]) == ("三笔订单", "常客")


def test_another_members_progress_is_not_mine(client_for, member, make_member, make_challenge):
    make_challenge()
    buy(make_member(), "OTHER-1")
    (row,) = client_for(member).get(MY_CHALLENGES).json()
    assert (row["count"], row["counting_until"]) == (0, None)


def test_reading_my_challenges_costs_the_same_queries_with_1_or_20_challenges(
    client_for, make_member, make_challenge, django_assert_num_queries
):
    running = 0
    for challenges in (1, 20):
        member = make_member()
        for number in range(challenges):
            make_challenge(code=f"c{member.pk}-{number}", goal=1)
        running += challenges
        buy(member, f"ORDER-{member.pk}")
        client = client_for(member)
        with django_assert_num_queries(5):
            assert len(client.get(MY_CHALLENGES).json()) == running


# Only my own data -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [MY_TIER, MY_REFERRAL, MY_CHALLENGES])
def test_a_user_who_is_not_a_member_gets_404_not_a_member(client, make_user, url):
    client.force_login(make_user())
    response = client.get(url)
    assert (response.status_code, response.json()["code"]) == (404, "not_a_member")


@pytest.mark.parametrize("url", [MY_TIER, TIERS, MY_REFERRAL, MY_CHALLENGES])
def test_anonymous_requests_are_refused(db, url):
    assert APIClient().get(url).status_code in (401, 403)


def test_two_members_each_see_only_their_own_tier(ladder, client_for, member, make_member):
    rich = make_member()
    record_order(rich, order_id="R1", amount=eur("1500.00"))
    assert client_for(member).get(MY_TIER).json()["tier"]["code"] == "bronze"
    assert client_for(rich).get(MY_TIER).json()["tier"]["code"] == "gold"


def test_two_members_each_get_their_own_referral_code(client_for, member, make_member):
    other = make_member()
    mine = client_for(member).get(MY_REFERRAL).json()["code"]
    theirs = client_for(other).get(MY_REFERRAL).json()["code"]
    assert mine != theirs
    member.refresh_from_db()
    assert member.referral_code == mine


def test_each_ledger_row_explains_which_rules_made_up_the_earning(client, member):
    from decimal import Decimal

    from loyalty.models import EarnRule
    from loyalty.services import record_order
    from tests.helpers import eur

    EarnRule.objects.create(
        code="double", name="Double points", event="purchase", mode="multiplier", multiplier=Decimal("2")
    )
    record_order(member, order_id="A1", amount=eur("40.00"))
    client.force_login(member.user)
    earn = client.get("/api/loyalty/v1/me/ledger/?type=earn").json()["results"][0]
    assert [(p["kind"], p["label"], p["points"]) for p in earn["contributions"]] == [
        ("base", "base earn", 40),
        ("rule", "Double points", 40),
    ]
