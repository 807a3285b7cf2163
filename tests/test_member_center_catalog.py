"""The member center's reward pages: the catalog, a reward, redeeming it, and my rewards."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from loyalty.exceptions import InsufficientPoints
from loyalty.models import EntryType, Member, Redemption, RedemptionStatus, RewardCategory
from loyalty.services import mark_redemption_used, redeem_reward
from tests.helpers import account_of, assert_books_balance, entries_of

CATALOG = "/loyalty/rewards/"
MINE = "/loyalty/rewards/mine/"

pytestmark = pytest.mark.django_db


def detail_url(reward) -> str:
    return f"{CATALOG}{reward.pk}/"


def redeem_url(reward) -> str:
    return f"{CATALOG}{reward.pk}/redeem/"


def cancel_url(redemption) -> str:
    return f"{MINE}{redemption.pk}/cancel/"


def shown_codes(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'data-testid="reward-card" data-reward="([^"]+)"', response.content.decode())


def key_on(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', response.content.decode()).group(1)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def shopper(member, fund):
    fund(member, 1000)
    return member


@pytest.fixture
def signed_in(client, shopper):
    client.force_login(shopper.user)
    return client


@pytest.fixture
def gifts(db) -> RewardCategory:
    return RewardCategory.objects.create(code="gifts", name="Gifts")


def speak(member, language: str, time_zone: str | None = None) -> None:
    fields = {"language": language, **({"time_zone": time_zone} if time_zone else {})}
    Member.objects.filter(pk=member.pk).update(**fields)


# The catalog ---------------------------------------------------------------------------------------------


def test_the_catalog_shows_each_reward_with_its_points_value_and_category(signed_in, make_reward, gifts):
    make_reward("mug", name="Coffee mug", points=800, value="12.50", category=gifts)
    response = signed_in.get(CATALOG)
    html = response.content.decode()
    assert shown_codes(response) == ["mug"]
    assert "Coffee mug" in html
    assert 'data-testid="reward-points">800 points<' in html
    assert 'data-testid="reward-value">€12.50<' in html
    assert 'data-testid="reward-category">Gifts<' in html
    assert 'data-testid="catalog-available">You have 1,000 points to spend<' in html


def test_money_and_numbers_are_written_the_members_way(signed_in, shopper, make_reward):
    speak(shopper, "de")
    make_reward("mug", points=1500, value="12.50")
    html = signed_in.get(CATALOG).content.decode()
    assert "12,50\xa0€" in html
    assert "1.500" in html


def test_the_catalog_filters_by_category_type_price_and_affordability(signed_in, make_reward, gifts):
    make_reward("pen", points=200, category=gifts, reward_type="free_product")
    make_reward("voucher", points=900)
    make_reward("spa", points=5000, reward_type="experience")
    assert shown_codes(signed_in.get(CATALOG, {"category": "gifts"})) == ["pen"]
    assert shown_codes(signed_in.get(CATALOG, {"type": "experience"})) == ["spa"]
    assert shown_codes(signed_in.get(CATALOG, {"max_points": "900", "ordering": "points"})) == [
        "pen",
        "voucher",
    ]
    assert shown_codes(signed_in.get(CATALOG, {"affordable": "on", "ordering": "-points"})) == [
        "voucher",
        "pen",
    ]


def test_the_filter_form_keeps_what_was_chosen(signed_in, make_reward, gifts):
    make_reward("pen", category=gifts)
    html = signed_in.get(
        CATALOG, {"category": "gifts", "affordable": "on", "ordering": "newest"}
    ).content.decode()
    assert '<option value="gifts" selected>Gifts</option>' in html
    assert '<option value="newest" selected>' in html
    assert re.search(r'<input type="checkbox" name="affordable"[^>]* checked', html)


def test_an_invalid_filter_is_explained_and_the_rest_still_applies(signed_in, make_reward):
    make_reward("voucher", points=900)
    make_reward("spa", points=5000, reward_type="experience")
    response = signed_in.get(CATALOG, {"max_points": "lots", "type": "experience"})
    assert 'data-testid="filter-errors"' in response.content.decode()
    assert shown_codes(response) == ["spa"]


def test_a_reward_that_cannot_be_redeemed_says_why(signed_in, shopper, make_reward):
    make_reward("sold-out", points=100, stock=0)
    make_reward("dear", points=1250)
    redeem_reward(shopper, make_reward("once", points=100, limit_per_member=1), idempotency_key="k")
    html = signed_in.get(CATALOG, {"ordering": "points"}).content.decode()
    reasons = re.findall(r'data-testid="unavailable-reason">([^<]+)<', html)
    assert reasons == [
        "You have already redeemed this reward as many times as allowed for now.",
        "This reward is out of stock.",
        "You need 350 more points.",
    ]


def test_an_empty_catalog_says_so(signed_in):
    assert 'data-testid="catalog-empty"' in signed_in.get(CATALOG).content.decode()


def test_the_catalog_is_paginated(signed_in, make_reward):
    for number in range(30):
        make_reward(f"reward-{number:02}", sort_order=number)
    first = signed_in.get(CATALOG, {"type": "fixed_discount"})
    assert len(shown_codes(first)) == 24
    assert 'href="?type=fixed_discount&amp;page=2" rel="next"' in first.content.decode()
    assert shown_codes(signed_in.get(CATALOG, {"page": 2}))[0] == "reward-24"


def test_the_catalog_page_costs_the_same_queries_with_2_or_20_rewards(
    make_member, make_market, make_reward, fund
):
    counts = []
    for size in (2, 20):
        market = make_market(f"M{size}", "EUR")
        member = make_member(market=market)
        for number in range(size):
            category = RewardCategory.objects.create(code=f"c{size}-{number}", name="Category")
            make_reward(f"r{size}-{number}", market=market, category=category, limit_per_member=2)
        client = Client()
        client.force_login(member.user)
        with CaptureQueriesContext(connection) as captured:
            assert len(shown_codes(client.get(CATALOG))) == size
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_a_reward_for_another_market_is_not_listed_and_its_pages_are_404(signed_in, make_reward, make_market):
    elsewhere = make_reward("us-only", market=make_market("US", "USD"))
    assert shown_codes(signed_in.get(CATALOG)) == []
    assert signed_in.get(detail_url(elsewhere)).status_code == 404
    assert signed_in.get(redeem_url(elsewhere)).status_code == 404
    assert signed_in.post(redeem_url(elsewhere), {"idempotency_key": "k"}).status_code == 404
    assert not Redemption.objects.exists()


# One reward and redeeming it -----------------------------------------------------------------------------


def test_the_reward_page_shows_description_terms_validity_and_price(signed_in, make_reward):
    reward = make_reward(
        "mug",
        name="Coffee mug",
        description="Stoneware, 350 ml.",
        terms="One per order.",
        points=800,
        value="12.50",
        valid_days=60,
        stock=4,
    )
    html = signed_in.get(detail_url(reward)).content.decode()
    assert "<h1" in html and "Coffee mug</h1>" in html
    assert "Stoneware, 350 ml." in html
    assert "One per order." in html
    assert "Use it within 60 days of redeeming it." in html
    assert "800 points" in html and "€12.50" in html
    assert "<dt>In stock</dt><dd>4</dd>" in html
    assert f'href="{redeem_url(reward)}"' in html


def test_a_gift_says_it_does_not_expire_whatever_its_days_valid(signed_in, make_reward):
    reward = make_reward("tote", reward_type="physical_gift", valid_days=30)
    html = signed_in.get(detail_url(reward)).content.decode()
    assert "It does not expire." in html
    assert "Use it within" not in html


def test_the_reward_page_has_no_redeem_link_when_the_member_cannot_afford_it(signed_in, make_reward):
    reward = make_reward(points=5000)
    html = signed_in.get(detail_url(reward)).content.decode()
    assert "You need 4,000 more points." in html
    assert 'data-testid="redeem-link"' not in html


def test_the_confirmation_shows_the_cost_the_balance_after_the_terms_and_the_validity(signed_in, make_reward):
    reward = make_reward(points=300, terms="Not valid on sale items.", valid_days=14)
    response = signed_in.get(redeem_url(reward))
    html = response.content.decode()
    assert 'data-testid="redeem-price">300 points<' in html
    assert 'data-testid="balance-now">1,000<' in html
    assert 'data-testid="balance-after">700<' in html
    assert "Not valid on sale items." in html
    assert "Use it within 14 days of redeeming it." in html
    assert "csrfmiddlewaretoken" in html
    assert not Redemption.objects.exists()


def test_each_confirmation_carries_a_new_idempotency_key(signed_in, make_reward):
    reward = make_reward()
    assert key_on(signed_in.get(redeem_url(reward))) != key_on(signed_in.get(redeem_url(reward)))


def test_confirming_redeems_and_sends_the_member_to_my_rewards(signed_in, shopper, make_reward):
    reward = make_reward(name="Coffee mug", points=300)
    key = key_on(signed_in.get(redeem_url(reward)))
    response = signed_in.post(redeem_url(reward), {"idempotency_key": key}, follow=True)
    redemption = Redemption.objects.get()
    assert response.redirect_chain == [(f"{MINE}#redemption-{redemption.pk}", 302)]
    assert messages_of(response) == ["Coffee mug is yours."]
    assert redemption.code in response.content.decode()
    assert account_of(shopper).available == 700


def test_posting_the_confirmation_twice_redeems_once(signed_in, shopper, make_reward):
    reward = make_reward(points=300)
    key = key_on(signed_in.get(redeem_url(reward)))
    first = signed_in.post(redeem_url(reward), {"idempotency_key": key})
    second = signed_in.post(redeem_url(reward), {"idempotency_key": key})
    assert first["Location"] == second["Location"]
    assert Redemption.objects.count() == 1
    assert entries_of(shopper, entry_type=EntryType.REDEEM).count() == 1
    assert account_of(shopper).available == 700
    assert_books_balance()


def test_a_failed_redemption_goes_back_with_the_error_in_the_members_language(
    signed_in, shopper, make_reward
):
    speak(shopper, "zh-hans")
    reward = make_reward(points=300)
    shopper.refresh_from_db()
    redeem_reward(shopper, make_reward("other", points=800), idempotency_key="spent")
    response = signed_in.post(redeem_url(reward), {"idempotency_key": "new"}, follow=True)
    assert response.redirect_chain == [(redeem_url(reward), 302)]
    with translation.override("zh-hans"):
        expected = str(InsufficientPoints.default_detail)
    assert expected == "可用积分不足。"
    assert messages_of(response) == [expected]
    assert Redemption.objects.count() == 1


def test_a_confirmation_without_a_key_redeems_nothing(signed_in, make_reward):
    response = signed_in.post(redeem_url(make_reward()), {}, follow=True)
    assert messages_of(response) == [
        "The idempotency key must be a non-empty text of at most 150 characters."
    ]
    assert not Redemption.objects.exists()


def test_redeeming_needs_a_csrf_token(shopper, make_reward):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper.user)
    assert client.post(redeem_url(make_reward()), {"idempotency_key": "k"}).status_code == 403
    assert not Redemption.objects.exists()


# My rewards and cancelling --------------------------------------------------------------------------------


def test_my_rewards_shows_each_coupon_code_status_validity_and_value(signed_in, shopper, make_reward):
    issued = redeem_reward(shopper, make_reward("mug", name="Coffee mug", value="12.50"), idempotency_key="a")
    html = signed_in.get(MINE).content.decode()
    assert f'value="{issued.code}"' in html
    assert "data-copy-from" in html and "loyalty/js/copy.js" in html
    assert 'data-testid="redemption-status">Issued<' in html
    assert "Coffee mug" in html
    assert 'data-testid="redemption-value">€12.50<' in html
    with timezone.override("Europe/Berlin"):
        assert date_format(timezone.localtime(issued.valid_until), "DATETIME_FORMAT") in html


def test_my_rewards_shows_times_in_the_members_time_zone(signed_in, shopper, make_reward):
    issued = redeem_reward(shopper, make_reward(), idempotency_key="a")
    speak(shopper, "en", time_zone="Asia/Tokyo")
    html = signed_in.get(MINE).content.decode()
    with timezone.override("Asia/Tokyo"):
        tokyo = date_format(timezone.localtime(issued.valid_until), "DATETIME_FORMAT")
    with timezone.override("UTC"):
        utc = date_format(timezone.localtime(issued.valid_until), "DATETIME_FORMAT")
    assert tokyo in html and utc not in html


def test_only_cancellable_rewards_offer_to_cancel(signed_in, shopper, make_reward):
    redeem_reward(shopper, make_reward("kept", points=100), idempotency_key="a")
    used = redeem_reward(shopper, make_reward("used", points=100), idempotency_key="b")
    mark_redemption_used(code=used.code, order_id="O-1")
    html = signed_in.get(MINE).content.decode()
    assert html.count('data-testid="cancel-link"') == 1


def test_my_rewards_without_redemptions_points_to_the_catalog(signed_in):
    html = signed_in.get(MINE).content.decode()
    assert 'data-testid="no-redemptions"' in html and f'href="{CATALOG}"' in html


def test_cancelling_asks_first_and_changes_nothing_until_confirmed(signed_in, shopper, make_reward):
    redemption = redeem_reward(shopper, make_reward(points=300), idempotency_key="a")
    html = signed_in.get(cancel_url(redemption)).content.decode()
    assert redemption.code in html and "300 points will come back" in html
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.ISSUED


def test_cancelling_returns_the_points_once(signed_in, shopper, make_reward):
    redemption = redeem_reward(shopper, make_reward(points=300), idempotency_key="a")
    response = signed_in.post(cancel_url(redemption), follow=True)
    assert response.redirect_chain == [(MINE, 302)]
    assert messages_of(response) == ["Cancelled: 300 points are back in your account."]
    again = signed_in.post(cancel_url(redemption), follow=True)
    assert messages_of(again) == ["This reward was already cancelled."]
    assert account_of(shopper).available == 1000
    assert entries_of(shopper, entry_type=EntryType.REVERSAL).count() == 1
    assert 'data-testid="redemption-status">Cancelled<' in again.content.decode()


def test_cancelling_needs_a_csrf_token(shopper, make_reward):
    redemption = redeem_reward(shopper, make_reward(points=300), idempotency_key="a")
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper.user)
    assert client.post(cancel_url(redemption)).status_code == 403
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.ISSUED


def test_another_members_redemption_is_404(signed_in, make_member, make_reward, fund):
    other = make_member()
    fund(other, 500)
    theirs = redeem_reward(other, make_reward(points=100), idempotency_key="a")
    assert signed_in.get(cancel_url(theirs)).status_code == 404
    assert signed_in.post(cancel_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == RedemptionStatus.ISSUED
    assert theirs.code not in signed_in.get(MINE).content.decode()


# Around the pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CATALOG, MINE])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", [CATALOG, MINE])
def test_a_user_who_is_not_a_member_is_sent_to_join(client, make_user, path):
    client.force_login(make_user())
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (302, "/loyalty/")


@pytest.mark.parametrize("method", ["put", "delete"])
def test_the_pages_that_write_answer_only_get_and_post(signed_in, make_reward, method):
    assert getattr(signed_in, method)(redeem_url(make_reward())).status_code == 405


def test_the_member_center_links_to_the_catalog_and_my_rewards(signed_in):
    html = signed_in.get("/loyalty/").content.decode()
    assert f'href="{CATALOG}"' in html and f'href="{MINE}"' in html


def test_the_member_center_history_names_the_reward_in_the_members_language(signed_in, shopper, make_reward):
    speak(shopper, "zh-hans")
    redeem_reward(shopper, make_reward(name="Coffee", name_zh_hans="咖啡"), idempotency_key="a")
    html = signed_in.get("/loyalty/").content.decode()
    assert 'data-testid="entry-reward">咖啡<' in html


def test_arabic_pages_are_right_to_left(signed_in, shopper, make_reward):
    speak(shopper, "ar")
    reward = make_reward(name="Coffee", name_ar="قهوة")
    for path in (CATALOG, detail_url(reward), redeem_url(reward), MINE):
        assert '<html lang="ar" dir="rtl">' in signed_in.get(path).content.decode()


def test_left_to_right_pages_set_no_direction(signed_in):
    assert '<html lang="en">' in signed_in.get(CATALOG).content.decode()


def test_reward_texts_follow_the_members_language_with_fallbacks(signed_in, shopper, make_reward):
    speak(shopper, "ja")
    make_reward("tea", name="Green tea", name_ja="緑茶", description_en="Loose leaf.")
    html = signed_in.get(CATALOG).content.decode()
    assert "緑茶" in html and "Green tea" not in html


def test_the_validity_is_shown_for_issued_rewards_only(signed_in, shopper, make_reward):
    redemption = redeem_reward(shopper, make_reward(points=100), idempotency_key="a")
    assert 'data-testid="redemption-valid-until"' in signed_in.get(MINE).content.decode()
    signed_in.post(cancel_url(redemption))
    assert 'data-testid="redemption-valid-until"' not in signed_in.get(MINE).content.decode()
