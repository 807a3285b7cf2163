"""The integrations console: event sources, the partner settlement report and the outgoing events."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from loyalty.models import EventSource, OutboxEvent, OutboxStatus, PartnerAward, SourceKind
from loyalty.models.append_only import AppendOnlyError
from loyalty.services import deliver_due_events, earn_partner_points, record_order, reverse_partner_points
from tests.helpers import allow, eur
from tests.test_webhook_outbox import Receiver

SOURCES = reverse("admin:loyalty_eventsource_changelist")
ADD_SOURCE = reverse("admin:loyalty_eventsource_add")
SETTLEMENT = reverse("admin:loyalty_eventsource_settlement")
OUTBOX = reverse("admin:loyalty_outboxevent_changelist")


@pytest.fixture
def console_user(make_user):
    """Staff who may look at the integrations; each test adds the permissions it is about."""
    user = make_user(username="integrator", is_staff=True)
    allow(user, "view_eventsource", "view_outboxevent", "view_inboundevent")
    return user


@pytest.fixture
def console(console_user):
    client = Client()
    client.force_login(console_user)
    return client


@pytest.fixture
def partners(db):
    return {
        "air": EventSource.objects.create(
            code="skyair",
            name="Sky Air",
            kind=SourceKind.PARTNER,
            currency="USD",
            points_per_unit=Decimal("2"),
            point_price=Decimal("0.0075"),
        ),
        "hotel": EventSource.objects.create(
            code="inn",
            name="Grand Inn",
            kind=SourceKind.PARTNER,
            currency="EUR",
            points_per_unit=Decimal("1"),
            point_price=Decimal("0.01"),
        ),
    }


def today() -> dict:
    day = timezone.localdate(timezone=timezone.get_default_timezone()).isoformat()
    return {"start": day, "end": day}


def until_yesterday() -> dict:
    day = timezone.localdate(timezone=timezone.get_default_timezone())
    return {"start": (day - timedelta(days=30)).isoformat(), "end": (day - timedelta(days=1)).isoformat()}


@pytest.fixture
def awards(partners, make_member):
    first, second = make_member(), make_member()
    earn_partner_points(partners["air"], first, amount=Money("100.00", "USD"), reference="PNR-1")
    earn_partner_points(partners["air"], second, amount=Money("33.00", "USD"), reference="PNR-2")
    earn_partner_points(partners["air"], first, amount=Money("500.00", "USD"), reference="PNR-3")
    earn_partner_points(partners["hotel"], first, amount=Money("80.00", "EUR"), reference="STAY-1")
    return partners


def test_a_partner_without_a_currency_or_rate_is_a_form_error(admin_client, market):
    response = admin_client.post(
        ADD_SOURCE,
        {"code": "airline", "name": "Airline", "kind": "partner", "points_per_unit": "0", "point_price": "0"},
    )
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"currency", "points_per_unit"}
    assert not EventSource.objects.exists()


@pytest.mark.parametrize("code", ["shop", "signup", "birthday", "referral"])
def test_a_source_may_not_take_the_code_of_the_plugins_own_entries(admin_client, market, code):
    response = admin_client.post(
        ADD_SOURCE,
        {"code": code, "name": "Shop", "kind": "shop", "points_per_unit": "0", "point_price": "0"},
    )
    assert "code" in response.context["adminform"].form.errors
    assert not EventSource.objects.exists()


def test_the_source_list_says_whether_a_secret_is_configured(admin_client, partners, settings):
    settings.LOYALTY = {**settings.LOYALTY, "WEBHOOK_SECRETS": {"skyair": "s3cret"}}
    response = admin_client.get(SOURCES)
    configured = {
        row.code: response.context["cl"].model_admin.secret_configured(row)
        for row in response.context["cl"].result_list
    }
    assert configured == {"skyair": True, "inn": False}
    assert "s3cret" not in response.content.decode()


def test_the_settlement_report_values_each_partners_points_at_its_price(console, console_user, awards):
    allow(console_user, "view_settlement_report")
    response = console.get(SETTLEMENT, today())
    assert response.status_code == 200
    rows = [(row.code, row.awards, row.points, row.amount) for row in response.context["rows"]]
    assert rows == [
        ("inn", 1, 80, Money(Decimal("0.80"), "EUR")),
        ("skyair", 3, 1266, Money(Decimal("9.50"), "USD")),
    ]


def test_the_settlement_report_leaves_out_points_recorded_outside_the_period(console, console_user, awards):
    allow(console_user, "view_settlement_report")
    response = console.get(SETTLEMENT, until_yesterday())
    assert {row.code: (row.awards, row.points) for row in response.context["rows"]} == {
        "inn": (0, 0),
        "skyair": (0, 0),
    }


def test_the_settlement_report_csv_holds_the_same_rows(console, console_user, awards):
    allow(console_user, "view_settlement_report")
    period = today()
    response = console.get(SETTLEMENT, {**period, "export": "csv"})
    assert (
        f'filename="partner-settlement-{period["start"]}-{period["end"]}.csv"'
        in response["Content-Disposition"]
    )
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["Partner", "Code", "Awards", "Reversals", "Points", "Amount", "Currency"],
        ["Grand Inn", "inn", "1", "0", "80", "0.80", "EUR"],
        ["Sky Air", "skyair", "3", "0", "1266", "9.50", "USD"],
    ]


def test_a_new_price_per_point_does_not_re_value_points_already_issued(
    console, console_user, awards, make_member
):
    allow(console_user, "view_settlement_report")
    EventSource.objects.filter(code="skyair").update(point_price=Decimal("0.02"))
    earn_partner_points(
        EventSource.objects.get(code="skyair"), make_member(), amount=Money("50.00", "USD"), reference="PNR-4"
    )
    rows = {row.code: row.amount for row in console.get(SETTLEMENT, today()).context["rows"]}
    # 1266 points at 0.0075 before the change, 100 at 0.02 after it.
    assert rows["skyair"] == Money(Decimal("11.50"), "USD")


def test_a_partners_award_is_never_changed_or_deleted(awards):
    with pytest.raises(AppendOnlyError):
        PartnerAward.objects.update(point_price=Decimal("0"))
    with pytest.raises(AppendOnlyError):
        PartnerAward.objects.first().delete()


def test_a_partners_code_and_settlement_currency_are_fixed_once_saved(admin_client, partners):
    page = admin_client.get(reverse("admin:loyalty_eventsource_change", args=[partners["air"].pk]))
    assert {"code", "kind", "currency"} <= set(page.context["adminform"].readonly_fields)


def test_the_settlement_report_needs_its_permission(console, awards):
    assert console.get(SETTLEMENT, today()).status_code == 403


@pytest.fixture
def failed_event(settings, member):
    receiver = Receiver()
    settings.LOYALTY = {
        **settings.LOYALTY,
        "WEBHOOK_URL": receiver.url,
        "WEBHOOK_SECRET": "s",
        "WEBHOOK_MAX_ATTEMPTS": 1,
    }
    record_order(member, order_id="o-1", amount=eur("10.00"))
    deliver_due_events()
    event = OutboxEvent.objects.get()
    assert event.status == OutboxStatus.FAILED
    yield event, receiver
    receiver.stop()


def test_an_outgoing_event_shows_its_delivery_log(console, failed_event):
    event, _ = failed_event
    response = console.get(reverse("admin:loyalty_outboxevent_change", args=[event.pk]))
    assert response.status_code == 200
    [attempt] = response.context["inline_admin_formsets"][0].formset.queryset
    assert attempt.status_code is None
    assert "refused" in attempt.error.lower()


def test_retrying_a_failed_event_delivers_it(
    console, console_user, failed_event, django_capture_on_commit_callbacks
):
    allow(console_user, "retry_outboxevent")
    event, receiver = failed_event
    receiver.start()
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(OUTBOX, {"action": "retry", ACTION_CHECKBOX_NAME: [event.pk]}, follow=True)
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.status == OutboxStatus.DELIVERED
    assert receiver.ids() == [str(event.event_id)]


def test_retrying_needs_its_permission(console, failed_event):
    event, receiver = failed_event
    response = console.post(OUTBOX, {"action": "retry", ACTION_CHECKBOX_NAME: [event.pk]})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.status == OutboxStatus.FAILED


def test_outgoing_events_cannot_be_added_changed_or_deleted(admin_client, failed_event):
    event, _ = failed_event
    assert admin_client.get(reverse("admin:loyalty_outboxevent_add")).status_code == 403
    assert admin_client.get(reverse("admin:loyalty_outboxevent_delete", args=[event.pk])).status_code == 403
    page = admin_client.get(reverse("admin:loyalty_outboxevent_change", args=[event.pk]))
    assert not page.context["has_change_permission"]


def test_a_failed_event_waits_no_retry_until_staff_retry_it(failed_event):
    event, receiver = failed_event
    receiver.start()
    deliver_due_events(now=timezone.now() + timedelta(days=365))
    assert receiver.ids() == []
    assert event.delivery_attempts.count() == 1


def test_the_settlement_nets_a_reversal_at_the_price_the_award_had(console, console_user, awards):
    allow(console_user, "view_settlement_report")
    air = EventSource.objects.get(code="skyair")
    EventSource.objects.filter(pk=air.pk).update(point_price=Decimal("0.02"))
    reverse_partner_points(air, reference="PNR-3")
    [row] = [row for row in console.get(SETTLEMENT, today()).context["rows"] if row.code == "skyair"]
    # PNR-3 earned 1000 points at 0.0075: 7.50 taken off, whatever the price is now.
    assert (row.awards, row.reversals, row.points, row.amount) == (3, 1, 266, Money(Decimal("2.00"), "USD"))
