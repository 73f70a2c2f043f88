"""The member details of issue 10 in a real Chromium: the big photo picker
by keyboard and on a 360 px phone, photos as thumbnails for the member and
the handler, and withdrawing a request; axe-core on every page."""

import io

import pytest
from PIL import Image

from tests.browser import PHONE, check_page, log_in, tab_to
from tests.factories import photo, ticket_create
from tests.helpers import de
from tickets.files import CleanFile, file_clean
from tickets.models import RequestType, Status, Ticket
from tickets.services import draft_save, ticket_member_reply, ticket_withdraw

pytestmark = pytest.mark.browser

FOCUS_YELLOW = "rgb(255, 221, 0)"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _jpeg(path, colour):
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def _pdf():
    return CleanFile(b"%PDF-1.4\n%%EOF\n", "application/pdf", "plan.pdf")


def _log_out(page, base):
    page.locator("form[action='/abmelden/'] button").click()
    page.wait_for_url(base + "/anmelden/")


def test_the_photo_picker_is_a_big_control_for_keyboard_and_phone(
    page, live_server, cast, password, tmp_path
):
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    page.goto(base + "/anliegen/neu/schadensmeldung/")
    check_page(page)
    picker = page.locator("label.file-picker__button")
    assert picker.inner_text().strip() == de("Take or choose photos")
    accept = page.get_attribute("#id_photos", "accept")
    assert accept.startswith("image/*")  # phones offer the camera
    for size in ({"width": 1280, "height": 900}, PHONE):
        page.set_viewport_size(size)
        box = picker.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 280, box
    page.set_viewport_size({"width": 1280, "height": 900})

    # Keyboard only: the (visually hidden) input takes the focus, which is
    # drawn on the big label; Space opens the chooser.
    # Playwright turns the chooser interception on without waiting for it:
    # a listener from before the key press makes sure it is on by then.
    page.on("filechooser", lambda chooser: None)
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    tab_to(page, "#id_photos")
    focused = picker.evaluate(
        "label => [getComputedStyle(label).backgroundColor, getComputedStyle(label).boxShadow]"
    )
    assert focused[0] == FOCUS_YELLOW and focused[1] != "none", focused
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(
        [_jpeg(tmp_path / "fleck-decke.jpg", "blue"), _jpeg(tmp_path / "fleck-wand.jpg", "red")]
    )
    chosen = page.locator("[data-file-names]")
    assert "fleck-decke.jpg" in chosen.inner_text() and "fleck-wand.jpg" in chosen.inner_text()
    check_page(page)

    # Sent with a missing answer, the photos are kept and come back as
    # thumbnails of the draft.
    page.check("#id_room_1")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert page.locator("img.thumbs__image").count() == 2
    check_page(page)


def test_photos_show_as_thumbnails_to_the_member_and_the_handler(page, live_server, cast, password):
    ticket = ticket_create(assignee=cast.hanna)
    ticket_member_reply(
        ticket=ticket, user=cast.alice, body="Hier ein Foto.", files=[file_clean(photo())]
    )
    ticket_member_reply(
        ticket=ticket,
        user=cast.alice,
        body="Noch eins, und der Plan.",
        files=[file_clean(photo("zweites.jpg", exif=False)), _pdf()],
    )
    draft_save(
        user=cast.alice,
        request_type=RequestType.objects.get(slug="schadensmeldung"),
        answers={},
        files=[file_clean(photo("entwurf.jpg"))],
    )
    base = live_server.url

    def thumbnails_load(names):
        images = page.locator("img.thumbs__image")
        assert images.count() == len(names)
        for index, name in enumerate(names):
            image = images.nth(index)
            image.scroll_into_view_if_needed()
            page.wait_for_function(
                "image => image.complete && image.naturalWidth > 0", arg=image.element_handle()
            )
            assert image.get_attribute("alt") == name
            box = image.bounding_box()
            assert 100 <= box["width"] <= 200 and 80 <= box["height"] <= 150, box
            href = image.locator("xpath=..").get_attribute("href")
            assert href == image.get_attribute("src")

    log_in(page, base, "alice@example.org", password)
    page.goto(base + f"/anliegen/{ticket.reference}/")
    thumbnails_load(["kaputt.jpg", "zweites.jpg"])
    assert page.locator("ul.file-list a", has_text="plan.pdf").count() == 1  # a document by name
    check_page(page)
    page.goto(base + "/anliegen/neu/schadensmeldung/")  # the draft's photo
    thumbnails_load(["entwurf.jpg"])
    check_page(page)

    _log_out(page, base)
    log_in(page, base, "hanna@example.org", password)
    page.goto(base + f"/bearbeitung/anliegen/{ticket.reference}/")
    thumbnails_load(["kaputt.jpg", "zweites.jpg"])
    check_page(page)


def test_the_member_withdraws_a_request_by_keyboard(page, live_server, cast, password):
    ticket = ticket_create(assignee=cast.hanna)
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    page.goto(base + f"/anliegen/{ticket.reference}/")
    check_page(page)
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    tab_to(page, "summary.disclosure__summary")
    page.keyboard.press("Enter")  # opens the confirmation step
    assert page.locator("details.disclosure").get_attribute("open") is not None
    check_page(page)
    tab_to(page, "#withdraw-reason")
    page.keyboard.type("Der Nachbar hat es schon repariert.")
    tab_to(page, "details.disclosure button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    ticket.refresh_from_db()
    assert ticket.status == Status.WITHDRAWN
    main = page.locator("main").inner_text()
    assert "Der Nachbar hat es schon repariert." in main
    assert page.locator("summary.disclosure__summary").count() == 0
    check_page(page)
    assert Ticket.objects.get(pk=ticket.pk).events.filter(data__to="withdrawn").count() == 1


def test_a_reply_into_a_request_withdrawn_meanwhile_keeps_the_text(
    page, live_server, cast, password
):
    ticket = ticket_create()
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    page.goto(base + f"/anliegen/{ticket.reference}/")
    page.fill("#id_body", "Kommen Sie bitte erst nach 10 Uhr.")
    # Meanwhile, in another tab, the request was withdrawn.
    ticket_withdraw(ticket=ticket, user=cast.alice, reason="")
    with page.expect_navigation():
        page.locator("main form:has(#id_body) button[type=submit]").click()
    assert page.evaluate("document.activeElement.matches('[data-error-summary]')")
    assert page.input_value("#unsent-text") == "Kommen Sie bitte erst nach 10 Uhr."
    check_page(page)
