"""The e-mail channel as staff work with it (issue 12): whose request a
message from an unknown address is (suggestions confirmed with one click,
never applied by themselves), the message as it came, the messages that
made no request, addresses mail does not reach, and the e-mails a request
sent."""

import re

import pytest
from django.core import mail as django_mail

from accounts.models import User
from audit.models import AccessLog
from mail.models import BouncingAddress, InboundEmail, OutboundEmail
from mailroom.services import mail_ingest
from members.models import Member
from members.selectors import members_mentioned
from tests.factories import mail
from tests.helpers import MOST, de, measured, otp_verify, repeated
from tickets.models import Status, Ticket, TicketEvent
from tickets.services import ticket_reply

pytestmark = pytest.mark.django_db

Outcome = InboundEmail.Status


def stranger_ticket(body: str, *, sender="Alice Ahrens <a.ahrens@gmx.example>", **kw) -> Ticket:
    email = mail_ingest(raw=mail(sender=sender, body=body, **kw), mailbox="service")
    assert email.status == Outcome.TICKET
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    assert ticket.member is None and ticket.team is None  # triage
    return ticket


def url(ticket: Ticket) -> str:
    return f"/bearbeitung/anliegen/{ticket.reference}/"


def confirm(client, ticket: Ticket, number: str):
    return client.post(
        url(ticket),
        {"action": "member", "member-version": ticket.version, "member-member_number": number},
    )


# Whose request is it? --------------------------------------------------------------


def test_a_member_number_in_the_text_is_suggested_and_confirmed_with_one_click(client, cast):
    ticket = stranger_ticket(
        "Guten Tag, meine Mitgliedsnummer ist 20001. Die Heizung ist kalt.",
        sender="heizung-kalt@web.example",
    )
    client.force_login(cast.hanna)
    body = client.get(url(ticket)).content.decode()
    assert de("Whose request is it?") in body
    assert "Alice Ahrens</strong> (20001)" in body and de("member number") in body
    # Nothing happened by itself: the address is still nobody's.
    assert Ticket.objects.get(pk=ticket.pk).member is None

    response = confirm(client, ticket, "20001")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.member == cast.alice.member
    assert ticket.unit is not None and ticket.team is not None  # routed by her building
    event = ticket.events.get(kind=TicketEvent.Kind.MEMBER)
    assert not event.public and event.actor == cast.hanna and event.data == {"member": "20001"}
    # From now on hers: in her portal, and mail goes to her address on
    # file — never to the address the message came from.
    assert Ticket.objects.visible_to_member(cast.alice.member).filter(pk=ticket.pk).exists()
    client.force_login(cast.hanna)
    ticket_reply(
        ticket=ticket,
        actor=cast.hanna,
        body="Wir kommen.",
        expected_version=ticket.version,
        public=True,
    )
    last = OutboundEmail.objects.filter(thread=ticket.reference).order_by("pk").last()
    assert last.to == "alice@example.org"
    assert not OutboundEmail.objects.filter(
        thread=ticket.reference, to="heizung-kalt@web.example", created_at__gt=event.created_at
    ).exists()


def test_the_senders_name_is_suggested_but_not_a_namesake_with_another_first_name(cast):
    found = members_mentioned(text="Die Tür klemmt.", name="Alice Ahrens")
    assert [(m.member.member_number, m.reasons) for m in found] == [("20001", ("name",))]


def test_an_address_suggests_who_lives_there_and_the_name_narrows_it(cast):
    alice = cast.alice.member
    residents = set(
        Member.objects.filter(
            contracts__unit__building=alice.contracts.get().unit.building,
            contracts__end__isnull=True,
        ).values_list("member_number", flat=True)
    )
    assert {"20001", "20002"} <= residents
    by_place = members_mentioned(text="Ich wohne Nordring 1 im 2. OG.")
    assert {m.member.member_number for m in by_place} <= residents
    assert all(m.reasons == ("address",) for m in by_place) and by_place
    # "Ahrens" and the address: the two Ahrens of that house, not the neighbours.
    named = members_mentioned(text="Familie Ahrens, Nordring 1")
    assert {m.member.member_number for m in named} == {"20001", "20002"}
    # A number in a date, an amount or a house number is no member number.
    assert members_mentioned(text="Am 20.01.2001 habe ich 20001,50 € bezahlt.") == []


def test_a_wrong_member_number_is_refused_and_changes_nothing(client, cast):
    ticket = stranger_ticket("Hallo, bitte um Rückruf.", sender="x@example.net")
    client.force_login(cast.hanna)
    response = confirm(client, ticket, "99999")
    assert response.status_code == 200
    assert de("There is no member with this number.") in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).member is None
    assert not ticket.events.filter(kind=TicketEvent.Kind.MEMBER).exists()


def test_a_stale_page_or_a_request_with_a_member_cannot_be_reassigned(client, cast):
    ticket = stranger_ticket("Hallo.", sender="y@example.net")
    client.force_login(cast.hanna)
    stale = client.post(
        url(ticket),
        {
            "action": "member",
            "member-version": ticket.version + 5,
            "member-member_number": "20001",
        },
    )
    assert stale.status_code == 200 and Ticket.objects.get(pk=ticket.pk).member is None
    assert confirm(client, ticket, "20001").status_code == 302
    ticket.refresh_from_db()
    again = confirm(client, ticket, "20002")
    assert again.status_code == 200
    assert de("This change is not possible for this request.") in again.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).member == cast.alice.member


# The message as it came ------------------------------------------------------------


def test_staff_read_the_whole_message_and_download_the_original(client, cast):
    raw = mail(
        subject="AW: Heizung",
        body="Danke, es ist wieder warm.\n\nAm 12.03.2026 um 09:14 schrieb Service:\n"
        "> Wir kommen morgen.\n",
    )
    email = mail_ingest(raw=raw, mailbox="service")
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    page = client.get(url(ticket)).content.decode()
    assert f"/bearbeitung/e-mail/{email.pk}/" in page
    detail = client.get(f"/bearbeitung/e-mail/{email.pk}/").content.decode()
    assert "Wir kommen morgen." in detail  # the quoted history, for staff
    assert "alice@example.org" in detail and ticket.reference in detail
    original = client.get(f"/bearbeitung/e-mail/{email.pk}/original/")
    assert original["Content-Type"] == "message/rfc822"
    assert original["Content-Disposition"].startswith("attachment;")
    assert original.content == raw
    looks = AccessLog.objects.filter(actor=cast.ada, subject__startswith=f"E-Mail {email.pk}")
    assert {log.action for log in looks} == {"view", "export"}
    assert {log.member for log in looks} == {cast.alice.member}


def test_a_message_of_a_request_a_handler_may_not_see_is_not_found(client, cast):
    email = mail_ingest(raw=mail(), mailbox="service")
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    otto = User.objects.create_user("otto@example.org", "x" * 12, is_staff=True)
    assert ticket.team is not None and not ticket.team.has_member(otto)
    client.force_login(otto)  # staff, but not of the request's team
    assert client.get(f"/bearbeitung/e-mail/{email.pk}/").status_code == 404
    assert client.get(f"/bearbeitung/e-mail/{email.pk}/original/").status_code == 404
    assert client.get("/bearbeitung/e-mail/999999/").status_code == 404


def test_messages_that_made_no_request_are_listed_by_kind(client, cast):
    junk = mail_ingest(raw=b"\x00\x01 garbage", mailbox="service")
    away = mail_ingest(
        raw=mail(subject="Abwesenheitsnotiz", message_id="<away@x>", Auto_Submitted="auto-replied"),
        mailbox="service",
    )
    assert junk.status == Outcome.QUARANTINE and away.status == Outcome.AUTO_REPLY
    client.force_login(cast.hanna)
    listed = client.get("/bearbeitung/e-mail/").content.decode()
    assert f"/bearbeitung/e-mail/{junk.pk}/" in listed
    assert f"/bearbeitung/e-mail/{away.pk}/" not in listed
    automatic = client.get("/bearbeitung/e-mail/?status=auto_reply").content.decode()
    assert f"/bearbeitung/e-mail/{away.pk}/" in automatic
    # An unknown kind shows the quarantine, not an error.
    assert client.get("/bearbeitung/e-mail/?status=<script>").status_code == 200
    detail = client.get(f"/bearbeitung/e-mail/{junk.pk}/").content.decode()
    assert de("Could not be read") in detail
    assert "&#x27;kind&#x27;" not in detail  # the note's text, not its dict
    raw = client.get(f"/bearbeitung/e-mail/{junk.pk}/original/")
    assert raw.content == b"\x00\x01 garbage"


def test_the_list_pages_through_older_messages(client, cast, settings):
    for n in range(52):
        mail_ingest(raw=b"\x00 unreadable %d" % n, mailbox="service")
    client.force_login(cast.hanna)
    first = client.get("/bearbeitung/e-mail/").content.decode()
    older = re.search(r'href="\?status=quarantine&amp;vor=(\d+)"', first)
    assert older and first.count("/bearbeitung/e-mail/") >= 50
    second = client.get(f"/bearbeitung/e-mail/?status=quarantine&vor={older[1]}").content
    assert len(re.findall(r'href="/bearbeitung/e-mail/\d+/"', second.decode())) == 2


def test_a_bouncing_address_is_shown_on_the_member(client, cast):
    email = mail_ingest(raw=mail(), mailbox="service")
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    ticket.team.members.add(cast.hanna)
    client.force_login(cast.hanna)
    assert de("E-mail does not arrive") not in client.get(url(ticket)).content.decode()
    BouncingAddress.objects.create(address="alice@example.org", last_bounce_at=email.created_at)
    page = client.get(url(ticket)).content.decode()
    assert de("E-mail does not arrive") in page and "alice@example.org" in page


# Mail in, reply out, reply in ------------------------------------------------------


def test_a_request_by_mail_is_answered_by_mail_that_threads_and_its_answer_joins(
    client, cast, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_REPLY_TO = "service@wg-beispiel.example"
    email = mail_ingest(raw=mail(message_id="<first@alice.example>"), mailbox="service")
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the worker sends it
        ticket_reply(
            ticket=ticket,
            actor=ticket.assignee or cast.ada,
            body="Der Monteur kommt morgen um 9 Uhr.",
            expected_version=ticket.version,
            public=True,
        )
    (sent,) = [m for m in django_mail.outbox if m.to == ["alice@example.org"]]
    assert ticket.reference in sent.subject
    assert sent.extra_headers["In-Reply-To"] == "<first@alice.example>"
    assert sent.reply_to == ["service@wg-beispiel.example"]
    assert "Auto-Submitted" not in sent.extra_headers  # a person's words
    assert "Der Monteur kommt morgen um 9 Uhr." in sent.body
    assert "einfach auf diese E-Mail antworten" in sent.body
    # Her answer to that e-mail joins the request.
    answer = mail_ingest(
        raw=mail(
            subject=f"AW: {sent.subject}",
            body="Passt, danke!\n\n> Der Monteur kommt morgen um 9 Uhr.",
            message_id="<second@alice.example>",
            In_Reply_To=sent.extra_headers["Message-ID"],
        ),
        mailbox="service",
    )
    assert answer.status == Outcome.REPLY and answer.ticket_reference == ticket.reference
    assert ticket.events.filter(kind=TicketEvent.Kind.MEMBER_REPLY, body="Passt, danke!").exists()


# Queries -----------------------------------------------------------------------------


def test_the_mail_pages_cost_the_same_few_queries_with_few_or_many_messages(client, cast):
    client.force_login(cast.hanna)
    junk = mail_ingest(raw=b"\x00 one", mailbox="service")
    few_list = measured(client, "/bearbeitung/e-mail/")
    few_detail = measured(client, f"/bearbeitung/e-mail/{junk.pk}/")
    for n in range(30):
        mail_ingest(raw=b"\x00 more %d" % n, mailbox="service")
    many_list = measured(client, "/bearbeitung/e-mail/")
    assert len(few_list) == len(many_list) <= MOST and not repeated(many_list)
    assert len(few_detail) <= MOST and not repeated(few_detail)


def test_a_strangers_request_page_with_suggestions_costs_few_queries(client, cast):
    ticket = stranger_ticket("Mitgliedsnummer 20001, Familie Ahrens, Nordring 1.")
    client.force_login(cast.hanna)
    statements = measured(client, url(ticket))
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RECEIVED


# E-mails that did not go out -------------------------------------------------------


def test_a_failed_email_is_shown_on_its_request_and_sent_again_once(client, cast, settings):
    email = mail_ingest(raw=mail(), mailbox="service")
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    ticket.team.members.add(cast.hanna)
    sent = OutboundEmail.objects.get(thread=ticket.reference)
    client.force_login(cast.hanna)
    assert de("E-mails that did not go out") not in client.get(url(ticket)).content.decode()
    OutboundEmail.objects.filter(pk=sent.pk).update(status=OutboundEmail.Status.IN_DOUBT)
    page = client.get(url(ticket)).content.decode()
    assert de("E-mails that did not go out") in page and de("Send again") in page
    # Another request's e-mail id on this page changes nothing.
    foreign = OutboundEmail.objects.create(
        to="x@example.org",
        subject="s",
        body="b",
        thread="A-2000-000001",
        status=OutboundEmail.Status.IN_DOUBT,
    )
    client.post(url(ticket), {"action": "resend", "email": foreign.pk})
    assert OutboundEmail.objects.get(pk=foreign.pk).status == OutboundEmail.Status.IN_DOUBT
    response = client.post(url(ticket), {"action": "resend", "email": sent.pk}, follow=True)
    assert de("The e-mail is being sent again.") in response.content.decode()
    sent.refresh_from_db()
    assert sent.status == OutboundEmail.Status.QUEUED and sent.sent_again_by == cast.hanna
    again = client.post(url(ticket), {"action": "resend", "email": sent.pk}, follow=True)
    assert de("This e-mail cannot be sent again (it is sent or on its way).") in (
        again.content.decode()
    )


def test_the_intake_lists_our_failed_emails_of_requests_one_may_see(client, cast):
    email = mail_ingest(raw=mail(), mailbox="service")
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    OutboundEmail.objects.filter(thread=ticket.reference).update(
        status=OutboundEmail.Status.IN_DOUBT
    )
    otto = User.objects.create_user("otto@example.org", "x" * 12, is_staff=True)
    client.force_login(otto)  # not of the request's team: not listed for him
    listed = client.get("/bearbeitung/e-mail/?status=outbound").content.decode()
    assert ticket.reference not in listed and de("No messages of this kind.") in listed
    ticket.team.members.add(otto)
    listed = client.get("/bearbeitung/e-mail/?status=outbound").content.decode()
    assert f'href="/bearbeitung/anliegen/{ticket.reference}/"' in listed
    assert "alice@example.org" in listed


def test_the_original_download_costs_few_queries(client, cast):
    email = mail_ingest(raw=mail(), mailbox="service")
    Ticket.objects.get(reference=email.ticket_reference).team.members.add(cast.hanna)
    client.force_login(cast.hanna)
    statements = measured(client, f"/bearbeitung/e-mail/{email.pk}/original/")
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements)
