"""The team leads' overview in a real Chromium (issue 14): tom opens it
from the navigation, chooses a period and each part by keyboard; axe-core
finds nothing at 1280 px and on a 360 px phone, where nothing scrolls
sideways (wide tables scroll inside themselves, by keyboard too); the
charts have their title and description and the same figures as a
table."""

import datetime

import pytest
from django.utils import timezone

from appointments.models import Advisor, AppointmentType, WeeklyHours
from tests.browser import check_page, log_in, tab_to
from tests.factories import appointment_put, ticket_create
from tests.helpers import de, otp_device

pytestmark = pytest.mark.browser


def test_tom_reads_the_overview_by_keyboard(page, live_server, cast, password):
    now = timezone.now()
    for days in (1, 2, 2, 9, 35):
        ticket_create(created_at=now - datetime.timedelta(days=days))
    topic = AppointmentType.objects.create(slug="beratung", name_de="Beratung", name_en="Advice")
    for user in (cast.hanna, cast.tom):
        advisor = Advisor.objects.create(user=user)
        WeeklyHours.objects.bulk_create(
            WeeklyHours(advisor=advisor, weekday=day, starts=datetime.time(9),
                        ends=datetime.time(12))
            for day in range(5)
        )  # fmt: skip
        for days, status in ((3, "attended"), (10, "no_show"), (17, "cancelled")):
            starts = timezone.localtime(now).replace(hour=9, minute=0, second=0, microsecond=0)
            appointment_put(advisor, starts - datetime.timedelta(days=days), 45, status,
                            member=cast.alice.member, topic=topic)  # fmt: skip
    otp_device(cast.tom)
    base = live_server.url
    log_in(page, base, "tom@example.org", password)

    tab_to(page, "a[href='/bearbeitung/ueberblick/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_page(page)
    svg = page.locator("svg.chart__svg")
    assert svg.get_attribute("role") == "img"
    assert de("Requests received per day") in page.locator("svg title#chart-title").text_content()
    assert page.locator("svg rect.chart__bar").count() == 90
    # Coordinates are plain numbers (a German decimal comma is no SVG number):
    # the bars stand side by side, the higher ones taller.
    xs = page.eval_on_selector_all("svg rect.chart__bar", "els => els.map(e => e.x.baseVal.value)")
    assert xs == sorted(xs) and len(set(xs)) == 90 and xs[-1] > 600
    heights = page.eval_on_selector_all(
        "svg rect.chart__bar", "els => els.map(e => e.height.baseVal.value)"
    )
    assert max(heights) > 100 and heights[-2] > 0  # two requests yesterday: the highest bar
    # The same figures as a table, behind a summary the keyboard opens.
    tab_to(page, "figcaption summary")
    page.keyboard.press("Enter")
    assert page.locator("figcaption table tbody tr").count() == 90
    check_page(page)

    # The last 30 days, by keyboard.
    tab_to(page, "#id_zeitraum")
    page.keyboard.press("Home")  # the native select takes arrow keys
    page.select_option("#id_zeitraum", "30")
    tab_to(page, "form.filters button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("svg rect.chart__bar").count() == 30

    for part in ("rueckstand", "zeiten", "schwerpunkte", "ergebnis"):
        tab_to(page, f"nav a[href*='teil={part}']")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("main nav a[aria-current=page]").get_attribute("href").endswith(part)
        check_page(page)
    # The outcome: the advisors' hours as a chart and a table that scrolls
    # by keyboard on a phone; the estate and team do not narrow them.
    assert (
        de("Hours offered and booked per advisor")
        in page.locator("svg title#use-chart-title").text_content()
    )
    assert page.locator("svg rect.chart__whole").count() == 2
    assert page.locator("table tfoot th").text_content() == de("All advisors")
    page.set_viewport_size({"width": 360, "height": 740})
    tab_to(page, "div.table-scroll[role=region]")
    assert page.evaluate("document.activeElement.scrollWidth > document.activeElement.clientWidth")
    page.keyboard.press("ArrowRight")
    for _ in range(20):  # the browser may scroll smoothly
        if page.evaluate("document.activeElement.scrollLeft") > 0:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("document.activeElement.scrollLeft") > 0
    page.set_viewport_size({"width": 1280, "height": 900})
    # The backlog's numbers lead to the inbox.
    tab_to(page, "nav a[href*='teil=rueckstand']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "table.data-table a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/bearbeitung/?" in page.url and "state=open" in page.url
