"""The shopper's member-center pages."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from loyalty.models import Member
from loyalty.services import adjust_points, confirm_order, record_order
from loyalty.testing import bulk_history
from tests.helpers import eur

URL = "/loyalty/"


@pytest.fixture
def signed_in(client, member):
    client.force_login(member.user)
    return client


def test_the_page_shows_balances_and_recent_history(signed_in, member, staff):
    record_order(member, order_id="ORDER-77", amount=eur("120.00"))
    confirm_order(order_id="ORDER-77")
    record_order(member, order_id="ORDER-78", amount=eur("30.00"))
    adjust_points(member, points=5, reason="goodwill", actor=staff)
    response = signed_in.get(URL)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary.available, summary.pending) == (125, 30)
    html = response.content.decode()
    assert 'data-testid="available">125<' in html
    assert 'data-testid="pending">30<' in html
    assert "ORDER-78" in html
    assert member.number in html


def test_history_is_limited_to_the_recent_entries(signed_in, member, settings):
    settings.LOYALTY = {"RECENT_HISTORY_SIZE": 3}
    bulk_history(member, 10)
    assert len(signed_in.get(URL).context["entries"]) == 3


def test_the_page_costs_the_same_queries_with_10_or_10000_entries(make_member, django_assert_num_queries):
    counts = []
    for entries in (10, 10_000):
        member = make_member()
        bulk_history(member, entries)
        client = Client()
        client.force_login(member.user)
        with django_assert_num_queries(12) as captured:
            client.get(URL)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_speaks_the_members_language(signed_in, member):
    Member.objects.filter(pk=member.pk).update(language="zh-hans")
    response = signed_in.get(URL)
    assert '<html lang="zh-hans">' in response.content.decode()


def test_times_are_shown_in_the_members_time_zone(signed_in, member, staff):
    Member.objects.filter(pk=member.pk).update(time_zone="Asia/Tokyo")
    adjust_points(member, points=5, reason="goodwill", actor=staff)
    response = signed_in.get(URL)
    created = response.context["entries"][0].effective_at
    with timezone.override("Asia/Tokyo"):
        tokyo = date_format(timezone.localtime(created), "SHORT_DATETIME_FORMAT")
    with timezone.override("UTC"):
        utc = date_format(timezone.localtime(created), "SHORT_DATETIME_FORMAT")
    assert tokyo != utc
    assert tokyo in response.content.decode()


def test_the_next_expiry_is_announced(signed_in, member, staff, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 30}
    adjust_points(member, points=5, reason="goodwill", actor=staff)
    html = signed_in.get(URL).content.decode()
    assert 'data-testid="next-expiry"' in html
    assert "5 points expire on" in html


def test_a_signed_in_user_who_is_not_a_member_can_join(client, make_user, market, settings):
    settings.LOYALTY = {"DEFAULT_MARKET": "EU"}
    user = make_user()
    client.force_login(user)
    assert b"Join now" in client.get(URL).content
    response = client.post(reverse("loyalty:join"))
    assert response.status_code == 302
    assert Member.objects.get(user=user).market == market


def test_joining_is_closed_without_a_default_market(client, make_user, market, settings):
    settings.LOYALTY = {"DEFAULT_MARKET": None}
    client.force_login(make_user())
    assert b"Join now" not in client.get(URL).content
    client.post(reverse("loyalty:join"))
    assert not Member.objects.exists()


def test_changing_the_language_needs_a_csrf_token(make_user, member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    response = client.post(reverse("loyalty:set-language"), {"language": "zh-hans"})
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.language == "en"


def test_a_member_can_change_the_language_of_the_page(signed_in, member):
    signed_in.post(reverse("loyalty:set-language"), {"language": "zh-hans"})
    member.refresh_from_db()
    assert member.language == "zh-hans"


def test_an_unoffered_language_is_refused(signed_in, member):
    signed_in.post(reverse("loyalty:set-language"), {"language": "tlh"})
    member.refresh_from_db()
    assert member.language == "en"


def test_pages_only_answer_posts_where_they_write(signed_in):
    assert signed_in.get(reverse("loyalty:join")).status_code == 405
    assert signed_in.get(reverse("loyalty:set-language")).status_code == 405


def test_pending_points_explain_themselves(signed_in, member):
    record_order(member, order_id="A1", amount=eur("10.00"), placed_at=timezone.now() - timedelta(days=1))
    assert b"return period" in signed_in.get(URL).content


def test_the_host_can_wrap_the_pages_in_its_own_layout(signed_in, settings):
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "DIRS": [*settings.TEMPLATES[0]["DIRS"], Path(__file__).parent / "templates"],
        }
    ]
    settings.LOYALTY = {"BASE_TEMPLATE": "host_base.html"}
    html = signed_in.get(URL).content.decode()
    assert '<nav id="host-navigation">' in html
    assert 'data-testid="available"' in html


def test_history_shows_when_an_order_was_placed_not_when_it_was_recorded(signed_in, member):
    placed = timezone.now() - timedelta(days=3)
    record_order(member, order_id="A1", amount=eur("10.00"), placed_at=placed)
    with timezone.override(member.time_zone):
        shown = date_format(timezone.localtime(placed), "SHORT_DATETIME_FORMAT")
    assert shown in signed_in.get(URL).content.decode()
