"""Delivery of outgoing webhook events: signed, retried with exponential backoff, each attempt logged."""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..conf import loyalty_settings
from ..exceptions import OutboxEventNotDue
from ..models import OutboxAttempt, OutboxEvent, OutboxStatus
from ..webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header

USER_AGENT = "django-loyalty-engine webhooks"
SWEEP_LIMIT = 500


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def envelope(event: OutboxEvent) -> bytes:
    """The body the shop receives: the event's id, type, time and data."""
    return json.dumps(
        {
            "id": str(event.event_id),
            "type": event.event_type,
            "created_at": event.created_at.isoformat(),
            "data": event.payload,
        },
        separators=(",", ":"),
    ).encode()


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: the base, doubled each time, at most the maximum."""
    base = loyalty_settings.WEBHOOK_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempts - 1), loyalty_settings.WEBHOOK_RETRY_MAX_SECONDS))


def deliver_event(event_pk: int, *, now: datetime | None = None) -> Outcome | None:
    """Try to deliver one event that is due; None when it is not due (or another worker has it).

    The event is first leased by a conditional update, so two workers never send it at once; a
    worker that dies mid-delivery leaves a lease that expires and the sweep tries again.
    """
    now = now or timezone.now()
    lease = now + timedelta(seconds=2 * loyalty_settings.WEBHOOK_TIMEOUT_SECONDS + 30)
    claimed = OutboxEvent.objects.filter(
        pk=event_pk, status=OutboxStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease)
    if not claimed:
        return None
    event = OutboxEvent.objects.get(pk=event_pk)
    started = time.monotonic()
    outcome = post(envelope(event), event)
    duration_ms = int((time.monotonic() - started) * 1000)
    _record(event, outcome, now=now, duration_ms=duration_ms)
    return outcome


def deliver_due_events(*, now: datetime | None = None) -> int:
    """Deliver the events that are due, oldest first; returns how many were delivered.

    A sweep stops at the first event the shop could not be reached for (no answer at all), so a
    receiver that is down is not sent every waiting event on each sweep.
    """
    now = now or timezone.now()
    due = OutboxEvent.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now).order_by(
        "next_attempt_at", "pk"
    )
    delivered = 0
    for event_pk in list(due.values_list("pk", flat=True)[:SWEEP_LIMIT]):
        outcome = deliver_event(event_pk, now=now)
        if outcome is None:
            continue
        if outcome.delivered:
            delivered += 1
        elif outcome.status_code is None:
            break
    return delivered


def retry_event(event: OutboxEvent) -> OutboxEvent:
    """Send a waiting or given-up event again now, with a fresh count of attempts."""
    with transaction.atomic():
        updated = OutboxEvent.objects.filter(pk=event.pk).exclude(status=OutboxStatus.DELIVERED)
        if not updated.update(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now()):
            raise OutboxEventNotDue()
        transaction.on_commit(lambda: _deliver_later(event.pk), robust=True)
    event.refresh_from_db()
    return event


def post(body: bytes, event: OutboxEvent) -> Outcome:
    """POST the signed body to the shop's endpoint; redirects are not followed."""
    url = loyalty_settings.WEBHOOK_URL
    if urlsplit(url).scheme not in ("http", "https"):
        return Outcome(None, "WEBHOOK_URL must be an http or https URL.")
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: str(event.event_id),
            SIGNATURE_HEADER: signature_header(loyalty_settings.WEBHOOK_SECRET, body),
        },
    )
    try:
        with _opener.open(request, timeout=loyalty_settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return Outcome(response.status, "")
    except urllib.error.HTTPError as error:
        return Outcome(error.code, f"HTTP {error.code} {error.reason}"[:255])
    except (urllib.error.URLError, OSError) as error:
        return Outcome(None, str(getattr(error, "reason", error))[:255])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _record(event: OutboxEvent, outcome: Outcome, *, now: datetime, duration_ms: int) -> None:
    attempts = event.attempts + 1
    with transaction.atomic():
        OutboxAttempt.objects.create(
            event=event,
            attempted_at=now,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=duration_ms,
        )
        if outcome.delivered:
            changes = {"status": OutboxStatus.DELIVERED, "delivered_at": now, "last_error": ""}
        elif attempts >= loyalty_settings.WEBHOOK_MAX_ATTEMPTS:
            changes = {"status": OutboxStatus.FAILED, "last_error": outcome.error}
        else:
            changes = {"next_attempt_at": now + retry_delay(attempts), "last_error": outcome.error}
        OutboxEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1, **changes)


def _deliver_later(event_pk: int) -> None:
    # Imported here: the tasks import the services.
    from ..tasks import deliver_webhook

    deliver_webhook.delay(event_pk)
