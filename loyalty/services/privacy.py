"""Data-subject requests, exports, erasure, retention and transfers abroad.

A request is due by the strictest regime that applies to the member; its history is append-only
and it is only rejected on a stated legal ground. Erasure removes every personal value the
registry lists (``loyalty.personal_data``), hands the host's data to the privacy adapter, ends
the person's sessions and forfeits the remaining points through a ledger entry, so the books
stay whole.
"""

import calendar
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import loyalty_settings
from ..exceptions import (
    ErasureHeld,
    InvalidExtension,
    InvalidRequestKind,
    ReasonRequired,
    RejectionGroundRequired,
    RequestNotOpen,
    TransferRefused,
)
from ..models import (
    EXPORT_KINDS,
    OPEN_REQUEST_STATUSES,
    CollectionMethod,
    ConsentAction,
    ConsentActor,
    ConsentEvidence,
    ConsentState,
    ConsentStatus,
    DataExport,
    DataSubjectRequest,
    EntryType,
    LedgerEntry,
    Member,
    MemberStatus,
    OrderRecord,
    OrderStatus,
    PurposeCategory,
    Recipient,
    Regime,
    RejectionGround,
    RequestChannel,
    RequestKind,
    RequestMessage,
    RequestStatus,
    RequestStatusEvent,
    RetentionCategory,
    RetentionPolicy,
    RetentionRun,
    Transfer,
    TransferRecord,
)
from ..personal_data import personal_sections
from ..privacy import privacy_adapter
from ..routers import residency_database, residency_databases
from ..selectors.privacy import PIPL_SENSITIVE_THRESHOLD, PIPL_THRESHOLDS, member_export, request_export
from ..signals import member_erased, privacy_request_opened, send_on_commit
from .consent import has_consent, record_consent
from .ledger import lock_account, plan_debit, save_account, write_entry
from .suppression import suppress

logger = logging.getLogger("loyalty.privacy")

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# Deadlines ----------------------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def add_working_days(moment: datetime, days: int) -> datetime:
    """``days`` working days (Monday to Friday) later."""
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


def deadline(regime: str, received_at: datetime) -> datetime:
    rules = loyalty_settings.PRIVACY_REQUEST_DEADLINES
    rule = rules.get(regime) or rules["default"]
    if "months" in rule:
        return add_months(received_at, rule["months"])
    if "working_days" in rule:
        return add_working_days(received_at, rule["working_days"])
    return received_at + timedelta(days=rule["days"])


def due_date(regimes: list[str], received_at: datetime) -> datetime:
    """The earliest deadline among the regimes that apply (the default one when none does)."""
    return min(deadline(regime, received_at) for regime in (regimes or ["default"]))


# Requests -----------------------------------------------------------------------------------------


def _new_reference() -> str:
    while True:
        reference = "PR-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
        if not DataSubjectRequest.objects.filter(reference=reference).exists():
            return reference


def open_request(
    member: Member, kind: str, *, channel: str, message: str = "", actor=None, at: datetime | None = None
) -> DataSubjectRequest:
    """Record a request; an open request of the same kind is returned instead of a second one.

    Access and portability requests are answered at once with an export behind an expiring link.
    """
    if kind not in RequestKind.values:
        raise InvalidRequestKind()
    channel = RequestChannel(channel)
    received_at = at or timezone.now()
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.pk).first()
        existing = DataSubjectRequest.objects.filter(
            member=member, kind=kind, status__in=OPEN_REQUEST_STATUSES
        ).first()
        if existing is not None:
            return existing
        regimes = list(member.market.regimes)
        due = due_date(regimes, received_at)
        request = DataSubjectRequest.objects.create(
            reference=_new_reference(),
            member=member,
            kind=kind,
            regimes=regimes,
            channel=channel,
            received_at=received_at,
            due_at=due,
            original_due_at=due,
        )
        RequestStatusEvent.objects.create(request=request, to_status=RequestStatus.RECEIVED, actor=actor)
        if message.strip():
            region = member.market.residency_region
            db = residency_database(region)
            with transaction.atomic(using=db):
                RequestMessage.objects.using(db).create(
                    subject_id=member.subject_id,
                    region=region,
                    request_reference=request.reference,
                    text=message,
                )
        if kind in EXPORT_KINDS:
            fulfil_export(request, actor=actor)
            request.refresh_from_db()
    send_on_commit(privacy_request_opened, DataSubjectRequest, member=member, request=request)
    return request


def _move(request: DataSubjectRequest, to: str, *, actor, note: str = "", **changes) -> DataSubjectRequest:
    """Change a request's status and record the step; only open requests move."""
    with transaction.atomic():
        locked = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if not locked.is_open:
            raise RequestNotOpen()
        previous = locked.status
        locked.status = to
        for name, value in changes.items():
            setattr(locked, name, value)
        if to not in OPEN_REQUEST_STATUSES:
            locked.closed_at = timezone.now()
        locked.save()
        RequestStatusEvent.objects.create(
            request=locked, from_status=previous, to_status=to, note=note[:255], actor=actor
        )
    return locked


def start_request(request: DataSubjectRequest, *, actor) -> DataSubjectRequest:
    return _move(request, RequestStatus.IN_PROGRESS, actor=actor)


def hold_request(request: DataSubjectRequest, *, reason: str, actor) -> DataSubjectRequest:
    if not reason.strip():
        raise ReasonRequired()
    return _move(request, RequestStatus.ON_HOLD, actor=actor, note=reason, hold_reason=reason.strip()[:255])


def extend_request(request: DataSubjectRequest, *, until: datetime, reason: str, actor) -> DataSubjectRequest:
    """Move the due date, with the reason the member must be told (GDPR: by two more months at most)."""
    if not reason.strip() or until <= request.due_at or until > add_months(request.original_due_at, 2):
        raise InvalidExtension()
    note = _("Extended to %(date)s: %(reason)s") % {
        "date": until.date().isoformat(),
        "reason": reason.strip(),
    }
    return _move(
        request, request.status, actor=actor, note=note, due_at=until, extension_reason=reason.strip()[:255]
    )


def reject_request(request: DataSubjectRequest, *, ground: str, actor, note: str = "") -> DataSubjectRequest:
    if ground not in RejectionGround.values:
        raise RejectionGroundRequired()
    return _move(request, RequestStatus.REJECTED, actor=actor, note=note, rejection_ground=ground)


def withdraw_request(request: DataSubjectRequest, *, actor=None) -> DataSubjectRequest:
    return _move(request, RequestStatus.WITHDRAWN, actor=actor)


def fulfil_request(request: DataSubjectRequest, *, actor, note: str = "") -> DataSubjectRequest:
    """Carry out the request through its service and close it.

    Exports and erasure run ``fulfil_export`` and ``erase_member``; restriction freezes optional
    processing; objection and withdrawal record the decisions for every optional purpose;
    rectification is closed once staff corrected the data.
    """
    member = request.member
    if request.kind in EXPORT_KINDS:
        return fulfil_export(request, actor=actor)
    if request.kind == RequestKind.ERASURE:
        erase_member(member, request=request, actor=actor)
        return DataSubjectRequest.objects.get(pk=request.pk)
    if not request.is_open:
        raise RequestNotOpen()
    if request.kind == RequestKind.RESTRICTION:
        Member.objects.filter(pk=member.pk, restricted_at__isnull=True).update(restricted_at=timezone.now())
    elif request.kind in (RequestKind.OBJECTION, RequestKind.WITHDRAWAL):
        action = ConsentAction.OBJECTED if request.kind == RequestKind.OBJECTION else ConsentAction.WITHDRAWN
        _decide_for_all(member, action, actor=actor, request_id=request.reference)
    return _move(request, RequestStatus.FULFILLED, actor=actor, note=note)


def _decide_for_all(member: Member, action: str, *, actor, request_id: str) -> None:
    states = ConsentState.objects.filter(
        member=member, purpose__is_active=True, purpose__required_for_service=False
    )
    if action == ConsentAction.WITHDRAWN:
        states = states.filter(status__in=(ConsentStatus.GRANTED, ConsentStatus.RENEWAL_REQUIRED))
    for code in states.values_list("purpose__code", flat=True):
        record_consent(
            member,
            code,
            action,
            method=CollectionMethod.ADMIN,
            actor=ConsentActor.OPERATOR,
            operator=actor,
            request_id=request_id,
        )


def lift_restriction(member: Member) -> None:
    Member.objects.filter(pk=member.pk).update(restricted_at=None)


# Exports ------------------------------------------------------------------------------------------


def fulfil_export(request: DataSubjectRequest, *, actor=None) -> DataSubjectRequest:
    """Build the member's export behind a new expiring link and close the request (once)."""
    if request_export(request) is not None and not request.is_open:
        return request
    member = request.member
    region = member.market.residency_region
    db = residency_database(region)
    now = timezone.now()
    with transaction.atomic(using=db):
        DataExport.objects.using(db).update_or_create(
            request_reference=request.reference,
            defaults={
                "subject_id": member.subject_id,
                "region": region,
                "token": secrets.token_urlsafe(32),
                "payload": member_export(member),
                "created_at": now,
                "expires_at": now + timedelta(days=loyalty_settings.EXPORT_LINK_DAYS),
            },
        )
    if not request.is_open:
        return request
    return _move(request, RequestStatus.FULFILLED, actor=actor)


def mark_downloaded(export: DataExport) -> None:
    DataExport.objects.using(export._state.db).filter(pk=export.pk).update(downloaded_at=timezone.now())


# Erasure ------------------------------------------------------------------------------------------


@dataclass
class Erasure:
    member: Member
    points_forfeited: int = 0
    rows_deleted: dict[str, int] = field(default_factory=dict)
    sessions_ended: int = 0


def erasure_holds(member: Member, at: datetime | None = None) -> list[str]:
    """Why the member cannot be erased now (empty when nothing holds it)."""
    holds = []
    if member.legal_hold:
        holds.append(_("Legal hold: %(reason)s") % {"reason": member.legal_hold})
    if OrderRecord.objects.filter(member=member, status=OrderStatus.PENDING).exists():
        holds.append(_("An order is still inside its return window; its points are pending."))
    return holds


def erase_member(
    member: Member, *, request: DataSubjectRequest | None = None, actor=None, at: datetime | None = None
) -> Erasure:
    """Erase the member's personal data and forfeit their points; the ledger stays whole.

    Refused with ``erasure_held`` (and the request put on hold with the reasons) while a hold applies.
    """
    now = at or timezone.now()
    member = Member.objects.select_related("market", "user").get(pk=member.pk)
    if member.erased_at is not None:
        return Erasure(member)
    holds = erasure_holds(member, now)
    if holds:
        reason = " ".join(holds)
        if request is not None and request.is_open:
            hold_request(request, reason=reason, actor=actor)
        raise ErasureHeld(reason)
    user = member.user
    adapter = privacy_adapter()
    result = Erasure(member)
    with transaction.atomic():
        account = lock_account(member)
        # Read before erasure clears them: a shop on another stack erases its data by these ids.
        customer_ids = [
            {"source": code, "customer_id": customer_id}
            for code, customer_id in member.external_ids.values_list("source__code", "external_id")
        ]
        result.points_forfeited = _forfeit(account, now)
        if user is not None:
            suppress(adapter.contact_addresses(user))
            adapter.erase_host_data(member, user)
            result.sessions_ended = adapter.end_sessions(user)
        result.rows_deleted = _erase_registered(member)
        Member.objects.filter(pk=member.pk).update(
            user=None, referral_code=None, status=MemberStatus.CLOSED, erased_at=now, restricted_at=None
        )
        if request is not None and request.is_open:
            _move(request, RequestStatus.FULFILLED, actor=actor, note=_erasure_note(result))
        send_on_commit(
            member_erased, Member, member=member, user_id=getattr(user, "pk", None), customer_ids=customer_ids
        )
    logger.info("Erased member %s: %s", member.number, _erasure_note(result))
    return result


def _forfeit(account, now: datetime) -> int:
    points = account.available
    if points <= 0:
        return 0
    plan = plan_debit(account, points)
    account.available -= points
    entry = write_entry(
        account,
        entry_type=EntryType.FORFEIT,
        points=-points,
        source="erasure",
        idempotency_key=f"erasure:{account.member.subject_id}",
        effective_at=now,
    )
    plan.apply(entry)
    save_account(account)
    return points


def _erase_registered(member: Member) -> dict[str, int]:
    """Delete the member's residency rows in every database and clear registered fields elsewhere."""
    deleted: dict[str, int] = {}
    for section in personal_sections():
        model = section.model_class
        if section.in_residency_database:
            count = 0
            for db in residency_databases():
                with transaction.atomic(using=db):
                    count += model.objects.using(db).filter(subject_id=member.subject_id).delete()[0]
            deleted[section.name] = count
        elif section.member != "pk":
            model.objects.filter(**{section.member: member}).update(**dict.fromkeys(section.personal))
    return deleted


def _erasure_note(result: Erasure) -> str:
    return _(
        "%(points)s points forfeited; %(rows)s personal records deleted; %(sessions)s sessions ended."
    ) % {
        "points": result.points_forfeited,
        "rows": sum(result.rows_deleted.values()),
        "sessions": result.sessions_ended,
    }


# Retention ----------------------------------------------------------------------------------------


def apply_retention(*, now: datetime | None = None, progress=None) -> list[RetentionRun]:
    """Apply every active retention policy once; running it again removes nothing more.

    Each policy's run is logged as a ``RetentionRun`` and passed to ``progress`` when given.
    """
    now = now or timezone.now()
    runs = []
    for policy in RetentionPolicy.objects.filter(is_active=True).order_by("category"):
        cutoff = add_months(now, -policy.months)
        affected, skipped = RETENTION_STEPS[policy.category](cutoff, now)
        run = RetentionRun.objects.create(
            category=policy.category, cutoff=cutoff, affected=affected, skipped=skipped
        )
        logger.info(
            "Retention %s: %s handled, %s held back (older than %s)",
            policy.category,
            affected,
            skipped,
            cutoff,
        )
        runs.append(run)
        if progress is not None:
            progress(run)
    return runs


def _erase_inactive_members(cutoff: datetime, now: datetime) -> tuple[int, int]:
    recent_entries = LedgerEntry.objects.filter(account__member=OuterRef("pk"), created_at__gte=cutoff)
    inactive = Member.objects.filter(erased_at__isnull=True, enrolled_at__lt=cutoff).exclude(
        Exists(recent_entries)
    )
    erased = held = 0
    for member in inactive.select_related("market").iterator(chunk_size=200):
        try:
            erase_member(member, at=now)
        except ErasureHeld:
            held += 1
        else:
            erased += 1
    return erased, held


def _purge_consent_evidence(cutoff: datetime, now: datetime) -> tuple[int, int]:
    purged = 0
    for db in residency_databases():
        with transaction.atomic(using=db):
            purged += ConsentEvidence.objects.using(db).filter(recorded_at__lt=cutoff).delete()[0]
    return purged, 0


def _purge_closed_request_messages(cutoff: datetime, now: datetime) -> tuple[int, int]:
    closed = list(DataSubjectRequest.objects.filter(closed_at__lt=cutoff).values_list("reference", flat=True))
    purged = 0
    for db in residency_databases():
        for start in range(0, len(closed), 500):
            with transaction.atomic(using=db):
                purged += (
                    RequestMessage.objects.using(db)
                    .filter(request_reference__in=closed[start : start + 500])
                    .delete()[0]
                )
    return purged, 0


def _purge_expired_exports(cutoff: datetime, now: datetime) -> tuple[int, int]:
    purged = 0
    for db in residency_databases():
        with transaction.atomic(using=db):
            purged += DataExport.objects.using(db).filter(expires_at__lt=cutoff).delete()[0]
    return purged, 0


RETENTION_STEPS = {
    RetentionCategory.INACTIVE_MEMBERS: _erase_inactive_members,
    RetentionCategory.CONSENT_EVIDENCE: _purge_consent_evidence,
    RetentionCategory.CLOSED_REQUESTS: _purge_closed_request_messages,
    RetentionCategory.DATA_EXPORTS: _purge_expired_exports,
}


# Transfers ----------------------------------------------------------------------------------------


def record_transfer(member: Member, recipient: Recipient, *, purpose_code: str, at: datetime | None = None):
    """Check and record that the member's data goes to ``recipient`` for ``purpose_code``.

    Refused without the purpose's consent; abroad, also without a transfer mechanism for each
    regime, and for a PIPL member without a separate consent to a transfer-abroad purpose that
    names this recipient. Warns when the yearly head count passes a PIPL threshold.
    """
    at = at or timezone.now()
    member = Member.objects.select_related("market").get(pk=member.pk)
    if not has_consent(member, purpose_code):
        raise TransferRefused(_("The member has not consented to this purpose."))
    regimes = member.market.regimes
    abroad = recipient.country.code not in {country.code for country in member.market.countries}
    if abroad:
        covered = set(Transfer.objects.filter(recipient=recipient).values_list("regime", flat=True))
        uncovered = [regime for regime in regimes if regime != Regime.CCPA and regime not in covered]
        if uncovered:
            raise TransferRefused(_("No transfer mechanism is recorded for this recipient."))
        if Regime.PIPL in regimes and not _pipl_transfer_consent(member, recipient):
            raise TransferRefused(_("Under PIPL, a transfer abroad needs the member's separate consent."))
    record, created = TransferRecord.objects.get_or_create(
        recipient=recipient,
        member=member,
        year=at.year,
        defaults={"first_at": at, "sensitive": recipient.processes_sensitive_data},
    )
    if created:
        _warn_at_thresholds(recipient, at.year)
    return record


def _pipl_transfer_consent(member: Member, recipient: Recipient) -> bool:
    purposes = recipient.purposes.filter(category=PurposeCategory.CROSS_BORDER, is_active=True)
    return any(has_consent(member, code) for code in purposes.values_list("code", flat=True))


def _warn_at_thresholds(recipient: Recipient, year: int) -> None:
    records = TransferRecord.objects.filter(recipient=recipient, year=year)
    people = records.count()
    sensitive = records.filter(sensitive=True).count()
    if (
        people in {threshold + 1 for threshold in PIPL_THRESHOLDS}
        or sensitive == PIPL_SENSITIVE_THRESHOLD + 1
    ):
        logger.warning(
            "Transfers to %s in %s passed a PIPL threshold: %s people (%s with sensitive data).",
            recipient.name,
            year,
            people,
            sensitive,
        )
