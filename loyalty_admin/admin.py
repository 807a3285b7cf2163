import uuid

from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from loyalty.exceptions import LoyaltyError
from loyalty.models import LedgerEntry, Market, Member, OrderRecord, PointsAccount, PointsLot, RefundRecord
from loyalty.services import adjust_points

from .forms import SELECTED, AdjustPointsForm


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services: staff may look, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "default_currency",
        "default_language",
        "time_zone",
        "points_per_unit",
        "is_active",
    ]
    list_filter = ["is_active", "default_currency"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        return False


class PointsAccountInline(admin.StackedInline):
    model = PointsAccount
    can_delete = False
    fields = [
        "available",
        "pending",
        "debt",
        "lifetime_earned",
        "lifetime_redeemed",
        "lifetime_expired",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["number", "user", "market", "status", "available", "pending", "debt", "enrolled_at"]
    list_filter = ["status", "market"]
    list_select_related = ["user", "market", "account"]
    search_fields = ["number", "user__username", "user__email"]
    readonly_fields = ["number", "user", "market", "enrolled_at", "ledger_link"]
    fields = ["number", "user", "market", "status", "language", "time_zone", "enrolled_at", "ledger_link"]
    inlines = [PointsAccountInline]
    actions = ["adjust_points"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_adjust_points_permission(self, request):
        return request.user.has_perm("loyalty.adjust_points")

    @admin.display(description=_("available"), ordering="account__available")
    def available(self, member):
        return member.account.available

    @admin.display(description=_("pending"), ordering="account__pending")
    def pending(self, member):
        return member.account.pending

    @admin.display(description=_("owed"), ordering="account__debt")
    def debt(self, member):
        return member.account.debt

    @admin.display(description=_("ledger"))
    def ledger_link(self, member):
        url = reverse("admin:loyalty_ledgerentry_changelist") + f"?account__member__number={member.number}"
        return format_html('<a href="{}">{}</a>', url, _("View the ledger"))

    @admin.action(description=_("Adjust points of the selected members"), permissions=["adjust_points"])
    def adjust_points(self, request, queryset):
        if "apply" in request.POST:
            form = AdjustPointsForm(request.POST)
            if form.is_valid():
                self._apply_adjustment(request, queryset, form.cleaned_data)
                return None
        else:
            form = AdjustPointsForm(initial={"idempotency_key": uuid.uuid4().hex})
        return TemplateResponse(
            request,
            "loyalty_admin/adjust_points.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Adjust points"),
                "opts": self.model._meta,
                "form": form,
                "members": queryset.select_related("account", "user"),
                "selected_name": SELECTED,
            },
        )

    def _apply_adjustment(self, request, queryset, data):
        done = 0
        for member in queryset.order_by("pk"):
            key = f"{data['idempotency_key']}:{member.pk}"
            try:
                with transaction.atomic():
                    adjust_points(
                        member,
                        points=data["points"],
                        reason=data["reason"],
                        actor=request.user,
                        idempotency_key=key,
                    )
            except LoyaltyError as error:
                self.message_user(request, f"{member.number}: {error.detail}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "Adjusted the points of %(count)d member.",
                    "Adjusted the points of %(count)d members.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "member_number",
        "entry_type",
        "points",
        "pending_points",
        "source_ref",
        "reason",
    ]
    list_filter = ["entry_type", "source", "created_at"]
    list_select_related = ["account__member", "actor"]
    search_fields = ["=account__member__number", "source_ref", "idempotency_key"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "account__member__number" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("member"), ordering="account__member__number")
    def member_number(self, entry):
        return entry.account.member.number


class RefundInline(admin.TabularInline):
    model = RefundRecord
    fields = ["refund_id", "amount", "points", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OrderRecord)
class OrderRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "external_id",
        "source",
        "member",
        "amount",
        "points",
        "points_reversed",
        "status",
        "placed_at",
        "release_after",
    ]
    list_filter = ["status", "source"]
    list_select_related = ["member"]
    search_fields = ["=external_id", "=member__number"]
    inlines = [RefundInline]


@admin.register(PointsLot)
class PointsLotAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "original", "remaining", "expires_at", "created_at"]
    list_filter = ["expires_at"]
    search_fields = ["=account__member__number"]
