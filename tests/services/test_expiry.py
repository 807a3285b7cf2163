from datetime import timedelta

from django.utils import timezone

from loyalty.models import EntryType, LotAllocation
from loyalty.services import adjust_points, expire_points, spend_points
from tests.helpers import account_of, assert_books_balance, entries_of, open_lots


def test_expiry_after_a_partial_spend_removes_only_the_remainder(member, staff, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 30}
    adjust_points(member, points=100, reason="welcome", actor=staff)
    spend_points(member, points=60, idempotency_key="k1", reason="voucher")
    result = expire_points(now=timezone.now() + timedelta(days=31))
    assert (result.accounts, result.lots, result.points) == (1, 1, 40)
    account = account_of(member)
    assert (account.available, account.lifetime_expired, account.lifetime_redeemed) == (0, 40, 60)
    expiry = entries_of(member, entry_type=EntryType.EXPIRY).get()
    assert expiry.points == -40
    assert LotAllocation.objects.get(entry=expiry).points == 40
    assert_books_balance()


def test_lots_that_have_not_expired_are_kept(member, staff, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 30}
    adjust_points(member, points=100, reason="welcome", actor=staff)
    assert expire_points(now=timezone.now() + timedelta(days=29)).points == 0
    assert account_of(member).available == 100


def test_running_expiry_twice_expires_once(member, staff, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 30}
    adjust_points(member, points=100, reason="welcome", actor=staff)
    later = timezone.now() + timedelta(days=31)
    expire_points(now=later)
    assert expire_points(now=later).points == 0
    assert entries_of(member, entry_type=EntryType.EXPIRY).count() == 1


def test_points_never_expire_when_the_lifetime_is_none(member, staff, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": None}
    adjust_points(member, points=100, reason="welcome", actor=staff)
    assert expire_points(now=timezone.now() + timedelta(days=36500)).points == 0


def test_expiry_handles_many_accounts_across_batches(make_member, staff, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 10, "BATCH_SIZE": 2}
    members = [make_member() for _ in range(5)]
    for number, member in enumerate(members, start=1):
        adjust_points(member, points=number, reason="welcome", actor=staff)
    progress = []
    result = expire_points(now=timezone.now() + timedelta(days=11), progress=progress.append)
    assert (result.accounts, result.points) == (5, 15)
    assert progress == [2, 4, 5]
    assert all(open_lots(member) == [] for member in members)
    assert_books_balance()


def test_expiry_can_be_limited_to_an_account_range(make_member, staff, settings):
    settings.LOYALTY = {"POINTS_LIFETIME_DAYS": 10}
    first, second = make_member(), make_member()
    for member in (first, second):
        adjust_points(member, points=10, reason="welcome", actor=staff)
    account_id = account_of(first).pk
    expire_points(
        now=timezone.now() + timedelta(days=11), first_account_id=account_id, last_account_id=account_id
    )
    assert (account_of(first).available, account_of(second).available) == (0, 10)
