import itertools
import os
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone, translation

from loyalty.models import Challenge, Market
from loyalty.services import enroll_member

pytest.register_assert_rewrite("tests.helpers")


@pytest.fixture
def market(db) -> Market:
    return Market.objects.create(
        code="EU",
        name="Europe",
        default_currency="EUR",
        default_language="en",
        time_zone="Europe/Berlin",
        points_per_unit=Decimal("1"),
    )


@pytest.fixture
def make_market(db):
    def make(
        code: str, currency: str, rate: str = "1", language: str = "en", time_zone: str = "UTC", **fields
    ) -> Market:
        """``fields``: other market fields, e.g. regimes, countries, residency_region, minimum_age."""
        return Market.objects.create(
            code=code,
            name=code,
            default_currency=currency,
            default_language=language,
            time_zone=time_zone,
            points_per_unit=Decimal(rate),
            **fields,
        )

    return make


@pytest.fixture
def make_purpose(db):
    """An active purpose with a published notice (version 1, in English and German).

    ``bases`` maps a regime to (lawful basis, consent kind); by default every regime asks for
    opt-in consent, and PIPL for a separate consent where PIPL wants one. ``required``: required
    for the membership.
    """
    from loyalty.models import NoticeVersion, ProcessingPurpose, PurposeBasis, PurposeCategory, Regime
    from loyalty.services import activate_purpose, publish_notice

    def make(code="marketing_email", *, bases=None, notice=True, active=True, required=False, **fields):
        fields["required_for_service"] = required
        fields.setdefault("category", code if code in PurposeCategory.values else PurposeCategory.OTHER)
        fields.setdefault("name", code.replace("_", " ").capitalize())
        purpose = ProcessingPurpose.objects.create(code=code, **fields)
        if bases is None:
            separate = "separate" if purpose.needs_pipl_separate_consent else "opt_in"
            bases = {regime: ("consent", "opt_in") for regime in Regime.values} | {
                "pipl": ("consent", separate)
            }
        for regime, (basis, kind) in bases.items():
            PurposeBasis.objects.create(purpose=purpose, regime=regime, lawful_basis=basis, consent_kind=kind)
        if notice:
            publish_notice(
                NoticeVersion.objects.create(
                    purpose=purpose,
                    version=1,
                    title=f"About {purpose.name}",
                    body=f"What we do for {purpose.name}.",
                    title_de=f"Über {purpose.name}",
                    body_de=f"Was wir für {purpose.name} tun.",
                )
            )
        if active:
            activate_purpose(purpose)
        return purpose

    return make


@pytest.fixture
def make_user(db, django_user_model):
    counter = itertools.count()

    def make(**fields):
        number = next(counter)
        fields.setdefault("username", f"shopper{number}")
        return django_user_model.objects.create_user(password="correct horse battery", **fields)

    return make


@pytest.fixture
def make_member(make_user, market):
    def make(market=market, **fields):
        return enroll_member(make_user(), market=market, **fields)

    return make


@pytest.fixture
def member(make_member):
    return make_member()


@pytest.fixture
def staff(make_user):
    user = make_user(username="support", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="loyalty",
            codename__in=["view_member", "adjust_points", "view_ledgerentry"],
        )
    )
    return user


@pytest.fixture(autouse=True)
def default_language():
    """A request activates its language for the thread: each test starts in the default language."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(items):
    """Database tests may use every database: personal data lives in the residency ones too."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        uses_db = marker is not None or {"db", "transactional_db"} & set(item.fixturenames)
        if not uses_db or (marker is not None and "databases" in marker.kwargs):
            continue
        kwargs = dict(marker.kwargs) if marker is not None else {}
        if "transactional_db" in item.fixturenames:
            kwargs["transaction"] = True
        item.add_marker(pytest.mark.django_db(databases="__all__", **kwargs), append=False)


def pytest_sessionstart(session):
    """In CI the PostgreSQL run must really use PostgreSQL, so its locking tests cannot silently skip."""
    from django.db import connection

    if os.environ.get("LOYALTY_TESTS_EXPECT_POSTGRES") == "1" and connection.vendor != "postgresql":
        pytest.exit("LOYALTY_TESTS_EXPECT_POSTGRES=1 but the database is not PostgreSQL", returncode=3)


@pytest.fixture(autouse=True)
def fresh_rate_cache():
    """Cached exchange-rate quotes must not leak from one test's database into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


RATES = {"USD": "1.08", "CNY": "7.80", "JPY": "162", "KWD": "0.332", "BRL": "5.90", "ZAR": "19.70"}


@pytest.fixture
def rates(db, settings):
    """Feed rates (units per 1 EUR) recorded through the offline backend."""
    from loyalty.services import refresh_exchange_rates

    settings.LOYALTY = {**settings.LOYALTY, "FIXED_EXCHANGE_RATES": RATES}
    refresh_exchange_rates()
    return {code: Decimal(rate) for code, rate in RATES.items()}


@pytest.fixture
def ladder(db):
    """Bronze for all; Silver and Gold on qualifying spend (EUR) or orders; VIP only granted or bought."""
    from loyalty.models import Tier

    return {
        "bronze": Tier.objects.create(code="bronze", rank=0, name="Bronze"),
        "silver": Tier.objects.create(
            code="silver",
            rank=1,
            name="Silver",
            entry_spend=Decimal("500"),
            retain_spend=Decimal("300"),
            entry_orders=10,
            earn_multiplier=Decimal("1.25"),
        ),
        "gold": Tier.objects.create(
            code="gold",
            rank=2,
            name="Gold",
            entry_spend=Decimal("1000"),
            retain_spend=Decimal("800"),
            earn_multiplier=Decimal("1.5"),
        ),
        "vip": Tier.objects.create(code="vip", rank=3, name="VIP", granted_only=True),
    }


@pytest.fixture
def make_challenge(db):
    """Challenges running now: three purchases for a 100-point bonus and a badge, unless told otherwise."""

    def make(**fields):
        now = timezone.now()
        values = {
            "code": "three-orders",
            "name": "Three orders",
            "description": "Place three orders this month.",
            "event": "purchase",
            "goal": 3,
            "starts_at": now - timedelta(days=1),
            "ends_at": now + timedelta(days=30),
            "bonus_points": 100,
            "badge_name": "Regular",
            "badge_colour": "#c2410c",
            **fields,
        }
        return Challenge.objects.create(**values)

    return make


@pytest.fixture
def make_reward(db, market):
    """A reward offered in ``market``: a 5 EUR voucher for 500 points, unless told otherwise.

    ``offer`` fields (points, value as a string in the market's currency, stock) go to its market offer.
    """
    from djmoney.money import Money

    from loyalty.models import Reward, RewardOffer

    def make(code: str = "voucher", *, market=market, points=500, value="5.00", stock=None, **fields):
        values = {"name": code.replace("-", " ").title(), "reward_type": "fixed_discount", **fields}
        reward = Reward.objects.create(code=code, **values)
        RewardOffer.objects.create(
            reward=reward,
            market=market,
            points=points,
            value=Money(Decimal(value), market.default_currency) if value is not None else None,
            stock=stock,
        )
        return reward

    return make


@pytest.fixture
def fund(staff):
    """Give a member spendable points (a staff adjustment)."""
    from loyalty.services import adjust_points

    def give(member, points: int):
        return adjust_points(member, points=points, reason="test funds", actor=staff)

    return give
