"""Certificates in a real Chromium (issue 15, point 3), keyboard only: alice
asks for her membership certificate on Mein Bereich and downloads the PDF
at once; the code printed on it, typed into the public check, confirms it,
and a mistyped one is announced and finds nothing. axe-core finds nothing
on any page at 1280 px and on a 360 px phone (tests.browser.check_page)."""

import io
import re

import pytest
from pypdf import PdfReader

from tests.browser import check_page, log_in, tab_to
from tests.helpers import de

pytestmark = pytest.mark.browser

CODE = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){6}\b")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def press_enter(page):
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_alice_gets_her_certificate_at_once_and_its_code_checks_out(
    page, live_server, cast, password, tmp_path
):
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    check_page(page)  # Mein Bereich, with the certificates
    tab_to(page, "form[action='/bescheinigungen/ausstellen/mitgliedsbescheinigung/'] button")
    press_enter(page)
    assert re.search(r"/bescheinigungen/\d+/$", page.url)
    assert page.locator("h1").inner_text() == "Mitgliedsbescheinigung"
    check_page(page)

    tab_to(page, "a[href$='/pdf/']")
    with page.expect_download() as waiting:
        page.keyboard.press("Enter")
    download = waiting.value
    assert download.suggested_filename.endswith(".pdf")
    saved = tmp_path / "bescheinigung.pdf"
    download.save_as(saved)
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(saved.read_bytes())).pages).split()
    )
    assert "Alice Ahrens" in text
    [code] = CODE.findall(text)

    # Whoever she gives it to checks it: first mistyped, then right.
    page.goto(base + "/pruefen/")
    check_page(page)
    tab_to(page, "#id_code")
    page.keyboard.type(code[:-5])
    press_enter(page)
    assert (
        de(
            "This is not a verification code. It has 28 letters and digits; please check "
            "what you typed against the certificate."
        )
        in page.content()
    )
    assert page.input_value("#id_code") == code[:-5]  # nothing typed is lost
    check_page(page)
    tab_to(page, "#id_code")
    page.fill("#id_code", "")
    page.keyboard.type(code.lower())
    press_enter(page)
    assert page.locator("h1").inner_text() == de("Certificate confirmed")
    assert "Alice Ahrens" in page.locator("main").inner_text()
    assert cast.alice.member.member_number not in page.locator("main").inner_text()
    check_page(page)

    changed = ("2" if code[0] != "2" else "3") + code[1:]
    response = page.goto(base + f"/pruefen/{changed}/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == de("No certificate found")
    check_page(page)
