"""With a real broker, the tasks travel through it to a real worker."""

import os
import socket
import time
from urllib.parse import urlparse

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from loyalty.models import OrderRecord
from loyalty.services import record_order
from tests.helpers import account_of, eur

BROKER_URL = os.environ.get("LOYALTY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


def broker_reachable() -> bool:
    address = urlparse(BROKER_URL)
    try:
        socket.create_connection((address.hostname, address.port or 6379), timeout=1).close()
    except OSError:
        return False
    return True


pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not broker_reachable(), reason=f"needs a broker at {BROKER_URL} (LOYALTY_TEST_BROKER_URL)"
    ),
]


@pytest.fixture
def broker_app():
    import loyalty.tasks  # noqa: F401  (registers the shared tasks)

    app = Celery("loyalty-broker-test", broker=BROKER_URL)
    app.conf.update(task_always_eager=False, broker_connection_retry_on_startup=False)
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("celery")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app


def test_a_worker_releases_pending_points_sent_through_the_broker(broker_app, member):
    record_order(member, order_id="A1", amount=eur("10.00"))
    OrderRecord.objects.update(release_after=timezone.now())
    broker_app.send_task("loyalty.tasks.release_pending_points")
    deadline = time.monotonic() + 30
    while account_of(member).available != 10 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert account_of(member).available == 10
