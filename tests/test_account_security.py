"""Findings of the security probe (issue 9): the activation link confirms once
and never logs in without the password; the client address is read from
forwarded headers only when a configured proxy sent them."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from accounts.models import ActivationCode, User
from accounts.services import activation_codes_create
from core.client_ip import client_ip, trusted_networks
from members.models import Member
from tests.browser import PHONE, assert_accessible, assert_fits_width, submit
from tests.helpers import de

START = "/aktivieren/"
DETAILS = "/aktivieren/zugang/"
LINK = re.compile(r"http://testserver(/aktivieren/bestaetigen/[^/\s]+/)")
CHOSEN = "Sonnenblume-42"
WRONG_PASSWORD = (
    "The password is not correct. Please enter the password you chose when you "
    "activated your account."
)
USED = (
    "Your e-mail address is already confirmed, so this link is no longer needed. "
    "Please log in with your e-mail address and password."
)
STALE = (
    "This confirmation link is not valid or has expired. "
    "Please start the activation again with your letter."
)


# The activation link -----------------------------------------------------------------


@pytest.fixture
def newcomer(cast) -> Member:
    return Member.objects.filter(user__isnull=True).order_by("member_number").first()


@pytest.fixture
def code(newcomer) -> str:
    [(_member, code, _expires)] = activation_codes_create(members=[newcomer], created_by=None)
    return code


def pending(client, newcomer, code, outbox, *, email="neu@example.org", password=CHOSEN) -> str:
    """Steps 1 and 2 of the activation; returns the path of the link in the e-mail."""
    client.post(START, {"member_number": newcomer.member_number, "code": code})
    client.post(DETAILS, {"email": email, "password1": password, "password2": password})
    return LINK.search(outbox[-1].body).group(1)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_it_never_confirms_or_logs_in_on_a_get(client, newcomer, code, outbox):
    # Mail scanners open links, and a page someone else made can load one.
    path = pending(client, newcomer, code, outbox)
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="password"' in body and "csrfmiddlewaretoken" in body
    assert "neu@example.org" in body  # the member sees which address she confirms
    assert not logged_in(client)
    assert not User.objects.get(member=newcomer).is_active
    assert ActivationCode.objects.get(member=newcomer).used_at is None


def test_it_confirms_with_the_password_just_chosen_and_logs_in(client, newcomer, code, outbox):
    path = pending(client, newcomer, code, outbox)
    response = client.post(path, {"password": CHOSEN})
    assert response.status_code == 302
    assert response["Location"] == "/mein-bereich/"
    assert logged_in(client)
    user = User.objects.get(member=newcomer)
    assert user.is_active
    assert ActivationCode.objects.get(member=newcomer).used_at is not None
    assert Member.objects.get(pk=newcomer.pk).email == "neu@example.org"


def test_a_wrong_password_confirms_nothing(client, newcomer, code, outbox):
    path = pending(client, newcomer, code, outbox)
    response = client.post(path, {"password": "Gaensebluemchen-7"})
    assert response.status_code == 200
    assert de(WRONG_PASSWORD) in response.content.decode()
    assert not logged_in(client)
    assert not User.objects.get(member=newcomer).is_active
    # An empty field is a field error, not a crash.
    response = client.post(path, {"password": ""})
    assert response.status_code == 200 and 'aria-invalid="true"' in response.content.decode()


def test_a_used_link_is_no_login(client, newcomer, code, outbox):
    path = pending(client, newcomer, code, outbox)
    assert client.post(path, {"password": CHOSEN}).status_code == 302
    stranger = Client()
    for response in (stranger.get(path), stranger.post(path, {"password": CHOSEN})):
        assert response.status_code == 400
        body = response.content.decode()
        assert de(USED) in body
        assert 'href="/anmelden/"' in body  # what to do now: log in
        assert not logged_in(stranger)


def test_a_link_dies_when_the_password_changes(client, newcomer, code, outbox):
    first = pending(client, newcomer, code, outbox)
    # The member starts again with the letter, same address, another password.
    second = pending(client, newcomer, code, outbox, password="Gaensebluemchen-7")
    assert first != second
    for password in (CHOSEN, "Gaensebluemchen-7"):
        response = client.post(first, {"password": password})
        assert response.status_code == 400
        assert de(STALE) in response.content.decode()
        assert 'href="/aktivieren/"' in response.content.decode()  # what to do: start again
    assert not User.objects.get(member=newcomer).is_active
    assert client.post(second, {"password": "Gaensebluemchen-7"}).status_code == 302


def test_a_link_dies_when_the_password_is_reset_after_activation(client, newcomer, code, outbox):
    path = pending(client, newcomer, code, outbox)
    client.post(path, {"password": CHOSEN})
    user = User.objects.get(member=newcomer)
    user.set_password("Ganz-neues-Passwort-3")
    user.save()
    stranger = Client()
    response = stranger.post(path, {"password": "Ganz-neues-Passwort-3"})
    assert response.status_code == 400
    assert not logged_in(stranger)


def test_an_expired_link_says_what_to_do(client, newcomer, code, outbox, settings):
    path = pending(client, newcomer, code, outbox)
    settings.EMAIL_CONFIRMATION_MAX_AGE = -1
    response = client.get(path)
    assert response.status_code == 400
    assert de(STALE) in response.content.decode()
    assert 'href="/aktivieren/"' in response.content.decode()


def test_a_cross_site_post_without_csrf_token_is_refused(client, newcomer, code, outbox):
    path = pending(client, newcomer, code, outbox)
    forged = Client(enforce_csrf_checks=True)
    response = forged.post(path, {"password": CHOSEN})
    assert response.status_code == 403
    assert not logged_in(forged)
    assert not User.objects.get(member=newcomer).is_active


def test_the_confirmation_page_checks_passwords_at_the_login_rate(
    client, newcomer, code, outbox, settings
):
    path = pending(client, newcomer, code, outbox)
    limit, _window = settings.RATE_LIMITS["login:account"]
    for _ in range(limit):
        client.post(path, {"password": "Gaensebluemchen-7"})
    response = client.post(path, {"password": CHOSEN})
    assert (
        de(
            "Too many unsuccessful attempts. For your security, please wait 15 minutes "
            "and try again, or call the office."
        )
        in response.content.decode()
    )
    assert not User.objects.get(member=newcomer).is_active


def test_the_confirmation_page_refuses_other_methods(client, newcomer, code, outbox):
    path = pending(client, newcomer, code, outbox)
    assert client.put(path).status_code == 405
    assert client.delete(path).status_code == 405


@pytest.mark.browser
def test_the_confirmation_page_is_accessible_and_fits_a_phone(page, live_server, cast, outbox):
    newcomer = Member.objects.filter(user__isnull=True).order_by("member_number").first()
    [(_m, code, _e)] = activation_codes_create(members=[newcomer], created_by=None)
    base = live_server.url
    page.goto(base + START)
    page.fill("#id_member_number", newcomer.member_number)
    page.fill("#id_code", code)
    submit(page)
    page.fill("#id_email", "neu@example.org")
    page.fill("#id_password1", CHOSEN)
    page.fill("#id_password2", CHOSEN)
    submit(page)
    page.wait_for_url(base + "/aktivieren/postfach/")
    path = LINK.search(outbox[-1].body).group(1)

    page.set_viewport_size(PHONE)
    page.goto(base + path)
    assert_accessible(page)
    assert_fits_width(page)
    page.fill("#id_password", "Gaensebluemchen-7")
    submit(page)
    page.get_by_role("alert").wait_for()
    assert_accessible(page)
    page.fill("#id_password", CHOSEN)
    submit(page)
    page.wait_for_url(base + "/mein-bereich/")
    page.goto(base + path)  # the used link explains itself
    assert_accessible(page)
    assert_fits_width(page)


# The client's address --------------------------------------------------------------


def request(remote, **headers):
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **meta)


def test_without_trusted_proxies_forwarded_headers_are_ignored(settings):
    settings.TRUSTED_PROXIES = []
    # Production mode used to trust X-Real-IP from anyone.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client_ip(request("203.0.113.9", x_real_ip="198.51.100.1")) == "203.0.113.9"
    assert client_ip(request("203.0.113.9", x_forwarded_for="198.51.100.1")) == "203.0.113.9"


def test_a_trusted_proxy_names_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    # The proxy appends the address it saw; what the client wrote stays left of it.
    forwarded = "198.51.100.66, 203.0.113.9"
    assert client_ip(request("10.1.2.3", x_forwarded_for=forwarded)) == "203.0.113.9"
    # Two trusted proxies in a row are skipped.
    chain = "198.51.100.66, 203.0.113.9, 10.0.0.7"
    assert client_ip(request("192.0.2.1", x_forwarded_for=chain)) == "203.0.113.9"
    # X-Real-IP when the proxy sets only that.
    assert client_ip(request("10.1.2.3", x_real_ip="203.0.113.9")) == "203.0.113.9"
    # A proxy that names nobody: the proxy itself.
    assert client_ip(request("10.1.2.3")) == "10.1.2.3"


def test_a_client_that_is_not_a_trusted_proxy_cannot_name_another_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    spoofed = request("203.0.113.9", x_forwarded_for="10.0.0.1", x_real_ip="198.51.100.1")
    assert client_ip(spoofed) == "203.0.113.9"


def test_garbage_in_the_forwarded_chain_is_not_an_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # Only reachable when a trusted hop passed it on; the nearest trusted hop answers.
    assert client_ip(request("10.1.2.3", x_forwarded_for="not-an-ip, 10.0.0.9")) == "10.0.0.9"
    assert client_ip(request("10.1.2.3", x_real_ip="<script>")) == "10.1.2.3"


def test_ipv4_mapped_ipv6_addresses_are_plain_ipv4(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    forwarded = request("::ffff:10.1.2.3", x_forwarded_for="::ffff:203.0.113.9")
    assert client_ip(forwarded) == "203.0.113.9"


def test_the_proxy_setting_refuses_what_is_not_an_address():
    assert [str(n) for n in trusted_networks(("10.0.0.0/8", " ::1"))] == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ImproperlyConfigured, match="GENOPORTAL_TRUSTED_PROXIES"):
        trusted_networks(("10.0.0.0/8", "proxy.example.org"))


def test_a_typo_in_the_proxy_setting_stops_the_start():
    env = {**os.environ, "GENOPORTAL_TRUSTED_PROXIES": "10.0.0.1, proxy.example.org"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode != 0
    assert "GENOPORTAL_TRUSTED_PROXIES: 'proxy.example.org' is not an IP address" in result.stderr


@pytest.mark.django_db
def test_rotating_x_real_ip_does_not_escape_the_per_ip_login_limit(client, cast, settings):
    settings.TRUSTED_PROXIES = []
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login:ip": (3, 900)}
    for n in range(3):
        client.post(
            "/anmelden/",
            {"email": f"nobody{n}@example.org", "password": "x" * 12},
            HTTP_X_REAL_IP=f"198.51.100.{n}",
        )
    response = client.post(
        "/anmelden/",
        {"email": "nobody9@example.org", "password": "x" * 12},
        HTTP_X_REAL_IP="198.51.100.99",
    )
    assert (
        de(
            "Too many unsuccessful attempts. For your security, please wait 15 minutes "
            "and try again, or call the office."
        )
        in response.content.decode()
    )


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_limit(client, cast, settings, password):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login:ip": (3, 900)}
    for n in range(3):
        client.post(
            "/anmelden/",
            {"email": f"nobody{n}@example.org", "password": "x" * 12},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    response = client.post(
        "/anmelden/",
        {"email": "alice@example.org", "password": password},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == 302
