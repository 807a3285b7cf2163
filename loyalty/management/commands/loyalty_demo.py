"""Seed a demo program: markets, staff, shoppers and a realistic points history.

Running it again changes no data (every step goes through the idempotent services); it only
sets new random passwords for the demo logins and prints them.
"""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from loyalty import services
from loyalty.models import (
    Challenge,
    EarnRule,
    EventSource,
    Market,
    MembershipProduct,
    Reward,
    SourceKind,
    Tier,
)
from loyalty.selectors.arbitrage import check_arbitrage

from ._demo_catalog import seed_catalog
from ._demo_privacy import seed_decisions, seed_privacy

MARKETS = [
    {
        "code": "EU",
        "residency_region": "eu",
        "name": "Europe",
        "countries": ["DE", "FR", "IT", "ES", "NL"],
        "default_currency": "EUR",
        "accepted_currencies": ["USD", "GBP", "CHF"],
        "default_language": "en",
        "time_zone": "Europe/Berlin",
        "regimes": ["gdpr"],
        "points_per_unit": Decimal("1"),
    },
    {
        "code": "CN",
        "residency_region": "cn",
        "name": "China",
        "countries": ["CN"],
        "default_currency": "CNY",
        "default_language": "zh-hans",
        "time_zone": "Asia/Shanghai",
        "regimes": ["pipl"],
        "points_per_unit": Decimal("0.12"),
    },
    {
        "code": "JP",
        "residency_region": "row",
        "name": "Japan",
        "countries": ["JP"],
        "default_currency": "JPY",
        "default_language": "en",
        "time_zone": "Asia/Tokyo",
        "points_per_unit": Decimal("0.006"),
    },
    {
        "code": "KW",
        "residency_region": "row",
        "name": "Kuwait",
        "countries": ["KW"],
        "default_currency": "KWD",
        "default_language": "en",
        "time_zone": "Asia/Kuwait",
        "points_per_unit": Decimal("3"),
    },
    {
        # No rate of its own: orders earn the program's base rate after conversion to EUR, and its
        # point value is fixed in BRL, decoupled from the exchange rate.
        "code": "BR",
        "residency_region": "br",
        "name": "Brazil",
        "countries": ["BR"],
        "default_currency": "BRL",
        "default_language": "en",
        "time_zone": "America/Sao_Paulo",
        "regimes": ["lgpd"],
        "points_per_unit": None,
        "point_value_mode": "fixed",
        "point_value": Decimal("0.05"),
    },
]

TIERS = [
    {"code": "bronze", "rank": 0, "name_en": "Bronze", "name_zh_hans": "青铜会员", "badge_colour": "#a0522d"},
    {
        "code": "silver",
        "rank": 1,
        "name_en": "Silver",
        "name_zh_hans": "白银会员",
        "badge_colour": "#8a8d91",
        "benefits_en": "25% more points on every order\nFree shipping over €30",
        "benefits_zh_hans": "每笔订单多得 25% 积分\n满 30 欧元包邮",
        "earn_multiplier": Decimal("1.25"),
        "entry_spend": Decimal("300"),
        "retain_spend": Decimal("200"),
        "entry_orders": 6,
    },
    {
        "code": "gold",
        "rank": 2,
        "name_en": "Gold",
        "name_zh_hans": "黄金会员",
        "badge_colour": "#b08d57",
        "benefits_en": "50% more points on every order\nFree shipping\nPriority support",
        "benefits_zh_hans": "每笔订单多得 50% 积分\n免费配送\n优先客服",
        "earn_multiplier": Decimal("1.5"),
        "free_shipping": True,
        "priority_support": True,
        "entry_spend": Decimal("1000"),
        "retain_spend": Decimal("700"),
        "entry_status_points": 1500,
    },
    {
        "code": "vip-club",
        "rank": 3,
        "name_en": "VIP Club",
        "name_zh_hans": "VIP 俱乐部",
        "badge_colour": "#4b2c83",
        "benefits_en": "Double points\nFree express shipping\nEarly access to sales",
        "benefits_zh_hans": "双倍积分\n免费快递\n抢先参加促销",
        "earn_multiplier": Decimal("2"),
        "free_shipping": True,
        "priority_support": True,
        "early_access": True,
        "granted_only": True,
    },
]

RULES = [
    {
        "code": "welcome",
        "name_en": "Welcome bonus",
        "name_zh_hans": "入会礼",
        "event": "signup",
        "fixed_points": 100,
    },
    {
        "code": "first-order",
        "name_en": "First order bonus",
        "name_zh_hans": "首单奖励",
        "event": "first_order",
        "fixed_points": 150,
        "priority": 20,
    },
    {
        "code": "review",
        "name_en": "Product review",
        "name_zh_hans": "商品评价",
        "event": "review",
        "fixed_points": 20,
        "limit_per_member": 5,
        "limit_period": "month",
    },
    {
        "code": "birthday",
        "name_en": "Birthday gift",
        "name_zh_hans": "生日礼",
        "event": "birthday",
        "fixed_points": 200,
        "counts_toward_tier": False,
    },
    {
        "code": "referrer",
        "name_en": "You referred a friend",
        "name_zh_hans": "推荐好友奖励",
        "event": "referral",
        "fixed_points": 300,
    },
    {
        "code": "referred",
        "name_en": "Welcome from a friend",
        "name_zh_hans": "好友推荐礼",
        "event": "referred",
        "fixed_points": 100,
    },
]

# (username, market, [(order id, amount, currency, days ago, what happens next)])
SHOPPERS = [
    (
        "alice",
        "EU",
        [
            ("EU-1001", "129.90", "EUR", 420, "window"),
            ("EU-1002", "59.99", "EUR", 200, "confirm"),
            ("EU-1003", "240.00", "EUR", 90, "refund"),
            ("EU-1004", "35.50", "EUR", 3, "pending"),
            ("EU-1005", "80.00", "USD", 10, "confirm"),
        ],
    ),
    (
        "li.wei",
        "CN",
        [
            ("CN-2001", "899.00", "CNY", 60, "window"),
            ("CN-2002", "1299.00", "CNY", 20, "confirm"),
            ("CN-2003", "450.00", "CNY", 5, "cancel"),
            ("CN-2004", "268.28", "CNY", 1, "pending"),
        ],
    ),
    (
        "kenji",
        "JP",
        [
            ("JP-3001", "15800", "JPY", 45, "window"),
            ("JP-3002", "4980", "JPY", 2, "pending"),
        ],
    ),
    (
        "ana",
        "BR",
        [
            ("BR-5001", "349.90", "BRL", 30, "window"),
            ("BR-5002", "89.90", "BRL", 4, "pending"),
        ],
    ),
]


SUPPORT_PERMISSIONS = (
    "view_member",
    "change_member",
    "view_ledgerentry",
    "view_orderrecord",
    "view_pointslot",
    "view_market",
    "adjust_points",
    "grant_tier",
    "view_tier",
    "view_earnrule",
    "view_tierchange",
    "view_reward",
    "view_redemption",
    "cancel_redemption",
    "fulfil_redemption",
)
MERCHANDISER_PERMISSIONS = (
    "view_market",
    "view_tier",
    "view_reward",
    "add_reward",
    "change_reward",
    "view_rewardoffer",
    "add_rewardoffer",
    "change_rewardoffer",
    "delete_rewardoffer",
    "view_rewardcategory",
    "add_rewardcategory",
    "change_rewardcategory",
    "view_charity",
    "view_donation_report",
    "view_redemption",
)

PRIVACY_PERMISSIONS = (
    "view_member",
    "change_member",
    "view_processingpurpose",
    "add_processingpurpose",
    "change_processingpurpose",
    "view_purposebasis",
    "add_purposebasis",
    "change_purposebasis",
    "delete_purposebasis",
    "view_noticeversion",
    "add_noticeversion",
    "change_noticeversion",
    "publish_noticeversion",
    "view_jurisdictionrule",
    "change_jurisdictionrule",
    "view_recipient",
    "add_recipient",
    "change_recipient",
    "view_transfer",
    "add_transfer",
    "change_transfer",
    "view_retentionpolicy",
    "change_retentionpolicy",
    "view_retentionrun",
    "view_consentevent",
    "view_consentstate",
    "view_suppressionentry",
    "view_datasubjectrequest",
    "handle_privacy_request",
    "erase_member",
)


class Command(BaseCommand):
    help = "Seed demo markets, logins and points history (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        now = timezone.now()
        self.stdout.write("Exchange rates...")
        services.refresh_exchange_rates()
        with transaction.atomic():
            self.stdout.write("Markets...")
            markets = {spec["code"]: self._market(spec) for spec in MARKETS}
            check_arbitrage()
            self.stdout.write("Tiers, earning rules, a challenge and the reward catalog...")
            self._program(markets, now)
            self.stdout.write("Privacy: purposes, notices and a recipient abroad...")
            seed_privacy()
            self.stdout.write("Staff...")
            passwords = {"admin": self._login("admin", superuser=True)}
            passwords["support"] = self._login("support", permissions=SUPPORT_PERMISSIONS)
            passwords["merchandiser"] = self._login("merchandiser", permissions=MERCHANDISER_PERMISSIONS)
            passwords["privacy"] = self._login("privacy", permissions=PRIVACY_PERMISSIONS)
            User = get_user_model()
            admin = User.objects.get(username="admin")
            self.stdout.write("Shoppers and their history...")
            referrer = None
            for username, market_code, orders in SHOPPERS:
                passwords[username] = self._login(username)
                member = services.enroll_member(
                    User.objects.get(username=username),
                    market=markets[market_code],
                    referral_code=services.referral_code_for(referrer) if referrer else None,
                )
                referrer = referrer or member
                self._history(member, orders, now)
            seed_decisions({name: User.objects.get(username=name) for name, _m, _o in SHOPPERS}, now)
            alice = User.objects.get(username="alice").loyalty_member
            self.stdout.write("Event sources: a point-of-sale system and an airline partner...")
            airline = self._event_sources()
            services.earn_partner_points(
                airline, alice, amount=Money("420.00", "USD"), reference="demo-PNR-QX7H"
            )
            services.spend_points(alice, points=50, idempotency_key="demo-voucher-1", reason="voucher")
            services.adjust_points(
                alice,
                points=25,
                reason="Apology for a late delivery",
                actor=admin,
                idempotency_key="demo-goodwill-1",
            )
        self.stdout.write("Releasing and expiring...")
        services.release_pending_points(now=now)
        services.expire_points(now=now)
        services.evaluate_tiers(now=now)
        self.stdout.write("A redeemed reward...")
        gift = services.adjust_points(
            alice, points=1000, reason="Customer of the month", actor=admin, idempotency_key="demo-gift-1"
        )
        services.redeem_reward(alice, Reward.objects.get(code="voucher-5"), idempotency_key=f"demo-{gift.pk}")
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins (passwords are new on every run):"))
        self.stdout.write(f"  admin console  http://127.0.0.1:8000/admin/    admin / {passwords['admin']}")
        for username in ("support", "merchandiser", "privacy"):
            self.stdout.write(
                f"  {username:<14} http://127.0.0.1:8000/admin/    {username} / {passwords[username]}"
            )
        for username, market_code, _orders in SHOPPERS:
            login = f"{username} / {passwords[username]}"
            self.stdout.write(f"  shopper ({market_code})   http://127.0.0.1:8000/loyalty/  {login}")
        self.stdout.write(
            "  signed events  http://127.0.0.1:8000/api/loyalty/v1/events/  sources pos and skyair, "
            "secrets in .local/pos_webhook_secret and .local/skyair_webhook_secret"
        )

    def _event_sources(self) -> EventSource:
        EventSource.objects.get_or_create(
            code="pos", defaults={"name": "Point of sale", "kind": SourceKind.SHOP}
        )
        return EventSource.objects.get_or_create(
            code="skyair",
            defaults={
                "name": "Sky Air",
                "kind": SourceKind.PARTNER,
                "currency": "USD",
                "points_per_unit": Decimal("2"),
                "point_price": Decimal("0.008"),
            },
        )[0]

    def _program(self, markets: dict, now) -> None:
        tiers = {
            spec["code"]: Tier.objects.get_or_create(code=spec["code"], defaults=spec)[0] for spec in TIERS
        }
        for spec in RULES:
            EarnRule.objects.get_or_create(code=spec["code"], defaults=spec)
        lunar, created = EarnRule.objects.get_or_create(
            code="lunar-new-year",
            defaults={
                "name_en": "Lunar New Year double points",
                "name_zh_hans": "春节双倍积分",
                "event": "purchase",
                "mode": "multiplier",
                "multiplier": Decimal("2"),
                "priority": 10,
                "starts_on": now.date() - timedelta(days=3),
                "ends_on": now.date() + timedelta(days=4),
            },
        )
        if created:
            lunar.markets.set([markets["CN"]])
        seed_catalog(markets, tiers, now)
        MembershipProduct.objects.get_or_create(
            sku="VIP-CLUB-YEAR", defaults={"tier": tiers["vip-club"], "duration_days": 365}
        )
        Challenge.objects.get_or_create(
            code="three-orders",
            defaults={
                "name_en": "Three orders in 30 days",
                "name_zh_hans": "30 天内下单三次",
                "description_en": "Place three orders within 30 days and earn 200 bonus points.",
                "description_zh_hans": "30 天内下单三次，即可获得 200 奖励积分。",
                "badge_name_en": "Regular",
                "badge_name_zh_hans": "常客",
                "event": "purchase",
                "goal": 3,
                "duration_days": 30,
                "bonus_points": 200,
                "starts_at": now - timedelta(days=365),
                "ends_at": now + timedelta(days=365),
            },
        )

    def _market(self, spec: dict) -> Market:
        market, _created = Market.objects.get_or_create(code=spec["code"], defaults=spec)
        return market

    def _login(self, username: str, *, permissions: tuple = (), superuser: bool = False) -> str:
        User = get_user_model()
        staff = bool(permissions) or superuser
        user, _created = User.objects.get_or_create(
            username=username, defaults={"is_staff": staff, "is_superuser": superuser}
        )
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.save()
        if permissions:
            user.user_permissions.add(
                *Permission.objects.filter(content_type__app_label="loyalty", codename__in=permissions)
            )
        return password

    def _history(self, member, orders, now) -> None:
        for order_id, amount, currency, days_ago, outcome in orders:
            placed_at = now - timedelta(days=days_ago)
            services.record_order(
                member, order_id=order_id, amount=Money(amount, currency), placed_at=placed_at
            )
            if outcome == "confirm":
                services.confirm_order(order_id=order_id, now=placed_at + timedelta(days=2))
            elif outcome == "cancel":
                services.cancel_order(order_id=order_id)
            elif outcome == "refund":
                services.record_refund(
                    order_id=order_id, refund_id=f"{order_id}-R1", amount=Money(Decimal(amount) / 4, currency)
                )
