"""Read side of privacy: the member's data export, the request queue and the record of processing."""

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ..models import (
    OPEN_REQUEST_STATUSES,
    DataExport,
    DataSubjectRequest,
    Member,
    ProcessingPurpose,
    Recipient,
    Regime,
    Transfer,
    TransferRecord,
)
from ..personal_data import Section, exported_sections
from ..privacy import privacy_adapter
from ..routers import residency_database

EXPORT_FORMAT_VERSION = 1
# Yearly head counts at which PIPL asks for more (2024 CAC provisions): a standard contract or
# certification above 100,000 people (10,000 for sensitive data), a security assessment above 1,000,000.
PIPL_THRESHOLDS = (100_000, 1_000_000)
PIPL_SENSITIVE_THRESHOLD = 10_000


# Export -------------------------------------------------------------------------------------------


def section_rows(section: Section, member: Member) -> list[dict]:
    """The member's rows of one registry section, as JSON-ready dicts of the registered fields."""
    model = section.model_class
    if section.in_residency_database:
        db = residency_database(member.market.residency_region)
        rows = model.objects.using(db).filter(subject_id=member.subject_id)
    else:
        rows = model.objects.filter(**{section.member: member.pk})
    values = rows.order_by("pk").values(*section.fields)
    return json.loads(json.dumps(list(values), cls=DjangoJSONEncoder))


def member_export(member: Member) -> dict:
    """Everything the registry lists about the member, plus the host's own data of the person."""
    sections = {section.name: section_rows(section, member) for section in exported_sections()}
    account = privacy_adapter().export_host_data(member.user) if member.user is not None else {}
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(),
        "member_number": member.number,
        "account": json.loads(json.dumps(account, cls=DjangoJSONEncoder)),
        "sections": sections,
    }


def export_json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, indent=2).encode()


def export_csv_zip(payload: dict) -> bytes:
    """One CSV per section (and one for the account), zipped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.csv", _csv([payload.get("account") or {}]))
        for name, rows in payload["sections"].items():
            archive.writestr(f"{name}.csv", _csv(rows))
    return buffer.getvalue()


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)
    if value is None:
        text = ""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def member_export_by_token(member: Member, token: str) -> DataExport | None:
    """The member's export behind ``token`` (None for anyone else's or an unknown token)."""
    db = residency_database(member.market.residency_region)
    return DataExport.objects.using(db).filter(subject_id=member.subject_id, token=token).first()


def request_export(request: DataSubjectRequest) -> DataExport | None:
    db = residency_database(request.member.market.residency_region)
    return DataExport.objects.using(db).filter(request_reference=request.reference).first()


# Requests -----------------------------------------------------------------------------------------


def member_requests(member: Member) -> QuerySet[DataSubjectRequest]:
    return DataSubjectRequest.objects.filter(member=member).order_by("-received_at", "-id")


def member_request(member: Member, reference: str) -> DataSubjectRequest | None:
    return DataSubjectRequest.objects.filter(member=member, reference=reference).first()


def overdue_filter(at: datetime | None = None) -> Q:
    return Q(status__in=OPEN_REQUEST_STATUSES, due_at__lt=at or timezone.now())


# Transfers and the record of processing ----------------------------------------------------------


@dataclass(frozen=True)
class TransferCount:
    recipient: Recipient
    people: int
    sensitive: int

    @property
    def pipl_level(self) -> int:
        """0 below every PIPL threshold; 1 past the first (contract or certification); 2 past the second."""
        if self.people > PIPL_THRESHOLDS[1]:
            return 2
        if self.people > PIPL_THRESHOLDS[0] or self.sensitive > PIPL_SENSITIVE_THRESHOLD:
            return 1
        return 0


def transfer_counts(year: int) -> list[TransferCount]:
    """People whose data went to each recipient in ``year``, for the PIPL thresholds."""
    counts = {
        row["recipient"]: row
        for row in TransferRecord.objects.filter(year=year)
        .values("recipient")
        .annotate(people=Count("member", distinct=True), sensitive=Count("member", filter=Q(sensitive=True)))
    }
    return [
        TransferCount(
            recipient,
            counts.get(recipient.pk, {}).get("people", 0),
            counts.get(recipient.pk, {}).get("sensitive", 0),
        )
        for recipient in Recipient.objects.order_by("name")
    ]


def record_of_processing() -> list[dict]:
    """The GDPR Art. 30 record, generated from purposes, bases, recipients, transfers and retention."""
    purposes = ProcessingPurpose.objects.prefetch_related("bases", "recipients").select_related("retention")
    mechanisms: dict[int, list[Transfer]] = {}
    for transfer in Transfer.objects.all():
        mechanisms.setdefault(transfer.recipient_id, []).append(transfer)
    rows = []
    for purpose in purposes.order_by("sort_order", "code"):
        rows.append(
            {
                "purpose": purpose.code,
                "name": purpose.name,
                "category": str(purpose.get_category_display()),
                "active": purpose.is_active,
                "data_categories": purpose.data_categories,
                "sensitive": purpose.is_sensitive,
                "required_for_service": purpose.required_for_service,
                "lawful_bases": {
                    str(Regime(basis.regime).label): str(basis.get_lawful_basis_display())
                    for basis in purpose.bases.all()
                },
                "recipients": [
                    {
                        "name": recipient.name,
                        "role": str(recipient.get_role_display()),
                        "country": recipient.country.code,
                        "transfers": {
                            str(Regime(transfer.regime).label): str(transfer.get_mechanism_display())
                            for transfer in mechanisms.get(recipient.pk, [])
                        },
                    }
                    for recipient in purpose.recipients.all()
                ],
                "retention": (
                    f"{purpose.retention.get_category_display()}: {purpose.retention.months}"
                    if purpose.retention
                    else ""
                ),
            }
        )
    return rows
