"""The read side: queries shared by the API, the pages, the admin and the commands."""

from .audit import Discrepancy, find_discrepancies
from .members import MemberSummary, ledger_entries, member_for_user, member_summary, recent_entries
from .tiers import TierProgress, member_challenges, referral_stats, tier_ladder, tier_progress

__all__ = [
    "Discrepancy",
    "MemberSummary",
    "TierProgress",
    "find_discrepancies",
    "ledger_entries",
    "member_challenges",
    "member_for_user",
    "member_summary",
    "recent_entries",
    "referral_stats",
    "tier_ladder",
    "tier_progress",
]
