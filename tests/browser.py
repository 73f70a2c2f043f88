"""Helpers for the tests that drive a real Chromium (the `page` fixture in
conftest). A helper module, not a test module.

axe-core (and with it Playwright) is loaded on first use, as conftest loads
Playwright only when a browser test runs: modules that import these helpers
for their browser tests still collect and run their other tests without it."""

import functools

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PHONE = {"width": 360, "height": 740}


@functools.cache
def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def assert_accessible(page):
    """axe-core finds no WCAG 2.1 A/AA violation on the current page."""
    results = _axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def assert_fits_width(page):
    """Nothing sticks out sideways: no horizontal scrolling."""
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{page.url}: {scroll_width}px wide, viewport {inner_width}"


def submit(page):
    """Send the page's form and wait for the answer (every form posts and reloads)."""
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()


def log_in(page, base_url, email, password):
    """Log in through the form; an account with an authenticator app types
    the code its app shows on the second page. Members land in their area,
    staff in the inbox."""
    from accounts.models import User
    from tests.helpers import otp_code, otp_device

    page.goto(base_url + "/anmelden/")
    page.fill("#id_email", email)
    page.fill("#id_password", password)
    submit(page)
    user = User.objects.get(email=email)
    if "/anmelden/code/" in page.url:
        device = otp_device(user)
        type(device).objects.filter(pk=device.pk).update(last_t=-1)
        page.fill("#id_code", otp_code(device))
        submit(page)
    page.wait_for_url(base_url + ("/bearbeitung/" if user.is_staff else "/mein-bereich/"))


def tab_to(page, selector, limit=80):
    """Press Tab until the element matching selector has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"{selector} never got the focus")


def check_page(page):
    """axe-core finds nothing at the page's width and on a 360 px phone,
    where nothing may scroll sideways."""
    assert_accessible(page)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    assert_fits_width(page)
    assert_accessible(page)
    page.set_viewport_size(size)
