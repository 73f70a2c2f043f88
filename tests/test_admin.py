"""Back-office master data (Django admin) and the activation letter batch."""

import re

import pytest

from accounts.models import ActivationCode
from members.models import Member
from tests.helpers import otp_verify

pytestmark = pytest.mark.django_db

MEMBERS = "/verwaltung/members/member/"


def _letters(client, members):
    return client.post(
        MEMBERS,
        {"action": "print_activation_letters", "_selected_action": [m.pk for m in members]},
    )


def test_admin_prints_one_letter_per_member_with_a_working_code(client, cast):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    members = list(Member.objects.filter(user__isnull=True).order_by("member_number")[:3])
    response = _letters(client, members)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="letter"') == 3
    codes = re.findall(r'class="letter__code">([A-Z0-9-]+)<', body)
    assert len(codes) == 3 and len(set(codes)) == 3
    for member, code in zip(members, codes, strict=True):
        assert member.member_number in body
        stored = ActivationCode.objects.usable().get(member=member)
        assert stored.matches(code)
    # Only the hash is kept: the codes are not readable afterwards.
    listing = client.get("/verwaltung/accounts/activationcode/").content.decode()
    assert all(code not in listing for code in codes)


def test_letters_skip_members_who_already_have_an_account(client, cast):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    response = _letters(client, [cast.alice.member, cast.bob.member])
    assert response.status_code == 302
    assert not ActivationCode.objects.filter(member=cast.alice.member).exists()


def test_handlers_can_read_but_not_change_members_or_print_letters(client, cast):
    client.force_login(cast.hanna)
    assert client.get(MEMBERS).status_code == 200
    member = cast.dave.member
    response = client.post(f"{MEMBERS}{member.pk}/change/", {"first_name": "X"})
    assert response.status_code == 403
    target = Member.objects.filter(user__isnull=True).first()
    _letters(client, [target])
    assert not ActivationCode.objects.filter(member=target).exists()


def test_members_never_reach_the_administration(client, cast):
    client.force_login(cast.alice)
    response = client.get(MEMBERS)
    assert response.status_code == 302
    assert "/verwaltung/login/" in response["Location"]


@pytest.mark.parametrize(
    "url",
    [
        "/verwaltung/members/member/?q=Ahrens",
        "/verwaltung/members/member/?account=no",
        "/verwaltung/members/member/?account=yes",
        "/verwaltung/members/contract/?q=NV-0101900",
        "/verwaltung/cooperative/unit/?q=0101900",
        "/verwaltung/cooperative/building/?q=Nordring",
        "/verwaltung/cooperative/estate/?q=Nord",
        "/verwaltung/accounts/user/?q=alice",
        "/verwaltung/cooperative/cooperative/",
        "/verwaltung/mail/outboundemail/",
    ],
)
def test_admin_lists_search_and_filter(client, cast, url):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    response = client.get(url)
    assert response.status_code == 200


def test_admin_search_finds_the_member(client, cast):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    body = client.get("/verwaltung/members/member/?q=20003").content.decode()
    assert "Dietrich" in body and "Ahrens" not in body


def test_a_new_account_in_the_admin_is_a_staff_account(client, cast):
    from accounts.models import User

    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    response = client.post(
        "/verwaltung/accounts/user/add/",
        {
            "email": "neu.mitarbeiter@example.org",
            "first_name": "Nina",
            "last_name": "Neu",
            "password1": "Sicheres-Passwort-1",
            "password2": "Sicheres-Passwort-1",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="neu.mitarbeiter@example.org")
    assert user.is_staff and user.member is None


def test_opening_a_member_in_the_admin_is_recorded(client, cast):
    from audit.models import AccessLog

    client.force_login(cast.hanna)
    member = cast.alice.member
    assert client.get(f"{MEMBERS}{member.pk}/change/").status_code == 200
    entry = AccessLog.objects.get()
    assert (entry.actor, entry.action, entry.member) == (cast.hanna, "view", member)
    assert entry.path == f"{MEMBERS}{member.pk}/change/"


def test_opening_a_contract_records_every_member_on_it(client, cast):
    from audit.models import AccessLog
    from members.models import Contract

    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    contract = Contract.objects.get(number="NV-0101900")
    client.get(f"/verwaltung/members/contract/{contract.pk}/change/")
    assert set(AccessLog.objects.values_list("member__member_number", flat=True)) == {
        "20001",
        "20002",
    }


def test_searches_and_letters_are_recorded_and_the_log_is_read_only(client, cast):
    from audit.models import AccessLog

    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    client.get(f"{MEMBERS}?q=Ahrens")
    target = Member.objects.filter(user__isnull=True).first()
    _letters(client, [target])
    actions = list(AccessLog.objects.order_by("created_at").values_list("action", "member"))
    assert actions == [("search", None), ("export", target.pk)]
    entry = AccessLog.objects.first()
    assert client.get("/verwaltung/audit/accesslog/").status_code == 200
    assert (
        client.post(f"/verwaltung/audit/accesslog/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AccessLog.objects.count() == 2
