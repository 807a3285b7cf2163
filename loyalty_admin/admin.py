import uuid
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from djmoney.contrib.exchange.models import Rate

from loyalty.conf import loyalty_settings
from loyalty.exceptions import LoyaltyError
from loyalty.models import (
    EarnRate,
    ExchangeRate,
    LedgerEntry,
    ManualExchangeRate,
    Market,
    MarketChange,
    Member,
    OrderRecord,
    PointsAccount,
    PointsLot,
    RefundRecord,
    Tier,
)
from loyalty.selectors.arbitrage import check_arbitrage, lock_configuration, round_trips
from loyalty.selectors.liability import points_liability
from loyalty.selectors.rates import current_quotes
from loyalty.services import adjust_points, change_market, pin_exchange_rate, unpin_exchange_rate

from .forms import SELECTED, AdjustPointsForm, ChangeMarketForm

# djmoney's own rate table holds only the latest feed rate and is not what conversions read; rates are
# looked at and pinned through the loyalty console's exchange-rate pages instead.
if admin.site.is_registered(Rate):
    admin.site.unregister(Rate)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services: staff may look, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EarnRateInline(admin.TabularInline):
    model = EarnRate
    extra = 0


class ArbitrageCheckedFormSet(forms.BaseInlineFormSet):
    """Checks the market and its earn rates together, as they would be saved."""

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        market = self.instance
        rates = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.instance.currency
        ]
        for rate in rates:
            rate.market_id = market.pk
        lock_configuration()
        try:
            check_arbitrage(
                markets=[*Market.objects.exclude(pk=market.pk), market],
                earn_rates=[*EarnRate.objects.exclude(market_id=market.pk), *rates],
            )
        except LoyaltyError as error:
            raise forms.ValidationError(str(error.detail)) from None


class MarketForm(forms.ModelForm):
    """Checks the market's round trips against the stored earn rates when no earn-rate inline will."""

    checks_arbitrage = True

    class Meta:
        model = Market
        fields = [
            "code",
            "name",
            "countries",
            "default_currency",
            "accepted_currencies",
            "default_language",
            "time_zone",
            "regimes",
            "points_per_unit",
            "point_value_mode",
            "point_value",
            "is_active",
        ]

    def _post_clean(self):
        super()._post_clean()
        if self.errors or not self.checks_arbitrage:
            return
        lock_configuration()
        try:
            check_arbitrage(markets=[*Market.objects.exclude(pk=self.instance.pk), self.instance])
        except LoyaltyError as error:
            self.add_error(None, str(error.detail))


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "default_currency",
        "default_language",
        "time_zone",
        "points_per_unit",
        "point_value_mode",
        "is_active",
    ]
    list_filter = ["is_active", "default_currency"]
    search_fields = ["code", "name"]
    form = MarketForm
    inlines = [EarnRateInline]
    change_list_template = "loyalty_admin/market_change_list.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # With the earn-rate inline on the page, its formset checks the market and its rates together.
        inline_checks = any(
            isinstance(inline, EarnRateInline) for inline in self.get_inline_instances(request, obj)
        )
        return type(form.__name__, (form,), {"checks_arbitrage": not inline_checks})

    def get_formsets_with_inlines(self, request, obj=None):
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            if isinstance(inline, EarnRateInline):
                formset = type("EarnRateFormSet", (ArbitrageCheckedFormSet, formset), {})
            yield formset, inline

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "round-trips/",
                self.admin_site.admin_view(self.round_trips_view),
                name="loyalty_market_round_trips",
            ),
            path(
                "liability/",
                self.admin_site.admin_view(self.liability_view),
                name="loyalty_market_liability",
            ),
            *super().get_urls(),
        ]

    def round_trips_view(self, request):
        """The earn-here, redeem-there matrix, with every pair above the ceiling marked."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        trips = round_trips()
        redeem_markets = sorted({trip.redeem_market for trip in trips})
        rows: dict[tuple[str, str], dict[str, object]] = {}
        for trip in trips:
            rows.setdefault((trip.earn_market, trip.currency), {})[trip.redeem_market] = trip
        return TemplateResponse(
            request,
            "loyalty_admin/round_trips.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Round trips between markets"),
                "opts": self.model._meta,
                "redeem_markets": redeem_markets,
                "rows": [
                    (earn, currency, [cells.get(code) for code in redeem_markets])
                    for (earn, currency), cells in rows.items()
                ],
                "ceiling": 1 + loyalty_settings.ARBITRAGE_CEILING,
                "stale": [code for code, quote in current_quotes().items() if quote.is_stale(timezone.now())],
            },
        )

    def liability_view(self, request):
        """Outstanding points valued per market and in the base currency, with the rates used."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "loyalty_admin/liability.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Points liability"),
                "opts": self.model._meta,
                "liability": points_liability(),
            },
        )


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["rank", "code", "name"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    list_display = ["currency", "rate", "base_currency", "source", "fetched_at", "stale"]
    list_filter = ["currency", "source"]
    date_hierarchy = "fetched_at"

    @admin.display(description=_("stale"), boolean=True)
    def stale(self, rate):
        return timezone.now() - rate.fetched_at > timedelta(
            hours=loyalty_settings.EXCHANGE_RATE_MAX_AGE_HOURS
        )


@admin.register(ManualExchangeRate)
class ManualExchangeRateAdmin(admin.ModelAdmin):
    """Manual rates are set through the service, which refuses a rate that opens an arbitrage gap."""

    list_display = ["currency", "rate", "base_currency", "reason", "set_by", "set_at", "is_active"]
    list_filter = ["is_active", "currency"]
    fields = ["currency", "rate", "reason"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pin = pin_exchange_rate(obj.currency, rate=obj.rate, reason=obj.reason, actor=request.user)
        obj.pk = pin.pk

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class PinForm(form):
            def clean(self):
                data = super().clean()
                if self.errors:
                    return data
                try:
                    with transaction.atomic():
                        pin_exchange_rate(
                            data["currency"], rate=data["rate"], reason=data["reason"], actor=request.user
                        )
                        transaction.set_rollback(True)
                except LoyaltyError as error:
                    raise forms.ValidationError(str(error.detail)) from None
                return data

        return PinForm

    @admin.action(description=_("Return the selected currencies to the feed rate"))
    def unpin(self, request, queryset):
        for currency in queryset.filter(is_active=True).values_list("currency", flat=True):
            try:
                unpin_exchange_rate(currency, actor=request.user)
            except LoyaltyError as error:
                self.message_user(request, f"{currency}: {error.detail}", messages.ERROR)

    actions = ["unpin"]


@admin.register(MarketChange)
class MarketChangeAdmin(ReadOnlyAdmin):
    list_display = ["member", "from_market", "to_market", "reason", "actor", "changed_at"]
    list_select_related = ["member", "from_market", "to_market", "actor"]
    search_fields = ["=member__number"]


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
    list_display = [
        "number",
        "user",
        "market",
        "tier",
        "status",
        "available",
        "pending",
        "debt",
        "enrolled_at",
    ]
    list_filter = ["status", "market", "tier"]
    list_select_related = ["user", "market", "tier", "account"]
    search_fields = ["number", "user__username", "user__email"]
    readonly_fields = ["number", "user", "market", "enrolled_at", "ledger_link"]
    fields = ["number", "user", "market", "status", "language", "time_zone", "enrolled_at", "ledger_link"]
    inlines = [PointsAccountInline]
    actions = ["adjust_points", "change_market"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_adjust_points_permission(self, request):
        return request.user.has_perm("loyalty.adjust_points")

    def has_change_market_permission(self, request):
        return request.user.has_perm("loyalty.change_member")

    @admin.action(description=_("Move the selected members to another market"), permissions=["change_market"])
    def change_market(self, request, queryset):
        form = ChangeMarketForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for member in queryset.order_by("pk"):
                try:
                    change_market(
                        member,
                        market=form.cleaned_data["market"],
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                    )
                except LoyaltyError as error:
                    self.message_user(request, f"{member.number}: {error.detail}", messages.ERROR)
            return None
        members = queryset.select_related("market", "user")
        return self._action_page(
            request,
            form,
            title=_("Move to another market"),
            intro=ngettext(
                "Move this member to another market:",
                "Move these %(count)d members to another market:",
                len(members),
            )
            % {"count": len(members)},
            rows=[(member, member.market) for member in members],
            submit_label=_("Move"),
        )

    def _action_page(self, request, form, *, title, intro, rows, submit_label):
        """The page between choosing members and applying an action to them."""
        return TemplateResponse(
            request,
            "loyalty_admin/member_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "form": form,
                "intro": intro,
                "rows": rows,
                "submit_label": submit_label,
                "selected_name": SELECTED,
            },
        )

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
        members = queryset.select_related("account", "user")
        return self._action_page(
            request,
            form,
            title=_("Adjust points"),
            intro=ngettext(
                "Adjust the points of this member:",
                "Adjust the points of these %(count)d members:",
                len(members),
            )
            % {"count": len(members)},
            rows=[
                (member, _("%(available)s available") % {"available": member.account.available})
                for member in members
            ],
            submit_label=_("Apply adjustment"),
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
