import re

import pytest

from accounts.models import User
from tests.helpers import de

pytestmark = pytest.mark.django_db

RESET = "/passwort-vergessen/"
LINK = re.compile(r"http://testserver(/passwort-neu/[^/\s]+/[^/\s]+/)")


def test_it_resets_a_password_by_email(client, cast, outbox):
    response = client.post(RESET, {"email": "alice@example.org"})
    assert response["Location"] == "/passwort-vergessen/gesendet/"
    assert len(outbox) == 1 and outbox[0].to == ["alice@example.org"]
    path = LINK.search(outbox[0].body).group(1)
    response = client.get(path)  # Django swaps the token for a session marker
    assert response.status_code == 302
    form_url = response["Location"]
    response = client.post(
        form_url, {"new_password1": "Neues-Passwort-7", "new_password2": "Neues-Passwort-7"}
    )
    assert response["Location"] == "/passwort-neu/fertig/"
    assert User.objects.get(pk=cast.alice.pk).check_password("Neues-Passwort-7")
    # The link works once.
    response = client.get(path, follow=True)
    assert de("This link does not work") in response.content.decode()


def test_it_does_not_reveal_unknown_addresses(client, cast, outbox):
    response = client.post(RESET, {"email": "unknown@example.org"})
    assert response["Location"] == "/passwort-vergessen/gesendet/"
    assert outbox == []


def test_it_writes_the_reset_email_in_the_members_language(client, cast, outbox):
    User.objects.filter(pk=cast.alice.pk).update(language="en")
    client.post(RESET, {"email": "alice@example.org"})
    assert outbox[0].subject == "Choose a new password"


def test_it_changes_the_password_when_logged_in(client, cast, password):
    client.force_login(cast.alice)
    response = client.post(
        "/passwort-aendern/",
        {
            "old_password": password,
            "new_password1": "Anderes-Passwort-9",
            "new_password2": "Anderes-Passwort-9",
        },
    )
    assert response["Location"] == "/passwort-aendern/fertig/"
    assert User.objects.get(pk=cast.alice.pk).check_password("Anderes-Passwort-9")


def test_it_rejects_a_wrong_old_password(client, cast, password):
    client.force_login(cast.alice)
    response = client.post(
        "/passwort-aendern/",
        {
            "old_password": "falsch-falsch",
            "new_password1": "Anderes-Passwort-9",
            "new_password2": "Anderes-Passwort-9",
        },
    )
    assert response.status_code == 200
    assert User.objects.get(pk=cast.alice.pk).check_password(password)


def test_password_rule_errors_sit_under_the_new_password(client, cast, password):
    client.force_login(cast.alice)
    response = client.post(
        "/passwort-aendern/",
        {"old_password": password, "new_password1": "1234567890", "new_password2": "1234567890"},
    )
    form = response.context["form"]
    assert "new_password1" in form.errors and "new_password2" not in form.errors
    response = client.post(
        "/passwort-aendern/",
        {"old_password": password, "new_password1": "Anderes-Passwort-9", "new_password2": "x"},
    )
    form = response.context["form"]
    assert list(form.errors) == ["new_password2"]
    assert User.objects.get(pk=cast.alice.pk).check_password(password)


def test_password_change_needs_login(client):
    assert client.get("/passwort-aendern/")["Location"].startswith("/anmelden/")


def test_password_pages_refuse_wrong_methods(client):
    assert client.put(RESET).status_code == 405
    assert client.post("/passwort-vergessen/gesendet/").status_code == 405
    assert client.post("/passwort-neu/fertig/").status_code == 405
