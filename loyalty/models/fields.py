from djmoney.models.fields import MoneyField

from ..money import STORED_DECIMAL_PLACES, STORED_MAX_DIGITS, currency_choices, no_default_currency


def amount_field(verbose_name, **kwargs) -> MoneyField:
    """A MoneyField stored at 4 decimal places, with host-independent currency choices and default."""
    return MoneyField(
        verbose_name,
        max_digits=STORED_MAX_DIGITS,
        decimal_places=STORED_DECIMAL_PLACES,
        default_currency=no_default_currency,
        currency_choices=currency_choices,
        **kwargs,
    )
