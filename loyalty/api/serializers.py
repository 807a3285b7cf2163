from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from ..conf import loyalty_settings
from ..models import LedgerEntry, Redemption, Tier
from ..models.tiers import TRACKS
from ..money import quantize_money, shown_spend
from ..selectors.catalog import entry_redemption, member_can_cancel, redemption_name
from ..selectors.members import contribution_label


class MemberSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    market = serializers.CharField()
    status = serializers.CharField()
    available = serializers.IntegerField()
    pending = serializers.IntegerField()
    debt = serializers.IntegerField()
    balance = serializers.IntegerField()
    lifetime_earned = serializers.IntegerField()
    lifetime_redeemed = serializers.IntegerField()
    lifetime_expired = serializers.IntegerField()
    next_expiry_points = serializers.IntegerField()
    next_expiry_at = serializers.DateTimeField(allow_null=True)


class LedgerEntrySerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="entry_type")
    type_display = serializers.CharField(source="get_entry_type_display")
    amount = serializers.SerializerMethodField()
    conversion = serializers.SerializerMethodField()
    contributions = serializers.SerializerMethodField()
    reward = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "type",
            "type_display",
            "points",
            "pending_points",
            "written_off",
            "balance_after",
            "pending_after",
            "source",
            "source_ref",
            "amount",
            "rate",
            "rate_rule",
            "conversion",
            "contributions",
            "reward",
            "reason",
            "created_at",
            "effective_at",
        ]

    def get_contributions(self, entry: LedgerEntry) -> list[dict]:
        """What each part of an earning added: the base rate, the tier bonus, each rule, a challenge."""
        return [
            {
                "kind": part.kind,
                "label": contribution_label(part),
                "rule": part.rule.code if part.rule else None,
                "points": part.points,
            }
            for part in entry.contributions.all()
        ]

    def get_amount(self, entry: LedgerEntry) -> dict | None:
        return money_json(entry.amount)

    def get_reward(self, entry: LedgerEntry) -> dict | None:
        """The reward a spend paid for, or whose points came back; its name in the request's language."""
        redemption = entry_redemption(entry)
        if redemption is None:
            return None
        return {
            "id": redemption.reward_id,
            "code": redemption.reward.code,
            "name": redemption_name(redemption),
            "redemption": redemption.pk,
        }

    def get_conversion(self, entry: LedgerEntry) -> dict | None:
        """How the order amount was converted before the rate applied (None when it was not)."""
        if entry.fx_rate is None:
            return None
        return {
            "amount": money_json(entry.converted_amount),
            "rate": str(entry.fx_rate),
            "source": entry.fx_source,
            "as_of": serializers.DateTimeField().to_representation(entry.fx_at),
            "stale": entry.fx_stale,
        }


def money_json(money) -> dict | None:
    if money is None:
        return None
    return {"amount": str(money.amount), "currency": money.currency.code}


def shown_money_json(money) -> dict | None:
    """Money rounded to its currency's minor units, as shown to people: "5.00" EUR, "500" JPY."""
    return money_json(quantize_money(money)) if money is not None else None


def track_figure(track: str, value: Decimal | int | None, *, to_reach: bool) -> str | int | None:
    """Spend as a Decimal string in the base currency; status points and orders as integers."""
    if value is None or track != "spend":
        return value
    return str(shown_spend(value, to_reach=to_reach))


class TierSerializer(serializers.ModelSerializer):
    """A tier's name and benefits; texts in the request's language (English where untranslated)."""

    class Meta:
        model = Tier
        fields = [
            "code",
            "rank",
            "name",
            "badge_colour",
            "earn_multiplier",
            "free_shipping",
            "priority_support",
            "early_access",
            "perks",
            "benefits",
        ]


class LadderTierSerializer(TierSerializer):
    currency = serializers.SerializerMethodField()
    entry = serializers.SerializerMethodField()
    retain = serializers.SerializerMethodField()

    class Meta(TierSerializer.Meta):
        fields = [*TierSerializer.Meta.fields, "description", "granted_only", "currency", "entry", "retain"]

    def get_currency(self, tier: Tier) -> str:
        return loyalty_settings.BASE_CURRENCY

    def get_entry(self, tier: Tier) -> dict:
        """Track -> threshold to enter (null: the track does not lead to this tier)."""
        return thresholds_json(tier.entry_thresholds())

    def get_retain(self, tier: Tier) -> dict:
        """Track -> threshold to keep the tier when a window closes."""
        return thresholds_json(tier.retain_thresholds())


def thresholds_json(thresholds: dict) -> dict:
    return {track: track_figure(track, thresholds.get(track), to_reach=True) for track in TRACKS}


class TrackProgressSerializer(serializers.Serializer):
    def to_representation(self, progress) -> dict:
        track = progress.track
        return {
            "track": track,
            "current": track_figure(track, progress.current, to_reach=False),
            "next_threshold": track_figure(track, progress.next_threshold, to_reach=True),
            "needed_for_next": track_figure(track, progress.needed_for_next, to_reach=True),
            "retain_threshold": track_figure(track, progress.retain_threshold, to_reach=True),
            "needed_to_retain": track_figure(track, progress.needed_to_retain, to_reach=True),
        }


class TierProgressSerializer(serializers.Serializer):
    tier = TierSerializer(allow_null=True)
    # The tier the member's record gives them; the figures to keep it apply to this one.
    qualified_tier = TierSerializer(allow_null=True)
    next_tier = TierSerializer(allow_null=True)
    currency = serializers.SerializerMethodField()
    tracks = TrackProgressSerializer(many=True)
    window_start = serializers.DateTimeField(allow_null=True)
    # When the window closes: the first moment that no longer counts.
    deadline = serializers.DateTimeField(allow_null=True)
    # The current window already meets a threshold to keep the qualified tier.
    secured = serializers.BooleanField()
    grace_until = serializers.DateTimeField(allow_null=True)
    granted_until = serializers.DateTimeField(allow_null=True)
    paid_until = serializers.DateTimeField(allow_null=True)

    def get_currency(self, progress) -> str:
        return loyalty_settings.BASE_CURRENCY


class ReferralSerializer(serializers.Serializer):
    code = serializers.CharField()
    link = serializers.URLField()
    pending = serializers.IntegerField()
    rewarded = serializers.IntegerField()
    capped = serializers.IntegerField()


class AppliedReferralSerializer(serializers.Serializer):
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    created_at = serializers.DateTimeField()


class ChallengeSerializer(serializers.Serializer):
    """One challenge as the member sees it (``ChallengeView``); texts in the request's language."""

    code = serializers.CharField(source="challenge.code")
    name = serializers.CharField(source="challenge.name")
    description = serializers.CharField(source="challenge.description")
    goal = serializers.IntegerField()
    count = serializers.IntegerField()
    completed_at = serializers.DateTimeField(allow_null=True)
    counting_until = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(source="challenge.ends_at")
    bonus_points = serializers.IntegerField(source="challenge.bonus_points")
    badge = serializers.SerializerMethodField()

    def get_badge(self, view) -> dict:
        return {"name": view.challenge.badge_name, "colour": view.challenge.badge_colour}


class CatalogItemSerializer(serializers.Serializer):
    """One reward of the member's catalog (a ``CatalogItem``); texts in the request's language."""

    id = serializers.IntegerField(source="reward.pk")
    code = serializers.CharField(source="reward.code")
    name = serializers.CharField()
    description = serializers.CharField()
    terms = serializers.CharField()
    image = serializers.SerializerMethodField()
    category = serializers.SerializerMethodField()
    type = serializers.CharField(source="reward.reward_type")
    type_display = serializers.CharField(source="reward.get_reward_type_display")
    points = serializers.IntegerField(source="offer.points")
    value = serializers.SerializerMethodField()
    percent_off = serializers.DecimalField(
        source="reward.percent_off", max_digits=5, decimal_places=2, allow_null=True
    )
    charity = serializers.CharField(source="reward.charity.name", allow_null=True)
    stock = serializers.IntegerField(source="offer.stock", allow_null=True)
    starts_on = serializers.DateField(source="reward.starts_on", allow_null=True)
    ends_on = serializers.DateField(source="reward.ends_on", allow_null=True)
    valid_days = serializers.IntegerField(source="reward.valid_days", allow_null=True)
    limit_per_member = serializers.IntegerField(source="reward.limit_per_member", allow_null=True)
    limit_period = serializers.CharField(source="reward.limit_period")
    left_for_member = serializers.IntegerField(allow_null=True)
    affordable = serializers.BooleanField()
    redeemable = serializers.BooleanField()
    unavailable_reason = serializers.SerializerMethodField()

    def get_image(self, item) -> str | None:
        image = item.reward.image
        if not image:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(image.url) if request else image.url

    def get_category(self, item) -> dict | None:
        category = item.reward.category
        return {"code": category.code, "name": item.category} if category else None

    def get_value(self, item) -> dict | None:
        return shown_money_json(item.offer.value)

    def get_unavailable_reason(self, item) -> str | None:
        """The error code redeeming would meet now; null when the member can redeem it."""
        return item.unavailable_reason or None


class RedemptionSerializer(serializers.ModelSerializer):
    """One of the member's redemptions; the reward's name in the request's language."""

    reward = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display")
    value = serializers.SerializerMethodField()
    charity = serializers.CharField(source="charity.name", allow_null=True)
    cancellable = serializers.SerializerMethodField()

    class Meta:
        model = Redemption
        fields = [
            "id",
            "reward",
            "code",
            "status",
            "status_display",
            "quantity",
            "points",
            "value",
            "percent_off",
            "charity",
            "valid_until",
            "created_at",
            "used_at",
            "cancelled_at",
            "cancellable",
        ]

    def get_reward(self, redemption: Redemption) -> dict:
        return {
            "id": redemption.reward_id,
            "code": redemption.reward.code,
            "name": redemption_name(redemption),
            "type": redemption.reward_type,
            "type_display": redemption.get_reward_type_display(),
        }

    def get_value(self, redemption: Redemption) -> dict | None:
        return shown_money_json(redemption.value)

    def get_cancellable(self, redemption: Redemption) -> bool:
        return member_can_cancel(redemption, timezone.now())


class NoticeTextSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    title = serializers.CharField()
    text = serializers.CharField()
    # The language the title and text are in ("": the notice's untranslated text).
    language = serializers.CharField()
    sha256 = serializers.CharField()


class ConsentItemSerializer(serializers.Serializer):
    """One purpose as the member sees it (a ``ConsentItem``); texts in the request's language."""

    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    category_display = serializers.CharField()
    required = serializers.BooleanField()
    needs_consent = serializers.BooleanField()
    separate = serializers.BooleanField()
    notice = NoticeTextSerializer(allow_null=True)
    # A consent status, or "not_asked".
    status = serializers.CharField()
    status_display = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    by_guardian = serializers.BooleanField()
    guardian_needed = serializers.BooleanField()


class PrivacyRequestSerializer(serializers.Serializer):
    """One of the member's privacy requests (a ``RequestRow``), with download links while they are valid."""

    reference = serializers.CharField(source="request.reference")
    kind = serializers.CharField(source="request.kind")
    kind_display = serializers.CharField(source="request.get_kind_display")
    status = serializers.CharField(source="request.status")
    status_display = serializers.CharField(source="request.get_status_display")
    received_at = serializers.DateTimeField(source="request.received_at")
    due_at = serializers.DateTimeField(source="request.due_at")
    extension_reason = serializers.CharField(source="request.extension_reason")
    rejection_ground = serializers.CharField(source="request.rejection_ground")
    rejection_ground_display = serializers.CharField(source="request.get_rejection_ground_display")
    closed_at = serializers.DateTimeField(source="request.closed_at", allow_null=True)
    download = serializers.SerializerMethodField()

    def get_download(self, row) -> dict | None:
        """Links to the export as JSON and as a ZIP of CSV files, and when they expire (null: none)."""
        if row.export is None:
            return None
        url = reverse("loyalty-api:my-export", args=[row.export.token])
        request = self.context.get("request")
        absolute = request.build_absolute_uri if request else str
        return {
            "json": absolute(f"{url}?format=json"),
            "csv": absolute(f"{url}?format=csv"),
            "expires_at": serializers.DateTimeField().to_representation(row.export.expires_at),
        }
