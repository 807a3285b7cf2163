"""The integrations console in a real browser: the partner settlement and an outgoing event retried."""

import re
from decimal import Decimal

import pytest
from djmoney.money import Money
from playwright.sync_api import expect

from loyalty.models import EventSource, OutboxEvent, OutboxStatus, SourceKind
from loyalty.services import deliver_due_events, earn_partner_points, record_order
from tests.helpers import eur
from tests.test_webhook_outbox import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_to_admin(page, live_server, next_url: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")


def test_finance_reads_what_each_partner_owes_for_the_points_it_issued(
    page, live_server, admin_user, make_member, screenshot
):
    airline = EventSource.objects.create(
        code="skyair",
        name="Sky Air",
        kind=SourceKind.PARTNER,
        currency="USD",
        points_per_unit=Decimal("2"),
        point_price=Decimal("0.0075"),
    )
    for number, amount in enumerate(("100.00", "533.00")):
        earn_partner_points(airline, make_member(), amount=Money(amount, "USD"), reference=f"PNR-{number}")
    sign_in_to_admin(page, live_server, "/admin/loyalty/eventsource/")
    page.get_by_role("link", name="Partner settlement").click()
    row = page.locator("#settlement-rows tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Sky Air")
    expect(row).to_contain_text("1266")
    expect(row).to_contain_text("9.50 USD")
    expect(page.locator("#settlement-csv")).to_have_attribute("href", re.compile("export=csv"))
    screenshot("admin-partner-settlement")


def test_support_sees_an_undelivered_event_and_retries_it_once_the_shop_is_back(
    page, live_server, admin_user, member, settings, screenshot
):
    receiver = Receiver()
    settings.LOYALTY = {
        **settings.LOYALTY,
        "WEBHOOK_URL": receiver.url,
        "WEBHOOK_SECRET": "shop-secret",
        "WEBHOOK_MAX_ATTEMPTS": 1,
    }
    record_order(member, order_id="o-1", amount=eur("10.00"))
    deliver_due_events()
    event = OutboxEvent.objects.get()
    assert event.status == OutboxStatus.FAILED
    sign_in_to_admin(page, live_server, "/admin/loyalty/outboxevent/")
    row = page.locator("#result_list tbody tr")
    expect(row.locator(".webhook-failed")).to_have_text("gave up")
    row.get_by_role("link", name="points.earned").click()
    expect(page.locator(".inline-group")).to_contain_text("refused")
    screenshot("admin-outgoing-event-log")

    receiver.start()
    try:
        page.goto(f"{live_server.url}/admin/loyalty/outboxevent/")
        page.locator("input[name=_selected_action]").check()
        page.select_option("select[name=action]", "retry")
        page.get_by_role("button", name="Go").click()
        expect(page.locator(".messagelist")).to_contain_text("Queued 1 event for delivery.")
        expect(page.locator("#result_list tbody tr")).to_contain_text("delivered")
        screenshot("admin-outgoing-event-retried")
    finally:
        receiver.stop()
    assert receiver.ids() == [str(event.event_id)]
