"""Consents, privacy requests and data exports in the member API (v1)."""

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loyalty.models import (
    ConsentEvent,
    ConsentEvidence,
    DataExport,
    DataSubjectRequest,
    NoticeVersion,
    RequestStatus,
)
from loyalty.personal_data import exported_sections
from loyalty.services import has_consent, open_request, publish_notice
from loyalty.services.consent import save_profile

CONSENTS = "/api/loyalty/v1/me/consents/"
REQUESTS = "/api/loyalty/v1/me/privacy-requests/"

pytestmark = pytest.mark.django_db


def years_ago(years: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - timedelta(days=30)


def decide(api, purpose: str, decision: str, notice_version: int | None = 1, **headers):
    body = {"purpose": purpose, "decision": decision, "notice_version": notice_version}
    return api.post(CONSENTS, body, format="json", **headers)


def items_by_code(response) -> dict[str, dict]:
    assert response.status_code == 200, response.content
    return {item["code"]: item for item in response.json()}


def export_url(export: DataExport, file_format: str = "json") -> str:
    return f"/api/loyalty/v1/me/exports/{export.token}/?format={file_format}"


def export_of(request: DataSubjectRequest) -> DataExport:
    return DataExport.objects.get(request_reference=request.reference)


@pytest.fixture
def germany(make_market):
    return make_market("DE", "EUR", regimes=["gdpr"], countries=["DE"], residency_region="eu")


@pytest.fixture
def shopper(make_member, germany):
    return make_member(market=germany)


@pytest.fixture
def api(client_for, shopper):
    return client_for(shopper)


@pytest.fixture
def marketing(make_purpose):
    return make_purpose("marketing_email", name="Newsletter", description="News and offers by e-mail.")


@pytest.fixture
def membership(make_purpose):
    return make_purpose(
        "membership", category="membership", required=True, bases={"gdpr": ("contract", "none")}
    )


# The list of purposes ---------------------------------------------------------------------------------


def test_the_list_shows_each_active_purpose_with_its_notice_and_the_members_state(
    api, marketing, membership, make_purpose
):
    make_purpose("dormant", active=False)
    items = items_by_code(api.get(CONSENTS))
    assert list(items) == ["marketing_email", "membership"]
    item = items["marketing_email"]
    assert (item["name"], item["description"]) == ("Newsletter", "News and offers by e-mail.")
    assert (item["category"], item["category_display"]) == ("marketing_email", "marketing e-mail")
    assert (item["required"], item["needs_consent"], item["separate"]) == (False, True, False)
    assert item["notice"]["version"] == 1
    assert (item["notice"]["title"], item["notice"]["text"]) == (
        "About Newsletter",
        "What we do for Newsletter.",
    )
    assert item["notice"]["language"] == "en"
    assert len(item["notice"]["sha256"]) == 64
    assert (item["status"], item["decided_at"], item["guardian_needed"]) == ("not_asked", None, False)
    assert (items["membership"]["required"], items["membership"]["needs_consent"]) == (True, False)


def test_the_list_follows_the_sort_order_of_the_purposes(api, make_purpose):
    make_purpose("marketing_sms", sort_order=2)
    make_purpose("marketing_email", sort_order=1)
    assert list(items_by_code(api.get(CONSENTS))) == ["marketing_email", "marketing_sms"]


def test_notices_are_in_the_requested_language(api, marketing):
    item = items_by_code(api.get(CONSENTS, HTTP_ACCEPT_LANGUAGE="de"))["marketing_email"]
    assert (item["notice"]["title"], item["notice"]["text"]) == (
        "Über Newsletter",
        "Was wir für Newsletter tun.",
    )
    assert item["notice"]["language"] == "de"


def test_a_notice_not_translated_into_the_requested_language_falls_back_to_the_markets(api, marketing):
    item = items_by_code(api.get(CONSENTS, HTTP_ACCEPT_LANGUAGE="ja"))["marketing_email"]
    assert (item["notice"]["title"], item["notice"]["language"]) == ("About Newsletter", "en")


def test_a_separate_consent_is_flagged_under_pipl(client_for, make_member, make_market, make_purpose):
    china = make_market("CN", "CNY", regimes=["pipl"], countries=["CN"], residency_region="cn")
    make_purpose("partner_sharing")
    make_purpose("marketing_email")
    items = items_by_code(client_for(make_member(market=china)).get(CONSENTS))
    assert (items["partner_sharing"]["separate"], items["marketing_email"]["separate"]) == (True, False)


# Deciding ----------------------------------------------------------------------------------------------


def test_grant_withdraw_and_regrant_leave_three_events_and_the_check_follows(api, shopper, marketing):
    assert decide(api, "marketing_email", "grant").json()["status"] == "granted"
    assert has_consent(shopper, "marketing_email")
    assert decide(api, "marketing_email", "withdraw").json()["status"] == "withdrawn"
    assert not has_consent(shopper, "marketing_email")
    assert decide(api, "marketing_email", "grant").json()["status"] == "granted"
    assert has_consent(shopper, "marketing_email")
    events = ConsentEvent.objects.filter(member=shopper).order_by("id")
    assert list(events.values_list("action", flat=True)) == ["granted", "withdrawn", "granted"]


def test_a_decision_answers_the_updated_item(api, marketing):
    response = decide(api, "marketing_email", "refuse", notice_version=None)
    assert response.status_code == 200
    item = response.json()
    assert (item["code"], item["status"], item["status_display"]) == ("marketing_email", "refused", "refused")
    assert item["decided_at"] is not None


def test_an_api_decision_is_a_separate_consent_with_its_evidence(api, shopper, marketing):
    decide(
        api,
        "marketing_email",
        "grant",
        HTTP_X_REQUEST_ID="req-42",
        HTTP_USER_AGENT="ShopApp/3.1",
        HTTP_ACCEPT_LANGUAGE="de",
        REMOTE_ADDR="203.0.113.9",
    )
    event = ConsentEvent.objects.get(member=shopper)
    assert (event.method, event.is_separate, event.request_id, event.actor) == (
        "api",
        True,
        "req-42",
        "member",
    )
    assert (event.notice_version.version, event.language) == (1, "de")
    evidence = ConsentEvidence.objects.get(event_id=event.uuid)
    assert (evidence.ip_address, evidence.user_agent) == ("203.0.113.9", "ShopApp/3.1")


def test_a_decision_without_a_request_id_gets_one(api, shopper, marketing):
    decide(api, "marketing_email", "grant")
    assert len(ConsentEvent.objects.get(member=shopper).request_id) == 32


def test_a_grant_against_an_outdated_notice_is_refused(api, shopper, marketing):
    publish_notice(NoticeVersion.objects.create(purpose=marketing, version=2, title="New", body="New text."))
    response = decide(api, "marketing_email", "grant", notice_version=1)
    assert response.status_code == 409
    assert response.json()["code"] == "notice_outdated"
    assert not ConsentEvent.objects.filter(member=shopper).exists()
    assert decide(api, "marketing_email", "grant", notice_version=2).status_code == 200


def test_an_unknown_purpose_is_not_found(api, make_purpose):
    make_purpose("dormant", active=False)
    for code in ("no_such_purpose", "dormant"):
        response = decide(api, code, "grant")
        assert response.status_code == 404
        assert response.json()["code"] == "unknown_purpose"


def test_a_required_purpose_cannot_be_withdrawn_or_refused(api, shopper, membership):
    for decision in ("withdraw", "refuse"):
        response = decide(api, "membership", decision)
        assert response.status_code == 409
        assert response.json()["code"] == "purpose_required"
    assert not ConsentEvent.objects.filter(member=shopper).exists()


def test_a_minor_needs_a_guardian_to_grant(api, shopper, marketing):
    save_profile(shopper, birth_date=years_ago(14))
    assert items_by_code(api.get(CONSENTS))["marketing_email"]["guardian_needed"] is True
    response = decide(api, "marketing_email", "grant")
    assert response.status_code == 403
    assert response.json()["code"] == "guardian_consent_required"
    assert not has_consent(shopper, "marketing_email")


def test_a_minor_may_still_refuse(api, shopper, marketing):
    save_profile(shopper, birth_date=years_ago(14))
    assert decide(api, "marketing_email", "refuse").json()["status"] == "refused"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"decision": "grant", "notice_version": 1}, "invalid_purpose"),
        ({"purpose": ["marketing_email"], "decision": "grant", "notice_version": 1}, "invalid_purpose"),
        ({"purpose": "marketing_email", "decision": "maybe", "notice_version": 1}, "invalid_decision"),
        ({"purpose": "marketing_email", "decision": ["grant"], "notice_version": 1}, "invalid_decision"),
        ({"purpose": "marketing_email", "decision": "grant"}, "invalid_notice_version"),
        (
            {"purpose": "marketing_email", "decision": "grant", "notice_version": "one"},
            "invalid_notice_version",
        ),
    ],
)
def test_a_malformed_decision_is_refused_with_a_code(api, shopper, marketing, body, code):
    response = api.post(CONSENTS, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not ConsentEvent.objects.filter(member=shopper).exists()


def test_consents_need_a_signed_in_member(client, marketing):
    assert client.get(CONSENTS).status_code in (401, 403)


# Privacy requests --------------------------------------------------------------------------------------


def test_my_requests_list_only_mine(api, shopper, make_member, germany):
    mine = open_request(shopper, "rectification", channel="member_center")
    open_request(make_member(market=germany), "rectification", channel="member_center")
    response = api.get(REQUESTS)
    assert response.status_code == 200
    (row,) = response.json()
    assert (row["reference"], row["kind"], row["status"]) == (mine.reference, "rectification", "received")
    assert row["kind_display"] == "correction of my data"
    assert row["due_at"] and row["received_at"]
    assert (row["extension_reason"], row["rejection_ground"], row["download"]) == ("", "", None)


def test_a_request_is_received_with_its_due_date(api, shopper):
    response = api.post(REQUESTS, {"kind": "objection", "message": "No profiling, please."}, format="json")
    assert response.status_code == 201
    request = DataSubjectRequest.objects.get(member=shopper)
    assert (request.kind, request.channel, request.status) == ("objection", "api", "received")
    assert response.json()["reference"] == request.reference


def test_an_open_request_of_the_same_kind_is_answered_again_not_doubled(api, shopper):
    first = api.post(REQUESTS, {"kind": "restriction"}, format="json")
    again = api.post(REQUESTS, {"kind": "restriction"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["reference"] == first.json()["reference"]
    assert DataSubjectRequest.objects.filter(member=shopper).count() == 1


def test_erasure_without_confirmation_is_refused(api, shopper):
    for body in (
        {"kind": "erasure"},
        {"kind": "erasure", "confirm": False},
        {"kind": "erasure", "confirm": "yes"},
    ):
        response = api.post(REQUESTS, body, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "confirmation_required"
    assert not DataSubjectRequest.objects.exists()


def test_confirmed_erasure_is_received_for_staff_to_carry_out(api, shopper):
    response = api.post(REQUESTS, {"kind": "erasure", "confirm": True}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "received"
    shopper.refresh_from_db()
    assert shopper.erased_at is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "everything"}, "invalid_request_kind"),
        ({}, "invalid_request_kind"),
        ({"kind": "access", "message": 42}, "invalid_message"),
        ({"kind": "access", "message": "x" * 5001}, "invalid_message"),
    ],
)
def test_a_malformed_request_is_refused_with_a_code(api, body, code):
    response = api.post(REQUESTS, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not DataSubjectRequest.objects.exists()


def test_an_access_request_is_answered_at_once_with_download_links(api, shopper):
    response = api.post(REQUESTS, {"kind": "access"}, format="json")
    assert response.status_code == 201
    row = response.json()
    assert row["status"] == RequestStatus.FULFILLED
    export = export_of(DataSubjectRequest.objects.get(member=shopper))
    assert row["download"]["json"] == f"http://testserver{export_url(export, 'json')}"
    assert row["download"]["csv"] == f"http://testserver{export_url(export, 'csv')}"
    assert row["download"]["expires_at"]


# Exports -----------------------------------------------------------------------------------------------


@pytest.fixture
def export(shopper) -> DataExport:
    return export_of(open_request(shopper, "access", channel="api"))


def test_the_export_downloads_as_a_json_file(api, shopper, export):
    response = api.get(export_url(export, "json"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert (
        response["Content-Disposition"] == f'attachment; filename="my-data-{export.request_reference}.json"'
    )
    payload = json.loads(response.content)
    assert payload["member_number"] == shopper.number
    assert set(payload["sections"]) == {section.name for section in exported_sections()}


def test_the_export_downloads_as_a_zip_of_csv_files(api, export):
    response = api.get(export_url(export, "csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="my-data-{export.request_reference}.zip"'
    names = set(zipfile.ZipFile(io.BytesIO(response.content)).namelist())
    assert names == {f"{section.name}.csv" for section in exported_sections()} | {"account.csv"}


def test_a_download_is_recorded_and_not_cached(api, export):
    response = api.get(export_url(export))
    assert response["Cache-Control"] == "no-store"
    export.refresh_from_db()
    assert export.downloaded_at is not None


def test_another_members_export_is_not_found(api, make_member, germany):
    theirs = export_of(open_request(make_member(market=germany), "portability", channel="api"))
    response = api.get(export_url(theirs))
    assert response.status_code == 404
    assert response.json()["code"] == "export_not_found"
    theirs.refresh_from_db()
    assert theirs.downloaded_at is None


def test_an_expired_export_is_gone(api, export):
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.get(export_url(export, "csv"))
    assert response.status_code == 410
    assert response.json()["code"] == "export_expired"


def test_an_expired_export_has_no_download_link(api, export):
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    (row,) = api.get(REQUESTS).json()
    assert row["download"] is None


def test_an_unknown_export_format_is_refused(api, export):
    response = api.get(export_url(export, "xml"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_export_format"


# Cost --------------------------------------------------------------------------------------------------


def queries_for(api, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url).status_code == 200
    return len(queries)


def test_listing_consents_costs_the_same_queries_for_few_or_many_purposes(api, shopper, make_purpose):
    save_profile(shopper, birth_date=years_ago(30))
    codes = [
        "marketing_email",
        "marketing_sms",
        "personalised_offers",
        "birthday_rewards",
        "partner_sharing",
        "other",
    ]
    for code in codes[:2]:
        make_purpose(code)
    few = queries_for(api, CONSENTS)
    for code in codes[2:]:
        make_purpose(code)
    decide(api, "marketing_sms", "grant")
    assert queries_for(api, CONSENTS) == few


def test_listing_requests_costs_the_same_queries_for_few_or_many(api, shopper):
    open_request(shopper, "access", channel="api")
    few = queries_for(api, REQUESTS)
    for kind in ("portability", "rectification", "objection", "restriction"):
        open_request(shopper, kind, channel="api")
    assert queries_for(api, REQUESTS) == few
