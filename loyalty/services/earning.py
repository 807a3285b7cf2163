"""How many points an order earns, and why.

An order earns, each part rounded down on its own and recorded as a contribution:
1. the base earn: the rate that applies (below) times the amount;
2. the tier bonus: the base earn times the member's tier multiplier, less the base earn;
3. the earning rules of the purchase (and, for a member's first order, first-order) event, run in
   their documented precedence (``loyalty.models.rules``).
``compute_order_earning`` is the one function both ``record_order`` and ``simulate_order`` call,
so a simulation shows exactly what the real order will earn.

The base rate that applies, most specific first:
1. the market's rate for the order's currency and the member's tier (an ``EarnRate`` with a tier), then
   the market's rate for the currency (an ``EarnRate`` without one): points per unit of that currency;
2. the market's own ``points_per_unit``: per unit of its default currency, after conversion;
3. the program's ``BASE_POINTS_PER_UNIT``: per unit of the base currency, after conversion.
Points are the exact product of amount, exchange rate and earn rate, rounded down once at the end,
so converting never adds a point the money did not pay for, and the same value paid in another
currency earns the same points.
"""

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import F, Q
from django.utils import timezone
from djmoney.money import Money

from ..conf import loyalty_settings
from ..exceptions import CurrencyNotAccepted, InvalidOrderLines, InvalidTimestamp
from ..models import (
    ORDER_EVENTS,
    ContributionKind,
    EarnContribution,
    EarnEvent,
    EarnRate,
    EarnRule,
    Market,
    Member,
    MembershipProduct,
    OrderRecord,
    OrderStatus,
    PointsMode,
)
from ..money import validate_money, whole_points
from ..periods import period_end, period_start
from ..selectors.rates import Conversion, Quote, convert


class RateRule:
    TIER = "market_currency_tier"
    MARKET_CURRENCY = "market_currency"
    MARKET = "market"
    BASE = "base"


@dataclass(frozen=True)
class OrderPoints:
    points: int
    rate: Decimal  # points per unit of the currency the rate applies to
    rule: str
    conversion: Conversion | None  # None when the rate applies to the order's own currency


def points_for_order(member: Member, amount: Money, lines: Iterable = ()) -> OrderPoints:
    """Points for an order of ``amount`` (already quantized) by ``member``, and how they were computed."""
    market = member.market
    explicit = (
        EarnRate.objects.filter(market=market, currency=amount.currency.code)
        .filter(Q(tier__isnull=True) | Q(tier=member.tier_id))
        .order_by(F("tier").asc(nulls_last=True))
        .values_list("points_per_unit", "tier")
        .first()
    )
    if explicit is None:
        return earn_points(market, amount, None)
    rate, tier = explicit
    return earn_points(market, amount, rate, rule=RateRule.TIER if tier else RateRule.MARKET_CURRENCY)


def earn_points(
    market: Market,
    amount: Money,
    explicit_rate: Decimal | None,
    quotes: dict[str, Quote] | None = None,
    rule: str = RateRule.MARKET_CURRENCY,
) -> OrderPoints:
    """The rate resolution and rounding, given the market's explicit rate for the currency (if any)."""
    currency = amount.currency.code
    if currency not in market.currencies:
        raise CurrencyNotAccepted()
    if explicit_rate is not None:
        return _points(amount, explicit_rate, rule, None)
    if market.points_per_unit is not None:
        rated_currency, rate, rule = market.default_currency, market.points_per_unit, RateRule.MARKET
    else:
        rated_currency, rate = loyalty_settings.BASE_CURRENCY, loyalty_settings.BASE_POINTS_PER_UNIT
        rule = RateRule.BASE
    conversion = convert(amount, rated_currency, quotes) if currency != rated_currency else None
    return _points(amount, rate, rule, conversion)


def _points(amount: Money, rate: Decimal, rule: str, conversion: Conversion | None) -> OrderPoints:
    exact = conversion.exact(amount.amount * rate) if conversion else amount.amount * rate
    return OrderPoints(points=whole_points(exact), rate=rate, rule=rule, conversion=conversion)


@dataclass(frozen=True)
class OrderLine:
    """One line of an order as the shop sends it; ``amount`` is the line total in the order's currency."""

    sku: str
    quantity: int = 1
    category: str = ""
    amount: Money | None = None


def order_lines(lines: Iterable, currency: str) -> list[OrderLine]:
    """Lines from ``OrderLine`` objects or dicts with the same keys; ``invalid_order_lines`` if malformed."""
    checked = []
    for line in lines or ():
        if isinstance(line, dict):
            try:
                line = OrderLine(**line)
            except TypeError as error:
                raise InvalidOrderLines() from error
        if not isinstance(line, OrderLine) or not isinstance(line.sku, str) or not line.sku.strip():
            raise InvalidOrderLines()
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < 1:
            raise InvalidOrderLines()
        if not isinstance(line.category, str):
            raise InvalidOrderLines()
        if line.amount is not None:
            if not isinstance(line.amount, Money) or line.amount.currency.code != currency:
                raise InvalidOrderLines()
            line = OrderLine(line.sku, line.quantity, line.category, validate_money(line.amount))
        checked.append(line)
    return checked


@dataclass(frozen=True)
class Contribution:
    kind: str
    points: int
    rule: EarnRule | None = None


@dataclass(frozen=True)
class OrderEarning:
    """What an order earns and why; nothing is written."""

    base: OrderPoints
    contributions: tuple[Contribution, ...]
    qualifying_spend: Decimal  # the amount in the base currency
    status_points: int
    memberships: tuple[MembershipProduct, ...] = field(default=())

    @property
    def points(self) -> int:
        return sum(part.points for part in self.contributions)


def compute_order_earning(
    member: Member, amount: Money, lines: Iterable = (), *, at: datetime | None = None, lock: bool = False
) -> OrderEarning:
    """The points, status points and qualifying spend of an order; ``lock`` serializes first-N caps."""
    at = at or timezone.now()
    lines = order_lines(lines, amount.currency.code)
    base = points_for_order(member, amount, lines)
    contributions = [Contribution(ContributionKind.BASE, base.points)] if base.points else []
    multiplier = member.tier.earn_multiplier if member.tier_id else Decimal(1)
    tier_bonus = whole_points(base.points * (multiplier - 1))
    if tier_bonus:
        contributions.append(Contribution(ContributionKind.TIER, tier_bonus))
    spend = base_amount(amount)
    rules = applicable_rules(member, ORDER_EVENTS, at, lock=lock)
    if any(rule.event == EarnEvent.FIRST_ORDER for rule in rules) and _has_ordered(member):
        rules = [rule for rule in rules if rule.event != EarnEvent.FIRST_ORDER]
    context = RuleContext(
        member=member, at=at, amount=amount, spend=spend, lines=lines, base_points=base.points
    )
    fired = run_rules(rules, context)
    contributions += fired
    status_points = base.points + sum(part.points for part in fired if part.rule.counts_toward_tier)
    skus = {line.sku for line in lines}
    memberships = tuple(MembershipProduct.objects.filter(sku__in=skus, is_active=True).select_related("tier"))
    return OrderEarning(base, tuple(contributions), spend, status_points, memberships)


def _has_ordered(member: Member) -> bool:
    """Whether the member has an order that was not cancelled (a first-order bonus is then past)."""
    return OrderRecord.objects.filter(member=member).exclude(status=OrderStatus.CANCELLED).exists()


def simulate_order(
    member: Member, amount: Money, lines: Iterable = (), *, at: datetime | None = None
) -> OrderEarning:
    """What an order of ``amount`` with ``lines`` would earn now, and why, without writing anything."""
    if at is not None and (not isinstance(at, datetime) or timezone.is_naive(at)):
        raise InvalidTimestamp()
    return compute_order_earning(member, validate_money(amount), lines, at=at)


def base_amount(amount: Money) -> Decimal:
    """The amount in the program's base currency (for qualifying spend and per-unit rules)."""
    base = loyalty_settings.BASE_CURRENCY
    if amount.currency.code == base:
        return amount.amount
    return convert(amount, base).amount.amount


# Rules -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleContext:
    member: Member
    at: datetime
    amount: Money | None = None
    spend: Decimal = Decimal(0)
    lines: list = field(default_factory=list)
    base_points: int = 0


def applicable_rules(
    member: Member, events: Iterable[str], at: datetime, *, custom_event: str = "", lock: bool = False
) -> list[EarnRule]:
    """Active rules of the events for the member's market, tier, day and date, in precedence order."""
    local = at.astimezone(zoneinfo.ZoneInfo(member.market.time_zone))
    today = local.date()
    rules = (
        EarnRule.objects.filter(is_active=True, event__in=list(events), custom_event=custom_event)
        .filter(Q(markets__isnull=True) | Q(markets=member.market_id))
        .filter(Q(tiers__isnull=True) | Q(tiers=member.tier_id))
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=today))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .distinct()
        .order_by("-priority", "code")
    )
    rules = list(rules)
    capped = [rule.pk for rule in rules if rule.max_members is not None]
    if lock and capped:
        # Serializes members racing for the last places of a first-N-members rule.
        list(EarnRule.objects.select_for_update().filter(pk__in=capped).values_list("pk", flat=True))
    return [rule for rule in rules if not rule.weekdays or local.weekday() in rule.weekdays]


def run_rules(rules: list[EarnRule], context: RuleContext) -> list[Contribution]:
    """Apply the precedence: a rule that is not stackable fires only first and alone; stop ends the run."""
    fired: list[Contribution] = []
    for rule in rules:
        if not rule.stackable and fired:
            continue
        points = rule_points(rule, context)
        if points <= 0 or not within_limits(rule, context):
            continue
        fired.append(Contribution(ContributionKind.RULE, points, rule))
        if rule.stop_processing or not rule.stackable:
            break
    return fired


def rule_points(rule: EarnRule, context: RuleContext) -> int:
    """What the rule adds for this context (0 when its order conditions are not met)."""
    share = Decimal(1)
    if context.amount is not None:
        if rule.min_order_amount is not None and context.spend < rule.min_order_amount:
            return 0
        if rule.categories or rule.skus:
            matching = [
                line
                for line in context.lines
                if line.sku in rule.skus or (line.category and line.category in rule.categories)
            ]
            if not matching:
                return 0
            share = _share_of_order(matching, context)
    if rule.mode == PointsMode.FIXED:
        return rule.fixed_points
    if rule.mode == PointsMode.PER_UNIT:
        return whole_points(context.spend * share * rule.points_per_unit)
    return whole_points(context.base_points * share * (rule.multiplier - 1))


def _share_of_order(matching: list[OrderLine], context: RuleContext) -> Decimal:
    """The part of the order the matching lines make up (all of it when lines carry no amounts)."""
    if any(line.amount is None for line in matching) or not context.amount.amount:
        return Decimal(1)
    return min(sum(line.amount.amount for line in matching) / context.amount.amount, Decimal(1))


def within_limits(rule: EarnRule, context: RuleContext) -> bool:
    """The per-member limit for the period and the first-N-members cap (cancelled orders do not count)."""
    awards = EarnContribution.objects.filter(rule=rule).exclude(order__status=OrderStatus.CANCELLED)
    if rule.limit_per_member is not None:
        mine = awards.filter(member=context.member)
        since = period_start(rule.limit_period, context.member, context.at)
        if since is not None:
            mine = mine.filter(created_at__gte=since, created_at__lt=period_end(rule.limit_period, since))
        if mine.count() >= rule.limit_per_member:
            return False
    return (
        rule.max_members is None
        or awards.filter(member=context.member).exists()
        or awards.values("member").distinct().count() < rule.max_members
    )


def record_contributions(
    entry, member: Member, contributions: Iterable[Contribution], *, order=None, at: datetime | None = None
) -> None:
    """Store what each part added to ``entry``; ``at`` is when it was earned (rule limits count by it)."""
    at = at or timezone.now()
    EarnContribution.objects.bulk_create(
        [
            EarnContribution(
                entry=entry,
                member=member,
                order=order,
                kind=part.kind,
                rule=part.rule,
                points=part.points,
                created_at=at,
            )
            for part in contributions
        ]
    )
