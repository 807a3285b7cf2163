import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import staff_user_field
from .markets import Market, Tier, validate_time_zone


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    FROZEN = "frozen", _("frozen")
    CLOSED = "closed", _("closed")


class Member(models.Model):
    """A shopper enrolled in the program: a pseudonym with no personal data beyond a link to the host's user.

    The person's own data (birth date, country, consent evidence, request messages) lives in the
    residency database of the member's market, found by ``subject_id``.
    """

    # SET_NULL: if the host deletes its user, the membership stays as an anonymous record
    # so the points books remain whole.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="loyalty_member",
    )
    number = models.CharField(_("member number"), max_length=20, unique=True, editable=False)
    market = models.ForeignKey(
        Market, verbose_name=_("market"), on_delete=models.PROTECT, related_name="members"
    )
    language = models.CharField(_("preferred language"), max_length=15)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    status = models.CharField(
        _("status"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), default=timezone.now)
    subject_id = models.UUIDField(_("pseudonymous id"), default=uuid.uuid4, unique=True, editable=False)
    restricted_at = models.DateTimeField(
        _("processing restricted since"),
        null=True,
        blank=True,
        help_text=_("While restricted, nothing beyond the membership itself is processed."),
    )
    legal_hold = models.CharField(
        _("legal hold"), max_length=255, blank=True, help_text=_("Why this member must not be erased now.")
    )
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)
    referral_code = models.CharField(_("referral code"), max_length=16, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-enrolled_at", "-id"]
        permissions = [
            ("adjust_points", _("Can adjust members' points")),
            ("grant_tier", _("Can grant members a tier")),
        ]

    def __str__(self) -> str:
        return self.number


class MarketChange(models.Model):
    """A member's move from one market to another (rate-limited, so markets cannot be hopped)."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="market_changes"
    )
    from_market = models.ForeignKey(
        Market, verbose_name=_("previous market"), on_delete=models.PROTECT, related_name="+"
    )
    to_market = models.ForeignKey(
        Market, verbose_name=_("new market"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=255)
    actor = staff_user_field()
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("market change")
        verbose_name_plural = _("market changes")
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_market_id} -> {self.to_market_id}"
