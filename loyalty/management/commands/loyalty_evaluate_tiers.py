from django.core.management.base import BaseCommand
from django.db.models import Max, Min

from loyalty.models import TierStatus
from loyalty.services import evaluate_tiers
from loyalty.tasks import TIER_RANGE_SIZE


class Command(BaseCommand):
    help = (
        "Close ended qualification windows, correct tiers from the record and end grants and paid periods. "
        "Safe to run repeatedly."
    )

    def handle(self, *args, **options):
        bounds = TierStatus.objects.aggregate(first=Min("member_id"), last=Max("member_id"))
        if bounds["first"] is None:
            self.stdout.write(self.style.SUCCESS("No members to evaluate."))
            return
        members = changes = 0
        for start in range(bounds["first"], bounds["last"] + 1, TIER_RANGE_SIZE):
            result = evaluate_tiers(first_member_id=start, last_member_id=start + TIER_RANGE_SIZE - 1)
            members += result.members
            changes += result.changes
            self.stdout.write(f"  {members} member(s) evaluated, {changes} tier change(s)")
        self.stdout.write(self.style.SUCCESS(f"Evaluated {members} member(s); {changes} tier(s) changed."))
