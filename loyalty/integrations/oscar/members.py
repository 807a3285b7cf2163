"""Which member an Oscar customer is, enrolling them into a market when they are not one yet."""

from django.conf import settings

from ...conf import loyalty_settings
from ...exceptions import NotAMember
from ...models import Market, Member
from ...selectors.members import member_for_user
from ...services import enroll_member
from .conf import oscar_settings


def market_for(currency: str | None = None) -> str | None:
    """The code of the market a new customer joins, for an order in ``currency`` (None: at registration)."""
    if currency:
        listed = oscar_settings.MARKETS_BY_CURRENCY.get(currency)
        if listed:
            return listed
        # Two markets in the same currency (Germany and France in EUR) leave the choice to the setting.
        markets = Market.objects.filter(default_currency=currency, is_active=True)
        matching = list(markets.values_list("code", flat=True)[:2])
        if len(matching) == 1:
            return matching[0]
    return oscar_settings.MARKET or loyalty_settings.DEFAULT_MARKET


def enrol_customer(user, *, currency: str | None = None, language: str | None = None) -> Member | None:
    """Enrol ``user`` in the market for ``currency``; None when no market is configured.

    An existing member is returned as they are, whatever their market.
    """
    member = existing_member(user)
    if member is not None:
        return member
    market = market_for(currency)
    if market is None:
        return None
    return enroll_member(user, market=market, language=offered_language(language))


def member_for_order(user, currency: str) -> Member | None:
    """The member an order of ``user`` in ``currency`` earns for, enrolled now if ``ENROL_ON_ORDER``."""
    if oscar_settings.ENROL_ON_ORDER:
        return enrol_customer(user, currency=currency)
    return existing_member(user)


def existing_member(user) -> Member | None:
    try:
        return member_for_user(user)
    except NotAMember:
        return None


def offered_language(language: str | None) -> str | None:
    """``language`` if the site offers it; otherwise None, so the member gets their market's language."""
    offered = {code for code, _name in settings.LANGUAGES}
    return language if language in offered else None
