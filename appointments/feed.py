"""An advisor's private calendar feed (issue 13): the bookings and blocked
times of a few weeks as one iCalendar file that Outlook or Thunderbird
subscribe to by its secret address and read again every so often.

Pure: plain data in, the bytes of the file out. A subscribed calendar is
replaced as a whole on every refresh, so METHOD:PUBLISH and no attendees
(nobody is invited by it); a cancelled booking simply is no longer in it.
UID and SEQUENCE are the booking's own, the ones of the member's invite,
so a program that has both sees one appointment.

What it holds about the member is what the advisor needs to be there at
the right time and place: the topic, the member's name, the place as
booked (a home visit's address). The member's note, e-mail and phone stay
on the back-office page the entry links to: a subscribed calendar is
copied to phones and mail providers' servers."""

import datetime
from dataclasses import dataclass

from icalendar import Calendar, Event

PRODID = "-//genoportal//Beratungstermine//DE"


@dataclass(frozen=True)
class FeedEntry:
    """One booking or blocked time as the advisor's calendar shows it."""

    uid: str
    sequence: int
    starts: datetime.datetime
    ends: datetime.datetime
    summary: str
    location: str = ""
    url: str = ""


def _utc(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("feed times must be aware datetimes")
    return value.astimezone(datetime.UTC).replace(microsecond=0)


def _line(value: str) -> str:
    """One line: a summary or place with a line break would be shown cut
    or with escapes by some programs."""
    return " ".join(value.split())


def feed_ics(*, name: str, entries: list[FeedEntry], stamp: datetime.datetime) -> bytes:
    """The feed as an iCalendar file: times in UTC (…Z, no VTIMEZONE to get
    wrong around summer time), one VEVENT per entry."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # The name a program gives the subscribed calendar (a common extension).
    calendar.add("x-wr-calname", _line(name))
    stamp = _utc(stamp)
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("sequence", entry.sequence)
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(entry.starts))
        event.add("dtend", _utc(entry.ends))
        event.add("summary", _line(entry.summary))
        if entry.location:
            event.add("location", _line(entry.location))
        if entry.url:
            event.add("url", entry.url)
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
