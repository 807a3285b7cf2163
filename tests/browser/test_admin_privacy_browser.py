"""The privacy request queue in a real browser: the overdue request stands out, an erasure shows its holds."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from loyalty.models import DataSubjectRequest, Member
from loyalty.services import open_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_privacy_officer_sees_the_overdue_request_first_in_the_queue(
    page, live_server, admin_user, make_market, make_member, screenshot
):
    germany = make_market("DE", "EUR", regimes=["gdpr"], countries=["DE"], residency_region="eu")
    now = timezone.now()
    on_time = open_request(make_member(market=germany), "erasure", channel="member_center", at=now)
    late = open_request(
        make_member(market=germany),
        "rectification",
        channel="member_center",
        message="My birth date is wrong.",
        at=now - timedelta(days=40),
    )
    page.goto(f"{live_server.url}/admin/login/?next=/admin/loyalty/datasubjectrequest/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(late.reference)
    badge = rows.first.locator(".privacy-overdue")
    expect(badge).to_have_text("overdue")
    assert badge.evaluate("element => getComputedStyle(element).color") == "rgb(255, 255, 255)"
    expect(rows.nth(1)).to_contain_text(on_time.reference)
    expect(rows.nth(1).locator(".privacy-overdue")).to_have_count(0)
    screenshot("admin-privacy-request-queue")

    rows.first.get_by_role("link", name=late.reference).click()
    expect(page.locator(".field-member_message")).to_contain_text("My birth date is wrong.")
    screenshot("admin-privacy-request")


def test_the_erasure_confirmation_shows_what_holds_it(
    page, live_server, admin_user, make_market, make_member, screenshot
):
    germany = make_market("DE", "EUR", regimes=["gdpr"], countries=["DE"], residency_region="eu")
    member = make_member(market=germany)
    Member.objects.filter(pk=member.pk).update(legal_hold="Chargeback dispute 42")
    erasure = open_request(member, "erasure", channel="member_center")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/loyalty/datasubjectrequest/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")

    page.get_by_role("checkbox", name=f"Select this object for an action - {erasure.reference}").check()
    page.select_option("select[name=action]", "fulfil_requests")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#content")).to_contain_text("Legal hold: Chargeback dispute 42")
    screenshot("admin-privacy-erasure-confirmation")
    page.get_by_role("button", name="Fulfil").click()
    expect(page.locator(".messagelist")).to_contain_text("Chargeback dispute 42")
    assert DataSubjectRequest.objects.get(pk=erasure.pk).status == "on_hold"
