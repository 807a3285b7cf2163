import secrets

from django.conf import settings
from django.db import IntegrityError, transaction

from ..exceptions import AlreadyEnrolled, InvalidLanguage, UnknownMarket
from ..models import Market, Member, PointsAccount
from ..signals import member_enrolled, send_on_commit

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


def enroll_member(user, *, market: Market | str, language: str | None = None) -> Member:
    """Enroll ``user`` in ``market`` (a Market or its code). Enrolling again returns the existing member."""
    market = resolve_market(market)
    language = checked_language(language or market.default_language)
    existing = Member.objects.filter(user=user).select_related("market").first()
    if existing is not None:
        return _same_market_or_error(existing, market)
    try:
        with transaction.atomic():
            member = _create_member(user, market, language)
    except IntegrityError:
        # A concurrent enrolment of the same user won the race.
        return _same_market_or_error(Member.objects.get(user=user), market)
    send_on_commit(member_enrolled, Member, member=member)
    return member


def _same_market_or_error(member: Member, market: Market) -> Member:
    if member.market_id != market.pk:
        raise AlreadyEnrolled()
    return member


def _create_member(user, market: Market, language: str) -> Member:
    while True:
        number = new_member_number()
        if not Member.objects.filter(number=number).exists():
            break
    member = Member.objects.create(
        user=user, number=number, market=market, language=language, time_zone=market.time_zone
    )
    PointsAccount.objects.create(member=member)
    return member
