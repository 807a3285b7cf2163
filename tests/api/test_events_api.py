"""The signed event webhook: shops on other stacks and partners, each event processed once."""

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from loyalty.models import (
    EntryType,
    EventSource,
    ExternalCustomer,
    InboundEvent,
    LedgerEntry,
    Member,
    MemberEvent,
    OrderRecord,
    OrderStatus,
    OutboxEvent,
    PartnerAward,
    PointsLot,
    RefundRecord,
    SourceKind,
)
from loyalty.services import erase_member, expire_points, spend_points
from loyalty.webhooks import signature_header
from tests.helpers import account_of, assert_books_balance, entries_of, requires_postgres

URL = reverse("loyalty-api:events")
SECRET = "pos-secret-0123456789"
PARTNER_SECRET = "airline-secret-0123456789"


@pytest.fixture
def pos(db, settings, market):
    settings.LOYALTY = {
        **settings.LOYALTY,
        "WEBHOOK_SECRETS": {"pos": SECRET, "skyair": [PARTNER_SECRET, "skyair-old-secret"]},
    }
    return EventSource.objects.create(code="pos", name="Point of sale", kind=SourceKind.SHOP)


@pytest.fixture
def airline(pos):
    return EventSource.objects.create(
        code="skyair",
        name="Sky Air",
        kind=SourceKind.PARTNER,
        currency="USD",
        points_per_unit=Decimal("2"),
        point_price=Decimal("0.008"),
    )


def deliver(client, event: dict | None = None, *, source="pos", secret=SECRET, timestamp=None, body=None):
    body = json.dumps(event).encode() if body is None else body
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={
            "X-Loyalty-Source": source,
            "X-Loyalty-Signature": signature_header(secret, body, timestamp),
        },
    )


def customer_created(customer_id="c-1", event_id="evt-customer-1", **data):
    return {
        "id": event_id,
        "type": "customer.created",
        "data": {"customer_id": customer_id, "market": "EU", "language": "en", **data},
    }


def order_placed(order_id="o-1", amount="100.00", event_id="evt-order-1", customer_id="c-1"):
    return {
        "id": event_id,
        "type": "order.placed",
        "data": {"order_id": order_id, "customer_id": customer_id, "amount": amount, "currency": "EUR"},
    }


def snapshot() -> dict:
    """Row counts of everything a delivery may write."""
    return {
        model.__name__: model.objects.count()
        for model in (
            InboundEvent,
            Member,
            ExternalCustomer,
            OrderRecord,
            RefundRecord,
            LedgerEntry,
            MemberEvent,
        )
    }


@pytest.fixture
def customer(client, pos):
    assert deliver(client, customer_created()).status_code == 200
    return ExternalCustomer.objects.get(source=pos, external_id="c-1").member


def test_customer_created_enrolls_a_member_known_by_the_shops_customer_id(client, pos):
    response = deliver(client, customer_created(birth_date="1990-05-01"))
    assert response.status_code == 200
    member = Member.objects.get(external_ids__source=pos, external_ids__external_id="c-1")
    assert response.json() == {
        "id": "evt-customer-1",
        "type": "customer.created",
        "result": {"member": member.number},
    }
    assert member.user is None
    assert member.market.code == "EU"


def test_a_valid_delivery_sent_five_times_is_processed_once_and_answered_the_same(client, customer):
    responses = [deliver(client, order_placed()) for _ in range(5)]
    assert {response.status_code for response in responses} == {200}
    assert len({response.content for response in responses}) == 1
    assert [response.has_header("Idempotent-Replayed") for response in responses] == [False] + [True] * 4
    assert OrderRecord.objects.filter(external_id="o-1", source="pos").count() == 1
    assert entries_of(customer, entry_type=EntryType.EARN).count() == 1
    assert account_of(customer).pending == 100


def test_the_same_event_id_with_another_body_is_a_conflict_and_writes_nothing(client, customer):
    deliver(client, order_placed(amount="100.00"))
    before = snapshot()
    response = deliver(client, order_placed(amount="999.00"))
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert snapshot() == before


def test_a_tampered_body_is_refused_and_writes_nothing(client, customer):
    body = json.dumps(order_placed()).encode()
    signature = signature_header(SECRET, body)
    before = snapshot()
    response = client.post(
        URL,
        data=body.replace(b"100.00", b"900.00"),
        content_type="application/json",
        headers={"X-Loyalty-Source": "pos", "X-Loyalty-Signature": signature},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    assert snapshot() == before


def test_a_wrong_secret_is_refused_and_writes_nothing(client, customer):
    before = snapshot()
    response = deliver(client, order_placed(), secret="not-the-secret")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    assert snapshot() == before


def test_a_missing_signature_is_refused(client, customer):
    response = client.post(
        URL,
        data=json.dumps(order_placed()),
        content_type="application/json",
        headers={"X-Loyalty-Source": "pos"},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"


def test_an_expired_timestamp_is_refused_as_a_replay_and_writes_nothing(client, customer):
    before = snapshot()
    response = deliver(client, order_placed(), timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert response.json()["code"] == "signature_expired"
    assert snapshot() == before


def test_a_timestamp_from_the_future_beyond_the_tolerance_is_refused(client, customer):
    response = deliver(client, order_placed(), timestamp=int(time.time()) + 301)
    assert response.json()["code"] == "signature_expired"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"type": "order.placed", "data": {}}).encode(),
        json.dumps({"id": "", "type": "order.placed", "data": {}}).encode(),
        json.dumps({"id": "evt", "type": "order.placed", "data": []}).encode(),
        json.dumps({"id": "evt", "type": "order.placed", "occurred_at": "yesterday", "data": {}}).encode(),
        json.dumps(
            {"id": "evt", "type": "order.placed", "data": {"customer_id": "c-1", "order_id": "o-1"}}
        ).encode(),
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "not-json",
        "not-an-object",
        "no-id",
        "blank-id",
        "data-not-an-object",
        "bad-time",
        "no-amount",
        "nested",
    ],
)
def test_a_malformed_payload_is_refused_and_writes_nothing(client, customer, body):
    before = snapshot()
    response = deliver(client, body=body)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_event"
    assert snapshot() == before


def test_an_event_dated_in_the_future_is_refused_and_writes_nothing(client, customer):
    event = order_placed()
    event["occurred_at"] = "2099-01-01T00:00:00+00:00"
    before = snapshot()
    response = deliver(client, event)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_timestamp",
        "detail": "An event cannot have happened in the future.",
    }
    assert snapshot() == before


def test_an_unknown_source_is_refused(client, customer):
    response = deliver(client, order_placed(), source="elsewhere")
    assert response.status_code == 401
    assert response.json()["code"] == "unknown_source"


def test_an_inactive_source_is_refused(client, customer, pos):
    EventSource.objects.filter(pk=pos.pk).update(is_active=False)
    assert deliver(client, order_placed()).json()["code"] == "unknown_source"


def test_a_source_without_a_configured_secret_is_refused(client, customer, settings):
    settings.LOYALTY = {**settings.LOYALTY, "WEBHOOK_SECRETS": {}}
    assert deliver(client, order_placed()).json()["code"] == "unknown_source"


def test_an_unknown_event_type_is_refused(client, customer):
    response = deliver(client, {"id": "evt-x", "type": "order.teleported", "data": {}})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_event_type"


def test_a_failed_delivery_can_be_retried_once_its_cause_is_fixed(client, pos):
    response = deliver(client, order_placed())
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_customer"
    assert not InboundEvent.objects.exists()
    deliver(client, customer_created())
    assert deliver(client, order_placed()).status_code == 200
    assert OrderRecord.objects.filter(external_id="o-1").count() == 1


def test_order_completed_releases_the_pending_points(client, customer):
    deliver(client, order_placed())
    response = deliver(client, {"id": "evt-done", "type": "order.completed", "data": {"order_id": "o-1"}})
    assert response.json()["result"] == {"order_id": "o-1", "status": OrderStatus.RELEASED, "points": 100}
    account = account_of(customer)
    assert (account.available, account.pending) == (100, 0)


def test_order_cancelled_leaves_nothing(client, customer):
    deliver(client, order_placed())
    deliver(client, {"id": "evt-cancel", "type": "order.cancelled", "data": {"order_id": "o-1"}})
    account = account_of(customer)
    assert (account.available, account.pending) == (0, 0)
    assert_books_balance()


def test_a_partial_refund_claws_back_in_proportion(client, customer):
    deliver(client, order_placed())
    deliver(client, {"id": "evt-done", "type": "order.completed", "data": {"order_id": "o-1"}})
    response = deliver(
        client,
        {
            "id": "evt-refund",
            "type": "order.refunded",
            "data": {"order_id": "o-1", "refund_id": "r-1", "amount": "25.00", "currency": "EUR"},
        },
    )
    assert response.json()["result"] == {"order_id": "o-1", "refund_id": "r-1", "points_reversed": 25}
    assert account_of(customer).available == 75


def test_order_paid_records_an_order_the_shop_never_reported_as_placed(client, customer):
    event = order_placed()
    event["type"] = "order.paid"
    deliver(client, event)
    assert account_of(customer).pending == 100


def test_order_paid_after_order_placed_changes_nothing(client, customer):
    deliver(client, order_placed())
    paid = order_placed(event_id="evt-paid")
    paid["type"] = "order.paid"
    assert deliver(client, paid).status_code == 200
    assert OrderRecord.objects.filter(external_id="o-1").count() == 1
    assert account_of(customer).pending == 100


def test_orders_of_two_sources_with_the_same_id_stay_apart(client, customer, settings):
    settings.LOYALTY = {**settings.LOYALTY, "WEBHOOK_SECRETS": {"pos": SECRET, "app": "app-secret"}}
    EventSource.objects.create(code="app", name="App", kind=SourceKind.SHOP)
    deliver(client, customer_created(), source="app", secret="app-secret")
    deliver(client, order_placed(), source="app", secret="app-secret")
    deliver(client, order_placed())
    assert OrderRecord.objects.filter(external_id="o-1").count() == 2


def test_a_published_review_is_recorded_once_for_the_customer(client, customer):
    event = {
        "id": "evt-review",
        "type": "review.published",
        "data": {"customer_id": "c-1", "review_id": "rv-1"},
    }
    deliver(client, event)
    deliver(client, {**event, "id": "evt-review-again"})
    assert MemberEvent.objects.filter(member=customer, event="review", event_id="rv-1").count() == 1


def test_a_custom_event_is_recorded_under_its_name(client, customer):
    deliver(
        client, {"id": "evt-app", "type": "custom", "data": {"customer_id": "c-1", "name": "app_installed"}}
    )
    assert MemberEvent.objects.get(member=customer, event="custom").custom_event == "app_installed"


def test_a_shop_may_not_award_partner_points(client, customer):
    event = {
        "id": "evt-p",
        "type": "partner.earned",
        "data": {"member": customer.number, "amount": "10", "currency": "EUR"},
    }
    response = deliver(client, event)
    assert response.status_code == 403
    assert response.json()["code"] == "event_not_allowed"


def test_a_partner_may_not_send_orders(client, customer, airline):
    response = deliver(client, order_placed(), source="skyair", secret=PARTNER_SECRET)
    assert response.json()["code"] == "event_not_allowed"


def test_a_partner_awards_points_at_its_own_rate_with_the_conversion_recorded(
    client, customer, airline, rates
):
    event = {
        "id": "evt-flight",
        "type": "partner.earned",
        "data": {"member": customer.number, "amount": "100.00", "currency": "EUR", "reference": "PNR-7"},
    }
    response = deliver(client, event, source="skyair", secret=PARTNER_SECRET)
    # 100 EUR is 108 USD; 2 points per USD.
    assert response.json()["result"] == {"member": customer.number, "points": 216}
    entry = entries_of(customer, source="skyair").get()
    assert (entry.points, entry.source_ref, entry.rate, entry.fx_rate) == (
        216,
        "PNR-7",
        Decimal("2"),
        Decimal("1.08"),
    )
    assert account_of(customer).available == 216
    assert_books_balance()


def test_a_partner_may_sign_with_a_secret_being_rotated_out(client, customer, airline):
    event = {
        "id": "evt-old",
        "type": "partner.earned",
        "data": {"member": customer.number, "amount": "5", "currency": "USD"},
    }
    assert deliver(client, event, source="skyair", secret="skyair-old-secret").status_code == 200
    assert account_of(customer).available == 10


def test_a_partner_naming_an_unknown_member_is_refused(client, customer, airline):
    event = {
        "id": "evt-nobody",
        "type": "partner.earned",
        "data": {"member": "000", "amount": "5", "currency": "USD"},
    }
    response = deliver(client, event, source="skyair", secret=PARTNER_SECRET)
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_member"


def test_the_webhook_accepts_only_post(client, pos):
    assert client.get(URL).status_code == 405


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_deliveries_of_one_event_are_processed_once_and_answered_the_same(pos):
    assert deliver(Client(), customer_created()).status_code == 200
    body = json.dumps(order_placed()).encode()
    barrier = threading.Barrier(5)
    responses = []

    def send():
        try:
            barrier.wait()
            responses.append(deliver(Client(), body=body))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [response.status_code for response in responses] == [200] * 5
    assert len({response.content for response in responses}) == 1
    assert OrderRecord.objects.filter(external_id="o-1").count() == 1
    assert InboundEvent.objects.count() == 2
    assert_books_balance()


@pytest.mark.parametrize(
    "signature",
    [
        "t=\u00b2,v1=" + "0" * 64,
        "t=1,v1=\u00e9",
        "t=" + "9" * 5000 + ",v1=" + "0" * 64,
        "v1=" + "0" * 64,
        "garbage",
    ],
    ids=["superscript-digit", "non-ascii-digest", "huge-timestamp", "no-timestamp", "garbage"],
)
def test_a_malformed_signature_header_is_an_invalid_signature(client, customer, signature):
    response = client.post(
        URL,
        data=json.dumps(order_placed()),
        content_type="application/json",
        headers={"X-Loyalty-Source": "pos", "X-Loyalty-Signature": signature},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"


def test_an_absurd_amount_is_an_invalid_amount(client, customer):
    response = deliver(client, order_placed(amount="1e30"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_amount"


def test_partner_points_count_from_when_they_are_recorded_whatever_date_the_partner_sends(
    client, customer, airline, settings
):
    event = {
        "id": "evt-old-flight",
        "type": "partner.earned",
        "occurred_at": "2020-01-01T00:00:00+00:00",
        "data": {"member": customer.number, "amount": "10", "currency": "USD"},
    }
    before = timezone.now()
    deliver(client, event, source="skyair", secret=PARTNER_SECRET)
    lot = PointsLot.objects.get(account__member=customer, entry__source="skyair")
    lifetime = timedelta(days=settings.LOYALTY.get("POINTS_LIFETIME_DAYS", 365))
    assert lot.expires_at >= before + lifetime
    assert account_of(customer).available == 20


def test_an_erasure_names_the_shops_customer_id_though_it_is_cleared(client, customer, settings):
    settings.LOYALTY = {**settings.LOYALTY, "WEBHOOK_URL": "http://127.0.0.1:9/events", "WEBHOOK_SECRET": "s"}
    erase_member(customer)
    event = OutboxEvent.objects.get(event_type="erasure.requested")
    assert event.payload["customer_ids"] == [{"source": "pos", "customer_id": "c-1"}]
    assert ExternalCustomer.objects.get(member=customer).external_id is None


def test_an_order_event_costs_the_same_queries_after_1_or_30_earlier_orders(client, customer, pos):
    def queries_for(order_number: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = deliver(
                client, order_placed(order_id=f"o-{order_number}", event_id=f"evt-{order_number}")
            )
        assert response.status_code == 200
        return len(captured.captured_queries)

    first = queries_for(1)
    for number in range(2, 31):
        deliver(client, order_placed(order_id=f"o-{number}", event_id=f"evt-{number}"))
    assert queries_for(31) == first


def flight(customer, reference="PNR-7", amount="100", event_id="evt-flight"):
    return {
        "id": event_id,
        "type": "partner.earned",
        "data": {"member": customer.number, "amount": amount, "currency": "USD", "reference": reference},
    }


def cancellation(reference="PNR-7", event_id="evt-cancel"):
    return {"id": event_id, "type": "partner.reversed", "data": {"reference": reference}}


def test_a_partner_reversal_takes_the_points_back_and_credits_the_partner(client, customer, airline):
    deliver(client, flight(customer), source="skyair", secret=PARTNER_SECRET)
    response = deliver(client, cancellation(), source="skyair", secret=PARTNER_SECRET)
    assert response.json()["result"] == {"member": customer.number, "points_reversed": 200}
    assert account_of(customer).available == 0
    assert sorted(PartnerAward.objects.values_list("points", "value")) == [
        (-200, Decimal("-1.6")),
        (200, Decimal("1.6")),
    ]
    assert_books_balance()


def test_a_partner_reversal_sent_again_under_another_event_id_takes_back_once(client, customer, airline):
    deliver(client, flight(customer), source="skyair", secret=PARTNER_SECRET)
    deliver(client, cancellation(), source="skyair", secret=PARTNER_SECRET)
    deliver(client, cancellation(event_id="evt-cancel-again"), source="skyair", secret=PARTNER_SECRET)
    assert entries_of(customer, entry_type=EntryType.REVERSAL).count() == 1
    assert PartnerAward.objects.count() == 2


def test_reversing_an_unknown_award_is_refused_and_writes_nothing(client, customer, airline):
    before = snapshot()
    response = deliver(client, cancellation(reference="PNR-NONE"), source="skyair", secret=PARTNER_SECRET)
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_award"
    assert snapshot() == before


def test_a_partner_reversal_of_spent_points_takes_what_is_left_and_writes_off_the_rest(
    client, customer, airline, staff
):
    deliver(client, flight(customer), source="skyair", secret=PARTNER_SECRET)
    spend_points(customer, points=150, idempotency_key="spent", reason="voucher")
    deliver(client, cancellation(), source="skyair", secret=PARTNER_SECRET)
    reversal = entries_of(customer, entry_type=EntryType.REVERSAL).get()
    assert (reversal.points, reversal.written_off) == (-50, 150)
    assert account_of(customer).available == 0
    assert_books_balance()


def test_points_of_a_reversed_award_that_expired_unused_are_not_taken_twice(client, customer, airline, fund):
    fund(customer, 40)
    deliver(client, flight(customer), source="skyair", secret=PARTNER_SECRET)
    expire_points(now=timezone.now() + timedelta(days=400))
    fund(customer, 500)
    deliver(client, cancellation(), source="skyair", secret=PARTNER_SECRET)
    reversal = entries_of(customer, entry_type=EntryType.REVERSAL).get()
    assert (reversal.points, reversal.written_off) == (0, 200)
    assert account_of(customer).available == 500
    assert_books_balance()
