"""Who in and around a household reaches which request, on every member
page, written out cell by cell; the partner added to a running contract;
sharing a personal request; "Filed by"; IBANs in groups of four, masked for
everyone but the member who entered them, shown to staff with a reason.

The story: alice filed three requests a month ago, while she and bob held
the contract for their flat: a damage report with a photo (about the flat),
her new bank details with a scan (personal), and another bank change she
shared with the household. The office resolved all three yesterday.
Ten days ago carla was added to the running contract. nina is the next
tenant of the flat (alice and bob moved out yesterday); dave lives in
another estate."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from audit.models import AccessLog
from cooperative.models import Unit
from mail.models import OutboundEmail
from members.importer import Source, master_data_import
from members.models import Contract, ContractMember, Member
from routing.models import Team
from tests.browser import PHONE, assert_accessible, assert_fits_width, log_in
from tests.factories import photo, ticket_create
from tests.helpers import de, otp_verify
from tickets.files import CleanFile, file_clean
from tickets.iban import iban_compact, iban_grouped, iban_masked
from tickets.models import Attachment, Channel, RequestType, Status, Ticket, TicketEvent
from tickets.selectors import household_partners
from tickets.services import ticket_open, ticket_reply, ticket_share

pytestmark = pytest.mark.django_db

IBAN = "DE02120300000000202051"
GROUPED = "DE02 1203 0000 0000 2020 51"
MASKED = "DE02 •••• •••• •••• •••• 51"
DESKTOP = {"width": 1280, "height": 900}


def bank_answers(iban: str = IBAN) -> dict:
    return {
        "account_holder": "Alice Ahrens",
        "iban": iban,
        "valid_from": "2027-01-01",
        "sepa_consent": "yes",
    }


def scan() -> CleanFile:
    return CleanFile(b"%PDF-1.4\n%%EOF\n", "application/pdf", "kontoauszug.pdf")


def member_account(number: str, first: str, last: str) -> User:
    member = Member.objects.create(
        member_number=number,
        first_name=first,
        last_name=last,
        joined_on=datetime.date(2020, 1, 1),
    )
    return User.objects.create_user(f"{first.lower()}@example.org", "x" * 12, member=member)


def alice_contract() -> Contract:
    return Contract.objects.get(number="NV-0101900")


# The world ----------------------------------------------------------------------


@pytest.fixture
def world(cast, settings, tmp_path) -> dict:
    settings.MEDIA_ROOT = tmp_path / "media"
    alice = cast.alice
    bank = RequestType.objects.get(slug="bankverbindung")
    assert not bank.shared_with_household
    tickets = {
        "repair": ticket_open(
            request_type=RequestType.objects.get(slug="schadensmeldung"),
            member=alice.member,
            answers={
                "room": "bathroom",
                "what": "Der Wasserhahn tropft.",
                "urgency": "normal",
                "master_key": "yes",
            },
            channel=Channel.PORTAL,
            created_by=alice,
            files=[file_clean(photo())],
        ),
        "bank": ticket_open(
            request_type=bank,
            member=alice.member,
            answers=bank_answers(),
            channel=Channel.PORTAL,
            created_by=alice,
            files=[scan()],
        ),
        "shared_bank": ticket_open(
            request_type=bank,
            member=alice.member,
            answers=bank_answers(),
            channel=Channel.PORTAL,
            created_by=alice,
            files=[scan()],
        ),
    }
    assert tickets["repair"].shared_with_household
    assert ticket_share(ticket=tickets["shared_bank"], user=alice, shared=True)
    now = timezone.now()
    Ticket.objects.filter(pk__in=[t.pk for t in tickets.values()]).update(
        created_at=now - datetime.timedelta(days=30),
        status=Status.RESOLVED,
        resolved_at=now - datetime.timedelta(days=1),
        office_activity_at=now - datetime.timedelta(days=1),
    )
    carla = member_account("20777", "Carla", "Neu")
    ContractMember.objects.create(
        contract=alice_contract(),
        member=carla.member,
        joined=timezone.localdate() - datetime.timedelta(days=10),
    )
    nina = member_account("20888", "Nina", "Nachmieterin")
    users = {"alice": alice, "bob": cast.bob, "carla": carla, "nina": nina, "dave": cast.dave}
    return {"tickets": {k: Ticket.objects.get(pk=t.pk) for k, t in tickets.items()}, "users": users}


def next_tenant_moves_in(nina: User) -> None:
    """alice and bob moved out yesterday; nina's contract for the flat
    begins today."""
    contract = alice_contract()
    today = timezone.localdate()
    Contract.objects.filter(pk=contract.pk).update(end=today - datetime.timedelta(days=1))
    Contract.objects.create(
        number="NV-0101900-2",
        unit=contract.unit,
        start=today,
        monthly_fee=contract.monthly_fee,
    ).members.add(nina.member)


# The matrix ---------------------------------------------------------------------
#
# Per viewer and request: is it in the list (/anliegen/), on the Mein Bereich
# card, counted in the "new" badge; what do the page and its file answer;
# what becomes of a rating, a reopening, a message and a share (in that
# order, each sent as a form of the page would). OK: done. NO: answered with
# an explanation, nothing changed. 404: the request does not exist for them.
# The share button sends "share" for the first two and "stop sharing" for
# the one alice shared.

Y, N, OK, NO = True, False, "ok", "no"

# fmt: off
MATRIX = {
    #                list card badge page  file  rate  reopen reply share
    "alice": {
        "repair":      (Y, Y, Y, 200, 200, OK,  OK,  OK,  NO),   # about the flat: shared anyway
        "bank":        (Y, Y, Y, 200, 200, OK,  OK,  OK,  OK),
        "shared_bank": (Y, Y, Y, 200, 200, OK,  OK,  OK,  OK),
    },
    # On the contract since before the filing: the flat's and the shared one.
    "bob": {
        "repair":      (Y, Y, Y, 200, 200, OK,  OK,  OK,  NO),   # only the filer decides
        "bank":        (N, N, N, 404, 404, 404, 404, 404, 404),
        "shared_bank": (Y, Y, Y, 200, 200, OK,  OK,  OK,  NO),
    },
    # Added to the contract after the filing: nothing from before.
    "carla": {
        "repair":      (N, N, N, 404, 404, 404, 404, 404, 404),
        "bank":        (N, N, N, 404, 404, 404, 404, 404, 404),
        "shared_bank": (N, N, N, 404, 404, 404, 404, 404, 404),
    },
    # The next tenant of the flat: a clean slate.
    "nina": {
        "repair":      (N, N, N, 404, 404, 404, 404, 404, 404),
        "bank":        (N, N, N, 404, 404, 404, 404, 404, 404),
        "shared_bank": (N, N, N, 404, 404, 404, 404, 404, 404),
    },
    # Another member.
    "dave": {
        "repair":      (N, N, N, 404, 404, 404, 404, 404, 404),
        "bank":        (N, N, N, 404, 404, 404, 404, 404, 404),
        "shared_bank": (N, N, N, 404, 404, 404, 404, 404, 404),
    },
}
# fmt: on
CELLS = ("list", "card", "badge", "page", "file", "rate", "reopen", "reply", "share")


def _post_outcome(response, changed: bool):
    if response.status_code == 404:
        assert not changed
        return 404
    assert response.status_code == 302, response.status_code
    return OK if changed else NO


def observe(client, user: User, tickets: dict[str, Ticket]) -> dict[str, tuple]:
    """What the member pages answer this user for each request."""
    listing = client.get("/anliegen/").content.decode()
    home = client.get("/mein-bereich/")
    card = home.content.decode()
    unread = set(Ticket.objects.unread_for(user).values_list("reference", flat=True))
    assert home.context["unread_requests"] == len(unread)
    seen = {}
    for key, ticket in tickets.items():
        ref = ticket.reference
        page = client.get(f"/anliegen/{ref}/").status_code
        attachment = Attachment.objects.filter(ticket=ticket).get()
        download = client.get(f"/anliegen/{ref}/dateien/{attachment.pk}/")
        if download.streaming:
            b"".join(download.streaming_content)

        response = client.post(f"/anliegen/{ref}/bewerten/", {"rating": "5", "comment": ""})
        rated = Ticket.objects.get(pk=ticket.pk).rating == 5
        rate = _post_outcome(response, rated)

        response = client.post(f"/anliegen/{ref}/wieder-oeffnen/", {"reason": "Tropft wieder."})
        reopened = Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS
        reopen = _post_outcome(response, reopened)

        body = f"Nachricht von {user.member.first_name}"
        response = client.post(f"/anliegen/{ref}/", {"body": body})
        sent = TicketEvent.objects.filter(ticket=ticket, body=body, actor=user).exists()
        reply = _post_outcome(response, sent)

        before = Ticket.objects.get(pk=ticket.pk).shared_with_household
        wanted = "0" if key == "shared_bank" else "1"
        response = client.post(f"/anliegen/{ref}/teilen/", {"shared": wanted})
        after = Ticket.objects.get(pk=ticket.pk).shared_with_household
        share = _post_outcome(response, after != before)

        seen[key] = (
            ref in listing,
            ref in card,
            ref in unread,
            page,
            download.status_code,
            rate,
            reopen,
            reply,
            share,
        )
    return seen


@pytest.mark.parametrize("viewer", list(MATRIX))
def test_it_answers_every_member_page_as_the_matrix_says(client, world, viewer):
    user = world["users"][viewer]
    if viewer == "nina":
        next_tenant_moves_in(user)
    client.force_login(user)
    seen = observe(client, user, world["tickets"])
    wrong = [
        f"{viewer} × {key} × {cell}: got {got!r}, expected {expected!r}"
        for key, row in MATRIX[viewer].items()
        for cell, got, expected in zip(CELLS, seen[key], row, strict=True)
        if got != expected
    ]
    assert not wrong, "\n".join(wrong)


# The partner added later ---------------------------------------------------------


def test_a_partner_added_later_sees_what_the_household_files_from_the_day_they_joined(
    client, world
):
    carla = world["users"]["carla"]
    fresh = ticket_create()  # alice's new damage report, today
    personal = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"), answers=bank_answers()
    )
    visible = set(Ticket.objects.visible_to_member(carla.member).values_list("pk", flat=True))
    assert visible == {fresh.pk}
    client.force_login(carla)
    assert client.get(f"/anliegen/{fresh.reference}/").status_code == 200
    assert client.get(f"/anliegen/{personal.reference}/").status_code == 404
    # The day she joined counts (a date, not a moment).
    ContractMember.objects.filter(member=carla.member).update(joined=timezone.localdate())
    assert Ticket.objects.visible_to_member(carla.member).filter(pk=fresh.pk).exists()
    # Staff corrected it: she really moved in before alice filed.
    ContractMember.objects.filter(member=carla.member).update(
        joined=timezone.localdate() - datetime.timedelta(days=60)
    )
    visible = set(Ticket.objects.visible_to_member(carla.member).values_list("pk", flat=True))
    repair, shared = world["tickets"]["repair"], world["tickets"]["shared_bank"]
    assert visible == {fresh.pk, repair.pk, shared.pk}


def test_staff_correct_the_join_date_in_the_contracts_admin(client, cast, world):
    contract = alice_contract()
    carla = world["users"]["carla"].member
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    url = f"/verwaltung/members/contract/{contract.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="contractmember_set-2-joined"' in page
    links = list(ContractMember.objects.filter(contract=contract).order_by("pk"))
    data = {
        "number": contract.number,
        "unit": contract.unit_id,
        "start": contract.start.isoformat(),
        "end": "",
        "monthly_fee": str(contract.monthly_fee),
        "contractmember_set-TOTAL_FORMS": str(len(links)),
        "contractmember_set-INITIAL_FORMS": str(len(links)),
        "contractmember_set-MIN_NUM_FORMS": "0",
        "contractmember_set-MAX_NUM_FORMS": "1000",
    }
    for i, link in enumerate(links):
        moved_in = "2026-01-15" if link.member_id == carla.pk else ""
        data |= {
            f"contractmember_set-{i}-id": str(link.pk),
            f"contractmember_set-{i}-contract": str(contract.pk),
            f"contractmember_set-{i}-member": str(link.member_id),
            f"contractmember_set-{i}-joined": moved_in,
        }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ContractMember.objects.get(member=carla).joined == datetime.date(2026, 1, 15)
    assert ContractMember.objects.get(member=cast.bob.member).joined is None


def _contracts_csv(rows: list[tuple[str, str, str, str]]) -> Source:
    lines = ["Vertrags-Nr;Wohnungs-Nr;Mitglieds-Nr;Beginn;Ende;Nutzungsgebühr"]
    lines += [f"{number};{unit};{member};{start};;500,00" for number, unit, member, start in rows]
    return Source("vertraege.csv", ("\n".join(lines) + "\n").encode("utf-8"))


def test_the_import_dates_a_partner_added_to_a_running_contract_today(cast):
    today = timezone.localdate()
    unit = alice_contract().unit
    for number in ("20701", "20702", "20703", "20704"):
        Member.objects.create(
            member_number=number,
            first_name="Neu",
            last_name=number,
            joined_on=datetime.date(2020, 1, 1),
        )
    free = Unit.objects.create(
        building=unit.building,
        number="0109998",
        floor=3,
        position="3. OG rechts",
        rooms=Decimal("2"),
        living_area=Decimal("50"),
    )
    later = Unit.objects.create(
        building=unit.building,
        number="0109999",
        floor=3,
        position="3. OG links",
        rooms=Decimal("2"),
        living_area=Decimal("50"),
    )
    Contract.objects.create(
        number="NV-SPAETER",
        unit=later,
        start=today + datetime.timedelta(days=30),
        monthly_fee=Decimal("500"),
    ).members.add(Member.objects.get(member_number="20703"))
    begins = (today + datetime.timedelta(days=30)).strftime("%d.%m.%Y")
    master_data_import(
        contracts=_contracts_csv(
            [
                # alice and bob's running contract gets a third member
                ("NV-0101900", "0101900", "20001", "01.09.2015"),
                ("NV-0101900", "0101900", "20002", "01.09.2015"),
                ("NV-0101900", "0101900", "20701", "01.09.2015"),
                # a new contract: its household starts together
                ("NV-NEU", "0109998", "20702", "01.01.2026"),
                # a contract not begun yet: everyone on it from the start
                ("NV-SPAETER", "0109999", "20703", begins),
                ("NV-SPAETER", "0109999", "20704", begins),
            ]
        ),
        members_with_account=lambda ids: [],
    )
    joined = dict(ContractMember.objects.values_list("member__member_number", "joined"))
    assert joined["20701"] == today
    assert joined["20001"] is None and joined["20002"] is None
    assert joined["20702"] is None
    assert joined["20703"] is None and joined["20704"] is None
    assert Contract.objects.get(number="NV-NEU").unit == free


# Sharing ------------------------------------------------------------------------


def test_the_filer_shares_a_personal_request_and_stops_again(client, cast):
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"), answers=bank_answers()
    )
    assert household_partners(bank) == [cast.bob.member]
    client.force_login(cast.alice)
    page = client.get(f"/anliegen/{bank.reference}/").content.decode()
    assert de("Share with my household") in page and "Bob Ahrens" in page
    response = client.post(f"/anliegen/{bank.reference}/teilen/", {"shared": "1"}, follow=True)
    assert de("Your household can now see this request.") in response.content.decode()
    assert de("Stop sharing") in response.content.decode()
    assert Ticket.objects.visible_to_member(cast.bob.member).filter(pk=bank.pk).exists()
    # A second click (another tab) changes nothing and writes no second event.
    client.post(f"/anliegen/{bank.reference}/teilen/", {"shared": "1"})
    event = TicketEvent.objects.get(ticket=bank, kind="shared")
    assert (event.public, event.actor, event.data) == (True, cast.alice, {"shared": True})

    client.force_login(cast.bob)
    page = client.get(f"/anliegen/{bank.reference}/").content.decode()
    assert de("Shared with the household") in page
    assert de("Share with my household") not in page and de("Stop sharing") not in page

    client.force_login(cast.alice)
    response = client.post(f"/anliegen/{bank.reference}/teilen/", {"shared": "0"}, follow=True)
    assert de("Only you can see this request now.") in response.content.decode()
    assert not Ticket.objects.visible_to_member(cast.bob.member).filter(pk=bank.pk).exists()
    client.force_login(cast.bob)
    assert client.get(f"/anliegen/{bank.reference}/").status_code == 404


def test_the_share_control_is_only_for_the_filer_of_a_personal_request(client, cast):
    repair = ticket_create()
    dave_bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"),
        member=cast.dave.member,
        answers=bank_answers(),
    )
    client.force_login(cast.alice)
    assert (
        de("Who sees this request")
        not in client.get(f"/anliegen/{repair.reference}/").content.decode()
    )
    # dave lives alone: nobody to share with.
    assert household_partners(dave_bank) == []
    client.force_login(cast.dave)
    page = client.get(f"/anliegen/{dave_bank.reference}/").content.decode()
    assert de("Who sees this request") not in page


def test_bad_share_input_changes_nothing(client, cast):
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"), answers=bank_answers()
    )
    repair = ticket_create()
    client.force_login(cast.alice)
    for value in ["", "ja", "2", "1' OR '1'='1"]:
        response = client.post(
            f"/anliegen/{bank.reference}/teilen/", {"shared": value}, follow=True
        )
        assert (
            de("Please use the buttons on the request page to share it.")
            in response.content.decode()
        )
    response = client.post(f"/anliegen/{repair.reference}/teilen/", {"shared": "0"}, follow=True)
    assert de("This request is about your apartment: your household sees it anyway.") in (
        response.content.decode()
    )
    client.force_login(cast.bob)
    response = client.post(f"/anliegen/{repair.reference}/teilen/", {"shared": "0"}, follow=True)
    assert de("Only the person who sent this request can decide who else sees it.") in (
        response.content.decode()
    )
    assert client.get(f"/anliegen/{bank.reference}/teilen/").status_code == 405
    assert not TicketEvent.objects.filter(kind="shared").exists()
    assert not Ticket.objects.get(pk=bank.pk).shared_with_household
    assert Ticket.objects.get(pk=repair.pk).shared_with_household


def test_the_share_post_needs_few_queries(client, cast, django_assert_max_num_queries):
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"), answers=bank_answers()
    )
    client.force_login(cast.alice)
    client.get("/mein-bereich/")
    with django_assert_max_num_queries(10):
        response = client.post(f"/anliegen/{bank.reference}/teilen/", {"shared": "1"})
    assert response.status_code == 302


# Filed by ------------------------------------------------------------------------


def test_the_partner_reads_who_filed_a_request(client, cast):
    repair = ticket_create()
    filed_by = de("Filed by %(name)s") % {"name": "Alice Ahrens"}
    client.force_login(cast.bob)
    assert filed_by in client.get("/anliegen/").content.decode()
    page = client.get(f"/anliegen/{repair.reference}/").content.decode()
    assert filed_by in page and de("The request") in page
    client.force_login(cast.alice)
    assert (
        de("Filed by %(name)s") % {"name": "Alice Ahrens"}
        not in client.get("/anliegen/").content.decode()
    )
    assert filed_by not in client.get(f"/anliegen/{repair.reference}/").content.decode()


def test_the_list_query_count_does_not_grow_with_the_households_requests(client, cast):
    ticket_create()
    client.force_login(cast.bob)
    client.get("/anliegen/")
    with CaptureQueriesContext(connection) as one:
        client.get("/anliegen/")
    for _ in range(5):
        ticket_create()
    with CaptureQueriesContext(connection) as six:
        body = client.get("/anliegen/").content.decode()
    assert body.count("Alice Ahrens") >= 6
    assert len(six) == len(one)


# IBANs ---------------------------------------------------------------------------


def test_an_iban_is_grouped_masked_and_compact():
    assert iban_compact(" de02-1203 0000\u00a00000 2020 51 ") == IBAN
    assert iban_grouped(IBAN) == iban_grouped(GROUPED) == GROUPED
    assert iban_masked(IBAN) == iban_masked(GROUPED) == MASKED
    assert iban_masked("NL91ABNA0417164300") == "NL91 •••• •••• •••• 00"
    assert IBAN[4:-2] not in iban_masked(IBAN).replace(" ", "")


def test_the_member_types_it_any_way_and_reads_it_in_groups_of_four(client, cast):
    client.force_login(cast.alice)
    response = client.post(
        "/anliegen/neu/bankverbindung/",
        {**bank_answers("de02-1203-0000-0000-2020-51"), "valid_from": "2099-01-01"},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    review = client.get("/anliegen/neu/bankverbindung/pruefen/").content.decode()
    assert GROUPED in review
    client.post("/anliegen/neu/bankverbindung/pruefen/")
    ticket = Ticket.objects.get()
    assert ticket.answers["iban"] == IBAN  # stored compact
    page = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert GROUPED in page and MASKED not in page


def test_the_partner_of_a_shared_request_sees_it_masked(client, cast):
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"), answers=bank_answers()
    )
    ticket_share(ticket=bank, user=cast.alice, shared=True)
    client.force_login(cast.bob)
    page = client.get(f"/anliegen/{bank.reference}/").content.decode()
    assert MASKED in page
    assert GROUPED not in page and IBAN not in page


def _staff_page(client, ticket):
    return client.get(f"/bearbeitung/anliegen/{ticket.reference}/").content.decode()


def test_staff_see_it_masked_and_in_full_only_with_a_reason_in_the_access_log(client, cast):
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"), answers=bank_answers()
    )
    Team.objects.get(name="Rechnungswesen").members.add(cast.hanna)
    client.force_login(cast.hanna)
    page = _staff_page(client, bank)
    assert MASKED in page and GROUPED not in page and IBAN not in page
    assert de("Show IBAN") in page
    AccessLog.objects.all().delete()

    url = f"/bearbeitung/anliegen/{bank.reference}/iban/"
    for reason in ["", "   "]:
        response = client.post(url, {"reason": reason})
        body = response.content.decode()
        assert response.status_code == 200
        assert de("Please give a short reason: it goes into the access log.") in body
        assert GROUPED not in body and IBAN not in body
    too_long = "x" * 151
    body = client.post(url, {"reason": too_long}).content.decode()
    assert too_long in body and GROUPED not in body  # kept to shorten, not shown
    assert not AccessLog.objects.exists()

    response = client.post(url, {"reason": "Lastschrift einrichten"})
    body = response.content.decode()
    assert response.status_code == 200 and GROUPED in body
    entry = AccessLog.objects.get()
    assert (entry.actor, entry.action, entry.member) == (cast.hanna, "view", cast.alice.member)
    assert entry.subject == f"{bank.reference} IBAN: Lastschrift einrichten"
    # Only for that page: the work page shows it masked again.
    assert GROUPED not in _staff_page(client, bank)


def test_staff_outside_the_team_cannot_ask_for_it(client, cast):
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"), answers=bank_answers()
    )
    client.force_login(cast.hanna)  # not in Rechnungswesen
    response = client.post(f"/bearbeitung/anliegen/{bank.reference}/iban/", {"reason": "Neugier"})
    assert response.status_code == 404
    assert not AccessLog.objects.filter(subject__contains="IBAN").exists()
    client.force_login(cast.alice)
    response = client.post(f"/bearbeitung/anliegen/{bank.reference}/iban/", {"reason": "x"})
    assert response.status_code == 404


def test_a_request_without_iban_offers_nothing_to_show(client, cast):
    repair = ticket_create()
    client.force_login(cast.hanna)
    assert de("Show IBAN") not in _staff_page(client, repair)
    response = client.post(f"/bearbeitung/anliegen/{repair.reference}/iban/", {"reason": "x"})
    assert de("This request has no IBAN.") in response.content.decode()
    assert not AccessLog.objects.filter(subject__contains="IBAN").exists()


def test_the_reveal_needs_few_queries(client, cast, django_assert_max_num_queries):
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"), answers=bank_answers()
    )
    Team.objects.get(name="Rechnungswesen").members.add(cast.hanna)
    client.force_login(cast.hanna)
    _staff_page(client, bank)
    with django_assert_max_num_queries(10):
        response = client.post(
            f"/bearbeitung/anliegen/{bank.reference}/iban/", {"reason": "Rückbuchung"}
        )
    assert GROUPED in response.content.decode()


def test_no_e_mail_carries_the_iban(cast):
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"), answers=bank_answers()
    )
    ticket_reply(
        ticket=bank,
        actor=cast.ada,
        body="Danke, wir haben Ihre neue Bankverbindung.",
        expected_version=bank.version,
        public=True,
    )
    bodies = list(OutboundEmail.objects.values_list("subject", "body"))
    assert len(bodies) >= 2  # the confirmation and the reply, at least
    digits = re.compile(r"1203\W*0000|2020\W*51")
    for subject, body in bodies:
        text = subject + body
        assert IBAN not in text and GROUPED not in text and not digits.search(text), text


# In a real browser ---------------------------------------------------------------


def check(page):
    """axe-core clean at the desktop width and on the 360 px phone, which
    shows nothing sideways."""
    page.set_viewport_size(DESKTOP)
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_accessible(page)
    assert_fits_width(page)


@pytest.mark.browser
def test_sharing_and_the_masked_iban_in_a_browser(page, live_server, cast, password):
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"), answers=bank_answers()
    )
    Team.objects.get(name="Rechnungswesen").members.add(cast.hanna)
    base = live_server.url

    # Alice shares her bank change from the phone, by keyboard.
    log_in(page, base, "alice@example.org", password)
    page.goto(base + f"/anliegen/{bank.reference}/")
    assert GROUPED in page.locator("main").inner_text()
    check(page)
    page.get_by_role("button", name=de("Share with my household")).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert de("Your household can now see this request.") in page.locator("main").inner_text()
    assert page.get_by_role("button", name=de("Stop sharing")).is_visible()
    check(page)

    # Bob reads it masked, and who filed it.
    page.context.clear_cookies()
    log_in(page, base, "bob@example.org", password)
    page.goto(base + f"/anliegen/{bank.reference}/")
    text = page.locator("main").inner_text()
    assert MASKED in text and GROUPED not in text and "Alice Ahrens" in text
    check(page)

    # Hanna sees it masked and shows it with a reason.
    page.context.clear_cookies()
    log_in(page, base, "hanna@example.org", password)
    page.goto(base + f"/bearbeitung/anliegen/{bank.reference}/")
    assert MASKED in page.locator("main").inner_text()
    check(page)
    page.fill("#iban-reason", "Lastschrift einrichten")
    with page.expect_navigation():
        page.get_by_role("button", name=de("Show IBAN")).click()
    assert GROUPED in page.locator("main").inner_text()
    check(page)
