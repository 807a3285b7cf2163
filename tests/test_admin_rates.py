"""Exchange rates in the console: history read-only, manual rates only through the service."""

from decimal import Decimal

from django.urls import reverse

from loyalty.models import ExchangeRate, ManualExchangeRate

PIN = reverse("admin:loyalty_manualexchangerate_add")


def test_the_rate_history_is_read_only(admin_client, rates):
    assert admin_client.get(reverse("admin:loyalty_exchangerate_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:loyalty_exchangerate_add")).status_code == 403
    row = ExchangeRate.objects.first()
    assert (
        admin_client.post(
            reverse("admin:loyalty_exchangerate_delete", args=[row.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_a_manual_rate_set_in_the_console_records_who_and_why(admin_client, admin_user, rates):
    response = admin_client.post(PIN, {"currency": "USD", "rate": "1.07", "reason": "feed outage"})
    assert response.status_code == 302
    pin = ManualExchangeRate.objects.get()
    assert (pin.rate, pin.reason, pin.set_by, pin.is_active) == (
        Decimal("1.07"),
        "feed outage",
        admin_user,
        True,
    )


def test_the_console_refuses_a_manual_rate_that_opens_arbitrage(admin_client, rates, make_market):
    make_market("US", "USD", rate="0.92")
    response = admin_client.post(PIN, {"currency": "USD", "rate": "10.8", "reason": "typo"})
    assert response.status_code == 200
    assert "Earning in US (USD)" in response.content.decode()
    assert not ManualExchangeRate.objects.exists()


def test_a_manual_rate_can_be_returned_to_the_feed(admin_client, rates):
    admin_client.post(PIN, {"currency": "USD", "rate": "1.07", "reason": "feed outage"})
    pin = ManualExchangeRate.objects.get()
    admin_client.post(
        reverse("admin:loyalty_manualexchangerate_changelist"),
        {"action": "unpin", "_selected_action": [pin.pk]},
    )
    pin.refresh_from_db()
    assert not pin.is_active


def test_the_markets_list_links_to_the_round_trips_and_the_liability(admin_client, market):
    html = admin_client.get(reverse("admin:loyalty_market_changelist")).content.decode()
    assert reverse("admin:loyalty_market_round_trips") in html
    assert reverse("admin:loyalty_market_liability") in html


def test_djmoneys_own_rate_table_is_not_offered_for_editing(admin_client):
    assert b"/admin/exchange/rate/" not in admin_client.get(reverse("admin:index")).content
