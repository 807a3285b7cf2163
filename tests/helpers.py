"""Small helpers shared by the tests."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from djmoney.money import Money

from loyalty.models import LedgerEntry, PointsAccount, PointsLot
from loyalty.selectors import find_discrepancies

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (row locks, DELETE triggers); run with DATABASE_URL=postgres://...",
)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def account_of(member) -> PointsAccount:
    return PointsAccount.objects.get(member=member)


def entries_of(member, **filters):
    return LedgerEntry.objects.filter(account__member=member, **filters)


def open_lots(member) -> list[PointsLot]:
    return list(
        PointsLot.objects.filter(account__member=member, remaining__gt=0).order_by("expires_at", "id")
    )


def assert_books_balance() -> None:
    problems = [str(problem) for problem in find_discrepancies()]
    assert problems == []


def allow(user, *codenames) -> None:
    """Give ``user`` these permissions of the loyalty app."""
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="loyalty", codename__in=codenames)
    )
