"""Every page says what the browser may load (no inline script), which
powers it may use, and pages behind a login are never stored."""

import pytest

from tests.browser import log_in
from tests.factories import ticket_create
from tests.helpers import otp_code, otp_device

pytestmark = pytest.mark.django_db


def test_every_page_carries_a_strict_content_security_policy(client, cast):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy + ";"
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "'unsafe-eval'" not in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "camera=()" in response["Permissions-Policy"]


def test_anonymous_pages_may_be_cached_but_member_pages_never(client, cast, password):
    assert "no-store" not in client.get("/anmelden/").get("Cache-Control", "")
    client.login(email="alice@example.org", password=password)
    for url in ("/mein-bereich/", "/anliegen/", "/mein-bereich/kontakt/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url
        assert "Cookie" in response["Vary"], url


def test_staff_pages_and_the_admin_are_never_stored(client, cast, password):
    ticket = ticket_create()
    client.login(email="hanna@example.org", password=password)
    for url in ("/bearbeitung/", f"/bearbeitung/anliegen/{ticket.reference}/", "/verwaltung/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_a_views_own_cache_header_stays(client, cast, password):
    # healthz says never_cache itself; the middleware does not overwrite it.
    client.login(email="alice@example.org", password=password)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "must-revalidate" in response["Cache-Control"]
    assert response["Cache-Control"] != "private, no-store"


@pytest.mark.browser
def test_no_page_breaks_the_policy_in_a_real_browser(page, live_server, cast, password):
    """Chromium enforces the header: no script, style or image on the pages
    a member and a handler use is refused (each refusal fires an event)."""
    ticket = ticket_create()
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    visited = []

    def check(path):
        page.goto(live_server.url + path)
        visited.append(path)
        assert page.evaluate("window.__violations") == [], path

    log_in(page, live_server.url, "alice@example.org", password)
    for path in (
        "/mein-bereich/",
        "/anliegen/",
        "/anliegen/neu/",
        f"/anliegen/{ticket.reference}/",
    ):
        check(path)
    page.context.clear_cookies()
    page.goto(live_server.url + "/anmelden/")
    otp_device(cast.ada)
    page.fill("#id_email", "ada@example.org")
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()
    page.fill("#id_code", otp_code(otp_device(cast.ada)))  # the second login step
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()
    for path in (
        "/bearbeitung/",
        f"/bearbeitung/anliegen/{ticket.reference}/",
        "/verwaltung/",
        f"/verwaltung/tickets/ticket/{ticket.pk}/change/",
        "/verwaltung/routing/routingrule/vorschau/",
    ):
        check(path)
    assert len(visited) == 9
