"""Calendar invites for booked appointments (issue 13, point 6): one
iCalendar object (RFC 5545) per version of a booking, sent by e-mail as
an iTIP message (RFC 5546) so that the member's calendar program files it
in the calendar, updates it when the booking changes and removes it when
the booking is cancelled.

Pure: plain data in, the bytes of a .ics file out; no database, no clock.
What ties the versions of one booking together is the caller's part: the
same UID for every version, a SEQUENCE that grows with each change, and
METHOD:CANCEL (same UID, higher SEQUENCE) when the booking is cancelled.
Calendar programs replace an event by UID only when the SEQUENCE is
higher than the one they have; an equal one is ignored as a duplicate."""

import datetime
from dataclasses import dataclass

from icalendar import Calendar, Event, vCalAddress

PRODID = "-//genoportal//Termine//DE"

REQUEST = "REQUEST"
CANCEL = "CANCEL"
METHODS = (REQUEST, CANCEL)

# The status a calendar program shows for the event: a booking that stands,
# or one that was called off (RFC 5545 3.8.1.11).
_STATUS = {REQUEST: "CONFIRMED", CANCEL: "CANCELLED"}


def _aware(name: str, value: datetime.datetime) -> datetime.datetime:
    """`value` in UTC, whole seconds (iCalendar's resolution: finer parts
    would be dropped silently when written, and the file would no longer
    say what was checked here)."""
    if not isinstance(value, datetime.datetime):
        raise ValueError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone)")
    return value.astimezone(datetime.UTC).replace(microsecond=0)


def _address(name: str, value: str) -> str:
    """An e-mail address fit for a mailto: URI: no spaces or line breaks,
    which would break the content line (icalendar refuses CR/LF; a space or
    a tab it would write into the URI)."""
    if not value or "@" not in value or any(c.isspace() or ord(c) < 32 for c in value):
        raise ValueError(f"{name} must be an e-mail address, not {value!r}")
    return value


def _name(value: str) -> str:
    """A person's name as a CN parameter: on one line. Parameter values may
    not hold control characters (RFC 5545 3.1); icalendar would encode a
    line break as ^n (RFC 6868), which many calendar programs show as is."""
    return " ".join(value.split())


@dataclass(frozen=True)
class Invite:
    """One version of a booked appointment, as the member's calendar should
    show it. Validated on creation, so every Invite makes a valid file.

    `uid` is the booking's identity across all its versions (a new UID would
    make a second event instead of moving the first); `sequence` counts its
    changes, starting at 0; `stamp` is when this version was made (DTSTAMP).
    Times are aware datetimes in any zone; they are written in UTC."""

    uid: str
    sequence: int
    method: str
    starts: datetime.datetime
    ends: datetime.datetime
    summary: str
    description: str
    location: str
    organizer_email: str
    organizer_name: str
    attendee_email: str
    attendee_name: str
    stamp: datetime.datetime
    url: str = ""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        if not isinstance(self.sequence, int) or isinstance(self.sequence, bool):
            raise ValueError("sequence must be an integer")
        if self.sequence < 0:
            raise ValueError("sequence must not be negative")
        if not self.uid.strip():
            raise ValueError("uid must not be empty")
        starts = _aware("starts", self.starts)
        ends = _aware("ends", self.ends)
        _aware("stamp", self.stamp)
        if ends <= starts:
            raise ValueError("ends must be after starts")
        _address("organizer_email", self.organizer_email)
        _address("attendee_email", self.attendee_email)
        if any(c.isspace() for c in self.url):
            raise ValueError("url must not contain spaces or line breaks")


def invite_ics(invite: Invite) -> bytes:
    """The invite as an iCalendar file (UTF-8, CRLF lines, folded at 75
    octets and escaped by icalendar).

    Times are written in UTC (…Z) rather than local time with a VTIMEZONE:
    RFC 5545 allows it for any event that does not repeat, every calendar
    program shows the time in its own zone, and there is no time zone
    definition to get wrong — or out of date — around the change to and
    from summer time. The organizer is the cooperative (who sends it); the
    member is the attendee with PARTSTAT=ACCEPTED and RSVP=FALSE: the member
    booked the appointment themselves, so there is nothing to accept or
    decline, and calendar programs show no such buttons (and send no
    answers to an address that would not read them). A cancellation keeps
    the attendee as it was: RFC 5546 requires the attendees in a CANCEL, and
    STATUS:CANCELLED says what happened."""
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", _aware("stamp", invite.stamp))
    event.add("dtstart", _aware("starts", invite.starts))
    event.add("dtend", _aware("ends", invite.ends))
    event.add("summary", invite.summary)
    event.add("description", invite.description)
    event.add("location", invite.location)
    if invite.url:
        event.add("url", invite.url)
    event.add(
        "organizer",
        vCalAddress.new(invite.organizer_email, cn=_name(invite.organizer_name) or None),
    )
    event.add(
        "attendee",
        vCalAddress.new(
            invite.attendee_email,
            cn=_name(invite.attendee_name) or None,
            role="REQ-PARTICIPANT",
            partstat="ACCEPTED",
            rsvp=False,
        ),
    )
    event.add("status", _STATUS[invite.method])

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", invite.method)
    calendar.add_component(event)
    return calendar.to_ical()
