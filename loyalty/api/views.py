"""The member API (v1). Every endpoint answers only for the signed-in member."""

from django.utils.module_loading import import_string
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from ..conf import loyalty_settings
from ..exceptions import LoyaltyError
from ..selectors import ledger_entries, member_for_user, member_summary
from ..selectors.tiers import member_challenges, referral_stats, tier_ladder, tier_progress
from ..services import apply_referral_code, referral_code_for
from ..views import join_link
from .filters import LedgerEntryFilter
from .serializers import (
    AppliedReferralSerializer,
    ChallengeSerializer,
    LadderTierSerializer,
    LedgerEntrySerializer,
    MemberSummarySerializer,
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


class LedgerPagination(PageNumberPagination):
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
    pagination_class = LedgerPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = LedgerEntryFilter

    def get_queryset(self):
        return ledger_entries(member_for_user(self.request.user))


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
