from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.utils import timezone, translation
from djmoney.money import Money
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from loyalty.exceptions import NotAMember
from loyalty.services import adjust_points, confirm_order, record_order, spend_points
from loyalty.testing import bulk_history
from tests.helpers import eur

ME = "/api/loyalty/v1/me/"
LEDGER = "/api/loyalty/v1/me/ledger/"


@pytest.fixture
def history(member, staff):
    record_order(member, order_id="A1", amount=eur("120.00"))
    confirm_order(order_id="A1")
    record_order(member, order_id="A2", amount=eur("30.00"))
    spend_points(member, points=20, idempotency_key="k1", reason="voucher")
    adjust_points(member, points=5, reason="goodwill", actor=staff)
    return member


def test_me_returns_the_stored_balances(client_for, history):
    body = client_for(history).get(ME).json()
    assert body["number"] == history.number
    assert (body["available"], body["pending"], body["debt"]) == (105, 30, 0)
    assert (body["lifetime_earned"], body["lifetime_redeemed"], body["lifetime_expired"]) == (125, 20, 0)
    assert body["next_expiry_points"] == 100


def test_anonymous_requests_are_refused(db):
    response = APIClient().get(ME)
    assert response.status_code in (401, 403)


def test_a_user_who_is_not_a_member_gets_404_with_a_code(client, make_user):
    client.force_login(make_user())
    response = client.get(ME)
    assert response.status_code == 404
    assert response.json()["code"] == "not_a_member"


def test_error_details_are_translated_into_the_request_language(client, make_user):
    client.force_login(make_user())
    response = client.get(ME, HTTP_ACCEPT_LANGUAGE="zh-hans")
    with translation.override("zh-hans"):
        chinese = str(NotAMember.default_detail)
    with translation.override("en"):
        assert chinese != str(NotAMember.default_detail)
    assert response.json() == {"code": "not_a_member", "detail": chinese}


def test_token_authentication_works(history):
    token = Token.objects.create(user=history.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(ME).json()["available"] == 105


def test_the_ledger_lists_only_the_members_own_entries_newest_first(client_for, history, make_member, staff):
    other = make_member()
    adjust_points(other, points=999, reason="other", actor=staff)
    body = client_for(history).get(LEDGER).json()
    assert body["count"] == 5
    assert [row["type"] for row in body["results"]] == ["adjustment", "redeem", "earn", "release", "earn"]
    assert all(row["points"] != 999 for row in body["results"])


def test_the_ledger_carries_the_purchase_amount_and_rate(client_for, history):
    rows = client_for(history).get(LEDGER, {"type": "earn"}).json()["results"]
    assert rows[-1]["amount"] == {"amount": "120.0000", "currency": "EUR"}
    assert rows[-1]["rate"] == "1.0000"


def test_the_ledger_filters_by_type(client_for, history):
    rows = client_for(history).get(LEDGER, {"type": ["redeem", "adjustment"]}).json()["results"]
    assert sorted(row["type"] for row in rows) == ["adjustment", "redeem"]


def test_the_ledger_filters_by_date(client_for, history):
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    client = client_for(history)
    assert client.get(LEDGER, {"created_after": tomorrow}).json()["count"] == 0
    assert client.get(LEDGER, {"created_before": tomorrow}).json()["count"] == 5


def test_an_invalid_filter_is_a_400(client_for, history):
    assert client_for(history).get(LEDGER, {"type": "bogus"}).status_code == 400


def test_the_ledger_is_paginated(client_for, member, staff, settings):
    settings.LOYALTY = {"API_PAGE_SIZE": 2}
    for _ in range(5):
        adjust_points(member, points=1, reason="tick", actor=staff)
    client = client_for(member)
    first = client.get(LEDGER).json()
    assert (first["count"], len(first["results"])) == (5, 2)
    assert client.get(LEDGER, {"page": 3}).json()["results"][0]["points"] == 1


def test_reading_me_costs_the_same_queries_with_10_or_10000_entries(
    client_for, make_member, django_assert_num_queries
):
    small, large = make_member(), make_member()
    bulk_history(small, 10)
    bulk_history(large, 10_000)
    counts = []
    for member in (small, large):
        client = client_for(member)
        client.get(ME)
        with django_assert_num_queries(5) as captured:
            assert client.get(ME).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_reading_a_ledger_page_costs_the_same_queries_with_10_or_10000_entries(
    client_for, make_member, django_assert_num_queries
):
    for entries in (10, 10_000):
        member = make_member()
        bulk_history(member, entries)
        client = client_for(member)
        with django_assert_num_queries(6):
            assert client.get(LEDGER).status_code == 200


def test_the_ledger_explains_a_converted_order(client_for, member, market, rates):
    market.accepted_currencies = ["USD"]
    market.save()
    record_order(member, order_id="US-1", amount=Money("54.00", "USD"))
    (row,) = client_for(member).get(LEDGER).json()["results"]
    assert (row["points"], row["pending_points"], row["rate_rule"]) == (0, 50, "market")
    assert row["amount"] == {"amount": "54.0000", "currency": "USD"}
    assert row["conversion"]["amount"] == {"amount": "50.0000", "currency": "EUR"}
    assert row["conversion"]["source"] == "loyalty-fixed"
    assert row["conversion"]["stale"] is False
    assert Decimal(row["conversion"]["rate"]) == (1 / rates["USD"]).quantize(
        Decimal("1e-14"), rounding=ROUND_DOWN
    )
