import pytest
from django.urls import reverse

from accounts.models import Attempt
from tests.helpers import de

pytestmark = pytest.mark.django_db

LOGIN = "/anmelden/"


def test_it_logs_a_member_in_and_shows_mein_bereich(client, cast, password):
    response = client.post(LOGIN, {"email": "alice@example.org", "password": password})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert client.get("/").url == "/mein-bereich/"


def test_it_treats_the_email_case_insensitively(client, cast, password):
    response = client.post(LOGIN, {"email": "Alice@Example.ORG", "password": password})
    assert response.status_code == 302


def test_it_follows_a_safe_next_but_not_an_external_one(client, cast, password):
    data = {"email": "alice@example.org", "password": password}
    response = client.post(LOGIN + "?next=/mein-bereich/kontakt/", data)
    assert response["Location"] == "/mein-bereich/kontakt/"
    client.logout()
    response = client.post(LOGIN + "?next=https://evil.example/", data)
    assert response["Location"] == "/"


def test_it_rejects_a_wrong_password_with_a_clear_message(client, cast):
    response = client.post(LOGIN, {"email": "alice@example.org", "password": "wrong-password"})
    assert response.status_code == 200
    assert de("The e-mail address or the password is not correct.") in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_shows_field_errors_and_summary_for_empty_input(client, cast):
    response = client.post(LOGIN, {"email": "", "password": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in body
    assert 'aria-invalid="true"' in body
    assert body.count('class="error-message"') == 2


def test_it_rate_limits_failed_logins_per_account(client, cast, password, settings):
    limit, _window = settings.RATE_LIMITS["login:account"]
    for _ in range(limit):
        client.post(LOGIN, {"email": "alice@example.org", "password": "nope-nope-nope"})
    # Even the right password is refused while the account is locked.
    response = client.post(LOGIN, {"email": "alice@example.org", "password": password})
    assert response.status_code == 200
    assert (
        de(
            "Too many unsuccessful attempts. For your security, please wait 15 minutes and try again, or call the office."
        )
        in response.content.decode()
    )
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked by that.
    response = client.post(LOGIN, {"email": "bob@example.org", "password": password})
    assert response.status_code == 302


def test_it_rate_limits_failed_logins_per_ip_across_accounts(client, cast, password, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login:ip": (3, 900)}
    for n in range(3):
        client.post(LOGIN, {"email": f"nobody{n}@example.org", "password": "x" * 12})
    response = client.post(LOGIN, {"email": "alice@example.org", "password": password})
    assert (
        de(
            "Too many unsuccessful attempts. For your security, please wait 15 minutes and try again, or call the office."
        )
        in response.content.decode()
    )
    other_ip = client.post(
        LOGIN, {"email": "alice@example.org", "password": password}, REMOTE_ADDR="10.9.8.7"
    )
    assert other_ip.status_code == 302


def test_it_forgets_old_failures_after_the_window(client, cast, password, settings):
    from datetime import timedelta

    from django.utils import timezone

    limit, window = settings.RATE_LIMITS["login:account"]
    for _ in range(limit):
        client.post(LOGIN, {"email": "alice@example.org", "password": "nope-nope-nope"})
    Attempt.objects.update(created_at=timezone.now() - timedelta(seconds=window + 1))
    response = client.post(LOGIN, {"email": "alice@example.org", "password": password})
    assert response.status_code == 302


def test_it_stores_no_plain_email_or_ip_in_attempts(client, cast):
    client.post(LOGIN, {"email": "alice@example.org", "password": "nope-nope-nope"})
    keys = list(Attempt.objects.values_list("key", flat=True))
    assert len(keys) == 2
    assert all("alice" not in key and "127.0.0.1" not in key for key in keys)


def test_it_logs_out_only_by_post(client, cast):
    client.force_login(cast.alice)
    assert client.get("/abmelden/").status_code == 405
    response = client.post("/abmelden/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_refuses_wrong_methods_on_login(client):
    assert client.put(LOGIN).status_code == 405


def test_it_sends_logged_in_users_home(client, cast):
    client.force_login(cast.alice)
    assert client.get(LOGIN).url == "/"


def test_it_sends_staff_to_their_inbox(client, cast):
    client.force_login(cast.hanna)
    assert client.get("/").url == reverse("backoffice:inbox")


def test_it_uses_argon2(cast):
    assert cast.alice.password.startswith("argon2")
