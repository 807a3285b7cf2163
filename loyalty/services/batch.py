"""Batch jobs: expiry and release of pending points, in chunks, each chunk its own transaction.

Both derive their work from the database state, so running them twice (or concurrently with a
Celery retry) changes nothing the second time.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, transaction
from django.utils import timezone

from ..conf import loyalty_settings
from ..models import EntryType, LedgerEntry, LotAllocation, OrderRecord, OrderStatus, PointsAccount, PointsLot
from ..signals import points_expired, send_on_commit
from .ledger import BALANCE_FIELDS, LedgerInconsistent, ledger_key
from .orders import release_order

Progress = Callable[[int], None]
logger = logging.getLogger(__name__)


@dataclass
class ExpiryResult:
    accounts: int = 0
    lots: int = 0
    points: int = 0


def expire_points(
    *,
    now: datetime | None = None,
    first_account_id: int | None = None,
    last_account_id: int | None = None,
    progress: Progress | None = None,
) -> ExpiryResult:
    """Expire what is left of every lot whose expiry date has passed (optionally for an account-id range)."""
    now = now or timezone.now()
    due = PointsLot.objects.filter(expires_at__lte=now, remaining__gt=0)
    if last_account_id is not None:
        due = due.filter(account_id__lte=last_account_id)
    result = ExpiryResult()
    after = (first_account_id - 1) if first_account_id is not None else 0
    while True:
        account_ids = list(
            due.filter(account_id__gt=after)
            .order_by("account_id")
            .values_list("account_id", flat=True)
            .distinct()[: loyalty_settings.BATCH_SIZE]
        )
        if not account_ids:
            return result
        _expire_accounts(account_ids, now, result)
        after = account_ids[-1]
        if progress:
            progress(result.accounts)


def _expire_accounts(account_ids: list[int], now: datetime, result: ExpiryResult) -> None:
    with transaction.atomic():
        accounts = {
            account.pk: account
            for account in PointsAccount.objects.select_for_update(no_key=True, of=("self",))
            .select_related("member")
            .filter(pk__in=account_ids)
            .order_by("pk")
        }
        lots = list(
            PointsLot.objects.filter(
                account_id__in=account_ids, expires_at__lte=now, remaining__gt=0
            ).order_by("account_id", "expires_at", "id")
        )
        entries = []
        expired_by_account: dict[int, int] = {}
        for lot in lots:
            account = accounts[lot.account_id]
            account.available -= lot.remaining
            account.lifetime_expired += lot.remaining
            expired_by_account[account.pk] = expired_by_account.get(account.pk, 0) + lot.remaining
            entries.append(
                LedgerEntry(
                    account=account,
                    entry_type=EntryType.EXPIRY,
                    points=-lot.remaining,
                    balance_after=account.balance,
                    pending_after=account.pending,
                    source="system",
                    source_ref=f"lot:{lot.pk}",
                    idempotency_key=ledger_key("expiry", "lot", lot.pk),
                    reason="points_expired",
                    effective_at=lot.expires_at,
                )
            )
        LedgerEntry.objects.bulk_create(entries)
        LotAllocation.objects.bulk_create(
            [
                LotAllocation(entry=entry, lot=lot, points=-entry.points)
                for entry, lot in zip(entries, lots, strict=True)
            ]
        )
        for lot in lots:
            lot.remaining = 0
        PointsLot.objects.bulk_update(lots, ["remaining"])
        changed = [accounts[pk] for pk in expired_by_account]
        for account in changed:
            account.updated_at = timezone.now()
        PointsAccount.objects.bulk_update(changed, BALANCE_FIELDS)
        for account in changed:
            send_on_commit(
                points_expired, PointsAccount, member=account.member, points=expired_by_account[account.pk]
            )
    result.accounts += len(changed)
    result.lots += len(lots)
    result.points += sum(expired_by_account.values())


class BatchIncomplete(RuntimeError):
    """Some rows of a batch failed; the others were done. The failures are logged one by one."""


def release_pending_points(*, now: datetime | None = None, progress: Progress | None = None) -> int:
    """Release the pending points of every order whose return window has ended; return how many orders.

    Each order is its own transaction. One that fails is logged and skipped so that it cannot hold
    back the others; ``BatchIncomplete`` is raised at the end, naming the failed orders.
    """
    now = now or timezone.now()
    due = OrderRecord.objects.filter(status=OrderStatus.PENDING, release_after__lte=now).order_by("pk")
    released = 0
    failed: list[int] = []
    after = 0
    while True:
        order_ids = list(due.filter(pk__gt=after).values_list("pk", flat=True)[: loyalty_settings.BATCH_SIZE])
        if not order_ids:
            break
        for order_pk in order_ids:
            try:
                released += release_order(order_pk, now)
            except (DatabaseError, LedgerInconsistent):
                logger.exception("Could not release the points of order record %s", order_pk)
                failed.append(order_pk)
        after = order_ids[-1]
        if progress:
            progress(released)
    if failed:
        raise BatchIncomplete(
            f"Released {released} order(s); {len(failed)} failed (order records {failed[:20]})."
        )
    return released
