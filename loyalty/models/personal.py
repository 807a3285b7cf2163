"""The plugin's personal data, stored in the database of the member's residency region.

These rows are found by the member's pseudonymous ``subject_id``, never by a foreign key: they may
live in another database than the member (see ``loyalty.routers.ResidencyRouter``). Everything
else in the program refers to the member, who carries no personal values.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .markets import ResidencyRegion


class PersonalData(models.Model):
    """Base of the models stored per residency region."""

    subject_id = models.UUIDField(_("subject"), db_index=True)
    region = models.CharField(_("residency region"), max_length=10, choices=ResidencyRegion.choices)

    class Meta:
        abstract = True


class MemberProfile(PersonalData):
    """What the program knows about the person behind a membership."""

    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    country = CountryField(_("country of residence"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member profile")
        verbose_name_plural = _("member profiles")
        constraints = [models.UniqueConstraint(fields=["subject_id"], name="loyalty_profile_unique")]

    def __str__(self) -> str:
        return str(self.subject_id)


class ConsentEvidence(PersonalData):
    """The network evidence of one consent decision, kept only for the retention period."""

    event_id = models.UUIDField(_("consent event"), unique=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("consent evidence")
        verbose_name_plural = _("consent evidence")

    def __str__(self) -> str:
        return str(self.event_id)


class RequestMessage(PersonalData):
    """What a member wrote with a privacy request."""

    request_reference = models.CharField(_("request"), max_length=20, db_index=True)
    text = models.TextField(_("message"))
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("request message")
        verbose_name_plural = _("request messages")

    def __str__(self) -> str:
        return self.request_reference


class DataExport(PersonalData):
    """A member's data as exported for an access or portability request, behind an expiring link."""

    request_reference = models.CharField(_("request"), max_length=20, unique=True)
    token = models.CharField(_("link token"), max_length=64, unique=True)
    payload = models.JSONField(_("data"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("link expires at"), db_index=True)
    downloaded_at = models.DateTimeField(_("last downloaded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")

    def __str__(self) -> str:
        return self.request_reference
