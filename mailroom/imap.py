"""Reading an IMAP mailbox into the request inbox (issue 12).

The standard library's imaplib does all this needs (UID FETCH with
BODY.PEEK[], STORE, MOVE), so no IMAP library is added. For each message
not yet done: its bytes are fetched without marking it read, stored and
processed (mailroom.services.mail_ingest, committed with its batch), then marked
on the server — moved into the "done" folder when one is configured, else
flagged \\Seen. A crash between the commit and the mark means the message
is fetched again next time, which the intake recognises (Message-ID or
content hash) and does not process twice; a crash before the commit
leaves the message untouched on the server.

The sizes (RFC822.SIZE) are asked first: a message larger than
settings.MAIL_MAX_BYTES is not fetched, only its header section, which is
kept in quarantine for staff (mailroom.services.mail_too_large); the
message is flagged \\Seen and left in the folder — not moved to the done
folder — where an admin finds it."""

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from mail.models import InboundEmail
from mailroom.services import mail_ingest, mail_ingest_batches, mail_too_large

TIMEOUT_S = 60
# Of a message too large to take in, at most this much of its header
# section is kept (headers alone can be made huge, too).
HEADERS_MAX_BYTES = 256 * 1024


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
        uids = [u.decode() for u in _ok(client.uid("SEARCH", None, criteria))[0].split()[:limit]]
        sizes = _sizes(client, uids)
        too_large = set()

        def store(uid: str) -> InboundEmail | None:
            if uid not in sizes:  # expunged by another client meanwhile
                return None
            if sizes[uid] > settings.MAIL_MAX_BYTES:
                headers = _literal(
                    _ok(client.uid("FETCH", uid, f"(BODY.PEEK[HEADER]<0.{HEADERS_MAX_BYTES}>)"))
                )
                if headers is None:
                    return None
                too_large.add(uid)
                return mail_too_large(
                    headers=headers,
                    size=sizes[uid],
                    mailbox=box.name,
                    where=f"left in the mailbox {box.name}, folder {box.folder}, UID {uid}",
                )
            raw = _literal(_ok(client.uid("FETCH", uid, "(BODY.PEEK[])")))
            if raw is None:  # expunged by another client meanwhile
                return None
            return mail_ingest(raw=raw, mailbox=box.name)

        # Marked (or moved) only once their batch is committed.
        for batch in mail_ingest_batches(uids, process=store):
            for uid, email in batch:
                if box.done_folder and uid not in too_large:
                    _move(client, uid, box.done_folder)
                else:
                    # A message too large is flagged, never moved: the
                    # admin looks for it where it came.
                    _ok(client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)"))
                yield uid, email
    finally:
        # The work is committed; a lost goodbye changes nothing.
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _literal(data: list) -> bytes | None:
    """The bytes of a FETCH answer's one literal; None when the message
    is gone."""
    return next((part[1] for part in data if isinstance(part, tuple) and len(part) > 1), None)


def _sizes(client: imaplib.IMAP4, uids: list[str]) -> dict[str, int]:
    """Each message's size in octets (RFC822.SIZE), in one command; a
    message expunged meanwhile is missing."""
    if not uids:
        return {}
    sizes = {}
    for item in _ok(client.uid("FETCH", ",".join(uids), "(RFC822.SIZE)")):
        line = item[0] if isinstance(item, tuple) else item
        uid = re.search(rb"\bUID (\d+)", line or b"")
        size = re.search(rb"\bRFC822\.SIZE (\d+)", line or b"")
        if uid and size:
            sizes[uid.group(1).decode()] = int(size.group(1))
    return sizes


def _move(client: imaplib.IMAP4, uid: str, folder: str) -> None:
    capabilities = " ".join(c.decode() if isinstance(c, bytes) else c for c in client.capabilities)
    if re.search(r"\bMOVE\b", capabilities):
        _ok(client.uid("MOVE", uid, _quoted(folder)))
        return
    _ok(client.uid("COPY", uid, _quoted(folder)))
    _ok(client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"))
    client.expunge()
