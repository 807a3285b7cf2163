"""The write side and public Python API of the plugin. Every function is one transaction."""

from .batch import ExpiryResult, expire_points, release_pending_points
from .members import enroll_member
from .orders import cancel_order, confirm_order, record_order, record_refund
from .points import adjust_points, spend_points

__all__ = [
    "ExpiryResult",
    "adjust_points",
    "cancel_order",
    "confirm_order",
    "enroll_member",
    "expire_points",
    "record_order",
    "record_refund",
    "release_pending_points",
    "spend_points",
]
