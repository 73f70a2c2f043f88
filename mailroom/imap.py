"""Reading an IMAP mailbox into the request inbox (issue 12).

The standard library's imaplib does all this needs (UID FETCH with
BODY.PEEK[], STORE, MOVE), so no IMAP library is added. For each message
not yet done: its bytes are fetched without marking it read, stored and
processed (mailroom.services.mail_ingest, committed), and only then marked
on the server — moved into the "done" folder when one is configured, else
flagged \\Seen. A crash between the commit and the mark means the message
is fetched again next time, which the intake recognises (Message-ID or
content hash) and does not process twice; a crash before the commit
leaves the message untouched on the server."""

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

from mail.models import InboundEmail
from mailroom.services import mail_ingest

TIMEOUT_S = 60


@dataclass(frozen=True)
class ImapMailbox:
    name: str  # shown to staff
    host: str
    port: int
    user: str
    password: str
    security: str = "ssl"  # "ssl" (IMAPS, 993) or "starttls" (143)
    folder: str = "INBOX"
    done_folder: str = ""  # move processed messages here; empty: flag them \Seen
    cafile: str = ""  # a CA to trust besides the system's (a private server)
    verify: bool = True  # off only for tests against a throwaway certificate


def _context(box: ImapMailbox) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=box.cafile or None)
    if not box.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def connect(box: ImapMailbox) -> imaplib.IMAP4:
    if box.security == "ssl":
        client = imaplib.IMAP4_SSL(box.host, box.port, ssl_context=_context(box), timeout=TIMEOUT_S)
    elif box.security == "starttls":
        client = imaplib.IMAP4(box.host, box.port, timeout=TIMEOUT_S)
        client.starttls(ssl_context=_context(box))
    else:
        raise ValueError(f"unknown security {box.security!r}: ssl or starttls")
    client.login(box.user, box.password)
    return client


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(answer) -> list:
    status, data = answer
    if status != "OK":
        raise imaplib.IMAP4.error(f"{status} {data!r}")
    return data


def fetch_imap(box: ImapMailbox, *, limit: int = 500) -> Iterator[tuple[str, InboundEmail]]:
    """Process the mailbox's messages that are not done yet; yields each
    one's UID and row as it is done."""
    client = connect(box)
    try:
        _ok(client.select(_quoted(box.folder)))
        if box.done_folder:
            client.create(_quoted(box.done_folder))  # "already exists" is fine
            criteria = "ALL"  # what is still in the folder is not done
        else:
            criteria = "UNSEEN"
        uids = _ok(client.uid("SEARCH", None, criteria))[0].split()[:limit]
        for uid in (u.decode() for u in uids):
            data = _ok(client.uid("FETCH", uid, "(BODY.PEEK[])"))
            raw = next(
                (part[1] for part in data if isinstance(part, tuple) and len(part) > 1), None
            )
            if raw is None:  # expunged by another client meanwhile
                continue
            email = mail_ingest(raw=raw, mailbox=box.name)
            if box.done_folder:
                _move(client, uid, box.done_folder)
            else:
                _ok(client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)"))
            yield uid, email
    finally:
        # The work is committed; a lost goodbye changes nothing.
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _move(client: imaplib.IMAP4, uid: str, folder: str) -> None:
    capabilities = " ".join(c.decode() if isinstance(c, bytes) else c for c in client.capabilities)
    if re.search(r"\bMOVE\b", capabilities):
        _ok(client.uid("MOVE", uid, _quoted(folder)))
        return
    _ok(client.uid("COPY", uid, _quoted(folder)))
    _ok(client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"))
    client.expunge()
