"""The member API (v1). Every endpoint answers only for the signed-in member."""

from django.conf import settings
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from ..conf import loyalty_settings
from ..exceptions import (
    ConfirmationRequired,
    IdempotencyKeyRequired,
    InvalidConsentDecision,
    InvalidExportFormat,
    InvalidNoticeVersion,
    InvalidPurposeCode,
    InvalidRequestKind,
    InvalidRequestMessage,
    LoyaltyError,
)
from ..forms import MESSAGE_MAX_LENGTH
from ..models import CollectionMethod, ConsentAction, Member, RequestChannel, RequestKind
from ..selectors import ledger_entries, member_for_user, member_summary
from ..selectors.catalog import (
    catalog_items,
    member_redemption,
    member_redemptions,
    reward_by_id,
    visible_offer,
    visible_offers,
    with_redemptions,
)
from ..selectors.consents import consent_items
from ..selectors.privacy_requests import downloadable_export, member_request_rows, open_requests
from ..selectors.tiers import member_challenges, referral_stats, tier_ladder, tier_progress
from ..services import (
    apply_referral_code,
    cancel_redemption,
    open_request,
    record_consent,
    redeem_reward,
    referral_code_for,
)
from ..views import (
    CONSENT_DECISIONS,
    EXPORT_FORMATS,
    export_download,
    join_link,
    request_evidence,
    shown_notice_version,
)
from .filters import CatalogFilter, LedgerEntryFilter, RedemptionFilter, filtered
from .serializers import (
    AppliedReferralSerializer,
    CatalogItemSerializer,
    ChallengeSerializer,
    ConsentItemSerializer,
    LadderTierSerializer,
    LedgerEntrySerializer,
    MemberSummarySerializer,
    PrivacyRequestSerializer,
    RedemptionSerializer,
    ReferralSerializer,
    TierProgressSerializer,
)


def loyalty_exception_handler(exc, context):
    """Domain errors become ``{"code", "detail"}`` with their status; the rest is DRF's default."""
    if isinstance(exc, LoyaltyError):
        return Response({"code": exc.code, "detail": str(exc.detail)}, status=exc.status_code)
    return exception_handler(exc, context)


class LoyaltyAPIView(APIView):
    """Authentication, permissions and error format the plugin owns, independent of the host's defaults."""

    permission_classes = [IsAuthenticated]

    def get_authenticators(self):
        return [import_string(path)() for path in loyalty_settings.API_AUTHENTICATION_CLASSES]

    def get_exception_handler(self):
        return loyalty_exception_handler


class PagePagination(PageNumberPagination):
    """``API_PAGE_SIZE`` per page, or ``?page_size=`` up to 100."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        self.page_size = loyalty_settings.API_PAGE_SIZE
        return super().get_page_size(request)


class MeView(LoyaltyAPIView):
    """The signed-in member's balances."""

    def get(self, request):
        summary = member_summary(member_for_user(request.user))
        return Response(MemberSummarySerializer(summary).data)


class MyLedgerView(LoyaltyAPIView, generics.ListAPIView):
    """The signed-in member's ledger, newest first, filterable by type and date."""

    serializer_class = LedgerEntrySerializer
    pagination_class = PagePagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = LedgerEntryFilter

    def get_queryset(self):
        return ledger_entries(member_for_user(self.request.user))

    def paginate_queryset(self, queryset):
        return with_redemptions(super().paginate_queryset(queryset))


class MyTierView(LoyaltyAPIView):
    """The signed-in member's tier, the next one, and what each track still needs, by when."""

    def get(self, request):
        progress = tier_progress(member_for_user(request.user))
        return Response(TierProgressSerializer(progress).data)


class TierLadderView(LoyaltyAPIView):
    """Every tier, lowest first, with its thresholds and benefits; open to non-members too."""

    def get(self, request):
        return Response(LadderTierSerializer(tier_ladder(), many=True).data)


class MyReferralView(LoyaltyAPIView):
    """GET: the member's referral code (created on first use), link and results; POST: apply a code."""

    def get(self, request):
        member = member_for_user(request.user)
        code = referral_code_for(member)
        stats = referral_stats(member)
        referral = {
            "code": code,
            "link": join_link(request, code),
            "pending": stats.pending,
            "rewarded": stats.rewarded,
            "capped": stats.capped,
        }
        return Response(ReferralSerializer(referral).data)

    def post(self, request):
        member = member_for_user(request.user)
        code = request.data.get("code") if hasattr(request.data, "get") else None
        return Response(AppliedReferralSerializer(apply_referral_code(member, code)).data)


class MyChallengesView(LoyaltyAPIView):
    """The running challenges of the member's market and those they completed, with their progress."""

    def get(self, request):
        challenges = member_challenges(member_for_user(request.user))
        return Response(ChallengeSerializer(challenges, many=True).data)


def member_language(request, member: Member) -> str:
    """The language the request asks for (language cookie, then Accept-Language) when it is offered,
    else the member's own: a request that names no language still gets the member's texts."""
    asked = [request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")]
    asked += [code for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", ""))]
    for code in asked:
        if code and code != "*":
            try:
                return translation.get_supported_language_variant(code)
            except LookupError:
                continue
    return member.language


class RewardListView(LoyaltyAPIView):
    """The member's catalog in their language, filtered and sorted by ``CatalogFilter``."""

    def get(self, request):
        member = member_for_user(request.user)
        with translation.override(member_language(request, member)):
            available = member.account.available
            offers = visible_offers(member).select_related("reward__charity")
            filterset = CatalogFilter(request.query_params, offers, member=member, available=available)
            paginator = PagePagination()
            page = paginator.paginate_queryset(filtered(filterset), request, view=self)
            items = catalog_items(member, page, available=available)
            data = CatalogItemSerializer(items, many=True, context={"request": request}).data
            return paginator.get_paginated_response(data)


class RewardDetailView(LoyaltyAPIView):
    """One reward of the member's catalog; ``reward_not_found`` for any other."""

    def get(self, request, reward_id):
        member = member_for_user(request.user)
        with translation.override(member_language(request, member)):
            available = member.account.available
            (item,) = catalog_items(member, [visible_offer(member, reward_id)], available=available)
            return Response(CatalogItemSerializer(item, context={"request": request}).data)


class RedeemRewardView(LoyaltyAPIView):
    """Redeem a reward once per ``Idempotency-Key`` header; JSON ``quantity`` (default 1)."""

    def post(self, request, reward_id):
        member = member_for_user(request.user)
        key = request.headers.get("Idempotency-Key", "")
        if not key.strip():
            raise IdempotencyKeyRequired()
        redemption = redeem_reward(
            member,
            reward_by_id(reward_id),
            idempotency_key=key,
            quantity=requested_quantity(request.data),
        )
        with translation.override(member_language(request, member)):
            return Response(RedemptionSerializer(redemption).data, status=status.HTTP_201_CREATED)


class MyRedemptionsView(LoyaltyAPIView, generics.ListAPIView):
    """The member's redemptions, newest first; ``?status=`` issued, used, cancelled or expired."""

    serializer_class = RedemptionSerializer
    pagination_class = PagePagination

    def list(self, request, *args, **kwargs):
        with translation.override(member_language(request, member_for_user(request.user))):
            return super().list(request, *args, **kwargs)

    def get_queryset(self):
        redemptions = member_redemptions(member_for_user(self.request.user))
        return filtered(RedemptionFilter(self.request.query_params, redemptions))


class CancelRedemptionView(LoyaltyAPIView):
    """Cancel one of the member's issued rewards (optional ``reason``); its points come back once."""

    def post(self, request, redemption_id):
        member = member_for_user(request.user)
        redemption = member_redemption(member, redemption_id)
        reason = request.data.get("reason") if hasattr(request.data, "get") else None
        redemption = cancel_redemption(redemption, reason=reason or _("Cancelled by the member."))
        with translation.override(member_language(request, member)):
            return Response(RedemptionSerializer(redemption).data)


def requested_quantity(data) -> object:
    """The body's quantity (1 when absent); form digits become a number, the service refuses the rest."""
    quantity = data.get("quantity", 1) if hasattr(data, "get") else 1
    if isinstance(quantity, str) and quantity.strip().isdigit():
        return int(quantity)
    return quantity


# Privacy -------------------------------------------------------------------------------------------


def body_of(request) -> dict:
    return request.data if hasattr(request.data, "get") else {}


class MyConsentsView(LoyaltyAPIView):
    """GET: every active purpose with its notice and the member's decision; POST: decide about one.

    POST ``{"purpose": code, "decision": "grant"|"withdraw"|"refuse", "notice_version": n}``: a grant
    names the notice version the member was shown, and is refused when a newer one was published.
    """

    def get(self, request):
        member = member_for_user(request.user)
        language = member_language(request, member)
        with translation.override(language):
            return Response(ConsentItemSerializer(consent_items(member, language), many=True).data)

    def post(self, request):
        member = member_for_user(request.user)
        data = body_of(request)
        code, decision = data.get("purpose"), data.get("decision")
        if not isinstance(code, str) or not code.strip():
            raise InvalidPurposeCode()
        action = CONSENT_DECISIONS.get(decision) if isinstance(decision, str) else None
        if action is None:
            raise InvalidConsentDecision()
        version = data.get("notice_version")
        # A grant names the version shown: a number, or null for a purpose without a notice.
        named = "notice_version" in data and (version is None or shown_notice_version(version) is not None)
        if action == ConsentAction.GRANTED and not named:
            raise InvalidNoticeVersion()
        language = member_language(request, member)
        record_consent(
            member,
            code.strip(),
            action,
            method=CollectionMethod.API,
            notice_version=shown_notice_version(version),
            separate=True,
            language=language,
            **request_evidence(request),
        )
        with translation.override(language):
            (item,) = [item for item in consent_items(member, language) if item.code == code.strip()]
            return Response(ConsentItemSerializer(item).data)


class MyPrivacyRequestsView(LoyaltyAPIView):
    """GET: the member's privacy requests, newest first; POST: send one.

    POST ``{"kind": ..., "message": optional, "confirm": true}``: erasure needs ``confirm``. Access and
    portability are answered at once with download links. An open request of the same kind is
    answered with 200 instead of a second request.
    """

    def get(self, request):
        member = member_for_user(request.user)
        with translation.override(member_language(request, member)):
            rows = member_request_rows(member)
            return Response(PrivacyRequestSerializer(rows, many=True, context={"request": request}).data)

    def post(self, request):
        member = member_for_user(request.user)
        data = body_of(request)
        kind, message = data.get("kind"), data.get("message") or ""
        if not isinstance(kind, str) or kind not in RequestKind.values:
            raise InvalidRequestKind()
        if not isinstance(message, str) or len(message) > MESSAGE_MAX_LENGTH:
            raise InvalidRequestMessage()
        if kind == RequestKind.ERASURE and data.get("confirm") not in (True, "true"):
            raise ConfirmationRequired()
        already_open = open_requests(member).filter(kind=kind).exists()
        opened = open_request(member, kind, channel=RequestChannel.API, message=message)
        with translation.override(member_language(request, member)):
            (row,) = [row for row in member_request_rows(member) if row.request.pk == opened.pk]
            return Response(
                PrivacyRequestSerializer(row, context={"request": request}).data,
                status=status.HTTP_200_OK if already_open else status.HTTP_201_CREATED,
            )


class MyExportView(LoyaltyAPIView):
    """Download the member's own export: ``?format=json`` (default) or ``csv`` (a ZIP of CSV files).

    Anyone else's token is ``export_not_found`` (404), an expired link ``export_expired`` (410).
    """

    def perform_content_negotiation(self, request, force=False):
        # ``format`` names the file here, not a renderer: DRF must not answer 404 for ``csv``.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request, token):
        export = downloadable_export(member_for_user(request.user), token)
        file_format = request.query_params.get("format", "json")
        if file_format not in EXPORT_FORMATS:
            raise InvalidExportFormat()
        return export_download(export, file_format)
