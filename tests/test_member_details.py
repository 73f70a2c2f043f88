"""The small things members noticed (issue 10, point 7): dates in words,
no "valid from" in the past, withdrawing a request, nothing written into a
request that is withdrawn, merged or closed, and the "My requests" card on
Mein Bereich."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.text import capfirst

from mail.models import OutboundEmail
from mail.services import email_queue
from tests.factories import GOOD, photo, ticket_create
from tests.helpers import de, otp_verify
from tickets.files import file_clean
from tickets.models import RequestField, RequestType, Status, Ticket, TicketDraft, TicketEvent
from tickets.selectors import tickets_open_for_member
from tickets.services import (
    TicketError,
    TicketWithdrawn,
    draft_save,
    ticket_member_reply,
    ticket_merge,
    ticket_reply,
    ticket_visit,
    ticket_withdraw,
    tickets_bulk_status,
)

pytestmark = pytest.mark.django_db

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
HOME = "/mein-bereich/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _english(client):
    client.post("/sprache/", {"language": "en", "next": "/"})


def _bank_type():
    return RequestType.objects.get(slug="bankverbindung")


def _bank_data(valid_from: str) -> dict:
    return {
        "account_holder": "Alice Ahrens",
        "iban": "DE02 1203 0000 0000 2020 51",
        "valid_from": valid_from,
        "sepa_consent": "yes",
    }


def _today() -> datetime.date:
    return timezone.localdate()


# --- dates in words --------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"), [("de", "20. November 2026"), ("en", "November 20, 2026")]
)
def test_the_review_page_shows_a_date_in_words(client, cast, repair, language, expected):
    client.force_login(cast.alice)
    if language == "en":
        _english(client)
    client.post(f"/anliegen/neu/{repair.slug}/", GOOD)  # "since": 2026-11-20
    body = client.get(f"/anliegen/neu/{repair.slug}/pruefen/").content.decode()
    assert expected in body
    assert "2026-11-20" not in body and "20.11.2026" not in body


@pytest.mark.parametrize(
    ("language", "expected"), [("de", "20. November 2026"), ("en", "November 20, 2026")]
)
def test_the_request_page_shows_a_date_in_words(client, cast, repair, language, expected):
    ticket = ticket_create(request_type=repair, answers=dict(GOOD))
    client.force_login(cast.alice)
    if language == "en":
        _english(client)
    body = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert expected in body
    assert "2026-11-20" not in body
    with translation.override(language):
        assert (ticket.answer_rows()[2][1]) == expected


@pytest.mark.parametrize("language", ["de", "en"])
def test_e_mails_show_no_iso_dates(cast, language):
    ticket = ticket_create()
    deadline = timezone.make_aware(datetime.datetime(2026, 11, 25, 14, 0))
    email = email_queue(
        to="hanna@example.org",
        template="tickets/email/sla_warn",
        context={"ticket": ticket, "step": "resolution_warning", "deadline": deadline},
        language=language,
    )
    assert "2026" in email.body
    assert not ISO_DATE.search(email.body)
    assert "Nov" in email.body  # the month in words, not "11"


# --- no "valid from" in the past -----------------------------------------------


def test_the_bank_form_refuses_a_valid_from_in_the_past(client, cast):
    client.force_login(cast.alice)
    yesterday = _today() - datetime.timedelta(days=1)
    for typed in (yesterday.isoformat(), yesterday.strftime("%d.%m.%Y")):
        response = client.post("/anliegen/neu/bankverbindung/", _bank_data(typed))
        assert response.status_code == 200
        body = response.content.decode()
        assert de("Please choose today or a later date.") in body
        assert "Alice Ahrens" in body  # what was typed stays
    # The browser's date picker starts at today.
    page = client.get("/anliegen/neu/bankverbindung/").content.decode()
    assert f'min="{_today().isoformat()}"' in page
    response = client.post("/anliegen/neu/bankverbindung/", _bank_data(_today().isoformat()))
    assert response.status_code == 302
    assert not Ticket.objects.exists()


def test_in_english_the_error_is_english(client, cast):
    client.force_login(cast.alice)
    _english(client)
    yesterday = (_today() - datetime.timedelta(days=1)).isoformat()
    response = client.post("/anliegen/neu/bankverbindung/", _bank_data(yesterday))
    assert "Please choose today or a later date." in response.content.decode()


def test_dates_of_other_fields_may_lie_in_the_past(client, cast, repair):
    client.force_login(cast.alice)
    data = {**GOOD, "since": (_today() - datetime.timedelta(days=30)).isoformat()}
    assert client.post(f"/anliegen/neu/{repair.slug}/", data).status_code == 302


def test_the_phone_log_refuses_it_too(client, cast):
    client.force_login(cast.hanna)
    number = cast.alice.member.member_number
    yesterday = (_today() - datetime.timedelta(days=1)).isoformat()
    response = client.post(
        f"/bearbeitung/anruf/{number}/bankverbindung/phone/", _bank_data(yesterday)
    )
    assert response.status_code == 200
    assert de("Please choose today or a later date.") in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_draft_saved_yesterday_for_today_can_be_sent(client, cast):
    draft_save(
        user=cast.alice,
        request_type=_bank_type(),
        answers=_bank_data(_today().isoformat()),
        files=[],
    )
    TicketDraft.objects.update(updated_at=timezone.now() - datetime.timedelta(days=1))
    client.force_login(cast.alice)
    assert client.get("/anliegen/neu/bankverbindung/pruefen/").status_code == 200
    response = client.post("/anliegen/neu/bankverbindung/pruefen/")
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/anliegen/{ticket.reference}/"


def test_a_draft_whose_date_has_passed_goes_back_to_the_form_with_the_error(client, cast):
    # Saved two days ago for yesterday: fine then, in the past now.
    yesterday = (_today() - datetime.timedelta(days=1)).isoformat()
    draft_save(user=cast.alice, request_type=_bank_type(), answers=_bank_data(yesterday), files=[])
    client.force_login(cast.alice)
    for send in (client.get, client.post):
        response = send("/anliegen/neu/bankverbindung/pruefen/")
        assert response.status_code == 302
        assert response["Location"] == "/anliegen/neu/bankverbindung/?pruefen=1"
    body = client.get(response["Location"]).content.decode()
    assert de("Please choose today or a later date.") in body
    assert "data-error-summary" in body
    assert "Alice Ahrens" in body and "DE02 1203 0000 0000 2020 51" in body
    assert not Ticket.objects.exists()
    assert TicketDraft.objects.get().answers["account_holder"] == "Alice Ahrens"


def test_the_demo_bank_form_has_the_rule_and_the_admin_shows_it(client, cast):
    field = RequestField.objects.get(request_type=_bank_type(), key="valid_from")
    assert field.no_past_dates
    assert field.as_definition()["no_past"] is True
    assert not RequestField.objects.filter(no_past_dates=True).exclude(pk=field.pk).exists()
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    page = client.get(f"/verwaltung/tickets/requesttype/{_bank_type().pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    position = list(_bank_type().fields.values_list("pk", flat=True)).index(field.pk)
    checkbox = re.search(rf'<input[^>]*name="fields-{position}-no_past_dates"[^>]*>', body)
    assert checkbox is not None and "checked" in checkbox.group(0)
    assert capfirst(de("no dates in the past")) in body


# --- withdrawing a request ---------------------------------------------------------


def test_the_filer_withdraws_an_open_request_and_the_handler_is_told(client, cast):
    ticket = ticket_create(assignee=cast.hanna, status=Status.WAITING, sla_paused_at=timezone.now())
    client.force_login(cast.alice)
    page = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert f'action="/anliegen/{ticket.reference}/zurueckziehen/"' in page
    response = client.post(
        f"/anliegen/{ticket.reference}/zurueckziehen/",
        {"withdraw_reason": "Hat sich erledigt, der Nachbar hat es repariert."},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.WITHDRAWN
    assert ticket.is_finished() and not ticket.is_overdue() and not ticket.can_be_rated()
    assert ticket.sla_paused_at is None and ticket.member_activity_at is not None
    event = ticket.events.latest("pk")
    assert event.kind == TicketEvent.Kind.STATUS and event.public
    assert event.data == {"from": "waiting", "to": "withdrawn"}
    assert event.body == "Hat sich erledigt, der Nachbar hat es repariert."
    mail = OutboundEmail.objects.filter(to="hanna@example.org").latest("pk")
    assert ticket.reference in mail.subject
    assert "Hat sich erledigt" in mail.body
    page = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert de("This request has been withdrawn. We no longer work on it.") in page
    assert "zurueckziehen" not in page  # no second withdrawal offered
    assert 'name="body"' not in page  # nor a reply


def test_a_reason_is_optional(client, cast):
    ticket = ticket_create()
    client.force_login(cast.alice)
    client.post(f"/anliegen/{ticket.reference}/zurueckziehen/", {"withdraw_reason": ""})
    assert Ticket.objects.get(pk=ticket.pk).status == Status.WITHDRAWN


def test_only_the_filer_withdraws(client, cast):
    ticket = ticket_create()  # alice's, about the flat: bob sees it
    url = f"/anliegen/{ticket.reference}/zurueckziehen/"
    client.force_login(cast.bob)
    page = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert "zurueckziehen" not in page
    assert client.post(url, {"withdraw_reason": "x"}).status_code == 403
    for outsider in (cast.dave, cast.hanna):
        client.force_login(outsider)
        assert client.post(url, {"withdraw_reason": "x"}).status_code == 404
    client.force_login(cast.alice)
    assert client.get(url).status_code == 405
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RECEIVED
    assert ticket.events.count() == 1


def test_the_service_refuses_the_partner(cast):
    ticket = ticket_create()
    with pytest.raises(PermissionDenied):
        ticket_withdraw(ticket=ticket, user=cast.bob, reason="")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RECEIVED


def test_it_cannot_be_withdrawn_twice_and_the_text_is_kept(client, cast):
    ticket = ticket_create()
    client.force_login(cast.alice)
    url = f"/anliegen/{ticket.reference}/zurueckziehen/"
    client.post(url, {"withdraw_reason": "erledigt"})
    response = client.post(url, {"withdraw_reason": "Doppelt geklickt"})
    assert response.status_code == 200
    body = response.content.decode()
    assert de("This request has been withdrawn, so nothing more can be sent to it.") in body
    assert "Doppelt geklickt" in body
    assert ticket.events.filter(data__to="withdrawn").count() == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Status.CLOSED, "This request is closed, so nothing more can be sent to it."),
        (Status.RESOLVED, "This request is already settled, so it can no longer be withdrawn."),
    ],
)
def test_a_finished_request_cannot_be_withdrawn(client, cast, status, message):
    ticket = ticket_create(status=status, resolved_at=timezone.now())
    client.force_login(cast.alice)
    page = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert "zurueckziehen" not in page
    response = client.post(
        f"/anliegen/{ticket.reference}/zurueckziehen/", {"withdraw_reason": "Bitte stoppen"}
    )
    assert response.status_code == 200
    assert de(message) in response.content.decode()
    assert "Bitte stoppen" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).status == status


def test_withdrawing_costs_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    ticket = ticket_create(assignee=cast.hanna)
    client.force_login(cast.alice)
    client.get(f"/anliegen/{ticket.reference}/")  # warm the session
    with django_assert_max_num_queries(16):
        client.post(f"/anliegen/{ticket.reference}/zurueckziehen/", {"withdraw_reason": "x"})
    assert Ticket.objects.get(pk=ticket.pk).status == Status.WITHDRAWN


# --- nothing written into a withdrawn, merged or closed request -------------------


def _withdrawn(cast):
    ticket = ticket_create()
    ticket_withdraw(ticket=ticket, user=cast.alice, reason="")
    return Ticket.objects.get(pk=ticket.pk)


def _merged(cast):
    source = ticket_create()
    target = ticket_create()
    ticket_merge(source=source, target=target, actor=cast.hanna, expected_version=source.version)
    return Ticket.objects.get(pk=source.pk)


def _closed(cast):
    return ticket_create(status=Status.CLOSED, closed_at=timezone.now())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_withdrawn, "This request has been withdrawn, so nothing more can be sent to it."),
        (_closed, "This request is closed, so nothing more can be sent to it."),
    ],
)
def test_a_reply_into_it_is_refused_with_the_text_kept(client, cast, make, message):
    ticket = make(cast)
    events = ticket.events.count()
    client.force_login(cast.alice)
    response = client.post(
        f"/anliegen/{ticket.reference}/", {"body": "Der Wasserhahn tropft <wieder>."}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert de(message) in body
    assert de("Your text has not been sent") in body
    assert "Der Wasserhahn tropft &lt;wieder&gt;." in body  # escaped, in the box to copy
    assert ticket.events.count() == events


def test_a_reply_into_a_merged_request_names_where_it_continues(client, cast):
    ticket = _merged(cast)
    client.force_login(cast.alice)
    response = client.post(f"/anliegen/{ticket.reference}/", {"body": "Noch eine Frage"})
    assert response.status_code == 200
    body = response.content.decode()
    reference = ticket.merged_into.reference
    with translation.override("de"):
        expected = translation.gettext(
            "This request has been merged with %(reference)s, where we continue. "
            "Please write there."
        ) % {"reference": reference}
    assert expected in body
    assert "Noch eine Frage" in body
    assert not ticket.events.filter(kind=TicketEvent.Kind.MEMBER_REPLY).exists()


def test_reopen_and_rating_of_a_withdrawn_request_keep_the_text(client, cast):
    ticket = _withdrawn(cast)
    client.force_login(cast.alice)
    reopen = client.post(
        f"/anliegen/{ticket.reference}/wieder-oeffnen/", {"reason": "Doch noch nicht gut"}
    )
    assert reopen.status_code == 200
    assert "Doch noch nicht gut" in reopen.content.decode()
    rate = client.post(
        f"/anliegen/{ticket.reference}/bewerten/", {"rating": "5", "comment": "Sehr nett"}
    )
    assert rate.status_code == 200
    body = rate.content.decode()
    assert "Sehr nett" in body
    assert de("This request has been withdrawn, so nothing more can be sent to it.") in body
    ticket.refresh_from_db()
    assert ticket.status == Status.WITHDRAWN and ticket.rating is None


def test_a_second_rating_keeps_the_comment(client, cast):
    ticket = ticket_create(status=Status.CLOSED, closed_at=timezone.now(), rating=4)
    client.force_login(cast.alice)
    response = client.post(
        f"/anliegen/{ticket.reference}/bewerten/", {"rating": "1", "comment": "Nochmal"}
    )
    assert response.status_code == 200
    assert de("This request cannot be rated (again).") in response.content.decode()
    assert "Nochmal" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).rating == 4


def test_a_rating_without_stars_keeps_the_comment(client, cast):
    ticket = ticket_create(status=Status.RESOLVED, resolved_at=timezone.now())
    client.force_login(cast.alice)
    response = client.post(f"/anliegen/{ticket.reference}/bewerten/", {"comment": "Gut gemacht"})
    assert response.status_code == 200
    assert "Gut gemacht" in response.content.decode()
    assert de("Please choose between 1 and 5 stars.") in response.content.decode()


def test_staff_cannot_reply_into_a_withdrawn_request_but_may_note(client, cast):
    ticket = _withdrawn(cast)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=cast.hanna)
    client.force_login(cast.hanna)
    url = f"/bearbeitung/anliegen/{ticket.reference}/"
    page = client.get(url).content.decode()
    assert de("withdrawn") in page
    reply = {"action": "reply", "version": ticket.version, "body": "Schade!"}
    response = client.post(url, {**reply, "visibility": "public"})
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        de(
            "The member has withdrawn this request, so it takes no more replies. "
            "Your text is still in the form: you can save it as an internal note."
        )
        in body
    )
    assert "Schade!" in body
    assert not ticket.events.filter(kind=TicketEvent.Kind.REPLY).exists()
    response = client.post(url, {**reply, "visibility": "internal"})
    assert response.status_code == 302
    assert ticket.events.filter(kind=TicketEvent.Kind.NOTE, body="Schade!").exists()
    with pytest.raises(TicketWithdrawn):
        ticket_reply(
            ticket=ticket,
            actor=cast.hanna,
            body="x",
            expected_version=Ticket.objects.get(pk=ticket.pk).version,
            public=True,
        )


# --- the "My requests" card on Mein Bereich ---------------------------------------


def _card(body: str) -> str:
    start = body.index('id="requests-title"')
    return body[start : body.index("</section>", start)]


def test_the_card_shows_open_requests_before_settled_ones(client, cast):
    now = timezone.now()
    old_open = ticket_create(created_at=now - datetime.timedelta(days=40))
    settled = [
        ticket_create(
            status=Status.RESOLVED, resolved_at=now, created_at=now - datetime.timedelta(hours=i)
        )
        for i in range(6)
    ]
    long_ago = ticket_create(status=Status.CLOSED, created_at=now - datetime.timedelta(days=90))
    Ticket.objects.filter(pk=long_ago.pk).update(updated_at=now - datetime.timedelta(days=30))
    client.force_login(cast.alice)
    card = _card(client.get(HOME).content.decode())
    shown = list(dict.fromkeys(re.findall(r"A-\d{4}-\d{6}", card)))  # each in text and link
    assert shown[0] == old_open.reference  # the oldest, but open: first
    assert shown[1:] == [t.reference for t in settled[:4]]
    assert long_ago.reference not in card
    # Seven in the card's reach, five shown: two more, with the way to all.
    assert 'href="/anliegen/"' in card
    with translation.override("de"):
        more = translation.ngettext(
            "%(count)s more request: show all", "%(count)s more requests: show all", 2
        ) % {"count": 2}
    assert more in card


def test_the_card_marks_what_is_new_until_the_member_looks(client, cast):
    seen, news = ticket_create(), ticket_create()
    for ticket in (seen, news):
        ticket_reply(
            ticket=ticket,
            actor=cast.hanna,
            body="Wir kommen am Montag.",
            expected_version=ticket.version,
            public=True,
        )
    ticket_visit(ticket=seen, user=cast.alice)
    client.force_login(cast.alice)
    card = _card(client.get(HOME).content.decode())
    with translation.override("de"):
        marker = translation.pgettext("unread request", "new")
    # Each item up to its end: the card's own links ("/anliegen/neu/") must
    # not count as a marker.
    items = [item.split("</li>")[0] for item in card.split('class="ticket-list__item"')[1:]]
    tag = f'<strong class="tag tag--new">{marker}</strong>'
    marked = {re.search(r"A-\d{4}-\d{6}", item).group(0) for item in items if tag in item}
    assert marked == {news.reference}
    client.get(f"/anliegen/{news.reference}/")
    assert tag not in _card(client.get(HOME).content.decode())
    # Per account: bob has seen neither.
    client.force_login(cast.bob)
    assert _card(client.get(HOME).content.decode()).count(tag) == 2


def test_the_card_costs_the_same_queries_for_few_and_many_requests(client, cast):
    def count():
        client.get(HOME)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(HOME).status_code == 200
        return len(queries)

    client.force_login(cast.alice)
    ticket = ticket_create()
    ticket_reply(ticket=ticket, actor=cast.hanna, body="Hallo", expected_version=1, public=True)
    few = count()
    for index in range(12):
        other = ticket_create()
        if index % 2:
            ticket_reply(
                ticket=other, actor=cast.hanna, body="Hallo", expected_version=1, public=True
            )
    assert count() == few
    # 11: the documents card (issue 15) counts the member's new documents in
    # one query of its own; the page stays within the 12 of every page.
    assert few <= 11


def test_the_selector_is_two_queries(cast, django_assert_num_queries):
    # The member's flats (tickets.models.household_places), then the rows.
    for _ in range(7):
        ticket_create()
    with django_assert_num_queries(2):
        tickets = tickets_open_for_member(cast.alice.member, limit=5, user=cast.alice)
        assert [t.card_total for t in tickets] == [7] * 5
        assert tickets[0].request_type.slug == "schadensmeldung"
        assert not any(t.is_new for t in tickets)


def test_a_photo_is_kept_with_a_withdrawn_request(cast):
    # Withdrawing takes nothing away: the files stay with the request.
    ticket = ticket_create()
    ticket_member_reply(ticket=ticket, user=cast.alice, body="Foto", files=[file_clean(photo())])
    ticket_withdraw(ticket=ticket, user=cast.alice, reason="")
    assert ticket.attachments.count() == 1


def test_a_bulk_status_change_leaves_withdrawn_requests_alone(cast):
    withdrawn, open_one = ticket_create(), ticket_create()
    ticket_withdraw(ticket=withdrawn, user=cast.alice, reason="")
    withdrawn.refresh_from_db()
    mails = OutboundEmail.objects.count()
    outcome = tickets_bulk_status(
        selection=[(withdrawn, withdrawn.version), (open_one, open_one.version)],
        actor=cast.hanna,
        status=Status.RESOLVED,
    )
    assert outcome.skipped == [withdrawn.reference]
    assert outcome.changed == [open_one.reference]
    withdrawn.refresh_from_db()
    assert withdrawn.status == Status.WITHDRAWN
    # Only the member of the request that was really settled hears of it.
    assert OutboundEmail.objects.count() == mails + 1


def test_the_handler_is_told_who_of_the_household_wrote(cast):
    ticket = ticket_create(assignee=cast.hanna)  # a repair report: the household's
    ticket_member_reply(ticket=ticket, user=cast.bob, body="Ich bin ab 14 Uhr zu Hause.")
    mail = OutboundEmail.objects.filter(to=cast.hanna.email).latest("pk")
    assert mail.body.startswith(f"{cast.bob.member.full_name} ")
    assert cast.alice.member.full_name not in mail.body


def test_a_reply_written_on_an_old_page_does_not_reopen_a_request_closed_meanwhile(cast):
    """The member's page still shows the office's question (waiting) while a
    handler closes the request: the reply reads the status under the row
    lock, is refused, and the request stays closed."""
    ticket = ticket_create(assignee=cast.hanna)
    ticket_reply(
        ticket=ticket,
        actor=cast.hanna,
        body="Wann sind Sie zu Hause?",
        expected_version=ticket.version,
        public=True,
        ask_member=True,
    )
    page = Ticket.objects.get(pk=ticket.pk)  # what the member's page was built from
    assert page.status == Status.WAITING
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)  # the office, meanwhile
    events = TicketEvent.objects.count()
    with pytest.raises(TicketError):
        ticket_member_reply(ticket=page, user=cast.alice, body="Ab 14 Uhr.")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED
    assert TicketEvent.objects.count() == events
