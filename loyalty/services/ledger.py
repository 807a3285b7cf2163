"""Posting primitives shared by the services. Every caller holds the account's row lock.

Nothing outside ``loyalty.services`` writes ledger entries, lots or balances.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from django.db.models import Case, F, IntegerField, Q, Value, When

from ..conf import loyalty_settings
from ..exceptions import IdempotencyConflict, InvalidIdempotencyKey
from ..models import LedgerEntry, LotAllocation, Member, PointsAccount, PointsLot

BALANCE_FIELDS = [
    "available",
    "pending",
    "debt",
    "lifetime_earned",
    "lifetime_redeemed",
    "lifetime_expired",
    "updated_at",
]


class LedgerInconsistent(RuntimeError):
    """The stored lots do not cover the stored balance; ``loyalty_audit`` will show where."""


def lock_account(member: Member) -> PointsAccount:
    """Lock the member's account row for the rest of the transaction; return it with a fresh ``member``."""
    return (
        PointsAccount.objects.select_for_update(no_key=True, of=("self",))
        .select_related("member__market")
        .get(member_id=member.pk)
    )


def save_account(account: PointsAccount) -> None:
    account.save(update_fields=BALANCE_FIELDS)


def checked_key(key: object, max_length: int = 150) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > max_length:
        raise InvalidIdempotencyKey()
    return key


# Length of LedgerEntry.idempotency_key.
LEDGER_KEY_LENGTH = 1000


def ledger_key(*parts: object) -> str:
    """An idempotency key from its parts, each percent-encoded so that no two part lists share a key.

    Non-Latin caller keys can encode past the column's length: such a key keeps its other parts and
    replaces the longest one by its SHA-256 (keys that fit are unchanged, so replays still match).
    """
    encoded = [quote(str(part), safe="") for part in parts]
    key = ":".join(encoded)
    if len(key) <= LEDGER_KEY_LENGTH:
        return key
    longest = max(range(len(encoded)), key=lambda index: len(encoded[index]))
    encoded[longest] = "sha256-" + hashlib.sha256(str(parts[longest]).encode()).hexdigest()
    return ":".join(encoded)


def existing_entry(key: str) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(idempotency_key=key).first()


def ensure_same_request(matches: bool) -> None:
    """A replayed key must describe the same request as the first one."""
    if not matches:
        raise IdempotencyConflict()


def lot_expiry(now: datetime) -> datetime | None:
    days = loyalty_settings.POINTS_LIFETIME_DAYS
    return None if days is None else now + timedelta(days=days)


def write_entry(account: PointsAccount, **fields) -> LedgerEntry:
    """Append an entry stamped with the account's (already updated) balances."""
    return LedgerEntry.objects.create(
        account=account, balance_after=account.balance, pending_after=account.pending, **fields
    )


def apply_credit(account: PointsAccount, points: int) -> int:
    """Add ``points`` to the available balance, paying off any debt first; return what became spendable."""
    paid = min(account.debt, points)
    account.debt -= paid
    account.available += points - paid
    return points - paid


def create_lot(account: PointsAccount, entry: LedgerEntry, points: int, *, expires_at, order=None) -> None:
    if points > 0:
        PointsLot.objects.create(
            account=account,
            entry=entry,
            order=order,
            original=points,
            remaining=points,
            expires_at=expires_at,
        )


@dataclass
class DebitPlan:
    """Lots a debit will take from, planned before the entry is written."""

    takes: list[tuple[PointsLot, int]]

    @property
    def points(self) -> int:
        return sum(take for _, take in self.takes)

    def apply(self, entry: LedgerEntry) -> None:
        """Reduce the lots and record which lots ``entry`` took from (constant queries per debit)."""
        if not self.takes:
            return
        for lot, take in self.takes:
            lot.remaining -= take
        PointsLot.objects.bulk_update([lot for lot, _ in self.takes], ["remaining"])
        LotAllocation.objects.bulk_create(
            [LotAllocation(entry=entry, lot=lot, points=take) for lot, take in self.takes]
        )


def plan_debit(account: PointsAccount, points: int, *, prefer_order=None, prefer_entry=None) -> DebitPlan:
    """Take ``points`` (at most the available balance) from the soonest-expiring lots.

    With ``prefer_order`` (or ``prefer_entry``) the lots that order (or entry) created are taken
    first (clawbacks).
    """
    wanted = min(points, account.available)
    if wanted <= 0:
        return DebitPlan([])
    ordering = [F("expires_at").asc(nulls_last=True), "id"]
    lots = PointsLot.objects.filter(account=account, remaining__gt=0)
    own = (
        Q(order=prefer_order) if prefer_order is not None else Q(entry=prefer_entry) if prefer_entry else None
    )
    if own is not None:
        lots = lots.annotate(
            not_own=Case(When(own, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        ordering.insert(0, "not_own")
    takes = []
    left = wanted
    for lot in lots.order_by(*ordering).iterator(chunk_size=200):
        take = min(left, lot.remaining)
        takes.append((lot, take))
        left -= take
        if left == 0:
            break
    if left:
        raise LedgerInconsistent(f"Lots of account {account.pk} cover {wanted - left} of {wanted} points.")
    return DebitPlan(takes)
