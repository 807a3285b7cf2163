from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.utils import timezone
from djmoney.contrib.exchange.models import Rate
from djmoney.money import Money

from loyalty.exceptions import (
    ActorRequired,
    ArbitrageRisk,
    ExchangeRateMissing,
    InvalidAmount,
    ReasonRequired,
)
from loyalty.models import ExchangeRate, ManualExchangeRate
from loyalty.selectors.rates import convert, forget_quotes
from loyalty.services import pin_exchange_rate, refresh_exchange_rates, unpin_exchange_rate


def test_refreshing_records_every_rate_with_its_source_and_time(rates):
    recorded = {row.currency: row for row in ExchangeRate.objects.all()}
    assert {code: row.rate for code, row in recorded.items()} == rates
    assert {row.source for row in recorded.values()} == {"loyalty-fixed"}
    assert all(timezone.now() - row.fetched_at < timedelta(minutes=1) for row in recorded.values())
    assert Rate.objects.get(currency="JPY").value == rates["JPY"]


def test_the_history_keeps_old_rates_and_conversions_use_the_newest(rates, settings):
    settings.LOYALTY = {
        **settings.LOYALTY,
        "FIXED_EXCHANGE_RATES": {**settings.LOYALTY["FIXED_EXCHANGE_RATES"], "USD": "1.10"},
    }
    refresh_exchange_rates()
    assert list(
        ExchangeRate.objects.filter(currency="USD").order_by("id").values_list("rate", flat=True)
    ) == [
        Decimal("1.08"),
        Decimal("1.10"),
    ]
    assert convert(Money("100.00", "EUR"), "USD").amount == Money("110.00", "USD")


def test_conversions_round_half_up_to_the_target_minor_units_and_keep_the_exact_rate(rates):
    conversion = convert(Money("10.00", "USD"), "JPY")
    assert conversion.amount == Money("1500", "JPY")
    assert conversion.rate == (rates["JPY"] / rates["USD"]).quantize(Decimal("1e-14"), rounding=ROUND_DOWN)
    assert convert(Money("1.00", "EUR"), "KWD").amount == Money("0.332", "KWD")


def test_a_manual_rate_overrides_the_feed_until_it_is_removed(rates, staff):
    pin_exchange_rate("USD", rate=Decimal("1.05"), reason="feed outage", actor=staff)
    pinned = convert(Money("100.00", "EUR"), "USD")
    assert (pinned.amount, pinned.source) == (Money("105.00", "USD"), "manual")
    unpin_exchange_rate("USD", actor=staff)
    assert convert(Money("100.00", "EUR"), "USD").amount == Money("108.00", "USD")


def test_pinning_again_replaces_the_previous_manual_rate(rates, staff):
    pin_exchange_rate("USD", rate=Decimal("1.05"), reason="first", actor=staff)
    pin_exchange_rate("USD", rate=Decimal("1.06"), reason="second", actor=staff)
    assert ManualExchangeRate.objects.filter(currency="USD", is_active=True).get().reason == "second"
    assert convert(Money("100.00", "EUR"), "USD").amount == Money("106.00", "USD")


def test_a_manual_rate_needs_a_reason_and_a_staff_user(rates, staff):
    with pytest.raises(ReasonRequired):
        pin_exchange_rate("USD", rate=Decimal("1.05"), reason=" ", actor=staff)
    with pytest.raises(ActorRequired):
        pin_exchange_rate("USD", rate=Decimal("1.05"), reason="outage", actor=None)


def test_a_manual_rate_that_opens_an_arbitrage_gap_is_refused_and_leaves_nothing(rates, staff, make_market):
    make_market("US", "USD", rate="1")
    with pytest.raises(ArbitrageRisk, match="US"):
        pin_exchange_rate("USD", rate=Decimal("10.8"), reason="typo for 1.08", actor=staff)
    assert not ManualExchangeRate.objects.exists()
    assert convert(Money("100.00", "EUR"), "USD").amount == Money("108.00", "USD")


def test_feed_rates_older_than_the_maximum_age_are_stale(rates, settings):
    settings.LOYALTY = {**settings.LOYALTY, "EXCHANGE_RATE_MAX_AGE_HOURS": 24}
    assert not convert(Money("1.00", "EUR"), "USD").stale
    ExchangeRate.objects.update(fetched_at=timezone.now() - timedelta(hours=25))
    forget_quotes()
    assert convert(Money("1.00", "EUR"), "USD").stale


def test_manual_rates_never_go_stale(rates, staff, settings):
    settings.LOYALTY = {**settings.LOYALTY, "EXCHANGE_RATE_MAX_AGE_HOURS": 1}
    pin = pin_exchange_rate("USD", rate=Decimal("1.05"), reason="outage", actor=staff)
    ManualExchangeRate.objects.filter(pk=pin.pk).update(set_at=timezone.now() - timedelta(days=30))
    assert not convert(Money("1.00", "EUR"), "USD").stale


def test_a_currency_without_any_rate_is_reported(rates):
    with pytest.raises(ExchangeRateMissing):
        convert(Money("1.00", "EUR"), "CHF")


def test_repeated_conversions_read_the_rates_once(rates, django_assert_num_queries):
    with django_assert_num_queries(2):
        convert(Money("1.00", "USD"), "JPY")
    with django_assert_num_queries(0):
        for _ in range(20):
            convert(Money("1.00", "USD"), "JPY")
            convert(Money("1.00", "BRL"), "EUR")


def test_refreshing_makes_the_next_conversion_read_the_new_rates(rates, settings):
    convert(Money("1.00", "EUR"), "USD")
    settings.LOYALTY = {
        **settings.LOYALTY,
        "FIXED_EXCHANGE_RATES": {**settings.LOYALTY["FIXED_EXCHANGE_RATES"], "USD": "2"},
    }
    refresh_exchange_rates()
    assert convert(Money("1.00", "EUR"), "USD").amount == Money("2.00", "USD")


def test_the_history_keeps_rates_at_full_precision(db, settings):
    settings.LOYALTY = {
        **settings.LOYALTY,
        "FIXED_EXCHANGE_RATES": {"KWD": "0.3320571234", "VND": "24987.123456789"},
    }
    refresh_exchange_rates()
    assert ExchangeRate.objects.get(currency="KWD").rate == Decimal("0.3320571234")
    assert ExchangeRate.objects.get(currency="VND").rate == Decimal("24987.1234567890")


def test_a_conversion_beyond_what_the_books_hold_is_refused(rates):
    with pytest.raises(InvalidAmount):
        convert(Money("5000000000000", "KWD"), "JPY")


@pytest.mark.parametrize(
    "rate", [1.07, Decimal("0"), Decimal("-1"), None], ids=["float", "zero", "negative", "none"]
)
def test_a_manual_rate_must_be_a_positive_decimal(rates, staff, rate):
    with pytest.raises(InvalidAmount):
        pin_exchange_rate("USD", rate=rate, reason="typo", actor=staff)
    assert not ManualExchangeRate.objects.exists()
