"""The operator console of the reward catalog: rewards and their offers, redemptions, donations."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money
from PIL import Image

from loyalty.models import (
    Charity,
    EntryType,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardCategory,
    RewardOffer,
)
from loyalty.selectors.donations import donation_totals
from loyalty.services import redeem_reward
from tests.helpers import account_of, allow, entries_of

REWARDS = reverse("admin:loyalty_reward_changelist")
ADD_REWARD = reverse("admin:loyalty_reward_add")
REDEMPTIONS = reverse("admin:loyalty_redemption_changelist")
DONATIONS = reverse("admin:loyalty_charity_donations")


@pytest.fixture
def console_user(make_user):
    """Staff who may look at the catalog; each test adds the permissions it is about."""
    user = make_user(username="merchandiser", is_staff=True)
    allow(user, "view_reward", "view_redemption", "view_charity")
    return user


@pytest.fixture
def console(console_user):
    client = Client()
    client.force_login(console_user)
    return client


@pytest.fixture
def china(make_market, rates):
    return make_market("CN", "CNY", rate="7.80", language="zh-hans", time_zone="Asia/Shanghai")


def reward_form(*offers, **fields):
    """The add form of a reward as the browser posts it, with one inline row per offer."""
    data = {
        "code": "coffee",
        "name_en": "Free coffee",
        "reward_type": "fixed_discount",
        "sort_order": "0",
        "is_active": "on",
        "limit_period": "ever",
        "coupon_format": "####-####-####",
        "valid_days": "30",
        "offers-TOTAL_FORMS": str(len(offers)),
        "offers-INITIAL_FORMS": "0",
        "offers-MIN_NUM_FORMS": "0",
        "offers-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for index, offer in enumerate(offers):
        market, points, amount, currency = offer
        data.update(
            {
                f"offers-{index}-market": str(market.pk),
                f"offers-{index}-points": str(points),
                f"offers-{index}-value_0": amount,
                f"offers-{index}-value_1": currency,
                f"offers-{index}-is_active": "on",
            }
        )
    return data


def offer_errors(response) -> list[str]:
    return [
        message
        for formset in response.context["inline_admin_formsets"]
        for form in formset.formset.forms
        for messages in form.errors.values()
        for message in messages
    ]


def offered_actions(response) -> list[str]:
    form = response.context["action_form"]
    return [] if form is None else [name for name, _ in form.fields["action"].choices if name]


def png(name="coffee.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#c2410c").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# Rewards and their market offers ----------------------------------------------------------------


def test_an_offer_valued_in_another_currency_than_its_market_is_a_form_error(
    admin_client, market, make_market
):
    make_market("US", "USD")
    response = admin_client.post(ADD_REWARD, reward_form((market, 500, "5.00", "USD")))
    assert response.status_code == 200
    assert "Give the value in the market's currency, EUR." in offer_errors(response)
    assert not Reward.objects.exists()


def test_an_offer_priced_under_the_minimum_is_a_form_error_naming_the_minimum(admin_client, market):
    response = admin_client.post(ADD_REWARD, reward_form((market, 400, "5.00", "EUR")))
    assert response.status_code == 200
    [error] = offer_errors(response)
    assert "must cost at least 477 points" in error
    assert not Reward.objects.exists()


def test_an_offer_in_a_market_without_an_exchange_rate_is_a_form_error(admin_client, market, make_market):
    brazil = make_market("BR", "BRL")
    response = admin_client.post(ADD_REWARD, reward_form((brazil, 5000, "25.00", "BRL")))
    assert response.status_code == 200
    [error] = offer_errors(response)
    assert "exchange rate" in error
    assert not Reward.objects.exists()


def test_an_offer_value_finer_than_the_currency_allows_is_a_form_error(admin_client, market):
    response = admin_client.post(ADD_REWARD, reward_form((market, 500, "5.001", "EUR")))
    assert response.status_code == 200
    assert "5.001 has more decimals than EUR allows: did you mean 5.00?" in offer_errors(response)


def test_a_discount_offered_without_a_value_is_a_form_error_on_the_add_page(admin_client, market):
    response = admin_client.post(ADD_REWARD, reward_form((market, 500, "", "EUR")))
    assert response.status_code == 200
    assert "This type of reward needs a value." in offer_errors(response)
    assert not Reward.objects.exists()


def test_a_valid_reward_with_offers_in_two_markets_is_saved(admin_client, market, china):
    response = admin_client.post(
        ADD_REWARD,
        reward_form((market, 500, "5.00", "EUR"), (china, 500, "39.00", "CNY"), name_zh_hans="免费咖啡"),
    )
    assert response.status_code == 302, offer_errors(response)
    reward = Reward.objects.get(code="coffee")
    assert (reward.name_en, reward.name_zh_hans) == ("Free coffee", "免费咖啡")
    offers = {offer.market.code: (offer.points, offer.value) for offer in reward.offers.all()}
    assert offers == {
        "EU": (500, Money(Decimal("5.00"), "EUR")),
        "CN": (500, Money(Decimal("39.00"), "CNY")),
    }


def test_a_reward_saved_with_an_image_shows_its_thumbnail_in_the_form_and_the_list(
    admin_client, market, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    response = admin_client.post(ADD_REWARD, reward_form((market, 500, "5.00", "EUR"), image=png()))
    assert response.status_code == 302
    reward = Reward.objects.get(code="coffee")
    assert (tmp_path / reward.image.name).exists()
    change = admin_client.get(reverse("admin:loyalty_reward_change", args=[reward.pk])).content.decode()
    assert f'<img src="{reward.image.url}" alt="" width="240" class="reward-image">' in change
    listing = admin_client.get(REWARDS).content.decode()
    assert f'<img src="{reward.image.url}" alt="" width="48" class="reward-thumbnail">' in listing


def test_an_offers_value_is_edited_with_the_decimals_of_its_currency(admin_client, market, make_reward):
    reward = make_reward("coffee", value="5.00")
    html = admin_client.get(reverse("admin:loyalty_reward_change", args=[reward.pk])).content.decode()
    assert 'name="offers-0-value_0" value="5.00"' in html


def post_offer(admin_client, reward, *, points: int, shown_stock: int, stock: int):
    """Post the reward's page as it was shown with ``shown_stock``, its one offer changed to these values."""
    offer = reward.offers.get()
    data = reward_form(
        (offer.market, points, "5.00", "EUR"),
        code=reward.code,
        **{"offers-INITIAL_FORMS": "1", "offers-0-id": str(offer.pk), "offers-0-reward": str(reward.pk)},
    )
    data.update({"offers-0-stock": str(stock), "initial-offers-0-stock": str(shown_stock)})
    return admin_client.post(reverse("admin:loyalty_reward_change", args=[reward.pk]), data)


def test_saving_a_reward_never_puts_back_units_sold_while_the_page_was_open(
    admin_client, member, make_reward, fund
):
    reward = make_reward("coffee", value="5.00", stock=1)
    fund(member, 1000)
    redeem_reward(member, reward, idempotency_key="last-unit")
    response = post_offer(admin_client, reward, points=600, shown_stock=1, stock=1)
    assert response.status_code == 302
    offer = RewardOffer.objects.get(reward=reward)
    assert (offer.points, offer.stock) == (600, 0)


def test_stock_edited_on_the_page_is_added_to_what_is_left_now(admin_client, member, make_reward, fund):
    reward = make_reward("coffee", value="5.00", stock=3)
    fund(member, 1000)
    redeem_reward(member, reward, idempotency_key="one")
    post_offer(admin_client, reward, points=500, shown_stock=3, stock=10)
    assert RewardOffer.objects.get(reward=reward).stock == 10 - 1


def test_the_offer_form_keeps_the_stock_it_showed(admin_client, make_reward):
    reward = make_reward("coffee", value="5.00", stock=7)
    html = admin_client.get(reverse("admin:loyalty_reward_change", args=[reward.pk])).content.decode()
    assert 'name="initial-offers-0-stock" value="7"' in html


def test_the_reward_list_summarises_each_market_offer(admin_client, market, china, make_reward):
    reward = make_reward("coffee", points=500, value="5.00", stock=12)
    RewardOffer.objects.create(
        reward=reward, market=china, points=600, value=Money("39", "CNY"), is_active=False
    )
    html = admin_client.get(REWARDS).content.decode()
    nbsp = "\u00a0"
    assert (
        f"<div>CN{nbsp}600{nbsp}pts · 39.00{nbsp}CNY · unavailable</div>"
        f"<div>EU{nbsp}500{nbsp}pts · 5.00{nbsp}EUR · stock{nbsp}12</div>"
    ) in html


def test_the_reward_list_shows_missing_translations_per_market(admin_client, market, china, make_reward):
    reward = make_reward("coffee", name="Free coffee", terms="One per visit.")
    RewardOffer.objects.create(reward=reward, market=china, points=500, value=Money("39", "CNY"))
    make_reward("tea", name="Free tea", name_zh_hans="免费茶")
    html = admin_client.get(REWARDS).content.decode()
    assert '<div class="translations-missing">CN: zh-hans (name, terms)</div>' in html
    assert '<span class="translations-complete">complete</span>' in html


def test_the_missing_translations_filter_finds_the_rewards_the_column_flags(
    admin_client, market, china, make_reward
):
    untranslated = make_reward("coffee", market=china, value="39.00", name="Free coffee")
    make_reward("tea", market=china, value="39.00", name="Free tea", name_zh_hans="免费茶")
    make_reward("cake", name="Cake")
    missing = admin_client.get(REWARDS, {"translations": "missing"}).context["cl"].result_list
    complete = admin_client.get(REWARDS, {"translations": "complete"}).context["cl"].result_list
    assert [reward.code for reward in missing] == [untranslated.code]
    assert sorted(reward.code for reward in complete) == ["cake", "tea"]


def test_the_reward_page_lists_the_missing_translations_per_market(admin_client, market, china, make_reward):
    reward = make_reward("coffee", market=china, value="39.00", name="Free coffee", description="Any size.")
    html = admin_client.get(reverse("admin:loyalty_reward_change", args=[reward.pk])).content.decode()
    assert "CN: zh-hans (name, description)" in html


def test_the_reward_list_can_be_searched_by_a_translated_name(admin_client, make_reward):
    make_reward("coffee", name="Free coffee", name_ja="無料コーヒー")
    make_reward("tea", name="Free tea")
    found = admin_client.get(REWARDS, {"q": "コーヒー"}).context["cl"].result_list
    assert [reward.code for reward in found] == ["coffee"]


def test_the_reward_list_costs_the_same_queries_for_2_or_20_rewards(
    admin_client, market, china, make_reward, django_assert_num_queries
):
    category = RewardCategory.objects.create(code="drinks", name="Drinks")

    def add_rewards(first, last):
        for number in range(first, last):
            reward = make_reward(f"reward-{number}", category=category, stock=number)
            RewardOffer.objects.create(reward=reward, market=china, points=500, value=Money("39", "CNY"))

    add_rewards(0, 2)
    admin_client.get(REWARDS)
    with django_assert_num_queries(8) as small:
        admin_client.get(REWARDS)
    add_rewards(2, 20)
    with django_assert_num_queries(len(small.captured_queries)):
        response = admin_client.get(REWARDS)
    assert len(response.context["cl"].result_list) == 20


def test_activating_and_deactivating_rewards_changes_only_the_selected(console, console_user, make_reward):
    allow(console_user, "change_reward")
    coffee, tea = make_reward("coffee", is_active=False), make_reward("tea", is_active=False)
    response = console.post(REWARDS, {"action": "activate", ACTION_CHECKBOX_NAME: [coffee.pk]}, follow=True)
    assert "Activated 1 reward." in [str(message) for message in response.context["messages"]]
    assert set(Reward.objects.filter(is_active=True).values_list("code", flat=True)) == {"coffee"}
    console.post(REWARDS, {"action": "deactivate", ACTION_CHECKBOX_NAME: [coffee.pk, tea.pk]})
    assert not Reward.objects.filter(is_active=True).exists()


def test_without_the_change_permission_activation_is_not_offered_and_refused(console, make_reward):
    coffee = make_reward("coffee", is_active=False)
    offered = offered_actions(console.get(REWARDS))
    assert "activate" not in offered and "deactivate" not in offered
    response = console.post(REWARDS, {"action": "activate", ACTION_CHECKBOX_NAME: [coffee.pk]})
    assert response.status_code == 403
    assert not Reward.objects.get(pk=coffee.pk).is_active


def test_categories_are_edited_with_translation_tabs_and_a_sort_order(admin_client):
    response = admin_client.post(
        reverse("admin:loyalty_rewardcategory_add"),
        {"code": "drinks", "name_en": "Drinks", "name_ja": "飲み物", "sort_order": "5"},
    )
    assert response.status_code == 302
    category = RewardCategory.objects.get(code="drinks")
    assert (category.name_ja, category.sort_order) == ("飲み物", 5)
    html = admin_client.get(
        reverse("admin:loyalty_rewardcategory_change", args=[category.pk])
    ).content.decode()
    assert "/static/loyalty_admin/vendor/jquery-ui/jquery-ui.min.js" in html


# Redemptions ------------------------------------------------------------------------------------


@pytest.fixture
def redeemed(member, make_reward, fund):
    """Redeem a reward for ``member`` (funded as needed): ``redeemed(reward, key)``."""

    def redeem(reward, key="r1"):
        fund(member, RewardOffer.objects.get(reward=reward).points)
        return redeem_reward(member, reward, idempotency_key=key)

    return redeem


def cancel(client, redemptions, reason="Customer asked"):
    return client.post(
        REDEMPTIONS,
        {
            "action": "cancel_redemptions",
            ACTION_CHECKBOX_NAME: [redemption.pk for redemption in redemptions],
            "apply": "1",
            "reason": reason,
        },
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_cancelling_redemptions_asks_for_a_reason_first(console, console_user, make_reward, redeemed):
    allow(console_user, "cancel_redemption")
    redemption = redeemed(make_reward("coffee"))
    response = console.post(
        REDEMPTIONS, {"action": "cancel_redemptions", ACTION_CHECKBOX_NAME: [redemption.pk]}
    )
    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    assert redemption.code in response.content.decode()
    assert Redemption.objects.get(pk=redemption.pk).status == RedemptionStatus.ISSUED


def test_the_cancel_action_returns_the_points_once_and_records_the_staff_user(
    console, console_user, member, make_reward, redeemed
):
    allow(console_user, "cancel_redemption")
    redemption = redeemed(make_reward("coffee", points=500))
    assert account_of(member).available == 0
    response = cancel(console, [redemption])
    assert "Cancelled 1 redemption and returned its points." in messages_of(response)
    again = cancel(console, [redemption])
    assert f"{redemption.code} was already cancelled." in messages_of(again)
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED
    assert (redemption.actor, redemption.cancel_reason) == (console_user, "Customer asked")
    assert account_of(member).available == 500
    assert entries_of(member, entry_type=EntryType.REVERSAL).count() == 1


def test_a_redemption_that_cannot_be_cancelled_is_reported_and_the_others_are_cancelled(
    console, console_user, member, make_reward, redeemed
):
    allow(console_user, "cancel_redemption")
    used = redeemed(make_reward("coffee"), "r1")
    Redemption.objects.filter(pk=used.pk).update(status=RedemptionStatus.USED, order_id="A-1")
    issued = redeemed(make_reward("tea"), "r2")
    response = cancel(console, [used, issued])
    messages = messages_of(response)
    assert any(message.startswith(f"{used.code}: ") for message in messages)
    assert "Cancelled 1 redemption and returned its points." in messages
    assert Redemption.objects.get(pk=used.pk).status == RedemptionStatus.USED
    assert Redemption.objects.get(pk=issued.pk).status == RedemptionStatus.CANCELLED


def test_the_fulfil_action_marks_a_gift_used_by_the_staff_user(console, console_user, make_reward, redeemed):
    allow(console_user, "fulfil_redemption")
    gift = redeemed(make_reward("mug", reward_type="physical_gift", product_sku="MUG-1", value=None))
    response = console.post(
        REDEMPTIONS, {"action": "fulfil_redemptions", ACTION_CHECKBOX_NAME: [gift.pk]}, follow=True
    )
    assert "Marked 1 redemption as fulfilled." in messages_of(response)
    gift.refresh_from_db()
    assert (gift.status, gift.actor) == (RedemptionStatus.USED, console_user)
    assert gift.used_at is not None


def test_fulfilling_a_discount_coupon_is_reported_and_changes_nothing(
    console, console_user, make_reward, redeemed
):
    allow(console_user, "fulfil_redemption")
    coupon = redeemed(make_reward("coffee"))
    response = console.post(
        REDEMPTIONS, {"action": "fulfil_redemptions", ACTION_CHECKBOX_NAME: [coupon.pk]}, follow=True
    )
    assert any(message.startswith(f"{coupon.code}: ") for message in messages_of(response))
    assert Redemption.objects.get(pk=coupon.pk).status == RedemptionStatus.ISSUED


@pytest.mark.parametrize(
    ("action", "other_permission"),
    [("cancel_redemptions", "fulfil_redemption"), ("fulfil_redemptions", "cancel_redemption")],
)
def test_without_the_permission_a_redemption_action_is_not_offered_and_a_forged_post_is_refused(
    console, console_user, member, make_reward, redeemed, action, other_permission
):
    allow(console_user, other_permission)
    gift = redeemed(make_reward("mug", reward_type="physical_gift", value=None))
    assert action not in offered_actions(console.get(REDEMPTIONS))
    response = console.post(
        REDEMPTIONS, {"action": action, ACTION_CHECKBOX_NAME: [gift.pk], "apply": "1", "reason": "Forged"}
    )
    assert response.status_code == 403
    gift.refresh_from_db()
    assert (gift.status, gift.actor) == (RedemptionStatus.ISSUED, None)
    assert account_of(member).available == 0


def test_redemptions_cannot_be_added_changed_or_deleted(admin_client, make_reward, redeemed):
    redemption = redeemed(make_reward("coffee"))
    assert admin_client.get(reverse("admin:loyalty_redemption_add")).status_code == 403
    change = reverse("admin:loyalty_redemption_change", args=[redemption.pk])
    assert admin_client.post(change, {"status": "used"}).status_code == 403
    delete = reverse("admin:loyalty_redemption_delete", args=[redemption.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Redemption.objects.get(pk=redemption.pk).status == RedemptionStatus.ISSUED


def test_redemptions_can_be_found_by_coupon_code_member_number_or_order(
    admin_client, member, make_reward, redeemed
):
    coffee = redeemed(make_reward("coffee"), "r1")
    tea = redeemed(make_reward("tea"), "r2")
    Redemption.objects.filter(pk=tea.pk).update(status=RedemptionStatus.USED, order_id="A-1001")
    for query, expected in [
        (coffee.code.lower(), [coffee]),
        (member.number, [tea, coffee]),
        ("A-1001", [tea]),
    ]:
        found = admin_client.get(REDEMPTIONS, {"q": query}).context["cl"].result_list
        assert list(found) == expected, query


def test_the_redemption_list_costs_the_same_queries_for_2_or_20_redemptions(
    admin_client, make_reward, redeemed, django_assert_num_queries
):
    for number in range(2):
        redeemed(make_reward(f"reward-{number}"), f"r{number}")
    admin_client.get(REDEMPTIONS)
    with django_assert_num_queries(7) as small:
        admin_client.get(REDEMPTIONS)
    for number in range(2, 20):
        redeemed(make_reward(f"reward-{number}"), f"r{number}")
    with django_assert_num_queries(len(small.captured_queries)):
        response = admin_client.get(REDEMPTIONS)
    assert len(response.context["cl"].result_list) == 20


# Charity donations ------------------------------------------------------------------------------


@pytest.fixture
def donate(make_member, fund):
    """A donation of ``points`` from a new member of the reward's market, made at ``at``."""

    def give(reward, at: datetime, key: str):
        offer = RewardOffer.objects.get(reward=reward)
        donor = make_member(market=offer.market)
        fund(donor, offer.points)
        donation = redeem_reward(donor, reward, idempotency_key=key)
        Redemption.objects.filter(pk=donation.pk).update(created_at=at, used_at=at)
        return donation

    return give


@pytest.fixture
def donations(market, china, make_reward, donate, settings):
    """March 2025 in Shanghai: Red Cross gets two EUR and one CNY donation; one more comes too late, and one
    EUR donation was cancelled."""
    settings.TIME_ZONE = "Asia/Shanghai"
    red_cross = Charity.objects.create(name="Red Cross", registration_number="RC-1")
    oxfam = Charity.objects.create(name="Oxfam")
    cross_eu = make_reward("red-cross-eu", reward_type="charity", charity=red_cross, points=500, value="5.00")
    cross_cn = make_reward(
        "red-cross-cn", market=china, reward_type="charity", charity=red_cross, points=600, value="40.00"
    )
    oxfam_eu = make_reward("oxfam-eu", reward_type="charity", charity=oxfam, points=1000, value="10.00")
    donate(cross_eu, datetime(2025, 3, 1, 0, 30, tzinfo=timezone.get_fixed_timezone(480)), "d1")
    donate(cross_eu, datetime(2025, 3, 15, tzinfo=UTC), "d2")
    donate(cross_cn, datetime(2025, 3, 20, tzinfo=UTC), "d3")
    donate(oxfam_eu, datetime(2025, 3, 31, 15, 59, tzinfo=UTC), "d4")
    # April 1st, 00:30 in Shanghai: after the range, although still March 31st in UTC.
    donate(oxfam_eu, datetime(2025, 3, 31, 16, 30, tzinfo=UTC), "d5")
    cancelled = donate(cross_eu, datetime(2025, 3, 16, tzinfo=UTC), "d6")
    Redemption.objects.filter(pk=cancelled.pk).update(status=RedemptionStatus.CANCELLED)
    return {"red_cross": red_cross, "oxfam": oxfam}


MARCH = {"start": "2025-03-01", "end": "2025-03-31"}


def test_donation_totals_sum_used_donations_per_charity_and_currency_within_the_range(donations):
    start = datetime(2025, 3, 1, tzinfo=timezone.get_fixed_timezone(480))
    end = datetime(2025, 4, 1, tzinfo=timezone.get_fixed_timezone(480))
    rows = [
        (row.charity, row.currency, row.donations, row.points, row.amount)
        for row in donation_totals(start, end)
    ]
    assert rows == [
        ("Oxfam", "EUR", 1, 1000, Money(Decimal("10.00"), "EUR")),
        ("Red Cross", "CNY", 1, 600, Money(Decimal("40.00"), "CNY")),
        ("Red Cross", "EUR", 2, 1000, Money(Decimal("10.00"), "EUR")),
    ]


def test_a_cancelled_donation_is_never_counted(donations):
    march = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 31, tzinfo=UTC))
    Redemption.objects.filter(charity=donations["oxfam"]).update(status=RedemptionStatus.CANCELLED)
    assert {row.charity for row in donation_totals(*march)} == {"Red Cross"}


def test_the_donation_report_shows_the_days_in_the_sites_time_zone_with_totals(
    console, console_user, donations
):
    allow(console_user, "view_donation_report")
    response = console.get(DONATIONS, MARCH)
    assert response.status_code == 200
    assert [(row.charity, row.currency, row.points) for row in response.context["rows"]] == [
        ("Oxfam", "EUR", 1000),
        ("Red Cross", "CNY", 600),
        ("Red Cross", "EUR", 1000),
    ]
    totals = [
        (total.currency, total.donations, total.points, total.amount) for total in response.context["totals"]
    ]
    assert totals == [
        ("CNY", 1, 600, Money(Decimal("40.00"), "CNY")),
        ("EUR", 3, 2000, Money(Decimal("20.00"), "EUR")),
    ]
    assert "20.00 EUR" in response.content.decode()


def test_the_donation_report_csv_holds_the_same_rows(console, console_user, donations):
    allow(console_user, "view_donation_report")
    response = console.get(DONATIONS, {**MARCH, "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="donations-2025-03-01-2025-03-31.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["Charity", "Registration number", "Currency", "Donations", "Points", "Amount"],
        ["Oxfam", "", "EUR", "1", "1000", "10.00"],
        ["Red Cross", "RC-1", "CNY", "1", "600", "40.00"],
        ["Red Cross", "RC-1", "EUR", "2", "1000", "10.00"],
    ]


def test_the_donation_report_defaults_to_the_current_month(console, console_user, settings):
    allow(console_user, "view_donation_report")
    settings.TIME_ZONE = "Pacific/Kiritimati"
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    form = console.get(DONATIONS).context["form"]
    assert form.cleaned_data["start"] == today.replace(day=1)
    assert form.cleaned_data["end"].month == today.month and form.cleaned_data["end"].day >= 28


def test_a_donation_report_ending_before_it_starts_is_a_form_error(console, console_user):
    allow(console_user, "view_donation_report")
    response = console.get(DONATIONS, {"start": "2025-03-31", "end": "2025-03-01"})
    assert response.context["form"].errors["end"] == ["The last day comes before the first day."]
    assert response.context["rows"] == []


def test_the_donation_report_needs_its_permission(console, console_user, donations):
    assert console.get(DONATIONS, MARCH).status_code == 403
    assert console.get(DONATIONS, {**MARCH, "export": "csv"}).status_code == 403
    assert "Donation report" not in console.get(reverse("admin:loyalty_charity_changelist")).content.decode()


def test_the_charity_list_links_to_the_donation_report(console, console_user):
    allow(console_user, "view_donation_report")
    html = console.get(reverse("admin:loyalty_charity_changelist")).content.decode()
    assert f'<a href="{DONATIONS}">Donation report</a>' in html


def test_a_csv_cell_starting_like_a_formula_is_not_run_by_spreadsheets(
    console, console_user, market, make_reward, donate
):
    allow(console_user, "view_donation_report")
    charity = Charity.objects.create(name="=HYPERLINK(1)")
    reward = make_reward("gift", reward_type="charity", charity=charity)
    donate(reward, timezone.now(), "d1")
    rows = list(csv.reader(io.StringIO(console.get(DONATIONS, {"export": "csv"}).content.decode())))
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_a_donation_report_ending_on_the_last_possible_day_is_a_form_error(console, console_user):
    allow(console_user, "view_donation_report")
    response = console.get(DONATIONS, {"start": "2026-01-01", "end": "9999-12-31"})
    assert response.status_code == 200
    assert "end" in response.context["form"].errors
