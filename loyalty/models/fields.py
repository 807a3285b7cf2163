from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
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


def staff_user_field() -> models.ForeignKey:
    """The staff user behind a change (PROTECT: such staff are deactivated, never deleted)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
