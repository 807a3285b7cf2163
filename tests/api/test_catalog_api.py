"""The reward catalog and redemptions in the member API (v1)."""

import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.test import APIClient

from loyalty.exceptions import IdempotencyKeyRequired
from loyalty.i18n import CONTENT_LANGUAGES
from loyalty.models import Charity, EntryType, Redemption, RedemptionStatus, RewardCategory, RewardType
from loyalty.services import mark_redemption_used, redeem_reward
from tests.helpers import account_of, assert_books_balance, entries_of

REWARDS = "/api/loyalty/v1/rewards/"
MINE = "/api/loyalty/v1/me/redemptions/"
LEDGER = "/api/loyalty/v1/me/ledger/"

pytestmark = pytest.mark.django_db


def market_today():
    """Today in the EU market's time zone, where reward windows are counted."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo("Europe/Berlin"))


def reward_url(reward) -> str:
    return f"{REWARDS}{reward.pk}/"


def redeem_url(reward) -> str:
    return f"{REWARDS}{reward.pk}/redeem/"


def cancel_url(redemption) -> str:
    return f"{MINE}{redemption.pk}/cancel/"


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["code"] for item in response.json()["results"]]


def redeem(api, reward, key="key-1", **body):
    return api.post(redeem_url(reward), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def shopper(member, fund):
    fund(member, 1000)
    return member


@pytest.fixture
def api(client_for, shopper) -> APIClient:
    return client_for(shopper)


@pytest.fixture
def gifts(db) -> RewardCategory:
    return RewardCategory.objects.create(code="gifts", name="Gifts", name_zh_hans="礼品", sort_order=1)


# Listing and visibility -------------------------------------------------------------------------------


def test_the_catalog_lists_a_reward_with_its_price_value_and_texts(api, make_reward, gifts):
    make_reward(
        "mug",
        points=800,
        value="12.50",
        stock=3,
        category=gifts,
        reward_type="free_product",
        description="A stoneware mug.",
        terms="One per order.",
        valid_days=60,
        limit_per_member=2,
        limit_period="month",
    )
    (item,) = api.get(REWARDS).json()["results"]
    assert item["code"] == "mug"
    assert (item["name"], item["description"], item["terms"]) == ("Mug", "A stoneware mug.", "One per order.")
    assert item["category"] == {"code": "gifts", "name": "Gifts"}
    assert (item["type"], item["type_display"]) == ("free_product", "free product")
    assert item["points"] == 800
    assert item["value"] == {"amount": "12.50", "currency": "EUR"}
    assert (item["stock"], item["valid_days"]) == (3, 60)
    assert (item["limit_per_member"], item["limit_period"], item["left_for_member"]) == (2, "month", 2)
    assert (item["affordable"], item["redeemable"], item["unavailable_reason"]) == (True, True, None)
    assert item["image"] is None


def test_a_percentage_discount_and_a_donation_show_their_percentage_and_charity(api, make_reward):
    make_reward("ten-off", reward_type="percent_discount", percent_off="10.00", value="20.00")
    make_reward("trees", reward_type="charity", charity=Charity.objects.create(name="Plant a Tree"))
    items = {item["code"]: item for item in api.get(REWARDS).json()["results"]}
    assert (items["ten-off"]["percent_off"], items["ten-off"]["charity"]) == ("10.00", None)
    assert (items["trees"]["percent_off"], items["trees"]["charity"]) == (None, "Plant a Tree")


def test_an_image_is_given_as_an_absolute_url(api, make_reward):
    make_reward("mug", image="loyalty/rewards/mug.png")
    (item,) = api.get(REWARDS).json()["results"]
    assert item["image"] == "http://testserver/media/loyalty/rewards/mug.png"


def test_a_reward_of_another_market_is_absent_and_not_found(api, make_reward, make_market):
    elsewhere = make_reward("us-only", market=make_market("US", "USD"))
    assert codes(api.get(REWARDS)) == []
    for response in (api.get(reward_url(elsewhere)), redeem(api, elsewhere)):
        assert response.status_code == 404
        assert response.json()["code"] == "reward_not_found"


def test_a_reward_for_other_tiers_is_absent_and_not_found(api, make_reward, ladder):
    gold_only = make_reward("lounge")
    gold_only.tiers.add(ladder["gold"])
    assert codes(api.get(REWARDS)) == []
    assert api.get(reward_url(gold_only)).json()["code"] == "reward_not_found"
    assert redeem(api, gold_only).status_code == 404


def test_a_reward_for_the_members_tier_is_listed(api, shopper, make_reward, ladder):
    shopper.tier = ladder["gold"]
    shopper.save(update_fields=["tier"])
    make_reward("lounge").tiers.add(ladder["gold"], ladder["vip"])
    assert codes(api.get(REWARDS)) == ["lounge"]


@pytest.mark.parametrize(
    "window",
    [{"starts_on": 1}, {"ends_on": -1}],
    ids=["not-yet-started", "already-ended"],
)
def test_a_reward_outside_its_date_window_is_absent_and_not_found(api, make_reward, window):
    today = market_today()
    days = {field: today + timedelta(days=offset) for field, offset in window.items()}
    outside = make_reward("seasonal", **days)
    assert codes(api.get(REWARDS)) == []
    assert api.get(reward_url(outside)).status_code == 404
    assert redeem(api, outside).json()["code"] == "reward_not_found"
    assert not Redemption.objects.exists()


def test_a_reward_on_the_last_day_of_its_window_is_listed(api, make_reward):
    make_reward("last-day", starts_on=market_today(), ends_on=market_today())
    assert codes(api.get(REWARDS)) == ["last-day"]


def test_an_unknown_reward_is_not_found(api):
    for path in (f"{REWARDS}999999/", f"{REWARDS}abc/"):
        response = api.get(path)
        assert (response.status_code, response.json()["code"]) == (404, "reward_not_found")


def test_anonymous_visitors_cannot_read_the_catalog(db):
    assert APIClient().get(REWARDS).status_code in (401, 403)


# Languages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "name", "category"),
    [("zh-hans", "咖啡券", "礼品"), ("ar", "قسيمة قهوة", "هدايا"), ("pt-br", "Vale café", "Presentes")],
)
def test_texts_come_in_the_request_language(api, make_reward, gifts, language, name, category):
    gifts.name_ar, gifts.name_pt_br = "هدايا", "Presentes"
    gifts.save()
    make_reward(
        "coffee",
        category=gifts,
        name="Coffee voucher",
        name_zh_hans="咖啡券",
        name_ar="قسيمة قهوة",
        name_pt_br="Vale café",
        description="Any coffee",
        description_zh_hans="任意咖啡",
        description_ar="أي قهوة",
        description_pt_br="Qualquer café",
    )
    (item,) = api.get(REWARDS, HTTP_ACCEPT_LANGUAGE=language).json()["results"]
    assert (item["name"], item["category"]["name"]) == (name, category)
    assert item["description"] != "Any coffee"


def test_the_type_label_follows_the_request_language(api, make_reward):
    make_reward("voucher")
    (item,) = api.get(REWARDS, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    with translation.override("zh-hans"):
        assert item["type_display"] == str(RewardType.FIXED_DISCOUNT.label)


def test_a_missing_translation_falls_back_per_field_to_the_markets_language_then_the_programs(
    client_for, make_member, make_market, make_reward, fund
):
    brazil = make_market("BR", "BRL", language="pt-br", time_zone="America/Sao_Paulo")
    member = make_member(market=brazil)
    make_reward(
        "tote",
        market=brazil,
        name_en="Tote bag",
        name_pt_br="Sacola",
        description_en="Organic cotton.",
        terms_en="While stocks last.",
        terms_ar="حتى نفاد الكمية",
    )
    (item,) = client_for(member).get(REWARDS, HTTP_ACCEPT_LANGUAGE="ar").json()["results"]
    assert item["terms"] == "حتى نفاد الكمية"  # the request's language
    assert item["name"] == "Sacola"  # the market's language
    assert item["description"] == "Organic cotton."  # the program's language


# Filters, ordering and pagination ----------------------------------------------------------------------


@pytest.fixture
def assortment(make_reward, gifts):
    """Rewards created oldest first: a cheap gift, a mid-priced voucher and a dear experience."""
    now = timezone.now()
    return [
        make_reward(
            "pen",
            points=200,
            category=gifts,
            reward_type="free_product",
            sort_order=3,
            created_at=now - timedelta(days=3),
        ),
        make_reward("voucher", points=900, sort_order=1, created_at=now - timedelta(days=2)),
        make_reward(
            "spa", points=5000, reward_type="experience", sort_order=2, created_at=now - timedelta(days=1)
        ),
    ]


def test_the_catalog_is_featured_first_by_default(api, assortment):
    assert codes(api.get(REWARDS)) == ["voucher", "spa", "pen"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("featured", ["voucher", "spa", "pen"]),
        ("points", ["pen", "voucher", "spa"]),
        ("-points", ["spa", "voucher", "pen"]),
        ("newest", ["spa", "voucher", "pen"]),
    ],
)
def test_each_ordering_sorts_the_catalog(api, assortment, ordering, expected):
    assert codes(api.get(REWARDS, {"ordering": ordering})) == expected


def test_an_unknown_ordering_is_a_400_with_a_code(api, assortment):
    response = api.get(REWARDS, {"ordering": "cheapest"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_filter"
    assert "ordering" in body["detail"] and "cheapest" in body["detail"]


def test_the_category_filter_takes_a_category_code(api, assortment):
    assert codes(api.get(REWARDS, {"category": "gifts"})) == ["pen"]


def test_an_unknown_category_is_a_400_with_a_code(api, assortment):
    response = api.get(REWARDS, {"category": "nope"})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_filter")


def test_the_type_filter(api, assortment):
    assert codes(api.get(REWARDS, {"type": "experience"})) == ["spa"]


def test_the_max_points_filter_keeps_rewards_up_to_that_price(api, assortment):
    assert codes(api.get(REWARDS, {"max_points": 900, "ordering": "points"})) == ["pen", "voucher"]


def test_max_points_must_be_a_whole_number(api, assortment):
    response = api.get(REWARDS, {"max_points": "lots"})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_filter")


def test_the_affordable_filter_keeps_what_the_available_points_cover(api, assortment):
    assert codes(api.get(REWARDS, {"affordable": "true", "ordering": "points"})) == ["pen", "voucher"]
    assert codes(api.get(REWARDS, {"affordable": "false", "ordering": "points"})) == ["pen", "voucher", "spa"]


def test_an_affordable_filter_that_is_not_a_boolean_is_a_400(api, assortment):
    assert api.get(REWARDS, {"affordable": "maybe"}).json()["code"] == "invalid_filter"


def test_filters_combine(api, assortment):
    assert codes(api.get(REWARDS, {"affordable": "true", "type": "fixed_discount"})) == ["voucher"]


def test_each_item_says_why_it_cannot_be_redeemed(api, shopper, make_reward, fund):
    make_reward("sold-out", points=100, stock=0)
    make_reward("once", points=100, limit_per_member=1)
    make_reward("dear", points=5000)
    redeem_reward(shopper, make_reward("spent", points=100, limit_per_member=1), idempotency_key="k")
    items = {item["code"]: item for item in api.get(REWARDS).json()["results"]}
    assert items["sold-out"]["unavailable_reason"] == "reward_unavailable"
    assert items["spent"]["unavailable_reason"] == "redemption_limit_reached"
    assert items["spent"]["left_for_member"] == 0
    assert (items["dear"]["affordable"], items["dear"]["unavailable_reason"]) == (
        False,
        "insufficient_points",
    )
    assert (items["once"]["redeemable"], items["once"]["left_for_member"]) == (True, 1)


def test_the_catalog_is_paginated_like_the_ledger(api, make_reward, settings):
    settings.LOYALTY = {"API_PAGE_SIZE": 2}
    for number in range(5):
        make_reward(f"reward-{number}", sort_order=number)
    first = api.get(REWARDS).json()
    assert (first["count"], codes_of(first)) == (5, ["reward-0", "reward-1"])
    assert codes_of(api.get(REWARDS, {"page": 3}).json()) == ["reward-4"]
    assert len(api.get(REWARDS, {"page_size": 4}).json()["results"]) == 4


def codes_of(body: dict) -> list[str]:
    return [item["code"] for item in body["results"]]


def test_listing_the_catalog_costs_the_same_queries_with_2_or_25_fully_translated_rewards(
    client_for, make_member, make_reward, make_market, fund
):
    counts = []
    for size in (2, 25):
        market = make_market(f"M{size}", "EUR", language="de")
        member = make_member(market=market)
        fund(member, 10_000)
        charity = Charity.objects.create(name=f"Charity {size}")
        for number in range(size):
            texts = {
                f"{field}_{language.replace('-', '_')}": f"{field} {language} {number}"
                for field in ("name", "description", "terms")
                for language in CONTENT_LANGUAGES
            }
            category = RewardCategory.objects.create(
                code=f"c{size}-{number}",
                **{f"name_{language.replace('-', '_')}": f"cat {language}" for language in CONTENT_LANGUAGES},
            )
            donation = {"reward_type": "charity", "charity": charity} if number % 2 else {}
            make_reward(
                f"r{size}-{number}", market=market, category=category, limit_per_member=3, **donation, **texts
            )
        redeem_reward(member, make_reward(f"r{size}-bought", market=market), idempotency_key="k")
        member_api = client_for(member)
        with CaptureQueriesContext(connection) as captured:
            response = member_api.get(REWARDS, {"page_size": 100}, HTTP_ACCEPT_LANGUAGE="ja")
        assert len(response.json()["results"]) == size + 1
        counts.append(len(captured.captured_queries))
    assert counts == [7, 7]  # session, user, member, account, count, offers, limits


# Redeeming -----------------------------------------------------------------------------------------------


def test_redeeming_issues_a_coupon_and_answers_201(api, shopper, make_reward):
    reward = make_reward("voucher", points=300, value="3.00", valid_days=30)
    response = redeem(api, reward)
    assert response.status_code == 201
    body = response.json()
    redemption = Redemption.objects.get()
    assert (body["id"], body["code"], body["status"]) == (redemption.pk, redemption.code, "issued")
    assert body["reward"] == {
        "id": reward.pk,
        "code": "voucher",
        "name": "Voucher",
        "type": "fixed_discount",
        "type_display": "fixed-amount discount",
    }
    assert (body["points"], body["quantity"], body["value"]) == (
        300,
        1,
        {"amount": "3.00", "currency": "EUR"},
    )
    assert body["cancellable"] is True and body["valid_until"] is not None
    assert account_of(shopper).available == 700


def test_redeeming_twice_with_the_same_key_returns_the_same_redemption_and_spends_once(
    api, shopper, make_reward
):
    reward = make_reward(points=300)
    first = redeem(api, reward, key="same")
    second = redeem(api, reward, key="same")
    assert first.json() == second.json()
    assert Redemption.objects.count() == 1
    assert entries_of(shopper, entry_type=EntryType.REDEEM).count() == 1
    assert account_of(shopper).available == 700
    assert_books_balance()


def test_a_replayed_key_returns_its_redemption_even_after_the_reward_left_the_catalog(api, make_reward):
    reward = make_reward(points=300)
    first = redeem(api, reward, key="same").json()
    reward.is_active = False
    reward.save()
    again = redeem(api, reward, key="same")
    assert (again.status_code, again.json()["id"]) == (201, first["id"])


def test_the_same_key_for_another_reward_is_a_conflict(api, make_reward):
    redeem(api, make_reward("one", points=100), key="same")
    response = redeem(api, make_reward("two", points=100), key="same")
    assert (response.status_code, response.json()["code"]) == (409, "idempotency_conflict")


def test_redeeming_without_an_idempotency_key_is_a_400_and_spends_nothing(api, shopper, make_reward):
    response = api.post(redeem_url(make_reward()), {}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "idempotency_key_required",
        "detail": str(IdempotencyKeyRequired.default_detail),
    }
    assert not Redemption.objects.exists()
    assert account_of(shopper).available == 1000


def test_a_quantity_multiplies_the_price(api, shopper, make_reward):
    body = redeem(api, make_reward(points=200, value="2.00", reward_type="physical_gift"), quantity=3).json()
    assert (body["quantity"], body["points"], body["value"]["amount"]) == (3, 600, "6.00")
    assert account_of(shopper).available == 400


@pytest.mark.parametrize("quantity", [0, "two", 11])
def test_an_invalid_quantity_is_a_400(api, make_reward, quantity):
    response = redeem(api, make_reward(points=10), quantity=quantity)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_quantity")


@pytest.mark.parametrize(
    ("reward_fields", "code"),
    [
        ({"points": 100, "stock": 0}, "reward_unavailable"),
        ({"points": 5000}, "insufficient_points"),
        ({"points": 100, "limit_per_member": 1}, "redemption_limit_reached"),
    ],
)
def test_domain_errors_are_409_with_their_code_and_spend_nothing(
    api, shopper, make_reward, reward_fields, code
):
    reward = make_reward(**reward_fields)
    if code == "redemption_limit_reached":
        redeem(api, reward, key="first")
    spent_before = account_of(shopper).available
    response = redeem(api, reward, key="second")
    assert (response.status_code, response.json()["code"]) == (409, code)
    assert account_of(shopper).available == spent_before


@pytest.mark.parametrize("header", [None, "tlh, xx-yy;q=0.5"])
def test_a_request_that_names_no_offered_language_gets_the_members_language(
    client_for, make_member, make_market, make_reward, header
):
    china = make_market("CN", "CNY", language="zh-hans", time_zone="Asia/Shanghai")
    member = make_member(market=china, language="ja")
    make_reward(
        "voucher", market=china, value="39.00", name_en="Voucher", name_ja="クーポン", name_zh_hans="代金券"
    )
    headers = {"HTTP_ACCEPT_LANGUAGE": header} if header else {}
    (item,) = client_for(member).get(REWARDS, **headers).json()["results"]
    assert item["name"] == "クーポン"


def test_errors_are_translated_into_the_request_language(api, make_reward):
    response = api.post(
        redeem_url(make_reward(points=5000)),
        {},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.json() == {"code": "insufficient_points", "detail": "可用积分不足。"}


# My redemptions and cancelling -----------------------------------------------------------------------


def test_my_redemptions_are_listed_newest_first_without_anyone_elses(
    api, shopper, make_reward, make_member, fund
):
    first = redeem_reward(shopper, make_reward("one", points=100), idempotency_key="a")
    second = redeem_reward(shopper, make_reward("two", points=100), idempotency_key="b")
    other = make_member()
    fund(other, 500)
    redeem_reward(other, Redemption.objects.get(pk=first.pk).reward, idempotency_key="c")
    body = api.get(MINE).json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [second.pk, first.pk]


def test_my_redemptions_filter_by_status(api, shopper, make_reward):
    kept = redeem_reward(shopper, make_reward("one", points=100), idempotency_key="a")
    dropped = redeem_reward(shopper, make_reward("two", points=100), idempotency_key="b")
    api.post(cancel_url(dropped), {}, format="json")
    assert [row["id"] for row in api.get(MINE, {"status": "issued"}).json()["results"]] == [kept.pk]
    assert [row["id"] for row in api.get(MINE, {"status": "cancelled"}).json()["results"]] == [dropped.pk]
    assert api.get(MINE, {"status": "lost"}).json()["code"] == "invalid_filter"


def test_a_redemption_names_its_reward_in_the_request_language(api, shopper, make_reward):
    redeem_reward(shopper, make_reward(name="Coffee", name_ar="قهوة"), idempotency_key="a")
    (row,) = api.get(MINE, HTTP_ACCEPT_LANGUAGE="ar").json()["results"]
    assert row["reward"]["name"] == "قهوة"


def test_cancelling_returns_the_points_once(api, shopper, make_reward):
    redemption = redeem_reward(shopper, make_reward(points=300, stock=1), idempotency_key="a")
    first = api.post(cancel_url(redemption), {}, format="json")
    second = api.post(cancel_url(redemption), {}, format="json")
    assert first.status_code == second.status_code == 200
    assert (first.json()["status"], first.json()["cancellable"]) == ("cancelled", False)
    assert account_of(shopper).available == 1000
    assert entries_of(shopper, entry_type=EntryType.REVERSAL).count() == 1
    assert_books_balance()


def test_cancelling_records_the_given_reason_or_a_default(api, shopper, make_reward):
    given = redeem_reward(shopper, make_reward("one", points=100), idempotency_key="a")
    default = redeem_reward(shopper, make_reward("two", points=100), idempotency_key="b")
    api.post(cancel_url(given), {"reason": "Ordered the wrong one"}, format="json")
    api.post(cancel_url(default), {}, format="json")
    given.refresh_from_db()
    default.refresh_from_db()
    assert given.cancel_reason == "Ordered the wrong one"
    assert default.cancel_reason == "Cancelled by the member."


def test_cancelling_another_members_redemption_is_404_and_changes_nothing(
    api, make_member, make_reward, fund
):
    other = make_member()
    fund(other, 500)
    theirs = redeem_reward(other, make_reward(points=100), idempotency_key="a")
    response = api.post(cancel_url(theirs), {}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "redemption_not_found")
    theirs.refresh_from_db()
    assert theirs.status == RedemptionStatus.ISSUED


def test_a_used_redemption_cannot_be_cancelled(api, shopper, make_reward):
    redemption = redeem_reward(shopper, make_reward(points=100), idempotency_key="a")
    mark_redemption_used(code=redemption.code, order_id="O-1")
    response = api.post(cancel_url(redemption), {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "redemption_not_cancellable")
    assert api.get(MINE).json()["results"][0]["cancellable"] is False


# The ledger names rewards ---------------------------------------------------------------------------


def test_the_ledger_names_the_reward_of_a_spend_and_of_its_return_in_the_request_language(
    api, shopper, make_reward
):
    reward = make_reward(name="Coffee", name_zh_hans="咖啡", points=100)
    redemption = redeem_reward(shopper, reward, idempotency_key="a")
    api.post(cancel_url(redemption), {}, format="json")
    rows = api.get(LEDGER, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    returned, spent = rows[0], rows[1]
    assert (returned["type"], spent["type"]) == ("reversal", "redeem")
    expected = {"id": reward.pk, "code": reward.code, "name": "咖啡", "redemption": redemption.pk}
    assert returned["reward"] == spent["reward"] == expected
    assert rows[2]["reward"] is None


def test_a_ledger_page_with_reward_entries_costs_the_same_queries_for_2_or_20_redemptions(
    client_for, make_member, make_reward, fund
):
    counts = []
    for size in (2, 20):
        member = make_member()
        fund(member, 10_000)
        for number in range(size):
            reward = make_reward(f"r{size}-{number}", points=10)
            redeem_reward(member, reward, idempotency_key=f"k{number}")
        member_api = client_for(member)
        with CaptureQueriesContext(connection) as captured:
            assert member_api.get(LEDGER, {"page_size": 100}).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts == [8, 8]  # session, user, member, count, entries, contributions, redemptions x2
