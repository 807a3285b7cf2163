"""Scale benchmarks, each measured against a baseline in the same run.

Usage: DATABASE_URL=postgres://... python bench/run.py [--earns N] [--history N]

1. Earn throughput: orders recorded and released at once through ``record_order`` versus the
   same statements sent as raw SQL (lock, idempotency check, earn-rate and rule lookups, order,
   earn and release entries, contribution, lot, balance, qualification record and tier status,
   memberships, referral and challenge lookups) on the same database: the ratio is what the ORM
   and the service logic cost.
   Target: the service reaches at least EARN_RATIO_TARGET of the raw SQL.
2. Member summary read: a member with a long history versus one with ten entries.
   Target: the long history costs at most SUMMARY_RATIO_TARGET times as much.
3. Redemption throughput: ``redeem_reward`` (visibility, per-member limit, stock, debit, coupon)
   versus ``spend_points`` (the same debit alone), spread over members.
   Target: redeeming reaches at least REDEEM_RATIO_TARGET of the bare spend.
4. Webhook throughput: signed ``order.placed`` events through ``receive_event`` (signature,
   parsing, customer lookup, the event record) versus ``record_order`` called directly.
   Target: the webhook reaches at least WEBHOOK_RATIO_TARGET of the direct call.

A throwaway test database is created and dropped. Exits 1 when a target is missed.
"""

import argparse
import json
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DJANGO_DEBUG"] = "0"  # DEBUG records every query, which would distort the timings

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from djmoney.money import Money  # noqa: E402

from loyalty import selectors, services  # noqa: E402
from loyalty.models import EventSource, Market, PointsAccount, Reward, RewardOffer, SourceKind  # noqa: E402
from loyalty.testing import bulk_history  # noqa: E402
from loyalty.webhooks import signature_header  # noqa: E402

# 0.3 while an earn was the ledger alone; tiers, rules, challenges and referrals roughly doubled the
# statements per order, and the ORM's cost of building each one weighs more than the database's.
EARN_RATIO_TARGET = 0.15
SUMMARY_RATIO_TARGET = 1.5
REDEEM_RATIO_TARGET = 0.35
WEBHOOK_RATIO_TARGET = 0.6


def timed(function, repeat: int) -> list[float]:
    samples = []
    for number in range(repeat):
        start = time.perf_counter()
        function(number)
        samples.append(time.perf_counter() - start)
    return samples


def enroll(market: Market, username: str):
    user = get_user_model().objects.create_user(username=username)
    return services.enroll_member(user, market=market)


def bench_earns(market: Market, count: int, members: int = 200) -> tuple[float, float]:
    """Earns spread round-robin over ``members`` shoppers, as a shop's orders are."""
    earners = [enroll(market, f"earner{number}") for number in range(members)]
    account_ids = [PointsAccount.objects.get(member=member).pk for member in earners]

    def bare_earn(number: int) -> None:
        """The statements record_order issues for an order released at once, as raw SQL."""
        account_id = account_ids[number % members]
        order_id = f"bare-{number}"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.id, a.available, m.status, k.points_per_unit FROM loyalty_pointsaccount a"
                " JOIN loyalty_member m ON m.id = a.member_id JOIN loyalty_market k ON k.id = m.market_id"
                " WHERE a.id = %s FOR NO KEY UPDATE OF a",
                [account_id],
            )
            cursor.execute(
                "SELECT id FROM loyalty_orderrecord WHERE source = 'bench' AND external_id = %s", [order_id]
            )
            cursor.execute(
                "SELECT points_per_unit, tier_id FROM loyalty_earnrate WHERE market_id = %s"
                " AND currency = 'EUR' AND tier_id IS NULL ORDER BY tier_id NULLS LAST LIMIT 1",
                [market.pk],
            )
            cursor.execute(
                "SELECT DISTINCT r.* FROM loyalty_earnrule r"
                " LEFT JOIN loyalty_earnrule_markets m ON m.earnrule_id = r.id"
                " LEFT JOIN loyalty_earnrule_tiers t ON t.earnrule_id = r.id"
                " WHERE r.is_active AND r.event IN ('purchase', 'first_order') AND r.custom_event = ''"
                " AND (m.market_id IS NULL OR m.market_id = %s) AND t.tier_id IS NULL"
                " AND (r.starts_on IS NULL OR r.starts_on <= current_date)"
                " AND (r.ends_on IS NULL OR r.ends_on >= current_date) ORDER BY r.priority DESC, r.code",
                [market.pk],
            )
            cursor.execute(
                "INSERT INTO loyalty_orderrecord (member_id, source, external_id, amount_currency, amount,"
                " refunded, rate, points, points_reversed, points_forgiven, status_points, qualifying_spend,"
                " status, placed_at, release_after, released_at, created_at) SELECT member_id, 'bench', %s,"
                " 'EUR', 10, 0, 1, 10, 0, 0, 10, 10, 'released', now(), now(), now(), now()"
                " FROM loyalty_pointsaccount WHERE id = %s RETURNING id, member_id",
                [order_id, account_id],
            )
            order_pk, member_id = cursor.fetchone()
            entry_ids = []
            for kind, points, pending in (("earn", 0, 10), ("release", 10, -10)):
                cursor.execute(
                    "INSERT INTO loyalty_ledgerentry (account_id, entry_type, points, pending_points,"
                    " written_off, debt_points, balance_after, pending_after, source, source_ref,"
                    " idempotency_key, reason, rate_rule, fx_source, fx_stale, created_at, effective_at)"
                    " VALUES (%s, %s, %s, %s, 0, 0, 0, 0, 'bench', %s, %s, '', 'market', '', false, now(),"
                    " now()) RETURNING id",
                    [account_id, kind, points, pending, order_id, f"{order_id}:{kind}"],
                )
                entry_ids.append(cursor.fetchone()[0])
            cursor.execute(
                "INSERT INTO loyalty_earncontribution (entry_id, member_id, order_id, kind, points,"
                " created_at) VALUES (%s, %s, %s, 'base', 10, now())",
                [entry_ids[0], member_id, order_pk],
            )
            cursor.execute(
                "INSERT INTO loyalty_qualifyingevent (member_id, key, occurred_at, spend, status_points,"
                " orders) VALUES (%s, %s, now(), 10, 10, 1)",
                [member_id, f"{order_id}:qualifying"],
            )
            cursor.execute("SELECT * FROM loyalty_tierstatus WHERE member_id = %s FOR UPDATE", [member_id])
            cursor.execute("SELECT * FROM loyalty_tier ORDER BY rank")
            cursor.execute(
                "UPDATE loyalty_tierstatus SET spend = spend + 10, status_points = status_points + 10,"
                " orders = orders + 1 WHERE member_id = %s",
                [member_id],
            )
            cursor.execute(
                "SELECT id FROM loyalty_membershippurchase WHERE order_id = %s AND status = 'pending'",
                [order_pk],
            )
            cursor.execute(
                "SELECT id FROM loyalty_referral WHERE referred_id = %s AND status = 'pending' LIMIT 1",
                [member_id],
            )
            cursor.execute(
                "SELECT id FROM loyalty_challenge WHERE is_active AND closed_at IS NULL"
                " AND event = 'purchase' AND starts_at <= now() AND ends_at > now()"
            )
            cursor.execute(
                "INSERT INTO loyalty_pointslot (account_id, entry_id, order_id, original, remaining,"
                " expires_at, created_at) VALUES (%s, %s, %s, 10, 10, now() + interval '365 days', now())",
                [account_id, entry_ids[1], order_pk],
            )
            cursor.execute(
                "UPDATE loyalty_pointsaccount SET available = available + 10,"
                " lifetime_earned = lifetime_earned + 10, updated_at = now() WHERE id = %s",
                [account_id],
            )

    def service_earn(number: int) -> None:
        services.record_order(
            earners[number % members], order_id=f"bench-{number}", amount=Money("10.00", "EUR")
        )

    with override_settings(LOYALTY={"PENDING_DAYS": 0}):
        # Interleaved rounds, so that a slow spell of the machine weighs on both sides alike.
        bare_seconds = service_seconds = 0.0
        rounds = 10
        for number in range(rounds):
            offset = number * (count // rounds)
            bare_seconds += sum(timed(lambda i, offset=offset: bare_earn(offset + i), count // rounds))
            service_seconds += sum(timed(lambda i, offset=offset: service_earn(offset + i), count // rounds))
        bare = count / bare_seconds
        service = count / service_seconds
    return bare, service


def bench_summary(market: Market, history: int) -> tuple[float, float]:
    small, whale = enroll(market, "small"), enroll(market, "whale")
    bulk_history(small, 10)
    bulk_history(whale, history)
    medians = []
    for member in (small, whale):
        samples = timed(lambda _number, member=member: selectors.member_summary(member), 300)
        medians.append(statistics.median(samples))
    return medians[0], medians[1]


def bench_redeems(market: Market, count: int, members: int = 100) -> tuple[float, float]:
    """Spends and redemptions of the same points, interleaved, over ``members`` funded shoppers."""
    admin = get_user_model().objects.create_user(username="bench-admin", is_staff=True)
    shoppers = [enroll(market, f"redeemer{number}") for number in range(members)]
    for shopper in shoppers:
        services.adjust_points(shopper, points=100 * count, reason="bench", actor=admin)
    reward = Reward.objects.create(code="bench-voucher", name="Voucher", reward_type="fixed_discount")
    RewardOffer.objects.create(
        reward=reward, market=market, points=10, value=Money("0.10", "EUR"), stock=10 * count
    )
    reward.limit_per_member = 10 * count
    reward.save()

    def spend(number: int) -> None:
        services.spend_points(
            shoppers[number % members], points=10, idempotency_key=f"spend-{number}", reason="bench"
        )

    def redeem(number: int) -> None:
        services.redeem_reward(shoppers[number % members], reward, idempotency_key=f"redeem-{number}")

    spend_seconds = redeem_seconds = 0.0
    rounds = 10
    for number in range(rounds):
        offset = number * (count // rounds)
        spend_seconds += sum(timed(lambda i, offset=offset: spend(offset + i), count // rounds))
        redeem_seconds += sum(timed(lambda i, offset=offset: redeem(offset + i), count // rounds))
    return count / spend_seconds, count / redeem_seconds


def bench_webhooks(market: Market, count: int, members: int = 100) -> tuple[float, float]:
    """Orders placed through signed events and directly, interleaved, over ``members`` customers."""
    source = EventSource.objects.create(code="bench-pos", name="Bench POS", kind=SourceKind.SHOP)
    customers = [services.enroll_customer(source, f"c-{number}", market=market) for number in range(members)]
    secret = "bench-secret"
    bodies = [
        json.dumps(
            {
                "id": f"evt-{number}",
                "type": "order.placed",
                "data": {
                    "order_id": f"hook-{number}",
                    "customer_id": f"c-{number % members}",
                    "amount": "42.50",
                    "currency": "EUR",
                },
            }
        ).encode()
        for number in range(count)
    ]
    signatures = [signature_header(secret, body) for body in bodies]

    def direct(number: int) -> None:
        services.record_order(
            customers[number % members], order_id=f"direct-{number}", amount=Money("42.50", "EUR")
        )

    def webhook(number: int) -> None:
        services.receive_event(source.code, bodies[number], signatures[number])

    direct_seconds = webhook_seconds = 0.0
    rounds = 10
    with override_settings(LOYALTY={**settings.LOYALTY, "WEBHOOK_SECRETS": {source.code: secret}}):
        for number in range(rounds):
            offset = number * (count // rounds)
            direct_seconds += sum(timed(lambda i, offset=offset: direct(offset + i), count // rounds))
            webhook_seconds += sum(timed(lambda i, offset=offset: webhook(offset + i), count // rounds))
    return count / direct_seconds, count / webhook_seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--earns", type=int, default=2000)
    parser.add_argument("--history", type=int, default=200_000)
    parser.add_argument("--redeems", type=int, default=1000)
    parser.add_argument("--events", type=int, default=1000)
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench/run.py needs PostgreSQL: set DATABASE_URL=postgres://...")
        return 2
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print(f"database {test_name}")
    try:
        market = Market.objects.create(
            code="EU",
            name="EU",
            default_currency="EUR",
            default_language="en",
            time_zone="UTC",
            points_per_unit=Decimal(1),
        )
        print(f"earn throughput, {options.earns} orders ...")
        bare, service = bench_earns(market, options.earns)
        earn_ratio = service / bare
        print(f"  raw SQL earn    {bare:8.0f}/s")
        print(f"  record_order    {service:8.0f}/s   ratio {earn_ratio:.2f} (target >= {EARN_RATIO_TARGET})")
        print(f"member summary, 10 vs {options.history} entries ...")
        small, whale = bench_summary(market, options.history)
        summary_ratio = whale / small
        print(f"  10 entries      {small * 1000:8.3f} ms (median)")
        print(
            f"  {options.history} entries {whale * 1000:8.3f} ms (median)   ratio {summary_ratio:.2f}"
            f" (target <= {SUMMARY_RATIO_TARGET})"
        )
        print(f"redemption throughput, {options.redeems} redemptions ...")
        spent, redeemed = bench_redeems(market, options.redeems)
        redeem_ratio = redeemed / spent
        print(f"  spend_points    {spent:8.0f}/s")
        print(
            f"  redeem_reward   {redeemed:8.0f}/s   ratio {redeem_ratio:.2f}"
            f" (target >= {REDEEM_RATIO_TARGET})"
        )
        print(f"webhook throughput, {options.events} signed order events ...")
        direct, hooked = bench_webhooks(market, options.events)
        webhook_ratio = hooked / direct
        print(f"  record_order    {direct:8.0f}/s")
        print(
            f"  receive_event   {hooked:8.0f}/s   ratio {webhook_ratio:.2f}"
            f" (target >= {WEBHOOK_RATIO_TARGET})"
        )
    finally:
        connection.creation.destroy_test_db(test_name, verbosity=0)
    missed = [
        name
        for name, ok in (
            ("earn", earn_ratio >= EARN_RATIO_TARGET),
            ("summary", summary_ratio <= SUMMARY_RATIO_TARGET),
            ("redeem", redeem_ratio >= REDEEM_RATIO_TARGET),
            ("webhook", webhook_ratio >= WEBHOOK_RATIO_TARGET),
        )
        if not ok
    ]
    print("all targets met" if not missed else f"missed targets: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
