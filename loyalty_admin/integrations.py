"""The console of the shop integrations: event sources and partners, their settlement report,
incoming events, and outgoing events with their delivery log and a manual retry."""

import csv
import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from loyalty.models import (
    EventSource,
    ExternalCustomer,
    InboundEvent,
    OutboxAttempt,
    OutboxEvent,
    OutboxStatus,
)
from loyalty.selectors.partners import SettlementRow, partner_settlements
from loyalty.services import retry_event
from loyalty.services.events import source_secrets

from .admin import ReadOnlyAdmin, RefusesForbiddenActions, apply_each, moment
from .forms import ReportPeriodForm


def settlements_csv(rows: list[SettlementRow], start, end) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="partner-settlement-{start}-{end}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            gettext("Partner"),
            gettext("Code"),
            gettext("Awards"),
            gettext("Reversals"),
            gettext("Points"),
            gettext("Amount"),
            gettext("Currency"),
        ]
    )
    for row in rows:
        writer.writerow(
            [
                row.partner,
                row.code,
                row.awards,
                row.reversals,
                row.points,
                row.amount.amount,
                row.amount.currency,
            ]
        )
    return response


@admin.register(EventSource)
class EventSourceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "is_active", "secret_configured", "earn_rate"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    change_list_template = "loyalty_admin/eventsource_change_list.html"
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "is_active", "secret_configured"]}),
        (
            _("Partner earning"),
            {
                "fields": ["currency", "points_per_unit", "point_price"],
                "description": _(
                    "Only for partners: members earn points per unit spent at the partner, and the "
                    "partner owes the price per point for every point it issued."
                ),
            },
        ),
    ]
    readonly_fields = ["secret_configured"]

    def get_readonly_fields(self, request, obj=None):
        # The code names the source's orders and ledger entries, and the settlement currency is the
        # partner's contract: neither changes once saved.
        if obj is not None and obj.pk:
            return [*self.readonly_fields, "code", "kind", "currency"]
        return self.readonly_fields

    @admin.display(description=_("secret configured"), boolean=True)
    def secret_configured(self, source):
        return bool(source.code and source_secrets(source.code))

    @admin.display(description=_("earn rate"))
    def earn_rate(self, source):
        if not source.is_partner:
            return self.get_empty_value_display()
        return _("%(points)s points per %(currency)s") % {
            "points": source.points_per_unit.normalize(),
            "currency": source.currency,
        }

    def get_urls(self):
        return [
            path(
                "settlement/",
                self.admin_site.admin_view(self.settlement_view),
                name="loyalty_eventsource_settlement",
            ),
            *super().get_urls(),
        ]

    def settlement_view(self, request):
        """The points each partner issued over a period and what it owes for them; CSV too."""
        if not request.user.has_perm("loyalty.view_settlement_report"):
            raise PermissionDenied
        form = ReportPeriodForm(request.GET)
        rows = []
        if form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            rows = partner_settlements(*form.period())
            if request.GET.get("export") == "csv":
                return settlements_csv(rows, start, end)
        return TemplateResponse(
            request,
            "loyalty_admin/settlement.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Partner settlement"),
                "opts": self.model._meta,
                "form": form,
                "rows": rows,
                "csv_query": urlencode({**form.cleaned_data, "export": "csv"}) if form.is_valid() else "",
            },
        )


@admin.register(ExternalCustomer)
class ExternalCustomerAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "source", "member", "created_at"]
    list_filter = ["source"]
    search_fields = ["=external_id", "=member__number"]
    list_select_related = ["source", "member"]


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "source", "event_type", "received_at"]
    list_filter = ["source", "event_type"]
    search_fields = ["=event_id"]
    list_select_related = ["source"]
    date_hierarchy = "received_at"
    fields = ["source", "event_id", "event_type", "received_at", "body_sha256", "response_status", "response"]


class OutboxAttemptInline(admin.TabularInline):
    """The delivery log: every attempt with the shop's answer, or why it could not be reached."""

    model = OutboxAttempt
    fields = ["attempted_at", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        # Whoever may see the event sees its delivery log.
        return request.user.has_perm("loyalty.view_outboxevent")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class IntegrationsMedia:
    """The badge of an event that was given up."""

    css = {"all": ("loyalty_admin/integrations.css",)}


@admin.register(OutboxEvent)
class OutboxEventAdmin(RefusesForbiddenActions, ReadOnlyAdmin):
    list_display = [
        "event_type",
        "event_id",
        "status_badge",
        "attempts",
        "next_attempt",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event_type"]
    search_fields = ["=event_id"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    inlines = [OutboxAttemptInline]
    Media = IntegrationsMedia
    fields = [
        "event_id",
        "event_type",
        "status",
        "attempts",
        "next_attempt",
        "last_error",
        "created_at",
        "delivered_at",
        "payload_json",
    ]

    @admin.display(description=_("payload"))
    def payload_json(self, event):
        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, ensure_ascii=False))

    def has_retry_permission(self, request):
        return request.user.has_perm("loyalty.retry_outboxevent")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, event):
        if event.status == OutboxStatus.FAILED:
            return format_html('<strong class="webhook-failed">{}</strong>', event.get_status_display())
        return event.get_status_display()

    @admin.display(description=_("next attempt"), ordering="next_attempt_at")
    def next_attempt(self, event):
        if event.status != OutboxStatus.PENDING:
            return self.get_empty_value_display()
        return moment(event.next_attempt_at)

    @admin.action(description=_("Retry the delivery now"), permissions=["retry"])
    def retry(self, request, queryset):
        apply_each(
            self,
            request,
            queryset.order_by("pk"),
            retry_event,
            skip=lambda event: event.status == OutboxStatus.DELIVERED,
            skipped=_("%(code)s was already delivered."),
            done=lambda count: ngettext(
                "Queued %(count)d event for delivery.", "Queued %(count)d events for delivery.", count
            ),
        )
        self.message_user(request, _("The delivery log of each event shows the outcome."), messages.INFO)
