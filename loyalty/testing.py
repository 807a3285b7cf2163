"""Helpers for tests and benchmarks, in this project and in host projects."""

from .models import EntryType, LedgerEntry, Member, PointsAccount


def bulk_history(member: Member, entries: int, *, batch_size: int = 5000) -> None:
    """Write ``entries`` filler ledger entries straight to the table, bypassing the services.

    Only for measuring how reads scale with history: the filler does not balance with the
    account, so ``loyalty_audit`` will report it.
    """
    account = PointsAccount.objects.get(member=member)
    LedgerEntry.objects.bulk_create(
        (
            LedgerEntry(
                account=account,
                entry_type=EntryType.ADJUSTMENT,
                points=1,
                balance_after=number,
                pending_after=0,
                source="filler",
                idempotency_key=f"filler:{member.pk}:{number}",
            )
            for number in range(entries)
        ),
        batch_size=batch_size,
    )
