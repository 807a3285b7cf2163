"""Member-center pages for shoppers."""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST
from djmoney.money import Money

from .api.filters import CatalogFilter
from .conf import loyalty_settings
from .exceptions import (
    BelowMinimumAge,
    BirthDateRequired,
    ExportExpired,
    ExportNotFound,
    InvalidConsentDecision,
    InvalidExportFormat,
    InvalidTimestamp,
    LoyaltyError,
    NotAMember,
    NoticeOutdated,
    RedemptionLimitReached,
    RedemptionNotFound,
    RewardNotFound,
    RewardUnavailable,
)
from .forms import JoinForm, PrivacyRequestForm
from .models import (
    EXPORT_KINDS,
    CollectionMethod,
    ConsentAction,
    DataExport,
    LedgerEntry,
    LimitPeriod,
    Market,
    Member,
    Redemption,
    RedemptionStatus,
    RequestChannel,
    Reward,
    RewardType,
    Tier,
)
from .money import quantize_money, shown_spend
from .selectors import member_for_user, member_summary, recent_entries
from .selectors.catalog import (
    CatalogItem,
    catalog_items,
    content_languages,
    entry_redemption,
    localized,
    member_can_cancel,
    member_redemption,
    member_redemptions,
    redemption_name,
    reward_by_id,
    visible_offer,
    visible_offers,
    with_redemptions,
)
from .selectors.consents import ConsentItem, consent_items, join_items
from .selectors.privacy import export_csv_zip, export_json
from .selectors.privacy_requests import downloadable_export, member_request_rows, open_requests
from .selectors.tiers import TierProgress, member_challenges, referral_stats, tier_progress
from .services import (
    cancel_redemption,
    enroll_member,
    open_request,
    record_consent,
    redeem_reward,
    referral_code_for,
)
from .services.privacy import mark_downloaded

REFERRAL_PARAMETER = "ref"


@login_required
def member_center(request):
    try:
        member = member_for_user(request.user)
    except NotAMember:
        market = join_market()
        form = JoinForm(
            initial={REFERRAL_PARAMETER: request.GET.get(REFERRAL_PARAMETER, "").strip()},
            minimum_age=market.minimum_age if market else None,
        )
        return join_page(request, form, market)
    with translation.override(member.language), timezone.override(member.time_zone):
        code = referral_code_for(member)
        challenges = member_challenges(member)
        return render(
            request,
            "loyalty/member_center.html",
            {
                "base_template": loyalty_settings.BASE_TEMPLATE,
                "member": member,
                "summary": member_summary(member),
                "entries": name_reward_entries(recent_entries(member)),
                "tier": tier_card(tier_progress(member)),
                "referral": {"code": code, "link": join_link(request, code), "stats": referral_stats(member)},
                "challenges": challenges,
                "badges": [item for item in challenges if item.completed_at],
                "languages": settings.LANGUAGES,
            },
        )


@login_required
@require_POST
def join(request):
    """Enrol in the default market, then record a decision for each purpose the form asked about."""
    if Member.objects.filter(user=request.user).exists():
        return redirect("loyalty:member-center")
    market = join_market()
    form = JoinForm(request.POST, minimum_age=market.minimum_age if market else None)
    if not form.is_valid():
        return join_page(request, form, market, status=400)
    try:
        member = enroll_member(
            request.user,
            market=loyalty_settings.DEFAULT_MARKET or "",
            language=translation.get_language(),
            referral_code=form.cleaned_data[REFERRAL_PARAMETER].strip() or None,
            birth_date=form.cleaned_data["birth_date"],
        )
    except (BelowMinimumAge, BirthDateRequired, InvalidTimestamp) as error:
        form.add_error("birth_date", str(error.detail))
        return join_page(request, form, market, status=400)
    except LoyaltyError as error:
        form.add_error(None, str(error.detail))
        return join_page(request, form, market, status=400)
    if market is not None and not record_join_decisions(request, member, join_items(market, member.language)):
        return redirect("loyalty:privacy")
    return redirect("loyalty:member-center")


def join_market() -> Market | None:
    """The market newcomers join (None when joining is closed or the market is unknown)."""
    code = loyalty_settings.DEFAULT_MARKET
    return Market.objects.filter(code=code, is_active=True).first() if code else None


def join_page(request, form: JoinForm, market: Market | None, status: int = 200):
    """The join form: the referral code, the birth date and the optional purposes, none ticked."""
    shown = form.data.getlist("purposes") if form.is_bound else []
    ticked = set(form.data.getlist("consent")) if form.is_bound else set()
    return render(
        request,
        "loyalty/join.html",
        {
            "base_template": loyalty_settings.BASE_TEMPLATE,
            "can_join": bool(loyalty_settings.DEFAULT_MARKET),
            "form": form,
            "minimum_age": market.minimum_age if market else None,
            "purposes": [
                (item, item.code in ticked and item.code in shown)
                for item in (join_items(market, translation.get_language()) if market else [])
            ],
        },
        status=status,
    )


def record_join_decisions(request, member: Member, items: list[ConsentItem]) -> bool:
    """Grant the purposes ticked on the join form and refuse the others it showed; False if one failed.

    The decisions are not separate consents (``separate=False``): several were made on one form. A
    grant against a notice that changed since the form was shown, or that only a guardian may give,
    is not recorded; the member is told and decides in the privacy center.
    """
    recorded = True
    shown = set(request.POST.getlist("purposes"))
    ticked = set(request.POST.getlist("consent"))
    evidence = request_evidence(request)
    for item in items:
        if item.code not in shown:
            continue
        action = ConsentAction.GRANTED if item.code in ticked else ConsentAction.REFUSED
        try:
            record_consent(
                member,
                item.code,
                action,
                method=CollectionMethod.WEB,
                notice_version=shown_notice_version(request.POST.get(f"notice-{item.code}")),
                separate=False,
                collection_point="join",
                language=member.language,
                **evidence,
            )
        except NoticeOutdated:
            recorded = False
            messages.warning(
                request,
                _("The notice about “%(purpose)s” changed while you joined; please read it and decide here.")
                % {"purpose": item.name},
            )
        except LoyaltyError as error:
            recorded = False
            messages.warning(request, f"{item.name}: {error.detail}")
    return recorded


@login_required
@require_POST
def set_language(request):
    try:
        member = member_for_user(request.user)
    except NotAMember:
        return redirect("loyalty:member-center")
    language = request.POST.get("language", "")
    if language in {code for code, _name in settings.LANGUAGES}:
        Member.objects.filter(pk=member.pk).update(language=language)
    else:
        messages.error(request, _("This language is not offered."))
    return redirect("loyalty:member-center")


def join_link(request, code: str) -> str:
    """The absolute address a member shares: the join page, which carries the code into enrolment."""
    return request.build_absolute_uri(
        f"{reverse('loyalty:member-center')}?{urlencode({REFERRAL_PARAMETER: code})}"
    )


# The reward catalog -------------------------------------------------------------------------------

CATALOG_PAGE_SIZE = 24
REDEMPTIONS_PAGE_SIZE = 20
# Why a card cannot be redeemed, for the codes whose error already says it to the member.
UNAVAILABLE_ERRORS = {error.code: error for error in (RewardUnavailable, RedemptionLimitReached)}


def member_page(view: Callable) -> Callable:
    """A page of the member's own: signed in and enrolled (others go to join), in their language and zone.

    An invisible reward and another member's redemption answer 404, like ones that do not exist.
    """

    @login_required
    @wraps(view)
    def page(request, *args, **kwargs):
        try:
            member = member_for_user(request.user)
        except NotAMember:
            return redirect("loyalty:member-center")
        with translation.override(member.language), timezone.override(member.time_zone):
            try:
                return view(request, member, *args, **kwargs)
            except (RewardNotFound, RedemptionNotFound) as error:
                raise Http404(str(error.detail)) from error

    return page


@dataclass(frozen=True)
class RewardCard:
    """A catalog item with its figures written out in the member's language."""

    item: CatalogItem
    points: str
    value: str  # in the market's currency; "" when the offer states none
    reason: str  # why the member cannot redeem it now; "" when they can


@dataclass(frozen=True)
class RedemptionRow:
    """One of the member's redemptions, named and figured in their language."""

    redemption: Redemption
    name: str
    points: str
    value: str  # "" when the reward stated none
    cancellable: bool


@member_page
def reward_catalog(request, member: Member):
    available = member.account.available
    filterset = CatalogFilter(request.GET or None, visible_offers(member), member=member, available=available)
    page = Paginator(filterset.qs, CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    items = catalog_items(member, page.object_list, available=available)
    return render(
        request,
        "loyalty/reward_catalog.html",
        {
            "base_template": loyalty_settings.BASE_TEMPLATE,
            "available": number(available),
            "available_count": available,
            "form": filterset.form,
            "cards": [reward_card(item, available) for item in items],
            "page": page,
        },
    )


@member_page
def reward_detail(request, member: Member, reward_id: int):
    available = member.account.available
    (item,) = catalog_items(member, [visible_offer(member, reward_id)], available=available)
    return render(
        request,
        "loyalty/reward_detail.html",
        {
            "base_template": loyalty_settings.BASE_TEMPLATE,
            "card": reward_card(item, available),
            "facts": reward_facts(item),
        },
    )


@require_http_methods(["GET", "POST"])
@member_page
def redeem(request, member: Member, reward_id: int):
    """GET: what redeeming costs and gives, with a fresh idempotency key; POST: redeem, once per key."""
    if request.method == "POST":
        return _redeem_confirmed(request, member, reward_id)
    available = member.account.available
    (item,) = catalog_items(member, [visible_offer(member, reward_id)], available=available)
    return render(
        request,
        "loyalty/reward_redeem.html",
        {
            "base_template": loyalty_settings.BASE_TEMPLATE,
            "card": reward_card(item, available),
            "available": number(available),
            "balance_after": number(available - item.offer.points),
            "validity": validity_text(item.reward),
            "idempotency_key": uuid.uuid4().hex,
        },
    )


def _redeem_confirmed(request, member: Member, reward_id: int):
    key = request.POST.get("idempotency_key", "")
    try:
        redemption = redeem_reward(member, reward_by_id(reward_id), idempotency_key=key)
    except RewardNotFound:
        raise  # a 404 (member_page), not a message on a page the member may not see
    except LoyaltyError as error:
        messages.error(request, str(error.detail))
        return redirect("loyalty:reward-redeem", reward_id=reward_id)
    messages.success(request, _("%(reward)s is yours.") % {"reward": redemption_name(redemption)})
    return redirect(f"{reverse('loyalty:my-rewards')}#redemption-{redemption.pk}")


@member_page
def my_rewards(request, member: Member):
    page = Paginator(member_redemptions(member), REDEMPTIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    return render(
        request,
        "loyalty/my_rewards.html",
        {
            "base_template": loyalty_settings.BASE_TEMPLATE,
            "rows": [redemption_row(redemption, now) for redemption in page.object_list],
            "page": page,
        },
    )


@require_http_methods(["GET", "POST"])
@member_page
def cancel_reward(request, member: Member, redemption_id: int):
    """GET: ask to confirm; POST: cancel the member's own redemption and give its points back."""
    redemption = member_redemption(member, redemption_id)
    if request.method == "GET":
        return render(
            request,
            "loyalty/redemption_cancel.html",
            {
                "base_template": loyalty_settings.BASE_TEMPLATE,
                "row": redemption_row(redemption, timezone.now()),
            },
        )
    already = redemption.status == RedemptionStatus.CANCELLED
    try:
        cancel_redemption(redemption, reason=_("Cancelled by the member."))
    except LoyaltyError as error:
        messages.error(request, str(error.detail))
    else:
        if already:
            messages.info(request, _("This reward was already cancelled."))
        else:
            messages.success(
                request,
                ngettext(
                    "Cancelled: %(points)s point is back in your account.",
                    "Cancelled: %(points)s points are back in your account.",
                    redemption.points,
                )
                % {"points": number(redemption.points)},
            )
    return redirect("loyalty:my-rewards")


def reward_card(item: CatalogItem, available: int) -> RewardCard:
    value = item.offer.value
    return RewardCard(
        item=item,
        points=number(item.offer.points),
        value=money_in(value) if value is not None else "",
        reason=unavailable_text(item, available),
    )


def unavailable_text(item: CatalogItem, available: int) -> str:
    code = item.unavailable_reason
    if code == "insufficient_points":
        missing = item.offer.points - available
        return ngettext("You need %(points)s more point.", "You need %(points)s more points.", missing) % {
            "points": number(missing)
        }
    if code in UNAVAILABLE_ERRORS:
        return str(UNAVAILABLE_ERRORS[code].default_detail)
    return ""


def reward_facts(item: CatalogItem) -> list[tuple[str, str]]:
    """What the detail page lists about a reward, as (term, description) pairs."""
    reward, offer = item.reward, item.offer
    facts = [(_("Type"), capfirst(reward.get_reward_type_display()))]
    if item.category:
        facts.append((_("Category"), item.category))
    if reward.percent_off:
        facts.append((_("Discount"), percent(reward.percent_off)))
    if offer.value is not None:
        facts.append((value_label(reward.reward_type), money_in(offer.value)))
    if reward.charity_id:
        facts.append((_("Charity"), reward.charity.name))
    facts.append((_("Validity"), validity_text(reward)))
    if reward.ends_on:
        facts.append((_("Offered until"), date_format(reward.ends_on, "DATE_FORMAT")))
    limit = limit_text(item)
    if limit:
        facts.append((_("Limit"), limit))
    if offer.stock is not None:
        facts.append((_("In stock"), number(offer.stock)))
    return facts


def value_label(reward_type: str) -> str:
    if reward_type == RewardType.FIXED_DISCOUNT:
        return _("Discount")
    if reward_type == RewardType.PERCENT_DISCOUNT:
        return _("Discount up to")
    if reward_type == RewardType.CHARITY:
        return _("Donation")
    return _("Worth")


def validity_text(reward: Reward) -> str:
    if reward.reward_type == RewardType.CHARITY:
        return _("The donation is made as soon as you redeem it.")
    if not reward.expires:
        return _("It does not expire.")
    return ngettext(
        "Use it within %(days)s day of redeeming it.",
        "Use it within %(days)s days of redeeming it.",
        reward.valid_days,
    ) % {"days": number(reward.valid_days)}


def limit_text(item: CatalogItem) -> str:
    reward = item.reward
    if reward.limit_per_member is None:
        return ""
    figures = {"limit": number(reward.limit_per_member), "left": number(item.left_for_member)}
    if reward.limit_period == LimitPeriod.EVER:
        return (
            ngettext(
                "%(limit)s per member; %(left)s left for you.",
                "%(limit)s per member; %(left)s left for you.",
                reward.limit_per_member,
            )
            % figures
        )
    return ngettext(
        "%(limit)s per member %(period)s; %(left)s left for you.",
        "%(limit)s per member %(period)s; %(left)s left for you.",
        reward.limit_per_member,
    ) % {**figures, "period": reward.get_limit_period_display()}


def redemption_row(redemption: Redemption, now: datetime) -> RedemptionRow:
    return RedemptionRow(
        redemption=redemption,
        name=redemption_name(redemption),
        points=number(redemption.points),
        value=money_in(redemption.value) if redemption.value is not None else "",
        cancellable=member_can_cancel(redemption, now),
    )


# Reward names in the points history -----------------------------------------------------------------


def name_reward_entries(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Give each entry a ``reward_name`` in the active language ("" when it is not about a reward)."""
    for entry in with_redemptions(entries):
        redemption = entry_redemption(entry)
        entry.reward_name = redemption_name(redemption) if redemption else ""
    return entries


# The tier card ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressBar:
    value: Decimal | int
    max: Decimal | int
    caption: str


@dataclass(frozen=True)
class TierCard:
    """The member's tier in sentences of the active language."""

    tier: Tier | None
    next_tier: Tier | None
    bar: ProgressBar | None  # towards the next tier, on the track closest to it
    to_next: str
    to_keep: str
    held_until: list[str]  # a grant or a paid membership, and when it ends
    benefits: list[str]


def tier_card(progress: TierProgress) -> TierCard | None:
    """None when the program has no tier the member holds or can reach."""
    if progress.tier is None and progress.next_tier is None:
        return None
    return TierCard(
        tier=progress.tier,
        next_tier=progress.next_tier,
        bar=progress_bar(progress) if climbing(progress) else None,
        to_next=to_next_tier(progress) if climbing(progress) else "",
        to_keep=to_keep_tier(progress),
        held_until=held_until(progress),
        benefits=benefits(progress.tier) if progress.tier else [],
    )


def climbing(progress: TierProgress) -> bool:
    """A tier above the member's own is reachable (not so while a grant or paid tier is higher)."""
    return progress.next_tier is not None and (
        progress.tier is None or progress.next_tier.rank > progress.tier.rank
    )


def progress_bar(progress: TierProgress) -> ProgressBar | None:
    tracks = [t for t in progress.tracks if t.next_threshold]
    if not tracks:
        return None
    best = max(tracks, key=lambda t: Decimal(t.current) / Decimal(t.next_threshold))
    current, target = best.current, best.next_threshold
    if best.track == "spend":
        current, target = shown_spend(current), shown_spend(target, to_reach=True)
    return ProgressBar(value=min(current, target), max=target, caption=_share(best.track, current, target))


def to_next_tier(progress: TierProgress) -> str:
    needed = [(t.track, t.needed_for_next) for t in progress.tracks if t.needed_for_next is not None]
    if not needed:
        return ""
    tier = progress.next_tier.name
    if any(amount == 0 for _track, amount in needed):
        return _("You have reached %(tier)s; your tier will be updated shortly.") % {"tier": tier}
    what = any_of([_more(track, amount) for track, amount in needed])
    if progress.deadline is None:
        return capfirst(_("%(what)s to reach %(tier)s.") % {"what": what, "tier": tier})
    return capfirst(
        _("%(what)s by %(date)s to reach %(tier)s.")
        % {"what": what, "date": last_day(progress.deadline), "tier": tier}
    )


def to_keep_tier(progress: TierProgress) -> str:
    """What the member must do by the end of the window (or grace period) to keep their qualified tier."""
    tier = progress.qualified_tier
    closes = progress.grace_until or progress.deadline
    if tier is None or tier.open_to_all or closes is None:
        return ""
    if progress.secured:
        return _("You have done what it takes to keep %(tier)s after %(date)s.") % {
            "tier": tier.name,
            "date": last_day(closes),
        }
    needed = [(t.track, t.needed_to_retain) for t in progress.tracks if t.needed_to_retain is not None]
    if not needed:
        return ""
    return _("To keep %(tier)s after %(date)s: %(what)s.") % {
        "tier": tier.name,
        "date": last_day(closes),
        "what": any_of([_more(track, amount) for track, amount in needed]),
    }


def held_until(progress: TierProgress) -> list[str]:
    lines = []
    if progress.granted_until:
        lines.append(_("Granted to you until %(date)s.") % {"date": last_day(progress.granted_until)})
    if progress.paid_until:
        lines.append(_("Your paid membership runs until %(date)s.") % {"date": last_day(progress.paid_until)})
    return lines


def benefits(tier: Tier) -> list[str]:
    listed = [line.strip() for line in tier.benefits.splitlines() if line.strip()]
    if tier.earn_multiplier > 1:
        listed.append(_("%(multiplier)s× points on purchases") % {"multiplier": number(tier.earn_multiplier)})
    if tier.free_shipping:
        listed.append(_("Free shipping"))
    if tier.priority_support:
        listed.append(_("Priority support"))
    if tier.early_access:
        listed.append(_("Early access to sales"))
    return listed


def _more(track: str, amount: Decimal | int) -> str:
    if track == "spend":
        return _("spend %(amount)s more") % {"amount": money(shown_spend(amount, to_reach=True))}
    if track == "status_points":
        return ngettext("earn %(points)s status point more", "earn %(points)s status points more", amount) % {
            "points": number(amount)
        }
    return ngettext("place %(orders)s more order", "place %(orders)s more orders", amount) % {
        "orders": number(amount)
    }


def _share(track: str, current: Decimal | int, target: Decimal | int) -> str:
    if track == "spend":
        return _("%(current)s of %(target)s spent") % {"current": money(current), "target": money(target)}
    figures = {"current": number(current), "target": number(target)}
    if track == "status_points":
        return (
            ngettext(
                "%(current)s of %(target)s status point", "%(current)s of %(target)s status points", target
            )
            % figures
        )
    return ngettext("%(current)s of %(target)s order", "%(current)s of %(target)s orders", target) % figures


# The privacy center -------------------------------------------------------------------------------

# The decisions a member makes about a purpose, as the page and the API name them.
CONSENT_DECISIONS = {
    "grant": ConsentAction.GRANTED,
    "withdraw": ConsentAction.WITHDRAWN,
    "refuse": ConsentAction.REFUSED,
}
EXPORT_FORMATS = ("json", "csv")
PRIVACY_ANCHOR = re.compile(r"^[-\w]{1,50}$", re.ASCII)


def request_evidence(request) -> dict:
    """What a consent decision keeps of the request it came in: its id, IP address and browser."""
    return {
        "request_id": request.headers.get("X-Request-ID", "").strip() or uuid.uuid4().hex,
        "ip_address": request.META.get("REMOTE_ADDR") or None,
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
    }


def shown_notice_version(value: object) -> int | None:
    """The notice version a form or body says was shown: digits become a number, anything else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def export_download(export: DataExport, file_format: str) -> HttpResponse:
    """The export as a JSON file or a ZIP of CSV files, to save rather than show; recorded as downloaded."""
    if file_format == "csv":
        body, content_type, extension = export_csv_zip(export.payload), "application/zip", "zip"
    else:
        body, content_type, extension = export_json(export.payload), "application/json; charset=utf-8", "json"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="my-data-{export.request_reference}.{extension}"'
    response["Cache-Control"] = "no-store"
    mark_downloaded(export)
    return response


@member_page
def privacy_center(request, member: Member):
    return privacy_page(request, member, PrivacyRequestForm())


def privacy_page(request, member: Member, request_form: PrivacyRequestForm, status: int = 200):
    """The member's consents with their notices, the request form and their requests."""
    items = consent_items(member, member.language)
    available = member.account.available
    return render(
        request,
        "loyalty/privacy_center.html",
        {
            "base_template": loyalty_settings.BASE_TEMPLATE,
            "decidable": [item for item in items if item.decidable],
            "informed": [item for item in items if not item.decidable],
            "form": request_form,
            "rows": member_request_rows(member),
            "available": available,
            "available_text": number(available),
        },
        status=status,
    )


@require_POST
@member_page
def privacy_consent(request, member: Member):
    """Grant or withdraw one purpose: one button each way, on the privacy center."""
    code = request.POST.get("purpose", "").strip()
    target = reverse("loyalty:privacy") + (f"#purpose-{code}" if PRIVACY_ANCHOR.match(code) else "")
    action = CONSENT_DECISIONS.get(request.POST.get("decision", ""))
    if action is None:
        messages.error(request, str(InvalidConsentDecision.default_detail))
        return redirect(target)
    try:
        state = record_consent(
            member,
            code,
            action,
            method=CollectionMethod.WEB,
            notice_version=shown_notice_version(request.POST.get("notice_version")),
            separate=True,
            language=member.language,
            **request_evidence(request),
        )
    except NoticeOutdated:
        messages.warning(
            request,
            _("This notice changed while you were reading it. Please read the new version and decide again."),
        )
    except LoyaltyError as error:
        messages.error(request, str(error.detail))
    else:
        name = localized(state.purpose, "name", content_languages(member.language, member.market))
        messages.success(request, CONSENT_CONFIRMATIONS[action] % {"purpose": name or state.purpose.name})
    return redirect(target)


CONSENT_CONFIRMATIONS = {
    ConsentAction.GRANTED: gettext_lazy(
        "Thank you: you agreed to “%(purpose)s”. You can withdraw it here at any time."
    ),
    ConsentAction.WITHDRAWN: gettext_lazy("You withdrew your consent to “%(purpose)s”."),
    ConsentAction.REFUSED: gettext_lazy("You declined “%(purpose)s”."),
}


@require_POST
@member_page
def privacy_request(request, member: Member):
    """Send a data-subject request; erasure only once confirmed."""
    form = PrivacyRequestForm(request.POST)
    if not form.is_valid():
        return privacy_page(request, member, form, status=400)
    kind = form.cleaned_data["kind"]
    already_open = open_requests(member).filter(kind=kind).exists()
    try:
        opened = open_request(
            member, kind, channel=RequestChannel.MEMBER_CENTER, message=form.cleaned_data["message"]
        )
    except LoyaltyError as error:
        messages.error(request, str(error.detail))
        return redirect(reverse("loyalty:privacy") + "#requests")
    figures = {
        "reference": opened.reference,
        "date": date_format(timezone.localtime(opened.due_at), "DATE_FORMAT"),
    }
    if already_open:
        messages.info(
            request, _("You already asked for this: request %(reference)s is due by %(date)s.") % figures
        )
    elif kind in EXPORT_KINDS:
        messages.success(
            request, _("Your data is ready: download it below (request %(reference)s).") % figures
        )
    else:
        messages.success(
            request, _("We received your request %(reference)s and will answer by %(date)s.") % figures
        )
    return redirect(reverse("loyalty:privacy") + "#requests")


@member_page
def privacy_export(request, member: Member, token: str):
    """Download one's own export: 404 for anyone else's, 410 once the link has expired."""
    try:
        export = downloadable_export(member, token)
    except ExportNotFound as error:
        raise Http404(str(error.detail)) from error
    except ExportExpired as error:
        return render(
            request,
            "loyalty/privacy_export_expired.html",
            {"base_template": loyalty_settings.BASE_TEMPLATE, "detail": error.detail},
            status=410,
        )
    file_format = request.GET.get("format", "json")
    if file_format not in EXPORT_FORMATS:
        return HttpResponseBadRequest(str(InvalidExportFormat.default_detail))
    return export_download(export, file_format)


# Formatting in the active language ------------------------------------------------------------------


def babel_locale() -> Locale:
    try:
        return Locale.parse(translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(translation.to_locale(settings.LANGUAGE_CODE))


def money(amount: Decimal) -> str:
    """An amount of the base currency, such as €120.00 or 120,00 €."""
    return format_currency(amount, loyalty_settings.BASE_CURRENCY, locale=babel_locale())


def number(value: Decimal | int) -> str:
    return format_decimal(value, locale=babel_locale())


def money_in(amount: Money) -> str:
    """An amount in its own currency, rounded to its minor units: 5,00 €, ¥500, R$ 25,00."""
    rounded = quantize_money(amount)
    return format_currency(rounded.amount, rounded.currency.code, locale=babel_locale())


def percent(value: Decimal) -> str:
    """A percentage such as 12.5 in the active language: 12.5%, 12,5 %."""
    return format_percent((value / 100).normalize(), locale=babel_locale(), decimal_quantization=False)


def any_of(phrases: list[str]) -> str:
    """'a, b or c' in the active language."""
    return format_list(phrases, style="or", locale=babel_locale())


def last_day(moment: datetime) -> str:
    """The last day before ``moment``, locally: a window that closes at midnight ends the day before."""
    return date_format(timezone.localtime(moment - timedelta(microseconds=1)), "DATE_FORMAT")
