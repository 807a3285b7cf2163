"""Earning rules and campaigns, and what each one contributed to each ledger entry.

Precedence is explicit: rules run from the highest ``priority`` down. A rule that fires adds its
points; ``stop_processing`` keeps lower rules from running; a rule that is not ``stackable`` fires
only when no rule fired before it, and then ends the evaluation. Two active rules of one event
with the same priority must both be stackable and neither may stop processing: otherwise their
order would decide the result, and the rule is refused when saved. Purchase and first-order rules
run together on an order, so they count as one event here.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .ledger import LedgerEntry
from .markets import Market
from .tiers import Tier, spend_field


class EarnEvent(models.TextChoices):
    PURCHASE = "purchase", _("purchase")
    SIGNUP = "signup", _("sign-up")
    FIRST_ORDER = "first_order", _("first order")
    REVIEW = "review", _("product review")
    REFERRAL = "referral", _("referral (to the referrer)")
    REFERRED = "referred", _("referral (to the new member)")
    BIRTHDAY = "birthday", _("birthday")
    SOCIAL_SHARE = "social_share", _("social share")
    CUSTOM = "custom", _("custom event")


ORDER_EVENTS = (EarnEvent.PURCHASE, EarnEvent.FIRST_ORDER)
# Advisory lock key that serializes rule saves while their precedence is checked.
PRECEDENCE_LOCK = 0x4C59_5052


class PointsMode(models.TextChoices):
    FIXED = "fixed", _("fixed points")
    PER_UNIT = "per_unit", _("points per unit of the base currency")
    MULTIPLIER = "multiplier", _("multiplier on the base earn")


class LimitPeriod(models.TextChoices):
    DAY = "day", _("per day")
    WEEK = "week", _("per week")
    MONTH = "month", _("per month")
    YEAR = "year", _("per year")
    EVER = "ever", _("ever")


def validate_weekdays(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(day, int) and 0 <= day <= 6 for day in value):
        raise ValidationError(_("List days of the week as numbers, Monday = 0 to Sunday = 6."))


def validate_codes(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(code, str) and code.strip() for code in value):
        raise ValidationError(_('List codes as text, such as ["SHOES", "BAGS"].'))


class EarnRule(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100, help_text=_("Shown to members in their history."))
    event = models.CharField(_("event"), max_length=20, choices=EarnEvent.choices)
    custom_event = models.SlugField(
        _("custom event name"), max_length=50, blank=True, help_text=_("The name your shop sends.")
    )
    mode = models.CharField(_("points"), max_length=12, choices=PointsMode.choices, default=PointsMode.FIXED)
    fixed_points = models.PositiveIntegerField(_("fixed points"), null=True, blank=True)
    points_per_unit = models.DecimalField(
        _("points per unit of the base currency"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    multiplier = models.DecimalField(
        _("multiplier"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("2 doubles the base earn: the rule adds the base points once more."),
    )
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Higher runs first."))
    stackable = models.BooleanField(
        _("stackable"),
        default=True,
        help_text=_("Off: fires only if no rule fired before it, and ends there."),
    )
    stop_processing = models.BooleanField(
        _("stop processing"), default=False, help_text=_("When it fires, lower-priority rules do not run.")
    )
    counts_toward_tier = models.BooleanField(
        _("counts toward tier"), default=True, help_text=_("Its points also count as status points.")
    )
    markets = models.ManyToManyField(
        Market, verbose_name=_("markets"), blank=True, related_name="+", help_text=_("Empty: every market.")
    )
    tiers = models.ManyToManyField(
        Tier, verbose_name=_("tiers"), blank=True, related_name="+", help_text=_("Empty: every tier.")
    )
    starts_on = models.DateField(
        _("first day"), null=True, blank=True, help_text=_("In the market's time zone.")
    )
    ends_on = models.DateField(
        _("last day"), null=True, blank=True, help_text=_("In the market's time zone.")
    )
    weekdays = models.JSONField(
        _("days of the week"),
        default=list,
        blank=True,
        validators=[validate_weekdays],
        help_text=_("Monday = 0 to Sunday = 6; empty: every day."),
    )
    categories = models.JSONField(
        _("product categories"),
        default=list,
        blank=True,
        validators=[validate_codes],
        help_text=_("The order must have a line in one of them; points count on those lines only."),
    )
    skus = models.JSONField(
        _("SKUs"),
        default=list,
        blank=True,
        validators=[validate_codes],
        help_text=_("The order must have a line with one of them; points count on those lines only."),
    )
    min_order_amount = spend_field(
        _("minimum order amount"), null=True, blank=True, help_text=_("In the base currency.")
    )
    limit_per_member = models.PositiveIntegerField(_("times per member"), null=True, blank=True)
    limit_period = models.CharField(
        _("limit period"), max_length=5, choices=LimitPeriod.choices, default=LimitPeriod.EVER
    )
    max_members = models.PositiveIntegerField(
        _("first N members"), null=True, blank=True, help_text=_("Only this many members can ever get it.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["event", "-priority", "code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(mode="fixed") | Q(fixed_points__isnull=False), name="loyalty_rule_fixed_points"
            ),
            models.CheckConstraint(
                condition=~Q(mode="per_unit") | Q(points_per_unit__gt=0), name="loyalty_rule_per_unit"
            ),
            models.CheckConstraint(
                condition=~Q(mode="multiplier") | Q(multiplier__gte=1), name="loyalty_rule_multiplier"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        for name in ("weekdays", "categories", "skus"):
            if getattr(self, name) is None:  # a cleared form field means no condition
                setattr(self, name, [])
        with transaction.atomic():
            # Two saves racing could each pass the check against the other's old state.
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PRECEDENCE_LOCK])
            self.validate_precedence()
            super().save(*args, **kwargs)

    def clean(self) -> None:
        needed = {
            PointsMode.FIXED: "fixed_points",
            PointsMode.PER_UNIT: "points_per_unit",
            PointsMode.MULTIPLIER: "multiplier",
        }[self.mode]
        if getattr(self, needed) in (None, ""):
            raise ValidationError({needed: _("Set the points of this rule.")})
        if self.mode != PointsMode.FIXED and self.event not in ORDER_EVENTS:
            raise ValidationError(
                {
                    "mode": _(
                        "Only purchase and first-order rules can earn per amount or multiply the base earn."
                    )
                }
            )
        if self.event == EarnEvent.CUSTOM and not self.custom_event:
            raise ValidationError({"custom_event": _("Name the custom event.")})
        if self.event != EarnEvent.CUSTOM and self.custom_event:
            raise ValidationError({"custom_event": _("Only custom events have a name.")})
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The last day is before the first day.")})
        if (
            self.categories or self.skus or self.min_order_amount is not None
        ) and self.event not in ORDER_EVENTS:
            raise ValidationError(_("Only purchase and first-order rules can look at the order."))
        self.validate_precedence()

    def validate_precedence(self) -> None:
        """Refuse an active rule whose order against another of the same priority would decide points."""
        if not self.is_active:
            return
        # Purchase and first-order rules run together on an order, so they share one precedence.
        events = list(ORDER_EVENTS) if self.event in ORDER_EVENTS else [self.event]
        ties = EarnRule.objects.filter(
            event__in=events, custom_event=self.custom_event, priority=self.priority, is_active=True
        ).exclude(pk=self.pk)
        ambiguous = not self.stackable or self.stop_processing
        clash = (
            ties.first() if ambiguous else ties.filter(Q(stackable=False) | Q(stop_processing=True)).first()
        )
        if clash is not None:
            raise ValidationError(
                {
                    "priority": _(
                        "Rule %(other)s has the same priority for this event; give one of them another "
                        "priority, or make both stackable without stopping processing."
                    )
                    % {"other": clash.code}
                }
            )


class ContributionKind(models.TextChoices):
    BASE = "base", _("base earn")
    TIER = "tier", _("tier bonus")
    RULE = "rule", _("rule")
    CHALLENGE = "challenge", _("challenge completed")


class EarnContribution(models.Model):
    """What one part of the earning (the base rate, the tier multiplier, a rule) added to an entry."""

    entry = models.ForeignKey(
        LedgerEntry, verbose_name=_("ledger entry"), on_delete=models.PROTECT, related_name="contributions"
    )
    member = models.ForeignKey(
        "loyalty.Member", verbose_name=_("member"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        "loyalty.OrderRecord",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contributions",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ContributionKind.choices)
    rule = models.ForeignKey(
        EarnRule,
        verbose_name=_("rule"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="awards",
    )
    points = models.BigIntegerField(_("points"))
    created_at = models.DateTimeField(_("earned at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("earning contribution")
        verbose_name_plural = _("earning contributions")
        ordering = ["id"]
        indexes = [models.Index(fields=["rule", "member", "created_at"], name="loyalty_contrib_rule_member")]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d}"
