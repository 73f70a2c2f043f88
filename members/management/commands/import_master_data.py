import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from members.importer import ENCODINGS, MasterDataInvalid, Source, master_data_import

ENTITIES = {
    "estates": gettext_lazy("estates"),
    "buildings": gettext_lazy("buildings"),
    "units": gettext_lazy("units"),
    "members": gettext_lazy("members"),
    "shareholdings": gettext_lazy("shareholdings"),
    "contracts": gettext_lazy("contracts"),
    "household links": gettext_lazy("household links"),
    "share movements": gettext_lazy("share movements"),
}


def _members_with_account(member_ids):
    return User.objects.filter(member_id__in=member_ids).values_list("member_id", flat=True)


class Command(BaseCommand):
    help = (
        "Import estates, buildings, units, members, shares, contracts and the share ledger "
        "from the ERP's "
        "CSV exports (layout: docs/import.md). Validates everything first; on any error "
        "nothing is imported. Re-running updates by number and never duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("--units", metavar="FILE", help="Wohnungen export (units)")
        parser.add_argument("--members", metavar="FILE", help="Mitglieder export (members)")
        parser.add_argument(
            "--contracts", metavar="FILE", help="Nutzungsverträge export (contracts)"
        )
        parser.add_argument(
            "--share-ledger",
            metavar="FILE",
            help="Geschäftsguthaben export (bookings on the members' shares)",
        )
        parser.add_argument(
            "--encoding",
            choices=ENCODINGS,
            default="auto",
            help="auto (default): UTF-8 if the file is valid UTF-8, else Windows-1252",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="validate and report what would change, without changing anything",
        )

    def handle(self, *args, units, members, contracts, share_ledger, encoding, dry_run, **options):
        paths = {
            "units": units,
            "members": members,
            "contracts": contracts,
            "share_ledger": share_ledger,
        }
        if not any(paths.values()):
            raise CommandError(
                _("Give at least one of --units, --members, --contracts, --share-ledger.")
            )
        sources = {kind: self._read(path) for kind, path in paths.items() if path}
        try:
            result = master_data_import(
                **sources,
                encoding=encoding,
                dry_run=dry_run,
                progress=self._progress(),
                members_with_account=_members_with_account,
            )
        except MasterDataInvalid as invalid:
            for issue in invalid.issues:
                self.stderr.write(str(issue))
            raise CommandError(
                ngettext(
                    "%(count)d problem found; nothing was imported.",
                    "%(count)d problems found; nothing was imported.",
                    len(invalid.issues),
                )
                % {"count": len(invalid.issues)}
            ) from None

        header = (_("created"), _("updated"), _("unchanged"), _("deleted"))
        width = max(len(str(label)) for label in ENTITIES.values())
        self.stdout.write(f"{'':<{width}}  " + "  ".join(f"{h:>9}" for h in header))
        for key, counts in result.counts.items():
            figures = (counts.created, counts.updated, counts.unchanged, counts.deleted)
            self.stdout.write(
                f"{ENTITIES[key]!s:<{width}}  " + "  ".join(f"{n:>9}" for n in figures)
            )
        if dry_run:
            self.stdout.write(self.style.WARNING(_("Dry run: nothing was changed.")))
        else:
            self.stdout.write(self.style.SUCCESS(_("Import complete.")))

    def _read(self, path: str) -> Source:
        try:
            return Source(name=Path(path).name, data=Path(path).read_bytes())
        except OSError as exc:
            raise CommandError(
                _("%(file)s: cannot be read: %(reason)s")
                % {"file": path, "reason": exc.strerror or exc}
            ) from None

    def _progress(self):
        # Only for a person at a terminal: logs, tests and CI stay clean.
        if not sys.stderr.isatty() or not self.stderr.isatty():
            return None
        from tqdm import tqdm

        def bar(description: str, total: int):
            label = ENTITIES.get(description, description)
            return tqdm(
                total=total,
                desc=str(label),
                unit=_("rows"),
                leave=False,
                file=sys.stderr,
                disable=total == 0,  # nothing to write: no empty bar flashing by
            )

        return bar
