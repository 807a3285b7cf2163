"""Tiers, what a member has done towards them, and the history of every tier change.

A member's tier is stored on ``Member.tier`` and always equals the highest of:
- the tier they qualify for (``TierStatus.qualified_tier``): the tier their current window's
  record reaches an entry threshold of, or the tier the last closed window let them keep;
- a tier granted by staff until an end date (``TierStatus.manual_tier``);
- a tier bought as a paid membership, for its paid period (``TierStatus.paid_tier``).
Granted and paid tiers never feed the qualification record, so they never become a hidden floor.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..money import STORED_DECIMAL_PLACES, STORED_MAX_DIGITS
from .append_only import AppendOnlyModel
from .fields import staff_user_field

TRACKS = ("spend", "status_points", "orders")


def spend_field(verbose_name, **kwargs) -> models.DecimalField:
    """An amount in the program's base currency."""
    return models.DecimalField(
        verbose_name, max_digits=STORED_MAX_DIGITS, decimal_places=STORED_DECIMAL_PLACES, **kwargs
    )


def validate_perks(value: object) -> None:
    if not isinstance(value, list) or not all(
        isinstance(perk, str) and perk.replace("_", "").isalnum() for perk in value
    ):
        raise ValidationError(_('List perk codes made of letters, digits and "_", such as ["lounge"].'))


class Tier(models.Model):
    """A membership level; a higher rank is a better tier."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    benefits = models.TextField(_("benefits"), blank=True, help_text=_("Shown to members, one per line."))
    badge_colour = models.CharField(
        _("badge colour"),
        max_length=7,
        default="#6b7280",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour such as #b08d57."))],
    )
    earn_multiplier = models.DecimalField(
        _("earn multiplier"),
        max_digits=5,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Purchase points are multiplied by this; 1.5 gives half as many points again."),
    )
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    priority_support = models.BooleanField(_("priority support"), default=False)
    early_access = models.BooleanField(_("early access to sales"), default=False)
    perks = models.JSONField(
        _("other perks"),
        default=list,
        blank=True,
        validators=[validate_perks],
        help_text=_('Codes of further benefits your shop reads, such as ["lounge"].'),
    )
    granted_only = models.BooleanField(
        _("granted or bought only"),
        default=False,
        help_text=_("Never reached by qualification: only staff grants and paid memberships give it."),
    )
    entry_spend = spend_field(_("qualifying spend to enter"), null=True, blank=True)
    entry_status_points = models.PositiveBigIntegerField(_("status points to enter"), null=True, blank=True)
    entry_orders = models.PositiveIntegerField(_("orders to enter"), null=True, blank=True)
    retain_spend = spend_field(
        _("qualifying spend to keep"), null=True, blank=True, help_text=_("Empty: the entry threshold.")
    )
    retain_status_points = models.PositiveBigIntegerField(
        _("status points to keep"), null=True, blank=True, help_text=_("Empty: the entry threshold.")
    )
    retain_orders = models.PositiveIntegerField(
        _("orders to keep"), null=True, blank=True, help_text=_("Empty: the entry threshold.")
    )

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.perks is None:  # a cleared form field means no perks
            self.perks = []
        super().save(*args, **kwargs)

    def clean(self) -> None:
        for track in TRACKS:
            entry, retain = getattr(self, f"entry_{track}"), getattr(self, f"retain_{track}")
            if retain is not None and entry is None:
                raise ValidationError({f"retain_{track}": _("Set the entry threshold of this track first.")})
            if retain is not None and retain > entry:
                raise ValidationError(
                    {f"retain_{track}": _("The threshold to keep a tier cannot exceed the one to enter it.")}
                )

    def entry_thresholds(self) -> dict:
        """Track -> threshold to enter, for the tracks this tier uses."""
        return {
            track: getattr(self, f"entry_{track}")
            for track in TRACKS
            if getattr(self, f"entry_{track}") is not None
        }

    def retain_thresholds(self) -> dict:
        """Track -> threshold to keep the tier (the entry threshold where none is set)."""
        return {
            track: getattr(self, f"retain_{track}") if getattr(self, f"retain_{track}") is not None else entry
            for track, entry in self.entry_thresholds().items()
        }

    @property
    def open_to_all(self) -> bool:
        """Every member qualifies: no threshold and not reserved for grants."""
        return not self.granted_only and not self.entry_thresholds()


class TierStatus(models.Model):
    """A member's qualification record in the current window, and the tiers they hold and why."""

    member = models.OneToOneField(
        "loyalty.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="tier_status",
    )
    window_start = models.DateTimeField(_("window start"), null=True, blank=True)
    window_end = models.DateTimeField(
        _("window end"), null=True, blank=True, help_text=_("Empty: the lifetime window never closes.")
    )
    spend = spend_field(_("qualifying spend"), default=0)
    status_points = models.BigIntegerField(_("status points"), default=0)
    orders = models.IntegerField(_("qualifying orders"), default=0)
    qualified_tier = models.ForeignKey(
        Tier,
        verbose_name=_("qualified tier"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    held_tier = models.ForeignKey(
        Tier,
        verbose_name=_("tier kept from the last window"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    grace_until = models.DateTimeField(
        _("downgrade after"),
        null=True,
        blank=True,
        help_text=_("The window closed below the threshold to keep the tier; the grace period ends then."),
    )
    manual_tier = models.ForeignKey(
        Tier,
        verbose_name=_("granted tier"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    manual_until = models.DateTimeField(_("granted until"), null=True, blank=True)
    manual_reason = models.CharField(_("reason for the grant"), max_length=255, blank=True)
    paid_tier = models.ForeignKey(
        Tier, verbose_name=_("paid tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_until = models.DateTimeField(_("paid until"), null=True, blank=True)
    needs_correction = models.BooleanField(
        _("needs correction"),
        default=False,
        help_text=_("A refund or cancellation lowered the record; the next evaluation may lower the tier."),
    )
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("tier status")
        verbose_name_plural = _("tier statuses")
        indexes = [models.Index(fields=["window_end"], name="loyalty_tierstatus_window_end")]

    def __str__(self) -> str:
        return str(self.member_id)


class TierChangeReason(models.TextChoices):
    QUALIFIED = "qualified", _("qualified")
    RETAINED_BELOW = "window_closed", _("window closed below the threshold to keep the tier")
    CORRECTED = "corrected", _("record corrected (refund or cancellation)")
    GRANTED = "granted", _("granted by staff")
    GRANT_ENDED = "grant_ended", _("staff grant ended")
    PAID = "paid", _("paid membership")
    PAID_ENDED = "paid_ended", _("paid membership ended")


class TierChange(AppendOnlyModel):
    """One change of a member's tier. Append-only."""

    member = models.ForeignKey(
        "loyalty.Member", verbose_name=_("member"), on_delete=models.PROTECT, related_name="tier_changes"
    )
    from_tier = models.ForeignKey(
        Tier, verbose_name=_("from tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, verbose_name=_("to tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=TierChangeReason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor = staff_user_field()
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier history")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["member", "-changed_at"], name="loyalty_tierchange_member")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_tier_id} -> {self.to_tier_id}"


class QualifyingEvent(models.Model):
    """A change to a member's qualification record: an order, its refund or cancellation, engagement.

    Windows are summed from these rows; ``key`` makes each change happen once.
    """

    member = models.ForeignKey(
        "loyalty.Member", verbose_name=_("member"), on_delete=models.PROTECT, related_name="qualifying_events"
    )
    key = models.CharField(_("idempotency key"), max_length=1000, unique=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    spend = spend_field(_("qualifying spend"), default=0)
    status_points = models.BigIntegerField(_("status points"), default=0)
    orders = models.SmallIntegerField(_("orders"), default=0)

    class Meta:
        verbose_name = _("qualifying event")
        verbose_name_plural = _("qualifying events")
        indexes = [models.Index(fields=["member", "occurred_at"], name="loyalty_qualifying_member_at")]

    def __str__(self) -> str:
        return self.key


class MembershipProduct(models.Model):
    """A shop product (by SKU) that buys a tier for a period: a paid membership such as a VIP club."""

    sku = models.CharField(_("SKU"), max_length=100, unique=True)
    tier = models.ForeignKey(Tier, verbose_name=_("tier"), on_delete=models.PROTECT, related_name="products")
    duration_days = models.PositiveIntegerField(_("paid period (days)"), validators=[MinValueValidator(1)])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("paid membership product")
        verbose_name_plural = _("paid membership products")
        ordering = ["sku"]

    def __str__(self) -> str:
        return self.sku


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("awaiting order confirmation")
    ACTIVE = "active", _("active")
    REFUNDED = "refunded", _("refunded")


class MembershipPurchase(models.Model):
    """A paid membership bought in an order; it starts when the order is confirmed."""

    member = models.ForeignKey(
        "loyalty.Member", verbose_name=_("member"), on_delete=models.PROTECT, related_name="memberships"
    )
    product = models.ForeignKey(
        MembershipProduct, verbose_name=_("product"), on_delete=models.PROTECT, related_name="purchases"
    )
    order = models.ForeignKey(
        "loyalty.OrderRecord", verbose_name=_("order"), on_delete=models.PROTECT, related_name="memberships"
    )
    tier = models.ForeignKey(Tier, verbose_name=_("tier"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)

    class Meta:
        verbose_name = _("paid membership")
        verbose_name_plural = _("paid memberships")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="loyalty_membership_once_per_order"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="loyalty_membership_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.product_id}"
