from datetime import timedelta
from decimal import Decimal

import pytest
from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from django.utils import timezone
from djmoney.money import Money
from moneyed import CURRENCIES

from loyalty.exceptions import MarketChangeTooSoon, ReasonRequired, UnknownMarket
from loyalty.models import MarketChange, Member
from loyalty.money import minor_units, quantize_money, validate_money
from loyalty.services import change_market


def test_a_member_changes_market_and_the_change_is_recorded(member, make_market, staff):
    japan = make_market("JP", "JPY", time_zone="Asia/Tokyo")
    change = change_market(member, market="JP", reason="moved to Tokyo", actor=staff)
    member.refresh_from_db()
    assert (member.market, member.time_zone) == (japan, "Asia/Tokyo")
    assert (change.from_market.code, change.to_market, change.actor) == ("EU", japan, staff)


def test_a_second_change_within_the_minimum_interval_is_refused(member, make_market, settings):
    settings.LOYALTY = {"MARKET_CHANGE_MIN_DAYS": 90}
    make_market("JP", "JPY")
    change_market(member, market="JP", reason="moved")
    with pytest.raises(MarketChangeTooSoon):
        change_market(member, market="EU", reason="moved back")
    MarketChange.objects.update(changed_at=timezone.now() - timedelta(days=91))
    change_market(member, market="EU", reason="moved back")
    assert Member.objects.get(pk=member.pk).market.code == "EU"


def test_changing_to_the_same_market_records_nothing(member):
    assert change_market(member, market="EU", reason="no-op") is None
    assert not MarketChange.objects.exists()


def test_a_market_change_needs_a_reason_and_an_active_market(member, make_market):
    with pytest.raises(ReasonRequired):
        change_market(member, market="EU", reason="")
    closed = make_market("XX", "USD")
    closed.is_active = False
    closed.save()
    with pytest.raises(UnknownMarket):
        change_market(member, market="XX", reason="moved")


def test_market_settings_are_validated(market):
    market.accepted_currencies = ["USD", "XXX1"]
    market.regimes = ["gdpr", "hipaa"]
    market.countries = ["DE", "FR"]
    with pytest.raises(ValidationError) as failure:
        market.full_clean()
    assert set(failure.value.message_dict) == {"accepted_currencies", "regimes"}


def test_a_fixed_point_value_needs_an_amount(market):
    market.point_value_mode = "fixed"
    with pytest.raises(ValidationError):
        market.full_clean()


ACTIVE_CURRENCIES = sorted(code for code in list_currencies() if code in CURRENCIES)


def test_every_active_currency_rounds_to_its_minor_units_and_is_accepted():
    assert len(ACTIVE_CURRENCIES) > 140
    for code in ACTIVE_CURRENCIES:
        places = minor_units(code)
        amount = quantize_money(Money(Decimal("1234.56789"), code))
        assert amount.amount == amount.amount.quantize(Decimal(1).scaleb(-places)), code
        assert validate_money(Money(Decimal("10"), code)).amount == Decimal(10), code


def test_every_active_currency_converts_and_earns_without_exceeding_the_exact_value():
    from django.utils import timezone

    from loyalty.models import Market
    from loyalty.selectors.rates import Quote, convert
    from loyalty.services.earning import earn_points

    quotes = {
        code: Quote(Decimal("3.7"), "test", timezone.now()) for code in ACTIVE_CURRENCIES if code != "EUR"
    }
    euro_market = Market(code="EU", default_currency="EUR", points_per_unit=Decimal("1"))
    for code in ACTIVE_CURRENCIES:
        amount = quantize_money(Money(Decimal("1234.5678"), code))
        euro_market.accepted_currencies = [code]
        in_euros = convert(amount, "EUR", quotes)
        assert in_euros.amount.amount == in_euros.amount.amount.quantize(Decimal("0.01")), code
        points = earn_points(euro_market, amount, None, quotes).points
        exact = amount.amount / (Decimal("3.7") if code != "EUR" else 1)
        assert exact - 1 < points <= exact, code
