"""The member center's privacy center, export downloads and the consents of the join form."""

import io
import json
import re
import zipfile
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loyalty.models import (
    ConsentEvent,
    ConsentEvidence,
    DataExport,
    DataSubjectRequest,
    Member,
    MemberProfile,
    NoticeVersion,
    ProcessingPurpose,
)
from loyalty.services import activate_purpose, has_consent, open_request, publish_notice, record_consent
from loyalty.services.consent import save_profile

PRIVACY = "/loyalty/privacy/"
CONSENT = "/loyalty/privacy/consents/"
REQUEST = "/loyalty/privacy/requests/"
CENTER = "/loyalty/"
JOIN = "/loyalty/join/"

pytestmark = pytest.mark.django_db


def years_ago(years: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - timedelta(days=30)


def purpose_block(html: str, code: str) -> str:
    """The part of the page about one purpose."""
    match = re.search(rf'<li class="ly-purpose[^"]*" id="purpose-{code}".*?</li>', html, re.S)
    assert match, f"no purpose {code} on the page"
    return match.group(0)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def decide(client, code: str, decision: str, notice_version: int | str = 1, **extra):
    body = {"purpose": code, "decision": decision, "notice_version": notice_version}
    return client.post(CONSENT, body, **extra)


def export_of(request: DataSubjectRequest) -> DataExport:
    return DataExport.objects.get(request_reference=request.reference)


def export_url(export: DataExport, file_format: str = "json") -> str:
    return f"/loyalty/privacy/exports/{export.token}/?format={file_format}"


@pytest.fixture
def germany(make_market):
    return make_market("DE", "EUR", regimes=["gdpr"], countries=["DE"], residency_region="eu")


@pytest.fixture
def shopper(make_member, germany):
    return make_member(market=germany)


@pytest.fixture
def signed_in(client, shopper):
    client.force_login(shopper.user)
    return client


@pytest.fixture
def marketing(make_purpose):
    return make_purpose("marketing_email", name="Newsletter")


@pytest.fixture
def membership(make_purpose):
    return make_purpose(
        "membership", category="membership", required=True, bases={"gdpr": ("contract", "none")}
    )


# The page ----------------------------------------------------------------------------------------------


def test_the_privacy_center_shows_each_purpose_with_its_notice(signed_in, marketing):
    response = signed_in.get(PRIVACY)
    assert response.status_code == 200
    block = purpose_block(response.content.decode(), "marketing_email")
    assert "Newsletter" in block
    assert 'data-testid="notice-title">About Newsletter<' in block
    assert "What we do for Newsletter." in block
    assert 'data-testid="notice-version">Notice version 1<' in block


def test_notices_are_in_the_members_language(signed_in, shopper, marketing):
    Member.objects.filter(pk=shopper.pk).update(language="de")
    block = purpose_block(signed_in.get(PRIVACY).content.decode(), "marketing_email")
    assert "Über Newsletter" in block
    assert "Was wir für Newsletter tun." in block
    assert 'lang="de"' in block


def test_nothing_is_on_before_the_member_agrees(signed_in, marketing):
    html = signed_in.get(PRIVACY).content.decode()
    block = purpose_block(html, "marketing_email")
    assert 'data-testid="consent-switch">Off<' in block
    assert 'data-testid="grant"' in block
    assert 'data-testid="withdraw"' not in block
    assert "checked" not in html


def test_granting_and_withdrawing_are_each_one_post_on_the_same_page(signed_in, shopper, marketing):
    granted = decide(signed_in, "marketing_email", "grant")
    assert granted.status_code == 302
    assert granted["Location"] == f"{PRIVACY}#purpose-marketing_email"
    assert has_consent(shopper, "marketing_email")
    block = purpose_block(signed_in.get(PRIVACY).content.decode(), "marketing_email")
    assert 'data-testid="consent-switch">On<' in block
    assert 'data-testid="withdraw"' in block
    withdrawn = decide(signed_in, "marketing_email", "withdraw")
    assert withdrawn["Location"] == f"{PRIVACY}#purpose-marketing_email"
    assert not has_consent(shopper, "marketing_email")
    block = purpose_block(signed_in.get(PRIVACY).content.decode(), "marketing_email")
    assert 'data-testid="grant"' in block


def test_a_decision_is_confirmed_in_a_message(signed_in, marketing):
    response = decide(signed_in, "marketing_email", "grant", follow=True)
    assert messages_of(response) == [
        "Thank you: you agreed to “Newsletter”. You can withdraw it here at any time."
    ]
    response = decide(signed_in, "marketing_email", "withdraw", follow=True)
    assert messages_of(response) == ["You withdrew your consent to “Newsletter”."]


def test_the_page_records_a_separate_web_consent_to_the_notice_shown(signed_in, shopper, marketing):
    decide(signed_in, "marketing_email", "grant", HTTP_USER_AGENT="Firefox/128")
    event = ConsentEvent.objects.get(member=shopper)
    assert (event.method, event.is_separate, event.notice_version.version) == ("web", True, 1)
    assert (event.language, len(event.request_id)) == ("en", 32)
    evidence = ConsentEvidence.objects.get(event_id=event.uuid)
    assert (evidence.ip_address, evidence.user_agent) == ("127.0.0.1", "Firefox/128")


def test_a_changed_notice_asks_again_and_shows_the_new_text(signed_in, shopper, marketing):
    publish_notice(
        NoticeVersion.objects.create(
            purpose=marketing, version=2, title="Newsletter, now weekly", body="Weekly."
        )
    )
    response = decide(signed_in, "marketing_email", "grant", notice_version=1, follow=True)
    assert messages_of(response) == [
        "This notice changed while you were reading it. Please read the new version and decide again."
    ]
    block = purpose_block(response.content.decode(), "marketing_email")
    assert "Newsletter, now weekly" in block
    assert 'name="notice_version" value="2"' in block
    assert not ConsentEvent.objects.filter(member=shopper).exists()


def test_a_consent_to_renew_is_off_until_the_new_notice_is_accepted(signed_in, shopper, marketing):
    record_consent(shopper, "marketing_email", "granted", method="web", notice_version=1)
    publish_notice(NoticeVersion.objects.create(purpose=marketing, version=2, title="New", body="New text."))
    block = purpose_block(signed_in.get(PRIVACY).content.decode(), "marketing_email")
    assert 'data-testid="consent-switch">Off<' in block
    assert "It stays off until you agree to the new version." in block
    assert 'data-testid="grant"' in block


def test_a_required_purpose_is_shown_without_a_toggle(signed_in, shopper, membership):
    block = purpose_block(signed_in.get(PRIVACY).content.decode(), "membership")
    assert "needed to run your membership" in block
    assert "<form" not in block
    response = decide(signed_in, "membership", "withdraw", follow=True)
    assert messages_of(response) == [
        "This processing is needed to run the membership; it cannot be refused without leaving the program."
    ]


def test_a_minor_is_told_a_guardian_must_consent_and_gets_no_grant_button(signed_in, shopper, marketing):
    save_profile(shopper, birth_date=years_ago(14))
    block = purpose_block(signed_in.get(PRIVACY).content.decode(), "marketing_email")
    assert 'data-testid="guardian-needed"' in block
    assert "a parent or guardian must give this consent" in block
    assert 'data-testid="grant"' not in block
    response = decide(signed_in, "marketing_email", "grant", follow=True)
    assert messages_of(response) == ["At this age, a parent or guardian must give this consent."]
    assert not ConsentEvent.objects.filter(member=shopper).exists()


def test_an_unknown_decision_records_nothing(signed_in, shopper, marketing):
    response = decide(signed_in, "marketing_email", "maybe", follow=True)
    assert messages_of(response) == ["The decision must be grant, withdraw or refuse."]
    assert not ConsentEvent.objects.filter(member=shopper).exists()


def test_an_unknown_purpose_is_not_put_in_the_address(signed_in):
    response = decide(signed_in, "<b>x</b>", "grant")
    assert response["Location"] == PRIVACY


def test_a_consent_needs_a_csrf_token(shopper, marketing):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper.user)
    assert decide(client, "marketing_email", "grant").status_code == 403
    assert not ConsentEvent.objects.filter(member=shopper).exists()


def test_the_consent_and_request_forms_answer_only_posts(signed_in):
    assert signed_in.get(CONSENT).status_code == 405
    assert signed_in.get(REQUEST).status_code == 405


def test_the_privacy_center_needs_a_signed_in_member(client, make_user):
    assert client.get(PRIVACY).status_code == 302
    client.force_login(make_user())
    assert client.get(PRIVACY)["Location"] == CENTER


def test_texts_are_escaped(signed_in, make_purpose):
    purpose = make_purpose("other", name="<script>alert(1)</script>", notice=False, active=False)
    publish_notice(
        NoticeVersion.objects.create(purpose=purpose, version=1, title="<i>t</i>", body="<b>b</b>")
    )
    activate_purpose(purpose)
    html = signed_in.get(PRIVACY).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<i>t</i>" not in html and "<b>b</b>" not in html


def test_the_member_center_links_to_the_privacy_center(signed_in):
    html = signed_in.get(CENTER).content.decode()
    assert f'href="{PRIVACY}" data-testid="privacy-link"' in html


# Requests ----------------------------------------------------------------------------------------------


def test_erasure_without_the_confirmation_box_is_refused(signed_in, shopper):
    response = signed_in.post(REQUEST, {"kind": "erasure", "message": "Please delete me."})
    assert response.status_code == 400
    html = response.content.decode()
    assert "confirm that you want it" in html
    assert "Please delete me." in html
    assert not DataSubjectRequest.objects.exists()


def test_the_erasure_box_explains_that_points_are_forfeited(signed_in, shopper, fund):
    fund(shopper, 1250)
    html = signed_in.get(PRIVACY).content.decode()
    assert "closes my membership and forfeits my remaining 1,250 points" in html


def test_confirmed_erasure_is_received_with_its_due_date(signed_in, shopper):
    response = signed_in.post(REQUEST, {"kind": "erasure", "confirm_erasure": "on"}, follow=True)
    request = DataSubjectRequest.objects.get(member=shopper)
    assert (request.kind, request.status, request.channel) == ("erasure", "received", "member_center")
    (message,) = messages_of(response)
    assert message.startswith(f"We received your request {request.reference} and will answer by ")
    html = response.content.decode()
    assert f'data-reference="{request.reference}"' in html
    assert 'data-testid="request-due"' in html


def test_my_requests_list_only_mine(signed_in, shopper, make_member, germany):
    mine = open_request(shopper, "rectification", channel="api")
    theirs = open_request(make_member(market=germany), "rectification", channel="api")
    html = signed_in.get(PRIVACY).content.decode()
    assert f'data-reference="{mine.reference}"' in html
    assert theirs.reference not in html


def test_an_access_request_offers_json_and_csv_downloads(signed_in, shopper):
    response = signed_in.post(REQUEST, {"kind": "access"}, follow=True)
    request = DataSubjectRequest.objects.get(member=shopper)
    export = export_of(request)
    assert messages_of(response) == [f"Your data is ready: download it below (request {request.reference})."]
    html = response.content.decode()
    assert f'href="{export_url(export, "json").replace("&", "&amp;")}"' in html
    assert f'href="{export_url(export, "csv")}"' in html


def test_the_export_downloads_as_json_and_as_a_zip_of_csv_files(signed_in, shopper):
    export = export_of(open_request(shopper, "access", channel="member_center"))
    as_json = signed_in.get(export_url(export, "json"))
    assert as_json["Content-Disposition"].startswith("attachment;")
    assert json.loads(as_json.content)["member_number"] == shopper.number
    as_zip = signed_in.get(export_url(export, "csv"))
    assert as_zip["Content-Type"] == "application/zip"
    assert as_zip["Content-Disposition"].startswith("attachment;")
    assert "ledger.csv" in zipfile.ZipFile(io.BytesIO(as_zip.content)).namelist()
    export.refresh_from_db()
    assert export.downloaded_at is not None


def test_another_members_export_is_not_found(signed_in, make_member, germany):
    theirs = export_of(open_request(make_member(market=germany), "access", channel="api"))
    assert signed_in.get(export_url(theirs)).status_code == 404


def test_an_expired_export_is_gone_and_no_longer_offered(signed_in, shopper):
    export = export_of(open_request(shopper, "portability", channel="api"))
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = signed_in.get(export_url(export))
    assert response.status_code == 410
    assert "This download link has expired" in response.content.decode()
    assert 'data-testid="downloads"' not in signed_in.get(PRIVACY).content.decode()


def test_an_unknown_export_format_is_refused(signed_in, shopper):
    export = export_of(open_request(shopper, "access", channel="api"))
    assert signed_in.get(export_url(export, "xml")).status_code == 400


# Joining -----------------------------------------------------------------------------------------------


@pytest.fixture
def china(make_market, settings):
    """The market newcomers join: under PIPL, where sharing with partners needs a separate consent."""
    settings.LOYALTY = {"DEFAULT_MARKET": "CN", "RESIDENCY_DATABASES": {"cn": "cn"}}
    return make_market("CN", "CNY", regimes=["pipl"], countries=["CN"], residency_region="cn")


@pytest.fixture
def newcomer(client, make_user, china):
    user = make_user()
    client.force_login(user)
    return user


@pytest.fixture
def join_purposes(make_purpose, china):
    make_purpose("marketing_email", name="Newsletter", sort_order=1)
    make_purpose("marketing_sms", name="Text messages", sort_order=2)
    make_purpose("partner_sharing", name="Partners")
    make_purpose("membership", category="membership", required=True, bases={"pipl": ("contract", "none")})


def join_body(**fields) -> dict:
    """What the join form sends by default: the two optional purposes it shows, none ticked."""
    return {
        "ref": "",
        "birth_date": "",
        "purposes": ["marketing_email", "marketing_sms"],
        "notice-marketing_email": "1",
        "notice-marketing_sms": "1",
        **fields,
    }


def test_the_join_page_lists_optional_purposes_unticked_with_their_notice_title(
    client, newcomer, join_purposes
):
    html = client.get(CENTER).content.decode()
    assert re.findall(r'name="consent" value="([^"]+)"', html) == ["marketing_email", "marketing_sms"]
    assert "About Newsletter" in html and "About Text messages" in html
    assert "checked" not in html


def test_joining_with_everything_unticked_enrols_and_records_refusals(client, newcomer, join_purposes):
    response = client.post(JOIN, join_body())
    assert response["Location"] == CENTER
    member = Member.objects.get(user=newcomer)
    events = ConsentEvent.objects.filter(member=member).order_by("purpose__code")
    assert [(event.purpose.code, event.action) for event in events] == [
        ("marketing_email", "refused"),
        ("marketing_sms", "refused"),
    ]
    assert {(event.method, event.is_separate, event.collection_point) for event in events} == {
        ("web", False, "join")
    }


def test_a_ticked_purpose_is_granted_at_joining(client, newcomer, join_purposes):
    client.post(JOIN, join_body(consent=["marketing_sms"]))
    member = Member.objects.get(user=newcomer)
    assert has_consent(member, "marketing_sms")
    assert not has_consent(member, "marketing_email")
    granted = ConsentEvent.objects.get(member=member, purpose__code="marketing_sms")
    assert (granted.action, granted.notice_version.version) == ("granted", 1)


def test_a_notice_changed_while_joining_is_not_granted_and_the_member_decides_again(
    client, newcomer, join_purposes
):
    purpose = ProcessingPurpose.objects.get(code="marketing_sms")
    publish_notice(NoticeVersion.objects.create(purpose=purpose, version=2, title="New", body="New text."))
    response = client.post(JOIN, join_body(consent=["marketing_sms"]))
    assert response["Location"] == PRIVACY
    member = Member.objects.get(user=newcomer)
    assert not ConsentEvent.objects.filter(member=member, purpose__code="marketing_sms").exists()


def test_joining_twice_records_no_decision(client, newcomer, join_purposes):
    client.post(JOIN, join_body(consent=["marketing_sms"]))
    client.post(JOIN, join_body())
    member = Member.objects.get(user=newcomer)
    assert has_consent(member, "marketing_sms")
    assert ConsentEvent.objects.filter(member=member).count() == 2


def test_the_birth_date_goes_to_the_members_profile(client, newcomer, join_purposes):
    client.post(JOIN, join_body(birth_date="1990-05-17"))
    member = Member.objects.get(user=newcomer)
    profile = MemberProfile.objects.using("cn").get(subject_id=member.subject_id)
    assert profile.birth_date == date(1990, 5, 17)


def test_a_market_with_a_minimum_age_needs_a_birth_date(client, newcomer, china):
    china.minimum_age = 14
    china.save()
    assert "Members must be at least 14 years old." in client.get(CENTER).content.decode()
    response = client.post(JOIN, join_body())
    assert response.status_code == 400
    assert "Enter your birth date: members must be at least 14 years old." in response.content.decode()
    assert not Member.objects.filter(user=newcomer).exists()


def test_someone_below_the_minimum_age_cannot_join(client, newcomer, china):
    china.minimum_age = 14
    china.save()
    response = client.post(JOIN, join_body(birth_date=years_ago(12).isoformat(), consent=["marketing_sms"]))
    assert response.status_code == 400
    html = response.content.decode()
    assert "You are below the minimum age to join the program in this market." in html
    assert not Member.objects.filter(user=newcomer).exists()


def test_a_birth_date_in_the_future_is_refused(client, newcomer, china):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(JOIN, join_body(birth_date=tomorrow.isoformat()))
    assert "The birth date cannot be in the future." in response.content.decode()
    assert not Member.objects.filter(user=newcomer).exists()


def test_a_refused_join_keeps_what_was_ticked(client, newcomer, join_purposes, china):
    china.minimum_age = 14
    china.save()
    html = client.post(JOIN, join_body(consent=["marketing_sms"])).content.decode()
    assert re.search(r'value="marketing_sms" checked', html)
    assert not re.search(r'value="marketing_email" checked', html)


# Cost --------------------------------------------------------------------------------------------------


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_for_few_or_many_purposes_and_requests(
    signed_in, shopper, make_purpose
):
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
    open_request(shopper, "access", channel="api")
    few = queries_for(signed_in, PRIVACY)
    for code in codes[2:]:
        make_purpose(code)
    record_consent(shopper, "marketing_sms", "granted", method="web", notice_version=1)
    for kind in ("portability", "rectification", "objection"):
        open_request(shopper, kind, channel="api")
    assert queries_for(signed_in, PRIVACY) == few
