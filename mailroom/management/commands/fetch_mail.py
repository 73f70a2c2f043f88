"""Read new messages into the request inbox, from the IMAP mailboxes in
the settings (GENOPORTAL_MAILBOXES, see the README), or from one named on
the command line, or from a local Maildir folder (the demo, or a mail
server that delivers into one):

    manage.py fetch_mail                      # every configured mailbox
    manage.py fetch_mail --imap-host mail.example.org --imap-user service \
        --imap-password-env SERVICE_IMAP_PASSWORD [--starttls] [--done-folder Erledigt]
    manage.py fetch_mail --maildir var/mailroom/inbox

IMAP: see mailroom.imap (fetched without marking, stored, then marked).
Maildir:
Each message in new/ (and each one in cur/ without the "seen" flag) is
stored and processed (mailroom.services.mail_ingest, committed with its
batch: mail_ingest_batches), then marked as seen by renaming it into cur/ with the "S" flag, as mail
programs do — in that order, so a crash in between only means it is read
again, which the intake recognises (Message-ID or content hash) and does
not process twice. The bytes of the file are never rewritten. A file
larger than settings.MAIL_MAX_BYTES is not read: its headers are kept in
quarantine for staff (mailroom.services.mail_too_large) and the file is
marked seen and left where it is, for an admin to fetch by hand. IMAP
and Maildir share the one intake path (mailroom.services.mail_ingest).
A timer runs it every minute (README: systemd timer or cron line)."""

import contextlib
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mail.models import InboundEmail
from mailroom.imap import HEADERS_MAX_BYTES, ImapMailbox, fetch_imap
from mailroom.services import mail_ingest, mail_ingest_batches, mail_too_large


def unseen(folder: Path) -> list[Path]:
    """The messages not marked seen, oldest first (Maildir names start
    with the delivery time)."""
    found = [p for p in (folder / "new").iterdir() if not p.name.startswith(".")]
    for path in (folder / "cur").iterdir():
        flags = path.name.rsplit(":2,", 1)[1] if ":2," in path.name else ""
        if not path.name.startswith(".") and "S" not in flags:
            found.append(path)
    return sorted(found, key=lambda p: p.name)


def seen_path(folder: Path, path: Path) -> Path:
    """Where mark_seen puts a message: cur/, with the "seen" flag."""
    name, _, flags = path.name.partition(":2,")
    flags = "".join(sorted(set(flags) | {"S"}))
    return folder / "cur" / f"{name}:2,{flags}"


def mark_seen(folder: Path, path: Path) -> None:
    os.replace(path, seen_path(folder, path))


def read_headers(path: Path) -> bytes:
    """The header section of a message file, at most HEADERS_MAX_BYTES of
    it (a message made of headers alone must not be read whole either)."""
    with path.open("rb") as file:
        head = file.read(HEADERS_MAX_BYTES)
    end = min(
        (head.find(blank) + len(blank) for blank in (b"\r\n\r\n", b"\n\n") if blank in head),
        default=len(head),
    )
    return head[:end]


class Command(BaseCommand):
    help = "Process new messages of the configured IMAP mailboxes (or of a Maildir folder)."

    def add_arguments(self, parser):
        parser.add_argument("--maildir", help="path of a Maildir folder")
        parser.add_argument("--mailbox", default="", help="name shown to staff")
        parser.add_argument("--imap-host")
        parser.add_argument("--imap-port", type=int)
        parser.add_argument("--imap-user")
        parser.add_argument(
            "--imap-password-env",
            default="GENOPORTAL_IMAP_PASSWORD",
            help="the environment variable that holds the password",
        )
        parser.add_argument("--starttls", action="store_true", help="port 143 with STARTTLS")
        parser.add_argument("--folder", default="INBOX")
        parser.add_argument("--done-folder", default="", help="move processed messages here")
        parser.add_argument("--cafile", default="", help="a CA certificate to trust")
        parser.add_argument("--limit", type=int, default=500, help="at most this many per box")

    def handle(self, *args, **options):
        if options["maildir"]:
            self._maildir(Path(options["maildir"]), options["mailbox"], options["limit"])
            return
        if options["imap_host"]:
            boxes = [self._box_from(options)]
        else:
            boxes = [ImapMailbox(**box) for box in settings.MAILROOM_MAILBOXES]
        if not boxes:
            raise CommandError(
                "no mailbox: set GENOPORTAL_MAILBOXES, or give --imap-host or --maildir"
            )
        for box in boxes:
            done = 0
            for uid, email in fetch_imap(box, limit=options["limit"]):
                done += 1
                self.stdout.write(f"{box.name} {uid}: {email.status} {email.ticket_reference}")
            self.stdout.write(f"{box.name}: {done} message(s) processed")

    def _box_from(self, options) -> ImapMailbox:
        password = os.environ.get(options["imap_password_env"], "")
        if not options["imap_user"] or not password:
            raise CommandError(
                f"--imap-user and the password in ${options['imap_password_env']} are needed"
            )
        security = "starttls" if options["starttls"] else "ssl"
        return ImapMailbox(
            name=options["mailbox"] or f"{options['imap_user']}@{options['imap_host']}",
            host=options["imap_host"],
            port=options["imap_port"] or (143 if security == "starttls" else 993),
            user=options["imap_user"],
            password=password,
            security=security,
            folder=options["folder"],
            done_folder=options["done_folder"],
            cafile=options["cafile"],
        )

    def _maildir(self, folder: Path, mailbox: str, limit: int) -> None:
        if not (folder / "new").is_dir() or not (folder / "cur").is_dir():
            raise CommandError(f"{folder} is not a Maildir folder (no new/ and cur/)")
        name = mailbox or folder.name

        def store(path: Path) -> InboundEmail | None:
            try:
                size = path.stat().st_size
                if size > settings.MAIL_MAX_BYTES:
                    return mail_too_large(
                        headers=read_headers(path),
                        size=size,
                        mailbox=name,
                        where=f"left in the mailbox {name}: {seen_path(folder, path)}",
                    )
                raw = path.read_bytes()
            except FileNotFoundError:  # taken by another run meanwhile
                return None
            return mail_ingest(raw=raw, mailbox=name)

        done = 0
        # Marked seen only once their batch is committed (mail_ingest_batches).
        for batch in mail_ingest_batches(unseen(folder)[:limit], process=store):
            for path, email in batch:
                with contextlib.suppress(FileNotFoundError):
                    mark_seen(folder, path)
                done += 1
                self.stdout.write(f"{path.name}: {email.status} {email.ticket_reference}".rstrip())
        self.stdout.write(f"{done} message(s) processed")
