"""Member-center pages for shoppers."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from .conf import loyalty_settings
from .exceptions import LoyaltyError, NotAMember
from .models import Member, Tier
from .money import shown_spend
from .selectors import member_for_user, member_summary, recent_entries
from .selectors.tiers import TierProgress, member_challenges, referral_stats, tier_progress
from .services import enroll_member, referral_code_for

REFERRAL_PARAMETER = "ref"


@login_required
def member_center(request):
    try:
        member = member_for_user(request.user)
    except NotAMember:
        return render(
            request,
            "loyalty/join.html",
            {
                "base_template": loyalty_settings.BASE_TEMPLATE,
                "can_join": bool(loyalty_settings.DEFAULT_MARKET),
                "referral_code": request.GET.get(REFERRAL_PARAMETER, "").strip(),
            },
        )
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
                "entries": recent_entries(member),
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
    code = request.POST.get(REFERRAL_PARAMETER, "").strip()
    try:
        enroll_member(
            request.user,
            market=loyalty_settings.DEFAULT_MARKET or "",
            language=translation.get_language(),
            referral_code=code or None,
        )
    except LoyaltyError as error:
        messages.error(request, error.detail)
        if code:
            # Back to the join form with the code as typed, so it can be corrected.
            return redirect(f"{reverse('loyalty:member-center')}?{urlencode({REFERRAL_PARAMETER: code})}")
    return redirect("loyalty:member-center")


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


def any_of(phrases: list[str]) -> str:
    """'a, b or c' in the active language."""
    return format_list(phrases, style="or", locale=babel_locale())


def last_day(moment: datetime) -> str:
    """The last day before ``moment``, locally: a window that closes at midnight ends the day before."""
    return date_format(timezone.localtime(moment - timedelta(microseconds=1)), "DATE_FORMAT")
