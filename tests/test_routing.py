"""Routing through the real services: rules decide team, handler, priority
and SLA when a request is filed; the reason is stored and shown to staff;
absences, round robin, classification, re-routing and deadlines behave as
the office expects."""

import datetime
import threading

import pytest
from django.db import connections, transaction
from django.db.models import ProtectedError
from django.utils import timezone, translation

from cooperative.models import Estate
from demo.routing import routing_demo_ensure
from routing.models import Absence, Priority, RoutingRule, SlaPolicy, Strategy, Team
from routing.reasons import reason_text
from tests.factories import TAP, form_answers, ticket_create
from tests.helpers import otp_verify
from tickets.models import Category, RequestType, Status, Ticket, TicketEvent
from tickets.services import ticket_member_reply, ticket_reply, ticket_status_change

pytestmark = pytest.mark.django_db


def german(reason) -> str:
    with translation.override("de"):
        return reason_text(reason)


@pytest.fixture
def technik(cast):
    team = Team.objects.get(name="Technik")
    team.members.set([cast.hanna])
    return team


@pytest.fixture
def repair_policy():
    return SlaPolicy.objects.create(name="Reparatur", first_response_hours=8, resolution_days=10)


@pytest.fixture
def north_rule(repair, technik, repair_policy):
    rule = RoutingRule.objects.create(
        position=3,
        name="Schaden Nord",
        team=technik,
        strategy=Strategy.ESTATE_MANAGER,
        sla_policy=repair_policy,
    )
    rule.request_types.set([repair])
    rule.estates.set([Estate.objects.get(name="Wohnanlage Nord")])
    return rule


# The rule decides, the reason is visible ------------------------------------------


def test_a_repair_in_the_north_goes_to_its_property_manager_with_the_reason(
    client, cast, repair, north_rule, outbox
):
    ticket = ticket_create(request_type=repair)
    assert (ticket.team.name, ticket.assignee) == ("Technik", cast.hanna)
    assert ticket.priority == Priority.NORMAL and ticket.sla_policy.name == "Reparatur"
    expected = (
        "Regel 3 „Schaden Nord“ → Technik; zuständig Hanna Beispiel (Verwaltung Wohnanlage Nord)"
    )
    assert german(ticket.routing_reason) == expected
    # Kept in the history, shown on the staff page, told to the handler.
    opened = ticket.events.get(kind=TicketEvent.Kind.OPENED)
    assert german(opened.data["reason"]) == expected
    client.force_login(cast.hanna)
    page = client.get(f"/bearbeitung/anliegen/{ticket.reference}/").content.decode()
    assert expected in page
    assert any(m.to == ["hanna@example.org"] for m in outbox)
    # The member sees the team and the expected time, never the reason.
    client.force_login(cast.alice)
    member_page = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert "Technik" in member_page and "Schaden Nord" not in member_page
    assert "Antwort in der Regel bis" in member_page


def test_the_first_matching_rule_wins_and_sets_the_priority(cast, repair, north_rule, technik):
    emergency = RoutingRule.objects.create(
        position=1,
        name="Notfall",
        team=technik,
        strategy=Strategy.TEAM_QUEUE,
        priority=Priority.URGENT,
        field_key="urgency",
        field_value="notfall",
    )
    emergency.request_types.set([repair])
    urgent = ticket_create(request_type=repair, answers={**TAP, "urgency": "notfall"})
    assert (urgent.priority, urgent.assignee, urgent.routing_reason["rule"]) == (
        Priority.URGENT,
        None,
        1,
    )
    normal = ticket_create(request_type=repair)
    assert normal.routing_reason["rule"] == 3 and normal.assignee == cast.hanna


def test_keywords_match_whatever_the_spelling(cast, repair, technik):
    RoutingRule.objects.create(
        position=1, name="Wasser", team=technik, keywords="rohrbruch, überschwemmung"
    )
    ticket = ticket_create(
        request_type=repair, answers={**TAP, "what": "UEBERSCHWEMMUNG im Keller!"}
    )
    assert ticket.routing_reason["rule"] == 1


def test_without_a_matching_rule_the_default_team_or_triage(cast, repair):
    ticket = ticket_create(request_type=repair)
    assert ticket.team.name == "Technik" and ticket.assignee is None
    assert german(ticket.routing_reason) == (
        "Keine Regel passt → Standardteam des Formulars: Technik (Eingang des Teams)"
    )
    orphan = RequestType.objects.create(
        slug="ohne-team", name_de="Ohne Team", name_en="No team", category=Category.PAYMENTS
    )
    ticket = ticket_create(request_type=orphan, answers={})
    assert ticket.team is None
    assert (
        german(ticket.routing_reason) == "Keine Regel passt → Eingangskorb (noch nicht zugeordnet)"
    )


# Absences ------------------------------------------------------------------------


def test_an_absent_manager_is_replaced_by_the_substitute_and_members_never_know(
    client, cast, repair, north_rule
):
    today = timezone.localdate()
    Absence.objects.create(
        user=cast.hanna,
        kind=Absence.Kind.VACATION,
        starts=today,
        ends=today + datetime.timedelta(days=3),
        substitute=cast.tom,
    )
    ticket = ticket_create(request_type=repair)
    assert ticket.assignee == cast.tom
    assert german(ticket.routing_reason).endswith(
        "zuständig Tom Teamleiter (Vertretung für Hanna Beispiel, abwesend)"
    )
    client.force_login(cast.alice)
    page = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert "Hanna" not in page and "Tom" not in page and "abwesend" not in page


def test_an_absent_manager_without_substitute_leaves_it_in_the_team_queue(cast, repair, north_rule):
    today = timezone.localdate()
    Absence.objects.create(
        user=cast.hanna,
        kind=Absence.Kind.SICK,
        starts=today - datetime.timedelta(days=1),
        ends=today,
    )
    ticket = ticket_create(request_type=repair)
    assert ticket.team.name == "Technik" and ticket.assignee is None
    assert "Hanna Beispiel ist abwesend ohne Vertretung" in german(ticket.routing_reason)


def test_an_absence_that_is_over_no_longer_counts(cast, repair, north_rule):
    today = timezone.localdate()
    Absence.objects.create(
        user=cast.hanna,
        kind=Absence.Kind.TRAINING,
        starts=today - datetime.timedelta(days=5),
        ends=today - datetime.timedelta(days=1),
        substitute=cast.tom,
    )
    assert ticket_create(request_type=repair).assignee == cast.hanna


def test_handing_over_moves_open_requests_to_the_substitute_in_one_action(
    client, cast, repair, outbox
):
    mine = [ticket_create(request_type=repair) for _ in range(3)]
    done = ticket_create(request_type=repair)
    Ticket.objects.filter(pk__in=[t.pk for t in [*mine, done]]).update(assignee=cast.hanna)
    Ticket.objects.filter(pk=done.pk).update(status=Status.CLOSED)
    today = timezone.localdate()
    absence = Absence.objects.create(
        user=cast.hanna, kind=Absence.Kind.SICK, starts=today, ends=today, substitute=cast.tom
    )
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    response = client.post(
        "/verwaltung/routing/absence/",
        {"action": "hand_over", "_selected_action": [absence.pk]},
    )
    assert response.status_code == 302
    for ticket in mine:
        ticket.refresh_from_db()
        assert ticket.assignee == cast.tom
        event = ticket.events.latest("pk")
        assert event.kind == TicketEvent.Kind.ASSIGNED and event.public is False
    done.refresh_from_db()
    assert done.assignee == cast.hanna
    absence.refresh_from_db()
    assert absence.handed_over_at is not None
    to_tom = [m for m in outbox if m.to == ["tom@example.org"]]
    assert len(to_tom) == 1 and all(t.reference in to_tom[0].body for t in mine)


# Round robin -------------------------------------------------------------------------


@pytest.fixture
def vermietung(cast):
    team = Team.objects.get(name="Vermietung")
    team.members.set([cast.hanna, cast.tom, cast.ada])
    return team


@pytest.fixture
def parking(cast, vermietung):
    request_type = RequestType.objects.get(slug="parkplatz")
    rule = RoutingRule.objects.create(
        position=1, name="Parken", team=vermietung, strategy=Strategy.ROUND_ROBIN
    )
    rule.request_types.set([request_type])
    return request_type


PARKING = {"kind": "parking", "from": "2027-01-01", "ecar": "no"}


def test_round_robin_takes_turns_and_skips_the_absent(cast, parking):
    order = [ticket_create(request_type=parking, answers=PARKING).assignee for _ in range(6)]
    people = sorted([cast.hanna, cast.tom, cast.ada], key=lambda u: u.pk)
    assert order == people * 2
    today = timezone.localdate()
    Absence.objects.create(user=people[1], kind=Absence.Kind.VACATION, starts=today, ends=today)
    order = [ticket_create(request_type=parking, answers=PARKING).assignee for _ in range(4)]
    assert people[1] not in order
    assert order.count(people[0]) == 2 and order.count(people[2]) == 2


@pytest.mark.django_db(transaction=True)
def test_round_robin_is_fair_when_requests_arrive_at_the_same_moment(cast, parking):
    errors = []

    def worker():
        try:
            for _ in range(3):
                with transaction.atomic():
                    ticket_create(request_type=parking, answers=PARKING)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = {}
    for assignee in Ticket.objects.values_list("assignee", flat=True):
        counts[assignee] = counts.get(assignee, 0) + 1
    assert sorted(counts.values()) == [4, 4, 4]


# Classification of free text -----------------------------------------------------------


@pytest.fixture
def general(cast):
    return RequestType.objects.get(slug="allgemein")


def question(text):
    return {"topic": "other", "question": text}


def test_a_general_question_that_is_a_repair_is_routed_as_one(cast, general, technik):
    ticket = ticket_create(
        request_type=general, answers=question("Die Heizung ist kalt und der Heizkörper tropft.")
    )
    assert ticket.request_type == general  # as filed
    assert ticket.suggested_type.slug == "schadensmeldung"
    assert ticket.team.name == "Technik"
    assert "am Text erkannt" in german(ticket.routing_reason)


def test_too_unsure_a_suggestion_goes_to_triage_with_the_suggestion_shown(
    client, cast, general, technik, settings
):
    settings.ROUTING_MIN_CONFIDENCE = 0.99
    ticket = ticket_create(
        request_type=general, answers=question("Die Heizung ist kalt und der Heizkörper tropft.")
    )
    assert ticket.team is None and ticket.suggested_type.slug == "schadensmeldung"
    assert "zu unsicher" in german(ticket.routing_reason)
    client.force_login(cast.hanna)
    page = client.get(f"/bearbeitung/anliegen/{ticket.reference}/").content.decode()
    assert (
        "Nicht sicher genug, welche Art von Anliegen das ist → Eingangskorb (noch nicht "
        "zugeordnet) (Vorschlag: „Schadensmeldung / Reparatur“, "
    ) in page
    # One step to take the suggestion: the type page offers it preselected.
    retype = client.get(f"/bearbeitung/anliegen/{ticket.reference}/art/")
    assert retype.context["form"]["request_type"].value() == ticket.suggested_type_id


def test_correcting_the_type_routes_again_with_the_same_function(client, cast, general, technik):
    ticket = ticket_create(
        request_type=general, answers=question("Wann ist die nächste Vertreterversammlung?")
    )
    client.force_login(cast.ada)  # admins see every team's requests
    otp_verify(client, cast.ada)
    repair_type = RequestType.objects.get(slug="schadensmeldung")
    response = client.post(
        f"/bearbeitung/anliegen/{ticket.reference}/art/",
        {"version": ticket.version, "request_type": repair_type.pk},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.request_type == repair_type and ticket.team.name == "Technik"
    event = ticket.events.latest("pk")
    assert event.kind == TicketEvent.Kind.ASSIGNED and event.data["reason"] == ticket.routing_reason
    # A stale version is a conflict, not a silent overwrite.
    response = client.post(
        f"/bearbeitung/anliegen/{ticket.reference}/art/",
        {"version": 1, "request_type": general.pk},
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.request_type == repair_type


def test_route_again_button(client, cast, repair, technik):
    ticket = ticket_create(request_type=repair)
    assert ticket.assignee is None
    RoutingRule.objects.create(
        position=1, name="Alles an Hanna", team=technik, strategy=Strategy.LEAST_OPEN
    )
    client.force_login(cast.hanna)
    client.post(
        f"/bearbeitung/anliegen/{ticket.reference}/",
        {"action": "reroute", "version": ticket.version},
    )
    ticket.refresh_from_db()
    assert ticket.assignee == cast.hanna
    assert german(ticket.routing_reason).startswith("Regel 1 „Alles an Hanna“ → Technik")


# SLA: deadlines, pause while waiting for the member -------------------------------------


def test_deadlines_follow_the_policy_and_pause_while_waiting_for_the_member(
    cast, repair, north_rule
):
    ticket = ticket_create(request_type=repair)
    assert ticket.created_at < ticket.first_response_warn_at < ticket.first_response_due_at
    assert ticket.first_response_due_at < ticket.warn_at < ticket.due_at
    # Ten working days end at an office closing time, at least 12 days later.
    assert (ticket.due_at - ticket.created_at).days >= 12
    ticket_reply(
        ticket=ticket,
        actor=cast.hanna,
        body="Welcher Wasserhahn genau?",
        expected_version=ticket.version,
        public=True,
        ask_member=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING and ticket.sla_paused_at is not None
    assert ticket.first_response_at is not None
    due_before = ticket.due_at
    # Three days pass while the member does not answer.
    paused_at = ticket.sla_paused_at - datetime.timedelta(days=3)
    Ticket.objects.filter(pk=ticket.pk).update(sla_paused_at=paused_at)
    ticket.refresh_from_db()
    ticket_member_reply(ticket=ticket, user=cast.alice, body="Der im Bad.")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.sla_paused_at is None
    assert ticket.due_at > due_before  # the waiting time does not count


def test_resolving_counts_as_the_first_response(cast, repair, north_rule):
    ticket = ticket_create(request_type=repair)
    ticket_status_change(
        ticket=ticket, actor=cast.hanna, status=Status.RESOLVED, expected_version=ticket.version
    )
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


# Teams ------------------------------------------------------------------------------------


def test_a_team_with_open_requests_cannot_be_deleted_until_they_are_moved(cast, repair):
    team = Team.objects.create(name="Sonderaufgaben")
    ticket = ticket_create(request_type=repair)
    Ticket.objects.filter(pk=ticket.pk).update(team=team)
    with pytest.raises(ProtectedError):
        team.delete()
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    team.delete()
    ticket.refresh_from_db()
    assert ticket.team is None


# The demo -------------------------------------------------------------------------------


def test_every_demo_request_is_routed_with_a_visible_reason(client, cast):
    routing_demo_ensure(hanna=cast.hanna, tom=cast.tom)
    routing_demo_ensure(hanna=cast.hanna, tom=cast.tom)  # idempotent
    assert RoutingRule.objects.count() == 10
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    for request_type in RequestType.objects.filter(active=True).prefetch_related("fields"):
        ticket = ticket_create(request_type=request_type, answers=form_answers(request_type))
        assert ticket.team is not None, request_type.slug
        text = german(ticket.routing_reason)
        assert text, request_type.slug
        if request_type.slug != "allgemein":  # the portal's general question: default team
            assert text.startswith("Regel "), (request_type.slug, text)
            assert ticket.due_at and ticket.first_response_due_at, request_type.slug
        page = client.get(f"/bearbeitung/anliegen/{ticket.reference}/").content.decode()
        assert text in page, request_type.slug


def test_the_member_is_never_promised_a_date_that_has_passed(client, cast, repair, north_rule):
    ticket = ticket_create(request_type=repair)
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due_at=timezone.now() - datetime.timedelta(hours=1)
    )
    client.force_login(cast.alice)
    page = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert "Antwort in der Regel bis" not in page
    assert "Das dauert länger als üblich." in page
