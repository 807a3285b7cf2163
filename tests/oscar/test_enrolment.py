"""Oscar customers become members: when they register, or at their first order if they registered before."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from oscar.apps.customer.signals import user_registered

from loyalty.models import Member, OrderRecord

pytestmark = pytest.mark.django_db


def register(client, email: str, **headers) -> None:
    """Sign up through Oscar's own registration page."""
    password = "a long enough passphrase"
    client.post(
        reverse("customer:register"),
        {"email": email, "password1": password, "password2": password},
        **headers,
    )


def test_registering_in_the_shop_enrols_the_customer_in_the_default_market(client, market):
    register(client, "ada@example.com", HTTP_ACCEPT_LANGUAGE="de")
    member = Member.objects.get(user__email="ada@example.com")
    assert (member.market, member.language) == (market, "de")


def test_a_registration_delivered_twice_enrols_once(client, market):
    register(client, "ada@example.com")
    member = Member.objects.get(user__email="ada@example.com")
    user_registered.send(sender=None, request=None, user=member.user)
    assert list(Member.objects.all()) == [member]


def test_the_registration_market_is_a_setting(client, market, make_market, settings):
    japan = make_market("JP", "JPY", language="ja", time_zone="Asia/Tokyo")
    settings.LOYALTY_OSCAR = {"MARKET": "JP"}
    register(client, "yuki@example.com", HTTP_ACCEPT_LANGUAGE="ja")
    member = Member.objects.get(user__email="yuki@example.com")
    assert (member.market, member.language) == (japan, "ja")


def test_registration_enrols_nobody_when_it_is_turned_off(client, market, settings):
    settings.LOYALTY_OSCAR = {"ENROL_ON_REGISTRATION": False}
    register(client, "ada@example.com")
    assert get_user_model().objects.filter(email="ada@example.com").exists()
    assert not Member.objects.exists()


def test_a_customer_who_registered_before_is_enrolled_at_their_first_order(shop, make_user, market):
    customer = make_user()
    order = shop.checkout(customer, shop.product(price="50.00"))
    member = Member.objects.get(user=customer)
    assert member.market == market
    assert OrderRecord.objects.get(external_id=str(order.number)).member == member


def test_the_first_order_enrols_into_the_market_of_its_currency(
    shop, make_user, market, make_market, rates, settings
):
    japan = make_market("JP", "JPY", rate="0.01", time_zone="Asia/Tokyo")
    settings.LOYALTY_OSCAR = {}  # no currency listed: the one market in JPY is chosen
    customer = make_user()
    shop.checkout(customer, shop.product("Tea", price="3000", currency="JPY"))
    assert Member.objects.get(user=customer).market == japan
    # 3,000 yen of tea and the shop's flat 4.90 shipping, rounded to whole yen: 3,005 yen.
    assert OrderRecord.objects.get().points == 30


def test_without_enrolment_at_orders_only_members_earn(shop, make_user, member, customer, settings):
    settings.LOYALTY_OSCAR = {"ENROL_ON_ORDER": False}
    stranger = make_user()
    shop.checkout(stranger, shop.product())
    shop.checkout(customer, shop.product())
    assert not Member.objects.filter(user=stranger).exists()
    assert list(OrderRecord.objects.values_list("member", flat=True)) == [member.pk]
