from django.core.management.base import BaseCommand
from django.utils import timezone

from incidents.services import incidents_detect


class Command(BaseCommand):
    help = (
        "Look for clusters of similar requests from one building and propose incidents to "
        "the team leads; link new matching requests to open incidents. Idempotent: run it "
        "every minute from a timer (cron, systemd); a second run changes nothing."
    )

    def handle(self, *args, **options):
        counts = incidents_detect(now=timezone.now())
        if options["verbosity"] >= 1:
            self.stdout.write(", ".join(f"{step}: {n}" for step, n in counts.items()))
