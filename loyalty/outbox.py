"""Outgoing webhook events, written in the transaction of the change they announce.

``send_on_commit`` calls ``queue_webhook`` for the public signals that have an event type
(``signals.WEBHOOK_EVENTS``): each becomes an ``OutboxEvent`` row, so the event exists exactly when
the change does. Delivery is queued once
the transaction commits; if the broker or the shop is down, the periodic sweep delivers it later.
"""

from django.db import transaction

from .bulk import bulk_insert
from .conf import loyalty_settings
from .models import OutboxEvent


def _member(member) -> str:
    return member.number


def _entry(entry) -> dict:
    return {
        "id": entry.pk,
        "type": entry.entry_type,
        "points": entry.points,
        "pending_points": entry.pending_points,
        "balance_after": entry.balance_after,
        "pending_after": entry.pending_after,
        "source": entry.source,
        "source_ref": entry.source_ref,
        "created_at": entry.created_at.isoformat(),
    }


def _redemption(redemption) -> dict:
    value = redemption.value
    return {
        "id": redemption.pk,
        "reward": redemption.reward.code,
        "type": redemption.reward_type,
        "code": redemption.code,
        "quantity": redemption.quantity,
        "points": redemption.points,
        "value": {"amount": str(value.amount), "currency": value.currency.code}
        if value is not None
        else None,
        "percent_off": str(redemption.percent_off) if redemption.percent_off is not None else None,
        "status": redemption.status,
        "valid_until": redemption.valid_until.isoformat() if redemption.valid_until else None,
    }


def _tier(tier) -> str | None:
    return tier.code if tier is not None else None


def points_earned_payload(member, entry) -> dict:
    return {"member": _member(member), "entry": _entry(entry)}


def tier_changed_payload(member, change) -> dict:
    return {
        "member": _member(member),
        "from_tier": _tier(change.from_tier),
        "to_tier": _tier(change.to_tier),
        "reason": change.reason,
        "changed_at": change.changed_at.isoformat(),
    }


def redemption_payload(member, redemption) -> dict:
    return {"member": _member(member), "redemption": _redemption(redemption)}


def erasure_payload(member, user_id, customer_ids) -> dict:
    # The member number stays pseudonymous; the user id and the shops' customer ids name what to erase.
    return {"member": _member(member), "user_id": user_id, "customer_ids": customer_ids}


# The payload of each outgoing event type, from the keyword arguments of its signal.
PAYLOADS = {
    "points.earned": points_earned_payload,
    "tier.changed": tier_changed_payload,
    "reward.issued": redemption_payload,
    "redemption.cancelled": redemption_payload,
    "erasure.requested": erasure_payload,
}


def queue_webhook(event_type: str, **kwargs) -> OutboxEvent | None:
    """Write the outgoing event in the current transaction (none while WEBHOOK_URL is unset)."""
    if not loyalty_settings.WEBHOOK_URL:
        return None
    event = OutboxEvent.objects.create(event_type=event_type, payload=PAYLOADS[event_type](**kwargs))
    transaction.on_commit(lambda: deliver_soon(event.pk), robust=True)
    return event


def queue_webhooks(event_type: str, announcements: list[dict]) -> None:
    """Write the events of a batch job in one statement; one sweep delivers them once it commits."""
    if not loyalty_settings.WEBHOOK_URL or not announcements:
        return
    events = [
        OutboxEvent(event_type=event_type, payload=PAYLOADS[event_type](**kwargs)) for kwargs in announcements
    ]
    bulk_insert(
        OutboxEvent,
        events,
        [
            "event_id",
            "event_type",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
        ],
    )
    transaction.on_commit(_sweep_soon, robust=True)


def _sweep_soon() -> None:
    # Imported here: the tasks import the services, which import this module through the signals.
    from .tasks import deliver_webhooks

    deliver_webhooks.delay()


def deliver_soon(event_pk: int) -> None:
    """Hand one event to the delivery task."""
    # Imported here: the tasks import the services, which import this module through the signals.
    from .tasks import deliver_webhook

    deliver_webhook.delay(event_pk)
