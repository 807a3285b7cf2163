import secrets
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..exceptions import (
    AlreadyEnrolled,
    BelowMinimumAge,
    BirthDateRequired,
    InvalidLanguage,
    InvalidTimestamp,
    UnknownMarket,
)
from ..models import EarnEvent, EventSource, ExternalCustomer, Market, Member, PointsAccount
from ..signals import member_enrolled, send_on_commit
from .consent import age_on, save_profile
from .engagement import apply_referral_code, award_event, referral_code_for
from .tiers import start_status

MEMBER_NUMBER_DIGITS = 12


def new_member_number() -> str:
    """A random public member number; the database pk is never shown."""
    return "".join(secrets.choice("0123456789") for _ in range(MEMBER_NUMBER_DIGITS))


def resolve_market(market: Market | str) -> Market:
    if isinstance(market, Market):
        if not market.is_active:
            raise UnknownMarket()
        return market
    found = Market.objects.filter(code=market, is_active=True).first()
    if found is None:
        raise UnknownMarket()
    return found


def checked_language(language: str) -> str:
    if language not in {code for code, _ in settings.LANGUAGES}:
        raise InvalidLanguage()
    return language


def enroll_member(
    user,
    *,
    market: Market | str,
    language: str | None = None,
    referral_code: str | None = None,
    birth_date: date | None = None,
    country: str = "",
) -> Member:
    """Enroll ``user`` in ``market`` (a Market or its code). Enrolling again returns the existing member.

    The new member gets the tier open to all and the sign-up rules' points; with ``referral_code``
    the referral is recorded (a bad code refuses the enrolment and writes nothing). The birth date
    and country go to the member's profile in the market's residency database. A market with a
    minimum age needs the birth date and refuses younger people. No consent is given by enrolling.
    """
    market, language = _checked_enrolment(market, language, birth_date)
    existing = Member.objects.filter(user=user).select_related("market").first()
    if existing is not None:
        return _same_market_or_error(existing, market)
    try:
        with transaction.atomic():
            member = _create_member(user, market, language)
            if referral_code:
                apply_referral_code(member, referral_code)
            if birth_date is not None or country:
                save_profile(member, birth_date=birth_date, country=country)
    except IntegrityError:
        # A concurrent enrolment of the same user won the race.
        return _same_market_or_error(Member.objects.get(user=user), market)
    send_on_commit(member_enrolled, Member, member=member)
    return member


def enroll_customer(
    source: EventSource,
    customer_id: str,
    *,
    market: Market | str,
    language: str | None = None,
    birth_date: date | None = None,
    country: str = "",
) -> Member:
    """Enroll a customer of a shop on another stack, known by ``customer_id`` at ``source``.

    Such a member has no user in this project. Enrolling the same customer again returns the member.
    """
    market, language = _checked_enrolment(market, language, birth_date)
    existing = customer_member(source, customer_id)
    if existing is not None:
        return _same_market_or_error(existing, market)
    try:
        with transaction.atomic():
            member = _create_member(None, market, language)
            ExternalCustomer.objects.create(source=source, external_id=customer_id, member=member)
            if birth_date is not None or country:
                save_profile(member, birth_date=birth_date, country=country)
    except IntegrityError:
        # A concurrent delivery enrolled the same customer.
        return _same_market_or_error(customer_member(source, customer_id), market)
    send_on_commit(member_enrolled, Member, member=member)
    return member


def customer_member(source: EventSource, customer_id: str) -> Member | None:
    """The member a source knows by ``customer_id`` (None when not enrolled)."""
    return (
        Member.objects.filter(external_ids__source=source, external_ids__external_id=customer_id)
        .select_related("market")
        .first()
    )


def _checked_enrolment(
    market: Market | str, language: str | None, birth_date: date | None
) -> tuple[Market, str]:
    market = resolve_market(market)
    language = checked_language(language or market.default_language)
    if birth_date is not None and (not isinstance(birth_date, date) or birth_date > timezone.now().date()):
        raise InvalidTimestamp()
    check_minimum_age(market, birth_date)
    return market, language


def _same_market_or_error(member: Member, market: Market) -> Member:
    if member.market_id != market.pk:
        raise AlreadyEnrolled()
    return member


def check_minimum_age(market: Market, birth_date: date | None) -> None:
    if market.minimum_age is None:
        return
    if birth_date is None:
        raise BirthDateRequired()
    if age_on(birth_date, timezone.localdate()) < market.minimum_age:
        raise BelowMinimumAge()


def _create_member(user, market: Market, language: str) -> Member:
    while True:
        number = new_member_number()
        if not Member.objects.filter(number=number).exists():
            break
    now = timezone.now()
    member = Member.objects.create(
        user=user,
        number=number,
        market=market,
        language=language,
        time_zone=market.time_zone,
        enrolled_at=now,
    )
    account = PointsAccount.objects.create(member=member)
    referral_code_for(member)
    start_status(member, now)
    award_event(account, EarnEvent.SIGNUP, event_id="signup", at=now)
    return member
