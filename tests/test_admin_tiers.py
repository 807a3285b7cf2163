"""The operator console for tiers, earning rules and engagement: forms, actions and the order simulator."""

import re
import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from loyalty.models import (
    Challenge,
    ChallengeProgress,
    EarnContribution,
    EarnRule,
    LedgerEntry,
    MembershipProduct,
    OrderRecord,
    QualifyingEvent,
    Tier,
    TierChange,
    TierChangeReason,
)
from loyalty.services import grant_tier, record_order
from tests.helpers import allow

MEMBERS = reverse("admin:loyalty_member_changelist")
RULES = reverse("admin:loyalty_earnrule_changelist")
SIMULATE = reverse("admin:loyalty_earnrule_simulate")


@pytest.fixture
def tiers(db):
    return {
        "bronze": Tier.objects.create(code="bronze", rank=0, name="Bronze"),
        "gold": Tier.objects.create(
            code="gold",
            rank=1,
            name="Gold",
            badge_colour="#b08d57",
            entry_spend=Decimal("1000"),
            retain_spend=Decimal("800"),
            earn_multiplier=Decimal("1.5"),
        ),
    }


@pytest.fixture
def console_user(make_user):
    """Staff who may look at members; each test adds the permissions it is about."""
    user = make_user(username="tiers-support", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_member"))
    return user


@pytest.fixture
def console(console_user):
    client = Client()
    client.force_login(console_user)
    return client


def make_rule(code, **fields):
    fields = {"name": code.title(), "event": "purchase", "mode": "fixed", "fixed_points": 10, **fields}
    return EarnRule.objects.create(code=code, **fields)


def rule_form(**fields):
    """The add form of a rule as the browser posts it (translated names, JSON lists, checkboxes)."""
    data = {
        "code": "autumn",
        "name_en": "Autumn bonus",
        "event": "purchase",
        "custom_event": "",
        "mode": "fixed",
        "fixed_points": "50",
        "priority": "10",
        "stackable": "on",
        "counts_toward_tier": "on",
        "weekdays": "[]",
        "categories": "[]",
        "skus": "[]",
        "limit_period": "ever",
        "is_active": "on",
        **fields,
    }
    return {key: value for key, value in data.items() if value is not None}


# Earning rules ---------------------------------------------------------------------------------


def test_a_precedence_tie_is_refused_as_a_form_error_in_the_add_view(admin_client):
    make_rule("welcome", priority=10, stackable=False)
    response = admin_client.post(reverse("admin:loyalty_earnrule_add"), rule_form())
    assert response.status_code == 200
    assert "welcome" in " ".join(response.context["adminform"].form.errors["priority"])
    assert not EarnRule.objects.filter(code="autumn").exists()


def test_a_rule_without_a_tie_is_added_through_the_add_view(admin_client):
    make_rule("welcome", priority=5, stackable=False)
    response = admin_client.post(reverse("admin:loyalty_earnrule_add"), rule_form())
    assert response.status_code == 302
    assert EarnRule.objects.get(code="autumn").name_en == "Autumn bonus"


def test_clearing_a_list_field_of_a_rule_stores_an_empty_list(admin_client):
    response = admin_client.post(reverse("admin:loyalty_earnrule_add"), rule_form(weekdays=""))
    assert response.status_code == 302
    assert EarnRule.objects.get(code="autumn").weekdays == []


def test_activating_rules_activates_those_without_a_tie_and_reports_the_others(admin_client):
    make_rule("running", priority=10, stackable=False)
    clash = make_rule("clash", priority=10, is_active=False)
    fine = make_rule("fine", priority=20, is_active=False)
    response = admin_client.post(
        RULES, {"action": "activate", ACTION_CHECKBOX_NAME: [clash.pk, fine.pk]}, follow=True
    )
    assert response.status_code == 200
    messages = [str(message) for message in response.context["messages"]]
    assert any(message.startswith("clash: Rule running has the same priority") for message in messages)
    assert "Activated 1 rule." in messages
    assert set(EarnRule.objects.filter(is_active=True).values_list("code", flat=True)) == {"running", "fine"}


def test_two_rules_activated_together_cannot_tie_with_each_other(admin_client):
    first = make_rule("first", priority=10, stackable=False, is_active=False)
    second = make_rule("second", priority=10, stackable=False, is_active=False)
    admin_client.post(RULES, {"action": "activate", ACTION_CHECKBOX_NAME: [first.pk, second.pk]})
    assert EarnRule.objects.filter(is_active=True).count() == 1


def test_deactivating_rules_always_works(admin_client):
    rules = [make_rule("one", priority=1), make_rule("two", priority=2, stackable=False)]
    admin_client.post(RULES, {"action": "deactivate", ACTION_CHECKBOX_NAME: [rule.pk for rule in rules]})
    assert not EarnRule.objects.filter(is_active=True).exists()


# The order simulator ---------------------------------------------------------------------------


@pytest.fixture
def shop_rules(db):
    """A per-unit rule on shoes and a first-order bonus, so every part of the earning shows."""
    return [
        make_rule(
            "shoes",
            name="Shoe week",
            mode="per_unit",
            points_per_unit=Decimal("2"),
            fixed_points=None,
            categories=["shoes"],
            priority=10,
        ),
        make_rule("first", name="First order", event="first_order", fixed_points=50, priority=5),
    ]


@pytest.fixture
def gold_member(tiers, member, admin_user):
    grant_tier(
        member, tier=tiers["gold"], until=timezone.now() + timedelta(days=30), reason="VIP", actor=admin_user
    )
    member.refresh_from_db()
    return member


LINES = "SHOE-1,shoes,1,80.00\nSOCK-1,socks,2,40.00"
PLACED_AT = "2025-03-14T20:30"


def simulate(client, member, **fields):
    data = {"member": member.number, "amount": "120.00", "currency": "EUR", "lines": LINES, **fields}
    return client.post(SIMULATE, data)


def table_counts():
    models = (LedgerEntry, OrderRecord, EarnContribution, QualifyingEvent, TierChange)
    return {model.__name__: model.objects.count() for model in models}


def test_the_simulator_shows_the_points_record_order_then_records(admin_client, gold_member, shop_rules):
    response = simulate(admin_client, gold_member, placed_at=PLACED_AT)
    simulated = response.context["earning"].points
    order = record_order(
        gold_member,
        order_id="A-1",
        amount=Money(Decimal("120.00"), "EUR"),
        placed_at=datetime(2025, 3, 14, 20, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
        lines=[
            {"sku": "SHOE-1", "category": "shoes", "quantity": 1, "amount": Money(Decimal("80.00"), "EUR")},
            {"sku": "SOCK-1", "category": "socks", "quantity": 2, "amount": Money(Decimal("40.00"), "EUR")},
        ],
    )
    # 120 base + 60 for Gold (x1.5) + 160 for the 80 EUR of shoes (2 per EUR) + 50 for a first order.
    assert simulated == order.points == 390
    assert f'<strong id="simulated-points">{simulated}</strong>' in response.content.decode()


def test_the_simulator_shows_each_part_and_why(admin_client, gold_member, shop_rules):
    response = simulate(admin_client, gold_member)
    rows = [(str(row["kind"]), row["points"], row["counts_toward_tier"]) for row in response.context["rows"]]
    assert rows == [
        ("base earn", 120, True),
        ("tier bonus", 60, False),
        ("rule", 160, True),
        ("rule", 50, True),
    ]
    html = response.content.decode()
    assert "1 × the amount in EUR: the EU market&#x27;s own rate" in html
    assert "The Gold tier multiplies the base earn by 1.5." in html
    assert "Shoe week: 2 × the amount spent in EUR." in html


def test_the_simulator_writes_nothing(admin_client, gold_member, shop_rules):
    before = table_counts()
    response = simulate(admin_client, gold_member)
    assert response.context["earning"].points == 390
    assert table_counts() == before


def test_the_simulator_explains_a_conversion(admin_client, member, market, rates):
    market.accepted_currencies = ["USD"]
    market.save()
    response = simulate(admin_client, member, amount="108.00", currency="USD", lines="")
    assert response.context["earning"].points == 100
    assert "The order was converted to €100.00 at 0.925925925925" in response.content.decode()


def test_the_simulated_time_is_read_in_the_members_market_time_zone(admin_client, member):
    make_rule("friday", weekdays=[4])
    # 23:30 on Friday in Berlin; read as UTC it would already be Saturday in Berlin.
    response = simulate(admin_client, member, lines="", placed_at="2025-03-14T23:30")
    assert [part.rule.code for part in response.context["earning"].contributions if part.rule] == ["friday"]


def test_a_ledger_entry_shows_what_each_part_contributed(admin_client, gold_member, shop_rules):
    record_order(gold_member, order_id="A-2", amount=Money(Decimal("120.00"), "EUR"))
    entry = LedgerEntry.objects.get(account__member=gold_member, source_ref="A-2")
    html = admin_client.get(reverse("admin:loyalty_ledgerentry_change", args=[entry.pk])).content.decode()
    assert "Earning contributions" in html
    assert "First order" in html and "tier bonus" in html


def test_a_currency_the_market_does_not_accept_is_a_form_error(admin_client, member):
    response = simulate(admin_client, member, currency="JPY")
    assert response.context["form"].errors["currency"] == ["The market EU accepts EUR."]
    assert response.context["earning"] is None


def test_a_code_that_is_no_currency_is_a_form_error(admin_client, member):
    response = simulate(admin_client, member, currency="EUX")
    assert response.context["form"].errors["currency"] == ["EUX is not an ISO 4217 currency code."]


def test_malformed_order_lines_are_a_form_error(admin_client, member):
    response = simulate(admin_client, member, lines="SHOE-1,shoes,two,80")
    assert response.context["form"].errors["lines"] == ["Line 1: the quantity must be a whole number."]


def test_a_domain_error_of_the_service_is_shown_as_a_form_error(admin_client, member):
    response = simulate(admin_client, member, lines="SHOE-1,shoes,0,80")
    assert response.status_code == 200
    assert response.context["form"].errors["lines"] == [
        "Order lines need a SKU, a positive quantity and, if given, an amount in the order's currency."
    ]


def test_a_zero_amount_is_refused_by_the_service_as_a_form_error(admin_client, member):
    response = simulate(admin_client, member, amount="0", lines="")
    assert response.context["form"].errors["amount"] == [
        "The amount must be a positive Money value in a known currency."
    ]


def test_an_unknown_member_number_is_a_form_error(admin_client, db):
    response = admin_client.post(SIMULATE, {"member": "000", "amount": "10", "currency": "EUR"})
    assert response.context["form"].errors["member"] == ["No member has this number."]


def test_the_simulator_requires_view_permission_on_rules(console, console_user, member):
    assert console.get(SIMULATE).status_code == 403
    assert simulate(console, member).status_code == 403
    allow(console_user, "view_earnrule")
    assert simulate(console, member).status_code == 200


def test_the_rule_list_links_to_the_simulator(admin_client):
    assert f'href="{SIMULATE}"' in admin_client.get(RULES).content.decode()


# Tiers on members ------------------------------------------------------------------------------


def grant(client, members, **data):
    return client.post(
        MEMBERS, {"action": "grant_tier", ACTION_CHECKBOX_NAME: [m.pk for m in members], **data}
    )


def grant_data(tier, **fields):
    until = timezone.localtime() + timedelta(days=30)
    return {
        "apply": "1",
        "tier": tier.pk,
        "until": until.strftime("%Y-%m-%dT%H:%M"),
        "reason": "Press",
        **fields,
    }


def test_granting_a_tier_requires_the_grant_permission(console, tiers, member):
    assert grant(console, [member]).status_code == 403
    assert grant(console, [member], **grant_data(tiers["gold"])).status_code == 403
    member.refresh_from_db()
    assert member.tier == tiers["bronze"]
    assert b'value="grant_tier"' not in console.get(MEMBERS).content


def test_the_grant_action_asks_for_a_tier_an_end_and_a_reason_first(console, console_user, member, tiers):
    allow(console_user, "grant_tier")
    response = grant(console, [member])
    assert response.status_code == 200
    assert set(response.context["form"].fields) >= {"tier", "until", "reason"}


def test_granting_a_tier_changes_the_members_tier_and_records_why(console, console_user, member, tiers):
    allow(console_user, "grant_tier")
    response = grant(console, [member], **grant_data(tiers["gold"], reason="Press partner"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.tier == tiers["gold"]
    change = TierChange.objects.get(member=member, reason=TierChangeReason.GRANTED)
    assert (change.to_tier, change.note, change.actor) == (tiers["gold"], "Press partner", console_user)


def test_a_grant_ending_in_the_past_is_a_form_error(console, console_user, member, tiers):
    allow(console_user, "grant_tier")
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = grant(console, [member], **grant_data(tiers["gold"], until=past))
    assert response.context["form"].errors["until"] == ["The grant must end in the future."]
    assert not TierChange.objects.filter(reason=TierChangeReason.GRANTED).exists()


def test_the_member_page_shows_the_tier_status(admin_client, gold_member):
    html = admin_client.get(reverse("admin:loyalty_member_change", args=[gold_member.pk])).content.decode()
    assert "Gold until" in html and ": VIP" in html
    assert "0 EUR spent, 0 status points, 0 orders" in html
    assert "Bronze" in html


def test_the_tier_history_link_lists_only_that_members_changes(admin_client, gold_member, make_member):
    make_member()
    page = admin_client.get(reverse("admin:loyalty_member_change", args=[gold_member.pk]))
    url = re.search(r'href="([^"]*/tierchange/\?q=[^"]*)"', page.content.decode()).group(1)
    changes = admin_client.get(url).context["cl"].result_list
    assert {change.member_id for change in changes} == {gold_member.pk}


def test_tier_history_cannot_be_added_changed_or_deleted(admin_client, gold_member):
    change = TierChange.objects.filter(member=gold_member).first()
    assert admin_client.get(reverse("admin:loyalty_tierchange_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:loyalty_tierchange_add")).status_code == 403
    url = reverse("admin:loyalty_tierchange_change", args=[change.pk])
    assert admin_client.post(url, {"note": "rewritten"}).status_code == 403
    delete = reverse("admin:loyalty_tierchange_delete", args=[change.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert TierChange.objects.get(pk=change.pk).note == "VIP"


@pytest.mark.parametrize(
    "model",
    [
        "challengeprogress",
        "referral",
        "memberevent",
        "membershippurchase",
        "qualifyingevent",
        "earncontribution",
    ],
)
def test_records_the_services_write_cannot_be_added_in_the_console(admin_client, model):
    assert admin_client.get(reverse(f"admin:loyalty_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:loyalty_{model}_add")).status_code == 403


def test_paid_membership_products_are_edited_in_the_console(admin_client, tiers):
    response = admin_client.post(
        reverse("admin:loyalty_membershipproduct_add"),
        {"sku": "VIP-CLUB", "tier": tiers["gold"].pk, "duration_days": "365", "is_active": "on"},
    )
    assert response.status_code == 302
    assert MembershipProduct.objects.get().tier == tiers["gold"]


# Tier and challenge pages ----------------------------------------------------------------------


def assets_of(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', html)


def test_the_tier_page_shows_translation_tabs_from_local_assets_only(admin_client, tiers):
    html = admin_client.get(reverse("admin:loyalty_tier_change", args=[tiers["gold"].pk])).content.decode()
    assert 'id="id_name_zh_hans"' in html and "mt-field-name-zh_hans" in html
    assets = assets_of(html)
    assert "/static/loyalty_admin/vendor/jquery-ui/jquery-ui.min.js" in assets
    assert "/static/modeltranslation/js/tabbed_translation_fields.js" in assets
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
    assert "googleapis" not in html and "cdn" not in html.lower()


def test_the_vendored_jquery_ui_ships_with_its_licence():
    assert finders.find("loyalty_admin/vendor/jquery-ui/jquery-ui.min.js")
    assert finders.find("loyalty_admin/vendor/jquery-ui/LICENSE.txt")


def test_the_tier_list_shows_thresholds_and_member_counts(admin_client, tiers, make_member):
    make_member()
    make_member()
    html = admin_client.get(reverse("admin:loyalty_tier_changelist")).content.decode()
    assert "enter: 1000 EUR spent<br>keep: 800 EUR spent" in html
    assert f'<a href="/admin/loyalty/member/?tier__id__exact={tiers["bronze"].pk}">2</a>' in html
    assert 'fill="#b08d57"' in html


def test_the_tier_list_costs_the_same_queries_for_2_or_6_tiers(
    admin_client, tiers, django_assert_num_queries
):
    url = reverse("admin:loyalty_tier_changelist")
    admin_client.get(url)
    with django_assert_num_queries(5) as small:
        admin_client.get(url)
    for rank in range(2, 6):
        Tier.objects.create(code=f"tier{rank}", rank=rank, name=f"Tier {rank}", entry_orders=rank * 10)
    with django_assert_num_queries(len(small.captured_queries)):
        admin_client.get(url)


def test_the_challenge_list_counts_completions(admin_client, make_member):
    now = timezone.now()
    challenge = Challenge.objects.create(
        code="three",
        name="Three orders",
        event="purchase",
        goal=3,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
        badge_name="Regular",
    )
    for completed in (now, now, None):
        ChallengeProgress.objects.create(
            challenge=challenge,
            member=make_member(),
            count=3 if completed else 1,
            window_start=now,
            window_end=now + timedelta(days=30),
            completed_at=completed,
        )
    response = admin_client.get(reverse("admin:loyalty_challenge_changelist"))
    assert [row.completion_count for row in response.context["cl"].result_list] == [2]
