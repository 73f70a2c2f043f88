"""One message on standard input, as a mail server's pipe delivers it:

    | /srv/genoportal/.venv/bin/python manage.py ingest_mail --mailbox service

Exit 0 when the message is stored (also when it could not be read: it is
kept for staff in quarantine), 75 (EX_TEMPFAIL) when it could not be
stored, so the mail server keeps it and tries again, and 65 (EX_DATAERR)
when it is larger than settings.MAIL_MAX_BYTES: a permanent refusal, so
the mail server bounces it and the sender learns that it did not arrive."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from mailroom.services import mail_ingest

EX_DATAERR = 65
EX_TEMPFAIL = 75
CHUNK = 1024 * 1024


class Command(BaseCommand):
    help = "Read one e-mail message (RFC 822) on standard input into the request inbox."

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", default="pipe", help="name shown to staff")

    def handle(self, *args, mailbox: str, **options):
        limit = settings.MAIL_MAX_BYTES
        raw = sys.stdin.buffer.read(limit + 1)
        if len(raw) > limit:
            self._refuse_too_large(read=len(raw), limit=limit)
        try:
            email = mail_ingest(raw=raw, mailbox=mailbox)
        except Exception as error:  # stored nothing: the mail server retries
            self.stderr.write(f"not stored, try again: {error!r}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"{email.status} {email.ticket_reference}".strip())

    def _refuse_too_large(self, *, read: int, limit: int) -> None:
        # Not EX_TEMPFAIL: the mail server would retry for days and the
        # sender would never hear of it. Postfix (pipe(8), local(8)) bounces
        # on EX_DATAERR, and an enhanced status code at the start of the
        # output takes precedence over the exit status's 5.6.0, so the bounce
        # says 5.3.4 "message too big". The rest is read and dropped, a chunk
        # at a time, so the server sees our exit status, not a broken pipe.
        size = read
        while chunk := sys.stdin.buffer.read(CHUNK):
            size += len(chunk)
        self.stderr.write(
            f"5.3.4 message too large: {size} bytes, this mailbox takes at most {limit} bytes"
        )
        sys.exit(EX_DATAERR)
