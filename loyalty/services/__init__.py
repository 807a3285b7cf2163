"""The write side and public Python API of the plugin. Every function is one transaction."""

from .batch import ExpiryResult, expire_points, release_pending_points
from .markets import change_market
from .members import enroll_member
from .orders import cancel_order, confirm_order, record_order, record_refund
from .points import adjust_points, spend_points
from .rates import pin_exchange_rate, refresh_exchange_rates, unpin_exchange_rate

__all__ = [
    "ExpiryResult",
    "adjust_points",
    "cancel_order",
    "change_market",
    "confirm_order",
    "enroll_member",
    "expire_points",
    "pin_exchange_rate",
    "record_order",
    "record_refund",
    "refresh_exchange_rates",
    "release_pending_points",
    "spend_points",
    "unpin_exchange_rate",
]
