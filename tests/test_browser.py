"""The portal in a real Chromium: activation, login, keyboard use, axe-core
and a phone-sized screen.

Selectors use ids, URLs and roles rather than visible words, so the tests
hold whether or not the German translations are compiled."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.services import activation_codes_create
from members.models import Member
from tests.browser import PHONE, assert_accessible, assert_fits_width, log_in, submit

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Kaffee im Garten 1972"
SMALLEST = {"width": 320, "height": 640}  # WCAG 1.4.10: 1280 px at 400 % zoom


# Helpers ---------------------------------------------------------------------


def assert_unique_ids(page):
    """aria-describedby finds only the first of duplicated ids: every error must have its own."""
    duplicates = page.evaluate(
        """() => {
            const seen = {};
            document.querySelectorAll("[id]").forEach((e) => (seen[e.id] = (seen[e.id] || 0) + 1));
            return Object.keys(seen).filter((id) => seen[id] > 1);
        }"""
    )
    assert duplicates == [], f"{page.url}: duplicate ids {duplicates}"


def euro(value: Decimal) -> str:
    """An amount as the German page shows it: 1.234,56."""
    return f"{value:,.2f}".translate(str.maketrans(",.", ".,"))


def main_text(page) -> str:
    return page.locator("main").inner_text()


def log_out(page, base_url):
    page.locator("form[action='/abmelden/'] button").click()
    page.wait_for_url(base_url + "/anmelden/")


def html_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def focused(page, prop: str = "id") -> str:
    return page.evaluate(f"document.activeElement.{prop}")


def newcomer() -> Member:
    """A generated member of the demo stock who has no account yet."""
    return Member.objects.filter(user__isnull=True).order_by("member_number").first()


def enter_code(page, base_url, member, code):
    page.goto(base_url + "/aktivieren/")
    page.fill("#id_member_number", member.member_number)
    page.fill("#id_code", code)
    submit(page)
    page.wait_for_url(base_url + "/aktivieren/zugang/")


# Scenarios -------------------------------------------------------------------


def test_it_activates_an_account_end_to_end(page, live_server, cast, outbox):
    base = live_server.url
    member = newcomer()
    [(_, code, _)] = activation_codes_create(members=[member], created_by=None)
    email = "neu.mitglied@example.org"

    page.goto(base + "/")
    assert_accessible(page)
    page.goto(base + "/aktivieren/")
    assert_accessible(page)
    page.fill("#id_member_number", member.member_number)
    page.fill("#id_code", code.lower())  # typed from paper, any case
    submit(page)
    page.wait_for_url(base + "/aktivieren/zugang/")
    assert member.last_name in main_text(page)  # greeted by name
    assert_accessible(page)

    page.fill("#id_email", email)
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    submit(page)
    page.wait_for_url(base + "/aktivieren/postfach/")
    assert email in main_text(page)
    assert_accessible(page)

    [message] = outbox
    assert message.to == [email]
    [link] = re.findall(r"http://testserver/\S+", message.body)
    page.goto(link.replace("http://testserver", base))
    # The link alone logs nobody in: it asks for the password just chosen.
    assert_accessible(page)
    page.fill("#id_password", NEW_PASSWORD)
    submit(page)
    page.wait_for_url(base + "/mein-bereich/")
    assert_accessible(page)

    unit = member.contracts.get().unit
    shares = sum((s.total for s in member.shareholdings.all()), Decimal("0"))
    text = main_text(page)
    assert member.member_number in text
    assert f"{euro(shares)} €" in text
    assert unit.number in text
    assert unit.position in text
    assert email in text

    log_out(page, base)
    log_in(page, base, email, NEW_PASSWORD)
    assert member.member_number in main_text(page)


def test_it_shows_alice_her_household_apartment_and_shares(page, live_server, cast, password):
    log_in(page, live_server.url, "alice@example.org", password)
    assert_accessible(page)
    membership = page.locator("section[aria-labelledby=membership-title]").inner_text()
    assert "20001" in membership
    assert "800,00 €" in membership  # 2 required + 3 voluntary shares of 160 €
    apartment = page.locator("section[aria-labelledby^=contract-]").inner_text()
    assert "Bob Ahrens" in apartment
    assert "2. OG links" in apartment
    assert "Nordring 1" in apartment


def test_it_summarises_login_errors_and_moves_the_focus_there(page, live_server, cast):
    base = live_server.url
    page.goto(base + "/anmelden/")
    assert_accessible(page)

    submit(page)
    summary = page.get_by_role("alert")
    summary.wait_for()
    assert focused(page, "className") == "error-summary"
    assert summary.locator("a[href='#id_email']").count() == 1
    assert summary.locator("a[href='#id_password']").count() == 1
    for field in ("email", "password"):
        group = page.locator(f".form-group:has(#id_{field})")
        assert group.locator(f"#id_{field}-error").is_visible()
        assert page.get_attribute(f"#id_{field}", "aria-invalid") == "true"
        assert f"id_{field}-error" in page.get_attribute(f"#id_{field}", "aria-describedby")
    assert page.title().startswith(("Error:", "Fehler:"))
    assert_accessible(page)

    # A summary link takes the keyboard to the field, without a "#id_..." in
    # the address (which would pull the focus there after the next submit).
    summary.locator("a[href='#id_password']").click()
    assert focused(page) == "id_password"
    assert page.url == base + "/anmelden/"

    page.fill("#id_email", "alice@example.org")
    page.fill("#id_password", "not-her-password")
    submit(page)
    summary.wait_for()
    assert focused(page, "className") == "error-summary"
    assert summary.locator("li").count() == 1  # a non-field error, no field blamed
    assert page.locator(".error-message").count() == 0
    assert page.input_value("#id_email") == "alice@example.org"
    assert page.input_value("#id_password") == ""
    assert_accessible(page)


def test_it_logs_in_with_the_keyboard_alone(page, live_server, cast, password):
    base = live_server.url
    page.goto(base + "/")
    assert_accessible(page)

    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert focused(page, "className") == "skip-link"
    # Whatever the catalogues say in the page's language, not a hard-coded word.
    with translation.override(html_lang(page)):
        assert skip.inner_text().strip() == translation.gettext("Skip to main content")
    assert skip.get_attribute("href") == "#main"
    assert skip.is_visible()  # shown while focused, for sighted keyboard users
    page.keyboard.press("Enter")
    assert focused(page) == "main"

    # From <main>, the next stop is the login button of the first card.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/anmelden/"
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/anmelden/")
    assert_accessible(page)

    # Reach the e-mail field however the page starts (with or without autofocus).
    for _ in range(20):
        if focused(page) == "id_email":
            break
        page.keyboard.press("Tab")
    assert focused(page) == "id_email"
    page.keyboard.type("alice@example.org")
    page.keyboard.press("Tab")
    assert focused(page) == "id_password"
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/mein-bereich/")
    assert "20001" in main_text(page)


def test_it_keeps_the_chosen_language_across_logins(page, live_server, cast, password, browser):
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    assert html_lang(page) == "de"

    page.locator(".language-switch button[value=en]").click()
    page.wait_for_url(base + "/mein-bereich/")
    assert html_lang(page) == "en"
    assert page.locator(".language-switch button[value=de]").get_attribute("lang") == "de"
    assert_accessible(page)
    assert User.objects.get(email="alice@example.org").language == "en"

    log_out(page, base)
    assert html_lang(page) == "en"
    log_in(page, base, "alice@example.org", password)
    assert html_lang(page) == "en"

    # Another device with a German browser: the saved language wins after login.
    other = browser.new_context(locale="de-DE")
    try:
        phone = other.new_page()
        phone.goto(base + "/anmelden/")
        assert html_lang(phone) == "de"
        log_in(phone, base, "alice@example.org", password)
        assert html_lang(phone) == "en"
    finally:
        other.close()


# Every page, on a desktop and on a phone ---------------------------------------


def _start(page, base, cast, password, outbox):
    page.goto(base + "/")


def _login(page, base, cast, password, outbox):
    page.goto(base + "/anmelden/")


def _login_errors(page, base, cast, password, outbox):
    page.goto(base + "/anmelden/")
    page.fill("#id_email", "alice@example")
    submit(page)
    page.get_by_role("alert").wait_for()


def _activation_start(page, base, cast, password, outbox):
    page.goto(base + "/aktivieren/")


def _activation_start_errors(page, base, cast, password, outbox):
    page.goto(base + "/aktivieren/")
    page.fill("#id_member_number", "20001")
    page.fill("#id_code", "ABCD-EFGH-JKLM-NPQR")
    submit(page)
    page.get_by_role("alert").wait_for()


def _activation_details(page, base, cast, password, outbox):
    member = newcomer()
    [(_, code, _)] = activation_codes_create(members=[member], created_by=None)
    enter_code(page, base, member, code)


def _activation_details_errors(page, base, cast, password, outbox):
    _activation_details(page, base, cast, password, outbox)
    page.fill("#id_email", "kein-at-zeichen")
    page.fill("#id_password1", "kurz")
    page.fill("#id_password2", "kurz")
    submit(page)
    page.get_by_role("alert").wait_for()


def _activation_sent(page, base, cast, password, outbox):
    _activation_details(page, base, cast, password, outbox)
    # A long address, as some members have, must still fit a phone screen.
    page.fill("#id_email", "hannelore.schmidt-wuestenhagen@wohnungsgenossenschaft-beispiel.example")
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    submit(page)
    page.wait_for_url(base + "/aktivieren/postfach/")


def _activation_invalid(page, base, cast, password, outbox):
    page.goto(base + "/aktivieren/bestaetigen/not-a-token/")


def _mein_bereich(page, base, cast, password, outbox):
    log_in(page, base, "alice@example.org", password)


def _mein_bereich_long_email(page, base, cast, password, outbox):
    email = "hannelore.schmidt-wuestenhagen@wohnungsgenossenschaft-beispiel.example"
    User.objects.filter(pk=cast.dave.pk).update(email=email)
    log_in(page, base, email, password)


def _contact_edit(page, base, cast, password, outbox):
    log_in(page, base, "alice@example.org", password)
    page.goto(base + "/mein-bereich/kontakt/")


def _contact_edit_errors(page, base, cast, password, outbox):
    _contact_edit(page, base, cast, password, outbox)
    page.fill("#id_phone", "call me maybe")
    submit(page)
    page.get_by_role("alert").wait_for()


def _email_change(page, base, cast, password, outbox):
    log_in(page, base, "alice@example.org", password)
    page.goto(base + "/mein-bereich/e-mail/")


def _email_change_errors(page, base, cast, password, outbox):
    _email_change(page, base, cast, password, outbox)
    # Her own address (a taken one no longer says so: that was a leak).
    page.fill("#id_email", "alice@example.org")
    submit(page)
    page.get_by_role("alert").wait_for()


def _password_change(page, base, cast, password, outbox):
    log_in(page, base, "alice@example.org", password)
    page.goto(base + "/passwort-aendern/")


def _password_change_errors(page, base, cast, password, outbox):
    _password_change(page, base, cast, password, outbox)
    page.fill("#id_old_password", "wrong")
    # Short, common and all digits: several errors on one field.
    page.fill("#id_new_password1", "12345678")
    page.fill("#id_new_password2", "12345678")
    submit(page)
    page.get_by_role("alert").wait_for()


def _password_reset(page, base, cast, password, outbox):
    page.goto(base + "/passwort-vergessen/")


def _password_reset_done(page, base, cast, password, outbox):
    page.goto(base + "/passwort-vergessen/")
    page.fill("#id_email", "alice@example.org")
    submit(page)
    page.wait_for_url(base + "/passwort-vergessen/gesendet/")


def _password_reset_confirm(page, base, cast, password, outbox):
    uid = urlsafe_base64_encode(force_bytes(cast.alice.pk))
    token = default_token_generator.make_token(cast.alice)
    page.goto(f"{base}/passwort-neu/{uid}/{token}/")
    page.wait_for_selector("#id_new_password1")


PAGES = {
    "start": _start,
    "login": _login,
    "login-errors": _login_errors,
    "activation-start": _activation_start,
    "activation-start-errors": _activation_start_errors,
    "activation-details": _activation_details,
    "activation-details-errors": _activation_details_errors,
    "activation-sent": _activation_sent,
    "activation-invalid": _activation_invalid,
    "mein-bereich": _mein_bereich,
    "mein-bereich-long-email": _mein_bereich_long_email,
    "contact-edit": _contact_edit,
    "contact-edit-errors": _contact_edit_errors,
    "email-change": _email_change,
    "email-change-errors": _email_change_errors,
    "password-change": _password_change,
    "password-change-errors": _password_change_errors,
    "password-reset": _password_reset,
    "password-reset-done": _password_reset_done,
    "password-reset-confirm": _password_reset_confirm,
}


@pytest.mark.parametrize("name", PAGES)
def test_it_passes_axe_on_every_page(page, live_server, cast, password, outbox, name):
    PAGES[name](page, live_server.url, cast, password, outbox)
    assert_accessible(page)
    assert_unique_ids(page)


@pytest.mark.parametrize("name", PAGES)
def test_it_fits_a_phone_screen_on_every_page(page, live_server, cast, password, outbox, name):
    page.set_viewport_size(PHONE)
    PAGES[name](page, live_server.url, cast, password, outbox)
    assert_fits_width(page)
    assert_accessible(page)
    page.set_viewport_size(SMALLEST)
    assert_fits_width(page)
