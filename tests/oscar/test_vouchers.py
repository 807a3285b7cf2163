"""Redeemed discount rewards become Oscar vouchers that take their value off a basket in their currency."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from oscar.apps.order.signals import order_placed
from oscar.core.loading import get_class, get_model

from loyalty.models import Redemption, RedemptionStatus
from loyalty.services import cancel_redemption, expire_redemptions, redeem_reward
from tests.helpers import account_of

from .shop import Shipping

ConditionalOffer = get_model("offer", "ConditionalOffer")
OrderCreator = get_class("order.utils", "OrderCreator")
Voucher = get_model("voucher", "Voucher")

pytestmark = pytest.mark.django_db


@pytest.fixture
def redeem(fund):
    """Redeem a reward as the member center does, with points enough for it."""

    def redeem_for(member, reward) -> Redemption:
        fund(member, 1000)
        return redeem_reward(member, reward, idempotency_key=f"center-{reward.code}")

    return redeem_for


def voucher_of(redemption) -> "Voucher":
    return Voucher.objects.get(code=redemption.code)


@pytest.fixture
def with_voucher(shop):
    """Add a voucher to a basket as Oscar's basket page does, and discount the basket again."""

    def add(basket, voucher):
        basket.vouchers.add(voucher)
        return shop.apply_offers(basket)

    return add


def test_a_redeemed_discount_becomes_a_single_use_oscar_voucher_with_the_redemption_code(
    shop, member, make_reward, redeem
):
    redemption = redeem(member, make_reward(value="5.00"))
    voucher = voucher_of(redemption)
    assert redemption.fulfilment_ref == str(voucher.pk)
    assert voucher.usage == Voucher.SINGLE_USE
    assert (voucher.start_datetime, voucher.end_datetime) == (redemption.created_at, redemption.valid_until)
    assert voucher.is_active()
    offer = voucher.offers.get()
    assert (offer.offer_type, offer.max_basket_applications) == (ConditionalOffer.VOUCHER, 1)


def test_the_voucher_reduces_an_oscar_basket_by_the_reward_value(
    shop, member, customer, make_reward, redeem, with_voucher
):
    redemption = redeem(member, make_reward(value="5.00"))
    basket = shop.basket(customer, shop.product(price="50.00"))
    assert basket.total_incl_tax == Decimal("50.00")
    assert with_voucher(basket, voucher_of(redemption)).total_incl_tax == Decimal("45.00")


def test_a_reward_without_end_gives_a_voucher_without_end(shop, member, customer, make_reward, redeem):
    redemption = redeem(member, make_reward(value="5.00", valid_days=None))
    assert redemption.valid_until is None
    assert voucher_of(redemption).end_datetime.year == 9999


def test_placing_the_order_with_the_voucher_marks_the_redemption_used(
    shop, member, customer, make_reward, redeem, with_voucher
):
    redemption = redeem(member, make_reward(value="5.00"))
    basket = with_voucher(shop.basket(customer, shop.product(price="50.00")), voucher_of(redemption))
    order = shop.checkout(customer, basket=basket)
    redemption.refresh_from_db()
    assert (redemption.status, redemption.order_id) == (RedemptionStatus.USED, str(order.number))
    assert order.total_incl_tax == Decimal("49.90")  # 45.00 and 4.90 shipping
    assert account_of(member).pending == 49
    assert not voucher_of(redemption).is_available_to_user(customer)[0]
    order_placed.send(sender=OrderCreator, order=order, user=customer)
    redemption.refresh_from_db()
    assert (redemption.status, redemption.order_id) == (RedemptionStatus.USED, str(order.number))


def test_a_voucher_in_another_currency_does_not_apply_to_the_basket(
    shop, make_member, make_market, make_reward, redeem, with_voucher
):
    japan = make_market("JP", "JPY", rate="0.01", time_zone="Asia/Tokyo")
    member = make_member(market=japan)
    redemption = redeem(member, make_reward("yen-off", market=japan, value="500"))
    voucher = voucher_of(redemption)
    basket = shop.basket(member.user, shop.product(price="50.00", currency="EUR"))
    assert not voucher.is_available_for_basket(basket)[0]
    assert with_voucher(basket, voucher).total_incl_tax == Decimal("50.00")
    yen_basket = shop.basket(member.user, shop.product("Tea", price="3000", currency="JPY"))
    assert with_voucher(yen_basket, voucher).total_incl_tax == Decimal("2500")


def test_oscar_basket_page_refuses_a_voucher_in_another_currency(
    shop, client, make_member, make_market, make_reward, redeem
):
    japan = make_market("JP", "JPY", rate="0.01", time_zone="Asia/Tokyo")
    member = make_member(market=japan)
    redemption = redeem(member, make_reward("yen-off", market=japan, value="500"))
    basket = shop.basket(member.user, shop.product(price="50.00", currency="EUR"))
    client.force_login(member.user)
    client.post(reverse("basket:vouchers-add"), {"code": redemption.code.lower()})
    assert not basket.vouchers.exists()


def test_oscar_basket_page_accepts_the_voucher_in_its_currency(
    shop, client, member, customer, make_reward, redeem
):
    redemption = redeem(member, make_reward(value="5.00"))
    basket = shop.basket(customer, shop.product(price="50.00"))
    client.force_login(customer)
    client.post(reverse("basket:vouchers-add"), {"code": redemption.code.lower()})
    assert list(basket.vouchers.values_list("code", flat=True)) == [redemption.code]


def test_a_percentage_voucher_takes_its_percentage_up_to_the_reward_value(
    shop, member, customer, make_reward, redeem, with_voucher
):
    reward = make_reward(
        "twenty-off", reward_type="percent_discount", percent_off=Decimal("20"), value="5.00"
    )
    voucher = voucher_of(redeem(member, reward))
    small = shop.basket(customer, shop.product(price="20.00"))
    assert with_voucher(small, voucher).total_incl_tax == Decimal("16.00")
    large = shop.basket(customer, shop.product(price="50.00"))
    assert with_voucher(large, voucher).total_incl_tax == Decimal("45.00")


def test_a_free_shipping_voucher_makes_shipping_free(
    shop, member, customer, make_reward, redeem, with_voucher
):
    voucher = voucher_of(
        redeem(member, make_reward("free-shipping", reward_type="free_shipping", value=None))
    )
    basket = shop.basket(customer, shop.product(price="50.00"))
    assert Shipping().get_default_shipping_method(basket=basket).calculate(basket).incl_tax == Decimal("4.90")
    with_voucher(basket, voucher)
    assert Shipping().get_default_shipping_method(basket=basket).calculate(basket).incl_tax == Decimal("0.00")
    assert shop.checkout(customer, basket=basket).total_incl_tax == Decimal("50.00")


def test_cancelling_the_redemption_withdraws_the_voucher(
    shop, member, customer, make_reward, redeem, with_voucher
):
    redemption = redeem(member, make_reward(value="5.00"))
    basket = with_voucher(shop.basket(customer, shop.product(price="50.00")), voucher_of(redemption))
    cancel_redemption(redemption, reason="Changed my mind")
    voucher = voucher_of(redemption)
    assert not voucher.is_active()
    assert voucher.offers.get().status == ConditionalOffer.SUSPENDED
    assert shop.apply_offers(basket).total_incl_tax == Decimal("50.00")


def test_an_expired_redemption_withdraws_the_voucher(shop, member, make_reward, redeem):
    redemption = redeem(member, make_reward(value="5.00"))
    assert expire_redemptions(now=redemption.valid_until + timedelta(minutes=1)) == 1
    assert voucher_of(redemption).end_datetime <= timezone.now()
    assert not voucher_of(redemption).is_active()


def test_rewards_that_are_no_discount_get_no_voucher(shop, member, make_reward, redeem):
    redemption = redeem(member, make_reward("mug", reward_type="physical_gift", points=100))
    assert redemption.fulfilment_ref == ""
    assert not Voucher.objects.exists()


def test_a_reward_redeemed_in_the_member_center_takes_its_value_off_the_oscar_basket_and_is_used_by_the_order(
    shop, client, member, customer, make_reward, fund
):
    fund(member, 1000)
    reward = make_reward(value="5.00")
    client.force_login(customer)
    redeem_page = reverse("loyalty:reward-redeem", args=[reward.pk])
    key = re.search(
        r'name="idempotency_key" value="([^"]+)"', client.get(redeem_page).content.decode()
    ).group(1)
    client.post(redeem_page, {"idempotency_key": key})
    redemption = Redemption.objects.get(member=member)
    basket = shop.basket(customer, shop.product(price="50.00"))
    client.post(reverse("basket:vouchers-add"), {"code": redemption.code})
    assert shop.apply_offers(basket).total_incl_tax == Decimal("45.00")
    order = shop.checkout(customer, basket=basket)
    redemption.refresh_from_db()
    assert (redemption.status, redemption.order_id) == (RedemptionStatus.USED, str(order.number))
