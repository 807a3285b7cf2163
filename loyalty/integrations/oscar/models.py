"""The Oscar offer parts of the vouchers the plugin issues. They are proxies: they add no table.

Oscar stores the dotted path of these classes on each Condition and Benefit made from them, so moving
or renaming them would break the vouchers already issued.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_class, get_model

from ...models import Redemption

Condition = get_model("offer", "Condition")
PercentageDiscountBenefit = get_class("offer.benefits", "PercentageDiscountBenefit")


def reward_currency(offer) -> str | None:
    """The currency of the reward behind a voucher offer: its market's (the voucher code is its code)."""
    return (
        Redemption.objects.filter(code__in=offer.vouchers.values("code"))
        .values_list("market__default_currency", flat=True)
        .first()
    )


class RewardCondition(Condition):
    """Met by a basket in the reward's currency: a reward worth 5 EUR is not worth 5 JPY."""

    class Meta:
        proxy = True
        verbose_name = _("reward currency condition")
        verbose_name_plural = _("reward currency conditions")

    @property
    def name(self) -> str:
        return gettext("The basket is in the reward's currency")

    @property
    def description(self) -> str:
        return self.name

    def is_satisfied(self, offer, basket) -> bool:
        return not basket.is_empty and basket.currency == reward_currency(offer)


class CappedPercentageBenefit(PercentageDiscountBenefit):
    """A percentage off the basket's products, never more in all than the offer's maximum discount.

    Oscar's own ``max_discount`` only retires an offer once it has given that much; this benefit also
    stops the one application that would give more.
    """

    class Meta:
        proxy = True
        verbose_name = _("capped percentage discount benefit")
        verbose_name_plural = _("capped percentage discount benefits")

    @property
    def name(self) -> str:
        return gettext("%(percent)s%% off the products, up to the reward's value") % {"percent": self.value}

    @property
    def description(self) -> str:
        return self.name

    def apply(self, basket, condition, offer, **kwargs):
        kwargs["max_total_discount"] = offer.max_discount
        return super().apply(basket, condition, offer, **kwargs)
