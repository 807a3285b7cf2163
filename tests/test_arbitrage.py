from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.exceptions import ArbitrageRisk
from loyalty.models import EarnRate, Market, Tier
from loyalty.money import minor_units
from loyalty.selectors.arbitrage import check_arbitrage, point_value, round_trips
from loyalty.selectors.rates import Quote
from loyalty.services.earning import earn_points


@pytest.fixture
def fair_markets(rates, market, make_market):
    """Markets whose rates follow the exchange rates, so every round trip is the base one."""
    make_market("US", "USD", rate="0.92")
    make_market("JP", "JPY", rate="0.006")
    return market


def test_markets_that_follow_the_exchange_rates_pass(fair_markets):
    check_arbitrage()
    trips = round_trips()
    assert len(trips) == 9
    assert all(Decimal("0.95") <= trip.ratio <= Decimal("1.00") for trip in trips)


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


def japan_form(**changes) -> dict:
    """The console's market form for JP, as a browser would post it."""
    return {
        "code": "JP",
        "name": "Japan",
        "default_currency": "JPY",
        "accepted_currencies": "[]",
        "default_language": "en",
        "time_zone": "UTC",
        "regimes": "[]",
        "point_value_mode": "pegged",
        "is_active": "on",
        **changes,
    }


def test_the_console_refuses_a_market_change_that_opens_arbitrage(admin_client, fair_markets):
    japan = Market.objects.get(code="JP")
    url = reverse("admin:loyalty_market_change", args=[japan.pk])
    form = japan_form(
        points_per_unit="0.01", **{"earn_rates-TOTAL_FORMS": "0", "earn_rates-INITIAL_FORMS": "0"}
    )
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
GOLD = Tier(pk=1, code="gold", rank=1, name="Gold")


def configuration(data, per_eur: dict[str, Decimal]) -> tuple[list[Market], list[EarnRate]]:
    """Markets (accepted currencies, fixed or pegged point values) and earn rates, some per tier, set near
    the exactly fair rate so that many configurations pass the check."""
    generosity = st.decimals(min_value=Decimal("0.6"), max_value=Decimal("1.04"), places=3)
    # A market's own rate is sometimes too generous, so that explicit rates may hide it.
    own_generosity = st.decimals(min_value=Decimal("0.6"), max_value=Decimal("1.3"), places=3)
    markets = []
    for number, code in enumerate(CURRENCIES):
        fixed = data.draw(st.booleans())
        own_rate = data.draw(st.one_of(st.none(), own_generosity))
        markets.append(
            Market(
                pk=number + 1,
                code=code,
                default_currency=code,
                accepted_currencies=[data.draw(st.sampled_from(CURRENCIES))],
                points_per_unit=None if own_rate is None else own_rate / per_eur[code],
                point_value_mode="fixed" if fixed else "pegged",
                point_value=data.draw(generosity) * Decimal("0.01") * per_eur[code] if fixed else None,
            )
        )
    earn_rates = []
    for market in markets:
        for currency in market.currencies:
            for tier in (None, GOLD):
                if data.draw(st.integers(0, 3)):
                    fair = 1 / per_eur[currency]
                    earn_rates.append(
                        EarnRate(
                            market=market,
                            currency=currency,
                            tier=tier,
                            points_per_unit=data.draw(generosity) * fair,
                        )
                    )
    return markets, earn_rates


def rate_for(earn_rates, market, currency, tier):
    """The explicit rate a member of ``tier`` gets, as points_for_order resolves it."""
    matches = {
        rate.tier_id: rate.points_per_unit
        for rate in earn_rates
        if rate.market is market and rate.currency == currency
    }
    if tier is not None and tier.pk in matches:
        return matches[tier.pk]
    return matches.get(None)


@settings(max_examples=150, deadline=None)
@given(
    rates=st.fixed_dictionaries(
        {
            code: st.decimals(min_value=Decimal("0.05"), max_value=Decimal("500"), places=3)
            for code in CURRENCIES[1:]
        }
    ),
    data=st.data(),
    units=st.integers(min_value=1, max_value=10**8),
    earn=st.integers(0, 4),
    redeem=st.integers(0, 4),
    tier=st.sampled_from([None, GOLD]),
)
def test_an_accepted_configuration_never_returns_more_than_the_ceiling(
    rates, data, units, earn, redeem, tier
):
    per_eur = {"EUR": Decimal(1), **rates}
    markets, earn_rates = configuration(data, per_eur)
    quotes = {code: Quote(rate, "test", timezone.now()) for code, rate in rates.items()}
    try:
        check_arbitrage(markets=markets, earn_rates=earn_rates, quotes=quotes)
    except ArbitrageRisk:
        return
    market = markets[earn]
    currency = market.currencies[units % len(market.currencies)]
    spent = Money(Decimal(units).scaleb(-minor_units(currency)), currency)
    points = earn_points(market, spent, rate_for(earn_rates, market, currency, tier), quotes).points
    returned_in_base = (
        points * point_value(markets[redeem], quotes) / per_eur[markets[redeem].default_currency]
    )
    spent_in_base = spent.amount / per_eur[currency]
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


def test_a_market_whose_currency_has_no_rate_cannot_pass_the_check(fair_markets, make_market):
    make_market("ID", "IDR", rate="1")
    with pytest.raises(ArbitrageRisk, match="cannot be checked: an exchange rate is missing") as refusal:
        check_arbitrage()
    assert " ID" in str(refusal.value.detail)


def test_a_tier_only_rate_does_not_hide_the_rate_other_members_fall_back_to(fair_markets):
    europe = fair_markets
    europe.accepted_currencies = ["USD"]
    europe.points_per_unit = Decimal("5")
    gold = Tier.objects.create(code="gold", rank=1, name="Gold")
    rates = [
        EarnRate(market=europe, currency="EUR", points_per_unit=Decimal("1")),
        EarnRate(market=europe, currency="USD", tier=gold, points_per_unit=Decimal("0.9")),
    ]
    with pytest.raises(ArbitrageRisk, match=r"EU \(USD\)"):
        check_arbitrage(markets=[*Market.objects.exclude(pk=europe.pk), europe], earn_rates=rates)


def test_inactive_markets_are_checked_too(fair_markets):
    japan = Market.objects.get(code="JP")
    japan.is_active, japan.points_per_unit = False, Decimal("1")
    with pytest.raises(ArbitrageRisk, match=r"JP \(JPY\)"):
        check_arbitrage(markets=[*Market.objects.exclude(pk=japan.pk), japan])


def test_staff_without_earn_rate_rights_cannot_open_arbitrage_from_the_market_form(
    client, fair_markets, make_user
):
    from django.contrib.auth.models import Permission

    staff = make_user(username="merchandiser", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_market", "change_market"]))
    client.force_login(staff)
    japan = Market.objects.get(code="JP")
    response = client.post(
        reverse("admin:loyalty_market_change", args=[japan.pk]), japan_form(points_per_unit="1")
    )
    assert response.status_code == 200
    assert "Earning in JP (JPY)" in response.content.decode()
    assert Market.objects.get(pk=japan.pk).points_per_unit == Decimal("0.006")
