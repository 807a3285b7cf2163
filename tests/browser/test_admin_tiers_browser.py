from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from loyalty.models import EarnRule, Tier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_to_admin(page, live_server, next_url: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")


def test_a_merchandiser_names_a_tier_in_chinese_on_its_translation_tab(
    page, live_server, admin_user, screenshot
):
    gold = Tier.objects.create(code="gold", rank=1, name="Gold", badge_colour="#b08d57", entry_orders=10)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in_to_admin(page, live_server, f"/admin/loyalty/tier/{gold.pk}/change/")
    chinese_name = page.locator("#id_name_zh_hans")
    expect(chinese_name).to_be_hidden()
    page.click('a[href="#tab_id_name_zh_hans"]')
    expect(chinese_name).to_be_visible()
    chinese_name.fill("金卡会员")
    screenshot("admin-tier-translation-tabs")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    screenshot("admin-tier-list")
    gold.refresh_from_db()
    assert (gold.name_zh_hans, gold.name_en) == ("金卡会员", "Gold")
    assert [url for url in requested if not url.startswith(live_server.url)] == []


def test_a_merchandiser_simulates_an_order_and_sees_what_each_rule_adds(
    page, live_server, admin_user, member, screenshot
):
    EarnRule.objects.create(
        code="shoes",
        name="Shoe week",
        event="purchase",
        mode="per_unit",
        points_per_unit=Decimal("2"),
        categories=["shoes"],
        priority=10,
    )
    EarnRule.objects.create(code="first", name="First order", event="first_order", fixed_points=50)
    sign_in_to_admin(page, live_server, "/admin/loyalty/earnrule/")
    page.get_by_role("link", name="Simulate an order").click()
    page.fill("#id_member", member.number)
    page.fill("#id_amount", "120.00")
    page.fill("#id_currency", "EUR")
    page.fill("#id_lines", "SHOE-1,shoes,1,80.00\nSOCK-1,socks,2,40.00")
    page.fill("#id_placed_at", "2025-03-14T20:30")
    page.get_by_role("button", name="Simulate").click()
    rows = page.locator("#contributions tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("Shoe week: 2 × the amount spent in EUR.")
    expect(page.locator("#simulated-points")).to_have_text("330")
    screenshot("admin-simulate-order")


def test_support_staff_grant_a_member_a_tier_until_a_date(page, live_server, admin_user, member, screenshot):
    gold = Tier.objects.create(code="gold", rank=1, name="Gold", entry_orders=10)
    sign_in_to_admin(page, live_server, "/admin/loyalty/member/")
    page.get_by_role("checkbox", name=f"Select this object for an action - {member.number}").check()
    page.select_option("select[name=action]", "grant_tier")
    page.get_by_role("button", name="Go").click()
    page.select_option("#id_tier", label="Gold")
    page.fill("#id_until", (timezone.localtime() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_reason", "Press partner")
    screenshot("admin-grant-tier-form")
    page.get_by_role("button", name="Grant").click()
    expect(page.locator(".messagelist")).to_contain_text("Granted Gold until")
    page.goto(f"{live_server.url}/admin/loyalty/member/{member.pk}/change/")
    expect(page.locator(".field-tier_grant")).to_contain_text("Gold until")
    screenshot("admin-member-tier-status")
    member.refresh_from_db()
    assert member.tier == gold
