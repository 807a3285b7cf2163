"""A small Oscar shop for the tests: real products, stock, baskets, addresses and Oscar's own checkout."""

import itertools
from decimal import Decimal

from django.test import RequestFactory
from oscar.apps.catalogue.categories import create_from_breadcrumbs
from oscar.core.loading import get_class, get_model

Applicator = get_class("offer.applicator", "Applicator")
EventHandler = get_class("order.processing", "EventHandler")
FixedPrice = get_class("shipping.methods", "FixedPrice")
OrderPlacementMixin = get_class("checkout.mixins", "OrderPlacementMixin")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
Repository = get_class("shipping.repository", "Repository")
Selector = get_class("partner.strategy", "Selector")

Basket = get_model("basket", "Basket")
Country = get_model("address", "Country")
Partner = get_model("partner", "Partner")
PaymentEventType = get_model("order", "PaymentEventType")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ShippingAddress = get_model("order", "ShippingAddress")
StockRecord = get_model("partner", "StockRecord")

SHIPPING = Decimal("4.90")


class Shipping(Repository):
    """One shipping method, 4.90 in the basket's currency (tax included)."""

    methods = (FixedPrice(charge_excl_tax=SHIPPING, charge_incl_tax=SHIPPING),)


class Shop:
    def __init__(self) -> None:
        self.skus = itertools.count(1)
        self.partner = Partner.objects.create(name="Warehouse")
        self.goods = ProductClass.objects.create(name="Goods", requires_shipping=True, track_stock=True)
        self.germany = Country.objects.create(
            iso_3166_1_a2="DE", iso_3166_1_a3="DEU", name="Germany", printable_name="Germany"
        )

    def product(
        self, title: str = "Boots", *, price: str = "50.00", currency: str = "EUR", category: str = ""
    ) -> "Product":
        """A product in stock, sold by the shop's partner at ``price`` (tax included) in ``currency``."""
        product = Product.objects.create(product_class=self.goods, title=title)
        StockRecord.objects.create(
            product=product,
            partner=self.partner,
            partner_sku=f"{title.upper()}-{next(self.skus)}",
            price_currency=currency,
            price=Decimal(price),
            num_in_stock=10,
        )
        if category:
            product.categories.add(create_from_breadcrumbs(category))
        return product

    def basket(self, user, *products) -> "Basket":
        """The customer's open basket with ``products``, priced by Oscar's default strategy."""
        basket = Basket.objects.create(owner=user if user.is_authenticated else None)
        basket.strategy = Selector().strategy(user=user)
        for product in products:
            basket.add_product(product)
        return self.apply_offers(basket)

    def apply_offers(self, basket) -> "Basket":
        """Discount the basket afresh, as Oscar does on every request that loads it."""
        basket.reset_offer_applications()
        Applicator().apply(basket, basket.owner)
        return basket

    def checkout(self, user, *products, basket=None, **order_fields):
        """Place an order as Oscar's checkout does on "Place order": freeze, pay, place, submit."""
        basket = basket or self.basket(user, *products)
        self.apply_offers(basket)
        shipping_method = Shipping().get_default_shipping_method(basket=basket, user=user)
        shipping_charge = shipping_method.calculate(basket)
        total = OrderTotalCalculator().calculate(basket, shipping_charge)
        checkout = OrderPlacementMixin()
        checkout.request = RequestFactory().post("/checkout/preview/")
        checkout.request.user = user
        checkout.request.basket = basket
        basket.freeze()
        checkout.add_payment_event("Paid", total.incl_tax)
        order = checkout.place_order(
            order_number=checkout.generate_order_number(basket),
            user=user,
            basket=basket,
            shipping_address=ShippingAddress(
                first_name="Ada",
                last_name="Lovelace",
                line1="Unter den Linden 1",
                line4="Berlin",
                postcode="10117",
                country=self.germany,
            ),
            shipping_method=shipping_method,
            shipping_charge=shipping_charge,
            order_total=total,
            **order_fields,
        )
        basket.submit()
        return order

    def refund(self, order, amount: str):
        """Record money paid back as Oscar's order processing does: a "Refunded" payment event."""
        refunded, _created = PaymentEventType.objects.get_or_create(name="Refunded")
        return EventHandler().handle_payment_event(order, refunded, Decimal(amount))
