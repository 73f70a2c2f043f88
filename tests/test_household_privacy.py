"""Who sees a request about a flat: the household that holds the contract
now, for what was filed under it — never the partner's personal requests,
never what a previous tenant filed (domain: "Who sees what")."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from members.models import Contract, Member
from tests.factories import ticket_create
from tickets.models import RequestType, Ticket
from tickets.selectors import tickets_open_for_member

pytestmark = pytest.mark.django_db


def _visible(member):
    return set(Ticket.objects.visible_to_member(member).values_list("reference", flat=True))


def test_the_partner_sees_the_flats_requests_but_not_personal_ones(client, cast):
    repair = ticket_create()  # alice's repair report: about the flat
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"),
        answers={"account_holder": "Alice Ahrens", "iban": "DE02120300000000202051"},
    )
    assert not bank.shared_with_household and repair.shared_with_household
    bob = cast.bob.member
    assert _visible(bob) == {repair.reference}
    assert _visible(cast.alice.member) == {repair.reference, bank.reference}

    client.force_login(cast.bob)
    assert client.get(f"/anliegen/{bank.reference}/").status_code == 404
    assert bank.reference not in client.get("/anliegen/").content.decode()
    assert bank.reference not in client.get("/mein-bereich/").content.decode()
    assert client.get(f"/anliegen/{repair.reference}/").status_code == 200
    assert [t.reference for t in tickets_open_for_member(bob, limit=5)] == [repair.reference]


def test_a_new_tenant_starts_with_a_clean_slate(client, cast):
    """Dave's flat had a tenant before him: what was filed then is not his."""
    dave = cast.dave.member
    contract = Contract.objects.get(members=dave)
    previous = Member.objects.create(
        member_number="39999",
        first_name="Paula",
        last_name="Vormieterin",
        joined_on=datetime.date(2010, 1, 1),
    )
    old_contract = Contract.objects.create(
        number="NV-ALT",
        unit=contract.unit,
        start=datetime.date(2010, 1, 1),
        end=contract.start - datetime.timedelta(days=1),
        monthly_fee=Decimal("400.00"),
    )
    old_contract.members.set([previous])
    before = ticket_create(member=previous, created_by=cast.hanna)
    Ticket.objects.filter(pk=before.pk).update(
        unit=contract.unit,
        created_at=timezone.make_aware(datetime.datetime.combine(contract.start, datetime.time(12)))
        - datetime.timedelta(days=90),
    )
    on_moving_day = ticket_create(member=previous, created_by=cast.hanna)
    Ticket.objects.filter(pk=on_moving_day.pk).update(
        unit=contract.unit,
        # 00:30 in Berlin on the day the contract begins is already his.
        created_at=timezone.make_aware(
            datetime.datetime.combine(contract.start, datetime.time(0, 30))
        ),
    )
    mine = ticket_create(member=dave)

    assert _visible(dave) == {on_moving_day.reference, mine.reference}
    client.force_login(cast.dave)
    assert client.get(f"/anliegen/{before.reference}/").status_code == 404
    assert before.reference not in client.get("/anliegen/").content.decode()


def test_a_household_that_ended_sees_nothing_more_of_the_flat(cast):
    repair = ticket_create()
    bob = cast.bob.member
    contract = Contract.objects.get(members=bob)
    Contract.objects.filter(pk=contract.pk).update(
        end=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert _visible(bob) == set()
    # Alice still sees what she filed herself.
    assert repair.reference in _visible(cast.alice.member)


def test_the_visibility_query_does_not_grow_with_the_requests(cast, django_assert_num_queries):
    # Two: the member's flats (a few rows), then the tickets, whatever their number.
    for _ in range(5):
        ticket_create()
    with django_assert_num_queries(2):
        assert len(list(Ticket.objects.visible_to_member(cast.bob.member))) == 5
    for _ in range(5):
        ticket_create()
    with django_assert_num_queries(2):
        assert len(list(Ticket.objects.visible_to_member(cast.bob.member))) == 10
