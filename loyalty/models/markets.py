import zoneinfo
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..money import currency_choices


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Market(models.Model):
    """A storefront region: where a member shops, in which currency, language and time zone."""

    code = models.CharField(
        _("code"),
        max_length=16,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9_-]+$", _("Use upper-case letters, digits, '-' and '_'."))],
    )
    name = models.CharField(_("name"), max_length=100)
    default_currency = models.CharField(_("default currency"), max_length=3, choices=currency_choices)
    default_language = models.CharField(_("default language"), max_length=15)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    points_per_unit = models.DecimalField(
        _("points per currency unit"),
        max_digits=12,
        decimal_places=4,
        default=Decimal(1),
        help_text=_("Points earned per whole unit of the default currency, before rounding down."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("market")
        verbose_name_plural = _("markets")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points_per_unit__gte=0), name="loyalty_market_rate_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
