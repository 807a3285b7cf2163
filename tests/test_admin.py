"""The operator console: read-only ledger, and point adjustments only through the service."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from loyalty.models import EntryType, LedgerEntry, MarketChange
from loyalty.services import adjust_points
from tests.helpers import account_of, entries_of

MEMBERS = reverse("admin:loyalty_member_changelist")


@pytest.fixture
def console(staff):
    client = Client()
    client.force_login(staff)
    return client


def adjust(client, members, **data):
    return client.post(
        MEMBERS,
        {"action": "adjust_points", ACTION_CHECKBOX_NAME: [member.pk for member in members], **data},
    )


def test_ledger_entries_can_be_viewed_but_never_added_changed_or_deleted(console, member, staff):
    entry = adjust_points(member, points=5, reason="goodwill", actor=staff)
    assert console.get(reverse("admin:loyalty_ledgerentry_changelist")).status_code == 200
    assert console.get(reverse("admin:loyalty_ledgerentry_change", args=[entry.pk])).status_code == 200
    assert console.get(reverse("admin:loyalty_ledgerentry_add")).status_code == 403
    assert (
        console.post(
            reverse("admin:loyalty_ledgerentry_change", args=[entry.pk]), {"points": 999}
        ).status_code
        == 403
    )
    assert (
        console.post(
            reverse("admin:loyalty_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert LedgerEntry.objects.get(pk=entry.pk).points == 5


def test_even_a_superuser_cannot_change_the_ledger(admin_client, member, staff):
    entry = adjust_points(member, points=5, reason="goodwill", actor=staff)
    assert admin_client.get(reverse("admin:loyalty_ledgerentry_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:loyalty_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_the_ledger_can_be_filtered_to_one_member(console, make_member, staff):
    alice, bob = make_member(), make_member()
    adjust_points(alice, points=5, reason="goodwill", actor=staff)
    adjust_points(bob, points=7, reason="goodwill", actor=staff)
    url = reverse("admin:loyalty_ledgerentry_changelist") + f"?account__member__number={alice.number}"
    response = console.get(url)
    assert [entry.account.member_id for entry in response.context["cl"].result_list] == [alice.pk]


def test_the_adjust_action_asks_for_points_and_a_reason_first(console, member):
    assert b'value="adjust_points"' in console.get(MEMBERS).content
    response = adjust(console, [member])
    assert response.status_code == 200
    assert "form" in response.context
    assert entries_of(member).count() == 0


def test_the_adjust_action_goes_through_the_service_with_the_staff_user(console, member, staff):
    form = adjust(console, [member]).context["form"]
    response = adjust(
        console,
        [member],
        apply="1",
        points=40,
        reason="Late delivery",
        idempotency_key=form["idempotency_key"].value(),
    )
    assert response.status_code == 302
    entry = entries_of(member).get()
    assert (entry.entry_type, entry.points, entry.reason, entry.actor) == (
        EntryType.ADJUSTMENT,
        40,
        "Late delivery",
        staff,
    )
    assert account_of(member).available == 40


def test_submitting_the_adjust_form_twice_adjusts_once(console, member):
    data = {"apply": "1", "points": 40, "reason": "Late delivery", "idempotency_key": "form-1"}
    adjust(console, [member], **data)
    adjust(console, [member], **data)
    assert account_of(member).available == 40


def test_the_adjust_action_adjusts_each_selected_member(console, make_member):
    members = [make_member(), make_member()]
    adjust(console, members, apply="1", points=3, reason="Campaign", idempotency_key="form-2")
    assert [account_of(member).available for member in members] == [3, 3]


def test_an_adjustment_without_a_reason_is_refused_with_a_form_error(console, member):
    response = adjust(console, [member], apply="1", points=40, reason="  ", idempotency_key="form-3")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert entries_of(member).count() == 0


def test_a_debit_beyond_the_balance_is_reported_and_writes_nothing(console, member):
    response = adjust(console, [member], apply="1", points=-5, reason="Fix", idempotency_key="form-4")
    assert response.status_code == 302
    messages = [str(message) for message in response.wsgi_request._messages]
    assert any("Not enough points" in message for message in messages)
    assert entries_of(member).count() == 0


def test_staff_without_the_adjust_permission_cannot_adjust(console, staff, member):
    staff.user_permissions.remove(Permission.objects.get(codename="adjust_points"))
    assert b'value="adjust_points"' not in console.get(MEMBERS).content
    adjust(console, [member], apply="1", points=40, reason="Sneaky", idempotency_key="form-5")
    assert entries_of(member).count() == 0


def test_members_cannot_be_added_or_deleted_in_the_console(admin_client, member):
    assert admin_client.get(reverse("admin:loyalty_member_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:loyalty_member_delete", args=[member.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_the_member_list_costs_the_same_queries_for_2_or_20_members(
    admin_client, make_member, django_assert_num_queries
):
    for _ in range(2):
        make_member()
    admin_client.get(MEMBERS)
    with django_assert_num_queries(7) as small:
        admin_client.get(MEMBERS)
    for _ in range(18):
        make_member()
    with django_assert_num_queries(len(small.captured_queries)):
        admin_client.get(MEMBERS)


def move(client, member, market):
    return client.post(
        MEMBERS,
        {
            "action": "change_market",
            ACTION_CHECKBOX_NAME: [member.pk],
            "apply": "1",
            "market": market.pk,
            "reason": "Moved",
        },
    )


def test_support_staff_move_a_member_to_another_market_through_the_service(admin_client, member, make_market):
    japan = make_market("JP", "JPY")
    form = admin_client.post(MEMBERS, {"action": "change_market", ACTION_CHECKBOX_NAME: [member.pk]})
    assert "form" in form.context
    response = move(admin_client, member, japan)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.market == japan
    assert MarketChange.objects.get().reason == "Moved"


def test_a_market_change_too_soon_is_reported_in_the_console(admin_client, member, make_market):
    japan, us = make_market("JP", "JPY"), make_market("US", "USD")
    for market in (japan, us):
        response = move(admin_client, member, market)
    messages = [str(message) for message in response.wsgi_request._messages]
    assert any("too recently" in message for message in messages)
    member.refresh_from_db()
    assert member.market == japan
