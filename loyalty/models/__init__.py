from .ledger import EntryType, LedgerEntry, LotAllocation, PointsAccount, PointsLot
from .markets import Market
from .members import Member, MemberStatus
from .orders import OrderRecord, OrderStatus, RefundRecord

__all__ = [
    "EntryType",
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
]
