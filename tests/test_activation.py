import datetime
import re

import pytest
from django.utils import timezone

from accounts.models import ActivationCode, User
from accounts.services import activation_codes_create
from members.models import Member
from tests.helpers import de

pytestmark = pytest.mark.django_db

START = "/aktivieren/"
DETAILS = "/aktivieren/zugang/"
LINK = re.compile(r"http://testserver(/aktivieren/bestaetigen/[^/\s]+/)")


@pytest.fixture
def newcomer(cast) -> Member:
    return Member.objects.filter(user__isnull=True).order_by("member_number").first()


@pytest.fixture
def code(newcomer) -> str:
    [(_member, code, _expires)] = activation_codes_create(members=[newcomer], created_by=None)
    return code


def _details(client, newcomer, code, email="neu@example.org", password="Sonnenblume-42"):
    client.post(START, {"member_number": newcomer.member_number, "code": code})
    return client.post(DETAILS, {"email": email, "password1": password, "password2": password})


def test_it_activates_an_account_after_the_email_is_confirmed(client, newcomer, code, outbox):
    response = client.post(START, {"member_number": newcomer.member_number, "code": code})
    assert response.status_code == 302
    assert response["Location"] == DETAILS
    response = client.post(
        DETAILS,
        {"email": "Neu@Example.org", "password1": "Sonnenblume-42", "password2": "Sonnenblume-42"},
    )
    assert response["Location"] == "/aktivieren/postfach/"
    user = User.objects.get(member=newcomer)
    assert user.email == "neu@example.org"
    assert not user.is_active  # unusable until the address is confirmed
    assert (
        client.post(
            "/anmelden/", {"email": "neu@example.org", "password": "Sonnenblume-42"}
        ).status_code
        == 200
    )

    assert len(outbox) == 1
    assert outbox[0].to == ["neu@example.org"]
    path = LINK.search(outbox[0].body).group(1)
    # Opening the link asks for the password; sending it confirms and logs in.
    assert client.get(path).status_code == 200
    response = client.post(path, {"password": "Sonnenblume-42"})
    assert response.status_code == 302
    assert response["Location"] == "/mein-bereich/"
    user.refresh_from_db()
    assert user.is_active
    assert ActivationCode.objects.get(member=newcomer).used_at is not None
    newcomer.refresh_from_db()
    assert newcomer.email == "neu@example.org"
    assert client.get("/mein-bereich/").status_code == 200


def test_it_accepts_the_code_in_lower_case_and_without_dashes(client, newcomer, code):
    response = client.post(
        START,
        {"member_number": f" {newcomer.member_number} ", "code": code.lower().replace("-", "")},
    )
    assert response["Location"] == DETAILS


def test_it_tells_a_pending_member_to_confirm_first(client, newcomer, code):
    _details(client, newcomer, code)
    response = client.post("/anmelden/", {"email": "neu@example.org", "password": "Sonnenblume-42"})
    assert (
        de(
            "Please confirm your e-mail address first: click the link in the e-mail we sent you when you activated your account."
        )
        in response.content.decode()
    )


def test_it_rejects_a_wrong_code_without_saying_which_part_is_wrong(client, newcomer, code):
    response = client.post(
        START, {"member_number": newcomer.member_number, "code": "AAAA-BBBB-CCCC-DDDD"}
    )
    assert response.status_code == 200
    assert (
        de(
            "The member number or the activation code is not correct. Please check both against your letter."
        )
        in response.content.decode()
    )
    response = client.post(START, {"member_number": "99999999", "code": code})
    assert (
        de(
            "The member number or the activation code is not correct. Please check both against your letter."
        )
        in response.content.decode()
    )


def test_it_rejects_an_expired_code(client, newcomer, code):
    ActivationCode.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = client.post(START, {"member_number": newcomer.member_number, "code": code})
    assert (
        de("This activation code has expired. Please ask the office for a new code.")
        in response.content.decode()
    )


def test_it_revokes_older_codes_when_a_new_letter_is_made(client, newcomer, code):
    [(_m, newer, _e)] = activation_codes_create(members=[newcomer], created_by=None)
    response = client.post(START, {"member_number": newcomer.member_number, "code": code})
    assert (
        de(
            "This activation code has already been used or replaced by a newer letter. Please use the newest letter or ask the office for a new code."
        )
        in response.content.decode()
    )
    response = client.post(START, {"member_number": newcomer.member_number, "code": newer})
    assert response.status_code == 302


def test_it_refuses_a_code_for_a_member_with_an_active_account(client, cast):
    [(_m, code, _e)] = activation_codes_create(members=[cast.alice.member], created_by=None)
    response = client.post(START, {"member_number": cast.alice.member.member_number, "code": code})
    assert (
        de(
            "There is already an account for this member number. Please log in, or reset your password if you have forgotten it."
        )
        in response.content.decode()
    )


def test_it_rate_limits_activation_per_member_number(client, newcomer, code, settings):
    limit, _w = settings.RATE_LIMITS["activation:account"]
    for _ in range(limit):
        client.post(START, {"member_number": newcomer.member_number, "code": "WRON-GWRO-NGWR-ONGG"})
    response = client.post(START, {"member_number": newcomer.member_number, "code": code})
    assert (
        de(
            "Too many unsuccessful attempts. For your security, please wait 15 minutes and try again, or call the office."
        )
        in response.content.decode()
    )
    assert "activation_code_id" not in client.session


def test_it_rate_limits_activation_per_ip(client, newcomer, code, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "activation:ip": (3, 3600)}
    for n in range(3):
        client.post(START, {"member_number": f"4711{n}", "code": "WRON-GWRO-NGWR-ONGG"})
    response = client.post(START, {"member_number": newcomer.member_number, "code": code})
    assert (
        de(
            "Too many unsuccessful attempts. For your security, please wait 15 minutes and try again, or call the office."
        )
        in response.content.decode()
    )


def test_step_two_needs_step_one(client, cast):
    response = client.get(DETAILS)
    assert response["Location"] == START


def test_it_rejects_mismatched_and_weak_passwords(client, newcomer, code):
    client.post(START, {"member_number": newcomer.member_number, "code": code})
    response = client.post(
        DETAILS,
        {"email": "neu@example.org", "password1": "Sonnenblume-42", "password2": "Sonnenblume-43"},
    )
    assert de("The two passwords do not match.") in response.content.decode()
    response = client.post(
        DETAILS,
        {"email": "neu@example.org", "password1": "12345678901", "password2": "12345678901"},
    )
    assert response.status_code == 200
    assert not User.objects.filter(member=newcomer).exists()


def test_it_rejects_an_email_used_by_another_account(client, newcomer, code):
    response = _details(client, newcomer, code, email="ALICE@example.org")
    assert response.status_code == 200
    assert (
        de("This e-mail address is already used by another account. Please choose another.")
        in response.content.decode()
    )
    assert not User.objects.filter(member=newcomer).exists()


def test_it_lets_a_pending_member_correct_the_email(client, newcomer, code, outbox):
    _details(client, newcomer, code, email="tippfehler@example.org")
    _details(client, newcomer, code, email="richtig@example.org")
    assert User.objects.filter(member=newcomer).count() == 1
    assert User.objects.get(member=newcomer).email == "richtig@example.org"
    # The first link is spent: it names the old address.
    first = LINK.search(outbox[0].body).group(1)
    assert client.get(first).status_code == 400
    second = LINK.search(outbox[1].body).group(1)
    assert client.post(second, {"password": "Sonnenblume-42"}).status_code == 302


def test_it_rejects_a_tampered_confirmation_link(client, newcomer, code, outbox):
    _details(client, newcomer, code)
    path = LINK.search(outbox[0].body).group(1)
    response = client.get(path.replace("/bestaetigen/", "/bestaetigen/x"))
    assert response.status_code == 400
    assert not User.objects.get(member=newcomer).is_active


def test_a_second_click_on_the_link_is_harmless(client, newcomer, code, outbox):
    _details(client, newcomer, code)
    path = LINK.search(outbox[0].body).group(1)
    assert client.post(path, {"password": "Sonnenblume-42"}).status_code == 302
    # The link is spent: it explains that and points to the login (no login by link).
    assert client.get(path).status_code == 400
    assert User.objects.filter(member=newcomer, is_active=True).count() == 1


def test_the_email_is_written_in_the_language_of_the_page(client, newcomer, code, outbox):
    client.cookies["genoportal_language"] = "en"
    _details(client, newcomer, code)
    assert outbox[0].subject.startswith("Please confirm your e-mail address")
    assert User.objects.get(member=newcomer).language == "en"


def test_codes_are_long_random_and_stored_only_as_hash(newcomer):
    codes = {c for (_m, c, _e) in activation_codes_create(members=[newcomer] * 1, created_by=None)}
    code = codes.pop()
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{4}(-[A-HJKMNP-Z2-9]{4}){3}", code)
    stored = ActivationCode.objects.get(member=newcomer, revoked_at__isnull=True)
    assert code.replace("-", "") not in stored.code_hash
    assert stored.matches(code)
    assert not stored.matches("AAAA-AAAA-AAAA-AAAA")


def test_activation_pages_refuse_wrong_methods(client):
    assert client.put(START).status_code == 405
    assert client.post("/aktivieren/postfach/").status_code == 405
    assert client.put("/aktivieren/bestaetigen/abc/").status_code == 405
