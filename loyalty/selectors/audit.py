"""Set-based verification of the books, chunked by account id (used by ``loyalty_audit``)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ..models import LedgerEntry, PointsAccount, PointsLot


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    member_number: str
    check: str
    expected: int
    actual: int

    def __str__(self) -> str:
        return (
            f"member {self.member_number} (account {self.account_id}): {self.check}: "
            f"expected {self.expected}, found {self.actual}"
        )


def _summed(queryset, field: str) -> Coalesce:
    """Sum of ``field`` over ``queryset`` rows of the outer account, 0 when there are none."""
    total = queryset.filter(account=OuterRef("pk")).order_by().values("account").annotate(total=Sum(field))
    return Coalesce(Subquery(total.values("total")), Value(0), output_field=IntegerField())


def _latest(field: str) -> Subquery:
    return Subquery(LedgerEntry.objects.filter(account=OuterRef("pk")).order_by("-id").values(field)[:1])


def find_discrepancies(
    *, batch_size: int = 1000, progress: Callable[[int], None] | None = None
) -> Iterator[Discrepancy]:
    """Yield every place where stored balances, entries, lots and allocations disagree."""
    after = 0
    checked = 0
    while True:
        accounts = list(
            PointsAccount.objects.filter(pk__gt=after)
            .order_by("pk")
            .select_related("member")
            .annotate(
                entry_points=_summed(LedgerEntry.objects, "points"),
                entry_pending=_summed(LedgerEntry.objects, "pending_points"),
                entry_debt=_summed(LedgerEntry.objects, "debt_points"),
                lot_points=_summed(PointsLot.objects.filter(remaining__gt=0), "remaining"),
                last_balance=_latest("balance_after"),
                last_pending=_latest("pending_after"),
            )[:batch_size]
        )
        if not accounts:
            return
        numbers = {account.pk: account.member.number for account in accounts}
        yield from _account_discrepancies(accounts)
        yield from _lot_discrepancies(numbers)
        yield from _debit_discrepancies(numbers)
        yield from _credit_discrepancies(numbers)
        after = accounts[-1].pk
        checked += len(accounts)
        if progress:
            progress(checked)


def _account_discrepancies(accounts: list[PointsAccount]) -> Iterator[Discrepancy]:
    for account in accounts:
        number = account.member.number
        checks = [
            ("available - debt = sum of entry points", account.entry_points, account.balance),
            ("pending = sum of entry pending points", account.entry_pending, account.pending),
            ("debt = sum of entry debt changes", account.entry_debt, account.debt),
            ("available = sum of open lots", account.lot_points, account.available),
        ]
        if account.last_balance is not None:
            checks += [
                ("balance = balance after the latest entry", account.last_balance, account.balance),
                ("pending = pending after the latest entry", account.last_pending, account.pending),
            ]
        for check, expected, actual in checks:
            if expected != actual:
                yield Discrepancy(account.pk, number, check, expected, actual)
        for field in ("available", "pending", "debt"):
            if getattr(account, field) < 0:
                yield Discrepancy(account.pk, number, f"{field} is not negative", 0, getattr(account, field))


def _lot_discrepancies(numbers: dict[int, str]) -> Iterator[Discrepancy]:
    """Each lot holds its original points less what allocations took from it."""
    lots = (
        PointsLot.objects.filter(account_id__in=numbers)
        .annotate(taken=Coalesce(Sum("allocations__points"), Value(0), output_field=IntegerField()))
        .exclude(remaining=F("original") - F("taken"))
        .values_list("account_id", "id", "original", "taken", "remaining")
    )
    for account_id, lot_id, original, taken, remaining in lots:
        yield Discrepancy(
            account_id, numbers[account_id], f"remaining points of lot {lot_id}", original - taken, remaining
        )


def _debit_discrepancies(numbers: dict[int, str]) -> Iterator[Discrepancy]:
    """A debit took from lots exactly its points less the debt it created."""
    debits = (
        LedgerEntry.objects.filter(account_id__in=numbers, points__lt=0)
        .annotate(allocated=Coalesce(Sum("allocations__points"), Value(0), output_field=IntegerField()))
        .exclude(allocated=-F("points") - F("debt_points"))
        .values_list("account_id", "id", "points", "debt_points", "allocated")
    )
    for account_id, entry_id, points, debt, allocated in debits:
        yield Discrepancy(
            account_id, numbers[account_id], f"lots allocated to entry {entry_id}", -points - debt, allocated
        )


def _credit_discrepancies(numbers: dict[int, str]) -> Iterator[Discrepancy]:
    """A credit created a lot of its points less the debt it paid off."""
    credits = (
        LedgerEntry.objects.filter(account_id__in=numbers, points__gt=0)
        .annotate(lotted=Coalesce(Sum("lots__original"), Value(0), output_field=IntegerField()))
        .exclude(lotted=F("points") + F("debt_points"))
        .values_list("account_id", "id", "points", "debt_points", "lotted")
    )
    for account_id, entry_id, points, debt, lotted in credits:
        yield Discrepancy(
            account_id, numbers[account_id], f"lot created by entry {entry_id}", points + debt, lotted
        )
