"""How redeemed rewards reach the shop: a backend class named in ``LOYALTY["FULFILMENT_BACKEND"]``.

The services call the backend inside the redemption's transaction, so a backend that raises leaves
nothing behind: no points spent, no stock taken, no redemption. A shop integration subclasses
``FulfilmentBackend`` to create its own vouchers (see ``loyalty.integrations``).
"""

import secrets

from django.utils.module_loading import import_string

from .conf import loyalty_settings
from .models import COUPON_ALPHABET, Redemption


class FulfilmentBackend:
    """The interface. Every method receives the redemption row, already saved and locked."""

    def coupon_code(self, redemption: Redemption) -> str:
        """A new, unguessable code in the reward's coupon format (each '#' a random character)."""
        return "".join(
            secrets.choice(COUPON_ALPHABET) if char == "#" else char
            for char in redemption.reward.coupon_format
        )

    def issue(self, redemption: Redemption) -> None:
        """Make the reward usable in the shop (a voucher, a shipment); may set ``fulfilment_ref``."""

    def withdraw(self, redemption: Redemption) -> None:
        """The redemption was cancelled or expired unused: make its coupon unusable in the shop."""


class CouponBackend(FulfilmentBackend):
    """The default: the coupon code is the voucher; the shop checks it with ``mark_redemption_used``."""


def fulfilment_backend() -> FulfilmentBackend:
    return import_string(loyalty_settings.FULFILMENT_BACKEND)()
