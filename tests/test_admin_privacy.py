"""The privacy console: purposes and notices, the consent record, recipients, the request queue and the
record of processing."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from loyalty.models import (
    ConsentEvent,
    ConsentState,
    DataExport,
    DataSubjectRequest,
    Member,
    NoticeVersion,
    ProcessingPurpose,
    PurposeBasis,
    Recipient,
    RequestStatusEvent,
    Transfer,
    TransferRecord,
)
from loyalty.routers import residency_database
from loyalty.services import open_request, record_consent, record_order
from loyalty.services.consent import save_profile
from tests.helpers import allow, eur

PURPOSES = reverse("admin:loyalty_processingpurpose_changelist")
ADD_PURPOSE = reverse("admin:loyalty_processingpurpose_add")
RECORD = reverse("admin:loyalty_processingpurpose_record")
NOTICES = reverse("admin:loyalty_noticeversion_changelist")
REQUESTS = reverse("admin:loyalty_datasubjectrequest_changelist")
MEMBERS = reverse("admin:loyalty_member_changelist")
CONSENT_EVENTS = reverse("admin:loyalty_consentevent_changelist")
ADD_RECIPIENT = reverse("admin:loyalty_recipient_add")
RECIPIENTS = reverse("admin:loyalty_recipient_changelist")


@pytest.fixture
def germany(make_market):
    return make_market("DE", "EUR", regimes=["gdpr"], countries=["DE"], residency_region="eu")


@pytest.fixture
def china(make_market):
    return make_market("CN", "EUR", regimes=["pipl"], countries=["CN"], residency_region="cn")


@pytest.fixture
def officer(make_user):
    """A privacy officer who may look at the queue; each test adds the permissions it is about."""
    user = make_user(username="officer", is_staff=True)
    allow(user, "view_datasubjectrequest", "view_member")
    return user


@pytest.fixture
def console(officer):
    client = Client()
    client.force_login(officer)
    return client


def run_action(client, url, action, rows, **form):
    """Post an action as its confirmation page does (``apply``), following the redirect."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [row.pk for row in rows], "apply": "1", **form}
    return client.post(url, data, follow=True)


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def received(member, kind: str, *, days_ago: int = 0, message: str = "") -> DataSubjectRequest:
    return open_request(
        member, kind, channel="member_center", message=message, at=timezone.now() - timedelta(days=days_ago)
    )


def open_access_request(member) -> DataSubjectRequest:
    """An access request still waiting for its export (opening one through the service answers it at once)."""
    now = timezone.now()
    return DataSubjectRequest.objects.create(
        reference="PR-ACCESS01",
        member=member,
        kind="access",
        regimes=list(member.market.regimes),
        channel="console",
        due_at=now + timedelta(days=30),
        original_due_at=now + timedelta(days=30),
    )


def history(privacy_request) -> list[tuple[str, str, str]]:
    return list(
        RequestStatusEvent.objects.filter(request=privacy_request)
        .order_by("at", "id")
        .values_list("from_status", "to_status", "note")
    )


# The request queue ---------------------------------------------------------------------------------


def test_the_queue_lists_the_earliest_due_request_first_and_flags_the_overdue_one(
    console, make_member, germany
):
    recent = received(make_member(market=germany), "erasure", days_ago=1)
    late = received(make_member(market=germany), "rectification", days_ago=40)
    response = console.get(REQUESTS)
    assert [row.reference for row in response.context["cl"].result_list] == [late.reference, recent.reference]
    page = response.content.decode()
    assert page.count('class="privacy-overdue"') == 1
    late_row = page[page.index(late.reference) :]
    assert late_row.index("privacy-overdue") < late_row.index("</tr>")


def test_the_overdue_filter_lists_only_open_requests_past_their_due_date(
    console, make_member, germany, staff
):
    from loyalty.services import reject_request

    late = received(make_member(market=germany), "rectification", days_ago=40)
    closed_late = received(make_member(market=germany), "erasure", days_ago=40)
    reject_request(closed_late, ground="unfounded", actor=staff)
    received(make_member(market=germany), "objection", days_ago=1)
    response = console.get(REQUESTS, {"overdue": "yes"})
    assert [row.reference for row in response.context["cl"].result_list] == [late.reference]


def test_the_queue_is_searched_by_reference_and_member_number(console, make_member, germany):
    member = make_member(market=germany)
    first = received(member, "erasure")
    received(make_member(market=germany), "erasure")
    by_reference = console.get(REQUESTS, {"q": first.reference})
    by_member = console.get(REQUESTS, {"q": member.number})
    assert [row.pk for row in by_reference.context["cl"].result_list] == [first.pk]
    assert [row.pk for row in by_member.context["cl"].result_list] == [first.pk]


def test_the_request_queue_costs_the_same_queries_for_2_or_20_requests(
    admin_client, make_member, germany, django_assert_num_queries
):
    for days in range(2):
        received(make_member(market=germany), "erasure", days_ago=days * 20)
    admin_client.get(REQUESTS)
    with django_assert_num_queries(5) as small:
        admin_client.get(REQUESTS)
    for days in range(2, 20):
        received(make_member(market=germany), "erasure", days_ago=days * 2)
    with django_assert_num_queries(len(small.captured_queries)):
        response = admin_client.get(REQUESTS)
    assert len(response.context["cl"].result_list) == 20


def test_a_request_page_is_read_only_with_its_history_and_the_members_message(
    console, make_member, china, staff
):
    from loyalty.services import hold_request

    member = make_member(market=china)
    privacy_request = received(member, "rectification", message="My birth date is wrong.")
    hold_request(privacy_request, reason="Waiting for an ID", actor=staff)
    response = console.get(reverse("admin:loyalty_datasubjectrequest_change", args=[privacy_request.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert 'name="_save"' not in page
    assert "My birth date is wrong." in page
    assert "Waiting for an ID" in page
    assert "PIPL (China)" in page
    assert [step.to_status for step in response.context["inline_admin_formsets"][0].formset.queryset] == [
        "received",
        "on_hold",
    ]


# Fulfilment -----------------------------------------------------------------------------------------


def test_fulfilling_an_access_request_builds_the_members_export(console, officer, make_member, germany):
    allow(officer, "handle_privacy_request")
    member = make_member(market=germany)
    privacy_request = open_access_request(member)
    response = run_action(console, REQUESTS, "fulfil_requests", [privacy_request])
    assert "Fulfilled 1 request." in shown_messages(response)
    export = DataExport.objects.using(residency_database("eu")).get(
        request_reference=privacy_request.reference
    )
    assert export.payload["member_number"] == member.number
    assert DataSubjectRequest.objects.get(pk=privacy_request.pk).status == "fulfilled"


def test_staff_download_a_fulfilled_access_requests_export_as_json(console, officer, make_member, germany):
    allow(officer, "handle_privacy_request")
    member = make_member(market=germany)
    privacy_request = received(member, "access")
    page = console.get(reverse("admin:loyalty_datasubjectrequest_change", args=[privacy_request.pk]))
    download = reverse("admin:loyalty_datasubjectrequest_export", args=[privacy_request.pk])
    assert download in page.content.decode()
    response = console.get(download)
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["member_number"] == member.number


def test_the_export_download_needs_the_handle_permission(console, make_member, germany):
    privacy_request = received(make_member(market=germany), "access")
    response = console.get(reverse("admin:loyalty_datasubjectrequest_export", args=[privacy_request.pk]))
    assert response.status_code == 403


def test_the_erasure_confirmation_lists_the_holds_and_the_points_to_forfeit(
    console, officer, make_member, germany, fund
):
    allow(officer, "handle_privacy_request", "erase_member")
    member = make_member(market=germany)
    fund(member, 120)
    Member.objects.filter(pk=member.pk).update(legal_hold="Chargeback dispute 42")
    privacy_request = received(member, "erasure")
    response = console.post(
        REQUESTS, {"action": "fulfil_requests", ACTION_CHECKBOX_NAME: [privacy_request.pk]}
    )
    page = response.content.decode()
    assert "Legal hold: Chargeback dispute 42" in page
    Member.objects.filter(pk=member.pk).update(legal_hold="")
    response = console.post(
        REQUESTS, {"action": "fulfil_requests", ACTION_CHECKBOX_NAME: [privacy_request.pk]}
    )
    assert "their 120 points will be forfeited" in response.content.decode()


def test_fulfilling_an_erasure_request_erases_the_member(console, officer, make_member, germany, fund):
    allow(officer, "handle_privacy_request", "erase_member")
    member = make_member(market=germany)
    fund(member, 120)
    privacy_request = received(member, "erasure")
    response = run_action(console, REQUESTS, "fulfil_requests", [privacy_request])
    assert "Fulfilled 1 request." in shown_messages(response)
    assert Member.objects.get(pk=member.pk).erased_at is not None
    assert DataSubjectRequest.objects.get(pk=privacy_request.pk).status == "fulfilled"


def test_an_erasure_without_the_erase_permission_is_refused_and_changes_nothing(
    console, officer, make_member, germany
):
    allow(officer, "handle_privacy_request")
    member = make_member(market=germany)
    privacy_request = received(member, "erasure")
    response = run_action(console, REQUESTS, "fulfil_requests", [privacy_request])
    assert response.status_code == 403
    assert Member.objects.get(pk=member.pk).erased_at is None
    assert DataSubjectRequest.objects.get(pk=privacy_request.pk).status == "received"
    assert len(history(privacy_request)) == 1


def test_an_erasure_with_an_order_in_its_return_window_is_put_on_hold_with_the_reason(
    console, officer, make_member, germany
):
    allow(officer, "handle_privacy_request", "erase_member")
    member = make_member(market=germany)
    record_order(member, order_id="A1", amount=eur("30.00"))
    privacy_request = received(member, "erasure")
    response = run_action(console, REQUESTS, "fulfil_requests", [privacy_request])
    [error] = shown_messages(response)
    assert error.startswith(privacy_request.reference) and "return window" in error
    held = DataSubjectRequest.objects.get(pk=privacy_request.pk)
    assert held.status == "on_hold" and "return window" in held.hold_reason
    assert Member.objects.get(pk=member.pk).erased_at is None


def test_handling_requests_without_the_permission_is_not_offered_and_refused(console, make_member, germany):
    privacy_request = received(make_member(market=germany), "rectification")
    response = console.get(REQUESTS)
    assert response.context["action_form"] is None
    forged = run_action(console, REQUESTS, "hold_requests", [privacy_request], reason="Forged")
    assert forged.status_code == 403
    assert DataSubjectRequest.objects.get(pk=privacy_request.pk).status == "received"


# Extend, hold, reject --------------------------------------------------------------------------------


def test_extending_a_request_moves_its_due_date_and_writes_its_history(
    console, officer, make_member, germany
):
    allow(officer, "handle_privacy_request")
    privacy_request = received(make_member(market=germany), "rectification")
    new_day = timezone.localtime(privacy_request.due_at).date() + timedelta(days=20)
    response = run_action(
        console,
        REQUESTS,
        "extend_requests",
        [privacy_request],
        until=new_day.isoformat(),
        reason="Records are archived offsite",
    )
    assert "Extended 1 request." in shown_messages(response)
    extended = DataSubjectRequest.objects.get(pk=privacy_request.pk)
    assert extended.due_at == privacy_request.due_at + timedelta(days=20)
    assert extended.extension_reason == "Records are archived offsite"
    assert history(privacy_request)[-1] == (
        "received",
        "received",
        f"Extended to {new_day.isoformat()}: Records are archived offsite",
    )


def test_an_extension_past_two_more_months_is_refused(console, officer, make_member, germany):
    allow(officer, "handle_privacy_request")
    privacy_request = received(make_member(market=germany), "rectification")
    too_late = timezone.localtime(privacy_request.due_at).date() + timedelta(days=70)
    response = run_action(
        console, REQUESTS, "extend_requests", [privacy_request], until=too_late.isoformat(), reason="Busy"
    )
    [error] = shown_messages(response)
    assert error.startswith(privacy_request.reference)
    assert DataSubjectRequest.objects.get(pk=privacy_request.pk).due_at == privacy_request.due_at


def test_putting_a_request_on_hold_writes_its_history(console, officer, make_member, germany):
    allow(officer, "handle_privacy_request")
    privacy_request = received(make_member(market=germany), "rectification")
    response = run_action(console, REQUESTS, "hold_requests", [privacy_request], reason="Waiting for an ID")
    assert "Put 1 request on hold." in shown_messages(response)
    assert DataSubjectRequest.objects.get(pk=privacy_request.pk).hold_reason == "Waiting for an ID"
    assert history(privacy_request)[-1] == ("received", "on_hold", "Waiting for an ID")


def test_rejecting_a_request_records_its_legal_ground_and_history(console, officer, make_member, germany):
    allow(officer, "handle_privacy_request")
    privacy_request = received(make_member(market=germany), "erasure")
    response = run_action(
        console, REQUESTS, "reject_requests", [privacy_request], ground="legal_claims", note="Court case 7"
    )
    assert "Rejected 1 request." in shown_messages(response)
    rejected = DataSubjectRequest.objects.get(pk=privacy_request.pk)
    assert (rejected.status, rejected.rejection_ground) == ("rejected", "legal_claims")
    assert history(privacy_request)[-1] == ("received", "rejected", "Court case 7")


def test_a_request_cannot_be_rejected_without_a_legal_ground(console, officer, make_member, germany):
    allow(officer, "handle_privacy_request")
    privacy_request = received(make_member(market=germany), "erasure")
    response = run_action(console, REQUESTS, "reject_requests", [privacy_request], ground="", note="No")
    assert response.context["form"].errors["ground"]
    assert DataSubjectRequest.objects.get(pk=privacy_request.pk).status == "received"
    assert len(history(privacy_request)) == 1


def test_a_closed_request_is_left_as_it_is(console, officer, make_member, germany, staff):
    from loyalty.services import reject_request

    allow(officer, "handle_privacy_request")
    privacy_request = reject_request(
        received(make_member(market=germany), "erasure"), ground="excessive", actor=staff
    )
    response = run_action(console, REQUESTS, "hold_requests", [privacy_request], reason="Again")
    assert shown_messages(response) == [f"{privacy_request.reference} is already closed."]
    assert len(history(privacy_request)) == 2


# Members --------------------------------------------------------------------------------------------


def test_a_guardians_consent_is_recorded_as_a_guardian_event(
    admin_client, admin_user, make_member, germany, make_purpose
):
    purpose = make_purpose("marketing_email")
    member = make_member(market=germany)
    response = run_action(
        admin_client,
        MEMBERS,
        "record_guardian_consent",
        [member],
        purpose=purpose.pk,
        verification="Passport checked in store 12",
    )
    assert "Recorded a guardian's consent for 1 member." in shown_messages(response)
    event = ConsentEvent.objects.get(member=member)
    assert (event.action, event.actor, event.method, event.operator_id) == (
        "granted",
        "guardian",
        "admin",
        admin_user.pk,
    )
    assert event.collection_point == "Passport checked in store 12"
    assert event.notice_version.version == 1
    assert ConsentState.objects.get(member=member, purpose=purpose).by_guardian


def test_a_guardians_consent_needs_the_change_permission(console, make_member, germany, make_purpose):
    purpose = make_purpose("marketing_email")
    member = make_member(market=germany)
    response = run_action(
        console, MEMBERS, "record_guardian_consent", [member], purpose=purpose.pk, verification="x"
    )
    assert response.status_code == 403
    assert not ConsentEvent.objects.exists()


def test_staff_open_a_privacy_request_on_a_members_behalf(console, officer, make_member, germany):
    allow(officer, "handle_privacy_request")
    member = make_member(market=germany)
    response = run_action(
        console, MEMBERS, "open_privacy_request", [member], kind="erasure", message="Asked by phone"
    )
    privacy_request = DataSubjectRequest.objects.get(member=member)
    assert (privacy_request.kind, privacy_request.channel) == ("erasure", "console")
    assert privacy_request.reference in shown_messages(response)[0]
    assert RequestStatusEvent.objects.get(request=privacy_request).actor == officer


def test_the_member_page_shows_the_privacy_section_and_saves_a_legal_hold(
    admin_client, make_member, germany, make_purpose
):
    from datetime import date

    make_purpose("marketing_email")
    member = make_member(market=germany)
    save_profile(member, birth_date=date(1990, 5, 17), country="DE")
    record_consent(member, "marketing_email", "granted", method="web", notice_version=1)
    url = reverse("admin:loyalty_member_change", args=[member.pk])
    page = admin_client.get(url).content.decode()
    assert "Germany" in page
    assert "Marketing email: granted (notice version 1)" in page
    admin_client.post(
        url,
        {
            "status": member.status,
            "language": member.language,
            "time_zone": member.time_zone,
            "legal_hold": "Tax audit 2026",
            "account-TOTAL_FORMS": "1",
            "account-INITIAL_FORMS": "1",
            "account-MIN_NUM_FORMS": "0",
            "account-MAX_NUM_FORMS": "1",
            "account-0-id": str(member.account.pk),
            "account-0-member": str(member.pk),
        },
    )
    assert Member.objects.get(pk=member.pk).legal_hold == "Tax audit 2026"


# Purposes and notices -------------------------------------------------------------------------------


def purpose_form(**fields):
    data = {
        "code": "newsletter",
        "name_en": "Newsletter",
        "category": "marketing_email",
        "sort_order": "0",
        "bases-TOTAL_FORMS": "0",
        "bases-INITIAL_FORMS": "0",
        "bases-MIN_NUM_FORMS": "0",
        "bases-MAX_NUM_FORMS": "1000",
        **fields,
    }
    return data


def test_data_categories_are_chosen_with_checkboxes_and_saved_as_a_list(admin_client):
    response = admin_client.post(ADD_PURPOSE, purpose_form(data_categories=["contact", "purchases"]))
    assert response.status_code == 302
    assert ProcessingPurpose.objects.get(code="newsletter").data_categories == ["contact", "purchases"]


def test_a_new_purpose_is_saved_inactive(admin_client):
    admin_client.post(ADD_PURPOSE, purpose_form(is_active="on"))
    assert not ProcessingPurpose.objects.get(code="newsletter").is_active


def test_a_basis_that_breaks_a_pipl_rule_is_a_form_error(admin_client, make_purpose):
    purpose = make_purpose("partner_sharing", bases={}, notice=False, active=False)
    url = reverse("admin:loyalty_processingpurpose_change", args=[purpose.pk])
    response = admin_client.post(
        url,
        purpose_form(
            code="partner_sharing",
            category="partner_sharing",
            **{
                "bases-TOTAL_FORMS": "1",
                "bases-0-regime": "pipl",
                "bases-0-lawful_basis": "consent",
                "bases-0-consent_kind": "opt_in",
            },
        ),
    )
    assert response.status_code == 200
    [formset] = response.context["inline_admin_formsets"]
    assert "need a separate consent" in str(formset.formset.forms[0].errors["consent_kind"])
    assert not PurposeBasis.objects.exists()


def test_a_basis_that_breaks_a_pipl_rule_is_a_form_error_on_the_add_page_too(admin_client):
    admin_client.post(
        ADD_PURPOSE,
        purpose_form(
            code="partner_sharing",
            category="partner_sharing",
            **{
                "bases-TOTAL_FORMS": "1",
                "bases-0-regime": "pipl",
                "bases-0-lawful_basis": "consent",
                "bases-0-consent_kind": "opt_in",
            },
        ),
    )
    assert not PurposeBasis.objects.exists()


def test_activation_refuses_a_purpose_whose_stored_basis_breaks_a_pipl_rule(
    admin_client, china, make_purpose
):
    purpose = make_purpose("partner_sharing", bases={"pipl": ("consent", "opt_in")}, active=False)
    response = admin_client.post(
        PURPOSES, {"action": "activate", ACTION_CHECKBOX_NAME: [purpose.pk]}, follow=True
    )
    [error] = shown_messages(response)
    assert "need a separate consent" in error
    assert not ProcessingPurpose.objects.get(pk=purpose.pk).is_active


def test_activation_refuses_a_purpose_without_a_basis_for_an_active_markets_regime(
    admin_client, germany, make_purpose
):
    purpose = make_purpose("newsletter", bases={"lgpd": ("consent", "opt_in")}, active=False)
    response = admin_client.post(
        PURPOSES, {"action": "activate", ACTION_CHECKBOX_NAME: [purpose.pk]}, follow=True
    )
    [error] = shown_messages(response)
    assert error.startswith("Newsletter:") and "GDPR (EU/EEA)" in error
    assert not ProcessingPurpose.objects.get(pk=purpose.pk).is_active


def test_activation_starts_a_purpose_with_every_basis_and_a_notice(admin_client, germany, make_purpose):
    purpose = make_purpose("newsletter", active=False)
    response = admin_client.post(
        PURPOSES, {"action": "activate", ACTION_CHECKBOX_NAME: [purpose.pk]}, follow=True
    )
    assert shown_messages(response) == ["Activated 1 purpose."]
    assert ProcessingPurpose.objects.get(pk=purpose.pk).is_active


def test_the_purpose_list_shows_the_regimes_without_a_basis(admin_client, germany, china, make_purpose):
    make_purpose("newsletter", bases={"gdpr": ("consent", "opt_in")}, active=False)
    page = admin_client.get(PURPOSES).content.decode()
    assert "PIPL (China)" in page


def test_a_published_notice_is_read_only_and_cannot_be_deleted(admin_client, make_purpose):
    notice = make_purpose("newsletter").notices.get()
    url = reverse("admin:loyalty_noticeversion_change", args=[notice.pk])
    response = admin_client.get(url)
    assert not response.context["has_change_permission"]
    admin_client.post(
        url, {"purpose": notice.purpose_id, "version": "1", "title_en": "Changed", "body_en": "x"}
    )
    assert NoticeVersion.objects.get(pk=notice.pk).title == notice.title
    assert (
        admin_client.post(reverse("admin:loyalty_noticeversion_delete", args=[notice.pk])).status_code == 403
    )
    assert NoticeVersion.objects.filter(pk=notice.pk).exists()


def test_publishing_makes_a_notice_read_only(admin_client, make_purpose):
    purpose = make_purpose("newsletter")
    draft = NoticeVersion.objects.create(
        purpose=purpose, version=2, change_type="editorial", title="T", body="B"
    )
    url = reverse("admin:loyalty_noticeversion_change", args=[draft.pk])
    assert admin_client.get(url).context["has_change_permission"]
    response = run_action(admin_client, NOTICES, "publish", [draft])
    assert "Published 1 notice." in shown_messages(response)
    assert not admin_client.get(url).context["has_change_permission"]


def test_publishing_a_material_notice_puts_granted_consents_up_for_renewal(
    admin_client, make_member, germany, make_purpose
):
    purpose = make_purpose("newsletter")
    member = make_member(market=germany)
    record_consent(member, "newsletter", "granted", method="web", notice_version=1)
    draft = NoticeVersion.objects.create(
        purpose=purpose, version=2, change_type="material", title="T", body="B"
    )
    confirmation = admin_client.post(NOTICES, {"action": "publish", ACTION_CHECKBOX_NAME: [draft.pk]})
    assert "1 granted consent will have to be renewed" in confirmation.content.decode()
    run_action(admin_client, NOTICES, "publish", [draft])
    assert ConsentState.objects.get(member=member, purpose=purpose).status == "renewal_required"


def test_publishing_needs_the_publish_permission(make_user, make_purpose):
    user = make_user(username="writer", is_staff=True)
    allow(user, "view_noticeversion", "change_noticeversion")
    client = Client()
    client.force_login(user)
    purpose = make_purpose("newsletter")
    draft = NoticeVersion.objects.create(purpose=purpose, version=2, title="T", body="B")
    response = run_action(client, NOTICES, "publish", [draft])
    assert response.status_code == 403
    assert NoticeVersion.objects.get(pk=draft.pk).published_at is None


def test_a_new_notice_of_a_purpose_starts_at_the_next_version(admin_client, make_purpose):
    purpose = make_purpose("newsletter")
    response = admin_client.get(reverse("admin:loyalty_noticeversion_add"), {"purpose": purpose.pk})
    assert response.context["adminform"].form.initial["version"] == 2


# The consent record --------------------------------------------------------------------------------


def test_consent_events_cannot_be_added_changed_or_deleted(admin_client, make_member, germany, make_purpose):
    make_purpose("newsletter")
    member = make_member(market=germany)
    record_consent(member, "newsletter", "granted", method="web", notice_version=1)
    event = ConsentEvent.objects.get()
    assert admin_client.get(reverse("admin:loyalty_consentevent_add")).status_code == 403
    assert admin_client.post(reverse("admin:loyalty_consentevent_delete", args=[event.pk])).status_code == 403
    page = admin_client.get(reverse("admin:loyalty_consentevent_change", args=[event.pk]))
    assert not page.context["has_change_permission"]
    assert ConsentEvent.objects.filter(pk=event.pk, action="granted").exists()


def test_consent_events_are_filtered_by_purpose_action_and_method(
    admin_client, make_member, germany, make_purpose
):
    make_purpose("newsletter")
    member = make_member(market=germany)
    record_consent(member, "newsletter", "granted", method="web", notice_version=1)
    record_consent(member, "newsletter", "withdrawn", method="app")
    response = admin_client.get(CONSENT_EVENTS, {"action": "withdrawn", "method": "app"})
    assert [event.action for event in response.context["cl"].result_list] == ["withdrawn"]


# Recipients and transfers --------------------------------------------------------------------------


def test_a_transfer_mechanism_that_does_not_exist_under_its_regime_is_a_form_error(admin_client):
    response = admin_client.post(
        ADD_RECIPIENT,
        {
            "name": "Mailer Inc.",
            "role": "processor",
            "country": "US",
            "transfers-TOTAL_FORMS": "1",
            "transfers-INITIAL_FORMS": "0",
            "transfers-MIN_NUM_FORMS": "0",
            "transfers-MAX_NUM_FORMS": "1000",
            "transfers-0-regime": "pipl",
            "transfers-0-mechanism": "scc",
        },
    )
    [formset] = response.context["inline_admin_formsets"]
    assert formset.formset.forms[0].errors["mechanism"]
    assert not Recipient.objects.exists() and not Transfer.objects.exists()


def test_a_recipient_past_the_pipl_sensitive_data_threshold_is_flagged(admin_client, china):
    recipient = Recipient.objects.create(name="Overseas CRM", role="processor", country="US")
    calm = Recipient.objects.create(name="Calm CRM", role="processor", country="US")
    members = Member.objects.bulk_create(
        Member(number=f"T{index:07d}", market=china, language="en", time_zone="UTC")
        for index in range(10_001)
    )
    year = timezone.now().year
    TransferRecord.objects.bulk_create(
        TransferRecord(recipient=recipient, member=member, year=year, sensitive=True) for member in members
    )
    TransferRecord.objects.create(recipient=calm, member=members[0], year=year)
    page = admin_client.get(RECIPIENTS).content.decode()
    assert page.count('class="privacy-warning"') == 1
    assert "10,001 (10,001 with sensitive data)" in page
    assert "a standard contract or certification is needed" in page


# The record of processing --------------------------------------------------------------------------


def test_the_record_of_processing_csv_lists_every_purpose(admin_client, germany, make_purpose):
    make_purpose("newsletter", data_categories=["contact"])
    make_purpose("birthday_rewards", data_categories=["birth_date"])
    response = admin_client.get(RECORD, {"export": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="record-of-processing-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert sorted(row[0] for row in rows[1:]) == ["birthday_rewards", "newsletter"]
    assert rows[0][0] == "Purpose"


def test_the_record_of_processing_csv_cannot_run_a_formula(admin_client, make_purpose):
    make_purpose("newsletter", name="=HYPERLINK(1)")
    rows = list(csv.reader(io.StringIO(admin_client.get(RECORD, {"export": "csv"}).content.decode())))
    assert rows[1][1] == "'=HYPERLINK(1)"


def test_the_record_of_processing_is_downloaded_as_json(admin_client, make_purpose):
    make_purpose("newsletter")
    response = admin_client.get(RECORD, {"export": "json"})
    assert [row["purpose"] for row in json.loads(response.content)] == ["newsletter"]


def test_the_record_of_processing_page_is_linked_from_the_purposes_and_needs_the_view_permission(
    admin_client, make_user, make_purpose
):
    make_purpose("newsletter")
    assert RECORD in admin_client.get(PURPOSES).content.decode()
    assert "newsletter" in admin_client.get(RECORD).content.decode()
    outsider = make_user(username="outsider", is_staff=True)
    client = Client()
    client.force_login(outsider)
    assert client.get(RECORD).status_code == 403
