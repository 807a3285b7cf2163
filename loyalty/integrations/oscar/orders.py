"""Oscar orders in the plugin's terms: points pending on placement, released, cancelled and refunded.

Each function here is also a hook a shop can call itself (for example from its own refund flow). The
Oscar order number is the plugin's order id, under the source ``"oscar"``, so replaying any of them
returns the first result and writes nothing.

What earns points is what the customer paid: the order total including tax, shipping and surcharges,
after discounts. Shipping counts because Oscar records a refund as one amount of money paid back,
without saying how much of it was shipping, so refunds claw back in proportion to the same figure.
"""

from decimal import Decimal

from djmoney.money import Money

from ...models import OrderRecord, RefundRecord
from ...services import OrderLine, cancel_order, confirm_order, record_order, record_refund
from .conf import CANCEL, CONFIRM, oscar_settings
from .members import member_for_order

SOURCE = "oscar"


def order_id(order) -> str:
    """The plugin's id of an Oscar order: its number (Oscar's generator makes an int, until reloaded)."""
    return str(order.number)


def record_oscar_order(order) -> OrderRecord | None:
    """Record the order's points as pending, enrolling its customer first if needed.

    None for guest orders, orders that cost nothing and customers who are not (and do not become)
    members.
    """
    if order.user_id is None or order.total_incl_tax <= 0:
        return None
    member = member_for_order(order.user, order.currency)
    if member is None:
        return None
    return record_order(
        member,
        order_id=order_id(order),
        amount=Money(order.total_incl_tax, order.currency),
        placed_at=order.date_placed,
        lines=order_lines(order),
        source=SOURCE,
    )


def order_lines(order) -> list[OrderLine]:
    """The order's paid lines as the plugin's order lines: partner SKU, quantity, category, amount paid.

    A free line (fully discounted) is left out: it paid for nothing, so no rule should reward it.
    """
    return [
        OrderLine(
            # Oscar does not enforce a partner SKU, and the plugin needs one on every line.
            sku=line.partner_sku or line.upc or f"line-{line.pk}",
            quantity=line.quantity,
            category=line_category(line),
            amount=Money(line.line_price_incl_tax, order.currency),
        )
        for line in order.lines.select_related("product__parent")
        if line.line_price_incl_tax > 0
    ]


def line_category(line) -> str:
    """The slug of the line's product's first category (a variant's parent's); empty when there is none."""
    if line.product is None:  # deleted from the catalogue since the order was placed
        return ""
    return line.product.get_categories().values_list("slug", flat=True).first() or ""


def apply_status(order, status: str) -> OrderRecord | None:
    """Confirm or cancel the order's points as ``STATUS_ACTIONS`` says for ``status``; None if silent."""
    action = oscar_settings.STATUS_ACTIONS.get(status)
    if action == CONFIRM:
        return confirm_order(order_id=order_id(order), source=SOURCE)
    if action == CANCEL:
        return cancel_order(order_id=order_id(order), source=SOURCE)
    return None


def record_payment_event(event) -> RefundRecord | None:
    """Claw back points for a payment event of a refund type (``REFUND_EVENT_TYPES``); None otherwise."""
    if event.event_type.code not in oscar_settings.REFUND_EVENT_TYPES:
        return None
    # Payment integrations record refunds as positive or negative amounts: what counts is how much.
    return refund_oscar_order(event.order, refund_id=f"payment-event-{event.pk}", amount=abs(event.amount))


def refund_oscar_order(order, *, refund_id: str, amount: Decimal) -> RefundRecord:
    """Claw back points in proportion to ``amount`` paid back (order currency), once per ``refund_id``."""
    return record_refund(
        order_id=order_id(order), refund_id=refund_id, amount=Money(amount, order.currency), source=SOURCE
    )
