"""Demo routing: more staff, SLA policies, ordered rules, one absence with a
substitute, and opening hours/closing days for the SLA calendar. Idempotent
(keys: e-mail, policy name, rule name). Run by `seed_demo`, not by the test
fixture: tests set up exactly the rules they are about."""

import datetime

from django.utils import timezone

from accounts import roles
from cooperative.models import ClosingDay, Cooperative, Estate
from demo.cast import staff_ensure
from routing.models import (
    Absence,
    Clock,
    OnCallShift,
    Priority,
    RoutingRule,
    SlaPolicy,
    Strategy,
    Team,
)
from tickets.feedback import ACCESSIBILITY_SLUG, accessibility_request_type
from tickets.models import Channel, RequestType

STAFF = [
    # e-mail, first, last, role, teams
    ("jonas@example.org", "Jonas", "Jäger", roles.HANDLER, ["Technik"]),
    ("lena@example.org", "Lena", "Lorenz", roles.HANDLER, ["Mitgliederwesen"]),
    ("mia@example.org", "Mia", "Maurer", roles.HANDLER, ["Mitgliederwesen", "Vermietung"]),
    ("rita@example.org", "Rita", "Rechner", roles.HANDLER, ["Rechnungswesen"]),
    ("vera@example.org", "Vera", "Vogt", roles.HANDLER, ["Vermietung", "Hausverwaltung"]),
]

POLICIES = {
    # name: (first response in hours, resolution in days, clock, for priority)
    # Emergencies run around the clock; "Dringend (heute/morgen)" in the
    # repair form raises a request to "urgent" and so to its own policy.
    "Notfall": (1, 1, Clock.CALENDAR, Priority.EMERGENCY),
    "Dringend": (4, 1, Clock.WORKING, Priority.URGENT),
    "Reparatur": (8, 10, Clock.WORKING, ""),
    "Schnell": (8, 3, Clock.WORKING, ""),
    "Standard": (16, 10, Clock.WORKING, ""),
}

RULES = [
    # name, conditions, team, strategy, priority, policy
    (
        "Notfall bei Schäden",
        {"types": ["schadensmeldung"], "field": ("urgency", "notfall")},
        "Technik",
        Strategy.LEAST_OPEN,
        Priority.EMERGENCY,
        "Notfall",
    ),
    (
        "Wasser läuft (Stichwörter)",
        {
            "keywords": "rohrbruch, wasserrohrbruch, überschwemm, wasser läuft, wasser tropft von der decke"
        },
        "Technik",
        Strategy.LEAST_OPEN,
        Priority.URGENT,
        "Notfall",
    ),
    (
        "Schaden in Wohnanlage Nord",
        {"types": ["schadensmeldung"], "estates": ["Wohnanlage Nord"]},
        "Technik",
        Strategy.ESTATE_MANAGER,
        Priority.NORMAL,
        "Reparatur",
    ),
    (
        "Schäden übrige Wohnanlagen",
        {"types": ["schadensmeldung"]},
        "Technik",
        Strategy.ROUND_ROBIN,
        Priority.NORMAL,
        "Reparatur",
    ),
    (
        "Mitgliedschaft",
        {
            "types": [
                "mitgliedsbescheinigung",
                "auszug-mitgliederliste",
                "namensaenderung",
                "adressaenderung",
                "bankverbindung",
                "anteile-zeichnen",
                "anteile-kuendigen",
            ]
        },
        "Mitgliederwesen",
        Strategy.ROUND_ROBIN,
        Priority.NORMAL,
        "Schnell",
    ),
    (
        "Abrechnung und Zähler",
        {"types": ["nebenkosten", "zaehlerstand"]},
        "Rechnungswesen",
        Strategy.LEAST_OPEN,
        Priority.NORMAL,
        "Standard",
    ),
    (
        "Wohnung und Vertrag",
        {"types": ["kuendigung", "wohnungswechsel", "parkplatz", "gaestewohnung"]},
        "Vermietung",
        Strategy.ROUND_ROBIN,
        Priority.NORMAL,
        "Standard",
    ),
    (
        "Haus: Genehmigungen und Schlüssel",
        {"types": ["genehmigung", "schluessel"]},
        "Hausverwaltung",
        Strategy.ESTATE_MANAGER,
        Priority.NORMAL,
        "Standard",
    ),
    (
        # Reports from the accessibility statement's form, logged in or not.
        "Barrierefreiheit",
        {"types": [ACCESSIBILITY_SLUG]},
        "Mitgliederwesen",
        Strategy.TEAM_QUEUE,
        Priority.NORMAL,
        "Schnell",
    ),
    (
        "Anrufe ohne Zuordnung",
        {"channels": [Channel.PHONE, Channel.COUNTER], "types": ["allgemein"]},
        "Mitgliederwesen",
        Strategy.TEAM_QUEUE,
        Priority.NORMAL,
        "Standard",
    ),
]


def routing_demo_ensure(*, hanna, tom) -> None:
    teams = {team.name: team for team in Team.objects.all()}
    people = {}
    for email, first, last, role, team_names in STAFF:
        person = staff_ensure(email, first, last, role)
        people[first] = person
        for name in team_names:
            teams[name].members.add(person)
    teams["Hausverwaltung"].members.add(tom)
    for estate in Estate.objects.all():
        if estate.caretaker_id is None:
            estate.caretaker = people["Jonas"]
            estate.save(update_fields=["caretaker", "updated_at"])

    policies = {}
    for name, (hours, days, clock, priority) in POLICIES.items():
        policies[name], _ = SlaPolicy.objects.update_or_create(
            name=name,
            defaults={
                "first_response_hours": hours,
                "resolution_days": days,
                "clock": clock,
                "for_priority": priority,
            },
        )
    accessibility_request_type()  # made on first use; the rule below names it
    types = {t.slug: t for t in RequestType.objects.all()}
    estates = {e.name: e for e in Estate.objects.all()}
    for position, (name, when, team, strategy, priority, policy) in enumerate(RULES, start=1):
        rule, _ = RoutingRule.objects.update_or_create(
            name=name,
            defaults={
                "position": position * 10,
                "team": teams[team],
                "strategy": strategy,
                "priority": priority,
                "sla_policy": policies[policy],
                "channels": when.get("channels", []),
                "field_key": when.get("field", ("", ""))[0],
                "field_value": when.get("field", ("", ""))[1],
                "keywords": when.get("keywords", ""),
            },
        )
        rule.request_types.set([types[slug] for slug in when.get("types", []) if slug in types])
        rule.estates.set([estates[e] for e in when.get("estates", []) if e in estates])

    # Jonas is on holiday this week; Hanna stands in for him.
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    Absence.objects.update_or_create(
        user=people["Jonas"],
        starts=monday,
        defaults={
            "ends": monday + datetime.timedelta(days=6),
            "kind": Absence.Kind.VACATION,
            "substitute": hanna,
        },
    )
    # Emergencies of Technik: the contracted emergency service by default,
    # Hanna on call this weekend (Jonas is away).
    technik = teams["Technik"]
    technik.on_call_email = "notdienst@example.org"
    technik.save(update_fields=["on_call_email", "updated_at"])
    technik.members.add(hanna)
    saturday = datetime.datetime.combine(
        monday + datetime.timedelta(days=5),
        datetime.time(0),
        tzinfo=timezone.get_current_timezone(),
    )
    OnCallShift.objects.update_or_create(
        team=technik,
        user=hanna,
        starts=saturday,
        defaults={"ends": saturday + datetime.timedelta(days=2, hours=7)},
    )
    cooperative = Cooperative.objects.current()
    if cooperative.pk:
        cooperative.half_days_close_at = datetime.time(12, 0)
        cooperative.save(update_fields=["half_days_close_at", "updated_at"])
        # A bridge day the office closes on (Friday after Ascension 2027).
        ClosingDay.objects.get_or_create(
            cooperative=cooperative,
            date=datetime.date(2027, 5, 7),
            defaults={"reason": "Brückentag"},
        )
