from .engagement import Challenge, ChallengeProgress, MemberEvent, Referral, ReferralStatus
from .ledger import EntryType, LedgerEntry, LotAllocation, PointsAccount, PointsLot
from .markets import EarnRate, ExchangeRate, ManualExchangeRate, Market, PointValueMode, Regime
from .members import MarketChange, Member, MemberStatus
from .orders import OrderRecord, OrderStatus, RefundRecord
from .rules import (
    ORDER_EVENTS,
    ContributionKind,
    EarnContribution,
    EarnEvent,
    EarnRule,
    LimitPeriod,
    PointsMode,
)
from .tiers import (
    MembershipProduct,
    MembershipPurchase,
    MembershipStatus,
    QualifyingEvent,
    Tier,
    TierChange,
    TierChangeReason,
    TierStatus,
)

__all__ = [
    "ORDER_EVENTS",
    "Challenge",
    "ChallengeProgress",
    "ContributionKind",
    "EarnContribution",
    "EarnEvent",
    "EarnRate",
    "EarnRule",
    "EntryType",
    "ExchangeRate",
    "LedgerEntry",
    "LimitPeriod",
    "LotAllocation",
    "ManualExchangeRate",
    "Market",
    "MarketChange",
    "Member",
    "MemberEvent",
    "MemberStatus",
    "MembershipProduct",
    "MembershipPurchase",
    "MembershipStatus",
    "OrderRecord",
    "OrderStatus",
    "PointValueMode",
    "PointsAccount",
    "PointsLot",
    "PointsMode",
    "QualifyingEvent",
    "Referral",
    "ReferralStatus",
    "RefundRecord",
    "Regime",
    "Tier",
    "TierChange",
    "TierChangeReason",
    "TierStatus",
]
