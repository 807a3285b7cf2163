from django.core.management.base import BaseCommand, CommandError

from loyalty.conf import loyalty_settings
from loyalty.exceptions import LoyaltyError
from loyalty.selectors.arbitrage import round_trips
from loyalty.services import refresh_exchange_rates


class Command(BaseCommand):
    help = (
        "Fetch exchange rates through LOYALTY['EXCHANGE_BACKEND'] into the rate history, then report any "
        "pair of markets whose round trip now breaks the arbitrage ceiling."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Fetching rates through {loyalty_settings.EXCHANGE_BACKEND}...")
        try:
            count = refresh_exchange_rates()
        except (LoyaltyError, OSError, ValueError) as error:
            raise CommandError(f"Could not fetch exchange rates: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(f"Recorded {count} rate(s) against {loyalty_settings.BASE_CURRENCY}.")
        )
        broken = [trip for trip in round_trips() if trip.breaks_ceiling]
        for trip in broken:
            self.stderr.write(
                f"  ARBITRAGE earn in {trip.earn_market} ({trip.currency}), redeem in {trip.redeem_market}: "
                f"{trip.ratio} > {trip.ceiling}"
            )
        if broken:
            raise CommandError(f"{len(broken)} round trip(s) break the arbitrage ceiling.", returncode=2)
