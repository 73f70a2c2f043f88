"""A message larger than settings.MAIL_MAX_BYTES (issue 12): piped in, it
is refused for good so the sender gets a bounce; found in a Maildir, it is
not read whole — its headers are kept in quarantine for staff and the file
stays where it is, marked seen. (The IMAP path: tests/test_mailroom_imap.py.)
The limit is lowered to 64 KiB here so the tests stay fast."""

import io
import os
import sys

import pytest
from django.core.management import call_command

from mail.models import InboundEmail
from mailroom.management.commands.ingest_mail import EX_DATAERR
from mailroom.services import mail_too_large
from tests.factories import mail
from tests.helpers import de
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

Outcome = InboundEmail.Status
LIMIT = 64 * 1024


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.MAIL_MAX_BYTES = LIMIT


def large(message_id: str = "<gross@example.org>") -> bytes:
    """A member's message with a scanned contract attached, over the limit."""
    return mail(
        subject="Mietvertrag eingescannt",
        message_id=message_id,
        attachments=[("vertrag.pdf", os.urandom(LIMIT), "application/pdf")],
    )


def maildir(tmp_path):
    for sub in ("new", "cur", "tmp"):
        (tmp_path / sub).mkdir()
    return tmp_path


def pipe(monkeypatch, raw: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    call_command("ingest_mail", "--mailbox", "pipe")


# Piped in by the mail server ---------------------------------------------------------


def test_it_refuses_a_piped_message_over_the_limit_for_good_and_stores_nothing(
    cast, monkeypatch, capsys
):
    raw = large()
    with pytest.raises(SystemExit) as exit:
        pipe(monkeypatch, raw)
    # 65 (EX_DATAERR), not 75 (EX_TEMPFAIL): Postfix bounces it to the
    # sender instead of retrying for days; the enhanced status code first.
    assert exit.value.code == EX_DATAERR == 65
    error = capsys.readouterr().err
    assert error.startswith("5.3.4 message too large:")
    assert f"{len(raw)} bytes" in error and f"at most {LIMIT} bytes" in error
    assert not InboundEmail.objects.exists() and not Ticket.objects.exists()


def test_it_takes_in_a_piped_message_of_exactly_the_limit(cast, monkeypatch, settings):
    raw = large()
    settings.MAIL_MAX_BYTES = len(raw)
    pipe(monkeypatch, raw)
    assert InboundEmail.objects.get().status == Outcome.TICKET
    settings.MAIL_MAX_BYTES = len(raw) - 1
    with pytest.raises(SystemExit) as exit:
        pipe(monkeypatch, large(message_id="<gross-2@example.org>"))
    assert exit.value.code == EX_DATAERR
    assert InboundEmail.objects.count() == 1


# Found in a Maildir -------------------------------------------------------------------


def test_it_keeps_only_the_headers_of_a_too_large_maildir_file_and_leaves_it_seen(
    cast, tmp_path, capsys
):
    folder = maildir(tmp_path)
    raw = large()
    (folder / "new" / "1700000001.M1P1.host").write_bytes(raw)
    (folder / "new" / "1700000002.M2P1.host").write_bytes(mail(message_id="<klein@x>"))
    call_command("fetch_mail", "--maildir", str(folder), "--mailbox", "service")
    assert "2 message(s) processed" in capsys.readouterr().out
    kept = InboundEmail.objects.get(status=Outcome.QUARANTINE)
    headers = raw[: raw.index(b"\n\n") + 2]
    assert bytes(kept.raw) == headers and kept.size == len(raw)
    assert kept.sender == "alice@example.org" and kept.subject == "Mietvertrag eingescannt"
    assert kept.message_id == "" and kept.ticket_reference == ""
    seen = folder / "cur" / "1700000001.M1P1.host:2,S"
    assert kept.notes == [
        {"kind": "too_large", "size": len(raw), "where": f"left in the mailbox service: {seen}"}
    ]
    # The original: still on disk, unchanged, marked seen.
    assert seen.read_bytes() == raw
    assert not list((folder / "new").iterdir())
    # The small one next to it became a request as always.
    assert InboundEmail.objects.get(message_id="klein@x").status == Outcome.TICKET
    assert Ticket.objects.count() == 1
    call_command("fetch_mail", "--maildir", str(folder), "--mailbox", "service")
    assert "0 message(s) processed" in capsys.readouterr().out
    assert InboundEmail.objects.count() == 2


def test_a_too_large_maildir_file_read_again_adds_no_second_row(cast, tmp_path, capsys):
    # Stored, then the process died before the file was marked seen (or
    # someone marked it unread again).
    folder = maildir(tmp_path)
    (folder / "new" / "1700000003.M3P1.host").write_bytes(large())
    call_command("fetch_mail", "--maildir", str(folder))
    seen = folder / "cur" / "1700000003.M3P1.host:2,S"
    os.replace(seen, folder / "new" / "1700000003.M3P1.host")
    call_command("fetch_mail", "--maildir", str(folder))
    assert "1 message(s) processed" in capsys.readouterr().out.splitlines()[-1]
    assert InboundEmail.objects.count() == 1 and seen.exists()


def test_it_never_reads_more_than_the_headers_of_a_file_made_of_headers(cast, tmp_path):
    folder = maildir(tmp_path)
    endless = b"From: alice@example.org\n" + b"X-Filler: " + b"x" * (1024 * 1024) + b"\n\nText\n"
    (folder / "new" / "1700000004.M4P1.host").write_bytes(endless)
    call_command("fetch_mail", "--maildir", str(folder))
    kept = InboundEmail.objects.get()
    assert kept.status == Outcome.QUARANTINE and kept.size == len(endless)
    assert len(kept.raw) == 256 * 1024


# The service and what staff see ----------------------------------------------------------


def test_mail_too_large_is_idempotent_and_keeps_a_size_beyond_the_column(cast):
    headers = b"From: alice@example.org\r\nSubject: Riesig\r\n\r\n"
    size = 5 * 1024**3  # more than the integer column holds on PostgreSQL
    first = mail_too_large(headers=headers, size=size, mailbox="service", where="left there")
    again = mail_too_large(headers=headers, size=size, mailbox="service", where="left there")
    assert first.pk == again.pk and InboundEmail.objects.count() == 1
    first.refresh_from_db()
    assert first.size == 2**31 - 1 and first.notes[0]["size"] == size
    # The same headers with another size are another message.
    mail_too_large(headers=headers, size=size + 1, mailbox="service", where="left there")
    assert InboundEmail.objects.count() == 2


def test_staff_read_why_a_message_was_not_taken_in_and_where_it_is(client, cast):
    email = mail_too_large(
        headers=b"From: alice@example.org\nSubject: Mietvertrag\n\n",
        size=30 * 1024 * 1024,
        mailbox="service",
        where="left in the mailbox service, folder INBOX, UID 17",
    )
    client.force_login(cast.hanna)
    listed = client.get("/bearbeitung/e-mail/?status=quarantine").content.decode()
    assert f"/bearbeitung/e-mail/{email.pk}/" in listed and "Mietvertrag" in listed
    detail = client.get(f"/bearbeitung/e-mail/{email.pk}/").content.decode()
    assert de("Too large to take in; the original is still in the mailbox") in detail
    assert "left in the mailbox service, folder INBOX, UID 17" in detail
    assert "30,0" in detail or "30.0" in detail  # 30 MB, in the page's language
    # The note's own keys never leak as a Python dict's items.
    assert "too_large" not in detail and "&#x27;kind&#x27;" not in detail
