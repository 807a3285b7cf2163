from django.core.management.base import BaseCommand

from loyalty.services import apply_retention


class Command(BaseCommand):
    help = (
        "Apply the retention policies: erase inactive members, purge old consent evidence, messages "
        "of closed privacy requests and expired exports. Each run is logged; safe to run repeatedly."
    )

    def handle(self, *args, **options):
        self.stdout.write("Applying retention policies...")
        runs = apply_retention(
            progress=lambda run: self.stdout.write(
                f"  {run.get_category_display()}: {run.affected} handled, {run.skipped} held back "
                f"(older than {run.cutoff:%Y-%m-%d})"
            )
        )
        self.stdout.write(self.style.SUCCESS(f"Applied {len(runs)} policies."))
