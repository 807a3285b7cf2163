"""Oscar's signals, connected to the plugin's services when the app is ready.

A loyalty error must not break Oscar's checkout, registration or dashboard: it is logged with its
code, and the service it came from wrote nothing. Each receiver can run twice for the same event
(the order number, refund id and voucher code are idempotency keys), and the second run changes nothing.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models.signals import post_save
from oscar.apps.customer.signals import user_registered
from oscar.apps.order.signals import order_placed, order_status_changed
from oscar.core.loading import get_model

from ...exceptions import LoyaltyError, UnknownOrder
from ...services import mark_redemption_used
from .conf import oscar_settings
from .members import enrol_customer
from .orders import apply_status, order_id, record_oscar_order, record_payment_event
from .vouchers import reward_codes_used

logger = logging.getLogger(__name__)


def connect() -> None:
    user_registered.connect(customer_registered, dispatch_uid="loyalty_oscar.customer_registered")
    order_placed.connect(order_was_placed, dispatch_uid="loyalty_oscar.order_was_placed")
    order_status_changed.connect(
        order_status_was_changed, dispatch_uid="loyalty_oscar.order_status_was_changed"
    )
    post_save.connect(
        payment_event_was_saved,
        sender=get_model("order", "PaymentEvent"),
        dispatch_uid="loyalty_oscar.payment_event_was_saved",
    )


@contextmanager
def reported(event: str, reference: str) -> Iterator[None]:
    """Log a loyalty error instead of raising it into Oscar."""
    try:
        yield
    except UnknownOrder:
        # Guest orders and orders of non-members were never recorded: nothing to do.
        logger.debug("Loyalty: %s for %s skipped: the order was not recorded.", event, reference)
    except LoyaltyError as error:
        logger.warning("Loyalty: %s for %s refused (%s): %s", event, reference, error.code, error.detail)


def customer_registered(sender, user, request=None, **kwargs) -> None:
    if not oscar_settings.ENROL_ON_REGISTRATION:
        return
    with reported("enrolment", f"user {user.pk}"):
        enrol_customer(user, language=getattr(request, "LANGUAGE_CODE", None))


def order_was_placed(sender, order, **kwargs) -> None:
    for code in reward_codes_used(order):
        with reported("use of reward voucher", f"order {order.number}"):
            mark_redemption_used(code=code, order_id=order_id(order))
    with reported("points", f"order {order.number}"):
        record_oscar_order(order)


def order_status_was_changed(sender, order, new_status: str, **kwargs) -> None:
    with reported(f"status {new_status!r}", f"order {order.number}"):
        apply_status(order, new_status)


def payment_event_was_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    if raw:  # loaddata restoring saved events is no new refund
        return
    with reported("refund", f"order {instance.order.number}"):
        record_payment_event(instance)
