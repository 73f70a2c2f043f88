"""The rule editor and preview in the back office (admin): rules that can
never match are refused with the reason, drafts are previewed on real
requests, teams with open requests cannot be deleted."""

import re

import pytest

from cooperative.models import Building, Estate
from routing.models import RoutingRule, SlaPolicy, Strategy, Team
from tests.browser import PHONE, assert_accessible, assert_fits_width
from tests.factories import ticket_create
from tests.helpers import otp_code, otp_device, otp_verify
from tickets.models import RequestType, Status, Ticket

pytestmark = pytest.mark.django_db

ADD = "/verwaltung/routing/routingrule/add/"
PREVIEW = "/verwaltung/routing/routingrule/vorschau/"


def rule_data(**changes):
    technik = Team.objects.get(name="Technik")
    data = {
        "position": "5",
        "name": "Schäden Süd",
        "active": "on",
        "team": str(technik.pk),
        "strategy": Strategy.ROUND_ROBIN,
        "priority": "normal",
        "field_key": "",
        "field_value": "",
        "keywords": "",
    }
    data.update(changes)
    return data


def test_an_admin_adds_a_rule(client, cast, repair):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    south = Estate.objects.get(name="Wohnanlage Süd")
    response = client.post(
        ADD,
        rule_data(
            request_types=[repair.pk],
            estates=[south.pk],
            categories=["repair"],
            channels=["portal", "phone"],
            field_key="urgency",
            field_value="notfall",
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = RoutingRule.objects.get(name="Schäden Süd")
    assert rule.categories == ["repair"] and rule.channels == ["portal", "phone"]
    assert list(rule.estates.all()) == [south]


@pytest.mark.parametrize(
    "changes, field, message",
    [
        (
            {"categories": ["payments"]},
            "categories",
            "Keine der gewählten Anliegenarten gehört zu diesen Kategorien",
        ),
        ({"field_key": "urgency"}, "field_value", "Geben Sie Formularfeld und Wert an"),
        ({"field_key": "farbe", "field_value": "rot"}, "field_key", "hat ein Feld „farbe“"),
        (
            {"field_key": "urgency", "field_value": "sofort"},
            "field_value",
            "kann nie den Wert „sofort“ haben",
        ),
        (
            {"field_key": "master_key", "field_value": "vielleicht"},
            "field_value",
            "kann nie den Wert „vielleicht“ haben",
        ),
        ({"keywords": " , ,"}, "keywords", "mindestens ein Stichwort"),
        ({"team": "999999"}, "team", "Bitte eine gültige Auswahl treffen"),
        ({"team": ""}, "team", "Dieses Feld ist zwingend erforderlich"),
    ],
)
def test_a_rule_that_can_never_match_is_refused(client, cast, repair, changes, field, message):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    response = client.post(ADD, rule_data(request_types=[repair.pk], **changes))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field])
    assert not RoutingRule.objects.exists()


def test_buildings_outside_the_chosen_estates_are_refused(client, cast):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    north = Estate.objects.get(name="Wohnanlage Nord")
    south_building = Building.objects.filter(estate__name="Wohnanlage Süd").first()
    response = client.post(ADD, rule_data(estates=[north.pk], buildings=[south_building.pk]))
    assert "buildings" in response.context["adminform"].form.errors
    assert not RoutingRule.objects.exists()


def test_a_team_with_open_requests_is_refused_in_the_admin(client, cast, repair):
    team = Team.objects.create(name="Sonderaufgaben")
    ticket = ticket_create(request_type=repair)
    Ticket.objects.filter(pk=ticket.pk).update(team=team)
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    url = f"/verwaltung/routing/team/{team.pk}/delete/"
    page = client.get(url).content.decode()
    assert ticket.reference in page  # named as what blocks the deletion
    client.post(url, {"post": "yes"})
    assert Team.objects.filter(pk=team.pk).exists()
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    client.post(url, {"post": "yes"})
    assert not Team.objects.filter(pk=team.pk).exists()


def test_a_team_used_by_a_rule_cannot_be_deleted(client, cast):
    team = Team.objects.create(name="Sonderaufgaben")
    RoutingRule.objects.create(position=1, name="Sonder", team=team)
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    client.post(f"/verwaltung/routing/team/{team.pk}/delete/", {"post": "yes"})
    assert Team.objects.filter(pk=team.pk).exists()


@pytest.fixture
def drafted(cast, repair):
    """Live: repairs go to Technik. Draft: repairs in the south go to
    Hausverwaltung instead (replacing nothing)."""
    technik = Team.objects.get(name="Technik")
    live = RoutingRule.objects.create(position=10, name="Schäden", team=technik)
    live.request_types.set([repair])
    hausverwaltung = Team.objects.get(name="Hausverwaltung")
    draft = RoutingRule.objects.create(
        position=5,
        name="Süd an Hausverwaltung",
        team=hausverwaltung,
        draft=True,
        sla_policy=SlaPolicy.objects.create(
            name="Eilig", first_response_hours=2, resolution_days=2
        ),
    )
    draft.request_types.set([repair])
    draft.estates.set([Estate.objects.get(name="Wohnanlage Süd")])
    return live, draft


def test_a_draft_routes_nothing_until_published(client, cast, repair, drafted):
    _live, draft = drafted
    dave = ticket_create(request_type=repair, member=cast.dave.member)  # lives in the south
    assert dave.team.name == "Technik"
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    client.post(
        "/verwaltung/routing/routingrule/",
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.draft is False and draft.active is True
    again = ticket_create(request_type=repair, member=cast.dave.member)
    assert again.team.name == "Hausverwaltung"


def test_publishing_a_replacement_switches_the_old_rule_off(client, cast, drafted):
    live, draft = drafted
    draft.replaces = live
    draft.save()
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    client.post(
        "/verwaltung/routing/routingrule/",
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    live.refresh_from_db()
    assert live.active is False


def test_only_a_draft_can_replace_a_rule(client, cast, repair, drafted):
    live, _draft = drafted
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    response = client.post(ADD, rule_data(request_types=[repair.pk], replaces=live.pk))
    assert "replaces" in response.context["adminform"].form.errors


def test_the_preview_shows_the_decision_for_facts(client, cast, repair, drafted):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    south = Estate.objects.get(name="Wohnanlage Süd")
    response = client.get(PREVIEW, {"request_type": repair.pk, "estate": south.pk})
    decisions = response.context["decisions"]
    assert decisions["live"] == "Regel 10 „Schäden“ → Technik; im Eingang des Teams"
    assert decisions["proposed"] == (
        "Regel 5 „Süd an Hausverwaltung“ → Hausverwaltung; im Eingang des Teams"
    )
    page = response.content.decode()
    assert "Regel 5 „Süd an Hausverwaltung“" in page


def test_the_simulation_lists_what_would_have_gone_elsewhere(client, cast, repair, drafted):
    north_ticket = ticket_create(request_type=repair)  # Alice, north: unchanged
    south_ticket = ticket_create(request_type=repair, member=cast.dave.member)
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    response = client.get(PREVIEW, {"simulate": "1"})
    simulation = response.context["simulation"]
    assert simulation.compared == 2 and simulation.drafts == 1
    assert [d.ticket for d in simulation.differences] == [south_ticket]
    page = response.content.decode()
    assert south_ticket.reference in page and north_ticket.reference not in page
    assert re.search(r"2 Anliegen verglichen", page)


def test_handlers_cannot_edit_rules_or_see_the_preview(client, cast):
    client.force_login(cast.hanna)
    assert client.get(ADD).status_code == 403
    assert client.get(PREVIEW).status_code == 403
    assert RequestType.objects.exists()


@pytest.mark.browser
def test_the_rule_editor_and_preview_in_a_real_browser(
    page, live_server, cast, password, repair, drafted
):
    ticket_create(request_type=repair, member=cast.dave.member)
    base = live_server.url
    page.goto(base + "/anmelden/?next=/verwaltung/routing/routingrule/")
    otp_device(cast.ada)
    page.fill("#id_email", "ada@example.org")
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.press("#id_password", "Enter")
    page.fill("#id_code", otp_code(otp_device(cast.ada)))  # the second login step
    with page.expect_navigation():
        page.press("#id_code", "Enter")
    assert_accessible(page)
    page.goto(base + ADD)
    assert_accessible(page)

    # A rule that could never match: refused, explained next to the field.
    page.fill("#id_position", "7")
    page.fill("#id_name", "Zähler-Notfall")
    page.select_option("#id_team", label="Rechnungswesen")
    page.fill("#id_field_key", "urgency")
    page.focus("#id_name")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Geben Sie Formularfeld und Wert an" in page.locator("#content").inner_text()
    assert_accessible(page)
    page.fill("#id_field_value", "notfall")
    page.fill("#id_keywords", "zählerschrank, wasserzähler")
    with page.expect_navigation():
        page.locator("input[name=_save]").click()
    assert page.url.endswith("/verwaltung/routing/routingrule/")
    assert RoutingRule.objects.filter(
        name="Zähler-Notfall", keywords__contains="zählerschrank"
    ).exists()
    assert_accessible(page)

    # The preview: facts, then the simulation of the draft.
    page.locator("a", has_text="Vorschau und Simulation").click()
    page.wait_for_url(re.compile(r".*/vorschau/$"))
    assert_accessible(page)
    page.select_option("#id_request_type", label=repair.name_de)
    page.select_option("#id_estate", label="Wohnanlage Süd")
    with page.expect_navigation():
        page.locator("input[type=submit]").first.click()
    assert "Süd an Hausverwaltung" in page.get_by_role("status").first.inner_text()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Simulation starten").click()
    assert "1 wären anders zugeordnet worden" in page.locator("#content").inner_text()
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_accessible(page)
    assert_fits_width(page)


def test_a_handler_records_an_absence_with_a_substitute(client, cast):
    from routing.models import Absence

    client.force_login(cast.hanna)
    page = client.get("/verwaltung/routing/absence/add/")
    assert page.status_code == 200
    response = client.post(
        "/verwaltung/routing/absence/add/",
        {
            "user": cast.hanna.pk,
            "kind": "vacation",
            "starts": "2027-01-04",
            "ends": "2027-01-08",
            "substitute": cast.tom.pk,
        },
    )
    assert response.status_code == 302
    assert Absence.objects.get().substitute == cast.tom
    # Bad input: the last day before the first, or standing in for oneself.
    for data in (
        {"starts": "2027-02-10", "ends": "2027-02-01", "substitute": cast.tom.pk},
        {"starts": "2027-02-10", "ends": "2027-02-11", "substitute": cast.hanna.pk},
    ):
        response = client.post(
            "/verwaltung/routing/absence/add/",
            {"user": cast.hanna.pk, "kind": "sick", **data},
        )
        assert response.status_code == 200
    assert Absence.objects.count() == 1
    text = response.content.decode()
    assert "Niemand kann sich selbst vertreten." in text
