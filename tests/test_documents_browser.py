"""Documents in a real Chromium (issue 15, points 1 and 2), keyboard only:
lena (member services) uploads the yearly statements of alice's building
as a ZIP, one of them for a contract that does not exist; the report says
so per file, and nothing is out. tom, a team lead, publishes the batch in
one confirmed step. alice, on a 360 px phone, finds one new document on
Mein Bereich and downloads it; her household's forms to download are a
click away. axe-core finds nothing on any page (tests.browser.check_page:
1280 px and 360 px)."""

import io
import zipfile

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from demo.cast import staff_ensure
from demo.documents import forms_demo_ensure
from demo.pdf import pdf_simple
from documents.models import BatchState, DocumentBatch
from members.models import Contract
from routing.models import Team
from tests.browser import PHONE, check_page, log_in, tab_to
from tests.helpers import de, otp_device

pytestmark = pytest.mark.browser


def press_enter(page):
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    return navigation.value


def fill_date(page, selector: str, value: str) -> None:
    """Reach a date field by keyboard and set it as the browser's own picker
    would (headless Chromium takes no typed digits there)."""
    tab_to(page, selector)
    page.fill(selector, value)
    assert page.input_value(selector) == value


def statements_zip() -> bytes:
    contracts = list(
        Contract.objects.current()
        .filter(unit__building__street="Nordring", unit__building__house_number="1")
        .order_by("number")
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for contract in contracts:
            archive.writestr(
                f"{contract.number}_Betriebskosten_2025.pdf",
                pdf_simple("Betriebskostenabrechnung 2025", [contract.number]),
            )
        archive.writestr("NV-9999999_Betriebskosten_2025.pdf", pdf_simple("?"))
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"


def test_upload_report_publish_and_alice_downloads_on_her_phone(
    page, live_server, cast, password, tmp_path
):
    lena = staff_ensure("lena@example.org", "Lena", "Lorenz", roles.HANDLER)
    lena.groups.add(Group.objects.get(name=roles.DOCUMENTS))
    Team.objects.get(name="Mitgliederwesen").members.add(lena)
    archive = tmp_path / "betriebskosten-2025.zip"
    archive.write_bytes(statements_zip())
    base = live_server.url

    log_in(page, base, "lena@example.org", password)
    tab_to(page, "nav a[href='/bearbeitung/dokumente/']")
    press_enter(page)
    check_page(page)
    tab_to(page, "main a[href='/bearbeitung/dokumente/stapel/neu/']")
    press_enter(page)
    check_page(page)
    tab_to(page, "#id_kind")
    page.keyboard.press("ArrowDown")  # the first kind: service-charge statement
    tab_to(page, "#id_title")
    page.keyboard.type("Betriebskostenabrechnung 2025")
    fill_date(page, "#id_period_start", "2025-01-01")
    fill_date(page, "#id_period_end", "2025-12-31")
    tab_to(page, "#id_files")
    page.set_input_files("#id_files", str(archive))
    tab_to(page, "main form button[type=submit]")
    press_enter(page)

    batch = DocumentBatch.objects.get()
    assert page.url == f"{base}/bearbeitung/dokumente/stapel/{batch.public_id}/"
    assert batch.state == BatchState.CHECKED
    assert batch.files_refused == 1
    report = page.locator("main").inner_text()
    assert "NV-9999999_Betriebskosten_2025.pdf" in report
    assert de("A team lead or an admin publishes it.") in report
    check_page(page)

    page.context.clear_cookies()
    otp_device(cast.tom)  # a team lead logs in with his app's code
    log_in(page, base, "tom@example.org", password)
    page.goto(f"{base}/bearbeitung/dokumente/stapel/{batch.public_id}/")
    tab_to(page, f"main a[href$='/{batch.public_id}/veroeffentlichen/']")
    press_enter(page)
    check_page(page)
    tab_to(page, "main form button[type=submit]")
    assert page.evaluate("document.activeElement.textContent.trim()") == de("Publish now")
    press_enter(page)
    batch.refresh_from_db()
    assert batch.state == BatchState.PUBLISHED and batch.published_by == cast.tom
    check_page(page)

    # alice, on her phone.
    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    forms_demo_ensure()
    log_in(page, base, "alice@example.org", password)
    card = page.locator("main section[aria-labelledby=documents-title]")
    assert "1" in card.locator(".tag--new").inner_text()
    check_page(page)
    tab_to(page, "main a[href='/dokumente/']")
    press_enter(page)
    check_page(page)
    assert "Betriebskostenabrechnung 2025" in page.locator("main").inner_text()
    tab_to(page, "main .ticket-list a[href^='/dokumente/']")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    saved = tmp_path / "saved.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    assert download.value.suggested_filename == "Betriebskostenabrechnung 2025.pdf"
    page.reload()
    assert page.locator("main .tag--new").count() == 0
    tab_to(page, "main a[href='/formulare/']")
    press_enter(page)
    assert "SEPA-Lastschriftmandat" in page.locator("main").inner_text()
    check_page(page)


def test_the_forms_page_and_a_request_form_with_its_forms(page, live_server, cast, password):
    forms_demo_ensure()
    page.goto(live_server.url + "/formulare/")
    check_page(page)
    log_in(page, live_server.url, "alice@example.org", password)
    page.goto(live_server.url + "/anliegen/neu/kuendigung/")
    assert de("Forms for this request") in page.locator("main").inner_text()
    check_page(page)
