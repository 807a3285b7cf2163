"""Public signals a shop may listen to. Each is sent after the service's transaction commits.

Every signal is sent with ``sender`` = the model class named below and these keyword arguments:

- ``member_enrolled`` (Member): ``member``.
- ``points_earned`` (LedgerEntry): ``member``, ``entry`` (an earn: pending points of an order).
- ``points_released`` (LedgerEntry): ``member``, ``entry`` (pending points became spendable).
- ``points_spent`` (LedgerEntry): ``member``, ``entry``.
- ``points_reversed`` (LedgerEntry): ``member``, ``entry`` (a cancellation or refund clawback).
- ``points_adjusted`` (LedgerEntry): ``member``, ``entry``.
- ``points_expired`` (PointsAccount): ``member``, ``points`` (total expired for that member in one run).
- ``tier_changed`` (TierChange): ``member``, ``change`` (with ``from_tier``, ``to_tier``, ``reason``).
- ``challenge_completed`` (ChallengeProgress): ``member``, ``progress`` (the badge is its challenge's).
- ``reward_redeemed`` (Redemption): ``member``, ``redemption`` (points spent, coupon issued).
- ``redemption_used`` (Redemption): ``member``, ``redemption`` (used on an order, or fulfilled by staff).
- ``redemption_cancelled`` (Redemption): ``member``, ``redemption`` (its points were returned).
- ``redemption_expired`` (Redemption): ``member``, ``redemption`` (``return_entry`` is set when the
  expired-reward policy returned its points).
- ``privacy_request_opened`` (DataSubjectRequest): ``member``, ``request``.
- ``member_erased`` (Member): ``member``, ``user_id`` (the host user the member was linked to, whose
  own data the privacy adapter was asked to erase) and ``customer_ids`` (``{"source",
  "customer_id"}`` of each shop on another stack that enrolled the member through its events).
"""

from django.db import transaction
from django.dispatch import Signal

from .outbox import queue_webhook, queue_webhooks

member_enrolled = Signal()
points_earned = Signal()
points_released = Signal()
points_spent = Signal()
points_reversed = Signal()
points_adjusted = Signal()
points_expired = Signal()
tier_changed = Signal()
challenge_completed = Signal()
reward_redeemed = Signal()
redemption_used = Signal()
redemption_cancelled = Signal()
redemption_expired = Signal()
privacy_request_opened = Signal()
member_erased = Signal()


# Signals that the shop's webhook also receives, as these event types (see loyalty.outbox).
WEBHOOK_EVENTS = {
    points_earned: "points.earned",
    tier_changed: "tier.changed",
    reward_redeemed: "reward.issued",
    redemption_cancelled: "redemption.cancelled",
    member_erased: "erasure.requested",
}


def send_on_commit(signal: Signal, sender: type, **kwargs) -> None:
    """Send ``signal`` once the current transaction commits (at once outside a transaction).

    A signal with a webhook event also writes that event to the outbox now, in the transaction.
    """
    if signal in WEBHOOK_EVENTS:
        queue_webhook(WEBHOOK_EVENTS[signal], **kwargs)
    transaction.on_commit(lambda: signal.send(sender=sender, **kwargs), robust=True)


def send_each_on_commit(signal: Signal, sender: type, announcements: list[dict]) -> None:
    """``send_on_commit`` for many at once (batch jobs): their webhook events take one statement."""
    if signal in WEBHOOK_EVENTS:
        queue_webhooks(WEBHOOK_EVENTS[signal], announcements)
    for kwargs in announcements:
        transaction.on_commit(lambda kwargs=kwargs: signal.send(sender=sender, **kwargs), robust=True)
