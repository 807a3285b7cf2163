"""Engagement: events a shop reports (reviews, shares, custom), referrals and challenges."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .markets import Market
from .rules import EarnEvent


class MemberEvent(models.Model):
    """An engagement event of a member, recorded once per ``(event, custom_event, event_id)``."""

    member = models.ForeignKey(
        "loyalty.Member", verbose_name=_("member"), on_delete=models.PROTECT, related_name="events"
    )
    event = models.CharField(_("event"), max_length=20, choices=EarnEvent.choices)
    custom_event = models.SlugField(_("custom event name"), max_length=50, blank=True)
    event_id = models.CharField(_("event id"), max_length=100)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    points = models.BigIntegerField(_("points awarded"), default=0)

    class Meta:
        verbose_name = _("member event")
        verbose_name_plural = _("member events")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "event", "custom_event", "event_id"], name="loyalty_member_event_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event}:{self.event_id}"


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("waiting for the first confirmed order")
    REWARDED = "rewarded", _("rewarded")
    CAPPED = "capped", _("not rewarded: the referrer reached the limit")


class Referral(models.Model):
    """A new member brought by an existing one; both are rewarded after the first confirmed order."""

    referrer = models.ForeignKey(
        "loyalty.Member", verbose_name=_("referrer"), on_delete=models.PROTECT, related_name="referrals"
    )
    referred = models.OneToOneField(
        "loyalty.Member", verbose_name=_("new member"), on_delete=models.PROTECT, related_name="referred_by"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    rewarded_at = models.DateTimeField(_("rewarded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(referrer=models.F("referred")), name="loyalty_referral_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} -> {self.referred_id}"


class Challenge(models.Model):
    """A goal over events in a window (three orders in 30 days); completing it pays a bonus and a badge."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    event = models.CharField(
        _("counts"),
        max_length=20,
        choices=EarnEvent.choices,
        help_text=_("Purchases count when the order is confirmed, other events when they are recorded."),
    )
    custom_event = models.SlugField(_("custom event name"), max_length=50, blank=True)
    goal = models.PositiveIntegerField(_("goal"), validators=[MinValueValidator(1)])
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    duration_days = models.PositiveIntegerField(
        _("days to reach the goal"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Counted from the member's first event; empty: the whole challenge period."),
    )
    bonus_points = models.PositiveIntegerField(_("bonus points"), default=0)
    badge_name = models.CharField(_("badge"), max_length=60)
    badge_colour = models.CharField(
        _("badge colour"),
        max_length=7,
        default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour such as #b08d57."))],
    )
    markets = models.ManyToManyField(
        Market, verbose_name=_("markets"), blank=True, related_name="+", help_text=_("Empty: every market.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        ordering = ["-starts_at", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="loyalty_challenge_period"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The challenge must end after it starts.")})
        if (self.event == EarnEvent.CUSTOM) != bool(self.custom_event):
            raise ValidationError({"custom_event": _("Name the custom event, and only for custom events.")})


class ChallengeProgress(models.Model):
    challenge = models.ForeignKey(
        Challenge, verbose_name=_("challenge"), on_delete=models.PROTECT, related_name="progress"
    )
    member = models.ForeignKey(
        "loyalty.Member", verbose_name=_("member"), on_delete=models.PROTECT, related_name="challenges"
    )
    count = models.PositiveIntegerField(_("count"), default=0)
    window_start = models.DateTimeField(_("counting since"))
    window_end = models.DateTimeField(_("counting until"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("challenge progress")
        verbose_name_plural = _("challenge progress")
        constraints = [
            models.UniqueConstraint(fields=["challenge", "member"], name="loyalty_challenge_progress_once"),
        ]

    def __str__(self) -> str:
        return f"{self.challenge_id}/{self.member_id}: {self.count}"
