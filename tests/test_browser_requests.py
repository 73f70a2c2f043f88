"""Requests in a real Chromium: a member files a repair report with a photo
using only the keyboard, a handler answers, the member reads the answer;
axe-core and the 360 px phone width on every page on the way."""

import io

import pytest
from PIL import Image

from routing.models import Team
from tests.browser import (
    PHONE,
    check_page,
    log_in,
    submit,
    tab_to,
)
from tests.factories import ticket_create
from tickets.models import Status, Ticket
from tickets.selectors import MEMBER_PAGE_SIZE

pytestmark = pytest.mark.browser


def test_a_member_files_a_repair_report_by_keyboard_and_reads_the_answer(
    page,
    live_server,
    cast,
    password,
    repair,
    tmp_path,
):
    Team.objects.get(name="Technik").members.add(cast.hanna)
    photo = tmp_path / "wasserfleck.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), "blue").save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    base = live_server.url

    log_in(page, base, "alice@example.org", password)
    page.goto(base + "/anliegen/neu/")
    check_page(page)
    page.goto(base + f"/anliegen/neu/{repair.slug}/")
    check_page(page)

    # First send it empty: errors, summary focused, nothing lost afterwards.
    submit(page)
    assert page.evaluate("document.activeElement.matches('[data-error-summary]')")
    check_page(page)

    # Keyboard only: reach each control with Tab, choose with Space, type.
    # Playwright turns the file chooser interception on without waiting for
    # it: a listener from before the key press makes sure it is on by then.
    page.on("filechooser", lambda chooser: None)
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    tab_to(page, "#id_room_0")  # a radio group is entered on its first item
    page.keyboard.press("ArrowDown")  # arrow keys move and choose: Bathroom
    tab_to(page, "#id_what")
    page.keyboard.type("Wasserfleck an der Decke im Bad.")
    tab_to(page, "#id_urgency_0")
    page.keyboard.press("Space")
    tab_to(page, "#id_photos")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(photo))
    tab_to(page, "#id_master_key_0")
    page.keyboard.press("Space")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(base + f"/anliegen/neu/{repair.slug}/pruefen/")
    assert "Wasserfleck an der Decke im Bad." in page.locator("main").inner_text()
    assert "wasserfleck.jpg" in page.locator("main").inner_text()
    check_page(page)
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    ticket = Ticket.objects.get()
    assert ticket.answers["room"] == "bathroom"
    page.wait_for_url(base + f"/anliegen/{ticket.reference}/")
    assert ticket.attachments.count() == 1
    check_page(page)
    page.goto(base + "/anliegen/")
    assert ticket.reference in page.locator("main").inner_text()
    check_page(page)

    # The handler answers in the back office.
    page.locator("form[action='/abmelden/'] button").click()
    page.wait_for_url(base + "/anmelden/")
    page.goto(base + f"/anmelden/?next=/bearbeitung/anliegen/{ticket.reference}/")
    page.fill("#id_email", "hanna@example.org")
    page.fill("#id_password", password)
    submit(page)
    page.wait_for_url(base + f"/bearbeitung/anliegen/{ticket.reference}/")
    check_page(page)
    page.fill("#id_body", "Wir schicken am Montag einen Maler.")
    with page.expect_navigation():
        page.locator("main form:has(input[value=reply]) button[type=submit]").click()
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    page.goto(base + "/bearbeitung/anruf/")
    check_page(page)

    # The member reads the answer.
    page.locator("form[action='/abmelden/'] button").click()
    page.wait_for_url(base + "/anmelden/")
    log_in(page, base, "alice@example.org", password)
    page.goto(base + f"/anliegen/{ticket.reference}/")
    assert "Wir schicken am Montag einen Maler." in page.locator("main").inner_text()


def test_a_member_pages_through_a_long_history_by_keyboard_on_a_phone(
    page, live_server, cast, password
):
    made = [ticket_create() for _ in range(MEMBER_PAGE_SIZE + 2)]
    base = live_server.url
    page.set_viewport_size(PHONE)
    log_in(page, base, "alice@example.org", password)
    page.goto(base + "/anliegen/")
    main = page.locator("main")
    assert main.locator(".ticket-list__item").count() == MEMBER_PAGE_SIZE
    assert "Seite 1 von 2" in main.inner_text()
    check_page(page)
    tab_to(page, "a[rel=next]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/anliegen/?seite=2")
    assert main.locator(".ticket-list__item").count() == 2
    assert made[0].reference in main.inner_text()
    check_page(page)
    tab_to(page, "a[rel=prev]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/anliegen/?seite=1")
