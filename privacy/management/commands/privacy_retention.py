from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from privacy.retention import privacy_retention


class Command(BaseCommand):
    help = (
        "Anonymise the requests, messages, files, appointment notes and accounts of former "
        "members once GENOPORTAL_PRIVACY_RETENTION_YEARS have passed since a request was "
        "closed (the member's entry in the members' list is kept: GenG § 30). Idempotent: a "
        "second run changes nothing. Prints counts only, never whose data it was."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be anonymised; change nothing.",
        )
        parser.add_argument(
            "--years",
            type=int,
            default=None,
            help="Years after closure (default: GENOPORTAL_PRIVACY_RETENTION_YEARS).",
        )

    def handle(self, *args, **options):
        years = options["years"]
        if years is not None and years < 1:
            raise CommandError("--years must be at least 1.")
        report = privacy_retention(years=years, dry_run=options["dry_run"])
        years = settings.PRIVACY_RETENTION_YEARS if years is None else years
        prefix = "would anonymise" if options["dry_run"] else "anonymised"
        counts = ", ".join(
            f"{key.replace('_', ' ')}: {value}" for key, value in report.as_dict().items()
        )
        self.stdout.write(f"{prefix} ({years} years after closure): {counts}")
