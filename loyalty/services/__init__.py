"""The write side and public Python API of the plugin. Every function is one transaction."""

from .batch import ExpiryResult, expire_points, release_pending_points
from .catalog import (
    cancel_redemption,
    expire_redemptions,
    fulfil_redemption,
    mark_redemption_used,
    redeem_reward,
)
from .consent import (
    activate_purpose,
    has_consent,
    publish_notice,
    rebuild_consent_states,
    record_consent,
    require_consent,
)
from .delivery import deliver_due_events, deliver_event, purge_delivered_events, retry_event
from .earning import OrderLine, simulate_order
from .engagement import (
    apply_referral_code,
    award_birthday_bonuses,
    close_challenges,
    record_event,
    referral_code_for,
)
from .events import receive_event
from .markets import change_market
from .members import enroll_customer, enroll_member
from .orders import cancel_order, confirm_order, record_order, record_refund
from .partners import earn_partner_points, reverse_partner_points
from .points import adjust_points, spend_points
from .privacy import (
    apply_retention,
    erase_member,
    extend_request,
    fulfil_request,
    hold_request,
    open_request,
    record_transfer,
    reject_request,
)
from .rates import pin_exchange_rate, refresh_exchange_rates, unpin_exchange_rate
from .tiers import EvaluationResult, evaluate_tiers, grant_tier

__all__ = [
    "deliver_due_events",
    "deliver_event",
    "purge_delivered_events",
    "earn_partner_points",
    "enroll_customer",
    "receive_event",
    "retry_event",
    "reverse_partner_points",
    "activate_purpose",
    "has_consent",
    "publish_notice",
    "rebuild_consent_states",
    "record_consent",
    "require_consent",
    "apply_retention",
    "erase_member",
    "extend_request",
    "fulfil_request",
    "hold_request",
    "open_request",
    "record_transfer",
    "reject_request",
    "redeem_reward",
    "mark_redemption_used",
    "fulfil_redemption",
    "expire_redemptions",
    "cancel_redemption",
    "EvaluationResult",
    "ExpiryResult",
    "OrderLine",
    "adjust_points",
    "apply_referral_code",
    "award_birthday_bonuses",
    "cancel_order",
    "change_market",
    "close_challenges",
    "confirm_order",
    "enroll_member",
    "evaluate_tiers",
    "expire_points",
    "grant_tier",
    "pin_exchange_rate",
    "record_event",
    "record_order",
    "record_refund",
    "referral_code_for",
    "refresh_exchange_rates",
    "release_pending_points",
    "simulate_order",
    "spend_points",
    "unpin_exchange_rate",
]
