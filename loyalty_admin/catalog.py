"""The operator console of the reward catalog: categories, charities, rewards with their market offers,
redemptions, and the charity donation report."""

import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from modeltranslation import settings as mt_settings
from modeltranslation.utils import build_localized_fieldname

from loyalty.models import (
    Charity,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardCategory,
    RewardOffer,
)
from loyalty.money import quantize_money
from loyalty.selectors.catalog import TRANSLATED_FIELDS, missing_translations, missing_translations_filter
from loyalty.selectors.donations import DonationRow, donation_totals, totals_by_currency
from loyalty.services import cancel_redemption, fulfil_redemption

from .admin import (
    LocalTabbedTranslationAdmin,
    ReadOnlyAdmin,
    RefusesForbiddenActions,
    action_page,
    apply_each,
    switch_active,
)
from .forms import RedemptionReasonForm, ReportPeriodForm, RewardOfferFormSet


def translated_columns(field: str) -> list[str]:
    """The columns of a translated field, one per content language (to search every language)."""
    return [build_localized_fieldname(field, language) for language in mt_settings.AVAILABLE_LANGUAGES]


@admin.register(RewardCategory)
class RewardCategoryAdmin(LocalTabbedTranslationAdmin):
    list_display = ["code", "name", "sort_order", "reward_count"]
    list_editable = ["sort_order"]
    search_fields = ["code", *translated_columns("name")]
    fields = ["code", "name", "sort_order"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(reward_count=Count("rewards"))

    @admin.display(description=_("rewards"), ordering="reward_count")
    def reward_count(self, category):
        url = reverse("admin:loyalty_reward_changelist") + f"?category__id__exact={category.pk}"
        return format_html('<a href="{}">{}</a>', url, category.reward_count)


# Charities and their donation report ------------------------------------------------------------------


def csv_text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (names are typed by staff)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def donations_csv(rows: list[DonationRow], start, end) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="donations-{start}-{end}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            gettext("Charity"),
            gettext("Registration number"),
            gettext("Currency"),
            gettext("Donations"),
            gettext("Points"),
            gettext("Amount"),
        ]
    )
    for row in rows:
        writer.writerow(
            [
                csv_text(row.charity),
                csv_text(row.registration_number),
                row.currency,
                row.donations,
                row.points,
                row.amount.amount,
            ]
        )
    return response


@admin.register(Charity)
class CharityAdmin(admin.ModelAdmin):
    list_display = ["name", "registration_number", "website", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "registration_number"]
    change_list_template = "loyalty_admin/charity_change_list.html"

    def get_urls(self):
        return [
            path(
                "donations/",
                self.admin_site.admin_view(self.donation_report_view),
                name="loyalty_charity_donations",
            ),
            *super().get_urls(),
        ]

    def donation_report_view(self, request):
        """Points and money donated per charity and currency over a range of days, on a page or as CSV."""
        if not request.user.has_perm("loyalty.view_donation_report"):
            raise PermissionDenied
        form = ReportPeriodForm(request.GET)
        rows = []
        if form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            rows = donation_totals(*form.period())
            if request.GET.get("export") == "csv":
                return donations_csv(rows, start, end)
        return TemplateResponse(
            request,
            "loyalty_admin/donations.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Charity donations"),
                "opts": self.model._meta,
                "form": form,
                "rows": rows,
                "totals": totals_by_currency(rows),
                "csv_query": urlencode({**form.cleaned_data, "export": "csv"}) if form.is_valid() else "",
            },
        )


# Rewards ------------------------------------------------------------------------------------------


class RewardOfferInline(admin.TabularInline):
    model = RewardOffer
    formset = RewardOfferFormSet
    fields = ["market", "points", "value", "stock", "is_active"]

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj is not None and obj.pk else 1


def offers_with_markets():
    return Prefetch("offers", queryset=RewardOffer.objects.select_related("market").order_by("market__code"))


def describe_offer(offer: RewardOffer) -> str:
    """An offer as merchandisers read it: "EU 500 pts · 5.00 EUR · stock 12"."""
    parts = [
        ngettext("%(market)s %(points)d pt", "%(market)s %(points)d pts", offer.points)
        % {"market": offer.market.code, "points": offer.points}
    ]
    if offer.value is not None:
        value = quantize_money(offer.value)
        parts.append(f"{value.amount} {value.currency.code}")
    if offer.stock is not None:
        parts.append(gettext("stock %(count)d") % {"count": offer.stock})
    if not offer.is_active:
        parts.append(gettext("unavailable"))
    # Lines break between the parts of an offer, never inside one.
    return " · ".join(part.replace(" ", "\u00a0") for part in parts)


def describe_missing(missing: dict[str, dict[str, list[str]]]) -> list[str]:
    """One line per market: "CN: zh-hans (name, terms)"."""
    label = {field: Reward._meta.get_field(field).verbose_name for field in TRANSLATED_FIELDS}
    lines = []
    for market, gaps in missing.items():
        texts = "; ".join(
            f"{language} ({', '.join(str(label[field]) for field in fields)})"
            for language, fields in gaps.items()
        )
        lines.append(f"{market}: {texts}")
    return lines


class MissingTranslationsFilter(admin.SimpleListFilter):
    title = _("translations")
    parameter_name = "translations"

    def lookups(self, request, model_admin):
        return [("missing", _("Missing in a market")), ("complete", _("Complete"))]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.filter(missing_translations_filter())
        if self.value() == "complete":
            return queryset.exclude(missing_translations_filter())
        return queryset


@admin.register(Reward)
class RewardAdmin(RefusesForbiddenActions, LocalTabbedTranslationAdmin):
    list_display = [
        "thumbnail",
        "code",
        "name",
        "reward_type",
        "category",
        "offers_summary",
        "window",
        "is_active",
        "translations",
    ]
    list_display_links = ["code", "name"]
    list_filter = ["reward_type", "category", "is_active", "offers__market", MissingTranslationsFilter]
    search_fields = ["code", *translated_columns("name")]
    filter_horizontal = ["tiers"]
    readonly_fields = ["image_preview", "translations_by_market", "created_at"]
    inlines = [RewardOfferInline]
    actions = ["activate", "deactivate"]
    fieldsets = [
        (_("Identity"), {"fields": ["code", "category", "sort_order", "is_active", "created_at"]}),
        (
            _("Texts shown to members"),
            {
                "fields": ["name", "description", "terms", "translations_by_market"],
                "description": _(
                    "Members read their market's language, then the program's default language. The "
                    "texts missing for each market that offers the reward are listed below."
                ),
            },
        ),
        (_("Image"), {"fields": ["image", "image_preview"]}),
        (
            _("What the member gets"),
            {
                "fields": ["reward_type", "percent_off", "product_sku", "charity"],
                "description": _(
                    "A percentage discount takes a percentage, a charity donation a charity, free products "
                    "and gifts the SKU your shop ships. What it is worth is set per market in the offers "
                    "below."
                ),
            },
        ),
        (
            _("Who can redeem it, and when"),
            {"fields": ["tiers", ("starts_on", "ends_on"), ("limit_per_member", "limit_period")]},
        ),
        (_("Coupon"), {"fields": ["coupon_format", "valid_days"]}),
    ]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("category").prefetch_related(offers_with_markets())
        )

    @admin.display(description=_("image"))
    def thumbnail(self, reward):
        if not reward.image:
            return ""
        return format_html('<img src="{}" alt="" width="48" class="reward-thumbnail">', reward.image.url)

    @admin.display(description=_("preview"))
    def image_preview(self, reward):
        if not reward.image:
            return _("No image yet.")
        return format_html('<img src="{}" alt="" width="240" class="reward-image">', reward.image.url)

    @admin.display(description=_("market offers"))
    def offers_summary(self, reward):
        offers = reward.offers.all()
        if not offers:
            return _("not offered in any market")
        return format_html_join("", "<div>{}</div>", ((describe_offer(offer),) for offer in offers))

    @admin.display(description=_("window"), ordering="starts_on")
    def window(self, reward):
        first, last = reward.starts_on, reward.ends_on
        if first and last:
            return _("%(first)s to %(last)s") % {"first": date_format(first), "last": date_format(last)}
        if first:
            return _("from %(first)s") % {"first": date_format(first)}
        if last:
            return _("until %(last)s") % {"last": date_format(last)}
        return _("always")

    @admin.display(description=_("translations"))
    def translations(self, reward):
        offers = reward.offers.all()
        if not offers:
            return self.get_empty_value_display()
        lines = describe_missing(missing_translations(reward, [offer.market for offer in offers]))
        if not lines:
            return format_html('<span class="translations-complete">{}</span>', _("complete"))
        return format_html_join("", '<div class="translations-missing">{}</div>', ((line,) for line in lines))

    @admin.display(description=_("missing translations"))
    def translations_by_market(self, reward):
        if reward.pk is None:
            return _("Listed once the reward is saved with its market offers.")
        return self.translations(reward)

    @admin.action(description=_("Activate the selected rewards"), permissions=["change"])
    def activate(self, request, queryset):
        count = switch_active(self, request, queryset, True)
        self.message_user(
            request,
            ngettext("Activated %(count)d reward.", "Activated %(count)d rewards.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Deactivate the selected rewards"), permissions=["change"])
    def deactivate(self, request, queryset):
        count = switch_active(self, request, queryset, False)
        self.message_user(
            request,
            ngettext("Deactivated %(count)d reward.", "Deactivated %(count)d rewards.", count)
            % {"count": count},
            messages.SUCCESS,
        )


# Redemptions ------------------------------------------------------------------------------------


@admin.register(Redemption)
class RedemptionAdmin(RefusesForbiddenActions, ReadOnlyAdmin):
    """Redemptions are written by the services; staff cancel or fulfil them through actions."""

    list_display = [
        "code",
        "member_number",
        "reward",
        "market_code",
        "reward_type",
        "quantity",
        "points",
        "value",
        "status",
        "valid_until",
        "created_at",
    ]
    list_filter = ["status", "reward_type", "market", "reward", "created_at"]
    list_select_related = ["member", "reward", "market"]
    search_fields = ["=code", "=member__number", "=order_id"]
    actions = ["cancel_redemptions", "fulfil_redemptions"]
    fieldsets = [
        (None, {"fields": ["code", "member", "reward", "market", "status"]}),
        (
            _("What was redeemed"),
            {"fields": ["quantity", "points", "value", "reward_type", "percent_off", "charity"]},
        ),
        (
            _("Use"),
            {"fields": ["created_at", "valid_until", "used_at", "order_id", "fulfilment_ref", "actor"]},
        ),
        (_("Cancellation"), {"fields": ["cancelled_at", "cancel_reason", "return_entry"]}),
        (_("Ledger"), {"fields": ["entry", "idempotency_key"]}),
    ]

    def has_cancel_permission(self, request):
        return request.user.has_perm("loyalty.cancel_redemption")

    def has_fulfil_permission(self, request):
        return request.user.has_perm("loyalty.fulfil_redemption")

    @admin.display(description=_("member"), ordering="member__number")
    def member_number(self, redemption):
        return redemption.member.number

    @admin.display(description=_("market"), ordering="market__code")
    def market_code(self, redemption):
        return redemption.market.code

    @admin.action(description=_("Cancel and return points"), permissions=["cancel"])
    def cancel_redemptions(self, request, queryset):
        form = RedemptionReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._apply_each(
                request,
                queryset,
                lambda redemption: cancel_redemption(redemption, reason=reason, actor=request.user),
                skip=RedemptionStatus.CANCELLED,
                skipped=_("%(code)s was already cancelled."),
                done=lambda count: ngettext(
                    "Cancelled %(count)d redemption and returned its points.",
                    "Cancelled %(count)d redemptions and returned their points.",
                    count,
                ),
            )
            return None
        redemptions = queryset.select_related("member", "reward").order_by("pk")
        return action_page(
            self,
            request,
            form,
            template="loyalty_admin/redemption_action.html",
            title=_("Cancel and return points"),
            intro=ngettext(
                "Cancel this redemption and return its points to the member:",
                "Cancel these %(count)d redemptions and return their points to the members:",
                len(redemptions),
            )
            % {"count": len(redemptions)},
            redemptions=redemptions,
            submit_label=_("Cancel and return points"),
        )

    @admin.action(description=_("Mark as fulfilled (gifts and experiences)"), permissions=["fulfil"])
    def fulfil_redemptions(self, request, queryset):
        self._apply_each(
            request,
            queryset,
            lambda redemption: fulfil_redemption(redemption, actor=request.user),
            skip=RedemptionStatus.USED,
            skipped=_("%(code)s was already used or fulfilled."),
            done=lambda count: ngettext(
                "Marked %(count)d redemption as fulfilled.",
                "Marked %(count)d redemptions as fulfilled.",
                count,
            ),
        )

    def _apply_each(self, request, queryset, apply, *, skip, skipped, done) -> None:
        """Run a service on each redemption, leaving those in the ``skip`` status as they are."""
        apply_each(
            self,
            request,
            queryset.select_related("member").order_by("pk"),
            apply,
            skip=lambda redemption: redemption.status == skip,
            skipped=skipped,
            done=done,
        )
