"""The read side: queries shared by the API, the pages, the admin and the commands."""

from .audit import Discrepancy, find_discrepancies
from .members import MemberSummary, ledger_entries, member_for_user, member_summary, recent_entries

__all__ = [
    "Discrepancy",
    "MemberSummary",
    "find_discrepancies",
    "ledger_entries",
    "member_for_user",
    "member_summary",
    "recent_entries",
]
