"""The reward catalog and its redemptions.

A ``Reward`` says what the member gets; a ``RewardOffer`` sells it in one market, at a points price,
with a value in the market's currency and an optional stock. A ``Redemption`` is one purchase of a
reward with points: its coupon code, what it cost and was worth, and what became of it.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import amount_field, staff_user_field
from .ledger import LedgerEntry
from .markets import Market
from .members import Member
from .rules import LimitPeriod
from .tiers import Tier

# Characters of coupon codes: upper-case letters and digits that cannot be mistaken for one another.
COUPON_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# Random characters a coupon format must hold: 32**10 is about 10**15 codes, too many to guess.
COUPON_MIN_RANDOM = 10


def validate_coupon_format(value: str) -> None:
    if not all(char == "#" or char == "-" or char.isdigit() or "A" <= char <= "Z" for char in value):
        raise ValidationError(_("Use upper-case letters, digits, '-' and '#' (one random character each)."))
    if value.count("#") < COUPON_MIN_RANDOM:
        raise ValidationError(
            _("A coupon format needs at least %(count)d '#' so that codes cannot be guessed."),
            params={"count": COUPON_MIN_RANDOM},
        )


class RewardType(models.TextChoices):
    FIXED_DISCOUNT = "fixed_discount", _("fixed-amount discount")
    PERCENT_DISCOUNT = "percent_discount", _("percentage discount")
    FREE_SHIPPING = "free_shipping", _("free shipping")
    FREE_PRODUCT = "free_product", _("free product")
    PHYSICAL_GIFT = "physical_gift", _("physical gift")
    CHARITY = "charity", _("charity donation")
    EXPERIENCE = "experience", _("experience or perk")


# Types the shop applies at checkout with the coupon code.
COUPON_TYPES = (
    RewardType.FIXED_DISCOUNT,
    RewardType.PERCENT_DISCOUNT,
    RewardType.FREE_SHIPPING,
    RewardType.FREE_PRODUCT,
)
# Types staff fulfil by hand (shipping a gift, booking an experience).
STAFF_FULFILLED_TYPES = (RewardType.PHYSICAL_GIFT, RewardType.EXPERIENCE)
# Types whose offers must state a value (the discount, the cap or the donation).
VALUE_REQUIRED_TYPES = (RewardType.FIXED_DISCOUNT, RewardType.PERCENT_DISCOUNT, RewardType.CHARITY)


class RewardCategory(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    sort_order = models.IntegerField(_("sort order"), default=0, help_text=_("Lower comes first."))

    class Meta:
        verbose_name = _("reward category")
        verbose_name_plural = _("reward categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Charity(models.Model):
    """A charity members can donate points to; donations are reported per charity."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    registration_number = models.CharField(_("registration number"), max_length=100, blank=True)
    website = models.URLField(_("website"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("charity")
        verbose_name_plural = _("charities")
        ordering = ["name"]
        permissions = [("view_donation_report", _("Can view the charity donation report"))]

    def __str__(self) -> str:
        return self.name


class Reward(models.Model):
    """Something members buy with points. Its texts are translated; its prices live in its offers."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    terms = models.TextField(_("terms"), blank=True, help_text=_("Conditions of use shown before redeeming."))
    image = models.ImageField(_("image"), upload_to="loyalty/rewards/", blank=True)
    category = models.ForeignKey(
        RewardCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rewards",
    )
    reward_type = models.CharField(_("type"), max_length=20, choices=RewardType.choices)
    percent_off = models.DecimalField(
        _("percentage off"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Percentage discounts only; the offer's value is the most it takes off."),
    )
    product_sku = models.CharField(
        _("product SKU"),
        max_length=100,
        blank=True,
        help_text=_("Free products and gifts: the SKU your shop ships."),
    )
    charity = models.ForeignKey(
        Charity,
        verbose_name=_("charity"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rewards",
        help_text=_("Charity donations only: who receives the money."),
    )
    tiers = models.ManyToManyField(
        Tier,
        verbose_name=_("tiers"),
        blank=True,
        related_name="+",
        help_text=_("Empty: members of every tier, and members without one."),
    )
    starts_on = models.DateField(
        _("first day"), null=True, blank=True, help_text=_("In the market's time zone.")
    )
    ends_on = models.DateField(
        _("last day"), null=True, blank=True, help_text=_("In the market's time zone.")
    )
    limit_per_member = models.PositiveIntegerField(
        _("times per member"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    limit_period = models.CharField(
        _("limit period"), max_length=5, choices=LimitPeriod.choices, default=LimitPeriod.EVER
    )
    coupon_format = models.CharField(
        _("coupon format"),
        max_length=40,
        default="####-####-####",
        validators=[validate_coupon_format],
        help_text=_("Each '#' becomes a random character; other characters are kept, e.g. CNY-####-####-##."),
    )
    valid_days = models.PositiveIntegerField(
        _("days valid"),
        null=True,
        blank=True,
        default=30,
        validators=[MinValueValidator(1)],
        help_text=_("How long a redeemed reward can be used; empty: no end."),
    )
    sort_order = models.IntegerField(_("sort order"), default=0, help_text=_("Lower comes first."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="loyalty_reward_window_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(reward_type="percent_discount") | Q(percent_off__gt=0),
                name="loyalty_reward_percent_set",
            ),
            models.CheckConstraint(
                condition=~Q(reward_type="charity") | Q(charity__isnull=False),
                name="loyalty_reward_charity_set",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def expires(self) -> bool:
        """Coupons expire after ``valid_days``; donations are made at once and staff fulfil the rest."""
        return self.reward_type in COUPON_TYPES and self.valid_days is not None

    def clean(self) -> None:
        errors = {}
        if self.reward_type == RewardType.PERCENT_DISCOUNT and not self.percent_off:
            errors["percent_off"] = _("A percentage discount needs a percentage.")
        if self.reward_type != RewardType.PERCENT_DISCOUNT and self.percent_off:
            errors["percent_off"] = _("Only percentage discounts take a percentage.")
        if self.reward_type == RewardType.CHARITY and not self.charity_id:
            errors["charity"] = _("A charity donation needs a charity.")
        if self.reward_type != RewardType.CHARITY and self.charity_id:
            errors["charity"] = _("Only charity donations name a charity.")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The last day comes before the first day.")
        if errors:
            raise ValidationError(errors)


class RewardOffer(models.Model):
    """A reward sold in one market: its points price, its value in the market's currency and its stock."""

    reward = models.ForeignKey(
        Reward, verbose_name=_("reward"), on_delete=models.CASCADE, related_name="offers"
    )
    market = models.ForeignKey(
        Market, verbose_name=_("market"), on_delete=models.PROTECT, related_name="offers"
    )
    points = models.PositiveBigIntegerField(_("points price"), validators=[MinValueValidator(1)])
    value = amount_field(
        _("value"),
        null=True,
        blank=True,
        default=None,
        help_text=_(
            "In the market's currency: the discount, the cap of a percentage discount, the donation, "
            "or what a product or perk is worth."
        ),
    )
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True, help_text=_("Empty: unlimited."))
    is_active = models.BooleanField(_("available"), default=True)

    class Meta:
        verbose_name = _("market offer")
        verbose_name_plural = _("market offers")
        ordering = ["market__code"]
        constraints = [
            models.UniqueConstraint(fields=["reward", "market"], name="loyalty_offer_one_per_market"),
            models.CheckConstraint(condition=Q(points__gt=0), name="loyalty_offer_points_gt_0"),
            models.CheckConstraint(
                condition=Q(stock__gte=0) | Q(stock__isnull=True), name="loyalty_offer_stock_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(value__gt=0) | Q(value__isnull=True), name="loyalty_offer_value_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reward.code} @ {self.market.code}"

    def clean(self) -> None:
        # On a reward's add page the reward is not saved yet: it is set, but has no id.
        market = self.market if self.market_id else None
        reward = self._state.fields_cache.get("reward") or (self.reward if self.reward_id else None)
        if (
            self.value is not None
            and market is not None
            and self.value.currency.code != market.default_currency
        ):
            message = _("Give the value in the market's currency, %(currency)s.")
            raise ValidationError(
                {"value": ValidationError(message, params={"currency": market.default_currency})}
            )
        if self.value is None and reward is not None and reward.reward_type in VALUE_REQUIRED_TYPES:
            raise ValidationError({"value": _("This type of reward needs a value.")})


class RedemptionStatus(models.TextChoices):
    ISSUED = "issued", _("issued")
    USED = "used", _("used")
    CANCELLED = "cancelled", _("cancelled")
    EXPIRED = "expired", _("expired")


class Redemption(models.Model):
    """One redemption of a reward: the points it cost, the value it gave and its coupon code.

    The terms (type, value, percentage, charity) are copied from the reward and its offer when it is
    redeemed, so later catalog edits never change a coupon already issued.
    """

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="redemptions"
    )
    reward = models.ForeignKey(
        Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="redemptions"
    )
    market = models.ForeignKey(Market, verbose_name=_("market"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    points = models.PositiveBigIntegerField(_("points spent"))
    value = amount_field(_("value"), null=True, blank=True, default=None)
    reward_type = models.CharField(_("type"), max_length=20, choices=RewardType.choices)
    percent_off = models.DecimalField(
        _("percentage off"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    charity = models.ForeignKey(
        Charity,
        verbose_name=_("charity"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donations",
    )
    code = models.CharField(_("coupon code"), max_length=60, unique=True)
    fulfilment_ref = models.CharField(
        _("fulfilment reference"),
        max_length=100,
        blank=True,
        help_text=_("The shop's voucher or shipment id."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.ISSUED
    )
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=150)
    entry = models.ForeignKey(
        LedgerEntry, verbose_name=_("ledger entry"), on_delete=models.PROTECT, related_name="redemptions"
    )
    return_entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("points returned by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returned_redemption",
    )
    order_id = models.CharField(_("used on order"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("redeemed at"), default=timezone.now, editable=False)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=255, blank=True)
    actor = staff_user_field()

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("cancel_redemption", _("Can cancel redemptions and return their points")),
            ("fulfil_redemption", _("Can mark gifts and experiences as fulfilled")),
        ]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="loyalty_redemption_member"),
            models.Index(fields=["valid_until"], condition=Q(status="issued"), name="loyalty_redemption_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "idempotency_key"], name="loyalty_redemption_key_unique"
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="loyalty_redemption_points_gt_0"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="loyalty_redemption_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return self.code

    def validity_ended(self, at: datetime) -> bool:
        return self.valid_until is not None and self.valid_until <= at
