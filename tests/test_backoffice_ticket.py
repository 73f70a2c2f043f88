"""Staff work on one request: read with member context, reply, note,
status, assignment; never overwrite a colleague silently."""

import pytest

from routing.models import Team
from tests.factories import ticket_create
from tests.helpers import de, otp_verify
from tickets.models import Channel, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(cast, repair) -> Ticket:
    team = Team.objects.get(name="Technik")
    team.members.add(cast.hanna)
    return ticket_create(
        request_type=repair,
        answers={
            "room": "kitchen",
            "what": "Spüle verstopft",
            "urgency": "normal",
            "master_key": "no",
        },
    )


def url(ticket):
    return f"/bearbeitung/anliegen/{ticket.reference}/"


def test_a_handler_sees_the_ticket_with_member_context_and_it_is_audited(client, cast, ticket):
    from audit.models import AccessLog

    client.force_login(cast.hanna)
    body = client.get(url(ticket)).content.decode()
    assert "Spüle verstopft" in body
    assert "Alice Ahrens" in body and "20001" in body
    assert "Bob Ahrens" in body  # household
    assert AccessLog.objects.filter(actor=cast.hanna, member=cast.alice.member).count() == 1


def test_members_and_staff_outside_the_team_get_404(client, cast, ticket):
    client.force_login(cast.alice)
    assert client.get(url(ticket)).status_code == 404
    from accounts.models import User

    otto = User.objects.create_user("otto@example.org", "x" * 12, is_staff=True)
    client.force_login(otto)  # staff, but in no team of this ticket
    assert client.get(url(ticket)).status_code == 404
    client.force_login(cast.ada)  # admin sees all
    otp_verify(client, cast.ada)
    assert client.get(url(ticket)).status_code == 200


def test_a_public_reply_reaches_the_member(client, cast, ticket, outbox):
    client.force_login(cast.hanna)
    response = client.post(
        url(ticket),
        {
            "action": "reply",
            "version": ticket.version,
            "visibility": "public",
            "body": "Der Klempner kommt am Montag.",
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert outbox[-1].to == ["alice@example.org"]
    assert "Der Klempner kommt am Montag." in outbox[-1].body
    client.force_login(cast.alice)
    assert (
        "Der Klempner kommt am Montag."
        in client.get(f"/anliegen/{ticket.reference}/").content.decode()
    )


def test_an_internal_note_stays_internal(client, cast, ticket, outbox):
    client.force_login(cast.hanna)
    sent = len(outbox)
    client.post(
        url(ticket),
        {
            "action": "reply",
            "version": ticket.version,
            "visibility": "internal",
            "body": "Mieterin ist schwerhörig, bitte klingeln.",
        },
    )
    assert len(outbox) == sent
    event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.NOTE)
    assert not event.public
    client.force_login(cast.alice)
    assert "schwerhörig" not in client.get(f"/anliegen/{ticket.reference}/").content.decode()


def test_a_question_sets_waiting_and_the_answer_brings_it_back(client, cast, ticket, outbox):
    client.force_login(cast.hanna)
    client.post(
        url(ticket),
        {
            "action": "reply",
            "version": ticket.version,
            "visibility": "public",
            "ask_member": "on",
            "body": "Wann sind Sie zu Hause?",
        },
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING
    client.force_login(cast.alice)
    client.post(f"/anliegen/{ticket.reference}/", {"body": "Ab 8 Uhr."})
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_a_stale_form_is_refused_and_the_text_is_kept(client, cast, ticket):
    client.force_login(cast.hanna)
    stale = ticket.version
    client.post(url(ticket), {"action": "status", "version": stale, "status": Status.IN_PROGRESS})
    response = client.post(
        url(ticket),
        {"action": "reply", "version": stale, "visibility": "public", "body": "Mein langer Text"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        de(
            "A colleague changed this request while you were working on it. Your input has not been saved and is still in the form below: please look at the latest history and send it again."
        )
        in body
    )
    assert "Mein langer Text" in body
    assert not TicketEvent.objects.filter(ticket=ticket, body="Mein langer Text").exists()


def test_resolution_notifies_and_assignment_tells_the_handler(client, cast, ticket, outbox):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    team = Team.objects.get(name="Technik")
    client.post(
        url(ticket),
        {"action": "assign", "version": ticket.version, "team": team.pk, "assignee": cast.hanna.pk},
    )
    ticket.refresh_from_db()
    assert ticket.assignee == cast.hanna
    assert outbox[-1].to == ["hanna@example.org"]
    # Same team, new person: internal only; the member never sees who.
    assigned = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.ASSIGNED)
    assert not assigned.public
    client.force_login(cast.alice)
    assert "Hanna" not in client.get(f"/anliegen/{ticket.reference}/").content.decode()
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    client.post(
        url(ticket), {"action": "status", "version": ticket.version, "status": Status.RESOLVED}
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.resolved_at is not None
    assert outbox[-1].to == ["alice@example.org"]


def test_an_assignee_outside_the_team_is_refused(client, cast, ticket):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    team = Team.objects.get(name="Technik")
    response = client.post(
        url(ticket),
        {"action": "assign", "version": ticket.version, "team": team.pk, "assignee": cast.ada.pk},
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_the_detail_page_query_count_is_constant(
    client, cast, ticket, django_assert_max_num_queries
):
    from tickets.services import ticket_reply

    client.force_login(cast.hanna)
    client.get(url(ticket))
    for n in range(10):
        ticket.refresh_from_db()
        ticket_reply(
            ticket=ticket,
            actor=cast.hanna,
            body=f"Notiz {n}",
            expected_version=ticket.version,
            public=False,
        )
    # 13: one of them records the handler's visit for the inbox markers.
    with django_assert_max_num_queries(13):
        client.get(url(ticket))


def test_wrong_methods(client, cast, ticket):
    client.force_login(cast.hanna)
    assert client.put(url(ticket)).status_code == 405


def test_a_phone_call_becomes_a_ticket_the_member_sees(client, cast, repair, outbox):
    client.force_login(cast.hanna)
    response = client.post(
        "/bearbeitung/anruf/",
        {"member_number": "20001", "request_type": repair.pk, "channel": "phone"},
    )
    assert response["Location"] == f"/bearbeitung/anruf/20001/{repair.slug}/phone/"
    response = client.post(
        response["Location"],
        {
            "room": "hallway",
            "what": "Licht im Flur kaputt (Anruf)",
            "urgency": "normal",
            "master_key": "yes",
        },
    )
    ticket = Ticket.objects.get(answers__what="Licht im Flur kaputt (Anruf)")
    assert response["Location"] == url(ticket)
    assert (ticket.channel, ticket.created_by, ticket.member) == (
        "phone",
        cast.hanna,
        cast.alice.member,
    )
    assert outbox[-1].to == ["alice@example.org"]
    client.force_login(cast.alice)
    assert ticket.reference in client.get("/anliegen/").content.decode()


def test_a_phone_log_for_an_unknown_member_is_refused(client, cast, repair):
    client.force_login(cast.hanna)
    response = client.post(
        "/bearbeitung/anruf/",
        {"member_number": "99999", "request_type": repair.pk, "channel": "phone"},
    )
    assert response.status_code == 200
    assert de("There is no member with this number.") in response.content.decode()
    assert client.get(f"/bearbeitung/anruf/99999/{repair.slug}/phone/").status_code == 404
    client.force_login(cast.alice)
    assert client.get("/bearbeitung/anruf/").status_code == 404


def test_the_member_sees_a_badge_until_reading_the_reply(client, cast, ticket):
    client.force_login(cast.hanna)
    client.post(
        url(ticket),
        {
            "action": "reply",
            "version": ticket.version,
            "visibility": "public",
            "body": "Termin am Montag?",
        },
    )
    client.force_login(cast.bob)  # household partner has news too
    assert 'class="badge"' in client.get("/anliegen/").content.decode()
    client.force_login(cast.alice)
    assert 'class="badge"' in client.get("/mein-bereich/").content.decode()
    client.get(f"/anliegen/{ticket.reference}/")
    assert 'class="badge"' not in client.get("/mein-bereich/").content.decode()
    client.force_login(cast.bob)
    assert 'class="badge"' in client.get("/anliegen/").content.decode()
    # An internal note is no news for the member.
    client.force_login(cast.hanna)
    ticket.refresh_from_db()
    client.post(
        url(ticket),
        {"action": "reply", "version": ticket.version, "visibility": "internal", "body": "intern"},
    )
    client.force_login(cast.alice)
    assert 'class="badge"' not in client.get("/mein-bereich/").content.decode()


def test_a_text_block_fills_in_the_members_name_and_reference(client, cast, ticket):
    from tickets.models import CannedResponse

    block = CannedResponse.objects.create(
        title="Termin",
        body_de="Guten Tag {anrede},\nzu {vorgang} kommt Montag jemand. {unbekannt}\n{bearbeiter}",
    )
    CannedResponse.objects.create(
        title="Nur Vermietung", body_de="x", team=Team.objects.get_or_create(name="Vermietung")[0]
    )
    client.force_login(cast.hanna)
    body = client.get(url(ticket) + f"?baustein={block.pk}").content.decode()
    assert (
        f"Guten Tag Frau Ahrens,\nzu {ticket.reference} kommt Montag jemand. {{unbekannt}}\nHanna Beispiel"
        in body
    )
    assert "Nur Vermietung" not in body  # another team's block
    assert client.get(url(ticket) + "?baustein=abc").status_code == 200


def test_a_duplicate_is_merged_and_the_member_is_pointed_to_the_original(client, cast, ticket):
    duplicate = ticket_create(
        request_type=ticket.request_type,
        answers={
            "room": "kitchen",
            "what": "Spüle (nochmal)",
            "urgency": "normal",
            "master_key": "no",
        },
        channel=Channel.PHONE,
        created_by=cast.hanna,
    )
    client.force_login(cast.hanna)
    response = client.post(
        f"/bearbeitung/anliegen/{duplicate.reference}/",
        {
            "action": "merge",
            "merge-version": duplicate.version,
            "merge-reference": ticket.reference,
        },
    )
    assert response["Location"] == url(ticket)
    duplicate.refresh_from_db()
    assert duplicate.merged_into == ticket and duplicate.status == Status.CLOSED
    client.force_login(cast.alice)
    body = client.get(f"/anliegen/{duplicate.reference}/").content.decode()
    assert f'href="/anliegen/{ticket.reference}/"' in body


def test_merging_needs_the_same_member_and_a_real_reference(client, cast, ticket):
    other = ticket_create(
        request_type=ticket.request_type,
        member=cast.dave.member,
        answers={"room": "kitchen", "what": "anderes", "urgency": "normal", "master_key": "no"},
        channel=Channel.PHONE,
        created_by=cast.hanna,
    )
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    for reference in [other.reference, "A-1999-000001", "quatsch"]:
        response = client.post(
            url(ticket),
            {"action": "merge", "merge-version": ticket.version, "merge-reference": reference},
        )
        assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.merged_into is None and ticket.status == Status.RECEIVED


def test_requests_of_neighbours_can_be_linked(client, cast, ticket):
    other = ticket_create(
        request_type=ticket.request_type,
        member=cast.dave.member,
        answers={
            "room": "cellar",
            "what": "Wasser im Keller",
            "urgency": "normal",
            "master_key": "no",
        },
        channel=Channel.PHONE,
        created_by=cast.hanna,
    )
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    client.post(
        url(ticket),
        {"action": "link", "link-version": ticket.version, "link-reference": other.reference},
    )
    assert list(other.related.all()) == [ticket]
    assert other.reference in client.get(url(ticket)).content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_handlers_answering_at_once_never_both_win(cast, repair):
    """Real threads, real transactions: one reply is saved, the other gets a
    conflict - on PostgreSQL (row lock) and on SQLite (serialised writers)."""
    import threading

    from django.db import connections

    from tickets.services import TicketConflict, ticket_reply

    ticket = ticket_create(
        request_type=repair,
        answers={"room": "kitchen", "what": "Herd", "urgency": "normal", "master_key": "no"},
    )
    version = ticket.version
    barrier = threading.Barrier(4)
    outcomes = []

    def answer(n):
        try:
            barrier.wait()
            ticket_reply(
                ticket=ticket,
                actor=cast.hanna,
                body=f"Antwort {n}",
                expected_version=version,
                public=False,
            )
            outcomes.append("saved")
        except TicketConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "saved"]
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.NOTE).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).version == version + 1
