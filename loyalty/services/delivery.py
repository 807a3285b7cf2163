"""Delivery of outgoing webhook events: signed, retried with exponential backoff, each attempt logged."""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from ..conf import loyalty_settings
from ..exceptions import EventNotRetryable
from ..models import OutboxAttempt, OutboxEvent, OutboxStatus
from ..outbox import deliver_soon
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
    """Try to deliver one event that is due; None when it is not due or another worker is sending it.

    The event is first leased by a conditional update, so two workers never send it at once; a
    worker that dies mid-delivery leaves a lease that expires, and the sweep tries again. ``now``
    fixes the clock (tests, replays); otherwise each step reads the time afresh, as a sweep may take
    minutes.
    """
    claimed_at = now or timezone.now()
    lease = claimed_at + timedelta(seconds=2 * loyalty_settings.WEBHOOK_TIMEOUT_SECONDS + 30)
    if not due_events(claimed_at).filter(pk=event_pk).update(leased_until=lease):
        return None
    event = OutboxEvent.objects.get(pk=event_pk)
    started = time.monotonic()
    outcome = post(envelope(event), event)
    duration_ms = int((time.monotonic() - started) * 1000)
    _record(event, outcome, lease=lease, at=now or timezone.now(), duration_ms=duration_ms)
    return outcome


def due_events(now: datetime):
    """Events waiting for delivery whose time has come and that no worker is sending."""
    return OutboxEvent.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lte=now)
    )


def deliver_due_events(*, now: datetime | None = None) -> int:
    """Deliver the events that are due, oldest first; returns how many were delivered.

    A sweep stops at the first event the shop could not be reached for (no answer at all), so a
    receiver that is down is not sent every waiting event on each sweep.
    """
    due = due_events(now or timezone.now()).order_by("next_attempt_at", "pk")
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
    """Send a waiting or given-up event again now, with a fresh count of attempts.

    ``event_not_retryable`` for an event that was delivered or is being sent right now.
    """
    now = timezone.now()
    with transaction.atomic():
        retryable = (
            OutboxEvent.objects.filter(pk=event.pk)
            .exclude(status=OutboxStatus.DELIVERED)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        )
        if not retryable.update(
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, leased_until=None
        ):
            raise EventNotRetryable()
        transaction.on_commit(lambda: deliver_soon(event.pk), robust=True)
    event.refresh_from_db()
    return event


def purge_delivered_events(*, now: datetime | None = None) -> int:
    """Delete delivered events (and their attempts) older than ``WEBHOOK_KEEP_DAYS``; returns how many.

    Their payloads name members and, for an erasure, the host's user: they are kept no longer than
    the shop needs to look into a delivery.
    """
    cutoff = (now or timezone.now()) - timedelta(days=loyalty_settings.WEBHOOK_KEEP_DAYS)
    _, deleted = OutboxEvent.objects.filter(status=OutboxStatus.DELIVERED, delivered_at__lt=cutoff).delete()
    return deleted.get(OutboxEvent._meta.label, 0)


def post(body: bytes, event: OutboxEvent) -> Outcome:
    """POST the signed body to the shop's endpoint; redirects are not followed.

    Every failure becomes an outcome, never an exception: an event whose attempts were not counted
    would be retried for ever.
    """
    url, secret = loyalty_settings.WEBHOOK_URL, loyalty_settings.WEBHOOK_SECRET
    if urlsplit(url).scheme not in ("http", "https"):
        return Outcome(None, gettext("WEBHOOK_URL must be an http or https URL."))
    if not secret:
        return Outcome(None, gettext("WEBHOOK_SECRET is not set: events are not sent unsigned."))
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: str(event.event_id),
            SIGNATURE_HEADER: signature_header(secret, body),
        },
    )
    try:
        with _opener.open(request, timeout=loyalty_settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return Outcome(response.status, "")
    except urllib.error.HTTPError as error:
        return Outcome(error.code, f"HTTP {error.code} {error.reason}"[:255])
    except urllib.error.URLError as error:
        return Outcome(None, str(error.reason)[:255])
    except Exception as error:  # noqa: BLE001 (a bad status line, an invalid port, a timeout...)
        return Outcome(None, (str(error) or type(error).__name__)[:255])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _record(event: OutboxEvent, outcome: Outcome, *, lease: datetime, at: datetime, duration_ms: int) -> None:
    """Log the attempt and move the event on, unless its lease ran out and another worker took it."""
    attempts = event.attempts + 1
    with transaction.atomic():
        OutboxAttempt.objects.create(
            event=event,
            attempted_at=at,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=duration_ms,
        )
        held = OutboxEvent.objects.filter(pk=event.pk, leased_until=lease)
        if outcome.delivered:
            # Delivered is true whoever holds the lease now.
            OutboxEvent.objects.filter(pk=event.pk).exclude(status=OutboxStatus.DELIVERED).update(
                status=OutboxStatus.DELIVERED,
                delivered_at=at,
                last_error="",
                leased_until=None,
                attempts=F("attempts") + 1,
            )
        elif attempts >= loyalty_settings.WEBHOOK_MAX_ATTEMPTS:
            held.update(
                status=OutboxStatus.FAILED, last_error=outcome.error, leased_until=None, attempts=attempts
            )
        else:
            held.update(
                next_attempt_at=at + retry_delay(attempts),
                last_error=outcome.error,
                leased_until=None,
                attempts=attempts,
            )
