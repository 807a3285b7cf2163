"""Calendar periods of per-member limits (earning rules, rewards), in the member's market time zone."""

import zoneinfo
from datetime import datetime, timedelta

from .models import LimitPeriod, Member


def period_start(period: str, member: Member, at: datetime) -> datetime | None:
    """Start of the day, week (Monday), month or year containing ``at`` in the member's market time zone."""
    local = at.astimezone(zoneinfo.ZoneInfo(member.market.time_zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == LimitPeriod.DAY:
        return midnight
    if period == LimitPeriod.WEEK:
        return midnight - timedelta(days=local.weekday())
    if period == LimitPeriod.MONTH:
        return midnight.replace(day=1)
    if period == LimitPeriod.YEAR:
        return midnight.replace(month=1, day=1)
    return None


def period_end(period: str, start: datetime) -> datetime:
    """The first moment after the period that begins at ``start`` (a local midnight)."""
    if period == LimitPeriod.DAY:
        return start + timedelta(days=1)
    if period == LimitPeriod.WEEK:
        return start + timedelta(days=7)
    if period == LimitPeriod.MONTH:
        year, month = divmod(start.month, 12)
        return start.replace(year=start.year + year, month=month + 1)
    return start.replace(year=start.year + 1)
