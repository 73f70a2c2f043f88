"""Incidents in a real Chromium, keyboard only (issue 14, point 4): tom, a
team lead, finds the planted heating outage the detector proposed under
"Störungen", accepts it with a text for the members, and resolves it (its
requests are then resolved). axe-core finds nothing on every page at
1280 px and on a 360 px phone."""

import pytest
from django.urls import reverse

from demo.incidents import incidents_demo_ensure
from incidents.models import Incident, IncidentStatus
from incidents.services import incidents_detect
from tests.browser import check_page, log_in, tab_to
from tests.helpers import otp_device
from tickets.models import Status, Ticket

pytestmark = pytest.mark.browser


def press_enter(page):
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    return navigation.value


def test_tom_accepts_and_resolves_the_heating_outage_by_keyboard(page, live_server, cast, password):
    incidents_demo_ensure(cast)
    incidents_detect()
    incident = Incident.objects.get(status=IncidentStatus.PROPOSED)
    base = live_server.url
    otp_device(cast.tom)
    log_in(page, base, "tom@example.org", password)

    tab_to(page, f"nav a[href='{reverse('backoffice:incidents')}']")
    press_enter(page)
    check_page(page)
    assert "Heizung in Nordring 3" in page.inner_text("main")
    tab_to(page, f"main a[href='{reverse('backoffice:incident', args=[incident.public_id])}']")
    press_enter(page)
    check_page(page)
    accept = reverse("backoffice:incident_accept", args=[incident.public_id])
    tab_to(page, f"main a[href='{accept}']")
    press_enter(page)
    check_page(page)
    tab_to(page, "#id_public_text")
    page.keyboard.type("Die Heizungsanlage ist defekt; die Firma Wärme Schulz repariert sie heute.")
    tab_to(page, "main form[method=post] button[type=submit]")
    press_enter(page)
    check_page(page)
    assert "Angenommen" in page.inner_text("main")

    resolve = reverse("backoffice:incident_resolve", args=[incident.public_id])
    tab_to(page, f"main a[href='{resolve}']")
    press_enter(page)
    check_page(page)
    tab_to(page, "main form[method=post] button[type=submit]")
    press_enter(page)
    check_page(page)
    assert "Behoben" in page.inner_text("main")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_by == cast.tom
    tickets = Ticket.objects.filter(incident_link__incident=incident)
    assert set(tickets.values_list("status", flat=True)) == {Status.RESOLVED}
