"""What the administration (/verwaltung/) lets each role do, after the
security probe of issue 9: handlers never read other teams' requests there,
absences are recorded only by whoever may, the Administration role cannot
raise its own rights, a team lead's rule simulation lists only requests the
lead may see, and text blocks have roles that manage them."""

import pytest
from django.contrib import messages
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts import roles
from accounts.models import User
from demo.cast import staff_ensure
from routing.models import Absence, RoutingRule, Team
from tests.factories import ticket_create
from tests.helpers import otp_verify
from tickets.models import CannedResponse, RequestType, Ticket
from tickets.services import absence_hand_over

pytestmark = pytest.mark.django_db

TICKETS = "/verwaltung/tickets/ticket/"
ABSENCES = "/verwaltung/routing/absence/"
USERS = "/verwaltung/accounts/user/"
PREVIEW = "/verwaltung/routing/routingrule/vorschau/"
TEXT_BLOCKS = "/verwaltung/tickets/cannedresponse/"
IBAN = "DE02 1203 0000 0000 2020 51"


@pytest.fixture
def bank_ticket(cast) -> Ticket:
    """Alice's new bank details: a request of Rechnungswesen, where Hanna
    does not work, with an IBAN in its answers."""
    ticket = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"),
        answers={
            "account_holder": "Alice Ahrens",
            "iban": IBAN,
            "valid_from": "2027-01-01",
            "sepa_consent": "yes",
        },
    )
    assert ticket.team.name == "Rechnungswesen"
    return ticket


@pytest.fixture
def repair_ticket(cast) -> Ticket:
    """Alice's dripping tap: a request of Technik, Hanna's team."""
    ticket = ticket_create()
    assert ticket.team.name == "Technik" and ticket.team.has_member(cast.hanna)
    return ticket


@pytest.fixture
def vera(cast) -> User:
    """A handler in Vermietung only: no team in common with Hanna or Tom."""
    person = staff_ensure("vera@example.org", "Vera", "Vermietung", roles.HANDLER)
    Team.objects.get(name="Vermietung").members.add(person)
    return person


def ticket_urls(ticket: Ticket) -> list[str]:
    return [
        f"{TICKETS}?q={ticket.reference}",
        f"{TICKETS}{ticket.pk}/change/",
        f"{TICKETS}{ticket.pk}/history/",
        f"{TICKETS}{ticket.pk}/delete/",
    ]


# 1. Requests in the administration ------------------------------------------------


def test_it_keeps_handlers_out_of_the_ticket_admin_for_every_url(
    client, cast, bank_ticket, repair_ticket
):
    client.force_login(cast.hanna)
    for ticket in (bank_ticket, repair_ticket):
        for url in ticket_urls(ticket):
            response = client.get(url)
            assert response.status_code in (403, 404), url
            assert IBAN not in response.content.decode(), url
    assert client.post(f"{TICKETS}{bank_ticket.pk}/delete/", {"post": "yes"}).status_code in (
        403,
        404,
    )
    assert Ticket.objects.filter(pk=bank_ticket.pk).exists()
    # Requests are worked in the back office, within the team's visibility.
    assert client.get(f"/bearbeitung/anliegen/{repair_ticket.reference}/").status_code == 200
    assert client.get(f"/bearbeitung/anliegen/{bank_ticket.reference}/").status_code == 404


def test_it_shows_whoever_holds_the_permission_only_the_tickets_they_may_see(
    client, cast, bank_ticket, repair_ticket
):
    # However the right to read requests in the administration is given
    # (here: straight to the account), the back office's rule still holds.
    cast.hanna.user_permissions.add(
        Permission.objects.get(content_type__app_label="tickets", codename="view_ticket")
    )
    client.force_login(cast.hanna)
    for url in ticket_urls(bank_ticket)[1:]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert IBAN not in response.content.decode()
    listing = client.get(ticket_urls(bank_ticket)[0])
    assert listing.status_code == 200 and list(listing.context["cl"].result_list) == []
    assert IBAN not in listing.content.decode()
    everything = client.get(TICKETS)
    assert list(everything.context["cl"].result_list) == [repair_ticket]
    assert f"{TICKETS}{bank_ticket.pk}/" not in everything.content.decode()
    # Her own team's request reads as before.
    assert client.get(f"{TICKETS}{repair_ticket.pk}/change/").status_code == 200
    found = client.get(ticket_urls(repair_ticket)[0]).context["cl"].result_list
    assert list(found) == [repair_ticket]


def test_it_leaves_admins_reading_every_ticket(client, cast, bank_ticket):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    found = client.get(ticket_urls(bank_ticket)[0]).context["cl"].result_list
    assert list(found) == [bank_ticket]
    page = client.get(f"{TICKETS}{bank_ticket.pk}/change/")
    assert page.status_code == 200 and IBAN in page.content.decode()
    assert client.get(f"{TICKETS}{bank_ticket.pk}/history/").status_code == 200


# 2. Absences --------------------------------------------------------------------


def absence_data(person: User, substitute: User | None = None, **changes) -> dict:
    data = {
        "user": person.pk,
        "kind": "sick",
        "starts": "2027-03-01",
        "ends": "2027-03-05",
        "substitute": substitute.pk if substitute else "",
    }
    data.update(changes)
    return data


def test_it_lets_a_handler_record_only_her_own_absence(client, cast):
    client.force_login(cast.hanna)
    form = client.get(f"{ABSENCES}add/").context["adminform"].form
    assert list(form.fields["user"].queryset) == [cast.hanna]
    assert form.initial["user"] == cast.hanna.pk
    # The probe: Tom recorded as absent, Hanna as his substitute.
    response = client.post(f"{ABSENCES}add/", absence_data(cast.tom, cast.hanna))
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not Absence.objects.exists()
    response = client.post(f"{ABSENCES}add/", absence_data(cast.hanna, cast.tom))
    assert response.status_code == 302
    assert Absence.objects.get().user == cast.hanna


def test_it_lets_a_team_lead_record_absences_of_his_teams_members_only(client, cast, vera):
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)
    assert client.post(f"{ABSENCES}add/", absence_data(cast.hanna)).status_code == 302
    response = client.post(f"{ABSENCES}add/", absence_data(vera))
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert list(Absence.objects.values_list("user", flat=True)) == [cast.hanna.pk]


def test_it_lets_admins_record_anyones_absence(client, cast, vera):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    assert client.post(f"{ABSENCES}add/", absence_data(vera)).status_code == 302
    assert client.post(f"{ABSENCES}add/", absence_data(cast.tom, cast.hanna)).status_code == 302
    assert Absence.objects.count() == 2


def test_it_refuses_a_substitute_who_could_not_see_the_requests(client, cast, vera):
    client.force_login(cast.hanna)
    response = client.post(f"{ABSENCES}add/", absence_data(cast.hanna, vera))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["substitute"]
    assert "Vera Vermietung" in " ".join(errors)
    assert not Absence.objects.exists()
    client.force_login(cast.ada)  # not even an admin may choose her
    otp_verify(client, cast.ada)
    response = client.post(f"{ABSENCES}add/", absence_data(cast.hanna, vera))
    assert "substitute" in response.context["adminform"].form.errors
    assert not Absence.objects.exists()


def test_it_shows_each_person_only_the_absences_they_may_manage(client, cast, vera):
    mine = Absence.objects.create(
        user=cast.hanna, kind="vacation", starts="2027-01-04", ends="2027-01-08"
    )
    toms = Absence.objects.create(
        user=cast.tom, kind="vacation", starts="2027-01-04", ends="2027-01-08"
    )
    veras = Absence.objects.create(user=vera, kind="sick", starts="2027-01-04", ends="2027-01-08")
    seen = {person: set(client_list(client, person)) for person in (cast.hanna, cast.tom, cast.ada)}
    assert seen[cast.hanna] == {mine.pk}
    assert seen[cast.tom] == {mine.pk, toms.pk}
    assert seen[cast.ada] == {mine.pk, toms.pk, veras.pk}
    client.force_login(cast.hanna)
    response = client.post(f"{ABSENCES}{toms.pk}/change/", absence_data(cast.tom, cast.hanna))
    assert response.status_code != 200
    toms.refresh_from_db()
    assert toms.substitute is None


def client_list(client, person) -> list[int]:
    client.force_login(person)
    if person.two_factor_required:
        otp_verify(client, person)
    response = client.get(ABSENCES)
    return [absence.pk for absence in response.context["cl"].result_list]


def test_it_keeps_a_handler_from_taking_over_a_colleagues_requests(client, cast, repair_ticket):
    Ticket.objects.filter(pk=repair_ticket.pk).update(assignee=cast.tom)
    today = timezone.localdate()
    absence = Absence.objects.create(
        user=cast.tom, kind="sick", starts=today, ends=today, substitute=cast.hanna
    )
    client.force_login(cast.hanna)
    client.post(ABSENCES, {"action": "hand_over", "_selected_action": [absence.pk]})
    repair_ticket.refresh_from_db()
    assert repair_ticket.assignee == cast.tom
    # Nor through the service itself.
    with pytest.raises(PermissionDenied):
        absence_hand_over(absence=absence, actor=cast.hanna)
    repair_ticket.refresh_from_db()
    absence.refresh_from_db()
    assert repair_ticket.assignee == cast.tom and absence.handed_over_at is None


def test_it_sends_requests_the_substitute_may_not_see_to_their_team_queue(
    client, cast, repair_ticket, bank_ticket
):
    # Hanna handles a Rechnungswesen request as well (assigned across teams);
    # Tom, her substitute, works neither in Rechnungswesen nor leads it.
    Ticket.objects.filter(pk__in=[repair_ticket.pk, bank_ticket.pk]).update(assignee=cast.hanna)
    today = timezone.localdate()
    absence = Absence.objects.create(
        user=cast.hanna, kind="sick", starts=today, ends=today, substitute=cast.tom
    )
    client.force_login(cast.hanna)  # her own absence
    response = client.post(
        ABSENCES, {"action": "hand_over", "_selected_action": [absence.pk]}, follow=True
    )
    repair_ticket.refresh_from_db()
    bank_ticket.refresh_from_db()
    assert repair_ticket.assignee == cast.tom
    assert bank_ticket.assignee is None and bank_ticket.team.name == "Rechnungswesen"
    told = list(response.context["messages"])
    assert str(told[0]) == "2 offene Anliegen übergeben."
    # and a warning that one went to its team's queue
    assert told[1].level == messages.WARNING and str(told[1]).startswith("1 ")
    assert not Ticket.objects.visible_to_staff(cast.tom).filter(pk=bank_ticket.pk).exists()
    event = bank_ticket.events.latest("pk")
    assert event.data["to"] == {"team": "Rechnungswesen", "assignee": ""}


def test_it_gives_the_substitute_only_the_requests_he_may_see_in_the_e_mail(
    cast, repair_ticket, bank_ticket, outbox
):
    Ticket.objects.filter(pk__in=[repair_ticket.pk, bank_ticket.pk]).update(assignee=cast.hanna)
    today = timezone.localdate()
    absence = Absence.objects.create(
        user=cast.hanna, kind="sick", starts=today, ends=today, substitute=cast.tom
    )
    outbox.clear()
    absence_hand_over(absence=absence, actor=cast.tom)
    to_tom = [m for m in outbox if m.to == ["tom@example.org"]]
    assert len(to_tom) == 1
    assert repair_ticket.reference in to_tom[0].body
    assert bank_ticket.reference not in to_tom[0].body


# 3a. Accounts and roles -----------------------------------------------------------


def account_data(user: User, **changes) -> dict:
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language": user.language,
        "is_active": "on",
        "is_staff": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def perm(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_it_never_lets_an_admin_raise_her_own_rights(client, cast):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    extra = perm("tickets.delete_ticket")
    response = client.post(
        f"{USERS}{cast.ada.pk}/change/",
        # No groups in the form: the save must not take her role away.
        account_data(cast.ada, is_superuser="on", user_permissions=[extra.pk]),
    )
    assert response.status_code == 302
    ada = User.objects.get(pk=cast.ada.pk)
    assert not ada.is_superuser
    assert not ada.user_permissions.exists()
    assert list(ada.groups.values_list("name", flat=True)) == [roles.ADMIN]


def test_it_lets_an_admin_give_roles_she_holds_but_no_more(client, cast):
    powerful = Group.objects.create(name="Sonderrechte")
    powerful.permissions.add(perm("tickets.delete_ticket"))
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    form = client.get(f"{USERS}{cast.hanna.pk}/change/").context["adminform"].form
    assert "is_superuser" not in form.fields and "user_permissions" not in form.fields
    assert set(form.fields["groups"].queryset.values_list("name", flat=True)) == {
        roles.HANDLER,
        roles.TEAM_LEAD,
        roles.ADMIN,
        roles.DOCUMENTS,
    }
    url = f"{USERS}{cast.hanna.pk}/change/"
    refused = client.post(url, account_data(cast.hanna, groups=[powerful.pk]))
    assert refused.status_code == 200 and "groups" in refused.context["adminform"].form.errors
    assert not cast.hanna.groups.filter(pk=powerful.pk).exists()
    lead = Group.objects.get(name=roles.TEAM_LEAD)
    assert client.post(url, account_data(cast.hanna, groups=[lead.pk])).status_code == 302
    assert set(cast.hanna.groups.values_list("name", flat=True)) == {roles.TEAM_LEAD}
    # A role given by a superuser that she could not give stays on a save.
    cast.hanna.groups.add(powerful)
    assert client.post(url, account_data(cast.hanna, groups=[lead.pk])).status_code == 302
    assert set(cast.hanna.groups.values_list("name", flat=True)) == {
        roles.TEAM_LEAD,
        "Sonderrechte",
    }


def test_it_keeps_superuser_accounts_out_of_an_admins_reach(client, cast):
    root = User.objects.create_superuser("root@example.org", "Ein-sicheres-Passwort-1")
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    response = client.post(
        f"{USERS}{root.pk}/change/", account_data(root, email="ada2@example.org")
    )
    assert response.status_code == 403
    assert client.get(f"{USERS}{root.pk}/password/").status_code == 403
    assert client.post(f"{USERS}{root.pk}/delete/", {"post": "yes"}).status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.org"


def test_it_lets_a_superuser_still_grant_everything(client, cast):
    root = User.objects.create_superuser("root@example.org", "Ein-sicheres-Passwort-1")
    client.force_login(root)
    otp_verify(client, root)
    response = client.post(
        f"{USERS}{cast.ada.pk}/change/",
        account_data(cast.ada, is_superuser="on", groups=[]),
    )
    assert response.status_code == 302
    ada = User.objects.get(pk=cast.ada.pk)
    assert ada.is_superuser and not ada.groups.exists()


def test_it_lets_admins_give_every_role():
    admin = set(roles.ROLE_PERMISSIONS[roles.ADMIN])
    for role, names in roles.ROLE_PERMISSIONS.items():
        assert set(names) <= admin, role


# 3b. The rule simulation ---------------------------------------------------------


@pytest.fixture
def drafted(cast):
    """Live: repairs go to Technik. Draft: repairs go to Hausverwaltung."""
    repair = RequestType.objects.get(slug="schadensmeldung")
    technik = Team.objects.get(name="Technik")
    live = RoutingRule.objects.create(position=10, name="Schäden", team=technik)
    live.request_types.set([repair])
    draft = RoutingRule.objects.create(
        position=5,
        name="Alles an Hausverwaltung",
        team=Team.objects.get(name="Hausverwaltung"),
        draft=True,
    )
    draft.request_types.set([repair])
    return live, draft


def test_it_lists_only_the_differences_a_team_lead_may_see(client, cast, drafted, vera):
    technik = ticket_create()
    elsewhere = ticket_create(member=cast.dave.member)
    # Moved to Vermietung by hand since: Tom neither works there nor leads it.
    Ticket.objects.filter(pk=elsewhere.pk).update(
        team=Team.objects.get(name="Vermietung"), assignee=vera
    )
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)
    response = client.get(PREVIEW, {"simulate": "1"})
    assert response.status_code == 200
    simulation = response.context["simulation"]
    assert simulation.compared == 2 and simulation.changed == 2
    assert [d.ticket for d in simulation.differences] == [technik]
    assert simulation.hidden == 1
    page = response.content.decode()
    assert technik.reference in page and elsewhere.reference not in page
    assert "Dave" not in page and "Dietrich" not in page

    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    simulation = client.get(PREVIEW, {"simulate": "1"}).context["simulation"]
    assert {d.ticket for d in simulation.differences} == {technik, elsewhere}
    assert simulation.changed == 2 and simulation.hidden == 0


# 3c. Text blocks -----------------------------------------------------------------


@pytest.fixture
def text_blocks(cast) -> dict[str, CannedResponse]:
    def block(title, team):
        team = Team.objects.get(name=team) if team else None
        return CannedResponse.objects.create(title=title, body_de="Guten Tag {anrede}", team=team)

    return {
        "technik": block("Handwerker kommt", "Technik"),
        "shared": block("Danke für Ihre Geduld", None),
        "vermietung": block("Besichtigungstermin", "Vermietung"),
    }


def test_it_gives_team_leads_and_admins_the_text_blocks():
    for role in (roles.TEAM_LEAD, roles.ADMIN):
        codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert {
            f"{action}_cannedresponse" for action in ("view", "add", "change", "delete")
        } <= codenames, role
    handler = Group.objects.get(name=roles.HANDLER).permissions
    assert not handler.filter(codename__endswith="_cannedresponse").exists()


def test_it_shows_a_team_lead_his_teams_and_the_shared_text_blocks(client, cast, text_blocks):
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)
    listing = client.get(TEXT_BLOCKS)
    assert listing.status_code == 200
    assert set(listing.context["cl"].result_list) == {
        text_blocks["technik"],
        text_blocks["shared"],
    }
    other = text_blocks["vermietung"]
    assert client.get(f"{TEXT_BLOCKS}{other.pk}/change/").status_code == 404
    client.post(f"{TEXT_BLOCKS}{other.pk}/delete/", {"post": "yes"})
    assert CannedResponse.objects.filter(pk=other.pk).exists()
    form = client.get(f"{TEXT_BLOCKS}add/").context["adminform"].form
    assert [team.name for team in form.fields["team"].queryset] == ["Technik"]


def test_it_lets_a_team_lead_write_text_blocks_for_his_teams_only(client, cast, text_blocks):
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)
    technik = Team.objects.get(name="Technik")
    vermietung = Team.objects.get(name="Vermietung")
    new = {"title": "Zählerablesung", "body_de": "Guten Tag {anrede}", "body_en": ""}
    refused = client.post(f"{TEXT_BLOCKS}add/", {**new, "team": vermietung.pk})
    assert refused.status_code == 200 and "team" in refused.context["adminform"].form.errors
    assert client.post(f"{TEXT_BLOCKS}add/", {**new, "team": technik.pk}).status_code == 302
    assert client.post(f"{TEXT_BLOCKS}add/", {**new, "title": "Für alle"}).status_code == 302
    assert set(
        CannedResponse.objects.filter(title__in=["Zählerablesung", "Für alle"]).values_list(
            "title", "team"
        )
    ) == {("Zählerablesung", technik.pk), ("Für alle", None)}
    shared = text_blocks["shared"]
    response = client.post(
        f"{TEXT_BLOCKS}{shared.pk}/change/",
        {"title": shared.title, "body_de": "Neu", "body_en": "", "team": ""},
    )
    assert response.status_code == 302


def test_it_leaves_admins_every_text_block_and_handlers_none(client, cast, text_blocks):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    assert len(client.get(TEXT_BLOCKS).context["cl"].result_list) == 3
    form = client.get(f"{TEXT_BLOCKS}add/").context["adminform"].form
    assert form.fields["team"].queryset.count() == Team.objects.count()
    client.force_login(cast.hanna)
    assert client.get(TEXT_BLOCKS).status_code == 403
