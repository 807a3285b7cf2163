from django.core.management.base import BaseCommand, CommandError

from loyalty.conf import loyalty_settings
from loyalty.models import PointsAccount
from loyalty.selectors import find_discrepancies


class Command(BaseCommand):
    help = (
        "Verify for every account that stored balances equal the sum of its ledger entries and that its lots "
        "and allocations agree. Exits with status 1 and a report when they do not."
    )

    def handle(self, *args, **options):
        total = PointsAccount.objects.count()
        self.stdout.write(f"Auditing {total} account(s)...")

        def progress(done: int) -> None:
            self.stdout.write(f"  checked {done}/{total}")

        problems = list(find_discrepancies(batch_size=loyalty_settings.BATCH_SIZE, progress=progress))
        if problems:
            for problem in problems:
                self.stderr.write(f"  MISMATCH {problem}")
            accounts = len({problem.account_id for problem in problems})
            raise CommandError(f"{len(problems)} discrepancy(ies) in {accounts} account(s).", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"OK: {total} account(s) balance with their entries and lots."))
