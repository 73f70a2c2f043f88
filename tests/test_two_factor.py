"""Two-step login: admins and team leads must add an authenticator app, everyone
else may; the code is asked for after the password, recovery codes work once,
code checks are rate-limited; staff sessions end after an idle time."""

import datetime
import re
import time
from base64 import b32decode

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from core.middleware import STAFF_SEEN_KEY
from tests.browser import PHONE, assert_accessible, assert_fits_width, log_in, submit
from tests.factories import GOOD, ticket_create
from tests.helpers import de, otp_code, otp_device, otp_verify

pytestmark = pytest.mark.django_db

CODE_URL = "/anmelden/code/"
SETUP_URL = "/sicherheit/einrichten/"
WRONG_CODE = "The code is not correct. Please enter the code your app shows now."
TOO_MANY = (
    "Too many unsuccessful attempts. For your security, please wait 15 minutes "
    "and try again, or call the office."
)


def password_step(client, email, password, **extra):
    return client.post("/anmelden/", {"email": email, "password": password, **extra})


def fresh_code(device) -> str:
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    return otp_code(device)


def setup_secret(response) -> str:
    """The key the setup page shows, as hex (the page shows base32)."""
    return response.context["key"]


# The second step ----------------------------------------------------------------------


def test_it_asks_an_account_with_an_authenticator_for_the_code_before_logging_in(
    client, cast, password
):
    device = otp_device(cast.tom)
    response = password_step(client, "tom@example.org", password, next="/bearbeitung/")
    assert response.status_code == 302
    assert response["Location"].startswith(CODE_URL)
    # The password alone is no login: nothing behind it opens yet.
    assert client.get("/anmelden/status/").status_code == 401
    assert client.get("/bearbeitung/")["Location"].startswith("/anmelden/?next=")

    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html

    wrong = client.post(response["Location"], {"code": "000000"})
    assert wrong.status_code == 200
    assert de(WRONG_CODE) in wrong.content.decode()
    assert client.get("/anmelden/status/").status_code == 401

    right = client.post(response["Location"], {"code": fresh_code(device)})
    assert right.status_code == 302 and right["Location"] == "/bearbeitung/"
    assert client.get("/bearbeitung/").status_code == 200
    assert client.get("/verwaltung/").status_code == 200


def test_a_code_works_once(client, cast, password):
    device = otp_device(cast.hanna)
    code = fresh_code(device)
    password_step(client, "hanna@example.org", password)
    assert client.post(CODE_URL, {"code": code}).status_code == 302
    other = Client()
    password_step(other, "hanna@example.org", password)
    again = other.post(CODE_URL, {"code": code})
    assert de(WRONG_CODE) in again.content.decode()


def test_the_code_page_without_a_password_first_sends_to_the_login(client, cast):
    response = client.get(CODE_URL)
    assert response.status_code == 302 and response["Location"].startswith("/anmelden/")
    assert client.post(CODE_URL, {"code": "123456"})["Location"].startswith("/anmelden/")
    assert client.put(CODE_URL).status_code == 405


def test_a_waiting_password_step_expires(client, cast, password):
    otp_device(cast.tom)
    password_step(client, "tom@example.org", password)
    session = client.session
    session[two_factor.PENDING_KEY]["t"] -= two_factor.PENDING_SECONDS + 1
    session.save()
    response = client.post(CODE_URL, {"code": fresh_code(otp_device(cast.tom))})
    assert response["Location"].startswith("/anmelden/")
    assert client.get("/anmelden/status/").status_code == 401


def test_a_recovery_code_logs_in_once(client, cast, password):
    device = otp_device(cast.ada)
    codes = two_factor.recovery_codes_renew(user=cast.ada)
    assert len(codes) == 10 and len(set(codes)) == 10
    # Stored only as keyed hashes: the table does not give them away.
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert not stored & {c.replace("-", "") for c in codes}
    assert device.confirmed

    password_step(client, "ada@example.org", password)
    recovery_page = client.get(CODE_URL + "?recovery=1")
    assert 'inputmode="numeric"' not in recovery_page.content.decode()
    response = client.post(CODE_URL, {"code": codes[0].lower()})
    assert response.status_code == 302
    assert client.get("/verwaltung/").status_code == 200

    other = Client()
    password_step(other, "ada@example.org", password)
    again = other.post(CODE_URL, {"code": codes[0]})
    assert de(WRONG_CODE) in again.content.decode()
    assert other.post(CODE_URL, {"code": codes[1]}).status_code == 302


def test_code_checks_are_limited_per_account(client, cast, password):
    device = otp_device(cast.tom)
    password_step(client, "tom@example.org", password)
    for _ in range(5):
        assert de(WRONG_CODE) in client.post(CODE_URL, {"code": "000000"}).content.decode()
    # Even the right code is not checked any more.
    locked = client.post(CODE_URL, {"code": fresh_code(device)})
    assert locked.status_code == 200
    assert de(TOO_MANY) in locked.content.decode()
    assert client.get("/anmelden/status/").status_code == 401


def test_code_checks_are_limited_per_ip(client, cast, password, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "otp:ip": (3, 900)}
    for user in (cast.tom, cast.ada):
        otp_device(user)
    password_step(client, "tom@example.org", password)
    for _ in range(3):
        client.post(CODE_URL, {"code": "000000"})
    other = Client()
    password_step(other, "ada@example.org", password)
    response = other.post(CODE_URL, {"code": fresh_code(otp_device(cast.ada))})
    assert de(TOO_MANY) in response.content.decode()


# Required for admins and team leads --------------------------------------------------


@pytest.mark.parametrize("name", ["ada", "tom"])
def test_an_admin_or_team_lead_without_an_app_must_add_one_first(client, cast, password, name):
    response = password_step(client, f"{name}@example.org", password)
    assert response["Location"].startswith(SETUP_URL)
    for url in ["/bearbeitung/", "/verwaltung/", "/passwort-aendern/", "/sicherheit/"]:
        blocked = client.get(url)
        assert blocked.status_code == 302 and blocked["Location"].startswith(SETUP_URL), url
    assert client.post("/bearbeitung/anruf/", {"q": "x"})["Location"].startswith(SETUP_URL)

    page = client.get(SETUP_URL)
    html = page.content.decode()
    assert "<svg" in html and "otpauth://totp/" in html
    key = setup_secret(page)
    probe = TOTPDevice(key=key)
    wrong = client.post(SETUP_URL, {"code": "000000"})
    assert de(WRONG_CODE) in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user__email=f"{name}@example.org").exists()

    done = client.post(SETUP_URL, {"code": otp_code(probe)})
    assert done.status_code == 200  # the recovery codes, shown once, not a redirect
    codes = done.context["codes"]
    assert len(codes) == 10
    for code in codes:
        assert code in done.content.decode()
    assert TOTPDevice.objects.get(user__email=f"{name}@example.org").confirmed
    assert client.get("/bearbeitung/").status_code == 200


def test_the_staff_decorator_and_the_admin_ask_for_the_second_step_on_their_own(
    client, cast, settings
):
    # Without the middleware (a mistake in the settings) the guards still hold.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "SecondStep" not in m]
    client.force_login(cast.tom)
    assert client.get("/bearbeitung/")["Location"].startswith(CODE_URL)
    assert client.get("/verwaltung/")["Location"].startswith("/verwaltung/login/")
    otp_verify(client, cast.tom)
    assert client.get("/bearbeitung/").status_code == 200
    assert client.get("/verwaltung/").status_code == 200


def test_a_session_that_skipped_the_code_is_sent_to_the_code_page(client, cast):
    otp_device(cast.ada)
    client.force_login(cast.ada)
    response = client.get("/verwaltung/")
    assert response.status_code == 302
    assert response["Location"].startswith(CODE_URL)
    otp_verify(client, cast.ada)
    assert client.get("/verwaltung/").status_code == 200


def test_handlers_and_members_log_in_without_a_code(client, cast, password):
    assert password_step(client, "hanna@example.org", password)["Location"] == "/"
    assert client.get("/bearbeitung/").status_code == 200
    member = Client()
    password_step(member, "alice@example.org", password)
    assert member.get("/mein-bereich/").status_code == 200


# Turning it on and off --------------------------------------------------------------


@pytest.mark.parametrize("name", ["hanna", "alice"])
def test_a_handler_or_member_turns_it_on_and_off(client, cast, password, name):
    user = getattr(cast, name)
    client.force_login(user)
    assert client.get("/sicherheit/").status_code == 200
    page = client.get(SETUP_URL)
    done = client.post(SETUP_URL, {"code": otp_code(TOTPDevice(key=setup_secret(page)))})
    assert len(done.context["codes"]) == 10

    fresh = Client()
    assert password_step(fresh, user.email, password)["Location"].startswith(CODE_URL)

    # Off needs the password or a current code; a wrong one changes nothing.
    wrong = client.post("/sicherheit/ausschalten/", {"confirmation": "falsch-falsch"})
    assert wrong.status_code == 200
    assert TOTPDevice.objects.filter(user=user).exists()
    off = client.post("/sicherheit/ausschalten/", {"confirmation": password})
    assert off.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert password_step(Client(), user.email, password)["Location"] != CODE_URL


def test_it_turns_off_with_a_current_code(client, cast):
    device = otp_device(cast.hanna)
    client.force_login(cast.hanna)
    otp_verify(client, cast.hanna)
    response = client.post("/sicherheit/ausschalten/", {"confirmation": fresh_code(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.hanna).exists()


def test_an_admin_or_team_lead_cannot_turn_it_off(client, cast, password):
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)
    assert client.get("/sicherheit/ausschalten/").status_code == 404
    assert client.post("/sicherheit/ausschalten/", {"confirmation": password}).status_code == 404
    assert TOTPDevice.objects.filter(user=cast.tom).exists()


def test_new_recovery_codes_replace_the_old_ones(client, cast, password):
    otp_device(cast.hanna)
    old = two_factor.recovery_codes_renew(user=cast.hanna)
    client.force_login(cast.hanna)
    otp_verify(client, cast.hanna)
    refused = client.post("/sicherheit/wiederherstellungscodes/", {"confirmation": "nope-nope"})
    assert refused.status_code == 200 and "codes" not in refused.context
    response = client.post("/sicherheit/wiederherstellungscodes/", {"confirmation": password})
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    other = Client()
    password_step(other, "hanna@example.org", password)
    assert de(WRONG_CODE) in other.post(CODE_URL, {"code": old[0]}).content.decode()
    assert other.post(CODE_URL, {"code": new[0]}).status_code == 302


def test_the_security_pages_need_a_login(client, cast):
    for url in ["/sicherheit/", SETUP_URL, "/sicherheit/ausschalten/"]:
        assert client.get(url)["Location"].startswith("/anmelden/?next=")
    client.force_login(cast.hanna)
    assert client.put("/sicherheit/").status_code == 405


# The staff session timeout ----------------------------------------------------------


def idle(client, minutes):
    session = client.session
    session[STAFF_SEEN_KEY] = int(time.time()) - minutes * 60
    session.save()


def test_a_staff_session_ends_after_the_idle_time(client, cast, settings):
    settings.STAFF_IDLE_MINUTES = 30
    client.force_login(cast.hanna)
    assert client.get("/bearbeitung/").status_code == 200
    idle(client, 29)
    assert client.get("/bearbeitung/").status_code == 200  # and the clock starts again
    assert client.session[STAFF_SEEN_KEY] >= int(time.time()) - 5
    idle(client, 31)
    assert client.get("/anmelden/status/").status_code == 401
    assert client.get("/bearbeitung/")["Location"].startswith("/anmelden/?next=")


def test_a_member_session_keeps_the_long_lifetime(client, cast):
    client.force_login(cast.alice)
    idle(client, 120)
    assert client.get("/mein-bereich/").status_code == 200


def test_a_form_sent_after_the_staff_idle_time_is_kept(client, cast, repair, password):
    ticket = ticket_create(request_type=repair, answers=GOOD)
    client.force_login(cast.hanna)
    client.get("/bearbeitung/")
    idle(client, 31)
    url = f"/bearbeitung/anliegen/{ticket.reference}/"
    response = client.post(
        url, {"action": "note", "body": "Handwerker bestellt."}, HTTP_REFERER=url
    )
    assert response["Location"].startswith("/anmelden/?next=")
    kept = client.session["kept_post"]
    assert kept["data"]["body"] == ["Handwerker bestellt."]
    # The idle session counts as expired, as an old one does.
    assert (
        not Session.objects.filter(expire_date__gt=timezone.now())
        .exclude(session_key=client.session.session_key)
        .exists()
    )


# In the browser ---------------------------------------------------------------------


@pytest.mark.browser
def test_the_code_and_setup_pages_work_by_keyboard_on_a_phone(page, live_server, cast, password):
    base = live_server.url
    page.set_viewport_size(PHONE)
    page.goto(base + "/anmelden/")
    page.fill("#id_email", "ada@example.org")
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r".*/sicherheit/einrichten/.*"))
    assert_accessible(page)
    assert_fits_width(page)
    secret = re.sub(r"\s", "", page.locator("[data-secret]").inner_text())
    key = TOTPDevice(key=b32decode(secret).hex())
    page.focus("#id_code")
    page.keyboard.type("000000")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page)
    page.fill("#id_code", otp_code(key))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("[data-recovery-codes] li").count() == 10
    assert_accessible(page)
    assert_fits_width(page)
    page.goto(base + "/sicherheit/")
    assert_accessible(page)
    assert_fits_width(page)

    # Next time: the code page.
    page.context.clear_cookies()
    page.goto(base + "/anmelden/")
    page.fill("#id_email", "ada@example.org")
    page.fill("#id_password", password)
    submit(page)
    page.wait_for_url(re.compile(r".*/anmelden/code/.*"))
    assert page.get_attribute("#id_code", "autocomplete") == "one-time-code"
    assert_accessible(page)
    assert_fits_width(page)
    page.fill("#id_code", fresh_code(otp_device(cast.ada)))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(base + "/bearbeitung/")


@pytest.mark.browser
def test_the_log_in_again_dialog_asks_for_the_code_too(page, live_server, cast, password, repair):
    ticket = ticket_create(request_type=repair, answers=GOOD, assignee=cast.tom)
    device = otp_device(cast.tom)
    base = live_server.url
    log_in(page, base, "tom@example.org", password)
    url = base + f"/bearbeitung/anliegen/{ticket.reference}/"
    page.goto(url)
    body = page.locator("textarea[name=body]").first
    body.fill("Rückruf vereinbart.")
    session_key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    Session.objects.filter(session_key=session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    body.press("Tab")
    page.keyboard.press("Enter")  # the form's first button
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    page.fill("#relogin-password", password)
    page.keyboard.press("Enter")
    code = dialog.locator("input[name=code]")
    code.wait_for()
    assert page.evaluate("document.activeElement.name") == "code"
    assert_accessible(page)
    page.keyboard.type("000000")
    page.keyboard.press("Enter")
    dialog.locator("form[data-second-step] .error-message").wait_for()
    assert page.evaluate("document.activeElement.name") == "code"
    page.keyboard.type(fresh_code(device))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Rückruf vereinbart." in page.locator("main").inner_text()


@pytest.mark.parametrize(
    ("name", "url", "most"),
    [
        ("hanna", "/sicherheit/", 8),
        ("hanna", "/sicherheit/wiederherstellungscodes/", 6),
        ("hanna", "/sicherheit/ausschalten/", 7),
        ("alice", "/sicherheit/einrichten/", 10),
        ("tom", "/sicherheit/", 8),
    ],
)
def test_the_security_pages_need_a_fixed_number_of_queries(
    client, cast, name, url, most, django_assert_max_num_queries
):
    """However many devices and recovery codes exist, a page costs the same."""
    user = getattr(cast, name)
    client.force_login(user)
    if url != "/sicherheit/einrichten/":
        otp_verify(client, user)
        two_factor.recovery_codes_renew(user=user)
        two_factor.recovery_codes_renew(user=user)  # old codes replaced, not piled up
    with django_assert_max_num_queries(most):
        response = client.get(url)
    assert response.status_code == 200


def test_the_code_page_needs_a_fixed_number_of_queries(
    client, cast, password, django_assert_max_num_queries
):
    otp_device(cast.hanna)
    password_step(client, "hanna@example.org", password)
    with django_assert_max_num_queries(4):
        response = client.get("/anmelden/code/")
    assert response.status_code == 200
