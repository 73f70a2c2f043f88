from django.core.management.base import BaseCommand
from django.utils import timezone

from tickets.escalation import escalate


class Command(BaseCommand):
    help = (
        "Warn handlers and tell team leads about SLA deadlines. Idempotent: run it every "
        "minute from a timer (cron, systemd); a second run changes nothing."
    )

    def handle(self, *args, **options):
        counts = escalate(now=timezone.now())
        if options["verbosity"] >= 1:
            self.stdout.write(", ".join(f"{step}: {n}" for step, n in counts.items()))
