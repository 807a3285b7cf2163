"""Moving a member to another market: recorded, and rate-limited so markets cannot be hopped for rates."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..conf import loyalty_settings
from ..exceptions import MarketChangeTooSoon, ReasonRequired
from ..models import Market, MarketChange, Member
from .ledger import lock_account
from .members import resolve_market


def change_market(member: Member, *, market: Market | str, reason: str, actor=None) -> MarketChange | None:
    """Move ``member`` to ``market``; returns the recorded change, or None when already there.

    Raises ``market_change_too_soon`` within MARKET_CHANGE_MIN_DAYS of the previous change.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired()
    market = resolve_market(market)
    now = timezone.now()
    with transaction.atomic():
        member = lock_account(member).member
        if member.market_id == market.pk:
            return None
        last = member.market_changes.order_by("-changed_at").values_list("changed_at", flat=True).first()
        if last is not None and now - last < timedelta(days=loyalty_settings.MARKET_CHANGE_MIN_DAYS):
            raise MarketChangeTooSoon()
        change = MarketChange.objects.create(
            member=member,
            from_market_id=member.market_id,
            to_market=market,
            reason=reason.strip(),
            actor=actor,
        )
        Member.objects.filter(pk=member.pk).update(market=market, time_zone=market.time_zone)
    return change
