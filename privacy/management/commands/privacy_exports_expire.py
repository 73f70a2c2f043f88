from django.conf import settings
from django.core.management.base import BaseCommand

from privacy.services import data_exports_expire


class Command(BaseCommand):
    help = (
        "Delete the files of members' data exports older than "
        "GENOPORTAL_PRIVACY_EXPORT_EXPIRY_DAYS, mark preparations whose worker stopped as "
        "failed, and enqueue requests whose task was lost. Idempotent: run it from a timer "
        "(e.g. every minute with drafts_expire)."
    )

    def handle(self, *args, **options):
        report = data_exports_expire()
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"data exports expired: {report.expired} (after "
                f"{settings.PRIVACY_EXPORT_EXPIRY_DAYS} days); stopped preparations marked "
                f"failed: {report.stopped}; lost requests enqueued again: {report.requeued}"
            )
