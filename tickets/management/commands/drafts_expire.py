from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from tickets.services import drafts_expire


class Command(BaseCommand):
    help = (
        "Delete request drafts (and their files) nobody changed for "
        "GENOPORTAL_DRAFT_EXPIRY_DAYS days. Idempotent: run it from a timer (cron, "
        "systemd), e.g. every minute with routing_escalate; a second run changes nothing."
    )

    def handle(self, *args, **options):
        count = drafts_expire(now=timezone.now())
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"drafts deleted: {count} (unchanged for {settings.DRAFT_EXPIRY_DAYS} days)"
            )
