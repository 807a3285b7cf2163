"""The member center's tier, referral and challenge cards, and joining with a referral code."""

import re
import zoneinfo
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from loyalty.models import Member, QualifyingEvent, Referral, Tier, TierStatus
from loyalty.services import confirm_order, grant_tier, record_order, referral_code_for
from loyalty.testing import bulk_history
from tests.helpers import eur

URL = "/loyalty/"


@pytest.fixture
def tiers(db):
    """Bronze for all; Silver from €200 spent (kept from €150); Gold from €500 or 1,000 status points."""
    return {
        "bronze": Tier.objects.create(code="bronze", rank=0, name="Bronze", badge_colour="#b08d57"),
        "silver": Tier.objects.create(
            code="silver",
            rank=1,
            name="Silver",
            badge_colour="#8a96a8",
            entry_spend=Decimal("200"),
            retain_spend=Decimal("150"),
        ),
        "gold": Tier.objects.create(
            code="gold",
            rank=2,
            name="Gold",
            badge_colour="#d4a017",
            entry_spend=Decimal("500"),
            entry_status_points=1000,
            earn_multiplier=Decimal("1.5"),
            free_shipping=True,
            benefits="Birthday gift\nInvitations to private sales",
        ),
    }


@pytest.fixture
def silver(tiers, member):
    """A Silver member with €380 spent and 700 status points in this window."""
    record_order(member, order_id="A1", amount=eur("380.00"))
    TierStatus.objects.filter(member=member).update(status_points=700)
    return member


@pytest.fixture
def signed_in(client, member):
    client.force_login(member.user)
    return client


def window_last_day(member) -> str:
    """The last day of the member's window, in their time zone, as the page writes dates."""
    closes = TierStatus.objects.get(member=member).window_end.astimezone(zoneinfo.ZoneInfo(member.time_zone))
    return date_format(closes.date() - timedelta(days=1), "DATE_FORMAT")


def card(html: str, testid: str) -> str:
    return re.search(rf'<section[^>]*data-testid="{testid}".*?</section>', html, re.S).group(0)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", html)


# The tier card --------------------------------------------------------------------------------------


def test_the_tier_card_shows_the_tier_name_with_its_badge_in_the_tier_colour(silver, signed_in):
    tier_card = card(signed_in.get(URL).content.decode(), "tier-card")
    assert 'data-testid="tier-name">Silver<' in tier_card
    assert 'fill="#8a96a8"' in tier_card


def test_the_page_says_what_is_still_needed_for_the_next_tier_and_by_when(silver, signed_in):
    html = signed_in.get(URL).content.decode()
    expected = (
        f"Spend €120.00 more or earn 300 status points more by {window_last_day(silver)} to reach Gold."
    )
    assert f'data-testid="tier-next">{expected}<' in html


def test_the_progress_bar_follows_the_track_closest_to_the_next_tier(silver, signed_in):
    tier_card = text(card(signed_in.get(URL).content.decode(), "tier-card"))
    assert re.search(r'<progress id="ly-tier-progress" value="380.00" max="500.00"', tier_card)
    assert "Progress to Gold" in tier_card
    assert "€380.00 of €500.00 spent" in tier_card


def test_status_points_lead_the_progress_bar_when_they_are_closer(silver, signed_in):
    TierStatus.objects.filter(member=silver).update(status_points=900)
    tier_card = card(signed_in.get(URL).content.decode(), "tier-card")
    assert 'value="900" max="1000"' in tier_card
    assert "900 of 1,000 status points" in tier_card


def test_a_member_who_reached_the_threshold_to_keep_the_tier_is_told_so(silver, signed_in):
    html = signed_in.get(URL).content.decode()
    expected = f"You have done what it takes to keep Silver after {window_last_day(silver)}."
    assert f'data-testid="tier-keep">{expected}<' in html


def test_a_member_below_the_threshold_to_keep_the_tier_is_told_what_is_missing(silver, signed_in):
    TierStatus.objects.filter(member=silver).update(spend=Decimal("100"))
    html = signed_in.get(URL).content.decode()
    expected = f"To keep Silver after {window_last_day(silver)}: spend €50.00 more."
    assert f'data-testid="tier-keep">{expected}<' in html


def test_meeting_the_keep_threshold_this_window_says_the_tier_is_kept(silver, tiers, signed_in):
    TierStatus.objects.filter(member=silver).update(spend=Decimal("150"))
    html = signed_in.get(URL).content.decode()
    expected = f"You have done what it takes to keep Silver after {window_last_day(silver)}."
    assert f'data-testid="tier-keep">{expected}<' in html


def test_during_a_grace_period_the_keep_line_names_the_end_of_the_grace_period(silver, tiers, signed_in):
    grace_ends = timezone.now() + timedelta(days=10)
    TierStatus.objects.filter(member=silver).update(
        spend=Decimal("100"), held_tier=tiers["bronze"], grace_until=grace_ends
    )
    with timezone.override(silver.time_zone):
        shown = date_format(timezone.localtime(grace_ends), "DATE_FORMAT")
    html = signed_in.get(URL).content.decode()
    assert f'data-testid="tier-keep">To keep Silver after {shown}: spend €50.00 more.<' in html


def test_a_granted_tier_says_until_when_and_what_keeps_the_qualified_tier(silver, tiers, signed_in, staff):
    vip = Tier.objects.create(code="vip", rank=3, name="VIP", granted_only=True)
    until = timezone.now() + timedelta(days=30)
    grant_tier(silver, tier=vip, until=until, reason="press", actor=staff)
    with timezone.override(silver.time_zone):
        shown = date_format(timezone.localtime(until), "DATE_FORMAT")
    tier_card = card(signed_in.get(URL).content.decode(), "tier-card")
    assert 'data-testid="tier-name">VIP<' in tier_card
    assert f'data-testid="tier-held">Granted to you until {shown}.<' in tier_card
    assert 'data-testid="tier-next"' not in tier_card
    assert 'data-testid="tier-keep">You have done what it takes to keep Silver after' in tier_card


def test_the_top_tier_has_no_next_tier_line_and_lists_its_benefits(tiers, member, signed_in):
    record_order(member, order_id="A1", amount=eur("600.00"))
    tier_card = card(signed_in.get(URL).content.decode(), "tier-card")
    assert 'data-testid="tier-name">Gold<' in tier_card
    assert 'data-testid="tier-next"' not in tier_card
    assert "<progress" not in tier_card
    for benefit in (
        "Birthday gift",
        "Invitations to private sales",
        "1.5× points on purchases",
        "Free shipping",
    ):
        assert f"<li>{benefit}</li>" in tier_card


def test_the_tier_card_speaks_the_members_language(silver, signed_in):
    Tier.objects.filter(code="silver").update(name_zh_hans="白银")
    Member.objects.filter(pk=silver.pk).update(language="zh-hans")
    assert 'data-testid="tier-name">白银<' in signed_in.get(URL).content.decode()


def test_there_is_no_tier_card_when_the_program_has_no_tiers(signed_in):
    assert 'data-testid="tier-card"' not in signed_in.get(URL).content.decode()


# The referral card ----------------------------------------------------------------------------------


def test_the_referral_card_shows_my_code_and_link(signed_in, member):
    referral_card = card(signed_in.get(URL).content.decode(), "referral-card")
    member.refresh_from_db()
    assert f'data-testid="referral-code">{member.referral_code}<' in referral_card
    assert f'value="http://testserver/loyalty/?ref={member.referral_code}"' in referral_card


def test_the_referral_card_counts_my_friends_by_status(signed_in, member, make_member):
    code = referral_code_for(member)
    friend = make_member(referral_code=code)
    record_order(friend, order_id="F1", amount=eur("10.00"))
    confirm_order(order_id="F1")
    make_member(referral_code=code)
    referral_card = card(signed_in.get(URL).content.decode(), "referral-card")
    assert 'data-testid="referrals-rewarded">1<' in referral_card
    assert 'data-testid="referrals-pending">1<' in referral_card


def test_the_copy_button_uses_a_local_script_and_stays_hidden_without_it(signed_in):
    referral_card = card(signed_in.get(URL).content.decode(), "referral-card")
    assert '<script src="/static/loyalty/js/copy.js" defer></script>' in referral_card
    assert re.search(r"<button [^>]*data-copy-from=\"ly-referral-link\"[^>]*hidden>", referral_card)


# The challenges card --------------------------------------------------------------------------------


def test_the_challenges_card_shows_progress_towards_each_goal(signed_in, member, make_challenge):
    make_challenge()
    record_order(member, order_id="A1", amount=eur("10.00"))
    confirm_order(order_id="A1")
    challenges = text(card(signed_in.get(URL).content.decode(), "challenges-card"))
    assert "Three orders" in challenges
    assert '<progress value="1" max="3"' in challenges
    assert "1 of 3" in challenges
    assert "+100 points" in challenges


def test_a_completed_challenge_shows_its_earned_badge(signed_in, member, make_challenge):
    make_challenge(code="first", name="First order", goal=1, badge_name="Starter", badge_colour="#0b6e4f")
    record_order(member, order_id="A1", amount=eur("10.00"))
    confirm_order(order_id="A1")
    challenges = text(card(signed_in.get(URL).content.decode(), "challenges-card"))
    badges = re.search(r'<ul class="ly-badges".*?</ul>', challenges).group(0)
    assert "<span>Starter</span>" in badges
    assert 'fill="#0b6e4f"' in badges
    assert "badge “Starter” earned" in challenges


def test_there_is_no_challenges_card_without_challenges(signed_in):
    assert 'data-testid="challenges-card"' not in signed_in.get(URL).content.decode()


# Joining with a referral code -----------------------------------------------------------------------


@pytest.fixture
def newcomer(client, make_user, market, settings):
    settings.LOYALTY = {"DEFAULT_MARKET": "EU"}
    user = make_user()
    client.force_login(user)
    return user


def test_the_join_page_fills_in_the_code_of_a_referral_link(client, newcomer, member):
    code = referral_code_for(member)
    html = client.get(URL, {"ref": code}).content.decode()
    assert f'name="ref" value="{code}"' in html


def test_joining_through_a_referral_link_records_the_referral(client, newcomer, member):
    code = referral_code_for(member)
    client.post(reverse("loyalty:join"), {"ref": code})
    referral = Referral.objects.get(referred__user=newcomer)
    assert referral.referrer == member


def test_joining_with_an_unknown_code_shows_an_error_and_does_not_enroll(client, newcomer):
    response = client.post(reverse("loyalty:join"), {"ref": "NOSUCHCODE"}, follow=True)
    html = response.content.decode()
    assert "This referral code does not exist." in html
    assert 'name="ref" value="NOSUCHCODE"' in html
    assert not Member.objects.filter(user=newcomer).exists()


def test_joining_without_a_code_records_no_referral(client, newcomer):
    client.post(reverse("loyalty:join"))
    assert Member.objects.filter(user=newcomer).exists()
    assert not Referral.objects.exists()


def test_a_visitor_following_a_referral_link_keeps_the_code_through_sign_in(client, db):
    response = client.get(URL, {"ref": "ABCD2345"})
    assert response.status_code == 302
    assert "ref%3DABCD2345" in response["Location"]


def test_joining_needs_a_csrf_token(make_user, market, settings):
    settings.LOYALTY = {"DEFAULT_MARKET": "EU"}
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    assert client.post(reverse("loyalty:join"), {"ref": ""}).status_code == 403
    assert not Member.objects.exists()


# Cost -----------------------------------------------------------------------------------------------


def test_the_page_costs_the_same_queries_with_little_or_much_history(
    tiers, make_member, make_challenge, django_assert_num_queries
):
    """Ledger, qualifying record, referrals and challenges all grow; the page's query count does not."""
    counts = []
    for size in (1, 30):
        member = make_member()
        code = referral_code_for(member)
        bulk_history(member, size * 100)
        QualifyingEvent.objects.bulk_create(
            QualifyingEvent(member=member, key=f"q:{member.pk}:{n}", occurred_at=timezone.now(), orders=1)
            for n in range(size * 100)
        )
        for number in range(size):
            make_member(referral_code=code)
            make_challenge(code=f"c{member.pk}-{number}")
        client = Client()
        client.force_login(member.user)
        with django_assert_num_queries(12) as captured:
            assert client.get(URL).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
