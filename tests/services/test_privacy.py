"""Data-subject requests, exports, erasure that keeps the books, retention and data residency."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from loyalty.exceptions import ErasureHeld, InvalidExtension, RejectionGroundRequired, RequestNotOpen
from loyalty.models import (
    ConsentEvidence,
    DataExport,
    DataSubjectRequest,
    LedgerEntry,
    Member,
    MemberProfile,
    RequestMessage,
    RequestStatusEvent,
    RetentionPolicy,
    RetentionRun,
)
from loyalty.personal_data import exported_sections, personal_sections
from loyalty.routers import residency_databases
from loyalty.selectors.privacy import export_csv_zip, member_export
from loyalty.services import (
    apply_retention,
    enroll_member,
    erase_member,
    extend_request,
    has_consent,
    hold_request,
    open_request,
    record_consent,
    reject_request,
)
from loyalty.services.orders import record_order
from loyalty.services.privacy import due_date
from tests.helpers import eur

RECEIVED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday


@pytest.fixture
def germany(make_market):
    return make_market("DE", "EUR", regimes=["gdpr"], countries=["DE"], residency_region="eu")


@pytest.fixture
def china(make_market):
    return make_market("CN", "EUR", regimes=["pipl"], countries=["CN"], residency_region="cn")


def rows_of(member) -> dict[str, int]:
    """How many rows of each personal section name the member, across every database."""
    counts = {}
    for section in personal_sections():
        model = section.model_class
        if section.in_residency_database:
            counts[section.name] = sum(
                model.objects.using(db).filter(subject_id=member.subject_id).count()
                for db in residency_databases()
            )
    return counts


# Deadlines -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regimes", "due"),
    [
        (["gdpr"], datetime(2026, 12, 20, 9, 0, tzinfo=UTC)),
        (["lgpd"], datetime(2026, 12, 5, 9, 0, tzinfo=UTC)),
        (["pipl"], datetime(2026, 12, 11, 9, 0, tzinfo=UTC)),  # 15 working days
        (["ccpa"], datetime(2027, 1, 4, 9, 0, tzinfo=UTC)),
        (["gdpr", "lgpd"], datetime(2026, 12, 5, 9, 0, tzinfo=UTC)),
        (["gdpr", "ccpa"], datetime(2026, 12, 20, 9, 0, tzinfo=UTC)),
        ([], datetime(2026, 12, 20, 9, 0, tzinfo=UTC)),
    ],
)
def test_a_request_is_due_by_the_strictest_regime(regimes, due):
    assert due_date(regimes, RECEIVED) == due


def test_a_month_from_the_31st_ends_on_the_last_day_of_a_shorter_month():
    assert due_date(["gdpr"], datetime(2027, 1, 31, tzinfo=UTC)) == datetime(2027, 2, 28, tzinfo=UTC)


def test_the_pipl_target_is_configurable(settings):
    deadlines = {**settings.LOYALTY.get("PRIVACY_REQUEST_DEADLINES", {}), "pipl": {"working_days": 10}}
    from loyalty.conf import DEFAULTS

    settings.LOYALTY = {
        **settings.LOYALTY,
        "PRIVACY_REQUEST_DEADLINES": {**DEFAULTS["PRIVACY_REQUEST_DEADLINES"], **deadlines},
    }
    assert due_date(["pipl"], RECEIVED) == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_an_opened_request_carries_the_members_regimes_and_due_date(make_member, make_market):
    member = make_member(market=make_market("BR", "BRL", regimes=["lgpd", "gdpr"]))
    request = open_request(member, "erasure", channel="member_center", at=RECEIVED)
    assert request.regimes == ["lgpd", "gdpr"]
    assert request.due_at == request.original_due_at == datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    assert request.reference.startswith("PR-")


def test_an_open_request_of_the_same_kind_is_not_opened_twice(make_member, germany):
    member = make_member(market=germany)
    first = open_request(member, "erasure", channel="api")
    assert open_request(member, "erasure", channel="api") == first
    assert DataSubjectRequest.objects.filter(member=member).count() == 1


def test_an_overdue_open_request_says_so(make_member, germany):
    request = open_request(make_member(market=germany), "rectification", channel="api", at=RECEIVED)
    assert request.is_overdue(RECEIVED + timedelta(days=31))
    assert not request.is_overdue(RECEIVED + timedelta(days=29))


# History, extensions, rejection -------------------------------------------------------------------


def test_every_step_of_a_request_is_kept_in_its_history(make_member, germany, staff):
    request = open_request(make_member(market=germany), "rectification", channel="api", at=RECEIVED)
    request = hold_request(request, reason="Waiting for the shop's records", actor=staff)
    request = extend_request(
        request, until=request.due_at + timedelta(days=30), reason="Complex request", actor=staff
    )
    reject_request(request, ground="unfounded", actor=staff)
    steps = list(RequestStatusEvent.objects.filter(request=request).values_list("from_status", "to_status"))
    assert steps == [
        ("", "received"),
        ("received", "on_hold"),
        ("on_hold", "on_hold"),
        ("on_hold", "rejected"),
    ]
    with pytest.raises(Exception, match="append-only"):
        RequestStatusEvent.objects.filter(request=request).delete()


def test_an_extension_needs_a_reason_and_stays_within_two_more_months(make_member, germany, staff):
    request = open_request(make_member(market=germany), "rectification", channel="api", at=RECEIVED)
    with pytest.raises(InvalidExtension):
        extend_request(request, until=request.due_at + timedelta(days=10), reason=" ", actor=staff)
    with pytest.raises(InvalidExtension):
        extend_request(request, until=request.due_at + timedelta(days=70), reason="Busy", actor=staff)
    extended = extend_request(request, until=request.due_at + timedelta(days=55), reason="Busy", actor=staff)
    assert (extended.due_at, extended.original_due_at) == (
        request.due_at + timedelta(days=55),
        request.due_at,
    )


def test_a_request_is_rejected_only_on_a_legal_ground(make_member, germany, staff):
    request = open_request(make_member(market=germany), "erasure", channel="api")
    with pytest.raises(RejectionGroundRequired):
        reject_request(request, ground="", actor=staff)
    rejected = reject_request(request, ground="legal_obligation", actor=staff, note="Tax records")
    assert (rejected.status, rejected.rejection_ground) == ("rejected", "legal_obligation")
    with pytest.raises(RequestNotOpen):
        hold_request(rejected, reason="late", actor=staff)


def test_a_restriction_stops_optional_processing(make_member, germany, make_purpose, staff):
    from loyalty.services import fulfil_request

    make_purpose("marketing_email")
    member = make_member(market=germany)
    record_consent(member, "marketing_email", "granted", method="web", notice_version=1)
    fulfil_request(open_request(member, "restriction", channel="api"), actor=staff)
    assert not has_consent(Member.objects.get(pk=member.pk), "marketing_email")


# Export --------------------------------------------------------------------------------------------


@pytest.fixture
def two_mullers(make_user, germany, make_purpose, make_reward, fund):
    """Two members with the same surname and the same order number (in two shops)."""
    make_purpose("marketing_email")
    members = []
    for index, source in enumerate(("web", "pos")):
        user = make_user(first_name=f"Anna{index}", last_name="Müller", email=f"anna{index}@example.com")
        member = enroll_member(user, market=germany, birth_date=date(1990, 1, 1 + index), country="DE")
        record_order(member, order_id="1001", amount=eur("80.00"), source=source)
        record_consent(
            member,
            "marketing_email",
            "granted",
            method="web",
            notice_version=1,
            ip_address=f"10.0.0.{index + 1}",
        )
        open_request(member, "rectification", channel="api", message=f"My name is Anna{index} Müller")
        members.append(member)
    return members


def test_an_export_holds_every_registered_field_of_the_member(two_mullers):
    anna = two_mullers[0]
    export = member_export(anna)
    for section in exported_sections():
        assert section.name in export["sections"]
        for row in export["sections"][section.name]:
            assert set(row) == set(section.fields)
    sections = export["sections"]
    assert sections["profile"] == [{"birth_date": "1990-01-01", "country": "DE", "region": "eu"}]
    assert [row["external_id"] for row in sections["orders"]] == ["1001"]
    assert [row["ip_address"] for row in sections["consent_evidence"]] == ["10.0.0.1"]
    assert [row["text"] for row in sections["request_messages"]] == ["My name is Anna0 Müller"]
    assert export["account"]["email"] == "anna0@example.com"


def test_an_export_holds_nothing_of_another_member(two_mullers):
    anna, other = two_mullers
    export = member_export(anna)
    text = json.dumps(export, ensure_ascii=False)
    for value in (
        other.number,
        str(other.subject_id),
        "anna1@example.com",
        "Anna1",
        "1990-01-02",
        "10.0.0.2",
        '"source": "pos"',
    ):
        assert value not in text
    own_entries = set(LedgerEntry.objects.filter(account__member=anna).values_list("pk", flat=True))
    assert {row["id"] for row in export["sections"]["ledger"]} == own_entries


def test_an_access_request_is_answered_with_an_expiring_export(make_member, germany):
    member = make_member(market=germany)
    request = open_request(member, "access", channel="member_center")
    export = DataExport.objects.get(request_reference=request.reference)
    assert request.status == "fulfilled"
    assert export.payload["member_number"] == member.number
    assert export.expires_at == export.created_at + timedelta(days=7)


def test_the_csv_export_has_one_file_per_section_and_no_formulas(make_member, germany, staff):
    import io
    import zipfile

    from loyalty.services import adjust_points

    member = make_member(market=germany)
    adjust_points(member, points=5, reason="=HYPERLINK(evil)", actor=staff)
    archive = zipfile.ZipFile(io.BytesIO(export_csv_zip(member_export(member))))
    names = set(archive.namelist())
    assert {f"{section.name}.csv" for section in exported_sections()} | {"account.csv"} == names
    assert "'=HYPERLINK(evil)" in archive.read("ledger.csv").decode()


# Erasure -------------------------------------------------------------------------------------------


def ledger_snapshot():
    return list(LedgerEntry.objects.order_by("id").values_list("id", "points", "balance_after"))


def test_erasure_leaves_no_personal_value_and_keeps_the_books(two_mullers, staff, fund):
    from loyalty.services import confirm_order

    anna = two_mullers[0]
    confirm_order(order_id="1001", source="web")
    fund(anna, 120)
    before = ledger_snapshot()
    program_sum = LedgerEntry.objects.aggregate(total=Sum("points"))["total"]
    balance = Member.objects.get(pk=anna.pk).account.available
    user = anna.user
    request = open_request(anna, "erasure", channel="member_center")

    result = erase_member(anna, request=request, actor=staff)

    assert rows_of(anna) == dict.fromkeys(rows_of(anna), 0)
    erased = Member.objects.get(pk=anna.pk)
    assert (erased.user, erased.referral_code, erased.status) == (None, None, "closed")
    assert erased.erased_at is not None
    assert ledger_snapshot()[: len(before)] == before
    forfeit = LedgerEntry.objects.get(account__member=anna, entry_type="forfeit")
    assert result.points_forfeited == balance == -forfeit.points
    assert LedgerEntry.objects.aggregate(total=Sum("points"))["total"] == program_sum - balance
    assert erased.account.available == 0
    call_command("loyalty_audit")
    assert DataSubjectRequest.objects.get(pk=request.pk).status == "fulfilled"
    assert get_user_model().objects.filter(pk=user.pk).exists()  # the host's user is the adapter's to erase
    other = two_mullers[1]
    assert rows_of(other)["profile"] == 1


def test_erasure_ends_the_persons_sessions(make_user, germany):
    user = make_user()
    member = enroll_member(user, market=germany)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session.create()
    erase_member(member)
    assert not Session.objects.filter(session_key=session.session_key).exists()


def test_an_order_inside_its_return_window_holds_the_erasure(make_member, germany, staff):
    member = make_member(market=germany)
    record_order(member, order_id="A1", amount=eur("30.00"))
    request = open_request(member, "erasure", channel="api")
    with pytest.raises(ErasureHeld, match="return window"):
        erase_member(member, request=request, actor=staff)
    assert Member.objects.get(pk=member.pk).erased_at is None
    held = DataSubjectRequest.objects.get(pk=request.pk)
    assert held.status == "on_hold" and "return window" in held.hold_reason


def test_a_legal_hold_holds_the_erasure(make_member, germany):
    member = make_member(market=germany)
    Member.objects.filter(pk=member.pk).update(legal_hold="Chargeback dispute 42")
    with pytest.raises(ErasureHeld, match="Chargeback dispute 42"):
        erase_member(Member.objects.get(pk=member.pk))


def test_an_erased_address_is_not_marketed_to_again_when_re_imported(make_user, germany, make_purpose):
    make_purpose("marketing_email")
    first = enroll_member(make_user(email="Sam@Example.com"), market=germany)
    erase_member(first)
    again = enroll_member(make_user(email="sam@example.com "), market=germany)
    record_consent(again, "marketing_email", "granted", method="import", notice_version=1)
    assert not has_consent(again, "marketing_email")
    record_consent(again, "marketing_email", "withdrawn", method="web")
    record_consent(again, "marketing_email", "granted", method="web", notice_version=1)
    assert has_consent(again, "marketing_email")


# Residency -----------------------------------------------------------------------------------------


def test_a_cn_members_personal_data_is_written_only_to_the_cn_database(make_user, china, make_purpose):
    make_purpose("marketing_email")
    member = enroll_member(make_user(), market=china, birth_date=date(1991, 3, 3), country="CN")
    record_consent(
        member, "marketing_email", "granted", method="web", notice_version=1, ip_address="10.1.1.1"
    )
    open_request(member, "rectification", channel="api", message="Wrong birth date")
    open_request(member, "access", channel="api")
    for model in (MemberProfile, ConsentEvidence, RequestMessage, DataExport):
        assert model.objects.using("cn").filter(subject_id=member.subject_id).count() == 1, model
        assert not model.objects.using("default").filter(subject_id=member.subject_id).exists(), model
    assert not MemberProfile.objects.using("default").filter(birth_date=date(1991, 3, 3)).exists()


def test_erasure_removes_a_cn_members_data_from_the_cn_database(make_user, china):
    member = enroll_member(make_user(), market=china, birth_date=date(1991, 3, 3))
    erase_member(member)
    assert not MemberProfile.objects.using("cn").filter(subject_id=member.subject_id).exists()


def test_a_residency_database_holds_only_personal_data_tables(db):
    from django.db import connections

    tables = set(connections["cn"].introspection.table_names())
    assert {
        "loyalty_memberprofile",
        "loyalty_consentevidence",
        "loyalty_requestmessage",
        "loyalty_dataexport",
    } <= (tables)
    assert not tables & {"loyalty_member", "loyalty_ledgerentry", "auth_user", "loyalty_consentevent"}


# Retention -----------------------------------------------------------------------------------------


def test_retention_erases_inactive_members_once_and_logs_each_run(make_member, germany, staff, fund):
    RetentionPolicy.objects.exclude(category="inactive_members").update(is_active=False)
    asleep, awake = make_member(market=germany), make_member(market=germany)
    long_ago = timezone.now() - timedelta(days=4 * 365)
    Member.objects.filter(pk__in=[asleep.pk, awake.pk]).update(enrolled_at=long_ago)
    fund(awake, 10)
    first = apply_retention()
    assert [(run.category, run.affected) for run in first] == [("inactive_members", 1)]
    assert Member.objects.get(pk=asleep.pk).erased_at is not None
    assert Member.objects.get(pk=awake.pk).erased_at is None
    second = apply_retention()
    assert [run.affected for run in second] == [0]
    assert RetentionRun.objects.count() == 2


def test_retention_purges_old_consent_evidence_but_keeps_the_events(make_member, germany, make_purpose):
    RetentionPolicy.objects.exclude(category="consent_evidence").update(is_active=False)
    make_purpose("marketing_email")
    member = make_member(market=germany)
    record_consent(
        member, "marketing_email", "granted", method="web", notice_version=1, ip_address="10.9.9.9"
    )
    ConsentEvidence.objects.update(recorded_at=timezone.now() - timedelta(days=400))
    apply_retention()
    assert not ConsentEvidence.objects.exists()
    assert member.consent_events.count() == 1
    assert has_consent(member, "marketing_email")


def test_the_retention_command_reports_each_policy(db, capsys):
    call_command("loyalty_apply_retention")
    out = capsys.readouterr().out
    assert "Applied 4 policies." in out
    assert "IP address and device of consent decisions: 0 handled" in out
