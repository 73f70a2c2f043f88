"""The login expires while someone is filling in a form: what they typed is
kept through the new login and shown again, only to them."""

import datetime
import io

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from PIL import Image

from tests.browser import PHONE, assert_accessible, assert_fits_width
from tests.browser import log_in as log_in_page
from tests.factories import GOOD, photo, ticket_create
from tests.helpers import de
from tickets.models import Status, Ticket, TicketDraft, TicketEvent
from tickets.services import ticket_status_change

pytestmark = pytest.mark.django_db

WELCOME_BACK = "Welcome back. What you typed before the login expired is filled in again below."


def log_in(client, email, password):
    client.post("/anmelden/", {"email": email, "password": password})


def expire(client):
    """What eight hours of inactivity do: the session row is past its date."""
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )


def back_after_login(client, response, email, password):
    """Follow the redirect to the login, log in, land where the form was."""
    assert response.status_code == 302
    login_url = response["Location"]
    assert login_url.startswith("/anmelden/?next=")
    page = client.get(login_url)
    assert (
        de(
            "For your security you were logged out after a while. Please log in "
            "again: what you typed has been kept."
        )
        in page.content.decode()
    )
    target = page.context["next"]
    answer = client.post("/anmelden/", {"email": email, "password": password, "next": target})
    assert answer.status_code == 302 and answer["Location"] == target
    return client.get(target)


@pytest.fixture
def ticket(cast, repair):
    return ticket_create(request_type=repair, answers=GOOD)


def test_a_request_form_sent_after_the_login_expired_comes_back_filled(
    client, cast, repair, password
):
    log_in(client, "alice@example.org", password)
    form_url = f"/anliegen/neu/{repair.slug}/"
    client.get(form_url)
    expire(client)
    text = "Im Bad tropft der Wasserhahn seit Tagen – bitte rasch kommen!"
    response = client.post(
        form_url, {**GOOD, "what": text, "photos": photo("bad.jpg")}, HTTP_REFERER=form_url
    )
    assert not TicketDraft.objects.exists()  # nothing done while logged out
    page = back_after_login(client, response, "alice@example.org", password)
    body = page.content.decode()
    assert text in body
    assert de(WELCOME_BACK) in body
    # The file could not travel with the expired form: it is named.
    assert "bad.jpg" in body
    # The text is now the member's draft: it survives the next page load too.
    draft = TicketDraft.objects.get(user=cast.alice, request_type=repair)
    assert draft.answers["what"] == text and draft.answers["urgency"] == "normal"
    again = client.get(form_url).content.decode()
    assert text in again and de(WELCOME_BACK) not in again
    assert not Ticket.objects.exists()


def test_a_reply_and_a_reopen_reason_come_back(client, cast, ticket, password, settings):
    log_in(client, "alice@example.org", password)
    detail = f"/anliegen/{ticket.reference}/"
    expire(client)
    response = client.post(detail, {"body": "Der Klempner war noch nicht da."})
    page = back_after_login(client, response, "alice@example.org", password)
    assert "Der Klempner war noch nicht da." in page.content.decode()
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.MEMBER_REPLY).exists()

    ticket_status_change(
        ticket=ticket, actor=cast.hanna, status=Status.RESOLVED, expected_version=ticket.version
    )
    expire(client)
    response = client.post(
        f"{detail}wieder-oeffnen/", {"reason": "Es tropft schon wieder."}, HTTP_REFERER=detail
    )
    page = back_after_login(client, response, "alice@example.org", password)
    assert "Es tropft schon wieder.</textarea>" in page.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_a_handlers_reply_comes_back(client, cast, ticket, password):
    log_in(client, "hanna@example.org", password)
    url = f"/bearbeitung/anliegen/{ticket.reference}/"
    expire(client)
    response = client.post(
        url,
        {"action": "reply", "visibility": "public", "body": "Wir kommen am Montag.", "version": 1},
    )
    page = back_after_login(client, response, "hanna@example.org", password)
    assert "Wir kommen am Montag." in page.content.decode()
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.REPLY).exists()


def test_someone_else_logging_in_on_the_same_computer_never_sees_it(client, cast, ticket, password):
    log_in(client, "alice@example.org", password)
    detail = f"/anliegen/{ticket.reference}/"
    expire(client)
    response = client.post(detail, {"body": "Meine Telefonnummer ist 0171 2345678."})
    assert response.status_code == 302
    # Dave logs in next in this browser (Alice's text is in its session).
    log_in(client, "dave@example.org", password)
    page = client.get("/mein-bereich/").content.decode()
    assert "0171 2345678" not in page
    assert "kept_post" not in client.session
    # Not even later when Alice logs in again on this browser: it is gone.
    client.post("/abmelden/")
    log_in(client, "alice@example.org", password)
    assert "0171 2345678" not in client.get(detail).content.decode()


def test_after_logging_out_on_purpose_nothing_is_kept(client, cast, ticket, password):
    log_in(client, "alice@example.org", password)
    detail = f"/anliegen/{ticket.reference}/"
    client.post("/abmelden/")
    response = client.post(detail, {"body": "Hallo"})
    assert response.status_code == 302
    assert "kept_post" not in client.session


def test_a_forged_session_cookie_keeps_nothing(client, cast, ticket):
    client.cookies["sessionid"] = "nonsense"
    response = client.post(f"/anliegen/{ticket.reference}/", {"body": "Hallo"})
    assert response.status_code == 302
    assert "kept_post" not in client.session


@pytest.mark.browser
def test_in_the_browser_the_form_waits_for_the_password_and_keeps_the_photo(
    page, live_server, cast, password, repair, tmp_path
):
    picture = tmp_path / "deckenfleck.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), "blue").save(buffer, "JPEG")
    picture.write_bytes(buffer.getvalue())
    base = live_server.url
    log_in_page(page, base, "alice@example.org", password)
    page.goto(base + f"/anliegen/neu/{repair.slug}/")
    page.check("#id_room_1")
    page.fill("#id_what", "Fleck an der Decke, wird größer.")
    page.check("#id_urgency_0")
    page.check("#id_master_key_0")
    page.set_input_files("#id_photos", str(picture))

    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    page.focus("main form button[type=submit]")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert page.evaluate("document.activeElement.id") == "relogin-password"
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_fits_width(page)
    assert_accessible(page)
    assert not TicketDraft.objects.exists()

    # A wrong password: told in the dialog, the form still waits.
    page.keyboard.type("falsch")
    page.keyboard.press("Enter")
    error = page.locator("#relogin-error")
    error.wait_for()
    assert error.inner_text()
    assert page.evaluate("document.activeElement.id") == "relogin-password"
    assert_accessible(page)

    # The right one: logged in again, the form goes off with the photo.
    page.fill("#relogin-password", password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(base + f"/anliegen/neu/{repair.slug}/pruefen/")
    main = page.locator("main").inner_text()
    assert "Fleck an der Decke, wird größer." in main
    assert "deckenfleck.jpg" in main
    draft = TicketDraft.objects.get(user=cast.alice)
    assert draft.attachments.count() == 1


@pytest.mark.browser
def test_cancel_leaves_the_form_as_it_was(page, live_server, cast, password, ticket):
    base = live_server.url
    log_in_page(page, base, "alice@example.org", password)
    page.goto(base + f"/anliegen/{ticket.reference}/")
    page.fill("#id_body", "Noch eine Frage.")
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    page.locator("#id_body").press("Tab")
    page.locator("main form[enctype] button[type=submit]").click()
    page.get_by_role("dialog").wait_for()
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="hidden")
    assert page.input_value("#id_body") == "Noch eine Frage."
    assert page.url == base + f"/anliegen/{ticket.reference}/"


def test_the_status_check_says_whether_the_login_is_still_valid(client, cast):
    response = client.get("/anmelden/status/")
    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"
    client.force_login(cast.alice)
    assert client.get("/anmelden/status/").status_code == 204
    expire(client)
    assert client.get("/anmelden/status/").status_code == 401
    assert client.post("/anmelden/status/").status_code == 405
