"""Redeemed discount rewards as Oscar vouchers: the fulfilment backend of a shop running Oscar.

    LOYALTY = {..., "FULFILMENT_BACKEND": "loyalty.integrations.oscar.vouchers.OscarVoucherBackend"}

The voucher's code is the redemption's code; that is the only link between the two. A voucher is
single use, valid from the redemption until its ``valid_until``, and only applies to a basket in the
currency of the reward's market.
"""

from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from djmoney.money import Money
from oscar.apps.offer.custom import create_benefit, create_condition
from oscar.core.loading import get_model

from ...fulfilment import CouponBackend
from ...models import Redemption, RewardType
from .models import CappedPercentageBenefit, RewardCondition

Benefit = get_model("offer", "Benefit")
ConditionalOffer = get_model("offer", "ConditionalOffer")
Range = get_model("offer", "Range")
Voucher = get_model("voucher", "Voucher")

VOUCHER_TYPES = (RewardType.FIXED_DISCOUNT, RewardType.PERCENT_DISCOUNT, RewardType.FREE_SHIPPING)
# Oscar vouchers must end: a reward valid without end gets a voucher valid until the year 9999.
NO_END = datetime(9999, 12, 31, tzinfo=UTC)
# The one product range of every reward voucher: all products.
RANGE_SLUG = "loyalty-rewards"
# Oscar stores discounts with two decimals; rounding down never gives more than the reward is worth.
OSCAR_CENT = Decimal("0.01")
REWARD_CONDITION_PATH = f"{RewardCondition.__module__}.{RewardCondition.__name__}"


class OscarVoucherBackend(CouponBackend):
    """An Oscar voucher for each discount or free-shipping coupon; other rewards keep a plain code."""

    def issue(self, redemption: Redemption) -> None:
        if redemption.reward_type in VOUCHER_TYPES:
            redemption.fulfilment_ref = str(create_voucher(redemption).pk)

    def withdraw(self, redemption: Redemption) -> None:
        withdraw_voucher(redemption.code)


def create_voucher(redemption: Redemption) -> "Voucher":
    """A single-use voucher with the redemption's code, for one offer worth the reward."""
    name = gettext("Loyalty reward %(code)s") % {"code": redemption.code}
    offer = ConditionalOffer.objects.create(
        name=name,
        description=redemption.reward.name,
        offer_type=ConditionalOffer.VOUCHER,
        condition=create_condition(RewardCondition, range=reward_range()),
        benefit=reward_benefit(redemption),
        max_basket_applications=1,
        max_discount=oscar_amount(redemption.value) if redemption.value is not None else None,
    )
    voucher = Voucher.objects.create(
        name=name,
        code=redemption.code,
        usage=Voucher.SINGLE_USE,
        start_datetime=redemption.created_at,
        end_datetime=redemption.valid_until or NO_END,
    )
    voucher.offers.add(offer)
    return voucher


def reward_benefit(redemption: Redemption) -> "Benefit":
    """The amount off the products, the percentage off them up to the reward's value, or free shipping."""
    if redemption.reward_type == RewardType.FIXED_DISCOUNT:
        return Benefit.objects.create(
            type=Benefit.FIXED, value=oscar_amount(redemption.value), range=reward_range()
        )
    if redemption.reward_type == RewardType.PERCENT_DISCOUNT:
        return create_benefit(CappedPercentageBenefit, value=redemption.percent_off, range=reward_range())
    return Benefit.objects.create(type=Benefit.SHIPPING_PERCENTAGE, value=Decimal(100))


def reward_range() -> "Range":
    range_, _created = Range.objects.get_or_create(
        slug=RANGE_SLUG,
        defaults={"name": gettext("Loyalty rewards: all products"), "includes_all_products": True},
    )
    return range_


def oscar_amount(value: Money) -> Decimal:
    return value.amount.quantize(OSCAR_CENT, rounding=ROUND_DOWN)


def withdraw_voucher(code: str) -> None:
    """Make the voucher unusable from now on; it stays, with its history, for the shop's reports."""
    now = timezone.now()
    Voucher.objects.filter(code=code, end_datetime__gt=now).update(end_datetime=now)
    ConditionalOffer.objects.filter(vouchers__code=code).update(status=ConditionalOffer.SUSPENDED)


def reward_codes_used(order) -> QuerySet:
    """Codes of the reward vouchers Oscar recorded as used on ``order``."""
    return (
        Voucher.objects.filter(
            applications__order=order, offers__condition__proxy_class=REWARD_CONDITION_PATH
        )
        .values_list("code", flat=True)
        .distinct()
    )
