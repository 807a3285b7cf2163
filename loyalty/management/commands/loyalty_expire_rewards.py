from django.core.management.base import BaseCommand

from loyalty.conf import loyalty_settings
from loyalty.services import expire_redemptions


class Command(BaseCommand):
    help = (
        "Expire redeemed rewards whose validity ended unused, returning their points or not as "
        "EXPIRED_REWARD_POLICY says. Safe to run repeatedly."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Expiring rewards (policy: {loyalty_settings.EXPIRED_REWARD_POLICY})...")
        count = expire_redemptions(progress=lambda done: self.stdout.write(f"  {done} reward(s) expired"))
        self.stdout.write(self.style.SUCCESS(f"Expired {count} reward(s)."))
