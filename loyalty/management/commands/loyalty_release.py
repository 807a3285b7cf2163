from django.core.management.base import BaseCommand

from loyalty.services import release_pending_points


class Command(BaseCommand):
    help = "Release the pending points of orders whose return window has ended. Safe to run repeatedly."

    def handle(self, *args, **options):
        self.stdout.write("Releasing pending points...")
        released = release_pending_points(
            progress=lambda done: self.stdout.write(f"  {done} order(s) released")
        )
        self.stdout.write(self.style.SUCCESS(f"Released the points of {released} order(s)."))
