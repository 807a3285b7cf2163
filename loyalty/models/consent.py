"""Purposes of processing, their lawful bases and notices, and the consent record.

Consent is an append-only log of decisions (``ConsentEvent``) and a derived current state per
member and purpose (``ConsentState``) that processing checks read. The state can always be
rebuilt from the events. Neither holds personal values: evidence such as the IP address lives
in the member's residency database (``ConsentEvidence``).
"""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .append_only import AppendOnlyModel
from .fields import staff_user_field
from .markets import Regime
from .members import Member


class PurposeCategory(models.TextChoices):
    MEMBERSHIP = "membership", _("membership")
    MARKETING_EMAIL = "marketing_email", _("marketing e-mail")
    MARKETING_SMS = "marketing_sms", _("marketing SMS")
    PERSONALISED_OFFERS = "personalised_offers", _("personalised offers and profiling")
    BIRTHDAY_REWARDS = "birthday_rewards", _("birthday rewards")
    PARTNER_SHARING = "partner_sharing", _("sharing with partners")
    CROSS_BORDER = "cross_border_transfer", _("transfer abroad")
    PUBLIC_DISPLAY = "public_display", _("public display")
    OTHER = "other", _("other")


# Under PIPL these need a separate consent of their own (Arts. 23, 25, 29 and 39).
PIPL_SEPARATE_CATEGORIES = frozenset(
    {PurposeCategory.PARTNER_SHARING, PurposeCategory.CROSS_BORDER, PurposeCategory.PUBLIC_DISPLAY}
)
MARKETING_CATEGORIES = frozenset({PurposeCategory.MARKETING_EMAIL, PurposeCategory.MARKETING_SMS})


class DataCategory(models.TextChoices):
    ACCOUNT = "account", _("account and membership")
    CONTACT = "contact", _("contact details")
    BIRTH_DATE = "birth_date", _("date of birth")
    PURCHASES = "purchases", _("purchases and points")
    PREFERENCES = "preferences", _("preferences")
    TECHNICAL = "technical", _("IP address and device")


def validate_data_categories(value: object) -> None:
    if not isinstance(value, list) or not all(code in DataCategory.values for code in value):
        raise ValidationError(
            _("List data categories among: %(choices)s."), params={"choices": ", ".join(DataCategory.values)}
        )


class LawfulBasis(models.TextChoices):
    CONSENT = "consent", _("consent")
    CONTRACT = "contract", _("performance of a contract")
    LEGAL_OBLIGATION = "legal_obligation", _("legal obligation")
    LEGITIMATE_INTEREST = "legitimate_interest", _("legitimate interest")


class ConsentKind(models.TextChoices):
    NONE = "none", _("no consent needed")
    OPT_IN = "opt_in", _("opt-in")
    EXPLICIT = "explicit", _("explicit consent")
    SEPARATE = "separate", _("separate consent (PIPL)")
    GUARDIAN = "guardian", _("guardian consent")


class ProcessingPurpose(models.Model):
    """Why the program processes personal data, what data, for whom and for how long."""

    code = models.SlugField(
        _("code"),
        max_length=50,
        unique=True,
        help_text=_(
            "Stable code the program checks: marketing_email, marketing_sms, personalised_offers, "
            "birthday_rewards, partner_sharing and cross_border_transfer are checked by the plugin itself."
        ),
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=30, choices=PurposeCategory.choices)
    data_categories = models.JSONField(
        _("data categories"), default=list, blank=True, validators=[validate_data_categories]
    )
    is_sensitive = models.BooleanField(_("sensitive data"), default=False)
    required_for_service = models.BooleanField(
        _("required for the membership"),
        default=False,
        help_text=_("Processing without which the program cannot run; members are told, never asked."),
    )
    recipients = models.ManyToManyField(
        "Recipient", verbose_name=_("recipients"), blank=True, related_name="purposes"
    )
    retention = models.ForeignKey(
        "RetentionPolicy",
        verbose_name=_("retention policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="purposes",
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(
        _("active"),
        default=False,
        help_text=_("Activate it with the console action, which checks that every regime has a basis."),
    )

    class Meta:
        verbose_name = _("processing purpose")
        verbose_name_plural = _("processing purposes")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name or self.code

    @property
    def needs_pipl_separate_consent(self) -> bool:
        return self.is_sensitive or self.category in PIPL_SEPARATE_CATEGORIES


class PurposeBasis(models.Model):
    """The lawful basis of a purpose under one regime, and the kind of consent that basis needs."""

    purpose = models.ForeignKey(
        ProcessingPurpose, verbose_name=_("purpose"), on_delete=models.CASCADE, related_name="bases"
    )
    regime = models.CharField(_("regime"), max_length=10, choices=Regime.choices)
    lawful_basis = models.CharField(_("lawful basis"), max_length=20, choices=LawfulBasis.choices)
    consent_kind = models.CharField(
        _("consent required"), max_length=10, choices=ConsentKind.choices, default=ConsentKind.NONE
    )

    class Meta:
        verbose_name = _("lawful basis")
        verbose_name_plural = _("lawful bases")
        ordering = ["purpose", "regime"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "regime"], name="loyalty_purposebasis_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose_id}/{self.regime}: {self.lawful_basis}"

    def clean(self) -> None:
        if self.lawful_basis == LawfulBasis.CONSENT and self.consent_kind == ConsentKind.NONE:
            raise ValidationError({"consent_kind": _("Consent as the basis needs a kind of consent.")})
        if self.lawful_basis != LawfulBasis.CONSENT and self.consent_kind != ConsentKind.NONE:
            raise ValidationError({"consent_kind": _("Only consent as the basis asks for consent.")})
        if self.regime == Regime.PIPL and self.lawful_basis == LawfulBasis.LEGITIMATE_INTEREST:
            raise ValidationError(
                {"lawful_basis": _("PIPL has no legitimate interest: members under PIPL must consent.")}
            )
        # The purpose may be attached unsaved (a form adding a purpose with its bases).
        purpose = self.purpose if self.purpose_id or PurposeBasis.purpose.is_cached(self) else None
        if (
            self.regime == Regime.PIPL
            and purpose is not None
            and purpose.needs_pipl_separate_consent
            and self.consent_kind != ConsentKind.SEPARATE
            and self.lawful_basis == LawfulBasis.CONSENT
        ):
            raise ValidationError(
                {
                    "consent_kind": _(
                        "Under PIPL, sharing, public display, sensitive data and transfers abroad "
                        "need a separate consent."
                    )
                }
            )

    @property
    def needs_consent(self) -> bool:
        return self.lawful_basis == LawfulBasis.CONSENT


class ChangeType(models.TextChoices):
    EDITORIAL = "editorial", _("editorial (no renewal)")
    MATERIAL = "material", _("material (consents must be renewed)")


class NoticeVersion(models.Model):
    """One version of what members are told about a purpose; read-only once published."""

    purpose = models.ForeignKey(
        ProcessingPurpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="notices"
    )
    version = models.PositiveIntegerField(_("version"))
    change_type = models.CharField(
        _("change"), max_length=10, choices=ChangeType.choices, default=ChangeType.MATERIAL
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("notice version")
        verbose_name_plural = _("notice versions")
        ordering = ["purpose", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "version"], name="loyalty_notice_unique_version"),
        ]
        permissions = [("publish_noticeversion", _("Can publish notice versions"))]

    def __str__(self) -> str:
        return f"{self.purpose} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk and NoticeVersion.objects.filter(pk=self.pk, published_at__isnull=False).exists():
            raise ValidationError(_("A published notice cannot be changed; write a new version."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.published_at is not None:
            raise ValidationError(_("A published notice cannot be deleted."))
        return super().delete(*args, **kwargs)


class ConsentAction(models.TextChoices):
    GRANTED = "granted", _("granted")
    REFUSED = "refused", _("refused")
    WITHDRAWN = "withdrawn", _("withdrawn")
    OBJECTED = "objected", _("objected")


class ConsentActor(models.TextChoices):
    MEMBER = "member", _("the member")
    GUARDIAN = "guardian", _("a parent or guardian")
    AGENT = "agent", _("an authorised agent")
    OPERATOR = "operator", _("staff, on the member's request")


class CollectionMethod(models.TextChoices):
    WEB = "web", _("website")
    APP = "app", _("app")
    POS = "pos", _("point of sale")
    API = "api", _("API")
    IMPORT = "import", _("import")
    ADMIN = "admin", _("console")


class ConsentEvent(AppendOnlyModel):
    """One decision about one purpose: a grant, refusal, withdrawal or objection. Never changed."""

    uuid = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="consent_events"
    )
    purpose = models.ForeignKey(
        ProcessingPurpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("decision"), max_length=10, choices=ConsentAction.choices)
    regimes = models.JSONField(_("regimes"), default=list)
    notice_version = models.ForeignKey(
        NoticeVersion,
        verbose_name=_("notice version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    language = models.CharField(_("language shown"), max_length=15, blank=True)
    text_sha256 = models.CharField(_("hash of the text shown"), max_length=64, blank=True)
    is_separate = models.BooleanField(
        _("separate consent"), default=False, help_text=_("Given for this purpose alone, not with others.")
    )
    actor = models.CharField(_("given by"), max_length=10, choices=ConsentActor.choices)
    operator = staff_user_field()
    method = models.CharField(_("method"), max_length=10, choices=CollectionMethod.choices)
    collection_point = models.CharField(_("collection point"), max_length=100, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    occurred_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["-id"]
        indexes = [models.Index(fields=["member", "purpose", "id"], name="loyalty_consent_history")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.purpose_id} {self.action}"


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("granted")
    REFUSED = "refused", _("refused")
    WITHDRAWN = "withdrawn", _("withdrawn")
    OBJECTED = "objected", _("objected")
    RENEWAL_REQUIRED = "renewal_required", _("to be renewed")


class ConsentState(models.Model):
    """The current decision per member and purpose, derived from the events (rebuildable)."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="consents"
    )
    purpose = models.ForeignKey(
        ProcessingPurpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=ConsentStatus.choices)
    notice_version = models.ForeignKey(
        NoticeVersion,
        verbose_name=_("notice version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    by_guardian = models.BooleanField(_("given by a guardian"), default=False)
    is_separate = models.BooleanField(_("separate consent"), default=False)
    last_event = models.ForeignKey(
        ConsentEvent, verbose_name=_("last event"), on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["member", "purpose"]
        constraints = [
            models.UniqueConstraint(fields=["member", "purpose"], name="loyalty_consentstate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.purpose_id}: {self.status}"


class JurisdictionRule(models.Model):
    """The age below which a regime needs a guardian's consent, for a country or the regime's default."""

    regime = models.CharField(_("regime"), max_length=10, choices=Regime.choices)
    country = CountryField(_("country"), blank=True, help_text=_("Empty: every country of the regime."))
    digital_consent_age = models.PositiveSmallIntegerField(
        _("digital consent age"), validators=[MinValueValidator(1), MaxValueValidator(21)]
    )

    class Meta:
        verbose_name = _("jurisdiction rule")
        verbose_name_plural = _("jurisdiction rules")
        ordering = ["regime", "country"]
        constraints = [
            models.UniqueConstraint(fields=["regime", "country"], name="loyalty_jurisdiction_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.regime}/{self.country or '*'}: {self.digital_consent_age}"


class SuppressionEntry(models.Model):
    """A keyed hash of an erased member's address: it is never marketed to again, even if re-imported."""

    identifier_hash = models.CharField(
        _("address hash"), max_length=64, unique=True, validators=[RegexValidator(r"^[0-9a-f]{64}$")]
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.identifier_hash[:12]
