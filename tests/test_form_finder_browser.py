"""The form finder in a real Chromium: a member types everyday words, reads
the matching forms and opens one, keyboard only; the general question takes
the typed text along; axe-core clean and nothing too wide at 1280 and 360 px."""

import pytest

from tests.browser import PHONE, check_page, log_in, tab_to

pytestmark = pytest.mark.browser


def search(page, text):
    """Type into the search field by keyboard and send it with Enter."""
    tab_to(page, "#q")
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_member_finds_the_repair_report_by_keyboard(page, live_server, cast, password):
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    page.goto(base + "/anliegen/neu/")
    check_page(page)

    search(page, "Wasserhahn tropft")
    assert page.input_value("#q") == "Wasserhahn tropft"
    first = page.locator("#found li a").first
    assert first.inner_text() == "Schadensmeldung / Reparatur"
    check_page(page)

    tab_to(page, "#found li:first-child a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base + "/anliegen/neu/schadensmeldung/"
    assert page.locator("h1").inner_text() == "Schadensmeldung / Reparatur"


def test_the_general_question_takes_the_typed_text_along(page, live_server, cast, password):
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    page.goto(base + "/anliegen/neu/")

    search(page, "Wer mäht den Rasen im Hof?")
    # No form for it: a friendly empty state and the general question.
    assert page.locator("#found").count() == 0
    assert page.locator("#found-none").is_visible()
    check_page(page)

    tab_to(page, "#general-offer a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Allgemeine Frage"
    assert page.input_value("#id_message") == "Wer mäht den Rasen im Hof?"
    check_page(page)


def test_termin_and_a_long_odd_query_fit_the_phone(page, live_server, cast, password):
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    page.set_viewport_size(PHONE)
    page.goto(base + "/anliegen/neu/")

    search(page, "Termin")
    assert page.locator("#found li a").first.inner_text() == "Allgemeine Frage"
    check_page(page)

    search(page, '"Ölheizung" <kaputt> ' + "x" * 600)
    # The field takes 500 characters; the heating is still found.
    assert len(page.input_value("#q")) == 500
    assert page.locator("#found li a").first.inner_text() == "Schadensmeldung / Reparatur"
    check_page(page)
