"""Notices in a real Chromium (issue 14, point 5), keyboard only: hanna,
the property manager of alice's estate, writes a heating outage for
alice's building, checks the preview and publishes it in one confirmed
step; a title left out is announced first. alice then finds it at the top
of Mein Bereich on a 360 px phone, with its end in words. axe-core finds
nothing on any page (tests.browser.check_page: 1280 px and 360 px)."""

import datetime

import pytest
from django.utils import timezone

from cooperative.models import Building
from members.models import Contract
from notices.models import Notice
from tests.browser import PHONE, check_page, log_in, tab_to
from tests.helpers import de

pytestmark = pytest.mark.browser


def press_enter(page):
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    return navigation.value


def type_moment(page, selector: str, moment: datetime.datetime) -> None:
    """Reach a datetime-local field by keyboard and set its value. This
    headless Chromium takes no typed digits in a datetime-local field (a
    probe of every digit order stayed empty), so the value is filled in as
    the browser's own picker would."""
    tab_to(page, selector)
    page.fill(selector, f"{moment:%Y-%m-%dT%H:%M}")
    assert page.input_value(selector) == f"{moment:%Y-%m-%dT%H:%M}"


def test_hanna_publishes_by_keyboard_and_alice_reads_it_on_her_phone(
    page, live_server, cast, password
):
    building: Building = Contract.objects.current().get(members=cast.alice.member).unit.building
    base = live_server.url
    log_in(page, base, "hanna@example.org", password)
    tab_to(page, "nav a[href='/bearbeitung/aushaenge/']")
    press_enter(page)
    check_page(page)
    tab_to(page, "main a[href='/bearbeitung/aushaenge/neu/']")
    press_enter(page)
    check_page(page)

    now = timezone.localtime()
    until = (now + datetime.timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)
    tab_to(page, "#id_kind")
    page.keyboard.press("ArrowDown")  # the first kind: heating or hot water
    tab_to(page, f"input[name=buildings][value='{building.pk}']")
    page.keyboard.press("Space")
    type_moment(page, "#id_valid_from", now.replace(second=0, microsecond=0))
    type_moment(page, "#id_valid_until", until)
    tab_to(page, "#id_text_de")
    page.keyboard.type("Die Heizung ist defekt und wird repariert.")
    tab_to(page, "main form button[type=submit]")
    response = press_enter(page)
    # Without a title: 400, the error summary names it.
    assert response.status == 400
    assert de("Please give the notice a title.") in page.locator("main").inner_text()
    check_page(page)
    tab_to(page, "#id_title_de")
    page.keyboard.type("Heizung fällt aus")
    tab_to(page, "main form button[type=submit]")
    press_enter(page)

    notice = Notice.objects.get()
    assert page.url == f"{base}/bearbeitung/aushaenge/{notice.public_id}/"
    assert "Heizung fällt aus" in page.locator(".notice-preview").inner_text()
    check_page(page)
    tab_to(page, f"main a[href$='/{notice.public_id}/veroeffentlichen/']")
    press_enter(page)
    check_page(page)
    tab_to(page, "main form button[type=submit]")
    assert page.evaluate("document.activeElement.textContent.trim()") == de("Publish now")
    press_enter(page)
    notice.refresh_from_db()
    assert notice.published_by == cast.hanna and notice.state() == "current"
    assert "Veröffentlicht." in page.locator(".notifications").inner_text()

    # alice, on her phone.
    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    log_in(page, base, "alice@example.org", password)
    card = page.locator("main .notice-card")
    assert card.count() == 1
    text = card.inner_text()
    weekday = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
    assert "Heizung fällt aus" in text and f"bis {weekday[until.weekday()]}, 12:00" in text
    # The first card of the page.
    first = page.evaluate("document.querySelector('main section').className")
    assert "notice-card" in first
    check_page(page)
    tab_to(page, "main a[href='/aushaenge/']")
    press_enter(page)
    assert "Heizung fällt aus" in page.locator("main").inner_text()
    check_page(page)


def test_hanna_pages_through_the_list_by_keyboard(page, live_server, cast, password, monkeypatch):
    """A page at a time (notices.selectors.PAGE_SIZE, 2 here): the next
    page is a link reached by keyboard; both pages pass axe-core."""
    monkeypatch.setattr("notices.selectors.PAGE_SIZE", 2)
    estate = Contract.objects.current().get(members=cast.alice.member).unit.building.estate
    now = timezone.now()
    for number in range(3):
        Notice.objects.create(
            kind="water",
            title_de=f"Wasser {number}",
            text_de="Kein Wasser.",
            estate=estate,
            valid_from=now + datetime.timedelta(days=number),
            valid_until=now + datetime.timedelta(days=number, hours=4),
            published_at=now,
            published_by=cast.tom,
        )
    base = live_server.url
    log_in(page, base, "hanna@example.org", password)
    page.goto(f"{base}/bearbeitung/aushaenge/")
    assert "Wasser 2" not in page.locator("main").inner_text()
    check_page(page)
    tab_to(page, "main a[rel=next]")
    press_enter(page)
    assert page.url == f"{base}/bearbeitung/aushaenge/?seite=2"
    text = page.locator("main").inner_text()
    assert "Wasser 2" in text and "Wasser 0" not in text
    assert de("Page %(number)s of %(count)s") % {"number": 2, "count": 2} in text
    check_page(page)
