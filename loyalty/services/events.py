"""Signed events from shops on other stacks and from partners, each processed once.

A delivery is verified (source, HMAC-SHA256 signature, timestamp), parsed, and processed by the
service its type names, in one transaction with the record of the event. The event id is the
idempotency key: a retried delivery writes nothing and gets the first answer. A delivery that
fails writes nothing at all, so the sender may retry it once the cause is fixed.
"""

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from djmoney.money import Money

from ..conf import loyalty_settings
from ..exceptions import (
    EventNotAllowed,
    InvalidAmount,
    InvalidTimestamp,
    MalformedEvent,
    UnknownCustomer,
    UnknownEventType,
    UnknownMember,
    UnknownSource,
)
from ..models import EarnEvent, EventSource, InboundEvent, Member, MemberStatus, SourceKind
from ..webhooks import verify_signature
from .engagement import record_event
from .ledger import ensure_same_request
from .members import customer_member, enroll_customer
from .orders import cancel_order, confirm_order, record_order, record_refund
from .partners import earn_partner_points, reverse_partner_points

MAX_ID_LENGTH = 100


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    occurred_at: datetime
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EventAnswer:
    status: int
    body: str  # JSON text
    replayed: bool = False


def source_secrets(code: str) -> list[str]:
    """The secrets a source may sign with: the current one first, then those being rotated out."""
    configured = loyalty_settings.WEBHOOK_SECRETS.get(code) or []
    secrets = [configured] if isinstance(configured, str) else list(configured)
    return [secret for secret in secrets if isinstance(secret, str) and secret]


def receive_event(source_code: str, body: bytes, signature: str, *, now: float | None = None) -> EventAnswer:
    """Verify and process one delivery; domain errors are raised with their codes, nothing written."""
    source = EventSource.objects.filter(code=source_code or "", is_active=True).first()
    secrets = source_secrets(source.code) if source else []
    if not secrets:
        raise UnknownSource()
    verify_signature(
        signature or "",
        body,
        secrets,
        now=time.time() if now is None else now,
        tolerance=loyalty_settings.WEBHOOK_TOLERANCE_SECONDS,
    )
    event = parse_event(body)
    digest = hashlib.sha256(body).hexdigest()
    stored = _stored_answer(source, event.id, digest)
    if stored is not None:
        return stored
    handler = handler_for(source, event.type)
    try:
        with transaction.atomic():
            result = handler(source, event)
            answer = json.dumps({"id": event.id, "type": event.type, "result": result})
            InboundEvent.objects.create(
                source=source,
                event_id=event.id,
                event_type=event.type,
                body_sha256=digest,
                response_status=200,
                response=answer,
            )
    except IntegrityError:
        # A concurrent delivery of the same event was recorded first: answer as it did.
        stored = _stored_answer(source, event.id, digest)
        if stored is None:
            raise
        return stored
    return EventAnswer(200, answer)


def _stored_answer(source: EventSource, event_id: str, digest: str) -> EventAnswer | None:
    existing = InboundEvent.objects.filter(source=source, event_id=event_id).first()
    if existing is None:
        return None
    ensure_same_request(existing.body_sha256 == digest)
    return EventAnswer(existing.response_status, existing.response, replayed=True)


def parse_event(body: bytes) -> Event:
    """The envelope ``{"id", "type", "occurred_at"?, "data"}``; ``malformed_event`` otherwise."""
    try:
        document = json.loads(body, parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # RecursionError: absurd nesting
        raise MalformedEvent() from error
    if not isinstance(document, dict):
        raise MalformedEvent()
    data = document.get("data", {})
    if not isinstance(data, dict) or not isinstance(document.get("type"), str):
        raise MalformedEvent()
    occurred_at = document.get("occurred_at")
    return Event(
        id=_identifier(document.get("id")),
        type=document["type"],
        occurred_at=_moment(occurred_at) if occurred_at is not None else timezone.now(),
        data=data,
    )


def handler_for(source: EventSource, event_type: str) -> Callable[[EventSource, Event], dict]:
    if event_type not in HANDLERS:
        raise UnknownEventType()
    kind, handler = HANDLERS[event_type]
    if source.kind != kind:
        raise EventNotAllowed()
    return handler


# Fields of the data ------------------------------------------------------------------------------


def _identifier(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise MalformedEvent()
    return value


def _moment(value: object) -> datetime:
    """An ISO 8601 time with its offset, not in the future (that would let points outlive their lot)."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None or timezone.is_naive(moment):
        raise MalformedEvent()
    if moment > timezone.now() + timedelta(seconds=loyalty_settings.WEBHOOK_TOLERANCE_SECONDS):
        raise InvalidTimestamp(_("An event cannot have happened in the future."))
    return moment


def _text(data: dict, name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _identifier(value)


def _money(data: dict, name: str, currency: object) -> Money:
    """``data[name]`` (a string or a JSON number, read exactly) in ``currency``."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal) or not isinstance(currency, str):
        raise MalformedEvent()
    try:
        amount = Decimal(value)
    except ArithmeticError as error:
        raise InvalidAmount() from error
    if not amount.is_finite():
        raise InvalidAmount()
    return Money(amount, currency.upper())


def _lines(data: dict, currency: str) -> list[dict]:
    lines = data.get("lines", [])
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise MalformedEvent()
    return [
        {**line, "amount": _money(line, "amount", currency)} if "amount" in line else dict(line)
        for line in lines
    ]


def _customer(source: EventSource, data: dict) -> Member:
    member = customer_member(source, _text(data, "customer_id"))
    if member is None:
        raise UnknownCustomer()
    return member


# Handlers: each calls one service and answers what it did -------------------------------------------


def customer_created(source: EventSource, event: Event) -> dict:
    data = event.data
    birth_date = data.get("birth_date")
    if birth_date is not None and (not isinstance(birth_date, str) or parse_date(birth_date) is None):
        raise MalformedEvent()
    member = enroll_customer(
        source,
        _text(data, "customer_id"),
        market=_text(data, "market"),
        language=_text(data, "language", required=False) or None,
        birth_date=parse_date(birth_date) if birth_date else None,
        country=_text(data, "country", required=False),
    )
    return {"member": member.number}


def order_placed(source: EventSource, event: Event) -> dict:
    """``order.placed`` and ``order.paid``: the order is recorded once, whichever comes first."""
    data = event.data
    amount = _money(data, "amount", data.get("currency"))
    placed_at = data.get("placed_at")
    order = record_order(
        _customer(source, data),
        order_id=_text(data, "order_id"),
        amount=amount,
        placed_at=_moment(placed_at) if placed_at is not None else event.occurred_at,
        lines=_lines(data, amount.currency.code),
        source=source.code,
    )
    return _order_answer(order)


def order_completed(source: EventSource, event: Event) -> dict:
    return _order_answer(confirm_order(order_id=_text(event.data, "order_id"), source=source.code))


def order_cancelled(source: EventSource, event: Event) -> dict:
    return _order_answer(cancel_order(order_id=_text(event.data, "order_id"), source=source.code))


def order_refunded(source: EventSource, event: Event) -> dict:
    data = event.data
    amount = _money(data, "amount", data.get("currency"))
    refund = record_refund(
        order_id=_text(data, "order_id"),
        refund_id=_text(data, "refund_id"),
        amount=amount,
        source=source.code,
        lines=_lines(data, amount.currency.code),
    )
    return {
        "order_id": refund.order.external_id,
        "refund_id": refund.refund_id,
        "points_reversed": refund.points,
    }


def _order_answer(order) -> dict:
    return {"order_id": order.external_id, "status": order.status, "points": order.points}


def review_published(source: EventSource, event: Event) -> dict:
    data = event.data
    recorded = record_event(
        _customer(source, data),
        EarnEvent.REVIEW,
        event_id=_text(data, "review_id"),
        occurred_at=event.occurred_at,
    )
    return {"points": recorded.points}


def custom_event(source: EventSource, event: Event) -> dict:
    data = event.data
    recorded = record_event(
        _customer(source, data),
        EarnEvent.CUSTOM,
        custom_event=_text(data, "name"),
        event_id=event.id,
        occurred_at=event.occurred_at,
    )
    return {"points": recorded.points}


def partner_earned(source: EventSource, event: Event) -> dict:
    data = event.data
    member = Member.objects.filter(number=_text(data, "member")).exclude(status=MemberStatus.CLOSED).first()
    if member is None:
        raise UnknownMember()
    entry = earn_partner_points(
        source,
        member,
        amount=_money(data, "amount", data.get("currency")),
        reference=_text(data, "reference", required=False) or event.id,
    )
    return {"member": member.number, "points": entry.points if entry else 0}


def partner_reversed(source: EventSource, event: Event) -> dict:
    entry = reverse_partner_points(source, reference=_text(event.data, "reference"))
    return {"member": entry.account.member.number, "points_reversed": entry.corrects.points}


HANDLERS: dict[str, tuple[str, Callable[[EventSource, Event], dict]]] = {
    "customer.created": (SourceKind.SHOP, customer_created),
    "order.placed": (SourceKind.SHOP, order_placed),
    "order.paid": (SourceKind.SHOP, order_placed),
    "order.completed": (SourceKind.SHOP, order_completed),
    "order.cancelled": (SourceKind.SHOP, order_cancelled),
    "order.refunded": (SourceKind.SHOP, order_refunded),
    "review.published": (SourceKind.SHOP, review_published),
    "custom": (SourceKind.SHOP, custom_event),
    "partner.earned": (SourceKind.PARTNER, partner_earned),
    "partner.reversed": (SourceKind.PARTNER, partner_reversed),
}
