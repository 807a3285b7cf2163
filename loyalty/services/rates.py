"""Exchange rates: refreshing them from the configured backend, and operators' manual rates."""

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from djmoney.contrib.exchange.models import ExchangeBackend, Rate

from ..conf import loyalty_settings
from ..exceptions import ActorRequired, ArbitrageRisk, InvalidAmount, ReasonRequired
from ..models import ExchangeRate, ManualExchangeRate
from ..money import is_known_currency
from ..selectors.arbitrage import check_arbitrage, lock_configuration
from ..selectors.rates import forget_quotes, load_quotes

logger = logging.getLogger(__name__)


def refresh_exchange_rates() -> int:
    """Fetch rates through the configured djmoney backend and add them to the rate history.

    Returns how many rates were recorded. The rates are fetched once and kept at full precision in
    the history (djmoney's own table, also updated for other code of the host, keeps 6 decimals).
    Feed rates are facts, so they are recorded even when they open an arbitrage gap; that is logged,
    ``loyalty_update_rates`` exits non-zero and the console's round-trip matrix marks the pairs.
    """
    backend = import_string(loyalty_settings.EXCHANGE_BACKEND)()
    base = loyalty_settings.BASE_CURRENCY
    fetched = {
        code: Decimal(str(rate))
        for code, rate in backend.get_rates(**{**backend.get_params(), "base_currency": base}).items()
        if code != base and is_known_currency(code) and Decimal(str(rate)) > 0
    }
    with transaction.atomic():
        lock_configuration()
        djmoney_backend, _created = ExchangeBackend.objects.update_or_create(
            name=backend.name, defaults={"base_currency": base}
        )
        Rate.objects.bulk_create(
            [Rate(currency=code, value=rate, backend=djmoney_backend) for code, rate in fetched.items()],
            update_conflicts=True,
            unique_fields=["currency", "backend"],
            update_fields=["value"],
        )
        now = timezone.now()
        ExchangeRate.objects.bulk_create(
            ExchangeRate(base_currency=base, currency=code, rate=rate, source=backend.name, fetched_at=now)
            for code, rate in fetched.items()
        )
        _forget_now_and_on_commit()
    try:
        check_arbitrage(quotes=load_quotes())
    except ArbitrageRisk as risk:
        logger.warning("Exchange rates from %s open an arbitrage gap: %s", backend.name, risk.detail)
    return len(fetched)


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
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise InvalidAmount()
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired()
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise ActorRequired()
    base = loyalty_settings.BASE_CURRENCY
    with transaction.atomic():
        lock_configuration()
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
        lock_configuration()
        count = ManualExchangeRate.objects.filter(
            base_currency=loyalty_settings.BASE_CURRENCY, currency=currency, is_active=True
        ).update(is_active=False)
        check_arbitrage(quotes=load_quotes())
        _forget_now_and_on_commit()
    return count


def _forget_now_and_on_commit() -> None:
    """This transaction reads its own writes at once; other processes once it commits (a process that
    reloaded in between would otherwise keep the old quotes)."""
    forget_quotes()
    transaction.on_commit(forget_quotes)
