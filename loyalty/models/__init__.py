from .ledger import EntryType, LedgerEntry, LotAllocation, PointsAccount, PointsLot
from .markets import EarnRate, ExchangeRate, ManualExchangeRate, Market, PointValueMode, Regime, Tier
from .members import MarketChange, Member, MemberStatus
from .orders import OrderRecord, OrderStatus, RefundRecord

__all__ = [
    "EarnRate",
    "EntryType",
    "ExchangeRate",
    "ManualExchangeRate",
    "MarketChange",
    "PointValueMode",
    "Regime",
    "LedgerEntry",
    "LotAllocation",
    "Market",
    "Member",
    "MemberStatus",
    "OrderRecord",
    "OrderStatus",
    "PointsAccount",
    "PointsLot",
    "RefundRecord",
    "Tier",
]
