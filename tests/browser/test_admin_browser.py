import pytest
from playwright.sync_api import expect

from loyalty.models import EntryType
from tests.helpers import account_of, entries_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_staff_adjust_a_members_points_from_the_console(
    page, sign_in, live_server, member, staff, screenshot
):
    sign_in("support", next_url="/admin/loyalty/member/")
    page.get_by_role("checkbox", name=f"Select this object for an action - {member.number}").check()
    page.select_option("select[name=action]", "adjust_points")
    page.get_by_role("button", name="Go").click()
    page.fill("#id_points", "40")
    page.fill("#id_reason", "Apology for a late delivery")
    screenshot("admin-adjust-points-form")
    page.get_by_role("button", name="Apply adjustment").click()
    expect(page.locator(".messagelist")).to_contain_text("Adjusted the points of 1 member.")
    screenshot("admin-adjust-points-done")
    entry = entries_of(member).get()
    assert (entry.entry_type, entry.points, entry.actor_id) == (EntryType.ADJUSTMENT, 40, staff.pk)
    assert account_of(member).available == 40


def test_staff_read_a_members_ledger_without_edit_controls(
    page, sign_in, live_server, member, staff, screenshot
):
    from loyalty.services import adjust_points

    adjust_points(member, points=12, reason="Welcome bonus", actor=staff)
    sign_in("support", next_url=f"/admin/loyalty/ledgerentry/?account__member__number={member.number}")
    expect(page.get_by_role("cell", name="Welcome bonus")).to_be_visible()
    expect(page.get_by_role("link", name="Add ledger entry")).to_have_count(0)
    screenshot("admin-ledger")


def test_finance_staff_read_the_round_trip_matrix_and_the_liability(
    page, live_server, admin_user, rates, make_market, member, screenshot
):
    from loyalty.services import adjust_points

    make_market("US", "USD", rate="0.92")
    make_market("JP", "JPY", rate="0.01")
    adjust_points(member, points=1234, reason="Welcome bonus", actor=admin_user)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/loyalty/market/round-trips/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    expect(page.locator("#round-trips td.errors").first).to_have_text("1.6200")
    screenshot("admin-round-trips")
    page.goto(f"{live_server.url}/admin/loyalty/market/liability/")
    expect(page.locator("#liability tbody th").first).to_have_text("EU")
    expect(page.locator("#liability")).to_contain_text("€12.34")
    screenshot("admin-liability")
