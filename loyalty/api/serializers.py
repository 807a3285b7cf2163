from rest_framework import serializers

from ..models import LedgerEntry


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
            "reason",
            "created_at",
            "effective_at",
        ]

    def get_amount(self, entry: LedgerEntry) -> dict | None:
        return money_json(entry.amount)

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
