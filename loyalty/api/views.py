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
from .filters import LedgerEntryFilter
from .serializers import LedgerEntrySerializer, MemberSummarySerializer


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
