"""Outgoing webhooks: written with the change, delivered once each, retried while the shop is down."""

import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, transaction
from django.utils import timezone

from loyalty.exceptions import EventNotRetryable
from loyalty.models import OutboxAttempt, OutboxEvent, OutboxStatus
from loyalty.services import (
    cancel_redemption,
    deliver_due_events,
    erase_member,
    grant_tier,
    purge_delivered_events,
    record_order,
    redeem_reward,
    retry_event,
)
from loyalty.services.delivery import retry_delay
from loyalty.tasks import deliver_webhook
from loyalty.webhooks import verify_signature
from tests.helpers import eur, requires_postgres

SECRET = "shop-webhook-secret"


class Receiver:
    """The shop's endpoint: a real HTTP server on loopback that records what it was sent."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.received: list[dict] = []
        self.answer: int | None = 200
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/loyalty-events"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(
                    {
                        "id": self.headers["X-Loyalty-Event-Id"],
                        "signature": self.headers["X-Loyalty-Signature"],
                        "body": body,
                    }
                )
                if receiver.answer is None:  # not HTTP at all
                    self.wfile.write(b"garbage\r\n\r\n")
                    return
                self.send_response(receiver.answer)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def ids(self) -> list[str]:
        return [delivery["id"] for delivery in self.received]


@pytest.fixture
def receiver(settings):
    receiver = Receiver()
    settings.LOYALTY = {**settings.LOYALTY, "WEBHOOK_URL": receiver.url, "WEBHOOK_SECRET": SECRET}
    yield receiver
    receiver.stop()


def place_orders(member, count: int) -> None:
    for number in range(count):
        record_order(member, order_id=f"o-{number}", amount=eur("10.00"))


def place_orders_and_commit(member, count: int, capture) -> None:
    """Each order in a transaction that commits, so its event is handed to the delivery task."""
    for number in range(count):
        with capture(execute=True):
            record_order(member, order_id=f"o-{number}", amount=eur("10.00"))


def test_an_event_is_written_in_the_transaction_of_its_change(receiver, member):
    record_order(member, order_id="o-1", amount=eur("10.00"))
    event = OutboxEvent.objects.get()
    assert event.event_type == "points.earned"
    assert event.payload["member"] == member.number
    assert event.payload["entry"]["pending_points"] == 10


def test_a_change_rolled_back_leaves_no_event(receiver, member):
    with pytest.raises(RuntimeError), transaction.atomic():
        record_order(member, order_id="o-1", amount=eur("10.00"))
        raise RuntimeError
    assert not OutboxEvent.objects.exists()


def test_without_a_webhook_url_no_event_is_written(member):
    record_order(member, order_id="o-1", amount=eur("10.00"))
    assert not OutboxEvent.objects.exists()


def test_an_event_is_delivered_signed_once_its_transaction_commits(
    receiver, member, django_capture_on_commit_callbacks
):
    receiver.start()
    place_orders_and_commit(member, 1, django_capture_on_commit_callbacks)
    event = OutboxEvent.objects.get()
    assert (event.status, event.attempts) == (OutboxStatus.DELIVERED, 1)
    [delivery] = receiver.received
    verify_signature(delivery["signature"], delivery["body"], [SECRET], now=time.time(), tolerance=300)
    body = json.loads(delivery["body"])
    assert (body["id"], body["type"], delivery["id"]) == (
        str(event.event_id),
        "points.earned",
        str(event.event_id),
    )
    assert body["data"] == event.payload


def test_with_the_receiver_down_events_accumulate_and_are_all_delivered_once_each_when_it_is_back(
    receiver, member, django_capture_on_commit_callbacks
):
    place_orders_and_commit(member, 4, django_capture_on_commit_callbacks)
    waiting = OutboxEvent.objects.filter(status=OutboxStatus.PENDING)
    assert waiting.count() == 4
    assert set(OutboxAttempt.objects.values_list("status_code", flat=True)) == {None}
    receiver.start()
    later = timezone.now() + timedelta(hours=1)
    assert deliver_due_events(now=later) == 4
    assert deliver_due_events(now=later + timedelta(hours=1)) == 0
    assert sorted(receiver.ids()) == sorted(
        str(event_id) for event_id in OutboxEvent.objects.values_list("event_id", flat=True)
    )
    assert len(set(receiver.ids())) == 4
    assert not OutboxEvent.objects.exclude(status=OutboxStatus.DELIVERED).exists()


def test_a_sweep_stops_at_a_receiver_that_cannot_be_reached(receiver, member):
    place_orders(member, 3)
    deliver_due_events()
    assert OutboxAttempt.objects.count() == 1


def test_a_refused_event_waits_twice_as_long_after_each_failure(receiver, member):
    receiver.answer = 500
    receiver.start()
    record_order(member, order_id="o-1", amount=eur("10.00"))
    now = timezone.now()
    for attempt in range(1, 4):
        deliver_due_events(now=now)
        event = OutboxEvent.objects.get()
        assert event.attempts == attempt
        assert event.next_attempt_at == now + retry_delay(attempt)
        assert event.last_error.startswith("HTTP 500")
        now = event.next_attempt_at
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]


def test_a_refusal_does_not_stop_the_sweep(receiver, member):
    receiver.answer = 400
    receiver.start()
    place_orders(member, 3)
    deliver_due_events()
    assert OutboxAttempt.objects.count() == 3


def test_an_event_is_given_up_after_the_last_attempt_and_staff_can_retry_it(
    receiver, member, settings, django_capture_on_commit_callbacks
):
    settings.LOYALTY = {**settings.LOYALTY, "WEBHOOK_MAX_ATTEMPTS": 2}
    record_order(member, order_id="o-1", amount=eur("10.00"))
    deliver_due_events(now=timezone.now())
    deliver_due_events(now=timezone.now() + timedelta(days=1))
    event = OutboxEvent.objects.get()
    assert (event.status, event.attempts) == (OutboxStatus.FAILED, 2)
    assert deliver_due_events(now=timezone.now() + timedelta(days=30)) == 0
    receiver.start()
    with django_capture_on_commit_callbacks(execute=True):
        retry_event(event)
    event.refresh_from_db()
    assert event.status == OutboxStatus.DELIVERED
    assert receiver.ids() == [str(event.event_id)]


def test_a_delivered_event_is_not_retried(receiver, member, django_capture_on_commit_callbacks):
    receiver.start()
    place_orders_and_commit(member, 1, django_capture_on_commit_callbacks)
    with pytest.raises(EventNotRetryable):
        retry_event(OutboxEvent.objects.get())


def test_a_redemption_is_announced_with_its_code_and_its_cancellation_too(
    receiver, member, make_reward, fund, staff
):
    fund(member, 1000)
    reward = make_reward()
    redemption = redeem_reward(member, reward, idempotency_key="k-1")
    cancel_redemption(redemption, reason="changed my mind", actor=staff)
    issued, cancelled = OutboxEvent.objects.filter(
        event_type__in=["reward.issued", "redemption.cancelled"]
    ).order_by("pk")
    assert issued.event_type == "reward.issued"
    assert issued.payload["redemption"]["code"] == redemption.code
    assert issued.payload["redemption"]["points"] == redemption.points
    assert cancelled.event_type == "redemption.cancelled"
    assert cancelled.payload["redemption"]["status"] == "cancelled"


def test_a_tier_change_is_announced(receiver, member, ladder, staff):
    grant_tier(
        member, tier=ladder["gold"], until=timezone.now() + timedelta(days=30), reason="VIP", actor=staff
    )
    event = OutboxEvent.objects.get(event_type="tier.changed")
    assert (event.payload["member"], event.payload["to_tier"]) == (member.number, "gold")


def test_an_erasure_asks_the_shop_to_erase_its_own_data_of_the_user(receiver, member):
    user_id = member.user_id
    erase_member(member)
    event = OutboxEvent.objects.get(event_type="erasure.requested")
    assert event.payload == {"member": member.number, "user_id": user_id, "customer_ids": []}


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_deliver_each_event_once(settings, make_member):
    receiver = Receiver()
    settings.LOYALTY = {**settings.LOYALTY, "WEBHOOK_URL": receiver.url, "WEBHOOK_SECRET": SECRET}
    member = make_member()
    for number in range(10):
        record_order(member, order_id=f"o-{number}", amount=eur("10.00"))
    OutboxEvent.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    receiver.start()
    barrier = threading.Barrier(2)

    def sweep():
        try:
            barrier.wait()
            deliver_due_events()
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    receiver.stop()
    assert len(receiver.ids()) == 10
    assert len(set(receiver.ids())) == 10
    assert OutboxEvent.objects.filter(status=OutboxStatus.DELIVERED).count() == 10


def test_an_event_whose_task_could_not_be_queued_is_delivered_by_the_sweep(
    receiver, member, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(deliver_webhook, "delay", broker_down)
    receiver.start()
    with django_capture_on_commit_callbacks(execute=True):
        record_order(member, order_id="o-1", amount=eur("10.00"))
    event = OutboxEvent.objects.get()
    assert (event.status, event.attempts) == (OutboxStatus.PENDING, 0)
    assert deliver_due_events() == 1
    assert receiver.ids() == [str(event.event_id)]


def test_an_event_being_sent_is_neither_sent_by_another_worker_nor_retried(receiver, member):
    receiver.start()
    record_order(member, order_id="o-1", amount=eur("10.00"))
    event = OutboxEvent.objects.get()
    OutboxEvent.objects.filter(pk=event.pk).update(leased_until=timezone.now() + timedelta(minutes=1))
    assert deliver_due_events() == 0
    with pytest.raises(EventNotRetryable):
        retry_event(event)
    assert receiver.ids() == []
    assert not OutboxAttempt.objects.exists()


def test_an_expired_lease_of_a_worker_that_died_is_taken_over(receiver, member):
    receiver.start()
    record_order(member, order_id="o-1", amount=eur("10.00"))
    OutboxEvent.objects.update(leased_until=timezone.now() - timedelta(seconds=1))
    assert deliver_due_events() == 1


def test_an_answer_that_is_not_http_counts_as_a_failed_attempt(receiver, member):
    receiver.answer = None
    receiver.start()
    record_order(member, order_id="o-1", amount=eur("10.00"))
    deliver_due_events()
    event = OutboxEvent.objects.get()
    assert (event.status, event.attempts, event.leased_until) == (OutboxStatus.PENDING, 1, None)
    assert event.last_error


def test_an_unusable_url_counts_as_a_failed_attempt(receiver, member, settings):
    settings.LOYALTY = {**settings.LOYALTY, "WEBHOOK_URL": "http://127.0.0.1:99999/events"}
    record_order(member, order_id="o-1", amount=eur("10.00"))
    deliver_due_events()
    assert OutboxEvent.objects.get().attempts == 1


def test_nothing_is_sent_unsigned(receiver, member, settings):
    settings.LOYALTY = {**settings.LOYALTY, "WEBHOOK_SECRET": ""}
    receiver.start()
    record_order(member, order_id="o-1", amount=eur("10.00"))
    deliver_due_events()
    assert receiver.ids() == []
    assert "WEBHOOK_SECRET" in OutboxEvent.objects.get().last_error


def test_delivered_events_are_deleted_after_the_days_kept(
    receiver, member, django_capture_on_commit_callbacks
):
    receiver.start()
    place_orders_and_commit(member, 2, django_capture_on_commit_callbacks)
    OutboxEvent.objects.filter(pk=OutboxEvent.objects.order_by("pk").first().pk).update(
        delivered_at=timezone.now() - timedelta(days=31)
    )
    assert purge_delivered_events() == 1
    assert OutboxEvent.objects.count() == 1
    assert OutboxAttempt.objects.count() == 1
