import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from ..money import currency_choices, is_known_currency
from .tiers import Tier


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def validate_currency_list(value: object) -> None:
    if not isinstance(value, list) or not all(
        isinstance(code, str) and is_known_currency(code) for code in value
    ):
        raise ValidationError(_('List ISO 4217 currency codes, such as ["EUR", "USD"].'))


class Regime(models.TextChoices):
    """Data-protection laws a market's members fall under (used by consent and privacy)."""

    GDPR = "gdpr", _("GDPR (EU/EEA)")
    UK_GDPR = "uk_gdpr", _("UK GDPR")
    PIPL = "pipl", _("PIPL (China)")
    LGPD = "lgpd", _("LGPD (Brazil)")
    CCPA = "ccpa", _("CCPA (California)")


def validate_regimes(value: object) -> None:
    if not isinstance(value, list) or not all(code in Regime.values for code in value):
        raise ValidationError(
            _("List data-protection regimes among: %(choices)s."),
            params={"choices": ", ".join(Regime.values)},
        )


class ResidencyRegion(models.TextChoices):
    """Where the personal data of a market's members is stored (see RESIDENCY_DATABASES)."""

    EU = "eu", _("European Union")
    UK = "uk", _("United Kingdom")
    CN = "cn", _("China")
    BR = "br", _("Brazil")
    US = "us", _("United States")
    REST = "row", _("rest of the world")


class PointValueMode(models.TextChoices):
    PEGGED = "pegged", _("pegged to the base currency (follows exchange rates)")
    FIXED = "fixed", _("fixed in the market's currency")


class Market(models.Model):
    """A storefront region: where a member shops, in which currencies, language and time zone."""

    code = models.CharField(
        _("code"),
        max_length=16,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9_-]+$", _("Use upper-case letters, digits, '-' and '_'."))],
    )
    name = models.CharField(_("name"), max_length=100)
    countries = CountryField(_("countries"), multiple=True, blank=True)
    default_currency = models.CharField(_("default currency"), max_length=3, choices=currency_choices)
    accepted_currencies = models.JSONField(
        _("other accepted currencies"),
        default=list,
        blank=True,
        validators=[validate_currency_list],
        help_text=_("Currencies besides the default one in which orders of this market may be paid."),
    )
    default_language = models.CharField(_("default language"), max_length=15)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    regimes = models.JSONField(
        _("data-protection regimes"), default=list, blank=True, validators=[validate_regimes]
    )
    residency_region = models.CharField(
        _("residency region"),
        max_length=10,
        choices=ResidencyRegion.choices,
        default=ResidencyRegion.REST,
        help_text=_("Where its members' personal data is stored."),
    )
    minimum_age = models.PositiveSmallIntegerField(
        _("minimum membership age"),
        null=True,
        blank=True,
        help_text=_("Empty: no minimum. With a minimum, members must give their birth date to join."),
    )
    points_per_unit = models.DecimalField(
        _("points per currency unit"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_(
            "Points earned per whole unit of the default currency, before rounding down. "
            "Empty: the program's base rate applies, after conversion to the base currency."
        ),
    )
    point_value_mode = models.CharField(
        _("point value"), max_length=10, choices=PointValueMode.choices, default=PointValueMode.PEGGED
    )
    point_value = models.DecimalField(
        _("fixed point value"),
        max_digits=19,
        decimal_places=6,
        null=True,
        blank=True,
        help_text=_("What one point is worth when redeemed, in the default currency (fixed mode only)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("market")
        verbose_name_plural = _("markets")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points_per_unit__gte=0) | models.Q(points_per_unit__isnull=True),
                name="loyalty_market_rate_gte_0",
            ),
            models.CheckConstraint(
                condition=~models.Q(point_value_mode="fixed") | models.Q(point_value__gt=0),
                name="loyalty_market_fixed_value_set",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        if self.point_value_mode == PointValueMode.FIXED and not self.point_value:
            raise ValidationError({"point_value": _("A fixed point value needs an amount.")})

    @property
    def currencies(self) -> list[str]:
        """The default currency first, then the other accepted ones."""
        return [
            self.default_currency,
            *(code for code in self.accepted_currencies if code != self.default_currency),
        ]


class EarnRate(models.Model):
    """Points per unit of a currency in a market, optionally for one tier; outranks the market's own rate."""

    market = models.ForeignKey(
        Market, verbose_name=_("market"), on_delete=models.CASCADE, related_name="earn_rates"
    )
    currency = models.CharField(_("currency"), max_length=3, choices=currency_choices)
    tier = models.ForeignKey(
        Tier,
        verbose_name=_("tier"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="earn_rates",
        help_text=_("Empty: every member of the market; a tier's own rate outranks it."),
    )
    points_per_unit = models.DecimalField(_("points per currency unit"), max_digits=12, decimal_places=4)

    class Meta:
        verbose_name = _("earn rate")
        verbose_name_plural = _("earn rates")
        constraints = [
            models.UniqueConstraint(
                fields=["market", "currency"],
                condition=models.Q(tier__isnull=True),
                name="loyalty_earnrate_unique",
            ),
            models.UniqueConstraint(
                fields=["market", "currency", "tier"],
                condition=models.Q(tier__isnull=False),
                name="loyalty_earnrate_tier_unique",
            ),
            models.CheckConstraint(condition=models.Q(points_per_unit__gte=0), name="loyalty_earnrate_gte_0"),
        ]

    def __str__(self) -> str:
        tier = f"/{self.tier.code}" if self.tier_id else ""
        return f"{self.market.code}/{self.currency}{tier}: {self.points_per_unit}"


class ExchangeRate(models.Model):
    """Our own rate history (djmoney keeps only the latest rate): units of ``currency`` per base unit."""

    base_currency = models.CharField(_("base currency"), max_length=3)
    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(_("rate"), max_digits=24, decimal_places=10)
    source = models.CharField(_("source"), max_length=100)
    fetched_at = models.DateTimeField(_("fetched at"), default=timezone.now)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["-fetched_at", "currency"]
        indexes = [
            models.Index(fields=["base_currency", "currency", "-fetched_at"], name="loyalty_fx_latest")
        ]
        constraints = [models.CheckConstraint(condition=models.Q(rate__gt=0), name="loyalty_fx_rate_gt_0")]

    def __str__(self) -> str:
        return f"1 {self.base_currency} = {self.rate} {self.currency} ({self.source})"


class ManualExchangeRate(models.Model):
    """An operator's rate for one currency that overrides the feed while it is active."""

    base_currency = models.CharField(_("base currency"), max_length=3)
    currency = models.CharField(_("currency"), max_length=3, choices=currency_choices)
    rate = models.DecimalField(_("rate"), max_digits=24, decimal_places=10)
    reason = models.CharField(_("reason"), max_length=255)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(_("set at"), default=timezone.now)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("manual exchange rate")
        verbose_name_plural = _("manual exchange rates")
        ordering = ["-set_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["base_currency", "currency"],
                condition=models.Q(is_active=True),
                name="loyalty_manual_rate_one_active",
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="loyalty_manual_rate_gt_0"),
        ]

    def __str__(self) -> str:
        return f"1 {self.base_currency} = {self.rate} {self.currency} (manual)"
