"""The reward catalog a member sees, and their redemptions, with texts in their language.

A reward is visible to a member when it is active, offered and available in the member's market,
open to the member's tier, and inside its date window in the market's time zone. Everything else is
invisible: listed nowhere and answered with ``reward_not_found``, so a member cannot even learn that a
reward exists elsewhere.

Texts fall back from the member's language to the market's default language, then to the program's
default language (``MODELTRANSLATION_DEFAULT_LANGUAGE``, else ``LANGUAGE_CODE``), per field.
"""

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone, translation
from modeltranslation import settings as mt_settings
from modeltranslation.utils import build_localized_fieldname

from ..exceptions import RedemptionNotFound, RewardNotFound
from ..models import (
    STAFF_FULFILLED_TYPES,
    LedgerEntry,
    LimitPeriod,
    Market,
    Member,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardOffer,
)
from ..periods import period_end, period_start

# Statuses that use up a member's per-period allowance (a cancelled or expired reward gives it back).
COUNTED_STATUSES = (RedemptionStatus.ISSUED, RedemptionStatus.USED)
TRANSLATED_FIELDS = ("name", "description", "terms")
# Orderings of the catalog, by name: "featured" is the merchandisers' sort order.
ORDERINGS = {
    "featured": ("reward__sort_order", "points", "reward__code"),
    "points": ("points", "reward__sort_order", "reward__code"),
    "-points": ("-points", "reward__sort_order", "reward__code"),
    "newest": ("-reward__created_at", "reward__code"),
}


def content_languages(language: str | None, market: Market) -> list[str]:
    """Where to look for a text, in order: ``language``, the market's language, the program's language."""
    available = mt_settings.AVAILABLE_LANGUAGES
    found = []
    for code in (language, market.default_language, mt_settings.DEFAULT_LANGUAGE):
        code = (code or "").lower()
        for candidate in (code, code.split("-")[0]):
            if candidate in available and candidate not in found:
                found.append(candidate)
                break
    return found


def localized(obj: object, field: str, languages: Iterable[str]) -> str:
    """The first non-empty translation of ``field`` in ``languages``."""
    for language in languages:
        text = getattr(obj, build_localized_fieldname(field, language), None)
        if text:
            return text
    return ""


def missing_translations(reward: Reward, markets: Iterable[Market]) -> dict[str, dict[str, list[str]]]:
    """Per market code, per language its members read, the texts (name, description, terms) left untranslated.

    A market's members read its default language, then the program's default; a text the program's
    default language leaves empty is not expected in any other.
    """
    default = mt_settings.DEFAULT_LANGUAGE
    fields = [
        field for field in TRANSLATED_FIELDS if getattr(reward, build_localized_fieldname(field, default), "")
    ]
    missing = {}
    for market in markets:
        gaps = {}
        for language in content_languages(market.default_language, market):
            empty = [
                field
                for field in fields
                if not getattr(reward, build_localized_fieldname(field, language), "")
            ]
            if empty:
                gaps[language] = empty
        if gaps:
            missing[market.code] = gaps
    return missing


def missing_translations_filter() -> Q:
    """Rewards offered in a market whose members miss a text: ``missing_translations`` as a query.

    A market's members read the languages ``content_languages`` names for it; a text is missing in a
    language when it is written in the program's default language and empty in that one.
    """
    default = mt_settings.DEFAULT_LANGUAGE
    markets_by_languages: dict[tuple[str, ...], list[int]] = {}
    for market in Market.objects.all():
        languages = tuple(content_languages(market.default_language, market))
        markets_by_languages.setdefault(languages, []).append(market.pk)
    conditions = []
    for languages, market_ids in markets_by_languages.items():
        gaps = []
        for field in TRANSLATED_FIELDS:
            written = build_localized_fieldname(field, default)
            for language in languages:
                column = build_localized_fieldname(field, language)
                gaps.append(
                    ~Q(**{written: ""})
                    & Q(**{f"{written}__isnull": False})
                    & (Q(**{column: ""}) | Q(**{f"{column}__isnull": True}))
                )
        offered = Exists(RewardOffer.objects.filter(reward_id=OuterRef("pk"), market_id__in=market_ids))
        conditions.append(Q(offered) & reduce(or_, gaps))
    return reduce(or_, conditions, Q(pk__in=[]))


def local_date(market: Market, at: datetime) -> date:
    return at.astimezone(zoneinfo.ZoneInfo(market.time_zone)).date()


def visible_offers(member: Member, *, at: datetime | None = None) -> QuerySet[RewardOffer]:
    """The offers of the member's market the member may see now (one query, with reward and category)."""
    today = local_date(member.market, at or timezone.now())
    tiers = Reward.tiers.through.objects.filter(reward_id=OuterRef("reward_id"))
    return (
        RewardOffer.objects.filter(market_id=member.market_id, is_active=True, reward__is_active=True)
        .filter(Q(reward__starts_on__isnull=True) | Q(reward__starts_on__lte=today))
        .filter(Q(reward__ends_on__isnull=True) | Q(reward__ends_on__gte=today))
        .filter(~Exists(tiers) | Exists(tiers.filter(tier_id=member.tier_id)))
        .filter(Q(reward__charity__isnull=True) | Q(reward__charity__is_active=True))
        .select_related("reward__category", "market")
        .order_by(*ORDERINGS["featured"])
    )


def visible_offer(member: Member, reward_id: object, *, at: datetime | None = None) -> RewardOffer:
    """The member's offer of one reward, or ``reward_not_found`` when the member may not see it."""
    try:
        reward_id = int(reward_id)
    except (TypeError, ValueError):
        raise RewardNotFound() from None
    offer = visible_offers(member, at=at).filter(reward_id=reward_id).first()
    if offer is None:
        raise RewardNotFound()
    return offer


def redeemed_in_period(
    member: Member, rewards: Iterable[Reward], *, at: datetime | None = None
) -> dict[int, int]:
    """Units of each limited reward the member redeemed in its current period (one query, or none)."""
    at = at or timezone.now()
    limited = [reward for reward in rewards if reward.limit_per_member is not None]
    if not limited:
        return {}
    windows = {}
    for reward in limited:
        start = period_start(reward.limit_period, member, at)
        windows[reward.pk] = (start, period_end(reward.limit_period, start) if start else None)
    rows = Redemption.objects.filter(
        member_id=member.pk, reward_id__in=list(windows), status__in=COUNTED_STATUSES
    )
    if all(reward.limit_period != LimitPeriod.EVER for reward in limited):
        rows = rows.filter(created_at__gte=min(start for start, _ in windows.values()))
    counts = dict.fromkeys(windows, 0)
    for reward_id, created_at, quantity in rows.values_list("reward_id", "created_at", "quantity"):
        start, end = windows[reward_id]
        if start is None or start <= created_at < end:
            counts[reward_id] += quantity
    return counts


@dataclass(frozen=True)
class CatalogItem:
    """One reward as a member sees it: texts in their language, its price, and whether they can redeem it."""

    offer: RewardOffer
    name: str
    description: str
    terms: str
    category: str
    affordable: bool
    left_for_member: int | None  # units the member may still redeem this period; None: no limit

    @property
    def reward(self) -> Reward:
        return self.offer.reward

    @property
    def in_stock(self) -> bool:
        return self.offer.stock is None or self.offer.stock > 0

    @property
    def unavailable_reason(self) -> str:
        """The error code redeeming would meet now, or "" when the member can redeem it."""
        if not self.in_stock:
            return "reward_unavailable"
        if self.left_for_member == 0:
            return "redemption_limit_reached"
        if not self.affordable:
            return "insufficient_points"
        return ""

    @property
    def redeemable(self) -> bool:
        return not self.unavailable_reason


def catalog_items(
    member: Member,
    offers: Iterable[RewardOffer],
    *,
    available: int,
    language: str | None = None,
    at: datetime | None = None,
) -> list[CatalogItem]:
    """Decorate visible offers for a member with ``available`` points (at most one query, for limits)."""
    offers = list(offers)
    languages = content_languages(language or translation.get_language(), member.market)
    counts = redeemed_in_period(member, [offer.reward for offer in offers], at=at)
    items = []
    for offer in offers:
        reward = offer.reward
        limit = reward.limit_per_member
        items.append(
            CatalogItem(
                offer=offer,
                name=localized(reward, "name", languages),
                description=localized(reward, "description", languages),
                terms=localized(reward, "terms", languages),
                category=localized(reward.category, "name", languages) if reward.category else "",
                affordable=available >= offer.points,
                left_for_member=None if limit is None else max(limit - counts.get(reward.pk, 0), 0),
            )
        )
    return items


def member_redemptions(member: Member) -> QuerySet[Redemption]:
    """The member's redemptions, newest first, with their rewards (one query per page)."""
    return (
        Redemption.objects.filter(member_id=member.pk)
        .select_related("reward__category", "market", "charity")
        .order_by("-created_at", "-id")
    )


def member_redemption(member: Member, redemption_id: object) -> Redemption:
    """One of the member's own redemptions; ``redemption_not_found`` for anyone else's."""
    try:
        redemption_id = int(redemption_id)
    except (TypeError, ValueError):
        raise RedemptionNotFound() from None
    redemption = member_redemptions(member).filter(pk=redemption_id).first()
    if redemption is None:
        raise RedemptionNotFound()
    return redemption


def redemption_name(redemption: Redemption, language: str | None = None) -> str:
    """The reward's name in the member's language today (not frozen in the language it was redeemed in)."""
    languages = content_languages(language or translation.get_language(), redemption.market)
    return localized(redemption.reward, "name", languages)


def reward_by_id(reward_id: object) -> Reward:
    """The reward for ``redeem_reward``, which checks that the member may see it after honouring a replay.

    So a replayed key returns its redemption even when the reward has since left the member's catalog.
    """
    try:
        reward = Reward.objects.filter(pk=int(reward_id)).first()
    except (TypeError, ValueError):
        reward = None
    if reward is None:
        raise RewardNotFound()
    return reward


def member_can_cancel(redemption: Redemption, now: datetime) -> bool:
    """Whether a member may still cancel: an issued coupon whose validity has not ended.

    Gifts and experiences are cancelled by staff only, who know whether they were already shipped.
    """
    return (
        redemption.status == RedemptionStatus.ISSUED
        and redemption.reward_type not in STAFF_FULFILLED_TYPES
        and not redemption.validity_ended(now)
    )


def with_redemptions(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Fetch the redemptions behind a page's reward entries: two queries, or none when it has none."""
    reward_entries = [entry for entry in entries if entry.source == "reward"]
    if reward_entries:
        redemptions = Redemption.objects.select_related("reward", "market")
        prefetch_related_objects(
            reward_entries,
            Prefetch("redemptions", queryset=redemptions),
            Prefetch("returned_redemption", queryset=redemptions),
        )
    return entries


def entry_redemption(entry: LedgerEntry) -> Redemption | None:
    """The redemption an entry paid for or gave the points of back; None for other entries."""
    if entry.source != "reward":
        return None
    spent = entry.redemptions.all()
    if spent:
        return spent[0]
    return getattr(entry, "returned_redemption", None)
