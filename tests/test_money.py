from decimal import Decimal

import pytest
from djmoney.money import Money

from loyalty.exceptions import InvalidAmount
from loyalty.money import minor_units, proportional_points, quantize_money, validate_money, whole_points


@pytest.mark.parametrize(
    ("code", "places"), [("JPY", 0), ("KRW", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("BHD", 3)]
)
def test_minor_units_follow_cldr(code, places):
    assert minor_units(code) == places


@pytest.mark.parametrize(
    ("amount", "code", "expected"),
    [
        ("10.005", "EUR", "10.01"),
        ("10.025", "EUR", "10.03"),
        ("1234.5", "JPY", "1235"),
        ("2.0005", "KWD", "2.001"),
    ],
)
def test_money_rounds_half_up_to_minor_units(amount, code, expected):
    assert quantize_money(Money(Decimal(amount), code)).amount == Decimal(expected)


def test_points_round_down():
    assert whole_points(Decimal("268.28")) == 268
    assert whole_points(Decimal("99.99") * Decimal("0.5")) == 49


def test_points_are_integers_without_float_noise():
    points = whole_points(Decimal("268.28") * Decimal("0.15"))
    assert points == 40
    assert type(points) is int


def test_proportional_points_are_exact_for_the_whole_amount():
    assert proportional_points(101, Decimal("33.33"), Decimal("33.33")) == 101
    assert proportional_points(101, Decimal("11.11"), Decimal("33.33")) == 33


@pytest.mark.parametrize(
    "amount",
    [10.5, Decimal("10"), Money("0", "EUR"), Money("-5", "EUR"), Money("0.004", "EUR"), Money("NaN", "EUR")],
    ids=["float", "bare-decimal", "zero", "negative", "rounds-to-zero", "nan"],
)
def test_invalid_amounts_are_rejected(amount):
    with pytest.raises(InvalidAmount):
        validate_money(amount)
