"""The demo's planted heating outage (issue 14, points 3 and 4): four
reports that the heating is cold, from four households of one building
(Nordring 3, next to alice's), phoned in over the last few hours, plus one
unrelated report from the same building. The detector (`manage.py
incidents_detect`, run every minute by `make demo`) proposes an incident
of the four to Technik's lead, tom, on its first run. Idempotent: the
reports are filed once (through tickets.services.ticket_open, as the
phone log would), keyed on their texts in that building."""

import datetime

from django.utils import timezone

from cooperative.models import Building
from demo.cast import Cast
from members.models import Contract
from tickets.models import Channel, RequestType, Ticket
from tickets.services import ticket_open

STREET, NUMBER = "Nordring", "3"
# (hours ago, room, what the member said)
REPORTS = (
    (5, "living_room", "Die Heizung ist kalt, seit heute früh kommt keine Wärme mehr."),
    (4, "bedroom", "Heizkörper bleibt kalt, auch wenn ich ihn ganz aufdrehe."),
    (3, "living_room", "Bei uns ist die Heizung seit dem Morgen kalt, die Wohnung kühlt aus."),
    (2, "kitchen", "Heizung kalt – alle Heizkörper in der Wohnung sind kalt."),
)
UNRELATED = (1, "bathroom", "Der Spiegelschrank im Bad hat sich von der Wand gelöst.")


def incidents_demo_ensure(cast: Cast, *, now: datetime.datetime | None = None) -> list[Ticket]:
    now = now or timezone.now()
    building = Building.objects.get(street=STREET, house_number=NUMBER)
    repair = RequestType.objects.get(slug="schadensmeldung")
    texts = [what for _hours, _room, what in (*REPORTS, UNRELATED)]
    if Ticket.objects.filter(unit__building=building, answers__what__in=texts).exists():
        return []
    # One member of each household (contract) living there today.
    contracts = (
        Contract.objects.current()
        .filter(unit__building=building)
        .prefetch_related("members")
        .order_by("number")[: len(texts)]
    )
    residents = [min(c.members.all(), key=lambda m: m.member_number) for c in contracts]
    filed = []
    for member, (hours, room, what) in zip(residents, (*REPORTS, UNRELATED), strict=False):
        ticket = ticket_open(
            request_type=repair,
            member=member,
            answers={"room": room, "what": what, "urgency": "normal", "master_key": "no"},
            channel=Channel.PHONE,
            created_by=cast.hanna,
        )
        # Phoned in over the morning, not all this second.
        at = now - datetime.timedelta(hours=hours)
        Ticket.objects.filter(pk=ticket.pk).update(created_at=at, member_activity_at=at)
        filed.append(ticket)
    return filed
