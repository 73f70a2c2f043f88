"""A member's copy of their data in a real Chromium, by keyboard (issue
15, point 5): alice goes from Mein Bereich to "My data", asks for her
data, the worker runs (the database queue, drained as a worker would),
the page says it is ready and the download is a ZIP with data.json.
axe-core finds nothing on any page at 1280 px and on a 360 px phone."""

import json
import zipfile

import pytest
from django.core.management import call_command

from privacy.models import DataExport
from tests.browser import check_page, log_in, tab_to
from tests.helpers import de

pytestmark = pytest.mark.browser


def press_enter(page):
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    return navigation.value


def test_alice_asks_for_her_data_and_downloads_it(
    page, live_server, cast, password, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    tab_to(page, "main a[href='/meine-daten/']")
    press_enter(page)
    assert page.url == f"{base}/meine-daten/"
    check_page(page)

    tab_to(page, "main form button[type=submit]")
    assert page.evaluate("document.activeElement.textContent.trim()") == de("Request my data")
    press_enter(page)
    export = DataExport.objects.get()
    assert export.status == DataExport.Status.REQUESTED
    told = de(
        "We are preparing your data. We will send you an e-mail as soon as you can download it."
    )
    assert told in page.locator("main").inner_html()
    assert page.locator("main form").count() == 0  # nothing to press twice
    check_page(page)

    # The worker drains the queue, as `manage.py db_worker` does.
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY

    tab_to(page, "main a[href='/meine-daten/']")
    press_enter(page)
    link = f"main a[href='/meine-daten/{export.public_id}/datei/']"
    assert page.locator(link).count() == 1
    assert export.sha256 in page.locator("main").inner_text()
    check_page(page)
    tab_to(page, link)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    path = download.value.path()
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["member"]["member_number"] == cast.alice.member.member_number
    export.refresh_from_db()
    assert export.downloaded_at is not None
