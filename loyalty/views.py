"""Member-center pages for shoppers."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .conf import loyalty_settings
from .exceptions import LoyaltyError, NotAMember
from .models import Member
from .selectors import member_for_user, member_summary, recent_entries
from .services import enroll_member


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
            },
        )
    with translation.override(member.language), timezone.override(member.time_zone):
        return render(
            request,
            "loyalty/member_center.html",
            {
                "base_template": loyalty_settings.BASE_TEMPLATE,
                "member": member,
                "summary": member_summary(member),
                "entries": recent_entries(member),
                "languages": settings.LANGUAGES,
            },
        )


@login_required
@require_POST
def join(request):
    try:
        enroll_member(
            request.user, market=loyalty_settings.DEFAULT_MARKET or "", language=translation.get_language()
        )
    except LoyaltyError as error:
        messages.error(request, error.detail)
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
