import uuid
import zoneinfo
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from djmoney.contrib.exchange.models import Rate
from djmoney.money import Money
from modeltranslation.admin import TranslationAdmin

from loyalty.conf import loyalty_settings
from loyalty.exceptions import LoyaltyError
from loyalty.models import (
    Challenge,
    ChallengeProgress,
    CollectionMethod,
    ConsentAction,
    ConsentActor,
    ConsentState,
    ContributionKind,
    EarnContribution,
    EarnRate,
    EarnRule,
    ExchangeRate,
    LedgerEntry,
    LimitPeriod,
    ManualExchangeRate,
    Market,
    MarketChange,
    Member,
    MemberEvent,
    MembershipProduct,
    MembershipPurchase,
    OrderRecord,
    PointsAccount,
    PointsLot,
    PointsMode,
    QualifyingEvent,
    Referral,
    RefundRecord,
    Regime,
    RequestChannel,
    Tier,
    TierChange,
    TierStatus,
)
from loyalty.selectors.arbitrage import check_arbitrage, lock_configuration, round_trips
from loyalty.selectors.liability import points_liability
from loyalty.selectors.rates import current_quotes
from loyalty.services import (
    adjust_points,
    change_market,
    grant_tier,
    open_request,
    pin_exchange_rate,
    record_consent,
    simulate_order,
    unpin_exchange_rate,
)
from loyalty.services.consent import current_notice, is_minor, profile_of
from loyalty.services.earning import RateRule

from .forms import (
    SELECTED,
    AdjustPointsForm,
    ChallengeForm,
    ChangeMarketForm,
    EarnRuleForm,
    GrantTierForm,
    GuardianConsentForm,
    OpenPrivacyRequestForm,
    SimulateOrderForm,
    TierForm,
)

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


class RefusesForbiddenActions:
    """Django drops a posted action the user may not run and says "No action selected"; refusing it
    outright (403) makes the permission check of every posted action explicit."""

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST":
            allowed = self.get_actions(request)
            if any(
                action in self.actions and action not in allowed for action in request.POST.getlist("action")
            ):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)


def action_page(model_admin, request, form, *, template: str, title, intro, submit_label, **context):
    """The page between choosing rows and applying an action to them: what it applies to, and a form."""
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": model_admin.model._meta,
            "form": form,
            "intro": intro,
            "submit_label": submit_label,
            "selected_name": SELECTED,
            **context,
        },
    )


def apply_each(model_admin, request, rows, apply, *, done=None, skip=None, skipped="") -> int:
    """Run a service on each row; a domain error is reported with the row's name and stops no other row.

    Rows ``skip`` picks are left as they are and reported with ``skipped`` (naming the row as
    ``%(code)s``); ``done(count)`` is the message for the rows that went through. Returns their count.
    """
    count = 0
    for row in rows:
        if skip is not None and skip(row):
            model_admin.message_user(request, skipped % {"code": row}, messages.WARNING)
            continue
        try:
            apply(row)
        except LoyaltyError as error:
            model_admin.message_user(request, f"{row}: {error.detail}", messages.ERROR)
        else:
            count += 1
    if count and done is not None:
        model_admin.message_user(request, done(count) % {"count": count}, messages.SUCCESS)
    return count


def switch_active(model_admin, request, queryset, active: bool) -> int:
    """Set ``is_active`` on the selected rows that differ, log each change; returns how many changed."""
    rows = list(queryset.filter(is_active=not active).order_by("pk"))
    model_admin.model.objects.filter(pk__in=[row.pk for row in rows]).update(is_active=active)
    for row in rows:
        model_admin.log_change(request, row, [{"changed": {"fields": ["is_active"]}}])
    return len(rows)


class LocalTabbedTranslationAdmin(TranslationAdmin):
    """Translated fields as one tab per language, every script and style served from our static files.

    modeltranslation's TabbedTranslationAdmin loads jQuery UI from a CDN, which mainland China and a
    strict Content-Security-Policy block: a copy is vendored under static/loyalty_admin/vendor/.
    """

    class Media:
        js = (
            "admin/js/jquery.init.js",
            "modeltranslation/js/force_jquery.js",
            "loyalty_admin/vendor/jquery-ui/jquery-ui.min.js",
            "modeltranslation/js/tabbed_translation_fields.js",
        )
        css = {"all": ("modeltranslation/css/tabbed_translation_fields.css",)}


class PrivacyMedia:
    """The privacy console's badges and warnings (overdue requests, PIPL thresholds, minors)."""

    css = {"all": ("loyalty_admin/privacy.css",)}


def colour_swatch(colour: str, label: str = "") -> str:
    """A dot of the colour, drawn with SVG attributes: a CSP without inline styles still shows it."""
    return format_html(
        '<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">'
        '<circle cx="7" cy="7" r="6" fill="{}" stroke="currentColor" stroke-opacity="0.35"/></svg> {}',
        colour,
        label or colour,
    )


def plain_number(value: Decimal) -> str:
    """A stored decimal without its trailing zeros (500.0000 -> 500, 1.2500 -> 1.25)."""
    return number_format(value.normalize())


def describe_thresholds(thresholds: dict) -> str:
    """``{"spend": 500, "orders": 10}`` as "500 EUR spent or 10 orders"."""
    describe = {"spend": count_spend, "status_points": count_status_points, "orders": count_orders}
    return get_text_list([describe[track](value) for track, value in thresholds.items()], _("or"))


def count_spend(amount: Decimal) -> str:
    return _("%(amount)s %(currency)s spent") % {
        "amount": plain_number(amount),
        "currency": loyalty_settings.BASE_CURRENCY,
    }


def count_status_points(count: int) -> str:
    return ngettext("%(count)d status point", "%(count)d status points", count) % {"count": count}


def count_orders(count: int) -> str:
    return ngettext("%(count)d order", "%(count)d orders", count) % {"count": count}


def regime_labels(codes) -> str:
    """``["gdpr", "pipl"]`` as "GDPR (EU/EEA), PIPL (China)"."""
    return ", ".join(str(Regime(code).label) for code in codes)


def describe_consent(state: ConsentState) -> str:
    """A consent as staff read it: "Marketing e-mail: granted (notice version 2, by a guardian)"."""
    details = []
    if state.notice_version is not None:
        details.append(_("notice version %(version)d") % {"version": state.notice_version.version})
    if state.by_guardian:
        details.append(str(_("by a guardian")))
    text = _("%(purpose)s: %(status)s") % {"purpose": state.purpose, "status": state.get_status_display()}
    return f"{text} ({', '.join(details)})" if details else text


def moment(value, zone=None) -> str:
    """A date and time for people, in ``zone`` (default: the console's time zone)."""
    return date_format(timezone.localtime(value, zone), "SHORT_DATETIME_FORMAT") if value else ""


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
class MemberAdmin(RefusesForbiddenActions, admin.ModelAdmin):
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
    readonly_fields = [
        "number",
        "user",
        "market",
        "enrolled_at",
        "ledger_link",
        "tier",
        "qualified_tier",
        "tier_window",
        "tier_record",
        "tier_grant",
        "tier_paid",
        "tier_history_link",
        "profile",
        "consents",
        "privacy_requests_link",
        "restricted_at",
        "erased_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "user",
                    "market",
                    "status",
                    "language",
                    "time_zone",
                    "enrolled_at",
                    "ledger_link",
                ]
            },
        ),
        (
            _("Tier"),
            {
                "fields": [
                    "tier",
                    "qualified_tier",
                    "tier_window",
                    "tier_record",
                    "tier_grant",
                    "tier_paid",
                    "tier_history_link",
                ],
                "description": _(
                    "The member's tier is the highest of the qualified, granted and paid tiers. "
                    "Grant a tier with the action on the member list."
                ),
            },
        ),
        (
            _("Privacy"),
            {
                "fields": [
                    "profile",
                    "consents",
                    "privacy_requests_link",
                    "restricted_at",
                    "erased_at",
                    "legal_hold",
                ],
                "description": _(
                    "The profile is read from the database of the member's residency region. Record a "
                    "guardian's consent or open a privacy request with the actions on the member list."
                ),
            },
        ),
    ]
    inlines = [PointsAccountInline]
    Media = PrivacyMedia
    actions = [
        "adjust_points",
        "change_market",
        "grant_tier",
        "record_guardian_consent",
        "open_privacy_request",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_adjust_points_permission(self, request):
        return request.user.has_perm("loyalty.adjust_points")

    def has_change_market_permission(self, request):
        return request.user.has_perm("loyalty.change_member")

    def has_grant_tier_permission(self, request):
        return request.user.has_perm("loyalty.grant_tier")

    def has_open_privacy_request_permission(self, request):
        return request.user.has_perm("loyalty.handle_privacy_request")

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

    def _action_page(self, request, form, **context):
        return action_page(self, request, form, template="loyalty_admin/member_action.html", **context)

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

    @staticmethod
    def _tier_status(member) -> TierStatus | None:
        try:
            return member.tier_status
        except TierStatus.DoesNotExist:
            return None

    @admin.display(description=_("qualified tier"))
    def qualified_tier(self, member):
        status = self._tier_status(member)
        if status is None or status.qualified_tier is None:
            return self.get_empty_value_display()
        if status.grace_until:
            return _("%(tier)s (downgrade after %(when)s)") % {
                "tier": status.qualified_tier,
                "when": moment(status.grace_until),
            }
        return status.qualified_tier

    @admin.display(description=_("qualification window"))
    def tier_window(self, member):
        status = self._tier_status(member)
        if status is None:
            return self.get_empty_value_display()
        if status.window_start is None and status.window_end is None:
            return _("lifetime")
        # Windows follow the market's calendar, so they are shown in its time zone.
        market_zone = zoneinfo.ZoneInfo(member.market.time_zone)
        return _("%(start)s to %(end)s (%(time_zone)s)") % {
            "start": moment(status.window_start, market_zone) or _("the start"),
            "end": moment(status.window_end, market_zone) or _("open"),
            "time_zone": member.market.time_zone,
        }

    @admin.display(description=_("record in the window"))
    def tier_record(self, member):
        status = self._tier_status(member)
        if status is None:
            return self.get_empty_value_display()
        return ", ".join(
            [
                count_spend(status.spend),
                count_status_points(status.status_points),
                count_orders(status.orders),
            ]
        )

    @admin.display(description=_("granted tier"))
    def tier_grant(self, member):
        status = self._tier_status(member)
        if status is None or status.manual_tier is None:
            return self.get_empty_value_display()
        ended = status.manual_until is None or status.manual_until <= timezone.now()
        text = (
            _("%(tier)s until %(until)s (ended): %(reason)s")
            if ended
            else _("%(tier)s until %(until)s: %(reason)s")
        )
        return text % {
            "tier": status.manual_tier,
            "until": moment(status.manual_until),
            "reason": status.manual_reason,
        }

    @admin.display(description=_("paid tier"))
    def tier_paid(self, member):
        status = self._tier_status(member)
        if status is None or status.paid_tier is None:
            return self.get_empty_value_display()
        return _("%(tier)s until %(until)s") % {"tier": status.paid_tier, "until": moment(status.paid_until)}

    @admin.display(description=_("tier history"))
    def tier_history_link(self, member):
        url = reverse("admin:loyalty_tierchange_changelist") + f"?q={member.number}"
        return format_html('<a href="{}">{}</a>', url, _("View the tier history"))

    @admin.display(description=_("profile"))
    def profile(self, member):
        profile = profile_of(member)
        if profile is None:
            return self.get_empty_value_display()
        unknown = _("unknown")
        text = _("Born on %(birth_date)s; lives in %(country)s.") % {
            "birth_date": date_format(profile.birth_date) if profile.birth_date else unknown,
            "country": profile.country.name if profile.country else unknown,
        }
        if is_minor(member, profile=profile):
            return format_html(
                '{} <strong class="privacy-warning">{}</strong>',
                text,
                _("Below the digital consent age: consents need a guardian."),
            )
        return text

    @admin.display(description=_("consents"))
    def consents(self, member):
        states = (
            ConsentState.objects.filter(member=member)
            .select_related("purpose", "notice_version")
            .order_by("purpose__sort_order", "purpose__code")
        )
        events = reverse("admin:loyalty_consentevent_changelist") + f"?q={member.number}"
        return format_html(
            '{}<a href="{}">{}</a>',
            format_html_join("", "<div>{}</div>", ((describe_consent(state),) for state in states)),
            events,
            _("View the consent history"),
        )

    @admin.display(description=_("privacy requests"))
    def privacy_requests_link(self, member):
        url = reverse("admin:loyalty_datasubjectrequest_changelist") + f"?q={member.number}"
        return format_html('<a href="{}">{}</a>', url, _("View the member's privacy requests"))

    @admin.action(description=_("Record a guardian's consent"), permissions=["change"])
    def record_guardian_consent(self, request, queryset):
        form = GuardianConsentForm(
            request.POST if "apply" in request.POST else None, action="record_guardian_consent"
        )
        if form.is_valid():
            purpose, verification = form.cleaned_data["purpose"], form.cleaned_data["verification"]
            notice = current_notice(purpose)
            apply_each(
                self,
                request,
                queryset.select_related("market").order_by("pk"),
                lambda member: record_consent(
                    member,
                    purpose.code,
                    ConsentAction.GRANTED,
                    method=CollectionMethod.ADMIN,
                    actor=ConsentActor.GUARDIAN,
                    operator=request.user,
                    separate=True,
                    notice_version=notice.version if notice else None,
                    collection_point=verification,
                ),
                done=lambda count: ngettext(
                    "Recorded a guardian's consent for %(count)d member.",
                    "Recorded guardians' consent for %(count)d members.",
                    count,
                ),
            )
            return None
        members = queryset.select_related("user", "market")
        return self._action_page(
            request,
            form,
            title=_("Record a guardian's consent"),
            intro=ngettext(
                "A parent or guardian consents for this member, after you verified who they are:",
                "Parents or guardians consent for these %(count)d members, after you verified who they are:",
                len(members),
            )
            % {"count": len(members)},
            rows=[(member, member.market) for member in members],
            submit_label=_("Record the consent"),
        )

    @admin.action(
        description=_("Open a privacy request on the member's behalf"), permissions=["open_privacy_request"]
    )
    def open_privacy_request(self, request, queryset):
        form = OpenPrivacyRequestForm(
            request.POST if "apply" in request.POST else None, action="open_privacy_request"
        )
        if form.is_valid():
            apply_each(
                self,
                request,
                queryset.select_related("market").order_by("pk"),
                lambda member: self._report_request(
                    request,
                    member,
                    open_request(
                        member,
                        form.cleaned_data["kind"],
                        channel=RequestChannel.CONSOLE,
                        message=form.cleaned_data["message"],
                        actor=request.user,
                    ),
                ),
            )
            return None
        members = queryset.select_related("user", "market")
        return self._action_page(
            request,
            form,
            title=_("Open a privacy request"),
            intro=ngettext(
                "Open a privacy request on behalf of this member:",
                "Open a privacy request on behalf of each of these %(count)d members:",
                len(members),
            )
            % {"count": len(members)},
            rows=[(member, regime_labels(member.market.regimes) or _("no regime")) for member in members],
            submit_label=_("Open the request"),
        )

    def _report_request(self, request, member, privacy_request) -> None:
        url = reverse("admin:loyalty_datasubjectrequest_change", args=[privacy_request.pk])
        self.message_user(
            request,
            format_html(
                '{}: <a href="{}">{}</a> ({})',
                member.number,
                url,
                privacy_request.reference,
                _("%(status)s, due %(due)s")
                % {"status": privacy_request.get_status_display(), "due": moment(privacy_request.due_at)},
            ),
            messages.SUCCESS,
        )

    @admin.action(description=_("Grant a tier to the selected members"), permissions=["grant_tier"])
    def grant_tier(self, request, queryset):
        form = GrantTierForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._apply_grant(request, queryset, form.cleaned_data)
            return None
        members = queryset.select_related("tier", "user")
        return self._action_page(
            request,
            form,
            title=_("Grant a tier"),
            intro=ngettext(
                "Grant a tier to this member:",
                "Grant a tier to these %(count)d members:",
                len(members),
            )
            % {"count": len(members)},
            rows=[(member, member.tier or _("no tier")) for member in members],
            submit_label=_("Grant"),
        )

    def _apply_grant(self, request, queryset, data):
        granted = 0
        for member in queryset.order_by("pk"):
            try:
                grant_tier(
                    member, tier=data["tier"], until=data["until"], reason=data["reason"], actor=request.user
                )
            except LoyaltyError as error:
                self.message_user(request, f"{member.number}: {error.detail}", messages.ERROR)
            else:
                granted += 1
        if granted:
            self.message_user(
                request,
                ngettext(
                    "Granted %(tier)s until %(until)s to %(count)d member.",
                    "Granted %(tier)s until %(until)s to %(count)d members.",
                    granted,
                )
                % {"tier": data["tier"], "until": moment(data["until"]), "count": granted},
                messages.SUCCESS,
            )

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


class EarnContributionInline(admin.TabularInline):
    """What the base rate, the tier and each rule added to the entry."""

    model = EarnContribution
    fields = ["kind", "rule", "points", "order", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("rule", "order")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
    inlines = [EarnContributionInline]

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


# Tiers, earning rules and engagement -------------------------------------------------------------


@admin.register(Tier)
class TierAdmin(LocalTabbedTranslationAdmin):
    form = TierForm
    list_display = [
        "rank",
        "code",
        "name",
        "badge",
        "earn_multiplier",
        "thresholds",
        "member_count",
    ]
    list_display_links = ["rank", "code", "name"]
    search_fields = ["code", "name"]
    fieldsets = [
        (_("Identity"), {"fields": ["code", "rank", "badge_colour"]}),
        (_("Texts shown to members"), {"fields": ["name", "description", "benefits"]}),
        (
            _("Benefits"),
            {
                "fields": [
                    "earn_multiplier",
                    "free_shipping",
                    "priority_support",
                    "early_access",
                    "perks",
                    "granted_only",
                ]
            },
        ),
        (
            _("Thresholds"),
            {
                "fields": [
                    ("entry_spend", "retain_spend"),
                    ("entry_status_points", "retain_status_points"),
                    ("entry_orders", "retain_orders"),
                ],
                "description": _(
                    "A member reaches the tier when any track reaches its entry threshold in their window, "
                    "and keeps it when the closed window reaches the threshold to keep it. Spend is in the "
                    "program's base currency. No threshold at all: every member has the tier."
                ),
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("badge"), ordering="badge_colour")
    def badge(self, tier):
        return colour_swatch(tier.badge_colour)

    @admin.display(description=_("thresholds"))
    def thresholds(self, tier):
        if tier.granted_only:
            return _("granted or bought only")
        if tier.open_to_all:
            return _("open to all")
        return format_html(
            "{}<br>{}",
            _("enter: %(thresholds)s") % {"thresholds": describe_thresholds(tier.entry_thresholds())},
            _("keep: %(thresholds)s") % {"thresholds": describe_thresholds(tier.retain_thresholds())},
        )

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, tier):
        url = reverse("admin:loyalty_member_changelist") + f"?tier__id__exact={tier.pk}"
        return format_html('<a href="{}">{}</a>', url, tier.member_count)


@admin.register(EarnRule)
class EarnRuleAdmin(LocalTabbedTranslationAdmin):
    form = EarnRuleForm
    list_display = [
        "code",
        "name",
        "event",
        "mode",
        "priority",
        "stackable",
        "stop_processing",
        "is_active",
        "campaign",
    ]
    list_filter = ["event", "is_active", "markets"]
    search_fields = ["code", "name"]
    filter_horizontal = ["markets", "tiers"]
    readonly_fields = ["created_at"]
    actions = ["activate", "deactivate"]
    change_list_template = "loyalty_admin/earnrule_change_list.html"
    fieldsets = [
        (_("Identity"), {"fields": ["code", "name", "is_active", "created_at"]}),
        (_("When it applies"), {"fields": ["event", "custom_event"]}),
        (
            _("Points"),
            {"fields": ["mode", "fixed_points", "points_per_unit", "multiplier", "counts_toward_tier"]},
        ),
        (
            _("Precedence"),
            {
                "fields": ["priority", "stackable", "stop_processing"],
                "description": _(
                    "Rules run from the highest priority down. Two active rules of one event with the same "
                    "priority must both be stackable, and neither may stop processing."
                ),
            },
        ),
        (_("Who and when"), {"fields": ["markets", "tiers", "starts_on", "ends_on", "weekdays"]}),
        (_("Order conditions"), {"fields": ["categories", "skus", "min_order_amount"]}),
        (_("Limits"), {"fields": ["limit_per_member", "limit_period", "max_members"]}),
    ]

    @admin.display(description=_("campaign"), ordering="starts_on")
    def campaign(self, rule):
        first, last = rule.starts_on, rule.ends_on
        if first and last:
            return _("%(first)s to %(last)s") % {"first": date_format(first), "last": date_format(last)}
        if first:
            return _("from %(first)s") % {"first": date_format(first)}
        if last:
            return _("until %(last)s") % {"last": date_format(last)}
        return _("always")

    @admin.action(description=_("Activate the selected rules"), permissions=["change"])
    def activate(self, request, queryset):
        activated = 0
        for rule in queryset.filter(is_active=False).order_by("-priority", "code"):
            rule.is_active = True
            try:
                rule.validate_precedence()
                rule.save(update_fields=["is_active"])
            except ValidationError as error:
                self.message_user(request, f"{rule.code}: {' '.join(error.messages)}", messages.ERROR)
                continue
            self.log_change(request, rule, [{"changed": {"fields": ["is_active"]}}])
            activated += 1
        if activated:
            self.message_user(
                request,
                ngettext("Activated %(count)d rule.", "Activated %(count)d rules.", activated)
                % {"count": activated},
                messages.SUCCESS,
            )

    @admin.action(description=_("Deactivate the selected rules"), permissions=["change"])
    def deactivate(self, request, queryset):
        count = switch_active(self, request, queryset, False)
        self.message_user(
            request,
            ngettext("Deactivated %(count)d rule.", "Deactivated %(count)d rules.", count) % {"count": count},
            messages.SUCCESS,
        )

    def get_urls(self):
        return [
            path(
                "simulate/",
                self.admin_site.admin_view(self.simulate_view),
                name="loyalty_earnrule_simulate",
            ),
            *super().get_urls(),
        ]

    def simulate_view(self, request):
        """What an order would earn and why, worked out by the earning service; nothing is written."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SimulateOrderForm(request.POST if request.method == "POST" else None)
        earning = member = at = None
        if form.is_valid():
            member, amount, lines, at = form.order()
            try:
                earning = simulate_order(member, amount, lines, at=at)
            except LoyaltyError as error:
                form.add_error(SIMULATION_ERROR_FIELDS.get(error.code), str(error.detail))
        return TemplateResponse(
            request,
            "loyalty_admin/simulate_order.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Simulate an order"),
                "opts": self.model._meta,
                "form": form,
                "currencies": sorted(
                    {code for market in Market.objects.filter(is_active=True) for code in market.currencies}
                ),
                "member": member,
                "earning": earning,
                "rows": explain_earning(member, form.cleaned_data["currency"], earning) if earning else [],
                "placed_at": moment(at, zoneinfo.ZoneInfo(member.market.time_zone)) if earning and at else "",
                "qualifying_spend": (
                    Money(earning.qualifying_spend, loyalty_settings.BASE_CURRENCY) if earning else None
                ),
            },
        )


# Where each domain error of the simulation belongs on the form (None: above the form).
SIMULATION_ERROR_FIELDS = {
    "currency_not_accepted": "currency",
    "exchange_rate_missing": "currency",
    "invalid_amount": "amount",
    "invalid_order_lines": "lines",
    "invalid_timestamp": "placed_at",
}

RATE_EXPLANATIONS = {
    RateRule.TIER: _("the %(market)s market's rate for %(currency)s and the %(tier)s tier"),
    RateRule.MARKET_CURRENCY: _("the %(market)s market's rate for %(currency)s"),
    RateRule.MARKET: _("the %(market)s market's own rate, per unit of its currency %(currency)s"),
    RateRule.BASE: _("the program's base rate, per unit of the base currency %(currency)s"),
}


def explain_earning(member: Member, currency: str, earning) -> list[dict]:
    """One row per part of the earning: what it added, whether it counts toward the tier, and why."""
    rows = []
    for part in earning.contributions:
        row = {"kind": ContributionKind(part.kind).label, "points": part.points, "source": ""}
        if part.kind == ContributionKind.BASE:
            row.update(counts_toward_tier=True, why=explain_base(member, currency, earning.base))
        elif part.kind == ContributionKind.TIER:
            row.update(
                source=member.tier,
                counts_toward_tier=False,
                why=[
                    _("The %(tier)s tier multiplies the base earn by %(multiplier)s.")
                    % {"tier": member.tier, "multiplier": plain_number(member.tier.earn_multiplier)}
                ],
            )
        else:
            rule = part.rule
            row.update(
                source=format_html(
                    '<a href="{}">{}</a>', reverse("admin:loyalty_earnrule_change", args=[rule.pk]), rule.code
                ),
                counts_toward_tier=rule.counts_toward_tier,
                why=explain_rule(rule),
            )
        rows.append(row)
    return rows


def explain_base(member: Member, currency: str, base) -> list[str]:
    conversion = base.conversion
    if conversion is not None:
        rated_currency = conversion.amount.currency.code
    else:
        rated_currency = {
            RateRule.MARKET: member.market.default_currency,
            RateRule.BASE: loyalty_settings.BASE_CURRENCY,
        }.get(base.rule, currency)
    source = RATE_EXPLANATIONS[base.rule] % {
        "market": member.market.code,
        "currency": rated_currency,
        "tier": member.tier,
    }
    why = [
        _("%(rate)s × the amount in %(currency)s: %(source)s.")
        % {"rate": plain_number(base.rate), "currency": rated_currency, "source": source}
    ]
    if conversion is not None:
        why.append(
            _("The order was converted to %(amount)s at %(rate)s (%(source)s, %(as_of)s).")
            % {
                "amount": conversion.amount,
                "rate": plain_number(conversion.rate),
                "source": conversion.source,
                "as_of": moment(conversion.as_of),
            }
        )
        if conversion.stale:
            why.append(_("This exchange rate is stale."))
    return why


def explain_rule(rule: EarnRule) -> list[str]:
    if rule.mode == PointsMode.FIXED:
        points = ngettext("%(count)d point", "%(count)d points", rule.fixed_points) % {
            "count": rule.fixed_points
        }
    elif rule.mode == PointsMode.PER_UNIT:
        points = _("%(rate)s × the amount spent in %(currency)s") % {
            "rate": plain_number(rule.points_per_unit),
            "currency": loyalty_settings.BASE_CURRENCY,
        }
    else:
        points = _("the base earn multiplied by %(multiplier)s (it adds %(extra)s × the base earn)") % {
            "multiplier": plain_number(rule.multiplier),
            "extra": plain_number(rule.multiplier - 1),
        }
    why = [_("%(name)s: %(points)s.") % {"name": rule.name, "points": points}]
    if rule.categories or rule.skus:
        why.append(
            _("Counts the lines of %(items)s only.") % {"items": ", ".join([*rule.categories, *rule.skus])}
        )
    if rule.min_order_amount is not None:
        why.append(_("Needs an order of at least %(spend)s.") % {"spend": count_spend(rule.min_order_amount)})
    if rule.limit_per_member is not None:
        why.append(
            _("At most %(count)d times per member, %(period)s.")
            % {"count": rule.limit_per_member, "period": LimitPeriod(rule.limit_period).label}
        )
    if rule.max_members is not None:
        why.append(_("Only for the first %(count)d members.") % {"count": rule.max_members})
    why.append(_("Priority %(priority)d.") % {"priority": rule.priority})
    if not rule.stackable:
        why.append(_("Not stackable: fires only when no rule fired before it, and ends the run."))
    if rule.stop_processing:
        why.append(_("Stops lower-priority rules."))
    return why


class CompletedFilter(admin.SimpleListFilter):
    title = _("completed")
    parameter_name = "completed"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(completed_at__isnull=self.value() == "no")
        return queryset


@admin.register(Challenge)
class ChallengeAdmin(LocalTabbedTranslationAdmin):
    form = ChallengeForm
    list_display = [
        "code",
        "name",
        "event",
        "goal",
        "period",
        "bonus_points",
        "badge",
        "completions",
        "is_active",
    ]
    list_filter = ["is_active", "event"]
    search_fields = ["code", "name"]
    filter_horizontal = ["markets"]
    readonly_fields = ["closed_at", "progress_link"]
    fieldsets = [
        (_("Identity"), {"fields": ["code", "is_active", "closed_at", "progress_link"]}),
        (_("Texts shown to members"), {"fields": ["name", "description", "badge_name"]}),
        (_("Goal"), {"fields": ["event", "custom_event", "goal", "duration_days"]}),
        (_("Period"), {"fields": ["starts_at", "ends_at", "markets"]}),
        (_("Reward"), {"fields": ["bonus_points", "badge_colour"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(completion_count=Count("progress", filter=Q(progress__completed_at__isnull=False)))
        )

    @admin.display(description=_("period"), ordering="starts_at")
    def period(self, challenge):
        return _("%(start)s to %(end)s") % {
            "start": moment(challenge.starts_at),
            "end": moment(challenge.ends_at),
        }

    @admin.display(description=_("badge"))
    def badge(self, challenge):
        return colour_swatch(challenge.badge_colour, challenge.badge_name)

    @admin.display(description=_("completions"), ordering="completion_count")
    def completions(self, challenge):
        url = reverse("admin:loyalty_challengeprogress_changelist")
        return format_html(
            '<a href="{}?challenge__id__exact={}&amp;completed=yes">{}</a>',
            url,
            challenge.pk,
            challenge.completion_count,
        )

    @admin.display(description=_("progress"))
    def progress_link(self, challenge):
        if challenge.pk is None:
            return ""
        url = reverse("admin:loyalty_challengeprogress_changelist") + f"?challenge__id__exact={challenge.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Members' progress"))


@admin.register(ChallengeProgress)
class ChallengeProgressAdmin(ReadOnlyAdmin):
    list_display = ["challenge", "member", "count", "goal", "window_start", "window_end", "completed_at"]
    list_filter = [CompletedFilter, "challenge"]
    list_select_related = ["challenge", "member"]
    search_fields = ["=member__number"]

    @admin.display(description=_("goal"))
    def goal(self, progress):
        return progress.challenge.goal


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["referrer_number", "referred_number", "status", "created_at", "rewarded_at"]
    list_filter = ["status"]
    list_select_related = ["referrer", "referred"]
    search_fields = ["=referrer__number", "=referred__number"]
    date_hierarchy = "created_at"

    @admin.display(description=_("referrer"), ordering="referrer__number")
    def referrer_number(self, referral):
        return referral.referrer.number

    @admin.display(description=_("new member"), ordering="referred__number")
    def referred_number(self, referral):
        return referral.referred.number


@admin.register(MemberEvent)
class MemberEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "member", "event", "custom_event", "event_id", "points"]
    list_filter = ["event"]
    list_select_related = ["member"]
    search_fields = ["=member__number", "=event_id"]
    date_hierarchy = "occurred_at"


@admin.register(MembershipProduct)
class MembershipProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "tier", "duration_days", "is_active"]
    list_filter = ["is_active", "tier"]
    list_select_related = ["tier"]
    search_fields = ["sku"]
    fields = ["sku", "tier", "duration_days", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MembershipPurchase)
class MembershipPurchaseAdmin(ReadOnlyAdmin):
    list_display = ["member", "product", "tier", "status", "order", "starts_at", "ends_at"]
    list_filter = ["status", "tier"]
    list_select_related = ["member", "product", "tier", "order"]
    search_fields = ["=member__number", "=product__sku", "=order__external_id"]


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    """The tier history is append-only: the services write it, nobody edits it."""

    list_display = ["changed_at", "member", "from_tier", "to_tier", "reason", "note", "actor"]
    list_filter = ["reason", "to_tier"]
    list_select_related = ["member", "from_tier", "to_tier", "actor"]
    search_fields = ["=member__number"]
    date_hierarchy = "changed_at"


@admin.register(QualifyingEvent)
class QualifyingEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "member", "key", "spend", "status_points", "orders"]
    list_select_related = ["member"]
    search_fields = ["=member__number", "=key"]
    date_hierarchy = "occurred_at"


@admin.register(EarnContribution)
class EarnContributionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "member", "kind", "rule", "points", "entry", "order"]
    list_filter = ["kind", "rule"]
    list_select_related = ["member", "rule", "entry", "order"]
    search_fields = ["=member__number"]
    date_hierarchy = "created_at"


# The reward catalog's, the privacy and the integrations consoles reuse the helpers above.
from . import catalog, integrations, privacy  # noqa: E402, F401
