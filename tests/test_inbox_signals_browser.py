"""Inbox signals in a real Chromium: hanna's inbox uses the whole width of a
1280 px screen with its markers, priorities and last activity, still works
as cards at 360 px, and staff pages carry no member footer; axe-core clean
throughout."""

import datetime

import pytest
from django.utils import timezone

from routing.models import Priority, Team
from tests.browser import PHONE, assert_accessible, assert_fits_width, log_in
from tests.factories import ticket_create
from tests.helpers import de
from tickets.models import Category, RequestType, TicketVisit

pytestmark = pytest.mark.browser


@pytest.fixture
def hannas_inbox(cast):
    """Thirty requests for hanna: five emergencies, the rest normal; she
    looked at every third, and alice wrote on one of those since (due
    before any other, so it leads the news from members)."""
    team, _ = Team.objects.update_or_create(name="Technik", defaults={"lead": cast.tom})
    team.members.set([cast.hanna])
    leak = RequestType.objects.create(
        slug="test-leck",
        name_de="Wasserschaden",
        name_en="Water damage",
        category=Category.REPAIR,
        default_team=team,
    )
    now = timezone.now()
    tickets = []
    for i in range(30):
        tickets.append(
            ticket_create(
                request_type=leak,
                member=cast.alice.member if i % 2 else cast.dave.member,
                answers={"what": "Wasser tropft von der Decke"},
                assignee=cast.hanna,
                due_at=now + datetime.timedelta(days=i - 2),
                priority=Priority.EMERGENCY if i % 6 == 0 else Priority.NORMAL,
            )
        )
        if i % 3 == 0:
            TicketVisit.objects.create(user=cast.hanna, ticket=tickets[-1])
    replied = tickets[3]
    type(replied).objects.filter(pk=replied.pk).update(
        member_activity_at=now + datetime.timedelta(minutes=1),
        due_at=now - datetime.timedelta(days=3),
    )
    return tickets


def footer_text(page) -> str:
    return page.locator("footer").inner_text()


def test_the_inbox_uses_the_full_width_and_shows_its_signals(
    page, live_server, cast, password, hannas_inbox
):
    log_in(page, live_server.url, "hanna@example.org", password)
    table = page.locator("table.inbox-table__table")
    width = table.evaluate("e => e.getBoundingClientRect().width")
    viewport = page.evaluate("document.documentElement.clientWidth")
    # The whole width but the page margins (1rem = 18 px each side).
    assert width >= viewport - 2 * 18 - 2, (width, viewport)
    assert page.locator(".inbox-table").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert_fits_width(page)

    # Needs action first: the emergencies, then news from the member.
    rows = page.locator("tbody tr")
    assert rows.count() == 25
    assert de("emergency").upper() in rows.first.inner_text().upper()
    emergency = page.locator(".priority--emergency").first
    assert emergency.evaluate("e => getComputedStyle(e).textTransform") == "uppercase"
    assert emergency.evaluate("e => getComputedStyle(e, '::before').content").startswith('"⚠')
    sixth = rows.nth(5).inner_text()
    assert de("Reply from the member") in sixth
    assert rows.nth(5).evaluate("e => getComputedStyle(e.querySelector('td')).fontWeight") == "700"
    assert de("New") in rows.nth(6).inner_text()
    # Seen and nothing new: normal weight, no marker.
    quiet = page.locator("tbody tr:not(.inbox-table__row--news)").first
    assert quiet.evaluate("e => getComputedStyle(e.querySelector('td')).fontWeight") == "400"
    assert page.locator(f"th:text-is('{de('Last activity')}')").is_visible()
    assert_accessible(page)

    # Another order is one click away.
    page.get_by_role("link", name=de("Due date"), exact=True).click()
    page.wait_for_url("**sort=due**")
    assert page.locator(".inbox-filters__more").get_attribute("open") is None
    assert_accessible(page)


def test_at_360_px_each_request_is_a_card_with_its_signals(
    page, live_server, cast, password, hannas_inbox
):
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "hanna@example.org", password)
    assert_fits_width(page)
    first = page.locator("tbody tr").first
    assert first.evaluate("e => getComputedStyle(e).display") == "block"
    assert page.locator(f"td[data-label='{de('Priority')}']").first.is_visible()
    assert page.locator(f"td[data-label='{de('Last activity')}']").first.is_visible()
    assert page.locator(".tag--news").first.is_visible()
    assert page.locator(".inbox-table").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert_accessible(page)


def test_staff_pages_show_no_member_footer(page, live_server, cast, password, hannas_inbox):
    log_in(page, live_server.url, "hanna@example.org", password)
    for path in ("/bearbeitung/", f"/bearbeitung/anliegen/{hannas_inbox[0].reference}/"):
        page.goto(live_server.url + path)
        text = footer_text(page)
        for member_part in (de("Office"), de("Opening hours"), "030 123456-0"):
            assert member_part not in text, (path, member_part)
        assert_accessible(page)
    page.context.clear_cookies()
    log_in(page, live_server.url, "alice@example.org", password)
    text = footer_text(page)
    assert de("Office") in text and de("Opening hours") in text and "030 123456-0" in text
