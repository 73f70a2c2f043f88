"""Mein Bereich: the member home, contact details and e-mail change."""

import re

import pytest

from accounts.models import User
from members.models import Member
from tests.helpers import de

pytestmark = pytest.mark.django_db

HOME = "/mein-bereich/"
CONTACT = "/mein-bereich/kontakt/"
EMAIL = "/mein-bereich/e-mail/"
LINK = re.compile(r"http://testserver(/mein-bereich/e-mail/bestaetigen/[^/\s]+/)")


def test_it_shows_alice_her_membership_apartment_and_household(client, cast):
    client.force_login(cast.alice)
    response = client.get(HOME)
    body = response.content.decode()
    assert response.status_code == 200
    assert "20001" in body
    assert "2. OG links" in body
    assert "Nordring 1" in body
    assert "Wohnanlage Nord" in body
    assert "Bob Ahrens" in body  # household partner on the same contract
    # 2 required + 3 voluntary shares of 160 € each = 800 €
    assert "2 × 160,00 € = 320,00 €" in body
    assert "3 × 160,00 € = 480,00 €" in body
    assert "800,00 €" in body
    assert "NV-0101900" in body
    # Appointments (issue 13) have their card with the way to book one, and
    # documents (issue 15) theirs with the way to the list and the forms.
    assert "Meine Termine" in body and 'href="/termine/neu/"' in body
    assert "Meine Dokumente" in body and 'href="/dokumente/"' in body


def test_it_shows_bob_alice_as_household(client, cast):
    client.force_login(cast.bob)
    body = client.get(HOME).content.decode()
    assert "Alice Ahrens" in body
    assert "Dave" not in body


def test_it_never_shows_another_members_data(client, cast):
    client.force_login(cast.dave)
    body = client.get(HOME).content.decode()
    assert "20003" in body
    assert "Ahrens" not in body and "20001" not in body


def test_it_needs_a_login(client, cast):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith("/anmelden/?next=")


def test_staff_have_no_member_area(client, cast):
    client.force_login(cast.hanna)
    assert client.get(HOME).status_code == 404
    assert client.get(CONTACT).status_code == 404


def test_it_refuses_wrong_methods(client, cast):
    client.force_login(cast.alice)
    assert client.post(HOME).status_code == 405
    assert client.delete(CONTACT).status_code == 405


def test_the_home_page_query_count_is_constant(client, cast, django_assert_max_num_queries):
    client.force_login(cast.alice)
    client.get(HOME)  # warm the session
    # 10 before the documents card (issue 15), which counts the new ones.
    with django_assert_max_num_queries(11):
        client.get(HOME)


def test_it_saves_phone_and_language_at_once(client, cast):
    client.force_login(cast.alice)
    response = client.post(CONTACT, {"phone": "+49 30 987654", "language": "en"})
    assert response["Location"] == HOME
    cast.alice.refresh_from_db()
    member = Member.objects.get(pk=cast.alice.member_id)
    assert member.phone == "+49 30 987654"
    assert member.preferred_language == "en"
    assert cast.alice.language == "en"
    assert client.get(HOME)["Content-Language"] == "en"


def test_it_rejects_a_bad_phone_number_and_changes_nothing(client, cast):
    client.force_login(cast.alice)
    before = Member.objects.get(pk=cast.alice.member_id).phone
    response = client.post(CONTACT, {"phone": "call me maybe", "language": "de"})
    assert response.status_code == 200
    assert (
        de(
            "Enter a phone number using digits, spaces and + / - ( ) only, e.g. 030 1234567 or +49 30 1234567."
        )
        in response.content.decode()
    )
    assert Member.objects.get(pk=cast.alice.member_id).phone == before


def test_it_rejects_an_unknown_language(client, cast):
    client.force_login(cast.alice)
    response = client.post(CONTACT, {"phone": "", "language": "fr"})
    assert response.status_code == 200
    cast.alice.refresh_from_db()
    assert cast.alice.language == "de"


def test_email_change_waits_for_the_link_to_the_new_address(client, cast, outbox):
    client.force_login(cast.alice)
    response = client.post(EMAIL, {"email": "alice.neu@example.org"})
    assert response["Location"] == HOME
    assert User.objects.get(pk=cast.alice.pk).email == "alice@example.org"
    assert outbox[-1].to == ["alice.neu@example.org"]
    path = LINK.search(outbox[-1].body).group(1)

    response = client.get(path)
    assert response["Location"] == HOME
    assert User.objects.get(pk=cast.alice.pk).email == "alice.neu@example.org"
    assert Member.objects.get(pk=cast.alice.member_id).email == "alice.neu@example.org"
    # The old address is told, in case someone else did it.
    assert outbox[-1].to == ["alice@example.org"]
    # The link is spent.
    client.get(path)
    assert User.objects.get(pk=cast.alice.pk).email == "alice.neu@example.org"


def test_email_change_link_works_only_for_its_account(client, cast, outbox):
    client.force_login(cast.alice)
    client.post(EMAIL, {"email": "alice.neu@example.org"})
    path = LINK.search(outbox[-1].body).group(1)
    client.force_login(cast.dave)
    assert client.get(path).status_code == 400
    assert User.objects.get(pk=cast.dave.pk).email == "dave@example.org"
    assert User.objects.get(pk=cast.alice.pk).email == "alice@example.org"


def test_email_change_rejects_the_same_address_and_keeps_a_taken_one_secret(client, cast):
    client.force_login(cast.alice)
    # Another account's address gets the same answer as a free one (saying
    # "taken" told anyone which addresses have accounts); nothing changes.
    taken = client.post(EMAIL, {"email": "BOB@example.org"})
    free = client.post(EMAIL, {"email": "alice.neu@example.org"})
    assert taken.status_code == free.status_code == 302
    assert taken["Location"] == free["Location"]
    assert User.objects.get(pk=cast.bob.pk).email == "bob@example.org"
    response = client.post(EMAIL, {"email": "alice@example.org"})
    assert de("This is already your e-mail address.") in response.content.decode()
    response = client.post(EMAIL, {"email": "not-an-address"})
    assert response.status_code == 200
    assert User.objects.get(pk=cast.alice.pk).email == "alice@example.org"
