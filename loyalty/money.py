"""Money and points arithmetic: the one place that states the rounding rules.

- Money is rounded to its currency's minor units (CLDR, through Babel: JPY 0, EUR 2, KWD 3)
  with ROUND_HALF_UP, here in Python and never by the database, which rounds differently on
  SQLite and PostgreSQL.
- Points from money are whole numbers rounded down (ROUND_DOWN): a shopper is never credited
  a point the amount did not fully pay for.
- Qualifying spend shown to members is rounded to the base currency's minor units: what they have
  rounds down and what they still need rounds up, so spending the amount shown is always enough.
- Proportional clawbacks are computed on cumulative totals and rounded down, so several
  partial refunds that add up to the whole order take back exactly what the order earned.

No float is used anywhere.
"""

from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from babel.numbers import get_currency_precision
from djmoney.money import Money
from moneyed import CURRENCIES

from .conf import loyalty_settings
from .exceptions import InvalidAmount

# Exchange rates are kept (and stored on entries) at this precision, so a stored rate reproduces its points.
RATE_EXPONENT = Decimal("1e-14")
# Every MoneyField stores this many decimal places; amounts are quantized per currency first.
STORED_DECIMAL_PLACES = 4
STORED_MAX_DIGITS = 19
# Largest amount a MoneyField holds (19 digits, 4 of them decimals), and a ceiling for points.
MAX_AMOUNT = Decimal(10) ** (STORED_MAX_DIGITS - STORED_DECIMAL_PLACES)
MAX_POINTS = 10**15


def currency_choices() -> list[tuple[str, str]]:
    """Choices for currency fields (a callable, so migrations never depend on host settings)."""
    return sorted((code, currency.name) for code, currency in CURRENCIES.items() if code != "XYZ")


def no_default_currency() -> None:
    """No default currency, as a callable so the host's DEFAULT_CURRENCY stays out of our migrations."""
    return None


def is_known_currency(code: str) -> bool:
    return code in CURRENCIES and code != "XYZ"


def minor_units(currency_code: str) -> int:
    """Decimal places of the currency's minor unit according to CLDR."""
    return get_currency_precision(currency_code)


def quantize_money(amount: Money) -> Money:
    """Round to the currency's minor units, half up."""
    exponent = Decimal(1).scaleb(-minor_units(amount.currency.code))
    return Money(amount.amount.quantize(exponent, rounding=ROUND_HALF_UP), amount.currency.code)


def validate_money(amount: object) -> Money:
    """Return the amount quantized to its minor units, or raise ``invalid_amount``.

    Accepts a positive djmoney ``Money`` in an ISO 4217 currency.
    """
    if not isinstance(amount, Money) or not isinstance(amount.amount, Decimal):
        raise InvalidAmount()
    if not is_known_currency(amount.currency.code) or not amount.amount.is_finite():
        raise InvalidAmount()
    if not 0 < amount.amount < MAX_AMOUNT:  # before rounding: a huge exponent cannot be quantized
        raise InvalidAmount()
    quantized = quantize_money(amount)
    if not 0 < quantized.amount < MAX_AMOUNT:
        raise InvalidAmount()
    return quantized


def whole_points(exact: Decimal) -> int:
    """Points for an exact (unrounded) value, rounded down; ``invalid_amount`` beyond ``MAX_POINTS``."""
    points = int(exact.to_integral_value(rounding=ROUND_DOWN))
    if points > MAX_POINTS:
        raise InvalidAmount()
    return points


def proportional_points(total_points: int, part: Decimal, whole: Decimal) -> int:
    """``total_points * part / whole`` rounded down, exact when ``part == whole``."""
    if part >= whole:
        return total_points
    return int((Decimal(total_points) * part / whole).to_integral_value(rounding=ROUND_DOWN))


def shown_spend(value: Decimal | int, *, to_reach: bool = False) -> Decimal:
    """A qualifying-spend figure (base currency) as members see it; ``to_reach`` rounds up."""
    exponent = Decimal(1).scaleb(-minor_units(loyalty_settings.BASE_CURRENCY))
    return Decimal(value).quantize(exponent, rounding=ROUND_UP if to_reach else ROUND_DOWN)
