"""Incidents (Störungen, issue 14 points 3 and 4): the detector as a pure
function on a seeded scenario (precision and recall of planted clusters),
the detector on the database (proposal to the team lead once, never the
same cluster twice, new matching reports linked), accepting, dismissing,
resolving (requests resolved, each member told once), the notice, what
members and outsiders see, and the back office's pages."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext, override

from cooperative.models import Building
from demo.incidents import incidents_demo_ensure
from incidents import services
from incidents.clusters import (
    Profile,
    Report,
    Vectoriser,
    clusters_find,
    cosine,
    matches_find,
    precision_recall,
    topic_word,
)
from incidents.models import Incident, IncidentStatus, IncidentTicket
from mail.models import OutboundEmail
from members.models import Contract
from notices.models import Notice
from routing.classifier import corpus_load
from tests.factories import ticket_create
from tests.helpers import MOST, de, measured, otp_verify, repeated
from tickets.models import Channel, Status, Ticket, TicketEvent

T0 = datetime.datetime(2026, 1, 12, 6, 0, tzinfo=datetime.UTC)
H = datetime.timedelta(hours=1)
WINDOW = datetime.timedelta(hours=24)
REPAIR, GENERAL, METER, HEATING_FORM = 1, 2, 3, 4
CORPUS = tuple(text for _slug, text in corpus_load())


def report(id, building, text, hours, type_id=REPAIR, team=7):
    return Report(
        id=id,
        building_id=building,
        request_type_id=type_id,
        team_id=team,
        text=text,
        created_at=T0 + hours * H,
    )


# The seeded scenario: three planted clusters and the noise around them.
PLANTED = {
    "heating in building 1": [
        report(1, 1, "Die Heizung ist kalt, seit heute früh keine Wärme.", 0),
        report(2, 1, "Heizkörper bleibt kalt, auch voll aufgedreht.", 1),
        report(3, 1, "Bei uns ist die Heizung seit dem Morgen kalt.", 2.5),
        report(4, 1, "Heizung kalt – alle Heizkörper in der Wohnung kalt.", 4),
    ],
    "lift in building 2": [
        report(10, 2, "Der Aufzug steckt zwischen dem 2. und 3. Stock fest.", 3),
        report(11, 2, "Aufzug fährt nicht mehr, bleibt stecken.", 7),
        report(12, 2, "Der Aufzug ist seit heute Morgen defekt und steckt fest.", 15),
    ],
    # A form that by itself names the fault: its words need not agree.
    "heating form in building 3": [
        report(20, 3, "Kein warmes Wasser.", 1, HEATING_FORM),
        report(21, 3, "Wohnzimmer 16 Grad", 2, HEATING_FORM),
        report(22, 3, "Alles aus!", 8, HEATING_FORM),
    ],
}
NOISE = [
    # Building 1: unrelated repairs in the same hours.
    report(30, 1, "Das Fenster im Schlafzimmer klemmt.", 1),
    report(31, 1, "Der Spiegelschrank im Bad hat sich von der Wand gelöst.", 2),
    report(32, 1, "Die Klingel funktioniert nicht.", 3),
    # Heating, but two days later (outside the window of the cluster).
    report(33, 1, "Heizung wieder kalt.", 60),
    # Heating in another building: one report only, and two in a third.
    report(34, 2, "Heizung kalt seit heute.", 2),
    report(35, 4, "Heizkörper im Bad bleibt kalt.", 1),
    report(36, 4, "Die Heizung ist kalt.", 3),
    # General questions of one building: one broad form, dissimilar words.
    report(40, 5, "Wann kommt die Nebenkostenabrechnung?", 1, GENERAL),
    report(41, 5, "Ich möchte meine Bankverbindung ändern.", 2, GENERAL),
    report(42, 5, "Kann ich einen Stellplatz mieten?", 3, GENERAL),
    report(43, 5, "Wer ist für den Winterdienst zuständig?", 4, GENERAL),
    # Meter readings of one building: a routine form, not a fault.
    report(50, 6, "Zählerstand Wasser 1234", 1, METER),
    report(51, 6, "Strom 5678", 2, METER),
    report(52, 6, "Gas 91011", 3, METER),
    # No flat: nowhere to group it.
    report(60, None, "Heizung kalt", 1),
    report(61, None, "Heizung kalt", 2),
    report(62, None, "Heizung kalt", 3),
]


def _found(reports):
    return clusters_find(
        reports,
        window=WINDOW,
        min_size=3,
        threshold=0.15,
        same_type_ids=frozenset({HEATING_FORM}),
        corpus=CORPUS,
    )


def test_it_finds_the_planted_clusters_and_nothing_else():
    reports = [r for group in PLANTED.values() for r in group] + NOISE
    found = _found(reports)
    planted = [[r.id for r in group] for group in PLANTED.values()]
    precision, recall = precision_recall([c.report_ids for c in found], planted)
    print(
        f"\nincident detection on the seeded scenario: precision {precision:.2f}, "
        f"recall {recall:.2f} ({len(found)} clusters found, {len(planted)} planted, "
        f"{len(reports)} reports)"
    )
    assert precision == 1.0 and recall == 1.0
    assert sorted(c.report_ids for c in found) == sorted(tuple(sorted(p)) for p in planted)
    by_form = next(c for c in found if c.building_id == 3)
    assert by_form.by_type and by_form.request_type_id == HEATING_FORM


def test_it_finds_the_same_clusters_in_any_order():
    reports = [r for group in PLANTED.values() for r in group] + NOISE
    assert _found(reports) == _found(list(reversed(reports)))


def test_it_never_merges_across_buildings():
    reports = [report(i, i % 3, "Heizung kalt", i) for i in range(9)]
    found = _found(reports)
    assert all(len({i % 3 for i in c.report_ids}) == 1 for c in found)
    assert len(found) == 3


def test_a_cluster_stays_within_the_window():
    reports = [report(i, 1, "Heizung kalt", i * 13) for i in range(4)]  # 0, 13, 26, 39 h
    assert _found(reports) == []
    reports = [report(i, 1, "Heizung kalt", i * 11) for i in range(3)]  # 0, 11, 22 h
    assert [c.report_ids for c in _found(reports)] == [(0, 1, 2)]


def test_a_report_similar_to_two_faults_does_not_chain_them():
    reports = [
        report(1, 1, "Heizung kalt", 0),
        report(2, 1, "Heizung kalt seit gestern", 1),
        report(3, 1, "Die Heizung ist kalt", 2),
        report(4, 1, "Aufzug defekt", 3),
        report(5, 1, "Aufzug steckt fest, defekt", 4),
        report(6, 1, "Der Aufzug ist defekt", 5),
        report(7, 1, "Heizung kalt und Aufzug defekt", 6),
    ]
    groups = [set(c.report_ids) for c in _found(reports)]
    assert {1, 2, 3} <= groups[0] and {4, 5, 6} <= groups[1]
    assert not (groups[0] & groups[1])


def test_similar_words_weigh_more_than_shared_filler():
    vectoriser = Vectoriser.fitted(["Heizung kalt", "Fenster klemmt", *CORPUS])
    heating = vectoriser.vector("Die Heizung ist kalt, bitte kommen Sie.")
    assert cosine(heating, vectoriser.vector("Heizkörper bleibt kalt")) > 0.15
    assert cosine(heating, vectoriser.vector("Das Fenster klemmt, bitte kommen Sie.")) < 0.05


def test_it_matches_new_reports_to_the_incident_of_their_building():
    profiles = [
        Profile(
            id=100, building_ids=frozenset({1}), request_type_id=REPAIR, texts=("Heizung kalt",)
        )
    ]
    new = [
        report(1, 1, "Heizkörper kalt", 30),
        report(2, 2, "Heizkörper kalt", 30),  # another building
        report(3, 1, "Fenster klemmt", 30),  # another matter
    ]
    assert matches_find(profiles, new, threshold=0.15, corpus=CORPUS) == {1: 100}


def test_the_title_word_is_the_noun_most_reports_use():
    texts = [r.text for r in PLANTED["heating in building 1"]]
    assert topic_word(texts) == "Heizung"
    assert topic_word(["Fenster klemmt", "Tür quietscht", "Licht aus"]) is None


def test_precision_and_recall_count_pairs():
    assert precision_recall([(1, 2, 3)], [(1, 2, 3)]) == (1.0, 1.0)
    assert precision_recall([(1, 2, 3, 4)], [(1, 2, 3)]) == (0.5, 1.0)
    assert precision_recall([(1, 2)], [(1, 2, 3)]) == (1.0, 1 / 3)


# The database --------------------------------------------------------------------------


HEATING = (
    "Die Heizung ist kalt, seit heute früh keine Wärme.",
    "Heizkörper bleibt kalt, auch voll aufgedreht.",
    "Bei uns ist die Heizung seit dem Morgen kalt.",
)


def _neighbours(cast, count):
    """Members of other households in alice's building (Nordring 1)."""
    building = Contract.objects.current().get(members=cast.alice.member).unit.building
    contracts = (
        Contract.objects.current()
        .filter(unit__building=building)
        .exclude(members=cast.alice.member)
        .order_by("number")[:count]
    )
    return [c.members.order_by("member_number").first() for c in contracts]


def _answers(what):
    return {"room": "living_room", "what": what, "urgency": "normal", "master_key": "no"}


@pytest.fixture
def outage(cast):
    """Three heating reports from alice's building: alice's and two
    neighbours' (by phone), and one unrelated report of alice's."""
    first, second = _neighbours(cast, 2)
    for number, neighbour in enumerate((first, second)):
        neighbour.email = f"nachbar{number}@example.org"  # no account: told at this address
        neighbour.save(update_fields=["email"])
    tickets = [
        ticket_create(answers=_answers(HEATING[0])),
        ticket_create(member=first, channel=Channel.PHONE, answers=_answers(HEATING[1])),
        ticket_create(member=second, channel=Channel.PHONE, answers=_answers(HEATING[2])),
    ]
    other = ticket_create(answers=_answers("Das Fenster im Schlafzimmer klemmt."))
    return {"tickets": tickets, "other": other, "neighbours": [first, second]}


def _proposed():
    return Incident.objects.get(status=IncidentStatus.PROPOSED)


def test_the_detector_proposes_the_cluster_to_the_team_lead_once(cast, outage):
    mail.outbox.clear()
    assert services.incidents_detect() == {"linked": 0, "proposed": 1}
    incident = _proposed()
    assert set(incident.links.values_list("ticket_id", flat=True)) == {
        t.pk for t in outage["tickets"]
    }
    assert incident.team.lead == cast.tom and incident.title.startswith("Heizung in Nordring")
    to_tom = OutboundEmail.objects.filter(to=cast.tom.email, subject__contains=incident.title)
    assert to_tom.count() == 1
    # Again, and again: nothing new, nobody told twice.
    assert services.incidents_detect() == {"linked": 0, "proposed": 0}
    assert services.incidents_detect() == {"linked": 0, "proposed": 0}
    assert Incident.objects.count() == 1 and to_tom.count() == 1
    assert not IncidentTicket.objects.filter(ticket=outage["other"]).exists()


def test_a_dismissed_proposal_is_not_proposed_again(cast, outage):
    services.incidents_detect()
    services.incident_dismiss(actor=cast.tom, incident=_proposed())
    assert services.incidents_detect() == {"linked": 0, "proposed": 0}
    assert Incident.objects.get().status == IncidentStatus.DISMISSED


def test_the_management_command_runs_the_detector(cast, outage, capsys):
    call_command("incidents_detect")
    assert "proposed: 1" in capsys.readouterr().out


def test_the_task_runs_the_detector(cast, outage):
    services.incidents_detect_task.enqueue()
    assert Incident.objects.filter(status=IncidentStatus.PROPOSED).count() == 1


def test_a_new_matching_report_is_linked_to_the_open_incident(cast, outage):
    services.incidents_detect()
    incident = services.incident_accept(
        actor=cast.tom, incident=_proposed(), title="Heizung Nordring 1", public_text="Repariert."
    )
    third = _neighbours(cast, 3)[2]
    later = ticket_create(
        member=third, channel=Channel.PHONE, answers=_answers("Auch bei uns: Heizkörper kalt.")
    )
    elsewhere = ticket_create(
        member=cast.dave.member,
        channel=Channel.PHONE,
        answers=_answers("Heizung kalt seit heute früh."),
    )
    unrelated = ticket_create(
        member=third, channel=Channel.PHONE, answers=_answers("Tür quietscht.")
    )
    assert services.incidents_detect() == {"linked": 1, "proposed": 0}
    link = IncidentTicket.objects.get(ticket=later)
    assert link.incident == incident and link.how == IncidentTicket.How.MATCHED
    assert not IncidentTicket.objects.filter(ticket__in=[elsewhere, unrelated]).exists()


def test_accepting_shows_the_incident_on_the_members_request_pages(client, cast, outage):
    alices = outage["tickets"][0]
    services.incidents_detect()
    client.force_login(cast.alice)
    page = client.get(reverse("tickets:detail", args=[alices.reference])).content.decode()
    assert de("Known incident: %(title)s — being worked on").split("%")[0] not in page
    services.incident_accept(
        actor=cast.tom,
        incident=_proposed(),
        title="Heizung Nordring 1",
        public_text="Die Firma Wärme Schulz repariert die Anlage.",
    )
    page = client.get(reverse("tickets:detail", args=[alices.reference])).content.decode()
    assert "Bekannte Störung: Heizung Nordring 1 — wird bearbeitet" in page
    assert "Wärme Schulz" in page
    # Her other request is not part of it; bob (household) reads it on hers.
    other = client.get(reverse("tickets:detail", args=[outage["other"].reference]))
    assert "Bekannte Störung" not in other.content.decode()
    client.force_login(cast.bob)
    bobs = client.get(reverse("tickets:detail", args=[alices.reference])).content.decode()
    assert "Bekannte Störung: Heizung Nordring 1" in bobs
    # An outsider sees neither the request nor the incident.
    client.force_login(cast.dave)
    assert client.get(reverse("tickets:detail", args=[alices.reference])).status_code == 404


def test_resolving_resolves_the_requests_and_tells_each_member_once(cast, outage):
    # Alice reported twice: she gets one e-mail all the same.
    again = ticket_create(answers=_answers("Heizung immer noch kalt!"))
    services.incidents_detect()
    incident = _proposed()
    assert incident.links.filter(ticket=again).exists()
    services.incident_accept(actor=cast.tom, incident=incident, title="Heizung", public_text="")
    mail.outbox.clear()
    before = OutboundEmail.objects.count()
    services.incident_resolve(actor=cast.tom, incident=incident)
    tickets = Ticket.objects.filter(incident_link__incident=incident)
    assert tickets.count() == 4
    assert set(tickets.values_list("status", flat=True)) == {Status.RESOLVED}
    for ticket in tickets:
        assert ticket.events.filter(kind=TicketEvent.Kind.STATUS).count() == 1
    emails = OutboundEmail.objects.order_by("pk")[before:]
    recipients = [e.to for e in emails]
    assert len(recipients) == len(set(recipients)) == 3
    assert cast.alice.email in recipients
    to_alice = next(e for e in emails if e.to == cast.alice.email)
    assert outage["tickets"][0].reference in to_alice.body and again.reference in to_alice.body
    assert (
        not OutboundEmail.objects.filter(subject__contains="erledigt", pk__gt=before)
        .exclude(pk__in=[e.pk for e in emails])
        .exists()
    )
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.RESOLVED
    # The unrelated request stays open.
    outage["other"].refresh_from_db()
    assert outage["other"].status == Status.RECEIVED


def test_bad_steps_are_refused_with_a_clear_message(cast, outage):
    services.incidents_detect()
    incident = _proposed()
    with pytest.raises(services.IncidentError) as error:
        services.incident_resolve(actor=cast.tom, incident=incident)
    assert str(error.value) == "Dies ist noch ein Vorschlag. Bitte nehmen Sie ihn zuerst an."
    with pytest.raises(services.IncidentNotAllowed):
        services.incident_accept(actor=cast.hanna, incident=incident, title="X", public_text="")
    services.incident_dismiss(actor=cast.tom, incident=incident)
    with pytest.raises(services.IncidentError) as error:
        services.incident_accept(actor=cast.tom, incident=incident, title="X", public_text="")
    assert "verworfen" in str(error.value)
    with pytest.raises(services.IncidentError) as error:
        services.incident_accept(actor=cast.ada, incident=incident, title=" ", public_text="")
    assert str(error.value) == de("Please give the incident a title.")


def test_resolving_twice_is_refused(cast, outage):
    services.incidents_detect()
    incident = services.incident_accept(
        actor=cast.tom, incident=_proposed(), title="Heizung", public_text=""
    )
    services.incident_resolve(actor=cast.tom, incident=incident)
    with pytest.raises(services.IncidentError) as error:
        services.incident_resolve(actor=cast.tom, incident=incident)
    assert str(error.value) == "Diese Störung ist bereits behoben."


def test_an_incident_publishes_a_notice_for_its_buildings_and_withdraws_it(cast, outage):
    services.incidents_detect()
    incident = services.incident_accept(
        actor=cast.tom,
        incident=_proposed(),
        title="Heizung fällt aus",
        public_text="Die Heizung wird repariert.",
    )
    incident = services.incident_notice_publish(actor=cast.tom, incident=incident)
    notice = Notice.objects.get(pk=incident.notice_id)
    assert notice.kind == "heating" and notice.is_out()
    assert list(notice.buildings.all()) == list(incident.buildings.all())
    with pytest.raises(services.IncidentError):
        services.incident_notice_publish(actor=cast.tom, incident=incident)
    services.incident_resolve(actor=cast.tom, incident=incident)
    notice.refresh_from_db()
    assert notice.withdrawn_at is not None


def test_a_lead_creates_an_incident_by_hand(cast, outage):
    tickets = outage["tickets"][:2]
    with pytest.raises(services.IncidentNotAllowed):
        services.incident_create(actor=cast.hanna, tickets=tickets, title="H", public_text="")
    incident = services.incident_create(
        actor=cast.tom, tickets=tickets, title="Heizung", public_text="Wird repariert."
    )
    assert incident.status == IncidentStatus.OPEN and incident.links.count() == 2
    with pytest.raises(services.IncidentError) as error:
        services.incident_create(actor=cast.tom, tickets=tickets, title="H", public_text="")
    assert tickets[0].reference in str(error.value)
    # The detector leaves the rest alone: one report is no cluster.
    assert services.incidents_detect()["proposed"] == 0


def test_the_demo_plants_a_heating_outage_the_detector_proposes(cast):
    filed = incidents_demo_ensure(cast)
    assert len(filed) == 4  # the test cast has four flats a building: no mirror cabinet
    assert incidents_demo_ensure(cast) == []  # idempotent
    services.incidents_detect()
    incident = _proposed()
    assert incident.links.count() == 4 and incident.title == "Heizung in Nordring 3"
    assert incident.team.lead == cast.tom


# The back office -------------------------------------------------------------------------


def _login(client, user):
    client.force_login(user)
    if user.two_factor_required:
        otp_verify(client, user)


def test_the_lead_accepts_and_resolves_in_the_back_office(client, cast, outage):
    services.incidents_detect()
    incident = _proposed()
    _login(client, cast.tom)
    listing = client.get(reverse("backoffice:incidents")).content.decode()
    assert incident.title in listing
    detail = reverse("backoffice:incident", args=[incident.public_id])
    page = client.get(detail).content.decode()
    assert reverse("backoffice:incident_accept", args=[incident.public_id]) in page
    accept = reverse("backoffice:incident_accept", args=[incident.public_id])
    assert client.get(accept).status_code == 200
    response = client.post(accept, {"title": "", "public_text": ""})
    assert response.status_code == 400
    assert de("Please give the incident a title.") in response.content.decode()
    response = client.post(
        accept, {"title": "Heizung Nordring 1", "public_text": "Wird repariert."}
    )
    assert response.status_code == 302 and response["Location"] == detail
    resolve = reverse("backoffice:incident_resolve", args=[incident.public_id])
    assert client.post(resolve).status_code == 302
    # Twice: back to the incident with the reason, nothing changed.
    response = client.post(resolve, follow=True)
    assert "Diese Störung ist bereits behoben." in response.content.decode()
    assert set(
        Ticket.objects.filter(incident_link__incident=incident).values_list("status", flat=True)
    ) == {Status.RESOLVED}


def test_accepting_a_dismissed_proposal_says_why(client, cast, outage):
    services.incidents_detect()
    incident = _proposed()
    _login(client, cast.tom)
    client.post(reverse("backoffice:incident_dismiss", args=[incident.public_id]))
    response = client.post(
        reverse("backoffice:incident_accept", args=[incident.public_id]),
        {"title": "X", "public_text": ""},
        follow=True,
    )
    assert "Dieser Vorschlag wurde verworfen" in response.content.decode()
    assert Incident.objects.get().status == IncidentStatus.DISMISSED


def test_a_handler_reads_her_teams_incidents_but_does_not_act(client, cast, outage):
    services.incidents_detect()
    incident = _proposed()
    _login(client, cast.hanna)
    page = client.get(reverse("backoffice:incident", args=[incident.public_id]))
    assert page.status_code == 200
    assert reverse("backoffice:incident_accept", args=[incident.public_id]) not in (
        page.content.decode()
    )
    for name in ("incident_accept", "incident_dismiss", "incident_resolve", "incident_notice"):
        url = reverse(f"backoffice:{name}", args=[incident.public_id])
        assert client.post(url).status_code == 404
    assert Incident.objects.get().status == IncidentStatus.PROPOSED


def test_the_pages_refuse_other_methods(client, cast, outage):
    services.incidents_detect()
    incident = _proposed()
    _login(client, cast.tom)
    assert client.post(reverse("backoffice:incidents")).status_code == 405
    assert client.post(reverse("backoffice:incident", args=[incident.public_id])).status_code == 405
    url = reverse("backoffice:incident_resolve", args=[incident.public_id])
    assert client.delete(url).status_code == 405


def test_a_lead_creates_an_incident_from_a_request_page(client, cast, outage):
    _login(client, cast.tom)
    alices = outage["tickets"][0]
    page = client.get(reverse("backoffice:ticket", args=[alices.reference])).content.decode()
    new = reverse("backoffice:incident_new")
    assert f"{new}?anliegen={alices.reference}" in page
    form = client.get(new, {"anliegen": alices.reference})
    assert alices.reference in form.content.decode()
    refs = f"{alices.reference}\n{outage['tickets'][1].reference} A-1999-999999"
    response = client.post(new, {"references": refs, "title": "Heizung", "public_text": ""})
    assert response.status_code == 400 and "A-1999-999999" in response.content.decode()
    refs = f"{alices.reference}\n{outage['tickets'][1].reference}"
    response = client.post(new, {"references": refs, "title": "Heizung", "public_text": ""})
    incident = Incident.objects.get()
    assert response["Location"] == reverse("backoffice:incident", args=[incident.public_id])
    assert incident.links.count() == 2


def _requests(count: int) -> str:
    """ "3 Anliegen": the German of the rows' and the heading's count."""
    with override("de"):
        return ngettext("%(count)s request", "%(count)s requests", count) % {"count": count}


def _incident(estate, team, title, status, *, days_ago, **when) -> Incident:
    incident = Incident.objects.create(title=title, estate=estate, team=team, status=status, **when)
    Incident.objects.filter(pk=incident.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days_ago)
    )
    return incident


def test_the_list_pages_proposals_then_open_then_lately_done(client, cast, outage, monkeypatch):
    monkeypatch.setattr("incidents.selectors.PAGE_SIZE", 2)
    services.incidents_detect()
    detected = _proposed()
    estate, team, now = detected.estate, detected.team, timezone.now()
    Incident.objects.filter(pk=detected.pk).update(created_at=now - datetime.timedelta(days=1))
    _incident(estate, team, "Vorschlag alt", IncidentStatus.PROPOSED, days_ago=40)
    _incident(estate, team, "Offen neu", IncidentStatus.OPEN, days_ago=2)
    _incident(estate, team, "Offen vergessen", IncidentStatus.OPEN, days_ago=300)
    _incident(estate, team, "Behoben", IncidentStatus.RESOLVED, days_ago=5, resolved_at=now)
    gone = now - datetime.timedelta(days=15)  # past RECENT_DAYS: off the list
    _incident(
        estate, team, "Längst behoben", IncidentStatus.RESOLVED, days_ago=20, resolved_at=gone
    )
    titles = [
        detected.title,
        "Vorschlag alt",
        "Offen neu",
        "Offen vergessen",
        "Behoben",
        "Längst behoben",
    ]
    _login(client, cast.tom)
    url = reverse("backoffice:incidents")
    pages = [client.get(url, {"seite": str(n)}).content.decode() for n in (1, 2, 3)]

    def shown(html):
        return [t for place, t in sorted((html.find(f">{t}<"), t) for t in titles) if place >= 0]

    assert [shown(page) for page in pages] == [
        [detected.title, "Vorschlag alt"],
        ["Offen neu", "Offen vergessen"],
        ["Behoben"],
    ]
    assert de("Proposed") in pages[0] and de("Proposed") not in pages[1]
    assert de("No incidents are being worked on.") not in pages[0]  # they are on page 2
    assert de("Page %(number)s of %(count)s") % {"number": 3, "count": 3} in pages[2]
    # Its requests are counted for the row.
    assert _requests(3) in pages[0]


def test_an_incident_shows_its_requests_a_page_at_a_time(client, cast, outage, monkeypatch):
    monkeypatch.setattr("incidents.selectors.PAGE_SIZE", 2)
    services.incidents_detect()
    incident = _proposed()
    _login(client, cast.tom)
    url = reverse("backoffice:incident", args=[incident.public_id])
    first = client.get(url).content.decode()
    second = client.get(url, {"seite": "2"}).content.decode()
    references = [t.reference for t in outage["tickets"]]  # in the order received
    assert [r in first for r in references] == [True, True, False]
    assert [r in second for r in references] == [False, False, True]
    # The heading counts them all, on every page.
    assert _requests(3) in first and _requests(3) in second
    assert 'href="?seite=2" rel="next"' in first


def test_the_incident_pages_need_few_queries(client, cast, outage):
    services.incidents_detect()
    incident = _proposed()
    for _ in range(3):  # more incidents, the same statements
        done = Incident.objects.create(
            title="Alt",
            estate=incident.estate,
            team=incident.team,
            status="resolved",
            resolved_at=timezone.now(),
        )
        done.buildings.set(Building.objects.all()[:2])
    _login(client, cast.tom)
    for url in (
        reverse("backoffice:incidents"),
        reverse("backoffice:incidents") + "?seite=2",
        reverse("backoffice:incident", args=[incident.public_id]),
        reverse("backoffice:incident", args=[incident.public_id]) + "?seite=2",
        reverse("backoffice:incident_accept", args=[incident.public_id]),
    ):
        statements = measured(client, url)
        assert len(statements) <= MOST, "\n".join(statements)
        assert not repeated(statements), repeated(statements)


def test_the_member_request_page_needs_one_query_more(client, cast, outage):
    services.incidents_detect()
    client.force_login(cast.alice)
    statements = measured(client, reverse("tickets:detail", args=[outage["tickets"][0].reference]))
    assert len(statements) <= MOST, "\n".join(statements)


def test_the_incident_action_pages_need_few_queries(client, cast, outage):
    """New, dismiss (a proposal), resolve and the notice (an open one)."""
    services.incidents_detect()
    proposed = _proposed()
    _login(client, cast.tom)
    first = [
        reverse("backoffice:incident_new") + f"?anliegen={outage['tickets'][0].reference}",
        reverse("backoffice:incident_dismiss", args=[proposed.public_id]),
    ]
    for url in first:
        statements = measured(client, url)
        assert len(statements) <= MOST, "\n".join(statements)
        assert not repeated(statements), repeated(statements)
    services.incident_accept(actor=cast.tom, incident=proposed, title="Heizung", public_text="")
    for url in (
        reverse("backoffice:incident_resolve", args=[proposed.public_id]),
        reverse("backoffice:incident_notice", args=[proposed.public_id]),
    ):
        statements = measured(client, url)
        assert len(statements) <= MOST, "\n".join(statements)
        assert not repeated(statements), repeated(statements)
