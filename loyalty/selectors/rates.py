"""Exchange-rate quotes and conversions, cached so that a request reads the rates at most once."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone
from djmoney.money import Money

from ..conf import loyalty_settings
from ..exceptions import ExchangeRateMissing, InvalidAmount
from ..models import ExchangeRate, ManualExchangeRate
from ..money import MAX_AMOUNT, RATE_EXPONENT, quantize_money

CACHE_SECONDS = 300


@dataclass(frozen=True)
class Quote:
    """Units of a currency per one unit of the base currency, and where that figure came from."""

    rate: Decimal
    source: str
    as_of: datetime
    manual: bool = False

    def is_stale(self, now: datetime) -> bool:
        """Manual rates are an operator's decision and never go stale; feed rates do."""
        max_age = timedelta(hours=loyalty_settings.EXCHANGE_RATE_MAX_AGE_HOURS)
        return not self.manual and now - self.as_of > max_age


@dataclass(frozen=True)
class Conversion:
    """The result of converting money, with everything needed to explain it later."""

    amount: Money  # rounded to the target currency's minor units
    rate: Decimal  # target units per source unit, rounded down to 14 decimals (as stored on entries)
    source: str
    as_of: datetime
    stale: bool
    target_per_base: Decimal = Decimal(1)
    source_per_base: Decimal = Decimal(1)

    def exact(self, value: Decimal) -> Decimal:
        """``value`` in source units, converted without rounding the rate (a single division, last)."""
        return value * self.target_per_base / self.source_per_base


def conversion_fields(conversion: Conversion | None) -> dict:
    """What a ledger entry records of the conversion that produced it (nothing when none was needed)."""
    if conversion is None:
        return {}
    return {
        "converted_amount": conversion.amount,
        "fx_rate": conversion.rate,
        "fx_source": conversion.source,
        "fx_at": conversion.as_of,
        "fx_stale": conversion.stale,
    }


def _cache_key() -> str:
    return f"loyalty:fx-quotes:{loyalty_settings.BASE_CURRENCY}"


def forget_quotes() -> None:
    """Drop cached quotes; called whenever rates are refreshed or pinned."""
    cache.delete(_cache_key())


def current_quotes() -> dict[str, Quote]:
    """Every currency's current quote, read from the database at most once per cache period."""
    quotes = cache.get(_cache_key())
    if quotes is None:
        quotes = load_quotes()
        cache.set(_cache_key(), quotes, CACHE_SECONDS)
    return quotes


def load_quotes() -> dict[str, Quote]:
    """Every currency's quote as the database has it now: an active manual rate, else the newest feed rate."""
    base = loyalty_settings.BASE_CURRENCY
    newest = (
        ExchangeRate.objects.filter(base_currency=base)
        .values("currency")
        .annotate(newest=Max("id"))
        .values_list("newest", flat=True)
    )
    quotes = {
        row.currency: Quote(row.rate, row.source, row.fetched_at)
        for row in ExchangeRate.objects.filter(pk__in=newest)
    }
    for pin in ManualExchangeRate.objects.filter(base_currency=base, is_active=True):
        quotes[pin.currency] = Quote(pin.rate, "manual", pin.set_at, manual=True)
    return quotes


def quote(currency: str, quotes: dict[str, Quote] | None = None) -> Quote:
    base = loyalty_settings.BASE_CURRENCY
    if currency == base:
        return Quote(Decimal(1), "base", timezone.now(), manual=True)
    found = (quotes if quotes is not None else current_quotes()).get(currency)
    if found is None:
        raise ExchangeRateMissing()
    return found


def convert(amount: Money, to_currency: str, quotes: dict[str, Quote] | None = None) -> Conversion:
    """Convert through the base currency; the result is rounded half-up, the rate kept exact."""
    source_code = amount.currency.code
    source, target = quote(source_code, quotes), quote(to_currency, quotes)
    rate = (target.rate / source.rate).quantize(RATE_EXPONENT, rounding=ROUND_DOWN)
    names = sorted({q.source for q in (source, target) if q.source != "base"}) or ["base"]
    now = timezone.now()
    converted = quantize_money(Money(amount.amount * target.rate / source.rate, to_currency))
    if converted.amount >= MAX_AMOUNT:
        raise InvalidAmount()
    return Conversion(
        amount=converted,
        rate=rate,
        source="+".join(names),
        as_of=min(source.as_of, target.as_of),
        stale=source.is_stale(now) or target.is_stale(now),
        target_per_base=target.rate,
        source_per_base=source.rate,
    )
