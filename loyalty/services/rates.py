"""Exchange rates: refreshing them from the configured backend, and operators' manual rates."""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from djmoney.contrib.exchange.models import Rate

from ..conf import loyalty_settings
from ..exceptions import ActorRequired, ArbitrageRisk, InvalidAmount, ReasonRequired
from ..models import ExchangeRate, ManualExchangeRate
from ..money import is_known_currency
from ..selectors.arbitrage import check_arbitrage
from ..selectors.rates import forget_quotes, load_quotes

logger = logging.getLogger(__name__)


def refresh_exchange_rates() -> int:
    """Fetch rates through the configured djmoney backend and add them to the rate history.

    Returns how many rates were recorded. Feed rates are facts, so they are recorded even when they
    open an arbitrage gap; that is logged, and the console's round-trip matrix shows it.
    """
    backend = import_string(loyalty_settings.EXCHANGE_BACKEND)()
    base = loyalty_settings.BASE_CURRENCY
    with transaction.atomic():
        backend.update_rates(base_currency=base)
        now = timezone.now()
        rows = ExchangeRate.objects.bulk_create(
            ExchangeRate(
                base_currency=base,
                currency=rate.currency,
                rate=rate.value,
                source=backend.name,
                fetched_at=now,
            )
            for rate in Rate.objects.filter(backend__name=backend.name, backend__base_currency=base)
            if rate.currency != base
        )
        _forget_now_and_on_commit()
    try:
        check_arbitrage(quotes=load_quotes())
    except ArbitrageRisk as risk:
        logger.warning("Exchange rates from %s open an arbitrage gap: %s", backend.name, risk.detail)
    return len(rows)


def pin_exchange_rate(currency: str, *, rate, reason: str, actor) -> ManualExchangeRate:
    """Override the feed for ``currency`` with an operator's rate (units per base unit).

    Refused with ``arbitrage_risk`` when the rate would open an arbitrage gap.
    """
    if (
        not isinstance(currency, str)
        or not is_known_currency(currency)
        or currency == loyalty_settings.BASE_CURRENCY
    ):
        raise InvalidAmount()
    if rate is None or rate <= 0:
        raise InvalidAmount()
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired()
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ActorRequired()
    base = loyalty_settings.BASE_CURRENCY
    with transaction.atomic():
        ManualExchangeRate.objects.filter(base_currency=base, currency=currency, is_active=True).update(
            is_active=False
        )
        pin = ManualExchangeRate.objects.create(
            base_currency=base, currency=currency, rate=rate, reason=reason.strip(), set_by=actor
        )
        check_arbitrage(quotes=load_quotes())
        _forget_now_and_on_commit()
    return pin


def unpin_exchange_rate(currency: str, *, actor) -> int:
    """Return ``currency`` to the feed's rate; refused if the feed rate would open an arbitrage gap."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ActorRequired()
    with transaction.atomic():
        count = ManualExchangeRate.objects.filter(
            base_currency=loyalty_settings.BASE_CURRENCY, currency=currency, is_active=True
        ).update(is_active=False)
        check_arbitrage(quotes=load_quotes())
        _forget_now_and_on_commit()
    return count


def _forget_now_and_on_commit() -> None:
    """This transaction reads its own writes at once; other processes once it commits."""
    forget_quotes()
    transaction.on_commit(forget_quotes)
