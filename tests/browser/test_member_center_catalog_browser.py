"""A shopper spends points in the reward catalog, in a real headless Chromium."""

from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.urls import re_path
from django.views.static import serve
from djmoney.money import Money
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from config.urls import urlpatterns as host_urlpatterns
from loyalty.models import Charity, Member, Redemption, RedemptionStatus, Reward, RewardCategory, RewardOffer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def serve_media(request, path):
    return serve(request, path, document_root=django_settings.MEDIA_ROOT)


# The demo host's URLs, with uploaded reward images served whatever DEBUG says.
urlpatterns = [*host_urlpatterns, re_path(r"^media/(?P<path>.*)$", serve_media)]


def picture(media_root, name: str, background: str, accent: str) -> str:
    """A small drawn product picture saved under MEDIA_ROOT; returns its name for the ImageField."""
    relative = f"loyalty/rewards/{name}.png"
    path = media_root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (480, 360), background)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((150, 90, 330, 290), radius=28, fill=accent)
    draw.ellipse((200, 40, 280, 120), outline=accent, width=14)
    image.save(path)
    return relative


def offer(reward: Reward, market, *, points: int, value: str | None, stock: int | None = None) -> None:
    money = Money(Decimal(value), market.default_currency) if value else None
    RewardOffer.objects.create(reward=reward, market=market, points=points, value=money, stock=stock)


@pytest.fixture
def catalog(settings, tmp_path, market):
    """Six rewards of the EU market in English, Simplified Chinese and Arabic, four with pictures."""
    settings.MEDIA_ROOT = tmp_path
    settings.ROOT_URLCONF = __name__
    gifts = RewardCategory.objects.create(code="gifts", name="Gifts", name_zh_hans="礼品", name_ar="هدايا")
    vouchers = RewardCategory.objects.create(
        code="vouchers", name="Vouchers", name_zh_hans="优惠券", name_ar="قسائم", sort_order=1
    )
    giving = RewardCategory.objects.create(code="giving", name="Giving", name_zh_hans="公益", name_ar="عطاء")
    rows = [
        ("coffee-voucher", "fixed_discount", vouchers, 500, "5.00", None, ("#f3e4d3", "#7b4a26"), {}),
        ("tote-bag", "free_product", gifts, 1000, "12.00", 3, ("#dcefe6", "#0b6e4f"), {}),
        ("ten-percent-off", "percent_discount", vouchers, 800, "20.00", None, None, {"percent_off": 10}),
        ("enamel-mug", "free_product", gifts, 400, "8.00", 0, ("#e6ecf5", "#35507a"), {}),
        ("spa-day", "experience", gifts, 5000, "60.00", None, ("#efe3f5", "#6b3a85"), {}),
        ("plant-a-tree", "charity", giving, 300, "3.00", None, None, {}),
    ]
    texts = {
        "coffee-voucher": ("Coffee voucher", "咖啡代金券", "قسيمة قهوة"),
        "tote-bag": ("Organic tote bag", "有机棉帆布袋", "حقيبة قماشية عضوية"),
        "ten-percent-off": ("10% off your next order", "下单享九折", "خصم 10٪ على طلبك التالي"),
        "enamel-mug": ("Enamel camping mug", "搪瓷露营杯", "كوب تخييم مطلي"),
        "spa-day": ("Spa day for two", "双人水疗日", "يوم سبا لشخصين"),
        "plant-a-tree": ("Plant a tree", "种一棵树", "ازرع شجرة"),
    }
    charity = Charity.objects.create(name="Forest Friends")
    for order, (code, kind, category, points, value, stock, colours, extra) in enumerate(rows):
        english, chinese, arabic = texts[code]
        reward = Reward.objects.create(
            code=code,
            reward_type=kind,
            category=category,
            name_en=english,
            name_zh_hans=chinese,
            name_ar=arabic,
            description_en=f"{english}: a thank-you for shopping with us.",
            description_zh_hans=f"{chinese}：感谢您的支持。",
            description_ar=f"{arabic}: شكرًا لتسوقك معنا.",
            terms_en="One per order. Cannot be exchanged for cash.",
            terms_zh_hans="每笔订单限用一张，不可兑换现金。",
            terms_ar="واحدة لكل طلب. لا يمكن استبدالها نقدًا.",
            image=picture(tmp_path, code, *colours) if colours else "",
            charity=charity if kind == "charity" else None,
            sort_order=order,
            valid_days=None if kind == "charity" else 30,
            **extra,
        )
        offer(reward, market, points=points, value=value, stock=stock)


@pytest.fixture
def shopper(member, fund, catalog):
    fund(member, 1200)
    return member


def speak(member, language: str) -> None:
    Member.objects.filter(pk=member.pk).update(language=language)


def test_a_shopper_filters_the_catalog_redeems_a_reward_and_cancels_it(page, sign_in, shopper, screenshot):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(shopper.user.username)
    page.get_by_role("link", name="Spend points on rewards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rewards catalog")
    expect(page.get_by_test_id("reward-card")).to_have_count(6)
    expect(page.locator("img.ly-reward-image").first).to_have_js_property("naturalWidth", 480)
    screenshot("catalog-en")

    page.get_by_label("Category").select_option("gifts")
    page.get_by_label("Only what I can afford").check()
    page.get_by_role("button", name="Show rewards").click()
    expect(page.get_by_test_id("reward-name")).to_have_text(["Organic tote bag", "Enamel camping mug"])
    expect(page.get_by_test_id("unavailable-reason")).to_have_text(["This reward is out of stock."])
    expect(page.get_by_label("Only what I can afford")).to_be_checked()

    page.get_by_role("link", name="Organic tote bag").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organic tote bag")
    expect(page.get_by_test_id("reward-terms")).to_contain_text("Cannot be exchanged for cash.")
    screenshot("reward-detail-en")
    page.get_by_role("link", name="Redeem").click()

    expect(page.get_by_test_id("balance-after")).to_have_text("200")
    expect(page.get_by_test_id("redeem-validity")).to_have_text("Use it within 30 days of redeeming it.")
    screenshot("reward-confirm-en")
    page.get_by_role("button", name="Confirm and redeem").click()

    expect(page.get_by_test_id("message")).to_have_text("Organic tote bag is yours.")
    redemption = Redemption.objects.get()
    expect(page.get_by_test_id("coupon-code")).to_have_value(redemption.code)
    expect(page.get_by_test_id("redemption-status")).to_have_text("Issued")
    page.get_by_role("button", name="Copy code").click()
    assert page.evaluate("navigator.clipboard.readText()") == redemption.code
    screenshot("my-rewards-en")

    page.get_by_role("link", name="Cancel and get the points back").click()
    expect(page.get_by_test_id("cancel-explanation")).to_contain_text("1,000 points will come back")
    screenshot("reward-cancel-en")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_test_id("message")).to_have_text("Cancelled: 1,000 points are back in your account.")
    expect(page.get_by_test_id("redemption-status")).to_have_text("Cancelled")
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED

    page.get_by_role("link", name="Member center").first.click()
    expect(page.get_by_test_id("available")).to_have_text("1200")


def test_double_clicking_confirm_redeems_once(page, sign_in, shopper):
    reward = Reward.objects.get(code="coffee-voucher")
    sign_in(shopper.user.username, next_url=f"/loyalty/rewards/{reward.pk}/redeem/")
    page.get_by_role("button", name="Confirm and redeem").dblclick()
    expect(page.get_by_test_id("coupon-code")).to_have_count(1)
    assert Redemption.objects.count() == 1


def test_the_catalog_in_simplified_chinese(page, sign_in, shopper, screenshot):
    speak(shopper, "zh-hans")
    sign_in(shopper.user.username, next_url="/loyalty/rewards/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("reward-name").first).to_have_text("咖啡代金券")
    expect(page.get_by_test_id("reward-category").first).to_have_text("优惠券")
    screenshot("catalog-zh-hans")


def test_the_catalog_in_arabic_reads_right_to_left(page, sign_in, shopper, screenshot):
    speak(shopper, "ar")
    sign_in(shopper.user.username, next_url="/loyalty/rewards/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("reward-name").first).to_have_text("قسيمة قهوة")
    page.wait_for_load_state()
    cards = page.get_by_test_id("reward-card")
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert first["x"] > second["x"], "the first card stands on the right"
    screenshot("catalog-ar")


def test_redeeming_in_arabic_reads_right_to_left(page, sign_in, shopper, screenshot):
    speak(shopper, "ar")
    reward = Reward.objects.get(code="tote-bag")
    sign_in(shopper.user.username, next_url=f"/loyalty/rewards/{reward.pk}/redeem/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("حقيبة قماشية عضوية")
    screenshot("reward-confirm-ar")
    page.locator("form.ly-actions button[type=submit]").click()
    code = page.get_by_test_id("coupon-code")
    expect(code).to_have_value(Redemption.objects.get().code)
    page.wait_for_load_state()
    box, heading = code.bounding_box(), page.get_by_test_id("redemption-name").bounding_box()
    assert box["x"] + box["width"] == pytest.approx(heading["x"] + heading["width"], abs=2), "aligned right"
    screenshot("my-rewards-ar")


def test_the_catalog_fits_a_phone_screen(page, sign_in, shopper, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(shopper.user.username, next_url="/loyalty/rewards/")
    expect(page.get_by_test_id("reward-card")).to_have_count(6)
    page.wait_for_load_state()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0
    screenshot("catalog-mobile")
