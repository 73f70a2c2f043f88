"""The demo's consultations (issue 13): five topics and four advisors with
realistic weekly hours — one of them on holiday for the next two weeks,
so "any advisor" visibly passes him by. Idempotent, like the rest of the
demo: seed_demo and the test cast call it again and again."""

import datetime

from accounts import roles
from accounts.models import User
from appointments.models import Advisor, AppointmentType, LocationKind, WeeklyHours
from demo.cast import staff_ensure
from routing.models import Absence

TYPES = [
    # slug, German, English, where, minutes, buffer after, per day, description de / en
    ("vermietung", "Vermietung und Wohnungswechsel", "Letting and moving flats",
     LocationKind.OFFICE, 30, 10, None,
     "Wohnungsangebote, Tausch innerhalb der Genossenschaft, Umzug.",
     "Flat offers, swapping within the cooperative, moving."),
    ("mitgliedschaft", "Mitgliedschaft und Anteile", "Membership and shares",
     LocationKind.PHONE, 20, 5, None,
     "Anteile zeichnen oder kündigen, Bescheinigungen, Erbfall.",
     "Subscribing or cancelling shares, certificates, inheritance."),
    ("nebenkosten", "Nebenkostenabrechnung", "Service charge statement",
     LocationKind.OFFICE, 30, 10, None,
     "Fragen zur Abrechnung und zu Vorauszahlungen.",
     "Questions about the statement and advance payments."),
    ("sozialberatung", "Sozialberatung", "Social counselling",
     LocationKind.OFFICE, 45, 15, 3,
     "Vertraulich: Mietschulden, Anträge, Unterstützung im Alltag.",
     "Confidential: rent arrears, applications, everyday support."),
    ("technik-vor-ort", "Technik vor Ort", "Technical visit at home",
     LocationKind.HOME, 60, 30, 4,
     "Eine Technikerin schaut sich etwas in Ihrer Wohnung an.",
     "A technician looks at something in your flat."),
]  # fmt: skip

MORNING = (datetime.time(8, 30), datetime.time(12, 0))
AFTERNOON = (datetime.time(13, 0), datetime.time(16, 0))
LONG_THURSDAY = (datetime.time(13, 0), datetime.time(18, 0))


def appointments_demo_ensure(
    *, hanna: User, tom: User, today: datetime.date | None = None
) -> dict[str, Advisor]:
    """Topics, advisors and their weekly hours; Paul's holiday starts today."""
    today = today or datetime.date.today()
    types = {}
    for position, (slug, de, en, where, minutes, after, per_day, text_de, text_en) in enumerate(
        TYPES
    ):
        types[slug], _ = AppointmentType.objects.update_or_create(
            slug=slug,
            defaults={
                "name_de": de,
                "name_en": en,
                "location_kind": where,
                "duration_minutes": minutes,
                "buffer_after_minutes": after,
                "max_per_advisor_per_day": per_day,
                "description_de": text_de,
                "description_en": text_en,
                "position": position,
            },
        )
    sabine = staff_ensure("sabine@example.org", "Sabine", "Sommer", roles.HANDLER)
    paul = staff_ensure("paul@example.org", "Paul", "Peters", roles.HANDLER)
    plan = {
        # user, topics, room, weekly hours (weekday -> ranges)
        "tom": (tom, ["vermietung", "nebenkosten"], "Raum 1.04",
                {0: [MORNING, AFTERNOON], 1: [MORNING], 3: [MORNING, LONG_THURSDAY]}),
        "hanna": (hanna, ["technik-vor-ort"], "",
                  {0: [MORNING], 2: [MORNING, AFTERNOON], 4: [MORNING]}),
        "sabine": (sabine, ["sozialberatung", "mitgliedschaft"], "Raum 0.12",
                   {1: [MORNING, AFTERNOON], 2: [MORNING], 3: [LONG_THURSDAY]}),
        "paul": (paul, ["vermietung", "mitgliedschaft", "nebenkosten"], "Raum 1.06",
                 {0: [MORNING], 1: [AFTERNOON], 2: [MORNING, AFTERNOON], 4: [MORNING]}),
    }  # fmt: skip
    advisors = {}
    for key, (user, slugs, room, weekly) in plan.items():
        advisor, created = Advisor.objects.get_or_create(user=user, defaults={"room": room})
        if created:
            advisor.types.set([types[slug] for slug in slugs])
            WeeklyHours.objects.bulk_create(
                WeeklyHours(advisor=advisor, weekday=day, starts=starts, ends=ends)
                for day, ranges in weekly.items()
                for starts, ends in ranges
            )
        advisors[key] = advisor
    if not Absence.objects.filter(user=paul, ends__gte=today).exists():
        Absence.objects.create(
            user=paul,
            kind=Absence.Kind.VACATION,
            starts=today,
            ends=today + datetime.timedelta(days=13),
        )
    return advisors
