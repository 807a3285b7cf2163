"""The points books: one account per member, an append-only ledger and the lots that expire.

Invariants (checked by ``loyalty_audit`` and the test suite):
- ``account.available - account.debt == sum(entry.points)`` and ``account.debt == sum(entry.debt_points)``;
- ``account.pending == sum(entry.pending_points)``;
- the remaining points of an account's lots add up to ``account.available``, and each lot's remaining
  points are its original points less what allocations took from it;
- a debit's allocations add up to its points less the debt it created; a credit's lot holds its points
  less the debt it paid;
- ``available``, ``pending`` and ``debt`` are never negative (database CHECK constraints);
- an entry is never updated or deleted: a correction is a new entry that points at what it corrects.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .append_only import AppendOnlyModel
from .fields import amount_field, staff_user_field
from .members import Member


class PointsAccount(models.Model):
    member = models.OneToOneField(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="account"
    )
    available = models.BigIntegerField(_("available points"), default=0)
    pending = models.BigIntegerField(_("pending points"), default=0)
    debt = models.BigIntegerField(
        _("points owed"), default=0, help_text=_("Clawed-back points the member had already spent.")
    )
    lifetime_earned = models.BigIntegerField(_("points earned (lifetime)"), default=0)
    lifetime_redeemed = models.BigIntegerField(_("points redeemed (lifetime)"), default=0)
    lifetime_expired = models.BigIntegerField(_("points expired (lifetime)"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(condition=Q(available__gte=0), name="loyalty_account_available_gte_0"),
            models.CheckConstraint(condition=Q(pending__gte=0), name="loyalty_account_pending_gte_0"),
            models.CheckConstraint(condition=Q(debt__gte=0), name="loyalty_account_debt_gte_0"),
            models.CheckConstraint(
                condition=Q(debt=0) | Q(available=0), name="loyalty_account_debt_paid_before_available"
            ),
        ]

    def __str__(self) -> str:
        return str(self.member_id)

    @property
    def balance(self) -> int:
        """Net balance: available points minus points owed."""
        return self.available - self.debt


class EntryType(models.TextChoices):
    EARN = "earn", _("earned")
    RELEASE = "release", _("released")
    REDEEM = "redeem", _("redeemed")
    REVERSAL = "reversal", _("reversed")
    EXPIRY = "expiry", _("expired")
    ADJUSTMENT = "adjustment", _("adjusted")
    BONUS = "bonus", _("bonus")
    FORFEIT = "forfeit", _("forfeited on erasure")


class LedgerEntry(AppendOnlyModel):
    """One movement of points. ``points`` moves the available balance, ``pending_points`` the pending one."""

    account = models.ForeignKey(
        PointsAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
    )
    entry_type = models.CharField(_("type"), max_length=12, choices=EntryType.choices)
    points = models.BigIntegerField(_("points"), default=0)
    pending_points = models.BigIntegerField(_("pending points"), default=0)
    written_off = models.BigIntegerField(
        _("points written off"),
        default=0,
        help_text=_("Points a clawback did not take back: already spent (clamp_to_zero) or expired."),
    )
    debt_points = models.BigIntegerField(
        _("debt change"),
        default=0,
        help_text=_("Points owed that this entry created (positive) or paid off (negative)."),
    )
    balance_after = models.BigIntegerField(_("balance after"))
    pending_after = models.BigIntegerField(_("pending after"))
    source = models.CharField(_("source"), max_length=50)
    source_ref = models.CharField(_("source reference"), max_length=100, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=1000, unique=True)
    amount = amount_field(
        _("purchase amount"),
        null=True,
        blank=True,
        default=None,
    )
    rate = models.DecimalField(
        _("points per currency unit"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    rate_rule = models.CharField(
        _("earn rate used"),
        max_length=20,
        blank=True,
        help_text=_(
            "Which rate applied: the market's rate for the currency, the market's rate, or the base rate."
        ),
    )
    converted_amount = amount_field(_("amount the rate applied to"), null=True, blank=True, default=None)
    fx_rate = models.DecimalField(_("exchange rate"), max_digits=30, decimal_places=14, null=True, blank=True)
    fx_source = models.CharField(_("exchange rate source"), max_length=200, blank=True)
    fx_at = models.DateTimeField(_("exchange rate as of"), null=True, blank=True)
    fx_stale = models.BooleanField(_("stale exchange rate"), default=False)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    actor = staff_user_field()
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    effective_at = models.DateTimeField(_("effective at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "-id"], name="loyalty_entry_account_id")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(points=0) | ~Q(pending_points=0) | Q(written_off__gt=0),
                name="loyalty_entry_moves_points",
            ),
            models.CheckConstraint(condition=Q(written_off__gte=0), name="loyalty_entry_written_off_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.get_entry_type_display()} {self.points:+d} ({self.idempotency_key})"


class PointsLot(models.Model):
    """Points released together that expire together; spending consumes the soonest-expiring first."""

    account = models.ForeignKey(
        PointsAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="lots",
        db_index=False,
    )
    entry = models.ForeignKey(
        LedgerEntry, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="lots"
    )
    order = models.ForeignKey(
        "loyalty.OrderRecord",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lots",
    )
    original = models.BigIntegerField(_("points"))
    remaining = models.BigIntegerField(_("remaining"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        indexes = [
            models.Index(
                fields=["account", "expires_at", "id"], condition=Q(remaining__gt=0), name="loyalty_lot_open"
            ),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="loyalty_lot_expiring"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(original__gt=0), name="loyalty_lot_original_gt_0"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=models.F("original")),
                name="loyalty_lot_remaining_within_original",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.original}"


class LotAllocation(models.Model):
    """Which lots a debit (spend, clawback, expiry) took its points from."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="allocations")
    lot = models.ForeignKey(PointsLot, on_delete=models.PROTECT, related_name="allocations")
    points = models.BigIntegerField()

    class Meta:
        verbose_name = _("lot allocation")
        verbose_name_plural = _("lot allocations")
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="loyalty_allocation_points_gt_0")
        ]

    def __str__(self) -> str:
        return f"{self.points} from lot {self.lot_id}"
