"""The ledger is append-only and the books are guarded by the database itself."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from loyalty.models import LedgerEntry, PointsAccount, PointsLot
from loyalty.models.append_only import AppendOnlyError
from loyalty.services import adjust_points
from tests.helpers import account_of, requires_postgres


@pytest.fixture
def entry(member, staff):
    return adjust_points(member, points=10, reason="welcome", actor=staff)


def test_saving_an_existing_entry_is_refused(entry):
    entry.points = 1_000_000
    with pytest.raises(AppendOnlyError):
        entry.save()


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_bulk_changes_to_entries_are_refused(entry):
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(points=5)
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()


def test_the_database_refuses_an_update_behind_the_orm(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE loyalty_ledgerentry SET points = 999 WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).points == 10


@requires_postgres
def test_postgresql_refuses_a_delete_behind_the_orm(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM loyalty_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_the_database_refuses_a_negative_available_balance(member):
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(member=member).update(available=-1)


def test_the_database_refuses_a_debt_while_points_are_available(member):
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(member=member).update(available=5, debt=5)


def test_the_database_refuses_a_lot_holding_more_than_it_was_created_with(entry, member):
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsLot.objects.filter(account=account_of(member)).update(remaining=11)


def test_the_database_refuses_a_duplicate_idempotency_key(entry, member):
    duplicate = LedgerEntry(
        account=account_of(member),
        entry_type="adjustment",
        points=1,
        balance_after=11,
        pending_after=0,
        source="staff",
        idempotency_key=entry.idempotency_key,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
