"""Random sequences of every ledger operation keep the books balanced after each step."""

import contextlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone
from djmoney.money import Money
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from loyalty.exceptions import InsufficientPoints, InvalidAmount, OrderCancelled
from loyalty.models import (
    EntryType,
    EventSource,
    LedgerEntry,
    Market,
    OrderRecord,
    OrderStatus,
    PartnerAward,
    PointsAccount,
    SourceKind,
)
from loyalty.selectors import find_discrepancies
from loyalty.services import (
    adjust_points,
    cancel_order,
    confirm_order,
    earn_partner_points,
    enroll_member,
    expire_points,
    record_order,
    record_refund,
    release_pending_points,
    reverse_partner_points,
    spend_points,
)

MAX_MEMBERS = 2
# Sources and ids with colons: their idempotency keys must never collide.
SOURCES = ["shop", "shop:eu"]


class LedgerMachine(RuleBasedStateMachine):
    policy = "clamp_to_zero"

    def __init__(self):
        super().__init__()
        self.overrides = override_settings(
            LOYALTY={"NEGATIVE_BALANCE_POLICY": self.policy, "PENDING_DAYS": 14, "POINTS_LIFETIME_DAYS": 60}
        )
        self.overrides.enable()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.market = Market.objects.create(
            code="EU",
            name="EU",
            default_currency="EUR",
            default_language="en",
            time_zone="UTC",
            points_per_unit=Decimal("1.5"),
        )
        self.staff = get_user_model().objects.create_user(username="staff", is_staff=True)
        self.partner = EventSource.objects.create(
            code="sky",
            name="Sky",
            kind=SourceKind.PARTNER,
            currency="EUR",
            points_per_unit=Decimal("2"),
            point_price=Decimal("0.0075"),
        )
        self.members = []
        self.orders = []
        self.awards = []
        self.clock = timezone.now()
        self.steps = 0
        self.enroll()

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        self.overrides.disable()

    def _next(self) -> str:
        self.steps += 1
        return str(self.steps)

    def _entry_count(self) -> int:
        return LedgerEntry.objects.count()

    @precondition(lambda self: len(self.members) < MAX_MEMBERS)
    @rule()
    def enroll(self):
        user = get_user_model().objects.create_user(username=f"m{self._next()}")
        self.members.append(enroll_member(user, market=self.market))

    @rule(
        who=st.integers(0, MAX_MEMBERS - 1),
        cents=st.integers(1, 40_000),
        replays=st.integers(0, 2),
        confirm_now=st.booleans(),
        source=st.sampled_from(SOURCES),
    )
    def order(self, who, cents, replays, confirm_now, source):
        member = self.members[who % len(self.members)]
        order_id = f"o:{self._next()}"
        amount = Money(Decimal(cents) / 100, "EUR")
        record_order(member, order_id=order_id, amount=amount, placed_at=self.clock, source=source)
        self.orders.append((source, order_id))
        before = self._entry_count()
        for _ in range(replays):
            record_order(member, order_id=order_id, amount=amount, placed_at=self.clock, source=source)
        assert self._entry_count() == before
        if confirm_now:
            confirm_order(order_id=order_id, source=source, now=self.clock)

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10_000))
    def confirm(self, pick):
        source, order_id = self.orders[pick % len(self.orders)]
        with contextlib.suppress(OrderCancelled):
            confirm_order(order_id=order_id, source=source, now=self.clock)
        before = self._entry_count()
        with contextlib.suppress(OrderCancelled):
            confirm_order(order_id=order_id, source=source, now=self.clock)
        assert self._entry_count() == before

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10_000))
    def cancel(self, pick):
        source, order_id = self.orders[pick % len(self.orders)]
        order = cancel_order(order_id=order_id, source=source)
        assert order.status == OrderStatus.CANCELLED
        assert order.points_reversed == order.points

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10_000), share=st.integers(1, 100), replay=st.booleans())
    def refund(self, pick, share, replay):
        source, order_id = self.orders[pick % len(self.orders)]
        order = OrderRecord.objects.get(source=source, external_id=order_id)
        left = order.amount.amount - order.refunded
        amount = (left * share / 100).quantize(Decimal("0.01"))
        if amount <= 0:
            return
        refund = {"order_id": order_id, "source": source, "refund_id": f"r:{self._next()}:release"}
        record_refund(**refund, amount=Money(amount, "EUR"))
        before = self._entry_count()
        if replay:
            record_refund(**refund, amount=Money(amount, "EUR"))
        assert self._entry_count() == before
        with pytest.raises(InvalidAmount):
            record_refund(
                **{**refund, "refund_id": f"r{self._next()}"}, amount=Money(left - amount + 1, "EUR")
            )

    @rule(who=st.integers(0, MAX_MEMBERS - 1), points=st.integers(1, 600))
    def spend(self, who, points):
        member = self.members[who % len(self.members)]
        available = PointsAccount.objects.get(member=member).available
        try:
            spend_points(member, points=points, idempotency_key=self._next(), reason="test")
        except InsufficientPoints:
            assert available < points
        else:
            assert available >= points

    @rule(who=st.integers(0, MAX_MEMBERS - 1))
    def spend_everything(self, who):
        member = self.members[who % len(self.members)]
        available = PointsAccount.objects.get(member=member).available
        if available:
            spend_points(member, points=available, idempotency_key=self._next(), reason="test")

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10_000), share=st.integers(1, 100))
    def refund_after_spending(self, pick, share):
        """The shortfall path: the points of a released order are spent, then the order is refunded."""
        source, order_id = self.orders[pick % len(self.orders)]
        order = OrderRecord.objects.get(source=source, external_id=order_id)
        if order.status == OrderStatus.CANCELLED:
            return
        confirm_order(order_id=order_id, source=source, now=self.clock)
        self.spend_everything(self.members.index(order.member))
        self.refund(pick, share, replay=False)

    @rule(who=st.integers(0, MAX_MEMBERS - 1), points=st.integers(-300, 300).filter(bool))
    def adjust(self, who, points):
        member = self.members[who % len(self.members)]
        available = PointsAccount.objects.get(member=member).available
        try:
            adjust_points(member, points=points, reason="test", actor=self.staff)
        except InsufficientPoints:
            assert points < 0 and available < -points

    @rule(who=st.integers(0, MAX_MEMBERS - 1), cents=st.integers(1, 40_000))
    def partner_earn(self, who, cents):
        member = self.members[who % len(self.members)]
        reference = f"pnr:{self._next()}"
        amount = Money(Decimal(cents) / 100, "EUR")
        if earn_partner_points(self.partner, member, amount=amount, reference=reference) is None:
            return
        self.awards.append(reference)
        before = self._entry_count()
        earn_partner_points(self.partner, member, amount=amount, reference=reference)
        assert self._entry_count() == before

    @precondition(lambda self: self.awards)
    @rule(pick=st.integers(0, 10_000))
    def partner_reverse(self, pick):
        reference = self.awards[pick % len(self.awards)]
        reverse_partner_points(self.partner, reference=reference)
        before = self._entry_count()
        reverse_partner_points(self.partner, reference=reference)
        assert self._entry_count() == before

    @rule(days=st.integers(1, 90))
    def advance_clock(self, days):
        self.clock += timedelta(days=days)

    @rule()
    def release(self):
        release_pending_points(now=self.clock)
        assert release_pending_points(now=self.clock) == 0

    @rule()
    def expire(self):
        expire_points(now=self.clock)
        assert expire_points(now=self.clock).points == 0

    @invariant()
    def books_balance(self):
        assert [str(problem) for problem in find_discrepancies()] == []

    @invariant()
    def partner_awards_match_the_partner_earnings_not_reversed(self):
        earned = LedgerEntry.objects.filter(source="sky", entry_type=EntryType.BONUS)
        standing = earned.exclude(corrections__entry_type=EntryType.REVERSAL).aggregate(total=Sum("points"))
        assert (PartnerAward.objects.aggregate(total=Sum("points"))["total"] or 0) == (standing["total"] or 0)

    @invariant()
    def nothing_negative_and_debt_only_when_allowed(self):
        for account in PointsAccount.objects.all():
            assert account.available >= 0 and account.pending >= 0 and account.debt >= 0
            if self.policy == "clamp_to_zero":
                assert account.debt == 0


class AllowNegativeLedgerMachine(LedgerMachine):
    policy = "allow_negative"


MACHINE_SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "machine", [LedgerMachine, AllowNegativeLedgerMachine], ids=["clamp_to_zero", "allow_negative"]
)
def test_every_sequence_of_operations_keeps_the_books_balanced(db, machine):
    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)
