"""Shop integrations: signed event sources (shops on other stacks, partners) and the webhook outbox."""

import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .append_only import AppendOnlyModel
from .fields import amount_field
from .ledger import LedgerEntry
from .members import Member
from .rules import EarnEvent

SOURCE_CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,39}$"
# Ledger sources the plugin writes itself (bonuses are written under their event's name): an event
# source may not take one of these codes, or its reports would count the plugin's own entries.
RESERVED_SOURCE_CODES = frozenset(
    {"shop", "system", "staff", "member", "reward", "challenge", "erasure", "oscar", *EarnEvent.values}
)


class SourceKind(models.TextChoices):
    SHOP = "shop", _("shop (orders, customers and reviews)")
    PARTNER = "partner", _("partner (awards points at its own rate)")


def validate_source_code(value: str) -> None:
    if value in RESERVED_SOURCE_CODES:
        raise ValidationError(_("This code is reserved for the plugin's own entries."))


class EventSource(models.Model):
    """A system that sends signed events: a shop on another stack, or a coalition partner.

    Its secret is never stored here: it is read from ``LOYALTY["WEBHOOK_SECRETS"][code]``. The code
    is also the ``source`` of the orders and ledger entries it causes.
    """

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(SOURCE_CODE_PATTERN, _("2 to 40 lower-case letters, digits, - or _.")),
            validate_source_code,
        ],
        help_text=_(
            "Sent in the X-Loyalty-Source header; its secret is in the LOYALTY setting WEBHOOK_SECRETS."
        ),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=SourceKind.choices, default=SourceKind.SHOP)
    is_active = models.BooleanField(_("active"), default=True)
    currency = models.CharField(
        _("settlement currency"),
        max_length=3,
        blank=True,
        help_text=_("Partners: the currency of the earn rate and of the price per point."),
    )
    points_per_unit = models.DecimalField(
        _("points per unit spent"),
        max_digits=12,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Partners: points a member earns per unit of the settlement currency spent."),
    )
    point_price = models.DecimalField(
        _("price per point"),
        max_digits=12,
        decimal_places=6,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "Partners: what the partner owes the program per point issued, in the settlement currency."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("event source")
        verbose_name_plural = _("event sources")
        ordering = ["code"]
        permissions = [("view_settlement_report", _("Can view partner settlement reports"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_partner(self) -> bool:
        return self.kind == SourceKind.PARTNER

    def clean(self) -> None:
        if self.kind != SourceKind.PARTNER:
            return
        from ..money import is_known_currency

        errors = {}
        if not is_known_currency(self.currency):
            errors["currency"] = _("A partner needs its settlement currency (an ISO 4217 code).")
        if not self.points_per_unit:
            errors["points_per_unit"] = _("A partner needs an earn rate above zero.")
        if errors:
            raise ValidationError(errors)


class ExternalCustomer(models.Model):
    """A shop's own customer id for a member enrolled through its events (one per source and id)."""

    source = models.ForeignKey(
        EventSource, verbose_name=_("source"), on_delete=models.PROTECT, related_name="customers"
    )
    # Null once the member is erased (NULLs never collide in the unique constraint; "" would).
    external_id = models.CharField(_("customer id"), max_length=100, null=True)  # noqa: DJ001
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="external_ids"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("external customer")
        verbose_name_plural = _("external customers")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="loyalty_external_customer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source.code}:{self.external_id}"


class InboundEvent(models.Model):
    """A processed delivery. The event id is the idempotency key; a retry gets the stored answer.

    Only a hash of the body is kept (the body may carry personal data such as an e-mail address).
    """

    source = models.ForeignKey(
        EventSource, verbose_name=_("source"), on_delete=models.PROTECT, related_name="events"
    )
    event_id = models.CharField(_("event id"), max_length=100)
    event_type = models.CharField(_("event type"), max_length=40)
    body_sha256 = models.CharField(_("SHA-256 of the body"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"))
    # The JSON text as first sent, so a retry gets the very same bytes.
    response = models.TextField(_("response"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("incoming event")
        verbose_name_plural = _("incoming events")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="loyalty_inbound_event_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source.code}:{self.event_id}"


class PartnerAward(AppendOnlyModel):
    """Points a partner issued, valued at its price per point on that day: what the partner owes.

    The price is kept here because a partner's price changes; a settled period must keep its sum.
    A reversal is an award of the opposite sign, at the price of the award it reverses.
    """

    partner = models.ForeignKey(
        EventSource, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="awards"
    )
    entry = models.OneToOneField(
        LedgerEntry, verbose_name=_("ledger entry"), on_delete=models.PROTECT, related_name="partner_award"
    )
    points = models.BigIntegerField(_("points"))
    point_price = models.DecimalField(_("price per point"), max_digits=12, decimal_places=6)
    value = amount_field(_("value"))
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("partner award")
        verbose_name_plural = _("partner awards")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "created_at"], name="loyalty_award_partner_day")]

    def __str__(self) -> str:
        return f"{self.partner.code}: {self.points}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("waiting for delivery")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("gave up")


class OutboxEvent(models.Model):
    """An event for the shop's webhook, written in the transaction of the change it announces.

    A task delivers it once that transaction commits; the periodic sweep delivers whatever is
    still due (the broker or the receiver was down), with exponential backoff between attempts.
    """

    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(_("event type"), max_length=40)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # Set while a worker sends the event; a worker that dies leaves it to expire.
    leased_until = models.DateTimeField(_("being sent until"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing event")
        verbose_name_plural = _("outgoing events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="loyalty_outbox_due")]
        permissions = [("retry_outboxevent", _("Can retry outgoing events"))]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class OutboxAttempt(models.Model):
    """One try to deliver an outgoing event: the receiver's status code, or why it failed."""

    event = models.ForeignKey(
        OutboxEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    attempted_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} @ {self.attempted_at:%Y-%m-%d %H:%M:%S}"
