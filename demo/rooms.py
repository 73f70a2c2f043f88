"""The demo's guest apartment and common room (issue 13, point 8), with a
few bookings so the calendar shows taken days and the back office one
booking awaiting confirmation. Idempotent: the rooms are updated, the
bookings made only while the demo has none."""

import datetime
from decimal import Decimal

from django.utils import timezone

from demo.cast import Cast
from members.models import Contract
from rooms import services
from rooms.models import Room, RoomBooking, RoomKind
from routing.models import Team


def rooms_demo_ensure(cast: Cast, *, now: datetime.datetime | None = None) -> dict[str, Room]:
    now = now or timezone.now()
    team = Team.objects.get(name="Vermietung")
    estate = (
        Contract.objects.current()
        .filter(members=cast.alice.member)
        .values_list("unit__building__estate", flat=True)
        .first()
    )
    flat, _ = Room.objects.update_or_create(
        slug="gaestewohnung-lindenstrasse",
        defaults={
            "kind": RoomKind.GUEST_FLAT,
            "name_de": "Gästewohnung Lindenstraße",
            "name_en": "Guest apartment Lindenstraße",
            "description_de": "2 Zimmer, 4 Betten, Küche und Bad, Erdgeschoss. Bettwäsche und "
            "Handtücher liegen bereit. Den Schlüssel holen Sie bei der Hauswartin ab.",
            "description_en": "2 rooms, 4 beds, kitchen and bathroom, ground floor. Bed linen "
            "and towels are provided. Collect the key from the caretaker.",
            "address": "Lindenstraße 12, Erdgeschoss links",
            "estate_id": estate,
            "team": team,
            "capacity": 4,
            "price": Decimal("35.00"),
            "fee": Decimal("25.00"),
            "check_in": datetime.time(15),
            "check_out": datetime.time(10),
            "cleaning_minutes": 180,
            "min_units": 1,
            "max_units": 14,
            "min_notice_hours": 24,
            "horizon_days": 365,
            "cancel_cutoff_hours": 48,
            "needs_confirmation": False,
            "position": 10,
        },
    )
    hall, _ = Room.objects.update_or_create(
        slug="gemeinschaftsraum-am-park",
        defaults={
            "kind": RoomKind.COMMON_ROOM,
            "name_de": "Gemeinschaftsraum Am Park",
            "name_en": "Common room Am Park",
            "description_de": "Für Feiern und Treffen der Bewohnerinnen und Bewohner: 40 m², "
            "Tische und Stühle für 20 Personen, kleine Küche. Bitte ab 22 Uhr Ruhe.",
            "description_en": "For residents' parties and meetings: 40 m², tables and chairs "
            "for 20 people, small kitchen. Quiet from 10 pm, please.",
            "address": "Lindenstraße 14, Souterrain",
            "estate_id": estate,
            "residents_only": estate is not None,
            "team": team,
            "capacity": 20,
            "price": Decimal("5.00"),
            "fee": Decimal("15.00"),
            "opens": datetime.time(8),
            "closes": datetime.time(22),
            "cleaning_minutes": 60,
            "min_units": 2,
            "max_units": 10,
            "min_notice_hours": 48,
            "horizon_days": 180,
            "cancel_cutoff_hours": 72,
            "needs_confirmation": True,
            "position": 20,
        },
    )
    if not RoomBooking.objects.exists():
        _bookings(cast, flat, hall, now)
    return {"flat": flat, "hall": hall}


def _bookings(cast: Cast, flat: Room, hall: Room, now: datetime.datetime) -> None:
    today = timezone.localdate(now)
    day = datetime.timedelta(days=1)
    stays = [(cast.bob, 5, 8, 2, "Eltern zu Besuch"), (cast.dave, 16, 18, 3, "Familie")]
    for user, first, last, persons, purpose in stays:
        span = services.room_span(
            room=flat, arrival=today + first * day, departure=today + last * day
        )
        services.room_book(
            room=flat, member=user.member, span=span, booked_by=user, persons=persons,
            purpose=purpose, now=now,
        )  # fmt: skip
    # Bob asks for the common room on the second Saturday from now: it waits for staff.
    saturday = today + datetime.timedelta(days=(5 - today.weekday()) % 7 + 7)
    span = services.room_span(
        room=hall, day=saturday, start=datetime.time(14), end=datetime.time(20)
    )
    services.room_book(
        room=hall, member=cast.bob.member, span=span, booked_by=cast.bob, persons=15,
        purpose="Geburtstag", now=now,
    )  # fmt: skip
