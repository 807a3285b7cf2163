"""Data-subject requests, recipients and transfers abroad, and retention."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from .append_only import AppendOnlyModel
from .fields import staff_user_field
from .markets import Regime
from .members import Member


class RecipientRole(models.TextChoices):
    PROCESSOR = "processor", _("processor (acts on the shop's instructions)")
    CONTROLLER = "controller", _("independent controller")
    JOINT = "joint", _("joint controller")


class Recipient(models.Model):
    """Someone the program's personal data is disclosed to: a processor, a partner, a group company."""

    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=10, choices=RecipientRole.choices)
    country = CountryField(_("country"))
    contact = models.CharField(_("contact"), max_length=255, blank=True)
    processes_sensitive_data = models.BooleanField(_("receives sensitive data"), default=False)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TransferMechanism(models.TextChoices):
    ADEQUACY = "adequacy", _("adequacy decision")
    SCC = "scc", _("standard contractual clauses")
    BCR = "bcr", _("binding corporate rules")
    DEROGATION = "derogation", _("GDPR Art. 49 derogation")
    PIPL_STANDARD_CONTRACT = "pipl_contract", _("PIPL standard contract")
    PIPL_CERTIFICATION = "pipl_certification", _("PIPL certification")
    PIPL_SECURITY_ASSESSMENT = "pipl_assessment", _("CAC security assessment")
    PIPL_EXEMPTION = "pipl_exemption", _("exempt under the 2024 CAC provisions")
    LGPD_CLAUSES = "lgpd_clauses", _("ANPD standard clauses")
    LGPD_SPECIFIC_CLAUSES = "lgpd_specific", _("specific contractual clauses")


MECHANISMS_BY_REGIME = {
    Regime.GDPR: {TransferMechanism.ADEQUACY, TransferMechanism.SCC, TransferMechanism.BCR},
    Regime.UK_GDPR: {TransferMechanism.ADEQUACY, TransferMechanism.SCC, TransferMechanism.BCR},
    Regime.PIPL: {
        TransferMechanism.PIPL_STANDARD_CONTRACT,
        TransferMechanism.PIPL_CERTIFICATION,
        TransferMechanism.PIPL_SECURITY_ASSESSMENT,
        TransferMechanism.PIPL_EXEMPTION,
    },
    Regime.LGPD: {
        TransferMechanism.ADEQUACY,
        TransferMechanism.LGPD_CLAUSES,
        TransferMechanism.LGPD_SPECIFIC_CLAUSES,
        TransferMechanism.BCR,
    },
    Regime.CCPA: set(TransferMechanism),
}
for _regime in (Regime.GDPR, Regime.UK_GDPR):
    MECHANISMS_BY_REGIME[_regime].add(TransferMechanism.DEROGATION)


class Transfer(models.Model):
    """The legal mechanism that covers sending a regime's members' data to a recipient abroad."""

    recipient = models.ForeignKey(
        Recipient, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="transfers"
    )
    regime = models.CharField(_("regime"), max_length=10, choices=Regime.choices)
    mechanism = models.CharField(_("mechanism"), max_length=20, choices=TransferMechanism.choices)
    reference = models.CharField(
        _("document reference"), max_length=200, blank=True, help_text=_("Contract, filing or decision.")
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer mechanism")
        verbose_name_plural = _("transfer mechanisms")
        ordering = ["recipient", "regime"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "regime"], name="loyalty_transfer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}/{self.regime}: {self.mechanism}"

    def clean(self) -> None:
        if self.mechanism not in MECHANISMS_BY_REGIME.get(self.regime, ()):
            raise ValidationError({"mechanism": _("This mechanism does not exist under this regime.")})


class TransferRecord(models.Model):
    """That a member's data went to a recipient in a year: the yearly head count PIPL thresholds need."""

    recipient = models.ForeignKey(
        Recipient, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="records"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="transfers"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    sensitive = models.BooleanField(_("sensitive data"), default=False)
    first_at = models.DateTimeField(_("first transfer"), default=timezone.now)

    class Meta:
        verbose_name = _("transfer record")
        verbose_name_plural = _("transfer records")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "member", "year"], name="loyalty_transferrecord_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}/{self.member_id}/{self.year}"


class RetentionCategory(models.TextChoices):
    INACTIVE_MEMBERS = "inactive_members", _("inactive members (erased)")
    CONSENT_EVIDENCE = "consent_evidence", _("IP address and device of consent decisions")
    CLOSED_REQUESTS = "closed_requests", _("messages of closed privacy requests")
    DATA_EXPORTS = "data_exports", _("data exports after their link expired")


class RetentionPolicy(models.Model):
    """How long a category of personal data is kept before the retention job removes it."""

    category = models.CharField(_("data"), max_length=20, choices=RetentionCategory.choices, unique=True)
    months = models.PositiveIntegerField(_("kept for (months)"))
    is_active = models.BooleanField(_("applied"), default=True)
    note = models.CharField(_("legal basis of the period"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        ordering = ["category"]

    def __str__(self) -> str:
        return str(self.get_category_display())


class RetentionRun(AppendOnlyModel):
    """What one run of the retention job removed, per policy."""

    category = models.CharField(_("data"), max_length=20, choices=RetentionCategory.choices)
    cutoff = models.DateTimeField(_("older than"))
    affected = models.PositiveIntegerField(_("rows handled"))
    skipped = models.PositiveIntegerField(_("held back"), default=0)
    ran_at = models.DateTimeField(_("ran at"), default=timezone.now)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.category} {self.ran_at:%Y-%m-%d %H:%M}"


class RequestKind(models.TextChoices):
    ACCESS = "access", _("access to my data")
    PORTABILITY = "portability", _("a copy of my data to take elsewhere")
    RECTIFICATION = "rectification", _("correction of my data")
    ERASURE = "erasure", _("erasure of my data")
    RESTRICTION = "restriction", _("restriction of processing")
    OBJECTION = "objection", _("objection to processing")
    WITHDRAWAL = "withdrawal", _("withdrawal of all my consents")


EXPORT_KINDS = frozenset({RequestKind.ACCESS, RequestKind.PORTABILITY})


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("received")
    IN_PROGRESS = "in_progress", _("in progress")
    ON_HOLD = "on_hold", _("on hold")
    FULFILLED = "fulfilled", _("fulfilled")
    REJECTED = "rejected", _("rejected")
    # A request is withdrawn by the member; some languages word it apart from a withdrawn consent.
    WITHDRAWN = "withdrawn", pgettext_lazy("privacy request status", "withdrawn")


OPEN_REQUEST_STATUSES = (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS, RequestStatus.ON_HOLD)


class RejectionGround(models.TextChoices):
    UNFOUNDED = "unfounded", _("manifestly unfounded (GDPR Art. 12(5))")
    EXCESSIVE = "excessive", _("excessive or repetitive (GDPR Art. 12(5))")
    IDENTITY = "identity", _("identity could not be verified (GDPR Art. 12(6))")
    LEGAL_OBLIGATION = "legal_obligation", _("data kept under a legal obligation (GDPR Art. 17(3)(b))")
    LEGAL_CLAIMS = "legal_claims", _("needed for legal claims (GDPR Art. 17(3)(e))")
    OTHERS_RIGHTS = "others_rights", _("would disclose other people's data (GDPR Art. 15(4))")


class RequestChannel(models.TextChoices):
    MEMBER_CENTER = "member_center", _("member center")
    API = "api", _("API")
    CONSOLE = "console", _("console, on the member's behalf")


class DataSubjectRequest(models.Model):
    """A member's request under data-protection law, due by the strictest regime that applies."""

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="privacy_requests"
    )
    kind = models.CharField(_("request"), max_length=15, choices=RequestKind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    regimes = models.JSONField(_("regimes"), default=list)
    channel = models.CharField(_("channel"), max_length=15, choices=RequestChannel.choices)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    original_due_at = models.DateTimeField(_("first due date"))
    extension_reason = models.CharField(_("reason for the extension"), max_length=255, blank=True)
    hold_reason = models.CharField(_("on hold because"), max_length=255, blank=True)
    rejection_ground = models.CharField(
        _("legal ground of the rejection"), max_length=20, choices=RejectionGround.choices, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        ordering = ["due_at"]
        indexes = [models.Index(fields=["status", "due_at"], name="loyalty_request_queue")]
        permissions = [
            ("handle_privacy_request", _("Can handle privacy requests")),
            ("erase_member", _("Can erase members")),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REQUEST_STATUSES

    def is_overdue(self, at=None) -> bool:
        return self.is_open and self.due_at < (at or timezone.now())


class RequestStatusEvent(AppendOnlyModel):
    """One step in a request's history: a status change or an extension, with who and why."""

    request = models.ForeignKey(
        DataSubjectRequest, verbose_name=_("request"), on_delete=models.PROTECT, related_name="history"
    )
    from_status = models.CharField(
        _("previous status"), max_length=12, choices=RequestStatus.choices, blank=True
    )
    to_status = models.CharField(_("new status"), max_length=12, choices=RequestStatus.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor = staff_user_field()
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("request history")
        verbose_name_plural = _("request history")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status} -> {self.to_status}"
