"""The member's privacy requests with the download links of their exports, for the privacy center."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from ..exceptions import ExportExpired, ExportNotFound
from ..models import EXPORT_KINDS, OPEN_REQUEST_STATUSES, DataExport, DataSubjectRequest, Member
from ..routers import residency_database
from .privacy import member_export_by_token, member_requests


@dataclass(frozen=True)
class RequestRow:
    request: DataSubjectRequest
    export: DataExport | None  # the export of an access or portability request while its link is valid


def member_request_rows(member: Member, at: datetime | None = None) -> list[RequestRow]:
    """The member's requests, newest first, each with its valid export: two queries however many."""
    now = at or timezone.now()
    requests = list(member_requests(member))
    references = [request.reference for request in requests if request.kind in EXPORT_KINDS]
    exports = {}
    if references:
        db = residency_database(member.market.residency_region)
        valid = DataExport.objects.using(db).filter(
            subject_id=member.subject_id, request_reference__in=references, expires_at__gt=now
        )
        exports = {export.request_reference: export for export in valid.defer("payload")}
    return [RequestRow(request, exports.get(request.reference)) for request in requests]


def downloadable_export(member: Member, token: str, at: datetime | None = None) -> DataExport:
    """The member's export behind ``token``: not found for anyone else's, expired after its link's end."""
    export = member_export_by_token(member, token)
    if export is None:
        raise ExportNotFound()
    if export.expires_at <= (at or timezone.now()):
        raise ExportExpired()
    return export


def open_requests(member: Member) -> QuerySet[DataSubjectRequest]:
    return DataSubjectRequest.objects.filter(member=member, status__in=OPEN_REQUEST_STATUSES)
