"""The registry of the member's data: what an export contains and what erasure removes.

Exports and erasure read only this list; nothing is discovered by following relations, so a
new model never leaks into an export, and ``tests/test_personal_data_registry.py`` fails when a
model linked to a member is missing here. ``personal`` names the fields that hold personal
values: erasure deletes the rows of residency models (found by ``subject_id``) and clears those
fields elsewhere. Everything else is pseudonymous bookkeeping that the books need.
"""

from dataclasses import dataclass

from django.apps import apps


@dataclass(frozen=True)
class Section:
    name: str
    model: str
    # How a row finds its member: a lookup to the Member ("member", "account__member"),
    # "pk" for the member itself, or "subject_id" for rows in the residency database.
    member: str
    fields: tuple[str, ...]
    personal: tuple[str, ...] = ()
    exported: bool = True

    @property
    def model_class(self):
        return apps.get_model(self.model)

    @property
    def in_residency_database(self) -> bool:
        return self.member == "subject_id"


REGISTRY: tuple[Section, ...] = (
    Section(
        "member",
        "loyalty.Member",
        "pk",
        (
            "number",
            "market__code",
            "language",
            "time_zone",
            "status",
            "tier__code",
            "enrolled_at",
            "referral_code",
            "restricted_at",
        ),
        personal=("user",),
    ),
    Section(
        "profile",
        "loyalty.MemberProfile",
        "subject_id",
        ("birth_date", "country", "region"),
        personal=("birth_date", "country"),
    ),
    Section(
        "points",
        "loyalty.PointsAccount",
        "member",
        ("available", "pending", "debt", "lifetime_earned", "lifetime_redeemed", "lifetime_expired"),
    ),
    Section(
        "ledger",
        "loyalty.LedgerEntry",
        "account__member",
        (
            "id",
            "entry_type",
            "points",
            "pending_points",
            "written_off",
            "debt_points",
            "balance_after",
            "pending_after",
            "source",
            "source_ref",
            "amount_currency",
            "amount",
            "rate",
            "fx_rate",
            "fx_source",
            "reason",
            "created_at",
            "effective_at",
        ),
    ),
    Section(
        "points_lots",
        "loyalty.PointsLot",
        "account__member",
        ("original", "remaining", "expires_at", "created_at"),
    ),
    Section(
        "orders",
        "loyalty.OrderRecord",
        "member",
        (
            "source",
            "external_id",
            "amount_currency",
            "amount",
            "refunded",
            "points",
            "points_reversed",
            "status",
            "placed_at",
            "release_after",
            "released_at",
        ),
    ),
    Section(
        "earn_contributions",
        "loyalty.EarnContribution",
        "member",
        ("entry_id", "kind", "rule__code", "points", "created_at"),
    ),
    Section(
        "events",
        "loyalty.MemberEvent",
        "member",
        ("event", "custom_event", "event_id", "occurred_at", "points"),
    ),
    Section("referrals_made", "loyalty.Referral", "referrer", ("status", "created_at", "rewarded_at")),
    Section("referred_by", "loyalty.Referral", "referred", ("status", "created_at", "rewarded_at")),
    Section(
        "challenges",
        "loyalty.ChallengeProgress",
        "member",
        ("challenge__code", "count", "window_start", "window_end", "completed_at"),
    ),
    Section(
        "tier_status",
        "loyalty.TierStatus",
        "member",
        (
            "window_start",
            "window_end",
            "spend",
            "status_points",
            "orders",
            "qualified_tier__code",
            "held_tier__code",
        ),
    ),
    Section(
        "tier_history",
        "loyalty.TierChange",
        "member",
        ("from_tier__code", "to_tier__code", "reason", "changed_at"),
    ),
    Section(
        "qualifying_events",
        "loyalty.QualifyingEvent",
        "member",
        ("key", "occurred_at", "spend", "status_points", "orders"),
    ),
    Section(
        "memberships",
        "loyalty.MembershipPurchase",
        "member",
        ("product__sku", "order", "tier__code", "status", "starts_at", "ends_at"),
    ),
    Section(
        "market_changes",
        "loyalty.MarketChange",
        "member",
        ("from_market__code", "to_market__code", "changed_at"),
    ),
    Section(
        "redemptions",
        "loyalty.Redemption",
        "member",
        (
            "reward__code",
            "market__code",
            "quantity",
            "points",
            "value_currency",
            "value",
            "reward_type",
            "code",
            "status",
            "valid_until",
            "created_at",
            "used_at",
            "cancelled_at",
        ),
    ),
    Section(
        "consents",
        "loyalty.ConsentState",
        "member",
        ("purpose__code", "status", "notice_version__version", "by_guardian", "is_separate", "decided_at"),
    ),
    Section(
        "consent_history",
        "loyalty.ConsentEvent",
        "member",
        (
            "uuid",
            "purpose__code",
            "action",
            "regimes",
            "notice_version__version",
            "language",
            "text_sha256",
            "is_separate",
            "actor",
            "method",
            "collection_point",
            "occurred_at",
        ),
    ),
    Section(
        "consent_evidence",
        "loyalty.ConsentEvidence",
        "subject_id",
        ("event_id", "ip_address", "user_agent", "recorded_at"),
        personal=("ip_address", "user_agent"),
    ),
    Section(
        "transfers",
        "loyalty.TransferRecord",
        "member",
        ("recipient__name", "recipient__country", "year", "first_at"),
    ),
    Section(
        "shop_customer_ids",
        "loyalty.ExternalCustomer",
        "member",
        ("source__code", "external_id", "created_at"),
        personal=("external_id",),
    ),
    Section(
        "privacy_requests",
        "loyalty.DataSubjectRequest",
        "member",
        (
            "reference",
            "kind",
            "status",
            "regimes",
            "received_at",
            "due_at",
            "extension_reason",
            "rejection_ground",
            "closed_at",
        ),
    ),
    Section(
        "request_messages",
        "loyalty.RequestMessage",
        "subject_id",
        ("request_reference", "text", "created_at"),
        personal=("text",),
    ),
    # The exports themselves: never exported again, deleted on erasure.
    Section(
        "data_exports",
        "loyalty.DataExport",
        "subject_id",
        ("request_reference",),
        personal=("payload",),
        exported=False,
    ),
)


def exported_sections() -> tuple[Section, ...]:
    return tuple(section for section in REGISTRY if section.exported)


def personal_sections() -> tuple[Section, ...]:
    return tuple(section for section in REGISTRY if section.personal)
