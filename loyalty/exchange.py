"""An offline exchange backend for djmoney, serving the rates set in ``LOYALTY["FIXED_EXCHANGE_RATES"]``.

Use it for demos, tests and shops that set their rates by hand; switch ``LOYALTY["EXCHANGE_BACKEND"]``
to one of djmoney's feed backends (Open Exchange Rates, Fixer, UniRate) for live rates.
"""

from decimal import Decimal

from djmoney.contrib.exchange.backends.base import BaseExchangeBackend

from .conf import loyalty_settings


class FixedRatesBackend(BaseExchangeBackend):
    name = "loyalty-fixed"

    def get_rates(self, **params) -> dict[str, Decimal]:
        rates = {code: Decimal(str(rate)) for code, rate in loyalty_settings.FIXED_EXCHANGE_RATES.items()}
        rates[params.get("base_currency", loyalty_settings.BASE_CURRENCY)] = Decimal(1)
        return rates
