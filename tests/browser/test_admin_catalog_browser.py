"""The reward catalog console in a real browser: a merchandiser's reward, and the donation report."""

import pytest
from django.conf import settings as django_settings
from django.urls import re_path
from django.views.static import serve
from PIL import Image
from playwright.sync_api import expect

from config.urls import urlpatterns as host_urlpatterns
from loyalty.models import Charity, Reward
from loyalty.services import redeem_reward

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def media(request, path):
    return serve(request, path, document_root=django_settings.MEDIA_ROOT)


# The demo host leaves serving uploads to its web server; these tests serve them as a host would.
urlpatterns = [*host_urlpatterns, re_path(r"^media/(?P<path>.*)$", media)]


@pytest.fixture
def uploads(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ROOT_URLCONF = __name__
    return settings.MEDIA_ROOT


def sign_in_to_admin(page, live_server, next_url: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")


def test_a_merchandiser_creates_a_translated_reward_with_offers_and_an_image(
    page, live_server, admin_user, market, make_market, rates, uploads, tmp_path, screenshot
):
    make_market("CN", "CNY", rate="7.80", language="zh-hans", time_zone="Asia/Shanghai")
    picture = tmp_path / "coffee.png"
    Image.new("RGB", (120, 80), "#7c2d12").save(picture)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in_to_admin(page, live_server, "/admin/loyalty/reward/add/")

    page.fill("#id_code", "coffee")
    page.fill("#id_name_en", "Free coffee")
    page.click('a[href="#tab_id_name_zh_hans"]')
    page.fill("#id_name_zh_hans", "免费咖啡")
    page.fill("#id_terms_en", "One coffee per visit.")
    page.select_option("#id_reward_type", "fixed_discount")
    page.set_input_files("#id_image", str(picture))
    page.select_option("#id_offers-0-market", label="Europe (EU)")
    page.fill("#id_offers-0-points", "500")
    page.fill("#id_offers-0-value_0", "5.00")
    page.select_option("#id_offers-0-value_1", "EUR")
    page.get_by_role("button", name="Add another Market offer").click()
    page.select_option("#id_offers-1-market", label="CN (CN)")
    page.fill("#id_offers-1-points", "500")
    page.fill("#id_offers-1-value_0", "39.00")
    page.select_option("#id_offers-1-value_1", "CNY")
    screenshot("admin-reward-add-form")
    page.click("input[name=_save]")

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    row = page.locator("#result_list tbody tr", has_text="coffee")
    thumbnail = row.locator("img.reward-thumbnail")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("image => image.naturalWidth") == 120
    expect(row.locator(".field-offers_summary")).to_contain_text("EU 500 pts · 5.00 EUR")
    expect(row.locator(".field-translations")).to_have_text("CN: zh-hans (terms)")
    screenshot("admin-reward-list")

    row.get_by_role("link", name="coffee", exact=True).click()
    expect(page.locator(".field-image_preview img")).to_be_visible()
    expect(page.locator("#id_offers-1-value_0")).to_have_value("5.00")
    expect(page.locator(".field-translations_by_market")).to_contain_text("CN: zh-hans (terms)")
    screenshot("admin-reward-change-form")

    reward = Reward.objects.get(code="coffee")
    assert (reward.name_en, reward.name_zh_hans) == ("Free coffee", "免费咖啡")
    assert sorted(reward.offers.values_list("market__code", "points")) == [("CN", 500), ("EU", 500)]
    assert (uploads / reward.image.name).exists()
    assert [url for url in requested if not url.startswith(live_server.url)] == []


def test_the_donation_report_lists_this_months_donations(
    page, live_server, admin_user, market, make_member, make_reward, fund, screenshot
):
    charity = Charity.objects.create(name="Red Cross", registration_number="RC-1")
    reward = make_reward("red-cross", reward_type="charity", charity=charity, points=500, value="5.00")
    for key in ("d1", "d2"):
        donor = make_member()
        fund(donor, 500)
        redeem_reward(donor, reward, idempotency_key=key)
    sign_in_to_admin(page, live_server, "/admin/loyalty/charity/")
    page.get_by_role("link", name="Donation report").click()
    rows = page.locator("#donation-rows tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Red Cross")
    expect(rows.first).to_contain_text("10.00 EUR")
    expect(page.locator("#donation-totals")).to_contain_text("10.00 EUR")
    expect(page.locator("#donations-csv")).to_be_visible()
    screenshot("admin-donation-report")
