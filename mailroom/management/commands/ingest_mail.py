"""One message on standard input, as a mail server's pipe delivers it:

    | /srv/genoportal/.venv/bin/python manage.py ingest_mail --mailbox service

Exit 0 when the message is stored (also when it could not be read: it is
kept for staff in quarantine), 75 (EX_TEMPFAIL) when it could not be
stored, so the mail server keeps it and tries again."""

import sys

from django.core.management.base import BaseCommand

from mailroom.services import mail_ingest

EX_TEMPFAIL = 75
MAX_BYTES = 50 * 1024 * 1024  # beyond any message a mail server accepts


class Command(BaseCommand):
    help = "Read one e-mail message (RFC 822) on standard input into the request inbox."

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", default="pipe", help="name shown to staff")

    def handle(self, *args, mailbox: str, **options):
        raw = sys.stdin.buffer.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            self.stderr.write("message too large")
            sys.exit(EX_TEMPFAIL)
        try:
            email = mail_ingest(raw=raw, mailbox=mailbox)
        except Exception as error:  # stored nothing: the mail server retries
            self.stderr.write(f"not stored, try again: {error!r}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"{email.status} {email.ticket_reference}".strip())
