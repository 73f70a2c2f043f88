"""Rate limits where the portal sends e-mail or checks a password (issue 9):
password reset and e-mail change per account/address and per IP, login
counted atomically under concurrency, and no stranger can lock a member or an
admin out of the device they use."""

import re
import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connections
from django.test import Client

from accounts.models import Attempt, User
from tests.helpers import de

LOGIN = "/anmelden/"
RESET = "/passwort-vergessen/"
EMAIL = "/mein-bereich/e-mail/"
RESET_LINK = re.compile(r"http://testserver(/passwort-neu/[^/\s]+/[^/\s]+/)")
CHANGE_LINK = re.compile(r"http://testserver(/mein-bereich/e-mail/bestaetigen/[^/\s]+/)")
TOO_MANY = (
    "Too many unsuccessful attempts. For your security, please wait 15 minutes "
    "and try again, or call the office."
)
TOO_MANY_MAILS = (
    "We have sent this e-mail several times in a short while. To protect the mailbox, "
    "we send no more for now. Please look for the e-mails already sent (also in the "
    "spam folder), or try again in an hour."
)
NOT_CORRECT = "The e-mail address or the password is not correct."
STRANGER = "198.51.100.66"
ALICE_HOME = "203.0.113.9"


def too_many_mails(response) -> bool:
    return response.status_code == 200 and de(TOO_MANY_MAILS) in response.content.decode()


def log_in(client, email, password):
    return client.post(LOGIN, {"email": email, "password": password})


def locked(response) -> bool:
    return de(TOO_MANY) in response.content.decode()


# Password reset --------------------------------------------------------------------


def test_it_sends_a_reset_link_to_one_address_only_a_few_times(client, cast, outbox, settings):
    limit, _window = settings.RATE_LIMITS["password_reset:address"]
    for _ in range(limit):
        assert client.post(RESET, {"email": "alice@example.org"}).status_code == 302
    response = client.post(RESET, {"email": "Alice@Example.org"})
    assert too_many_mails(response)
    assert 'value="Alice@Example.org"' in response.content.decode()  # what she typed stays
    assert len(outbox) == limit


def test_the_reset_limit_does_not_tell_which_addresses_have_accounts(
    client, cast, outbox, settings
):
    limit, _window = settings.RATE_LIMITS["password_reset:address"]
    answers = {}
    for email in ("alice@example.org", "niemand@example.org"):
        answers[email] = [
            client.post(RESET, {"email": email}).status_code for _ in range(limit + 1)
        ]
    assert answers["alice@example.org"] == answers["niemand@example.org"] == [302] * limit + [200]


def test_it_limits_reset_requests_per_ip(client, cast, outbox, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset:ip": (3, 3600)}
    for email in ("alice@example.org", "bob@example.org", "dave@example.org"):
        client.post(RESET, {"email": email})
    assert too_many_mails(client.post(RESET, {"email": "hanna@example.org"}))
    assert len(outbox) == 3
    other = Client(REMOTE_ADDR=STRANGER)
    assert other.post(RESET, {"email": "hanna@example.org"}).status_code == 302


# E-mail change ---------------------------------------------------------------------


def test_the_email_change_answers_the_same_for_a_taken_address(cast, outbox):
    answers = []
    for email in ("frei@example.org", "bob@example.org"):
        outbox.clear()
        client = Client()
        client.force_login(cast.alice)
        response = client.post(EMAIL, {"email": email})
        [message] = get_messages(response.wsgi_request)
        answers.append((response.status_code, response["Location"], str(message), outbox[:]))
    (
        (free_status, free_to, free_text, [link_mail]),
        (taken_status, taken_to, taken_text, [notice]),
    ) = answers
    assert (free_status, free_to) == (taken_status, taken_to) == (302, "/mein-bereich/")
    assert free_text.replace("frei@example.org", "X") == taken_text.replace("bob@example.org", "X")
    # One e-mail to the typed address either way: a link, or a notice to its owner.
    assert link_mail.to == ["frei@example.org"] and CHANGE_LINK.search(link_mail.body)
    assert notice.to == ["bob@example.org"] and not CHANGE_LINK.search(notice.body)
    assert "Alice" not in notice.body  # the owner learns nothing about who tried
    assert User.objects.get(pk=cast.bob.pk).email == "bob@example.org"
    assert User.objects.get(pk=cast.alice.pk).email == "alice@example.org"


def test_the_notice_speaks_the_owners_language(client, cast, outbox):
    User.objects.filter(pk=cast.bob.pk).update(language="en")
    client.force_login(cast.alice)
    client.post(EMAIL, {"email": "bob@example.org"})
    assert outbox[-1].subject.startswith("Someone wanted to use your e-mail address")


def test_it_limits_email_change_requests_per_account(client, cast, outbox, settings):
    limit, _window = settings.RATE_LIMITS["email_change:account"]
    client.force_login(cast.alice)
    for n in range(limit):
        assert client.post(EMAIL, {"email": f"neu{n}@example.org"}).status_code == 302
    response = client.post(EMAIL, {"email": "noch-eine@example.org"})
    assert too_many_mails(response)
    assert 'value="noch-eine@example.org"' in response.content.decode()
    assert len(outbox) == limit


def test_it_limits_email_change_mails_to_one_address(client, cast, outbox, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "email_change:address": (2, 3600)}
    for user in (cast.alice, cast.dave):
        client.force_login(user)
        assert client.post(EMAIL, {"email": "opfer@example.org"}).status_code == 302
    client.force_login(cast.bob)
    assert too_many_mails(client.post(EMAIL, {"email": "Opfer@example.org"}))
    assert [m.to for m in outbox] == [["opfer@example.org"]] * 2


def test_it_limits_email_change_requests_per_ip(client, cast, outbox, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "email_change:ip": (2, 3600)}
    for user, email in ((cast.alice, "a@example.org"), (cast.dave, "d@example.org")):
        client.force_login(user)
        client.post(EMAIL, {"email": email})
    client.force_login(cast.bob)
    assert too_many_mails(client.post(EMAIL, {"email": "b@example.org"}))


def test_a_taken_address_is_still_refused_when_the_link_is_clicked(client, cast, outbox):
    client.force_login(cast.alice)
    client.post(EMAIL, {"email": "frei@example.org"})
    path = CHANGE_LINK.search(outbox[-1].body).group(1)
    User.objects.filter(pk=cast.dave.pk).update(email="frei@example.org")
    assert client.get(path).status_code == 400
    assert User.objects.get(pk=cast.alice.pk).email == "alice@example.org"


# Login: atomic counting --------------------------------------------------------------


def at_once(logins: list[tuple[str, str]]) -> list[str]:
    """Send these logins (e-mail, password) from one thread each at the same
    moment; the pages that came back."""
    start = threading.Barrier(len(logins))
    pages, errors = [], []

    def attempt(email, password):
        try:
            start.wait()
            pages.append(log_in(Client(), email, password).content.decode())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=login) for login in logins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return pages


def checked_and_refused(pages: list[str]) -> tuple[int, int]:
    """How many reached the password check, how many were turned away before."""
    return sum(de(NOT_CORRECT) in p for p in pages), sum(de(TOO_MANY) in p for p in pages)


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_are_checked_at_most_limit_times(cast, settings):
    limit, _window = settings.RATE_LIMITS["login:account"]
    pages = at_once([("alice@example.org", "falsch-falsch-1")] * 24)
    assert checked_and_refused(pages) == (limit, 24 - limit)
    assert Attempt.objects.filter(scope="login:account").count() == limit


@pytest.mark.django_db(transaction=True)
def test_parallel_logins_from_one_ip_are_checked_at_most_limit_times(cast, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login:ip": (4, 900)}
    pages = at_once([(f"nobody{n}@example.org", "falsch-falsch-1") for n in range(12)])
    assert checked_and_refused(pages) == (4, 8)


# Login: no lock-out by strangers ------------------------------------------------------
# The chosen model (accounts.throttle): a device the account logged in on
# before has its own limit; strangers only use up the limit of unknown devices.


def fail(client, email, times):
    for _ in range(times):
        log_in(client, email, "falsch-falsch-1")


def known_device(*emails, password, **client_kwargs) -> Client:
    """A browser each of these accounts has logged in on (and out of) before."""
    device = Client(**client_kwargs)
    for email in emails:
        assert log_in(device, email, password).status_code == 302
        device.post("/abmelden/")
    return device


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "ada"])
def test_a_stranger_cannot_lock_a_person_out_of_her_own_device(cast, password, settings, who):
    email = f"{who}@example.org"
    own_device = known_device(email, password=password, REMOTE_ADDR=ALICE_HOME)
    assert own_device.cookies["genoportal_device"].value
    stranger = Client(REMOTE_ADDR=STRANGER)
    limit, _window = settings.RATE_LIMITS["login:account"]
    fail(stranger, email, limit)
    assert locked(log_in(stranger, email, password))  # guessing stops for the stranger...
    assert log_in(own_device, email, password).status_code == 302  # ...not for her


@pytest.mark.django_db
def test_a_known_device_is_not_locked_by_others_on_the_same_network(cast, password, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login:ip": (3, 900)}
    own_device = known_device("alice@example.org", password=password, REMOTE_ADDR=ALICE_HOME)
    neighbour = Client(REMOTE_ADDR=ALICE_HOME)  # the same shared address (carrier NAT)
    for n in range(3):
        fail(neighbour, f"nobody{n}@example.org", 1)
    assert locked(log_in(neighbour, "alice@example.org", password))
    assert log_in(own_device, "alice@example.org", password).status_code == 302


@pytest.mark.django_db
def test_a_known_device_does_not_get_unlimited_guesses(cast, password, settings):
    device = known_device("alice@example.org", password=password)
    limit, _window = settings.RATE_LIMITS["login:device"]
    fail(device, "alice@example.org", limit)
    assert locked(log_in(device, "alice@example.org", password))
    assert "_auth_user_id" not in device.session


@pytest.mark.django_db
def test_the_device_cookie_counts_only_for_its_account(cast, password, settings):
    device = known_device("alice@example.org", password=password)
    limit, _window = settings.RATE_LIMITS["login:account"]
    fail(Client(REMOTE_ADDR=STRANGER), "bob@example.org", limit)
    assert locked(log_in(device, "bob@example.org", password))


@pytest.mark.django_db
def test_a_forged_device_cookie_is_no_key(cast, password, settings):
    limit, _window = settings.RATE_LIMITS["login:account"]
    fail(Client(REMOTE_ADDR=STRANGER), "alice@example.org", limit)
    forged = Client()
    forged.cookies["genoportal_device"] = "alice@example.org"
    assert locked(log_in(forged, "alice@example.org", password))


@pytest.mark.django_db
def test_two_members_of_a_household_share_a_device(cast, password, settings):
    device = known_device("alice@example.org", "bob@example.org", password=password)
    limit, _window = settings.RATE_LIMITS["login:account"]
    for email in ("alice@example.org", "bob@example.org"):
        fail(Client(REMOTE_ADDR=STRANGER), email, limit)
        assert log_in(device, email, password).status_code == 302
        device.post("/abmelden/")


def test_a_new_password_lifts_the_lock_for_new_devices(cast, password, settings, outbox):
    limit, _window = settings.RATE_LIMITS["login:account"]
    new_device = Client()
    fail(Client(REMOTE_ADDR=STRANGER), "alice@example.org", limit)
    assert locked(log_in(new_device, "alice@example.org", password))
    # Only the owner of the inbox can do this, so it is safe to start afresh.
    new_device.post(RESET, {"email": "alice@example.org"})
    form_url = new_device.get(RESET_LINK.search(outbox[-1].body).group(1))["Location"]
    new = "Neues-Passwort-7"
    new_device.post(form_url, {"new_password1": new, "new_password2": new})
    assert log_in(new_device, "alice@example.org", new).status_code == 302
