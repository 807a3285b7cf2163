"""Engagement: events a shop reports, sign-up and birthday bonuses, referrals and challenges.

Bonus points are spendable at once (a ``bonus`` entry with its own lot). Every award is keyed, so
replaying an event, rerunning the birthday job or confirming an order twice pays nothing twice.
"""

import secrets
import zoneinfo
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ..conf import loyalty_settings
from ..exceptions import (
    InvalidEvent,
    InvalidReferralCode,
    InvalidTimestamp,
    MemberClosed,
    ReferralNotAllowed,
    SelfReferral,
)
from ..models import (
    Challenge,
    ChallengeProgress,
    ContributionKind,
    EarnEvent,
    EarnRule,
    EntryType,
    LedgerEntry,
    Member,
    MemberEvent,
    MemberProfile,
    MemberStatus,
    OrderRecord,
    PointsAccount,
    Referral,
    ReferralStatus,
    TierStatus,
)
from ..routers import residency_databases
from ..signals import challenge_completed, points_earned, send_on_commit
from .consent import has_consent
from .earning import Contribution, RuleContext, applicable_rules, record_contributions, run_rules
from .ledger import apply_credit, create_lot, ledger_key, lock_account, lot_expiry, save_account, write_entry
from .tiers import record_qualifying

# Events a shop reports through ``record_event``; the others are raised by the plugin itself.
SHOP_EVENTS = (EarnEvent.REVIEW, EarnEvent.SOCIAL_SHARE, EarnEvent.CUSTOM)
REFERRAL_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 8


def credit_bonus(
    account: PointsAccount,
    *,
    points: int,
    key: str,
    source: str,
    source_ref: str,
    at: datetime,
    contributions=(),
    **entry_fields,
) -> LedgerEntry:
    """Credit spendable bonus points (the caller holds the account lock and checked ``key`` is new).

    ``entry_fields`` are more fields of the entry, such as the amount and rate that explain it.
    """
    spendable = apply_credit(account, points)
    account.lifetime_earned += points
    entry = write_entry(
        account,
        entry_type=EntryType.BONUS,
        points=points,
        debt_points=spendable - points,
        source=source,
        source_ref=source_ref,
        idempotency_key=key,
        effective_at=at,
        **entry_fields,
    )
    create_lot(account, entry, spendable, expires_at=lot_expiry(at))
    save_account(account)
    record_contributions(entry, account.member, contributions, at=at)
    send_on_commit(points_earned, LedgerEntry, member=account.member, entry=entry)
    return entry


def record_event(
    member: Member,
    event: str,
    *,
    event_id: str,
    custom_event: str = "",
    occurred_at: datetime | None = None,
) -> MemberEvent:
    """Record a review, social share or custom event once and pay the rules it triggers.

    Replaying the same ``(event, custom_event, event_id)`` for the member returns the first record.
    """
    if event not in SHOP_EVENTS:
        raise InvalidEvent()
    return _record_event(
        member, event, event_id=event_id, custom_event=custom_event, occurred_at=occurred_at
    )[0]


def _record_event(
    member: Member, event: str, *, event_id: str, custom_event: str = "", occurred_at: datetime | None = None
) -> tuple[MemberEvent, bool]:
    _check_event(event, event_id, custom_event)
    at = occurred_at or timezone.now()
    if not isinstance(at, datetime) or timezone.is_naive(at):
        raise InvalidTimestamp()
    with transaction.atomic():
        account = lock_account(member)
        existing = MemberEvent.objects.filter(
            member=member, event=event, custom_event=custom_event, event_id=event_id
        ).first()
        if existing is not None:
            return existing, False
        if account.member.status == MemberStatus.CLOSED:
            raise MemberClosed()
        return award_event(account, event, event_id=event_id, custom_event=custom_event, at=at), True


def award_event(
    account: PointsAccount, event: str, *, event_id: str, at: datetime, custom_event: str = ""
) -> MemberEvent:
    """Record the event and pay its rules, status points and challenge progress (account locked)."""
    member = account.member
    record = MemberEvent.objects.create(
        member=member, event=event, custom_event=custom_event, event_id=event_id, occurred_at=at
    )
    key = ledger_key("event", event, custom_event, member.number, event_id)
    fired = run_rules(
        applicable_rules(member, [event], at, custom_event=custom_event, lock=True), RuleContext(member, at)
    )
    points = sum(part.points for part in fired)
    if points:
        credit_bonus(
            account, points=points, key=key, source=event, source_ref=event_id, at=at, contributions=fired
        )
        record.points = points
        record.save(update_fields=["points"])
    status_points = sum(part.points for part in fired if part.rule.counts_toward_tier)
    record_qualifying(member, key=key, occurred_at=at, status_points=status_points)
    count_for_challenges(account, event, at, custom_event=custom_event)
    return record


def _check_event(event: str, event_id: object, custom_event: object) -> None:
    if event not in EarnEvent.values or not isinstance(event_id, str) or not event_id.strip():
        raise InvalidEvent()
    if len(event_id) > 100 or not isinstance(custom_event, str) or len(custom_event) > 50:
        raise InvalidEvent()
    if (event == EarnEvent.CUSTOM) != bool(custom_event):
        raise InvalidEvent()


# Referrals ---------------------------------------------------------------------------------------


def referral_code_for(member: Member) -> str:
    """The member's referral code, created on first use."""
    if member.referral_code:
        return member.referral_code
    while True:
        code = "".join(secrets.choice(REFERRAL_CODE_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))
        try:
            with transaction.atomic():
                if Member.objects.filter(pk=member.pk, referral_code__isnull=True).update(referral_code=code):
                    member.referral_code = code
                else:
                    member.refresh_from_db(fields=["referral_code"])
            return member.referral_code
        except IntegrityError:
            continue


def apply_referral_code(member: Member, code: str) -> Referral:
    """Record that ``member`` was referred by the owner of ``code``; allowed once, before the first order."""
    normalized = code.strip().upper() if isinstance(code, str) else ""
    with transaction.atomic():
        lock_account(member)
        referrer = Member.objects.filter(referral_code=normalized).first() if normalized else None
        if referrer is None:
            raise InvalidReferralCode()
        if referrer.pk == member.pk:
            raise SelfReferral()
        existing = Referral.objects.filter(referred=member).first()
        if existing is not None:
            if existing.referrer_id == referrer.pk:
                return existing
            raise ReferralNotAllowed()
        if OrderRecord.objects.filter(member=member).exists():
            raise ReferralNotAllowed()
        if _referred_through(referrer, member):
            raise ReferralNotAllowed()
        return Referral.objects.create(referrer=referrer, referred=member)


def _referred_through(referrer: Member, member: Member) -> bool:
    """Whether ``member`` is on the chain of those who referred ``referrer`` (no referral rings)."""
    chain = set()
    current = referrer.pk
    while current is not None and current not in chain:
        if current == member.pk:
            return True
        chain.add(current)
        current = Referral.objects.filter(referred_id=current).values_list("referrer_id", flat=True).first()
    return False


def pay_referral(account: PointsAccount, at: datetime) -> None:
    """The referred member's first order was confirmed: reward both, once (referred account locked)."""
    member = account.member
    referral = Referral.objects.filter(referred=member, status=ReferralStatus.PENDING).first()
    if referral is None:
        return
    referrer_account = lock_account(referral.referrer)
    # Both members' tier statuses are locked in member order, as tier evaluation does, so the
    # awards below cannot deadlock with it.
    list(
        TierStatus.objects.select_for_update()
        .filter(member_id__in=[member.pk, referral.referrer_id])
        .order_by("member_id")
        .values_list("pk", flat=True)
    )
    limit = loyalty_settings.REFERRAL_MAX_PER_REFERRER
    paid = Referral.objects.filter(referrer=referral.referrer_id, status=ReferralStatus.REWARDED).count()
    capped = limit is not None and paid >= limit
    award_event(account, EarnEvent.REFERRED, event_id=str(referral.pk), at=at)
    if not capped and referrer_account.member.status != MemberStatus.CLOSED:
        award_event(referrer_account, EarnEvent.REFERRAL, event_id=str(referral.pk), at=at)
    referral.status = ReferralStatus.CAPPED if capped else ReferralStatus.REWARDED
    referral.rewarded_at = at
    referral.save(update_fields=["status", "rewarded_at"])


BIRTHDAY_PURPOSE = "birthday_rewards"

# Birthdays ---------------------------------------------------------------------------------------


def award_birthday_bonuses(*, now: datetime | None = None) -> int:
    """Pay the birthday rules to members whose birthday it is in their time zone; returns how many.

    Birth dates are read from the profiles in every residency database. With
    ``BIRTHDAY_REQUIRES_CONSENT`` only members who consented to ``birthday_rewards`` are paid.
    Safe to run as often as wanted: a member is paid once per year of their local calendar.
    Run it at least every few hours so that every time zone's day is seen.
    """
    now = now or timezone.now()
    if not EarnRule.objects.filter(event=EarnEvent.BIRTHDAY, is_active=True).exists():
        return 0
    # Somewhere on Earth it is one of these days now.
    days = {(now + timedelta(hours=offset)).date() for offset in (-12, 0, 14)}
    born = Q()
    for day in days:
        born |= _birthday_on(day)
    paid = 0
    for db in residency_databases():
        subjects = MemberProfile.objects.using(db).filter(born).values_list("subject_id", flat=True)
        for chunk in _chunks(subjects.iterator(chunk_size=500), 500):
            members = Member.objects.filter(subject_id__in=chunk, status=MemberStatus.ACTIVE).select_related(
                "market", "tier"
            )
            profiles = {
                profile.subject_id: profile.birth_date
                for profile in MemberProfile.objects.using(db).filter(subject_id__in=chunk)
            }
            for member in members:
                today = now.astimezone(zoneinfo.ZoneInfo(member.time_zone)).date()
                if not _is_birthday(profiles[member.subject_id], today):
                    continue
                if loyalty_settings.BIRTHDAY_REQUIRES_CONSENT and not has_consent(member, BIRTHDAY_PURPOSE):
                    continue
                record, created = _record_event(
                    member, EarnEvent.BIRTHDAY, event_id=str(today.year), occurred_at=now
                )
                paid += created and record.points > 0
    return paid


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _is_birthday(birth_date: date, day: date) -> bool:
    if (birth_date.month, birth_date.day) == (day.month, day.day):
        return True
    return (birth_date.month, birth_date.day) == (2, 29) and _is_leap_day_elsewhere(day)


def _is_leap_day_elsewhere(day: date) -> bool:
    return day.month == 2 and day.day == 28 and (day + timedelta(days=1)).month == 3


def _birthday_on(day: date) -> Q:
    """Profiles born on ``day``; those born on 29 February celebrate on the 28th in other years."""
    born = Q(birth_date__month=day.month, birth_date__day=day.day)
    if _is_leap_day_elsewhere(day):
        born |= Q(birth_date__month=2, birth_date__day=29)
    return born


# Challenges --------------------------------------------------------------------------------------


def count_for_challenges(account: PointsAccount, event: str, at: datetime, *, custom_event: str = "") -> None:
    """Count one ``event`` towards the member's running challenges; pay those it completes."""
    member = account.member
    challenges = (
        Challenge.objects.filter(
            is_active=True,
            closed_at__isnull=True,
            event=event,
            custom_event=custom_event,
            starts_at__lte=at,
            ends_at__gt=at,
        )
        .filter(Q(markets__isnull=True) | Q(markets=member.market_id))
        .distinct()
    )
    for challenge in challenges:
        progress, _ = ChallengeProgress.objects.get_or_create(
            challenge=challenge,
            member=member,
            defaults={"window_start": at, "window_end": _challenge_end(challenge, at)},
        )
        if progress.completed_at is not None:
            continue
        if progress.window_end <= at:
            progress.count, progress.window_start = 0, at
            progress.window_end = _challenge_end(challenge, at)
        progress.count += 1
        if progress.count >= challenge.goal:
            progress.completed_at = at
            if challenge.bonus_points:
                credit_bonus(
                    account,
                    points=challenge.bonus_points,
                    key=ledger_key("challenge", challenge.code, member.number),
                    source="challenge",
                    source_ref=challenge.code,
                    at=at,
                    contributions=[Contribution(ContributionKind.CHALLENGE, challenge.bonus_points)],
                )
            send_on_commit(challenge_completed, ChallengeProgress, member=member, progress=progress)
        progress.save()


def _challenge_end(challenge: Challenge, start: datetime) -> datetime:
    if challenge.duration_days is None:
        return challenge.ends_at
    return min(start + timedelta(days=challenge.duration_days), challenge.ends_at)


def close_challenges(*, now: datetime | None = None) -> int:
    """Close challenges whose period ended; their progress stays as the record. Returns how many."""
    now = now or timezone.now()
    return Challenge.objects.filter(closed_at__isnull=True, ends_at__lte=now).update(closed_at=now)
