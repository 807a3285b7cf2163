"""The catalog a member sees: visibility, language fallback, limits and query counts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.models import RewardCategory, RewardOffer
from loyalty.selectors.catalog import (
    catalog_items,
    content_languages,
    missing_translations,
    redemption_name,
    visible_offers,
)
from loyalty.services import redeem_reward

pytestmark = pytest.mark.django_db


def codes(offers) -> list[str]:
    return [offer.reward.code for offer in offers]


def test_members_see_only_their_markets_offers(member, make_market, make_reward):
    make_reward("here")
    make_reward("elsewhere", market=make_market("CN", "CNY", language="zh-hans"))
    assert codes(visible_offers(member)) == ["here"]


def test_tier_limited_rewards_are_seen_only_by_those_tiers(member, make_reward, ladder):
    make_reward("everyone")
    gold_only = make_reward("gold-only")
    gold_only.tiers.set([ladder["gold"]])
    assert codes(visible_offers(member)) == ["everyone"]
    member.tier = ladder["silver"]
    assert codes(visible_offers(member)) == ["everyone"]
    member.tier = ladder["gold"]
    assert sorted(codes(visible_offers(member))) == ["everyone", "gold-only"]


def test_a_seasonal_window_opens_and_closes_at_midnight_in_the_markets_time_zone(
    make_member, make_market, make_reward
):
    shanghai = make_market("CN", "CNY", language="zh-hans", time_zone="Asia/Shanghai")
    member = make_member(market=shanghai)
    day = datetime(2027, 2, 6).date()
    make_reward(
        "red-envelope", market=shanghai, value="68.00", starts_on=day, ends_on=day + timedelta(days=14)
    )
    zone = ZoneInfo("Asia/Shanghai")
    just_before = datetime(2027, 2, 5, 23, 59, tzinfo=zone)
    opening = datetime(2027, 2, 6, 0, 0, tzinfo=zone)
    last_minute = datetime(2027, 2, 20, 23, 59, tzinfo=zone)
    closed = datetime(2027, 2, 21, 0, 0, tzinfo=zone)
    assert codes(visible_offers(member, at=just_before)) == []
    assert codes(visible_offers(member, at=opening)) == ["red-envelope"]
    assert codes(visible_offers(member, at=last_minute)) == ["red-envelope"]
    assert codes(visible_offers(member, at=closed)) == []


def test_the_catalog_is_sorted_by_the_merchandisers_order_then_by_points(member, make_reward):
    make_reward("c", sort_order=2, points=100)
    make_reward("b", sort_order=1, points=900)
    make_reward("a", sort_order=1, points=800)
    assert codes(visible_offers(member)) == ["a", "b", "c"]


def test_texts_fall_back_per_field_to_the_markets_language_then_the_programs(
    make_member, make_market, make_reward
):
    brazil = make_market("BR", "BRL", language="pt-br")
    member = make_member(market=brazil, language="en")
    make_reward(
        "shipping",
        market=brazil,
        value="15.00",
        name_en="Free shipping",
        name_pt_br="Frete grátis",
        name_ar="شحن مجاني",
        description_en="On your next order.",
        terms_en="One per order.",
        terms_pt_br="Um por pedido.",
    )
    offers = visible_offers(member)
    arabic = catalog_items(member, offers, available=0, language="ar")[0]
    assert (arabic.name, arabic.description, arabic.terms) == (
        "شحن مجاني",
        "On your next order.",
        "Um por pedido.",
    )
    chinese = catalog_items(member, offers, available=0, language="zh-hans")[0]
    assert chinese.name == "Frete grátis"


def test_content_languages_accept_regional_variants_and_skip_unknown_ones(make_market):
    market = make_market("JP", "JPY", language="ja")
    assert content_languages("de-at", market) == ["de", "ja", "en"]
    assert content_languages("tlh", market) == ["ja", "en"]
    assert content_languages("ZH-HANS", market) == ["zh-hans", "ja", "en"]


def test_missing_translations_are_listed_per_market_and_language(make_market, make_reward):
    china = make_market("CN", "CNY", language="zh-hans")
    reward = make_reward("mug", name_en="Mug", name_zh_hans="马克杯", description_en="A mug.", terms_en="")
    RewardOffer.objects.create(reward=reward, market=china, points=500)
    missing = missing_translations(reward, [reward.offers.get(market__code="EU").market, china])
    assert missing == {"CN": {"zh-hans": ["description"]}}


def test_an_item_says_why_it_cannot_be_redeemed(member, make_reward, fund):
    fund(member, 600)
    make_reward("sold-out", points=100, stock=0)
    make_reward("dear", points=1000)
    once = make_reward("once", points=100, limit_per_member=1)
    redeem_reward(member, once, idempotency_key="a")
    items = {item.reward.code: item for item in catalog_items(member, visible_offers(member), available=500)}
    assert items["sold-out"].unavailable_reason == "reward_unavailable"
    assert items["dear"].unavailable_reason == "insufficient_points"
    assert items["once"].unavailable_reason == "redemption_limit_reached"
    assert items["once"].left_for_member == 0


def test_listing_the_catalog_costs_the_same_queries_for_two_or_thirty_rewards(member, make_reward, ladder):
    category = RewardCategory.objects.create(code="vouchers", name_en="Vouchers", name_ar="قسائم")
    tier_only = make_reward("gold", category=category, limit_per_member=1)
    tier_only.tiers.set([ladder["gold"]])

    def count(total: int) -> int:
        existing = RewardOffer.objects.count()
        for index in range(existing, total):
            make_reward(f"r{index}", category=category, limit_per_member=2, name_ar=f"مكافأة {index}")
        with CaptureQueriesContext(connection) as queries:
            items = catalog_items(member, visible_offers(member), available=100, language="ar")
            assert all(item.category == "قسائم" for item in items)
        return len(queries)

    assert count(3) == count(31)


def test_a_redemption_shows_the_rewards_name_in_todays_language(member, make_reward, fund):
    fund(member, 1000)
    reward = make_reward(name_en="Voucher", name_de="Gutschein")
    redemption = redeem_reward(member, reward, idempotency_key="a")
    assert redemption_name(redemption, "de") == "Gutschein"
    assert redemption_name(redemption, "fr") == "Voucher"
