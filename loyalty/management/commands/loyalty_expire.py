from django.core.management.base import BaseCommand

from loyalty.services import expire_points


class Command(BaseCommand):
    help = "Expire what is left of every points lot whose expiry date has passed. Safe to run repeatedly."

    def handle(self, *args, **options):
        self.stdout.write("Expiring points...")
        result = expire_points(progress=lambda done: self.stdout.write(f"  {done} account(s) done"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Expired {result.points} point(s) from {result.lots} lot(s) in {result.accounts} account(s)."
            )
        )
