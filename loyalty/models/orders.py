from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..money import STORED_DECIMAL_PLACES, STORED_MAX_DIGITS
from .fields import amount_field
from .members import Member


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    RELEASED = "released", _("points released")
    CANCELLED = "cancelled", _("cancelled")


class OrderRecord(models.Model):
    """A shop order as the program saw it: what it earned and where its points are."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="orders"
    )
    source = models.CharField(_("source"), max_length=50)
    external_id = models.CharField(_("order id"), max_length=100)
    amount = amount_field(
        _("amount"),
    )
    refunded = models.DecimalField(
        _("refunded"), max_digits=STORED_MAX_DIGITS, decimal_places=STORED_DECIMAL_PLACES, default=0
    )
    rate = models.DecimalField(_("points per currency unit"), max_digits=12, decimal_places=4)
    points = models.BigIntegerField(_("points earned"))
    points_reversed = models.BigIntegerField(_("points reversed"), default=0)
    points_forgiven = models.BigIntegerField(
        _("points forgiven"),
        default=0,
        help_text=_("Reversed points that had already expired, so nothing was taken back for them."),
    )
    status_points = models.BigIntegerField(_("status points"), default=0)
    qualifying_spend = models.DecimalField(
        _("qualifying spend"),
        max_digits=STORED_MAX_DIGITS,
        decimal_places=STORED_DECIMAL_PLACES,
        default=0,
        help_text=_("The amount in the base currency, for tier qualification."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    placed_at = models.DateTimeField(_("placed at"))
    release_after = models.DateTimeField(_("release after"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="loyalty_order_unique_external_id"
            ),
            models.CheckConstraint(
                condition=models.Q(points_reversed__gte=0)
                & models.Q(points_reversed__lte=models.F("points")),
                name="loyalty_order_reversed_within_points",
            ),
        ]
        indexes = [
            models.Index(
                fields=["release_after"], condition=models.Q(status="pending"), name="loyalty_order_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def points_outstanding(self) -> int:
        return self.points - self.points_reversed


class RefundRecord(models.Model):
    order = models.ForeignKey(
        OrderRecord, verbose_name=_("order"), on_delete=models.PROTECT, related_name="refunds"
    )
    refund_id = models.CharField(_("refund id"), max_length=100)
    amount = amount_field(
        _("amount"),
    )
    points = models.BigIntegerField(_("points clawed back"))
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(fields=["order", "refund_id"], name="loyalty_refund_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.order} / {self.refund_id}"
