"""E-mail that arrives (issue 12, mailroom): a new request from a member or
a stranger, a reply that joins its request (by the reference in the
subject or a Message-ID we sent), bounces and automatic replies that make
nothing, attachments checked like web uploads, and reading the same
message twice — or crashing half-way — never making a second request."""

import io
import sys
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from mail.models import BouncingAddress, InboundEmail, OutboundEmail
from mailroom.services import INTAKE_EMAIL, mail_ingest
from tests.factories import jpeg, mail
from tickets import services
from tickets.models import Channel, Status, Ticket, TicketEvent
from tickets.services import ticket_reply

pytestmark = pytest.mark.django_db

Outcome = InboundEmail.Status
# Statements for a new request by mail (alice, no routing rules): 41 before
# issue 12's speed work. More means a lookup per message crept back in.
MAX_STATEMENTS = 30


# A new request -------------------------------------------------------------------------


def test_a_members_mail_becomes_her_request_in_the_one_inbox(cast):
    email = mail_ingest(raw=mail(), mailbox="service")
    assert email.status == Outcome.TICKET
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    assert ticket.member == cast.alice.member and ticket.channel == Channel.EMAIL
    assert ticket.created_by == cast.alice
    assert ticket.request_type.category == "general"
    assert "Heizung im Bad" in ticket.answers_text()
    assert "nicht warm" in ticket.answers_text()
    opened = ticket.events.get(kind=TicketEvent.Kind.OPENED)
    assert opened.email == email
    assert bytes(email.raw) == mail() and email.sender == "alice@example.org"
    # She sees it in the portal like any request, and got a confirmation
    # that a reply to will join it.
    assert Ticket.objects.visible_to_member(cast.alice.member).filter(pk=ticket.pk).exists()
    sent = OutboundEmail.objects.get(to="alice@example.org", thread=ticket.reference)
    assert ticket.reference in sent.subject


def test_a_new_request_by_mail_takes_a_bounded_number_of_statements(cast):
    # The intake's speed (issue 12: 50 messages a second) is mostly its SQL
    # statements. One message is one request-cache scope: the cooperative
    # and the form's fields are read once, not once per use.
    with CaptureQueriesContext(connection) as captured:
        email = mail_ingest(raw=mail(), mailbox="service")
    assert email.status == Outcome.TICKET
    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) <= MAX_STATEMENTS, "\n".join(statements)
    assert sum('FROM "cooperative_cooperative"' in q for q in statements) == 1
    assert sum('FROM "tickets_requestfield"' in q for q in statements) == 1


def test_a_strangers_mail_goes_to_triage_without_member_data(cast):
    email = mail_ingest(
        raw=mail(sender="Erika Nachbar <erika@web.example>", message_id="<x@web.example>"),
        mailbox="service",
    )
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    assert ticket.member is None and ticket.team is None and ticket.assignee is None
    assert ticket.contact_email == "erika@web.example" and ticket.contact_name == "Erika Nachbar"
    assert ticket.created_by.email == INTAKE_EMAIL and not ticket.created_by.is_active
    assert ticket.routing_reason["how"] == "not_member"


def test_an_address_two_members_share_links_neither(cast):
    cast.dave.member.email = "familie@example.org"
    cast.dave.member.save()
    cast.bob.member.email = "familie@example.org"
    cast.bob.member.save()
    cast.bob.email = "bob@example.org"
    email = mail_ingest(raw=mail(sender="familie@example.org"), mailbox="service")
    assert Ticket.objects.get(reference=email.ticket_reference).member is None


def test_spam_goes_to_triage_and_gets_no_confirmation(cast):
    email = mail_ingest(raw=mail(X_Spam_Flag="YES"), mailbox="service")
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    assert email.spam and ticket.member is None and ticket.contact_email == ""
    assert not OutboundEmail.objects.filter(thread=ticket.reference).exists()


# The same message twice, and a crash half-way ----------------------------------------------


def test_the_same_message_twice_makes_one_request(cast):
    first = mail_ingest(raw=mail(), mailbox="service")
    again = mail_ingest(raw=mail(), mailbox="service")
    # Delivered again through another server: other bytes, same Message-ID.
    relayed = mail_ingest(raw=b"Received: from relay\r\n" + mail(), mailbox="other")
    assert first.pk == again.pk == relayed.pk
    assert Ticket.objects.filter(channel=Channel.EMAIL).count() == 1


def test_without_a_message_id_the_bytes_identify_it(cast):
    raw = mail(message_id="")
    assert mail_ingest(raw=raw, mailbox="s").pk == mail_ingest(raw=raw, mailbox="s").pk
    assert Ticket.objects.filter(channel=Channel.EMAIL).count() == 1


def test_a_crash_half_way_leaves_nothing_and_the_message_is_read_again(cast, monkeypatch):
    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services, "_attachments_store", broken)
    with pytest.raises(OSError):
        mail_ingest(raw=mail(attachments=[("bad.jpg", jpeg(), "image/jpeg")]), mailbox="s")
    assert not InboundEmail.objects.exists() and not Ticket.objects.exists()
    monkeypatch.undo()
    email = mail_ingest(raw=mail(attachments=[("bad.jpg", jpeg(), "image/jpeg")]), mailbox="s")
    assert email.status == Outcome.TICKET
    assert Ticket.objects.get().attachments.count() == 1


# Replies -------------------------------------------------------------------------------------


@pytest.fixture
def asked(cast):
    """Alice's request by mail, and the handler's question to her."""
    email = mail_ingest(raw=mail(), mailbox="service")
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    ticket_reply(
        ticket=ticket,
        actor=cast.hanna,
        body="Seit wann ist das so?",
        expected_version=ticket.version,
        public=True,
        ask_member=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING
    return ticket


REPLY = (
    "Seit Montag.\n\nGrüße\nAlice\n\n"
    "Am 12.03.2026 um 09:14 schrieb Wohnungsgenossenschaft <service@genossenschaft.example>:\n"
    "> Seit wann ist das so?\n"
)


@pytest.mark.parametrize("subject", ["AW: [{ref}] Ihr Anliegen", "Re: WG: Anliegen {ref}"])
def test_a_reply_with_the_reference_joins_the_request(cast, asked, subject):
    email = mail_ingest(
        raw=mail(subject=subject.format(ref=asked.reference), body=REPLY, message_id="<r1@x>"),
        mailbox="service",
    )
    assert email.status == Outcome.REPLY and email.ticket_reference == asked.reference
    asked.refresh_from_db()
    assert asked.status == Status.IN_PROGRESS  # back with the handler
    reply = asked.events.get(kind=TicketEvent.Kind.MEMBER_REPLY)
    assert reply.body == "Seit Montag.\n\nGrüße\nAlice"  # quote and its header stripped
    assert reply.email == email and "Seit wann" in bytes(email.raw).decode()
    assert Ticket.objects.count() == 1


def test_a_reply_to_our_message_joins_by_its_message_id(cast, asked):
    ours = OutboundEmail.objects.filter(thread=asked.reference).latest("pk")
    email = mail_ingest(
        raw=mail(subject="Antwort", body="Seit Montag.", message_id="<r2@x>",
                 In_Reply_To=ours.message_id(), References=f"<a@b> {ours.message_id()}"),
        mailbox="service",
    )  # fmt: skip
    assert email.status == Outcome.REPLY and email.ticket_reference == asked.reference


def test_a_made_up_message_id_joins_nothing(cast, asked):
    ours = OutboundEmail.objects.filter(thread=asked.reference).latest("pk")
    forged = ours.message_id().replace("outbox-", "outbox-9")
    email = mail_ingest(
        raw=mail(subject="Antwort", In_Reply_To=forged, message_id="<r3@x>"), mailbox="s"
    )
    assert email.status == Outcome.TICKET and email.ticket_reference != asked.reference


def test_someone_else_quoting_a_reference_gets_a_request_of_their_own(cast, asked):
    email = mail_ingest(
        raw=mail(sender="dave@example.org", subject=f"AW: [{asked.reference}]", message_id="<d@x>"),
        mailbox="service",
    )
    assert email.status == Outcome.TICKET
    theirs = Ticket.objects.get(reference=email.ticket_reference)
    assert theirs.member == cast.dave.member
    assert not asked.events.filter(kind=TicketEvent.Kind.MEMBER_REPLY).exists()
    assert not theirs.related.exists()


def test_a_strangers_follow_up_joins_the_request_their_address_opened(cast):
    first = mail_ingest(
        raw=mail(sender="erika@web.example", message_id="<e1@web.example>"), mailbox="s"
    )
    reply = mail_ingest(
        raw=mail(sender="Erika@Web.example", subject=f"AW: [{first.ticket_reference}] Ihr Anliegen",
                 body="Noch eine Frage.", message_id="<e2@web.example>"),
        mailbox="s",
    )  # fmt: skip
    assert reply.status == Outcome.REPLY and reply.ticket_reference == first.ticket_reference
    # Another stranger quoting the same reference does not join it.
    other = mail_ingest(
        raw=mail(sender="max@web.example", subject=f"AW: [{first.ticket_reference}]",
                 message_id="<m1@web.example>"),
        mailbox="s",
    )  # fmt: skip
    assert other.status == Outcome.TICKET and other.ticket_reference != first.ticket_reference


def test_a_reply_reopens_a_resolved_request_and_after_closing_opens_a_linked_one(cast, asked):
    Ticket.objects.filter(pk=asked.pk).update(status=Status.RESOLVED, resolved_at=asked.created_at)
    subject = f"AW: [{asked.reference}] Ihr Anliegen"
    email = mail_ingest(raw=mail(subject=subject, message_id="<o1@x>"), mailbox="s")
    asked.refresh_from_db()
    assert email.status == Outcome.REPLY and asked.status == Status.IN_PROGRESS
    Ticket.objects.filter(pk=asked.pk).update(status=Status.CLOSED)
    email = mail_ingest(raw=mail(subject=subject, message_id="<o2@x>"), mailbox="s")
    assert email.status == Outcome.TICKET
    new = Ticket.objects.get(reference=email.ticket_reference)
    assert new.member == cast.alice.member and asked in new.related.all()


# Not a member's message ----------------------------------------------------------------------

DSN = (
    b"From: MAILER-DAEMON@mx.example.net\r\nTo: portal@example.org\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
    b"--r\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
    b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
    b"Final-Recipient: rfc822; alice@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    b"--r--\r\n"
)


def test_a_bounce_marks_the_address_and_makes_no_request(cast):
    email = mail_ingest(raw=DSN, mailbox="service")
    assert email.status == Outcome.BOUNCE
    assert BouncingAddress.objects.get().address == "alice@example.org"
    assert not Ticket.objects.exists() and not OutboundEmail.objects.exists()
    mail_ingest(raw=DSN.replace(b"dsn1", b"dsn2"), mailbox="service")
    assert BouncingAddress.objects.get().bounces == 2


@pytest.mark.parametrize(
    "headers",
    [{"Auto_Submitted": "auto-replied"}, {"X_Autoreply": "yes"}, {"Precedence": "bulk"},
     {"subject": "Abwesenheitsnotiz: Ihr Anliegen"}],
)  # fmt: skip
def test_an_automatic_reply_makes_nothing_and_gets_no_answer(cast, headers):
    email = mail_ingest(raw=mail(**headers), mailbox="service")
    assert email.status == Outcome.AUTO_REPLY
    assert not Ticket.objects.exists() and not OutboundEmail.objects.exists()


@override_settings(MAIL_SENDER_LIMIT_PER_HOUR=3)
def test_a_sender_writing_like_a_machine_is_kept_but_not_processed(cast):
    outcomes = [
        mail_ingest(raw=mail(message_id=f"<loop{n}@x>", body=f"Nachricht {n}"), mailbox="s").status
        for n in range(5)
    ]
    assert outcomes == [Outcome.TICKET] * 3 + [Outcome.IGNORED] * 2
    assert Ticket.objects.count() == 3 and InboundEmail.objects.count() == 5


def test_bytes_that_are_no_message_are_kept_in_quarantine(cast):
    email = mail_ingest(raw=b"\x00\x01 garbage", mailbox="service")
    assert email.status == Outcome.QUARANTINE and bytes(email.raw) == b"\x00\x01 garbage"
    assert mail_ingest(raw=b"\x00\x01 garbage", mailbox="service").pk == email.pk


# Attachments ---------------------------------------------------------------------------------


def test_attachments_pass_the_upload_checks_and_refused_ones_are_listed(cast):
    email = mail_ingest(
        raw=mail(attachments=[("Bad.jpg", jpeg(), "image/jpeg"),
                              ("rechnung.exe", b"MZ\x90\x00", "application/octet-stream")]),
        mailbox="service",
    )  # fmt: skip
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    assert [a.original_name for a in ticket.attachments.all()] == ["Bad.jpg"]
    note = ticket.events.get(kind=TicketEvent.Kind.NOTE)
    assert not note.public and "rechnung.exe" in note.body
    assert email.notes[-1]["kind"] == "refused"
    assert email.notes[-1]["files"][0]["name"] == "rechnung.exe"


# The commands --------------------------------------------------------------------------------


def test_ingest_mail_reads_a_message_on_standard_input(cast, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(mail())))
    call_command("ingest_mail", "--mailbox", "pipe")
    email = InboundEmail.objects.get()
    assert email.mailbox == "pipe" and email.status == Outcome.TICKET
    assert capsys.readouterr().out.strip() == f"ticket {email.ticket_reference}"


def test_fetch_mail_reads_a_maildir_once_and_marks_what_it_read(cast, tmp_path, capsys):
    for sub in ("new", "cur", "tmp"):
        (tmp_path / sub).mkdir()
    (tmp_path / "new" / "1700000001.M1P1.host").write_bytes(mail(message_id="<a@x>"))
    (tmp_path / "new" / "1700000002.M2P1.host").write_bytes(
        mail(message_id="<b@x>", sender="dave@example.org")
    )
    (tmp_path / "cur" / "1700000000.M0P1.host:2,S").write_bytes(mail(message_id="<old@x>"))
    call_command("fetch_mail", "--maildir", str(tmp_path))
    assert "2 message(s) processed" in capsys.readouterr().out
    assert InboundEmail.objects.count() == 2 and Ticket.objects.count() == 2
    assert sorted(p.name for p in (tmp_path / "cur").iterdir()) == [
        "1700000000.M0P1.host:2,S", "1700000001.M1P1.host:2,S", "1700000002.M2P1.host:2,S",
    ]  # fmt: skip
    assert not list((tmp_path / "new").iterdir())
    call_command("fetch_mail", "--maildir", str(tmp_path))
    assert "0 message(s) processed" in capsys.readouterr().out


def test_fetch_mail_after_a_crash_between_storing_and_marking(cast, tmp_path, capsys):
    for sub in ("new", "cur", "tmp"):
        (tmp_path / sub).mkdir()
    raw = mail(message_id="<c@x>")
    (tmp_path / "new" / "1700000003.M3P1.host").write_bytes(raw)
    mail_ingest(raw=raw, mailbox=tmp_path.name)  # stored, then the process died
    call_command("fetch_mail", "--maildir", str(tmp_path))
    assert Ticket.objects.count() == 1 and InboundEmail.objects.count() == 1
    assert [p.name for p in (tmp_path / "cur").iterdir()] == ["1700000003.M3P1.host:2,S"]


def test_a_colleagues_answer_by_email_is_an_internal_note_not_a_request(cast, asked):
    assert asked.team.has_member(cast.hanna)
    before = OutboundEmail.objects.count()
    email = mail_ingest(
        raw=mail(
            sender="Hanna Handler <HANNA@example.org>",
            subject=f"AW: [{asked.reference}] Neues Anliegen für Sie",
            body="Ich rufe sie morgen an.\n\n> Ein neues Anliegen wurde Ihnen zugewiesen.",
            message_id="<hanna-1@x>",
        ),
        mailbox="service",
    )
    assert email.status == Outcome.REPLY and email.ticket_reference == asked.reference
    note = asked.events.get(email=email)
    assert note.kind == TicketEvent.Kind.NOTE and not note.public
    assert note.actor == cast.hanna and note.body == "Ich rufe sie morgen an."
    assert Ticket.objects.count() == 1  # no stranger's request in triage
    assert OutboundEmail.objects.count() == before  # the member is not told


def test_staff_who_may_not_see_the_request_get_no_note_on_it(cast, asked):
    otto = User.objects.create_user("otto@example.org", "x" * 12, is_staff=True)
    assert not asked.team.has_member(otto)
    email = mail_ingest(
        raw=mail(
            sender="otto@example.org",
            subject=f"AW: [{asked.reference}] Ihr Anliegen",
            body="Das sollte hier nicht landen.",
            message_id="<otto-1@x>",
        ),
        mailbox="service",
    )
    assert email.status == Outcome.TICKET and email.ticket_reference != asked.reference
    assert not asked.events.filter(body__contains="nicht landen").exists()


def test_a_calendar_programs_answer_to_an_invite_makes_nothing(cast):
    # Outlook answers an appointment invite (RSVP=FALSE notwithstanding)
    # when the member deletes the entry: METHOD:REPLY, no request of hers.
    message = EmailMessage()
    message["From"] = "alice@example.org"
    message["To"] = "service@genossenschaft.example"
    message["Subject"] = "Abgelehnt: Termin: Vermietung"
    message["Message-ID"] = "<reply-ics@mail.example.org>"
    message.set_content("Alice Ahrens hat abgelehnt.")
    message.add_alternative(
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
        subtype="calendar",
        params={"method": "REPLY"},
    )
    email = mail_ingest(raw=message.as_bytes(), mailbox="service")
    assert email.status == Outcome.AUTO_REPLY
    assert not Ticket.objects.exists() and not OutboundEmail.objects.exists()
