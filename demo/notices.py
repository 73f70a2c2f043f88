"""The demo's notices (issue 14, point 5): a heating outage in alice's
building, in force until the coming Friday noon, and an invitation to the
assembly of her whole estate. Idempotent: each is published once (through
notices.services, as staff would) and kept current on every run after."""

import datetime

from django.utils import timezone

from demo.cast import Cast
from members.selectors import residences
from notices.models import Notice, NoticeKind
from notices.services import NoticeContent, notice_publish

HEATING = "Heizung und Warmwasser fallen aus"
ASSEMBLY = "Einladung zur Mieterversammlung"


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _friday_after(today: datetime.date) -> datetime.date:
    """The coming Friday, at least two days ahead."""
    day = today + datetime.timedelta(days=2)
    return day + datetime.timedelta(days=(4 - day.weekday()) % 7)


def notices_demo_ensure(cast: Cast, *, now: datetime.datetime | None = None) -> dict[str, Notice]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    building = residences(cast.alice.member)[0].contract.unit.building
    estate = building.estate
    heating_from = now - datetime.timedelta(hours=3)
    heating_until = _at(_friday_after(today), 12)
    assembly_day = today + datetime.timedelta(days=21)
    wanted = {
        "heating": NoticeContent(
            kind=NoticeKind.HEATING,
            title_de=HEATING,
            title_en="No heating and hot water",
            text_de="Wegen eines Defekts an der Heizungsanlage gibt es in Ihrem Haus keine "
            "Heizung und kein warmes Wasser. Die Firma Wärme Schulz repariert sie; wir "
            "rechnen damit, dass bis Freitagmittag alles wieder läuft. Heizlüfter können Sie "
            "bei der Hauswartin ausleihen.",
            text_en="Because of a fault in the heating system there is no heating and no hot "
            "water in your building. Wärme Schulz are repairing it; we expect everything to "
            "work again by Friday noon. You can borrow a fan heater from the caretaker.",
            estate=estate,
            buildings=[building],
            valid_from=heating_from,
            valid_until=heating_until,
        ),
        "assembly": NoticeContent(
            kind=NoticeKind.ASSEMBLY,
            title_de=ASSEMBLY,
            title_en="Invitation to the residents' meeting",
            text_de=f"Alle Bewohnerinnen und Bewohner der {estate.name} sind herzlich zur "
            "Mieterversammlung im Gemeinschaftsraum eingeladen. Themen: Spielplatz, "
            "Fahrradkeller, Fragen an den Vorstand.",
            text_en=f"All residents of {estate.name} are warmly invited to the residents' "
            "meeting in the common room. Topics: playground, bicycle cellar, questions to "
            "the board.",
            estate=estate,
            valid_from=now - datetime.timedelta(days=1),
            valid_until=_at(assembly_day, 21),
        ),
    }
    publishers = {"heating": cast.hanna, "assembly": cast.tom}
    notices = {}
    for key, content in wanted.items():
        notice = Notice.objects.filter(
            estate=estate, title_de=content.title_de, withdrawn_at__isnull=True
        ).first()
        if notice is None:
            notice = notice_publish(actor=publishers[key], content=content, now=now)
        else:
            # Kept current: the demo always shows them in force.
            notice.valid_from = content.valid_from
            notice.valid_until = content.valid_until
            notice.save(update_fields=["valid_from", "valid_until", "updated_at"])
        notices[key] = notice
    return notices
