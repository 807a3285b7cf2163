"""The demo's reward catalog: one catalog that speaks each market's language and culture."""

from datetime import timedelta
from decimal import Decimal

from djmoney.money import Money

from loyalty.models import Charity, Reward, RewardCategory, RewardOffer
from loyalty.selectors.arbitrage import check_reward_value

CATEGORIES = [
    {
        "code": "vouchers",
        "sort_order": 0,
        "name_en": "Vouchers",
        "name_zh_hans": "优惠券",
        "name_zh_hant": "優惠券",
        "name_ja": "クーポン",
        "name_ko": "쿠폰",
        "name_de": "Gutscheine",
        "name_fr": "Bons d'achat",
        "name_es": "Cupones",
        "name_pt_br": "Cupons",
        "name_ar": "قسائم",
    },
    {
        "code": "shipping",
        "sort_order": 1,
        "name_en": "Shipping",
        "name_zh_hans": "配送",
        "name_de": "Versand",
        "name_pt_br": "Frete",
        "name_ar": "الشحن",
    },
    {
        "code": "gifts",
        "sort_order": 2,
        "name_en": "Gifts",
        "name_zh_hans": "礼品",
        "name_de": "Geschenke",
        "name_fr": "Cadeaux",
        "name_ar": "هدايا",
    },
    {
        "code": "giving",
        "sort_order": 3,
        "name_en": "Giving",
        "name_zh_hans": "公益",
        "name_de": "Spenden",
        "name_fr": "Dons",
        "name_es": "Donaciones",
        "name_pt_br": "Doações",
    },
    {
        "code": "experiences",
        "sort_order": 4,
        "name_en": "Experiences",
        "name_zh_hans": "专属体验",
        "name_de": "Erlebnisse",
        "name_fr": "Expériences",
    },
]

CHARITIES = [
    {"name": "Children's Literacy Fund (demo)", "registration_number": "DEMO-0001"},
]

# Each reward: its fields, then its offers as (market, points, value or None, stock or None).
# Values respect each market's point value (check_reward_value), so no market pays more per point.
REWARDS = [
    (
        {
            "code": "voucher-5",
            "category": "vouchers",
            "reward_type": "fixed_discount",
            "sort_order": 0,
            "name_en": "5 € voucher",
            "name_zh_hans": "5 欧元代金券",
            "name_zh_hant": "5 歐元代金券",
            "name_ja": "5ユーロ クーポン",
            "name_ko": "5유로 쿠폰",
            "name_de": "5-€-Gutschein",
            "name_fr": "Bon de 5 €",
            "name_es": "Cupón de 5 €",
            "name_pt_br": "Cupom de 5 €",
            "name_ar": "قسيمة بقيمة 5 يورو",
            "description_en": "Money off your next order, worth 5 € or the same in your market's currency.",
            "description_zh_hans": "下次购物立减，价值 5 欧元或您所在市场的等值货币。",
            "description_de": (
                "Rabatt auf Ihre nächste Bestellung im Wert von 5 € oder dem Gegenwert in Ihrer Währung."
            ),
            "description_ar": "خصم على طلبك القادم بقيمة 5 يورو أو ما يعادلها بعملة سوقك.",
            "terms_en": "One voucher per order. Not exchangeable for cash.",
            "terms_zh_hans": "每笔订单限用一张，不可兑换现金。",
            "terms_de": "Ein Gutschein pro Bestellung. Keine Barauszahlung.",
        },
        [
            ("EU", 500, "5.00", None),
            ("CN", 500, "39.00", None),
            ("JP", 500, "810", None),
            ("KW", 500, "1.660", None),
            ("BR", 500, "25.00", None),
        ],
    ),
    (
        {
            "code": "red-envelope",
            "category": "vouchers",
            "reward_type": "fixed_discount",
            "sort_order": -10,
            "coupon_format": "HB-####-####-##",
            "valid_days": 14,
            "limit_per_member": 1,
            "limit_period": "year",
            "season_days": (-3, 12),
            "name_en": "Lunar New Year red envelope",
            "name_zh_hans": "新春红包",
            "name_zh_hant": "新春紅包",
            "description_en": "A lucky red envelope worth ¥68 for the Spring Festival.",
            "description_zh_hans": "春节好运红包，价值 68 元。",
            "description_zh_hant": "春節好運紅包，價值 68 元。",
            "terms_en": "One per member during the festival. Valid for 14 days.",
            "terms_zh_hans": "活动期间每位会员限领一次，领取后 14 天内有效。",
        },
        [("CN", 888, "68.00", 500)],
    ),
    (
        {
            "code": "ramadan-evening",
            "category": "vouchers",
            "reward_type": "percent_discount",
            "percent_off": Decimal("20"),
            "sort_order": -10,
            "valid_days": 7,
            "season_days": (-5, 25),
            "name_en": "Ramadan evening offer",
            "name_ar": "عرض أمسيات رمضان",
            "description_en": "20% off orders placed after iftar, up to 5 KWD.",
            "description_ar": "خصم 20% على الطلبات بعد الإفطار، بحد أقصى 5 دنانير كويتية.",
            "terms_en": "Valid for 7 days on one order.",
            "terms_ar": "صالح لمدة 7 أيام على طلب واحد.",
        },
        [("KW", 1500, "5.000", None)],
    ),
    (
        {
            "code": "free-shipping",
            "category": "shipping",
            "reward_type": "free_shipping",
            "sort_order": 5,
            "name_en": "Free shipping",
            "name_pt_br": "Frete grátis",
            "name_zh_hans": "免运费",
            "description_en": "Free standard shipping on your next order.",
            "description_pt_br": "Frete padrão grátis no seu próximo pedido.",
        },
        [("BR", 300, "15.00", None), ("EU", 450, "4.50", None)],
    ),
    (
        {
            "code": "literacy-donation",
            "category": "giving",
            "reward_type": "charity",
            "charity": "Children's Literacy Fund (demo)",
            "sort_order": 10,
            "name_en": "Donate to children's literacy",
            "name_de": "Spende für Leseförderung",
            "name_fr": "Don pour l'alphabétisation des enfants",
            "name_es": "Dona a la alfabetización infantil",
            "name_pt_br": "Doe para a alfabetização infantil",
            "name_zh_hans": "捐助儿童阅读",
            "description_en": "Your points become a donation in money; we report every cent to the charity.",
            "description_pt_br": "Seus pontos viram uma doação em dinheiro, repassada integralmente.",
        },
        [("EU", 1000, "10.00", None), ("BR", 1000, "50.00", None)],
    ),
    (
        {
            "code": "tote-bag",
            "category": "gifts",
            "reward_type": "physical_gift",
            "product_sku": "GIFT-TOTE-01",
            "sort_order": 20,
            "valid_days": None,
            "name_en": "Organic cotton tote bag",
            "name_de": "Tragetasche aus Bio-Baumwolle",
            "name_fr": "Tote bag en coton bio",
            "name_zh_hans": "有机棉购物袋",
            "description_en": "Shipped with your next order while stocks last.",
            "description_de": "Kommt mit Ihrer nächsten Bestellung, solange der Vorrat reicht.",
        },
        [("EU", 1500, "15.00", 25)],
    ),
    (
        {
            "code": "chef-dinner",
            "category": "experiences",
            "reward_type": "experience",
            "sort_order": 30,
            "valid_days": 90,
            "tiers": ("gold", "vip-club"),
            "name_en": "Dinner with our chef",
            "name_zh_hans": "主厨私宴",
            "name_de": "Abendessen mit unserem Küchenchef",
            "description_en": (
                "An evening at our flagship kitchen for Gold and VIP members; we call you to book."
            ),
            "description_zh_hans": "黄金及 VIP 会员专享旗舰厨房之夜，我们将致电为您预约。",
        },
        [("EU", 5000, "50.00", 10), ("CN", 5000, "390.00", 10)],
    ),
]


def seed_catalog(markets: dict, tiers: dict, now) -> None:
    """Create the demo catalog once (existing rewards are left as the operators edited them)."""
    categories = {
        spec["code"]: RewardCategory.objects.get_or_create(code=spec["code"], defaults=spec)[0]
        for spec in CATEGORIES
    }
    charities = {
        spec["name"]: Charity.objects.get_or_create(name=spec["name"], defaults=spec)[0] for spec in CHARITIES
    }
    for spec, offers in REWARDS:
        fields = dict(spec)
        fields["category"] = categories[fields["category"]]
        if "charity" in fields:
            fields["charity"] = charities[fields["charity"]]
        reward_tiers = fields.pop("tiers", ())
        season = fields.pop("season_days", None)
        if season:
            fields["starts_on"] = now.date() + timedelta(days=season[0])
            fields["ends_on"] = now.date() + timedelta(days=season[1])
        reward, created = Reward.objects.get_or_create(code=fields["code"], defaults=fields)
        if not created:
            continue
        reward.tiers.set([tiers[code] for code in reward_tiers])
        for market_code, points, value, stock in offers:
            market = markets[market_code]
            amount = Money(Decimal(value), market.default_currency) if value else None
            if amount is not None:
                check_reward_value(market, points, amount)
            RewardOffer.objects.create(reward=reward, market=market, points=points, value=amount, stock=stock)
