from decimal import ROUND_DOWN, Decimal

from django.urls import reverse
from djmoney.money import Money

from loyalty.selectors.liability import points_liability
from loyalty.services import adjust_points, record_order


def test_liability_values_each_markets_points_and_sums_them_in_the_base_currency(
    rates, make_market, make_member, staff, settings
):
    settings.LOYALTY = {**settings.LOYALTY, "BASE_POINT_VALUE": Decimal("0.01")}
    brazil = make_market("BR", "BRL", rate="0.17")
    brazil.point_value_mode, brazil.point_value = "fixed", Decimal("0.05")
    brazil.save()
    europe_member, brazil_member = make_member(), make_member(market=brazil)
    adjust_points(europe_member, points=1000, reason="welcome", actor=staff)
    adjust_points(brazil_member, points=2000, reason="welcome", actor=staff)
    record_order(brazil_member, order_id="B1", amount=Money("100.00", "BRL"))
    liability = points_liability()
    lines = {line.market: line for line in liability.lines}
    assert (lines["EU"].available, lines["EU"].value, lines["EU"].base_value) == (
        1000,
        Money("10.00", "EUR"),
        Money("10.00", "EUR"),
    )
    brazil_line = lines["BR"]
    assert (brazil_line.available, brazil_line.pending) == (2000, 17)
    assert brazil_line.value == Money("100.00", "BRL")
    assert brazil_line.rate == (1 / rates["BRL"]).quantize(Decimal("1e-14"), rounding=ROUND_DOWN)
    assert brazil_line.base_value == Money("16.95", "EUR")
    assert brazil_line.rate_source == "loyalty-fixed"
    assert liability.base_value == Money("26.95", "EUR")


def test_the_console_shows_the_liability(admin_client, rates, member, staff):
    adjust_points(member, points=1000, reason="welcome", actor=staff)
    html = admin_client.get(reverse("admin:loyalty_market_liability")).content.decode()
    assert "€10.00" in html


def test_a_market_without_an_exchange_rate_is_shown_but_left_out_of_the_totals(
    rates, make_market, make_member, staff, admin_client
):
    swiss = make_market("CH", "CHF", rate="1")
    adjust_points(make_member(market=swiss), points=500, reason="welcome", actor=staff)
    adjust_points(make_member(), points=100, reason="welcome", actor=staff)
    liability = points_liability()
    lines = {line.market: line for line in liability.lines}
    assert (lines["CH"].available, lines["CH"].base_value) == (500, None)
    assert (liability.base_value, liability.complete) == (Money("1.00", "EUR"), False)
    html = admin_client.get(reverse("admin:loyalty_market_liability")).content.decode()
    assert "no exchange rate" in html
