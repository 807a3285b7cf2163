"""Points earned in any currency: the rate that applies, recorded on the entry, fair across currencies."""

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.utils import timezone
from djmoney.money import Money
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.exceptions import CurrencyNotAccepted, ExchangeRateMissing
from loyalty.models import EarnRate, EntryType, ExchangeRate, Market, Member, OrderRecord, Tier
from loyalty.money import minor_units
from loyalty.selectors.rates import Quote, forget_quotes
from loyalty.services import record_order
from loyalty.services.earning import earn_points
from tests.helpers import entries_of


def floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_DOWN))


def cross(rates: dict, source: str, target: str) -> Decimal:
    """Units of target per unit of source, through EUR, at the precision rates are kept."""
    per_eur = {"EUR": Decimal(1), **rates}
    return (per_eur[target] / per_eur[source]).quantize(Decimal("1e-14"), rounding=ROUND_DOWN)


@pytest.fixture
def eu(market):
    market.accepted_currencies = ["USD", "ZAR"]
    market.save()
    return market


def test_orders_in_five_currencies_earn_what_their_rates_promise(
    rates, market, make_market, make_member, settings
):
    settings.LOYALTY = {**settings.LOYALTY, "BASE_POINTS_PER_UNIT": Decimal("2")}
    japan = make_market("JP", "JPY", rate="0.01")
    kuwait = make_market("KW", "KWD", rate="3")
    europe = market
    brazil = make_market("BR", "BRL")
    brazil.points_per_unit = None
    brazil.save()
    china = make_market("CN", "CNY", rate="0.1")
    china.accepted_currencies = ["USD"]
    china.save()
    EarnRate.objects.create(market=china, currency="USD", points_per_unit=Decimal("0.9"))
    cases = [
        (japan, Money("15800", "JPY"), floor(Decimal("15800") * Decimal("0.01")), "market"),
        (kuwait, Money("12.345", "KWD"), floor(Decimal("12.345") * 3), "market"),
        (europe, Money("99.99", "EUR"), 99, "market"),
        (brazil, Money("349.90", "BRL"), floor(Decimal("349.90") * 2 / rates["BRL"]), "base"),
        (china, Money("268.28", "CNY"), floor(Decimal("268.28") * Decimal("0.1")), "market"),
        (china, Money("50.00", "USD"), 45, "market_currency"),
    ]
    for number, (where, amount, expected, rule) in enumerate(cases):
        order = record_order(make_member(market=where), order_id=f"O{number}", amount=amount)
        entry = entries_of(order.member, entry_type=EntryType.EARN).get()
        assert (order.points, entry.rate_rule, entry.amount) == (expected, rule, amount), amount
    brazil_entry = entries_of(OrderRecord.objects.get(external_id="O3").member).get()
    assert brazil_entry.fx_rate == cross(rates, "BRL", "EUR")
    assert brazil_entry.fx_source == "loyalty-fixed"
    assert brazil_entry.fx_at == ExchangeRate.objects.get(currency="BRL").fetched_at
    assert brazil_entry.converted_amount == Money("59.31", "EUR")
    assert brazil_entry.rate == Decimal("2")


def test_an_order_in_another_accepted_currency_is_converted_to_the_markets_currency(rates, eu, member):
    order = record_order(member, order_id="A1", amount=Money("54.00", "USD"))
    entry = entries_of(member, entry_type=EntryType.EARN).get()
    assert order.points == floor(Decimal("54.00") / rates["USD"])
    assert (entry.rate_rule, entry.converted_amount, entry.fx_stale) == (
        "market",
        Money("50.00", "EUR"),
        False,
    )


def test_the_markets_rate_for_a_currency_outranks_its_own_rate(rates, eu, member):
    EarnRate.objects.create(market=eu, currency="USD", points_per_unit=Decimal("0.5"))
    assert record_order(member, order_id="A1", amount=Money("54.00", "USD")).points == 27
    entry = entries_of(member, entry_type=EntryType.EARN).get()
    assert (entry.rate_rule, entry.fx_rate, entry.converted_amount) == ("market_currency", None, None)


def test_a_currency_the_market_does_not_accept_is_refused(rates, member):
    with pytest.raises(CurrencyNotAccepted):
        record_order(member, order_id="A1", amount=Money("10.00", "USD"))


def test_an_order_in_a_currency_without_a_rate_writes_nothing(rates, eu, member):
    eu.accepted_currencies = ["CHF"]
    eu.save()
    with pytest.raises(ExchangeRateMissing):
        record_order(member, order_id="A1", amount=Money("10.00", "CHF"))
    assert not OrderRecord.objects.exists()


def test_a_stale_rate_still_earns_and_marks_the_entry(rates, eu, member, settings):
    settings.LOYALTY = {**settings.LOYALTY, "EXCHANGE_RATE_MAX_AGE_HOURS": 24}
    ExchangeRate.objects.update(fetched_at=timezone.now() - timedelta(days=3))
    forget_quotes()
    order = record_order(member, order_id="A1", amount=Money("54.00", "USD"))
    assert order.points == 50
    assert entries_of(member, entry_type=EntryType.EARN).get().fx_stale


def test_switching_the_display_currency_does_not_change_the_points(rates, eu, make_member):
    in_euros = record_order(make_member(), order_id="EUR-1", amount=Money("100.00", "EUR"))
    in_rand = record_order(make_member(), order_id="ZAR-1", amount=Money("1970.00", "ZAR"))
    assert in_rand.points == in_euros.points == 100


QUOTED = ["EUR", "USD", "JPY", "KWD", "BRL", "CNY", "ZAR", "CHF", "BHD", "KRW", "CLP"]


@st.composite
def quotes_and_amounts(draw):
    per_eur = {
        code: draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50000"), places=4))
        for code in QUOTED
        if code != "EUR"
    }
    quotes = {code: Quote(rate, "test", timezone.now()) for code, rate in per_eur.items()}
    currency = draw(st.sampled_from(QUOTED))
    units = draw(st.integers(min_value=1, max_value=10**9))
    amount = Money(Decimal(units).scaleb(-minor_units(currency)), currency)
    return quotes, amount


def market_of(default: str, accepted: str, points_per_unit: Decimal | None) -> Market:
    return Market(
        code="X", default_currency=default, accepted_currencies=[accepted], points_per_unit=points_per_unit
    )


@settings(max_examples=300, deadline=None)
@given(
    data=quotes_and_amounts(),
    default=st.sampled_from(QUOTED),
    points_per_unit=st.one_of(st.none(), st.decimals(min_value=0, max_value=Decimal("50"), places=4)),
)
def test_points_never_exceed_the_exact_value_and_conversions_land_on_minor_units(
    data, default, points_per_unit
):
    quotes, amount = data
    earned = earn_points(market_of(default, amount.currency.code, points_per_unit), amount, None, quotes)
    per_eur = {"EUR": Decimal(1), **{code: quote.rate for code, quote in quotes.items()}}
    target = default if points_per_unit is not None else "EUR"
    rate = points_per_unit if points_per_unit is not None else Decimal(1)
    exact = amount.amount * per_eur[target] / per_eur[amount.currency.code] * rate
    assert isinstance(earned.points, int)
    assert 0 <= earned.points <= exact
    assert earned.points >= floor(exact) - 1
    if earned.conversion is not None:
        converted = earned.conversion.amount.amount
        assert converted == converted.quantize(Decimal(1).scaleb(-minor_units(target)))


def test_a_tiers_rate_for_the_currency_outranks_the_general_one(rates, eu, make_member):
    gold = Tier.objects.create(code="gold", rank=2, name="Gold", granted_only=True)
    EarnRate.objects.create(market=eu, currency="USD", points_per_unit=Decimal("0.9"))
    EarnRate.objects.create(market=eu, currency="USD", tier=gold, points_per_unit=Decimal("1.2"))
    regular, golden = make_member(), make_member()
    Member.objects.filter(pk=golden.pk).update(tier=gold)
    assert record_order(regular, order_id="R1", amount=Money("100.00", "USD")).points == 90
    assert record_order(golden, order_id="G1", amount=Money("100.00", "USD")).points == 120
    assert entries_of(golden).get().rate_rule == "market_currency_tier"
    assert entries_of(regular).get().rate_rule == "market_currency"


def test_a_tier_without_a_rate_of_its_own_gets_the_general_one(rates, eu, make_member):
    silver = Tier.objects.create(code="silver", rank=1, name="Silver")
    EarnRate.objects.create(market=eu, currency="USD", points_per_unit=Decimal("0.9"))
    member = make_member()
    Member.objects.filter(pk=member.pk).update(tier=silver)
    assert record_order(member, order_id="S1", amount=Money("100.00", "USD")).points == 90
