from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from loyalty.models import Challenge, Tier
from loyalty.services import confirm_order, record_order, referral_code_for
from tests.helpers import eur

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shopper(make_member, make_user):
    """A Silver member two thirds of the way to a challenge, with one badge earned and a friend referred."""
    Tier.objects.create(code="bronze", rank=0, name="Bronze", badge_colour="#b08d57")
    Tier.objects.create(
        code="silver",
        rank=1,
        name="Silver",
        badge_colour="#8a96a8",
        entry_spend=Decimal("200"),
        retain_spend=Decimal("150"),
        earn_multiplier=Decimal("1.25"),
        free_shipping=True,
        benefits="Birthday gift",
    )
    Tier.objects.create(
        code="gold", rank=2, name="Gold", badge_colour="#d4a017", entry_spend=Decimal("500"), entry_orders=6
    )
    now = timezone.now()
    for code, name, goal, badge, colour in (
        ("first-order", "Your first order", 1, "Starter", "#0b6e4f"),
        ("three-orders", "Three orders in a month", 3, "Regular", "#c2410c"),
    ):
        Challenge.objects.create(
            code=code,
            name=name,
            description="Orders count once their return period is over.",
            event="purchase",
            goal=goal,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30),
            bonus_points=50 * goal,
            badge_name=badge,
            badge_colour=colour,
        )
    member = make_member()
    for order_id, amount in (("ORDER-2001", "229.90"), ("ORDER-2002", "150.10")):
        record_order(member, order_id=order_id, amount=eur(amount))
        confirm_order(order_id=order_id)
    make_member(referral_code=referral_code_for(member))
    return member


def test_a_silver_member_sees_tier_progress_challenges_and_referral(page, sign_in, shopper, screenshot):
    sign_in(shopper.user.username)
    expect(page.get_by_test_id("tier-name")).to_have_text("Silver")
    expect(page.get_by_role("progressbar", name="Progress to Gold")).to_have_attribute("value", "380.00")
    expect(page.get_by_test_id("tier-next")).to_contain_text("Spend €120.00 more or place 4 more orders by")
    expect(page.get_by_test_id("tier-keep")).to_contain_text("You have done what it takes to keep Silver")
    expect(page.get_by_test_id("challenge")).to_have_count(2)
    expect(page.get_by_test_id("badges")).to_contain_text("Starter")
    expect(page.get_by_test_id("referrals-pending")).to_have_text("1")
    screenshot("member-center-tiers")


def test_the_member_center_fits_a_phone_screen(page, sign_in, shopper, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(shopper.user.username)
    expect(page.get_by_test_id("tier-progress")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0
    screenshot("member-center-tiers-mobile")


def test_the_copy_button_puts_the_referral_link_on_the_clipboard(page, sign_in, shopper):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(shopper.user.username)
    link = page.get_by_test_id("referral-link").input_value()
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_test_id("copy-status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert link.endswith(f"/loyalty/?ref={referral_code_for(shopper)}")


def test_a_friend_joins_through_the_referral_link(page, sign_in, shopper, make_user, settings, screenshot):
    settings.LOYALTY = {"DEFAULT_MARKET": "EU"}
    make_user(username="friend")
    code = referral_code_for(shopper)
    sign_in("friend", next_url=f"/loyalty/?ref={code}")
    expect(page.get_by_label("Referral code (optional)")).to_have_value(code)
    screenshot("join-with-referral-code")
    page.get_by_role("button", name="Join now").click()
    expect(page.get_by_test_id("available")).to_be_visible()
    assert shopper.referrals.filter(referred__user__username="friend").exists()
