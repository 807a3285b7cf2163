"""Oscar orders earn points: pending at checkout, released, cancelled and clawed back on refunds."""

import logging
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models.signals import post_save
from djmoney.money import Money
from oscar.apps.order.signals import order_placed, order_status_changed
from oscar.core.loading import get_class, get_model

from loyalty.integrations.oscar.orders import SOURCE
from loyalty.models import EarnRule, LedgerEntry, OrderRecord, OrderStatus, RefundRecord
from tests.helpers import account_of, assert_books_balance, entries_of

OrderCreator = get_class("order.utils", "OrderCreator")
PaymentEvent = get_model("order", "PaymentEvent")

pytestmark = pytest.mark.django_db

# 50.00 EUR boots and 4.90 EUR shipping: the EU market earns 1 point per whole euro paid.
POINTS = 54


def record_of(order) -> OrderRecord:
    return OrderRecord.objects.get(source=SOURCE, external_id=order.number)


def balances(member) -> tuple[int, int]:
    account = account_of(member)
    return account.available, account.pending


def complete(order) -> None:
    order.set_status("Being processed")
    order.set_status("Complete")


def test_an_oscar_checkout_awards_pending_points(shop, member, customer):
    order = shop.checkout(customer, shop.product(price="50.00"))
    record = record_of(order)
    assert record.member == member
    assert record.amount == Money(Decimal("54.90"), "EUR")
    assert record.placed_at == order.date_placed
    assert balances(member) == (0, POINTS)
    assert_books_balance()


def test_points_are_earned_on_what_the_customer_paid_shipping_included(shop, member, customer):
    order = shop.checkout(customer, shop.product(price="50.00"), shop.product("Socks", price="9.99"))
    assert order.total_incl_tax == Decimal("64.89")
    assert record_of(order).points == 64


def test_the_order_lines_carry_their_category_to_the_earning_rules(shop, member, customer):
    EarnRule.objects.create(
        code="shoes-bonus", name="Shoes bonus", event="purchase", fixed_points=30, categories=["shoes"]
    )
    boots = shop.product(price="50.00", category="Clothing > Shoes")
    assert record_of(shop.checkout(customer, shop.product("Book", price="50.00"))).points == POINTS
    assert record_of(shop.checkout(customer, boots)).points == POINTS + 30


def test_marking_the_order_complete_releases_its_points(shop, member, customer):
    order = shop.checkout(customer, shop.product())
    order.set_status("Being processed")
    assert balances(member) == (0, POINTS)
    order.set_status("Complete")
    assert balances(member) == (POINTS, 0)
    assert record_of(order).status == OrderStatus.RELEASED
    assert_books_balance()


def test_a_cancelled_order_leaves_nothing(shop, member, customer):
    order = shop.checkout(customer, shop.product())
    order.set_status("Cancelled")
    assert balances(member) == (0, 0)
    assert record_of(order).status == OrderStatus.CANCELLED
    assert_books_balance()


def test_an_order_cancelled_after_release_takes_its_points_back(shop, member, customer):
    order = shop.checkout(customer, shop.product())
    order.set_status("Being processed")
    order.set_status("Cancelled")
    assert balances(member) == (0, 0)


def test_a_partial_refund_claws_back_proportionally(shop, member, customer):
    order = shop.checkout(customer, shop.product())
    complete(order)
    event = shop.refund(order, "27.45")  # half of 54.90
    refund = RefundRecord.objects.get(order=record_of(order))
    assert refund.refund_id == f"payment-event-{event.pk}"
    assert refund.amount == Money(Decimal("27.45"), "EUR")
    assert refund.points == 27
    assert balances(member) == (POINTS - 27, 0)
    assert_books_balance()


def test_refunds_that_add_up_to_the_order_take_back_all_its_points(shop, member, customer):
    order = shop.checkout(customer, shop.product())
    shop.refund(order, "10.00")
    shop.refund(order, "44.90")
    assert balances(member) == (0, 0)


def test_a_refund_recorded_as_a_negative_amount_claws_back_too(shop, member, customer):
    order = shop.checkout(customer, shop.product())
    complete(order)
    shop.refund(order, "-27.45")
    assert balances(member) == (POINTS - 27, 0)


def test_a_payment_that_is_no_refund_takes_nothing_back(shop, member, customer):
    order = shop.checkout(customer, shop.product())
    paid = PaymentEvent.objects.get(order=order)  # the checkout's "Paid" event
    assert paid.event_type.code == "paid"
    paid.save()
    assert not RefundRecord.objects.exists()
    assert balances(member) == (0, POINTS)


def test_each_oscar_signal_delivered_twice_changes_nothing_the_second_time(shop, member, customer):
    order = shop.checkout(customer, shop.product())
    order_placed.send(sender=OrderCreator, order=order, user=customer)
    assert balances(member) == (0, POINTS)

    order.set_status("Being processed")
    order.set_status("Complete")
    order_status_changed.send(sender=order, order=order, old_status="Being processed", new_status="Complete")
    assert balances(member) == (POINTS, 0)

    event = shop.refund(order, "27.45")
    post_save.send(
        sender=PaymentEvent, instance=event, created=True, raw=False, using="default", update_fields=None
    )
    event.save()
    assert balances(member) == (POINTS - 27, 0)
    assert RefundRecord.objects.count() == 1

    entries = LedgerEntry.objects.count()
    order_placed.send(sender=OrderCreator, order=order, user=customer)
    order_status_changed.send(sender=order, order=order, old_status="Being processed", new_status="Complete")
    assert LedgerEntry.objects.count() == entries
    assert_books_balance()


def test_a_cancellation_delivered_twice_takes_back_once(shop, member, customer):
    order = shop.checkout(customer, shop.product())
    order.set_status("Cancelled")
    order_status_changed.send(sender=order, order=order, old_status="Pending", new_status="Cancelled")
    assert balances(member) == (0, 0)
    assert entries_of(member, entry_type="reversal").count() == 1


def test_a_status_the_mapping_does_not_name_changes_nothing(shop, member, customer):
    order = shop.checkout(customer, shop.product())
    order.set_status("Being processed")
    assert record_of(order).status == OrderStatus.PENDING


def test_the_status_mapping_is_a_setting(shop, member, customer, settings):
    settings.LOYALTY_OSCAR = {"STATUS_ACTIONS": {"Being processed": "confirm", "Cancelled": "cancel"}}
    order = shop.checkout(customer, shop.product())
    order.set_status("Being processed")
    assert balances(member) == (POINTS, 0)


def test_a_guest_order_earns_nothing_and_breaks_nothing(shop):
    order = shop.checkout(AnonymousUser(), shop.product(), guest_email="guest@example.com")
    order.set_status("Being processed")
    order.set_status("Complete")
    shop.refund(order, "10.00")
    assert not OrderRecord.objects.exists()


def test_a_refund_the_plugin_refuses_is_logged_and_oscar_carries_on(shop, member, customer, caplog):
    order = shop.checkout(customer, shop.product())
    with caplog.at_level(logging.WARNING, logger="loyalty.integrations.oscar.receivers"):
        event = shop.refund(order, "60.00")  # more than the order cost
    assert PaymentEvent.objects.filter(pk=event.pk).exists()
    assert "invalid_amount" in caplog.text
    assert balances(member) == (0, POINTS)
