"""Real threads against real PostgreSQL: caps on rules and referrals hold under contention."""

import pytest

from loyalty.models import EarnContribution, EarnRule, Referral, ReferralStatus
from loyalty.services import confirm_order, enroll_member, record_order, referral_code_for
from tests.helpers import assert_books_balance, eur, requires_postgres
from tests.test_concurrency import THREADS, kinds, run_together

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_members_racing_for_a_first_n_rule_never_exceed_n(make_member):
    rule = EarnRule.objects.create(
        code="first-3", name="First 3", event="purchase", fixed_points=100, max_members=3
    )
    members = [make_member() for _ in range(THREADS)]
    outcomes = run_together(
        lambda index: record_order(members[index], order_id=f"O{index}", amount=eur("10.00")).points
    )
    assert kinds(outcomes) == {"int": THREADS}
    assert sorted(outcomes, reverse=True)[:4] == [110, 110, 110, 10]
    assert EarnContribution.objects.filter(rule=rule).values("member").distinct().count() == 3
    assert_books_balance()


def test_referrals_confirmed_at_once_never_pay_the_referrer_beyond_the_cap(
    make_member, make_user, market, settings
):
    settings.LOYALTY = {**settings.LOYALTY, "REFERRAL_MAX_PER_REFERRER": 2}
    EarnRule.objects.create(code="referrer", name="Referrer", event="referral", fixed_points=300)
    referrer = make_member()
    code = referral_code_for(referrer)
    friends = [enroll_member(make_user(), market=market, referral_code=code) for _ in range(8)]
    for index, friend in enumerate(friends):
        record_order(friend, order_id=f"F{index}", amount=eur("10.00"))
    run_together(lambda index: confirm_order(order_id=f"F{index}"), count=len(friends))
    statuses = list(Referral.objects.values_list("status", flat=True))
    assert statuses.count(ReferralStatus.REWARDED) == 2
    assert statuses.count(ReferralStatus.CAPPED) == 6
    assert_books_balance()
