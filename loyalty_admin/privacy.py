"""The privacy console: purposes with their bases and notices, the consent record, recipients and transfers
abroad, retention, the data-subject request queue and the record of processing (GDPR Art. 30)."""

import csv
import json
from datetime import date, datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import localize, number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from loyalty.exceptions import LoyaltyError
from loyalty.models import (
    EXPORT_KINDS,
    ChangeType,
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    DataCategory,
    DataSubjectRequest,
    JurisdictionRule,
    NoticeVersion,
    ProcessingPurpose,
    PurposeBasis,
    Recipient,
    Regime,
    RequestKind,
    RequestMessage,
    RequestStatus,
    RequestStatusEvent,
    RetentionPolicy,
    RetentionRun,
    SuppressionEntry,
    Transfer,
)
from loyalty.routers import residency_database
from loyalty.selectors.privacy import (
    export_json,
    overdue_filter,
    record_of_processing,
    request_export,
    transfer_counts,
)
from loyalty.services import (
    activate_purpose,
    extend_request,
    fulfil_request,
    hold_request,
    publish_notice,
    reject_request,
)
from loyalty.services.consent import current_notice, missing_bases, regimes_in_use
from loyalty.services.privacy import add_months, erasure_holds

from .admin import (
    LocalTabbedTranslationAdmin,
    PrivacyMedia,
    ReadOnlyAdmin,
    RefusesForbiddenActions,
    action_page,
    apply_each,
    regime_labels,
    switch_active,
)
from .catalog import csv_text, translated_columns
from .forms import (
    ExtendRequestForm,
    FulfilRequestForm,
    HoldRequestForm,
    PrivacyActionForm,
    ProcessingPurposeForm,
    RejectRequestForm,
)


def shown_time(value: datetime) -> str:
    """A date and time as the admin shows its own datetime fields, so every date on a page reads alike."""
    return localize(timezone.template_localtime(value))


def data_category_labels(codes) -> str:
    return ", ".join(str(DataCategory(code).label) for code in codes)


# Purposes, their lawful bases and notices ---------------------------------------------------------


class PurposeBasisFormSet(forms.BaseInlineFormSet):
    """The bases are checked by the model one by one; an active purpose also keeps one for every regime
    of the active markets, or every member under the missing regime would silently lose it."""

    def _construct_form(self, i, **kwargs):
        # On the add page the purpose is not saved yet: attach it, so each basis is checked against
        # the purpose as submitted (its category decides whether PIPL needs a separate consent).
        form = super()._construct_form(i, **kwargs)
        form.instance.purpose = self.instance
        return form

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms) or not self.instance.is_active:
            return
        kept = {
            form.cleaned_data["regime"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        }
        missing = sorted(regimes_in_use() - kept)
        if missing:
            raise ValidationError(
                _("An active purpose needs a lawful basis under %(regimes)s; deactivate it first.")
                % {"regimes": regime_labels(missing)}
            )


class PurposeBasisInline(admin.TabularInline):
    model = PurposeBasis
    formset = PurposeBasisFormSet
    fields = ["regime", "lawful_basis", "consent_kind"]

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj is not None and obj.pk else len(regimes_in_use()) or 1


@admin.register(ProcessingPurpose)
class ProcessingPurposeAdmin(RefusesForbiddenActions, LocalTabbedTranslationAdmin):
    form = ProcessingPurposeForm
    list_display = [
        "code",
        "name",
        "is_active",
        "regimes_without_basis",
        "category",
        "required_for_service",
        "is_sensitive",
    ]
    list_filter = ["is_active", "category", "required_for_service", "is_sensitive"]
    search_fields = ["code", *translated_columns("name")]
    filter_horizontal = ["recipients"]
    readonly_fields = ["is_active", "notices"]
    inlines = [PurposeBasisInline]
    actions = ["activate", "deactivate"]
    change_list_template = "loyalty_admin/processingpurpose_change_list.html"
    Media = PrivacyMedia
    fieldsets = [
        (
            _("Identity"),
            {
                "fields": ["code", "category", "sort_order", "is_active", "notices"],
                "description": _(
                    "Activate or deactivate purposes with the actions on the list: activation checks that "
                    "every regime of the active markets has a lawful basis and that consent has a notice."
                ),
            },
        ),
        (_("Texts shown to members"), {"fields": ["name", "description"]}),
        (
            _("Data"),
            {"fields": ["data_categories", "is_sensitive", "required_for_service", "retention"]},
        ),
        (_("Recipients"), {"fields": ["recipients"]}),
    ]

    @admin.display(description=_("regimes without a basis"))
    def regimes_without_basis(self, purpose):
        missing = missing_bases(purpose)
        if not missing:
            return self.get_empty_value_display()
        return format_html('<span class="privacy-warning">{}</span>', regime_labels(missing))

    @admin.display(description=_("notices"))
    def notices(self, purpose):
        if purpose.pk is None:
            return _("Write the notice once the purpose is saved.")
        notices = reverse("admin:loyalty_noticeversion_changelist") + f"?purpose__id__exact={purpose.pk}"
        new = reverse("admin:loyalty_noticeversion_add") + f"?purpose={purpose.pk}"
        notice = current_notice(purpose)
        return format_html(
            '{} · <a href="{}">{}</a> · <a href="{}">{}</a>',
            _("published: version %(version)d") % {"version": notice.version}
            if notice
            else _("no published notice"),
            notices,
            _("All versions"),
            new,
            _("Write a new version"),
        )

    @admin.action(description=_("Activate the selected purposes"), permissions=["change"])
    def activate(self, request, queryset):
        apply_each(
            self,
            request,
            queryset.filter(is_active=False).order_by("sort_order", "code"),
            lambda purpose: self._activate(request, purpose),
            done=lambda count: ngettext(
                "Activated %(count)d purpose.", "Activated %(count)d purposes.", count
            ),
        )

    def _activate(self, request, purpose: ProcessingPurpose) -> None:
        """Activate through the service; a basis its model refuses is reported like a domain error."""
        try:
            activate_purpose(purpose)
        except ValidationError as error:
            raise LoyaltyError(" ".join(error.messages)) from None
        self.log_change(request, purpose, [{"changed": {"fields": ["is_active"]}}])

    @admin.action(description=_("Deactivate the selected purposes"), permissions=["change"])
    def deactivate(self, request, queryset):
        count = switch_active(self, request, queryset, False)
        self.message_user(
            request,
            ngettext("Deactivated %(count)d purpose.", "Deactivated %(count)d purposes.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def get_urls(self):
        return [
            path(
                "record/",
                self.admin_site.admin_view(self.record_view),
                name="loyalty_processingpurpose_record",
            ),
            *super().get_urls(),
        ]

    def record_view(self, request):
        """The record of processing activities (GDPR Art. 30), on a page or as CSV or JSON."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = record_of_processing()
        export = request.GET.get("export")
        if export == "csv":
            return record_csv(rows)
        if export == "json":
            response = HttpResponse(
                json.dumps(rows, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="{record_filename()}.json"'
            return response
        return TemplateResponse(
            request,
            "loyalty_admin/record_of_processing.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Record of processing activities"),
                "opts": self.model._meta,
                "rows": [
                    {**row, "data_labels": data_category_labels(row["data_categories"])} for row in rows
                ],
            },
        )


def record_filename() -> str:
    return f"record-of-processing-{timezone.localdate().isoformat()}"


def describe_recipient(recipient: dict) -> str:
    """A recipient of the record as one line: "Mailer (processor, US; GDPR: standard contractual clauses)"."""
    transfers = "; ".join(f"{regime}: {mechanism}" for regime, mechanism in recipient["transfers"].items())
    details = ", ".join(part for part in (recipient["role"], recipient["country"]) if part)
    return f"{recipient['name']} ({details}{'; ' + transfers if transfers else ''})"


def record_csv(rows: list[dict]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{record_filename()}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            gettext("Purpose"),
            gettext("Name"),
            gettext("Category"),
            gettext("Active"),
            gettext("Data categories"),
            gettext("Sensitive data"),
            gettext("Required for the membership"),
            gettext("Lawful bases"),
            gettext("Recipients and transfers"),
            gettext("Retention"),
        ]
    )
    yes_no = {True: gettext("yes"), False: gettext("no")}
    for row in rows:
        writer.writerow(
            [
                row["purpose"],
                csv_text(row["name"]),
                row["category"],
                yes_no[row["active"]],
                data_category_labels(row["data_categories"]),
                yes_no[row["sensitive"]],
                yes_no[row["required_for_service"]],
                "; ".join(f"{regime}: {basis}" for regime, basis in row["lawful_bases"].items()),
                csv_text(" | ".join(describe_recipient(recipient) for recipient in row["recipients"])),
                row["retention"],
            ]
        )
    return response


@admin.register(NoticeVersion)
class NoticeVersionAdmin(RefusesForbiddenActions, LocalTabbedTranslationAdmin):
    """A notice is written as a draft and published with the action; a published one never changes."""

    list_display = ["purpose", "version", "title", "change_type", "created_at", "published_at"]
    list_filter = ["purpose", "change_type", ("published_at", admin.EmptyFieldListFilter)]
    list_select_related = ["purpose"]
    search_fields = ["purpose__code", *translated_columns("title")]
    fields = ["purpose", "version", "change_type", "title", "body", "created_at", "published_at"]
    readonly_fields = ["created_at", "published_at"]
    actions = ["publish"]
    Media = PrivacyMedia

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.published_at)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.published_at)

    def has_publish_permission(self, request):
        return request.user.has_perm("loyalty.publish_noticeversion")

    def get_actions(self, request):
        # Deleting in bulk skips the model's refusal to delete a published notice; drafts go one by one.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_changeform_initial_data(self, request):
        """A new notice of a purpose starts with the version after its latest one."""
        initial = super().get_changeform_initial_data(request)
        purpose = str(initial.get("purpose", ""))
        if purpose.isdigit() and "version" not in initial:
            latest = NoticeVersion.objects.filter(purpose_id=int(purpose)).aggregate(Max("version"))
            initial["version"] = (latest["version__max"] or 0) + 1
        return initial

    @admin.action(description=_("Publish the selected notices"), permissions=["publish"])
    def publish(self, request, queryset):
        notices = list(queryset.select_related("purpose").order_by("purpose__code", "version"))
        form = PrivacyActionForm(request.POST if "apply" in request.POST else None, action="publish")
        if form.is_valid():
            apply_each(
                self,
                request,
                notices,
                lambda notice: self._publish(request, notice),
                skip=lambda notice: notice.published_at is not None,
                skipped=_("%(code)s is already published."),
                done=lambda count: ngettext(
                    "Published %(count)d notice.", "Published %(count)d notices.", count
                ),
            )
            return None
        return action_page(
            self,
            request,
            form,
            template="loyalty_admin/row_action.html",
            title=_("Publish notices"),
            intro=_(
                "Once published, a notice can no longer be changed or deleted. A material change puts "
                "every consent given to an earlier version up for renewal: members are asked again, and "
                "their consent does not count until they renew it."
            ),
            rows=[(notice, self._publication_effect(notice)) for notice in notices],
            submit_label=_("Publish"),
        )

    def _publish(self, request, notice: NoticeVersion) -> None:
        latest = current_notice(notice.purpose)
        if latest is not None and latest.version > notice.version:
            raise LoyaltyError(
                _("version %(latest)d is already published; write a version after it.")
                % {"latest": latest.version}
            )
        publish_notice(notice)
        self.log_change(request, notice, [{"changed": {"fields": ["published_at"]}}])

    @staticmethod
    def _publication_effect(notice: NoticeVersion) -> str:
        if notice.published_at is not None:
            return gettext("already published; it stays as it is.")
        if notice.change_type != ChangeType.MATERIAL:
            return gettext("an editorial change: the consents given stay valid.")
        granted = ConsentState.objects.filter(
            purpose_id=notice.purpose_id, status=ConsentStatus.GRANTED
        ).count()
        return ngettext(
            "a material change: %(count)d granted consent will have to be renewed.",
            "a material change: %(count)d granted consents will have to be renewed.",
            granted,
        ) % {"count": granted}


# The consent record -------------------------------------------------------------------------------


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    """The consent log is append-only: decisions are recorded by the services, never edited."""

    list_display = [
        "occurred_at",
        "member",
        "purpose",
        "action",
        "notice_version",
        "is_separate",
        "actor",
        "method",
        "collection_point",
    ]
    list_filter = ["purpose", "action", "method", "actor", "is_separate"]
    list_select_related = ["member", "purpose", "notice_version__purpose"]
    search_fields = ["=member__number", "=request_id"]
    date_hierarchy = "occurred_at"


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    """Each member's current decision per purpose, derived from the consent log."""

    list_display = [
        "member",
        "purpose",
        "status",
        "notice_version",
        "by_guardian",
        "is_separate",
        "decided_at",
    ]
    list_filter = ["purpose", "status", "last_event__action", "last_event__method", "by_guardian"]
    list_select_related = ["member", "purpose", "notice_version__purpose"]
    search_fields = ["=member__number"]


@admin.register(JurisdictionRule)
class JurisdictionRuleAdmin(admin.ModelAdmin):
    list_display = ["regime", "country", "digital_consent_age"]
    list_display_links = ["regime", "country"]
    list_editable = ["digital_consent_age"]
    list_filter = ["regime"]


@admin.register(SuppressionEntry)
class SuppressionEntryAdmin(ReadOnlyAdmin):
    """Hashes of erased members' addresses; kept so an erased address is never marketed to again."""

    list_display = ["identifier_hash", "created_at"]
    date_hierarchy = "created_at"


# Recipients and transfers abroad ------------------------------------------------------------------


class TransferInline(admin.TabularInline):
    model = Transfer
    fields = ["regime", "mechanism", "reference", "valid_until"]
    extra = 0


PIPL_WARNINGS = {
    1: _("PIPL threshold passed: a standard contract or certification is needed."),
    2: _("PIPL threshold passed: a CAC security assessment is needed."),
}


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "country", "processes_sensitive_data", "mechanisms"]
    # The head count column is added per request (get_list_display); it cannot be sorted.
    sortable_by = ["name", "role", "country", "processes_sensitive_data"]
    list_filter = ["role", "processes_sensitive_data"]
    search_fields = ["name"]
    inlines = [TransferInline]
    Media = PrivacyMedia

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("transfers")

    def get_list_display(self, request):
        counts = {count.recipient.pk: count for count in transfer_counts(timezone.now().year)}

        @admin.display(description=_("people this year"))
        def people_this_year(recipient):
            count = counts.get(recipient.pk)
            if count is None or not count.people:
                return 0
            people = gettext("%(people)s (%(sensitive)s with sensitive data)") % {
                "people": number_format(count.people, force_grouping=True),
                "sensitive": number_format(count.sensitive, force_grouping=True),
            }
            if not count.pipl_level:
                return people
            return format_html(
                '{} <strong class="privacy-warning">{}</strong>', people, PIPL_WARNINGS[count.pipl_level]
            )

        return [*super().get_list_display(request), people_this_year]

    @admin.display(description=_("transfer mechanisms"))
    def mechanisms(self, recipient):
        transfers = recipient.transfers.all()
        if not transfers:
            return self.get_empty_value_display()
        return format_html_join(
            "",
            "<div>{}: {}</div>",
            ((Regime(transfer.regime).label, transfer.get_mechanism_display()) for transfer in transfers),
        )


# Retention ----------------------------------------------------------------------------------------


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    list_display = ["category", "months", "is_active", "note"]
    list_filter = ["is_active"]


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ["ran_at", "category", "cutoff", "affected", "skipped"]
    list_filter = ["category"]
    date_hierarchy = "ran_at"


# The data-subject request queue -------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("On time or closed"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(overdue_filter())
        if self.value() == "no":
            return queryset.exclude(overdue_filter())
        return queryset


class RequestHistoryInline(admin.TabularInline):
    """Every step of the request, as the services recorded it."""

    model = RequestStatusEvent
    fields = ["at", "from_status", "to_status", "note", "actor"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_view_permission(self, request, obj=None):
        # Whoever may see the request sees its history.
        return request.user.has_perm("loyalty.view_datasubjectrequest") or request.user.has_perm(
            "loyalty.handle_privacy_request"
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def request_messages(privacy_request: DataSubjectRequest) -> list[RequestMessage]:
    """What the member wrote with the request, read from their residency database."""
    member = privacy_request.member
    return list(
        RequestMessage.objects.using(residency_database(member.market.residency_region))
        .filter(subject_id=member.subject_id, request_reference=privacy_request.reference)
        .order_by("created_at", "pk")
    )


def on_day(when: datetime, day: date) -> datetime:
    """``when`` moved to ``day`` in the console's time zone, keeping its time of day."""
    local = timezone.localtime(when)
    return local.replace(year=day.year, month=day.month, day=day.day)


FULFILMENT_EFFECTS = {
    RequestKind.ACCESS: _("a new export of the member's data, behind a link that expires."),
    RequestKind.PORTABILITY: _("a new export of the member's data, behind a link that expires."),
    RequestKind.RECTIFICATION: _("closes the request: correct the member's data first."),
    RequestKind.RESTRICTION: _("stops every processing of the member's data beyond the membership."),
    RequestKind.OBJECTION: _("records an objection to every optional purpose."),
    RequestKind.WITHDRAWAL: _("withdraws every optional consent the member gave."),
}


def erasure_effect(privacy_request: DataSubjectRequest) -> str:
    """What erasing the member does now, or what holds it (the request is then put on hold instead)."""
    member = privacy_request.member
    holds = erasure_holds(member)
    if holds:
        return format_html(
            "{}<ul>{}</ul>",
            gettext("the erasure is held, so the request will be put on hold:"),
            format_html_join("", "<li>{}</li>", ((hold,) for hold in holds)),
        )
    points = member.account.available
    return ngettext(
        "erases the member's personal data; their %(points)d point will be forfeited.",
        "erases the member's personal data; their %(points)d points will be forfeited.",
        points,
    ) % {"points": points}


def fulfilment_effect(privacy_request: DataSubjectRequest) -> str:
    if not privacy_request.is_open:
        return _("already %(status)s; it stays as it is.") % {"status": privacy_request.get_status_display()}
    if privacy_request.kind == RequestKind.ERASURE:
        return erasure_effect(privacy_request)
    return FULFILMENT_EFFECTS[privacy_request.kind]


def is_closed(privacy_request: DataSubjectRequest) -> bool:
    return not privacy_request.is_open


ALREADY_CLOSED = _("%(code)s is already closed.")


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(RefusesForbiddenActions, ReadOnlyAdmin):
    """The queue of privacy requests, earliest due first; requests change only through the actions."""

    list_display = ["reference", "due", "kind", "status", "member_number", "regime_list", "received_at"]
    list_filter = [OverdueFilter, "status", "kind", "channel"]
    search_fields = ["=reference", "=member__number"]
    ordering = ["due_at", "pk"]
    actions = ["fulfil_requests", "extend_requests", "hold_requests", "reject_requests"]
    inlines = [RequestHistoryInline]
    readonly_fields = ["member_link", "regime_list", "due", "member_message", "export"]
    fieldsets = [
        (None, {"fields": ["reference", "member_link", "kind", "status", "channel", "regime_list"]}),
        (
            _("Deadlines"),
            {"fields": ["received_at", "due", "original_due_at", "extension_reason", "closed_at"]},
        ),
        (_("Outcome"), {"fields": ["hold_reason", "rejection_ground", "export"]}),
        (_("The member's message"), {"fields": ["member_message"]}),
    ]
    Media = PrivacyMedia

    def has_handle_permission(self, request):
        return request.user.has_perm("loyalty.handle_privacy_request")

    def get_queryset(self, request):
        # The member's market says which residency database holds their message and export.
        return super().get_queryset(request).select_related("member__market")

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, privacy_request):
        when = shown_time(privacy_request.due_at)
        if privacy_request.is_overdue():
            return format_html('{} <strong class="privacy-overdue">{}</strong>', when, _("overdue"))
        return when

    @admin.display(description=_("member"), ordering="member__number")
    def member_number(self, privacy_request):
        return privacy_request.member.number

    @admin.display(description=_("member"))
    def member_link(self, privacy_request):
        member = privacy_request.member
        url = reverse("admin:loyalty_member_change", args=[member.pk])
        return format_html('<a href="{}">{}</a>', url, member.number)

    @admin.display(description=_("regimes"))
    def regime_list(self, privacy_request):
        return regime_labels(privacy_request.regimes) or self.get_empty_value_display()

    @admin.display(description=_("message"))
    def member_message(self, privacy_request):
        notes = request_messages(privacy_request)
        if not notes:
            return _("The member wrote no message.")
        return format_html_join(
            "",
            '<div class="privacy-message"><p>{}</p><p class="privacy-written">{}</p></div>',
            ((note.text, shown_time(note.created_at)) for note in notes),
        )

    @admin.display(description=_("data export"))
    def export(self, privacy_request):
        if privacy_request.kind not in EXPORT_KINDS or privacy_request.status != RequestStatus.FULFILLED:
            return self.get_empty_value_display()
        export = request_export(privacy_request)
        if export is None:
            return _("No export: it was removed after its link expired.")
        url = reverse("admin:loyalty_datasubjectrequest_export", args=[privacy_request.pk])
        return format_html(
            '<a href="{}">{}</a> ({})',
            url,
            _("Download the export (JSON)"),
            _("the member's link expires %(when)s") % {"when": shown_time(export.expires_at)},
        )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="loyalty_datasubjectrequest_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request, object_id):
        """The member's export as JSON, for staff who answer the request by other means."""
        if not self.has_handle_permission(request):
            raise PermissionDenied
        privacy_request = get_object_or_404(
            DataSubjectRequest.objects.select_related("member__market"), pk=object_id
        )
        export = request_export(privacy_request)
        if export is None:
            raise Http404
        response = HttpResponse(export_json(export.payload), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{privacy_request.reference}.json"'
        # Staff reading a member's data is itself worth a trace.
        self.log_change(request, privacy_request, gettext("Downloaded the data export."))
        return response

    # Actions: each runs its service on every selected request and reports each failure.

    def _selected(self, queryset) -> list[DataSubjectRequest]:
        return list(queryset.select_related("member__market", "member__account").order_by("due_at", "pk"))

    def _on_open_requests(
        self, request, rows, form_class, *, action: str, apply, done, intro, describe, **page
    ):
        """Ask for the action's form, then run ``apply(row, cleaned_data)`` on each open request.

        ``intro(count)`` introduces the rows on the form page and ``describe(row)`` says what happens
        to each; closed requests are left as they are and reported.
        """
        form = form_class(request.POST if "apply" in request.POST else None, action=action)
        if form.is_valid():
            apply_each(
                self,
                request,
                rows,
                lambda row: apply(row, form.cleaned_data),
                skip=is_closed,
                skipped=ALREADY_CLOSED,
                done=done,
            )
            return None
        return action_page(
            self,
            request,
            form,
            template="loyalty_admin/row_action.html",
            intro=intro(len(rows)) % {"count": len(rows)},
            rows=[(row, describe(row)) for row in rows],
            **page,
        )

    @admin.action(description=_("Fulfil the selected requests"), permissions=["handle"])
    def fulfil_requests(self, request, queryset):
        rows = self._selected(queryset)
        if not request.user.has_perm("loyalty.erase_member") and any(
            row.kind == RequestKind.ERASURE and row.is_open for row in rows
        ):
            raise PermissionDenied
        return self._on_open_requests(
            request,
            rows,
            FulfilRequestForm,
            action="fulfil_requests",
            apply=lambda row, data: fulfil_request(row, actor=request.user, note=data["note"]),
            done=lambda count: ngettext(
                "Fulfilled %(count)d request.", "Fulfilled %(count)d requests.", count
            ),
            title=_("Fulfil requests"),
            intro=lambda count: ngettext("Fulfil this request:", "Fulfil these %(count)d requests:", count),
            describe=fulfilment_effect,
            submit_label=_("Fulfil"),
        )

    @admin.action(description=_("Extend the deadline of the selected requests"), permissions=["handle"])
    def extend_requests(self, request, queryset):
        return self._on_open_requests(
            request,
            self._selected(queryset),
            ExtendRequestForm,
            action="extend_requests",
            apply=lambda row, data: extend_request(
                row, until=on_day(row.due_at, data["until"]), reason=data["reason"], actor=request.user
            ),
            done=lambda count: ngettext("Extended %(count)d request.", "Extended %(count)d requests.", count),
            title=_("Extend the deadline"),
            intro=lambda count: ngettext(
                "Extend the deadline of this request:",
                "Extend the deadline of these %(count)d requests:",
                count,
            ),
            describe=lambda row: (
                _("due %(due)s; it may be extended until %(latest)s at most.")
                % {"due": shown_time(row.due_at), "latest": shown_time(add_months(row.original_due_at, 2))}
            ),
            submit_label=_("Extend"),
        )

    @admin.action(description=_("Put the selected requests on hold"), permissions=["handle"])
    def hold_requests(self, request, queryset):
        return self._on_open_requests(
            request,
            self._selected(queryset),
            HoldRequestForm,
            action="hold_requests",
            apply=lambda row, data: hold_request(row, reason=data["reason"], actor=request.user),
            done=lambda count: ngettext(
                "Put %(count)d request on hold.", "Put %(count)d requests on hold.", count
            ),
            title=_("Put requests on hold"),
            intro=lambda count: ngettext(
                "Put this request on hold:", "Put these %(count)d requests on hold:", count
            ),
            describe=describe_request,
            submit_label=_("Put on hold"),
        )

    @admin.action(description=_("Reject the selected requests"), permissions=["handle"])
    def reject_requests(self, request, queryset):
        return self._on_open_requests(
            request,
            self._selected(queryset),
            RejectRequestForm,
            action="reject_requests",
            apply=lambda row, data: reject_request(
                row, ground=data["ground"], note=data["note"], actor=request.user
            ),
            done=lambda count: ngettext("Rejected %(count)d request.", "Rejected %(count)d requests.", count),
            title=_("Reject requests"),
            intro=lambda count: ngettext(
                "Reject this request on a legal ground:",
                "Reject these %(count)d requests on a legal ground:",
                count,
            ),
            describe=describe_request,
            submit_label=_("Reject"),
        )


def describe_request(privacy_request: DataSubjectRequest) -> str:
    """A request in an action's list: "erasure of my data, member 1234, received, due 3/1/2026 09:00"."""
    return _("%(kind)s, member %(member)s, %(status)s, due %(due)s") % {
        "kind": privacy_request.get_kind_display(),
        "member": privacy_request.member.number,
        "status": privacy_request.get_status_display(),
        "due": shown_time(privacy_request.due_at),
    }
