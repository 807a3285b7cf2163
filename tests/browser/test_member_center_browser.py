import pytest
from playwright.sync_api import expect

from loyalty.services import adjust_points, confirm_order, record_order
from tests.helpers import eur

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shopper(member, staff):
    record_order(member, order_id="ORDER-1001", amount=eur("129.90"))
    confirm_order(order_id="ORDER-1001")
    record_order(member, order_id="ORDER-1002", amount=eur("35.50"))
    adjust_points(member, points=25, reason="Apology for a late delivery", actor=staff)
    return member


def test_a_shopper_signs_in_and_sees_balances_and_history(page, sign_in, shopper, screenshot):
    sign_in(shopper.user.username)
    expect(page.get_by_test_id("available")).to_have_text("154")
    expect(page.get_by_test_id("pending")).to_have_text("35")
    expect(page.get_by_role("cell", name="ORDER-1002")).to_be_visible()
    expect(page.get_by_test_id("next-expiry")).to_contain_text("129 points expire on")
    screenshot("member-center-en")


def test_a_shopper_switches_the_page_to_simplified_chinese(page, sign_in, shopper, screenshot):
    sign_in(shopper.user.username)
    page.select_option("#ly-language", "zh-hans")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的积分")
    expect(page.get_by_test_id("available")).to_have_text("154")
    screenshot("member-center-zh-hans")


def test_a_visitor_who_is_not_a_member_joins(page, sign_in, make_user, market, settings, screenshot):
    settings.LOYALTY = {"DEFAULT_MARKET": "EU"}
    make_user(username="newcomer")
    sign_in("newcomer")
    screenshot("join")
    page.get_by_role("button", name="Join now").click()
    expect(page.get_by_test_id("available")).to_have_text("0")
