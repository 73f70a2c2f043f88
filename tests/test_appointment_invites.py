"""Calendar invites for booked appointments (issue 13, point 6): the .ics
file as a calendar program reads it back (icalendar), and the e-mail that
carries it as a real SMTP server receives it (stdlib `email`)."""

import datetime
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from icalendar import Calendar, Event

from appointments.invites import PRODID, Invite, invite_ics
from mail.models import OutboundEmail
from mail.services import email_queue
from tests.mailserver import smtp_server

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.UTC


def berlin(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=BERLIN)


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def booking(**changes) -> Invite:
    """Alice's consultation on Tuesday, 2026-06-16, 10:00–10:45 in Berlin
    (summer time: 08:00–08:45Z), as first booked."""
    fields = {
        "uid": "termin-B-2026-000017@portal.example.org",
        "sequence": 0,
        "method": "REQUEST",
        "starts": berlin(2026, 6, 16, 10, 0),
        "ends": berlin(2026, 6, 16, 10, 45),
        "summary": "Beratung zur Nutzungsgebühr",
        "description": "Bitte bringen Sie Ihren Nutzungsvertrag mit.",
        "location": "Geschäftsstelle, Genossenschaftsweg 1, 10115 Berlin",
        "organizer_email": "service@wg-beispiel.example",
        "organizer_name": "Wohnungsgenossenschaft Beispiel eG",
        "attendee_email": "alice@example.org",
        "attendee_name": "Alice Adler",
        "stamp": utc(2026, 6, 1, 9, 30, 5),
        "url": "https://portal.example.org/termine/B-2026-000017/",
    }
    return Invite(**{**fields, **changes})


def parsed(ics: bytes) -> tuple[Calendar, Event]:
    """The calendar as a calendar program reads it, checked for what RFC
    5545 requires, and its one event."""
    calendar = Calendar.from_ical(ics)
    assert_valid(calendar)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def assert_valid(calendar: Calendar) -> None:
    """RFC 5545's rules a reader relies on: the calendar's required
    properties (icalendar 7's Calendar.validate()), every event's required
    ones (UID, DTSTAMP), and no property that may occur once occurring twice."""
    calendar.validate()
    for name in Calendar.required:
        assert name in calendar, name
    events = calendar.walk("VEVENT")
    assert events, "no VEVENT"
    for event in events:
        for name in Event.required:
            assert name in event, name
        for name in Event.singletons:
            assert not isinstance(event.get(name), list), f"{name} more than once"
        assert not ("DTEND" in event and "DURATION" in event)


def lines(ics: bytes) -> list[bytes]:
    """The physical lines of the file, as written (still folded)."""
    assert ics.endswith(b"\r\n")
    return ics[:-2].split(b"\r\n")


# The file


def test_it_writes_a_calendar_of_one_event_with_its_method():
    calendar, _ = parsed(invite_ics(booking()))
    assert str(calendar["PRODID"]) == PRODID == "-//genoportal//Termine//DE"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert calendar.walk("VTIMEZONE") == []  # times in UTC: no zone to define


def test_it_writes_every_property_of_a_booked_appointment():
    _, event = parsed(invite_ics(booking()))
    assert str(event["UID"]) == "termin-B-2026-000017@portal.example.org"
    assert event.decoded("SEQUENCE") == 0
    assert event.decoded("DTSTAMP") == utc(2026, 6, 1, 9, 30, 5)
    assert event.decoded("DTSTART") == utc(2026, 6, 16, 8, 0)
    assert event.decoded("DTEND") == utc(2026, 6, 16, 8, 45)
    assert str(event["SUMMARY"]) == "Beratung zur Nutzungsgebühr"
    assert str(event["DESCRIPTION"]) == "Bitte bringen Sie Ihren Nutzungsvertrag mit."
    assert str(event["LOCATION"]) == "Geschäftsstelle, Genossenschaftsweg 1, 10115 Berlin"
    assert str(event["URL"]) == "https://portal.example.org/termine/B-2026-000017/"
    assert str(event["STATUS"]) == "CONFIRMED"

    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:service@wg-beispiel.example"
    assert organizer.params["CN"] == "Wohnungsgenossenschaft Beispiel eG"

    attendee = event["ATTENDEE"]
    assert not isinstance(attendee, list), "one attendee: the member"
    assert str(attendee) == "mailto:alice@example.org"
    assert attendee.params["CN"] == "Alice Adler"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    # She booked it herself: accepted, and nothing to answer.
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert attendee.params["RSVP"] == "FALSE"


def test_its_times_are_written_in_utc():
    ics = invite_ics(booking())
    written = {line.split(b":")[0]: line for line in lines(ics)}
    assert written[b"DTSTART"] == b"DTSTART:20260616T080000Z"
    assert written[b"DTEND"] == b"DTEND:20260616T084500Z"
    assert written[b"DTSTAMP"] == b"DTSTAMP:20260601T093005Z"
    assert b"TZID" not in ics


@pytest.mark.parametrize(
    ("starts", "ends", "utc_starts", "utc_ends"),
    [
        # the day summer time begins (02:00 → 03:00): after it, UTC+2
        (berlin(2026, 3, 29, 10, 0), berlin(2026, 3, 29, 11, 0), "20260329T080000Z", "20260329T090000Z"),
        # the day summer time ends (03:00 → 02:00): after it, UTC+1
        (berlin(2026, 10, 25, 10, 0), berlin(2026, 10, 25, 11, 0), "20261025T090000Z", "20261025T100000Z"),
        # the day before each, for contrast
        (berlin(2026, 3, 28, 10, 0), berlin(2026, 3, 28, 11, 0), "20260328T090000Z", "20260328T100000Z"),
        (berlin(2026, 10, 24, 10, 0), berlin(2026, 10, 24, 11, 0), "20261024T080000Z", "20261024T090000Z"),
        # across the switch itself: 01:30 to 03:30 on the clock is one hour
        (berlin(2026, 3, 29, 1, 30), berlin(2026, 3, 29, 3, 30), "20260329T003000Z", "20260329T013000Z"),
        # given in another zone than Berlin: the same moment
        (utc(2026, 3, 29, 8, 0), utc(2026, 3, 29, 9, 0), "20260329T080000Z", "20260329T090000Z"),
    ],
)  # fmt: skip
def test_its_times_are_the_moments_given_also_on_the_days_the_clocks_change(
    starts, ends, utc_starts, utc_ends
):
    ics = invite_ics(booking(starts=starts, ends=ends))
    _, event = parsed(ics)
    assert event.decoded("DTSTART") == starts
    assert event.decoded("DTEND") == ends
    assert event.decoded("DTSTART").tzinfo is not None
    assert event.decoded("DTSTART").utcoffset() == datetime.timedelta(0)
    assert f"DTSTART:{utc_starts}".encode() in lines(ics)
    assert f"DTEND:{utc_ends}".encode() in lines(ics)


def test_the_winter_time_start_after_the_change_is_an_hour_later_in_utc():
    """The same 10:00 on the clock is 08:00Z in summer and 09:00Z in winter."""
    _, summer = parsed(
        invite_ics(booking(starts=berlin(2026, 3, 29, 10), ends=berlin(2026, 3, 29, 11)))
    )
    _, winter = parsed(
        invite_ics(booking(starts=berlin(2026, 10, 25, 10), ends=berlin(2026, 10, 25, 11)))
    )
    assert summer.decoded("DTSTART").time() == datetime.time(8, 0)
    assert winter.decoded("DTSTART").time() == datetime.time(9, 0)


TRICKY = [
    "Größe, Äpfel; Übergabe: ß — „Schlüssel“ & <Schloss>",
    "Erste Zeile\nzweite Zeile\n\nnach einer Leerzeile",
    "Komma, Semikolon; Doppelpunkt: Backslash \\ und \\n (kein Umbruch)",
    "Anführungszeichen \"doppelt\" und 'einfach', Tab\tdazwischen",
    "Emoji 🏠 und Zeichen jenseits von Latin-1: Łódź, Ærø, Ωμέγα",
]


@pytest.mark.parametrize("text", TRICKY)
def test_special_characters_come_back_exactly(text):
    ics = invite_ics(booking(summary=text, description=text, location=text))
    _, event = parsed(ics)
    assert str(event["SUMMARY"]) == text
    assert str(event["DESCRIPTION"]) == text
    assert str(event["LOCATION"]) == text


def test_a_long_description_is_folded_and_comes_back_exactly():
    # Umlauts and an emoji, so that folding must not split a character's bytes.
    paragraph = "Bitte bringen Sie mit: Nutzungsvertrag, Übergabeprotokoll; Schlüssel 🔑. "
    description = "\n".join(paragraph * 6 for _ in range(8))
    ics = invite_ics(booking(description=description))
    physical = lines(ics)
    assert max(len(line) for line in physical) <= 75
    assert sum(line.startswith(b" ") for line in physical) > 40  # it was folded
    for line in physical:
        line.decode("utf-8")  # no line ends inside a character
    _, event = parsed(ics)
    assert str(event["DESCRIPTION"]) == description


def test_names_with_commas_and_umlauts_come_back_exactly():
    ics = invite_ics(
        booking(
            organizer_name="Wohnungsgenossenschaft „Nord“ eG, Geschäftsstelle",
            attendee_name="Müller-Lüdenscheidt, Jörg; Dr.",
        )
    )
    _, event = parsed(ics)
    assert event["ORGANIZER"].params["CN"] == "Wohnungsgenossenschaft „Nord“ eG, Geschäftsstelle"
    assert event["ATTENDEE"].params["CN"] == "Müller-Lüdenscheidt, Jörg; Dr."


def test_a_name_stays_on_one_line():
    _, event = parsed(invite_ics(booking(attendee_name="Alice\r\n  Adler\t")))
    assert event["ATTENDEE"].params["CN"] == "Alice Adler"


def test_without_a_url_there_is_no_url():
    _, event = parsed(invite_ics(booking(url="")))
    assert "URL" not in event


# The versions of one booking


def test_a_booking_changed_and_cancelled_is_one_event_with_growing_sequence():
    booked = invite_ics(booking())
    moved = invite_ics(
        booking(
            sequence=1,
            starts=berlin(2026, 6, 18, 14, 0),
            ends=berlin(2026, 6, 18, 14, 45),
            stamp=utc(2026, 6, 2, 7, 0),
        )
    )
    cancelled = invite_ics(
        booking(
            sequence=2,
            method="CANCEL",
            starts=berlin(2026, 6, 18, 14, 0),
            ends=berlin(2026, 6, 18, 14, 45),
            stamp=utc(2026, 6, 3, 7, 0),
        )
    )
    versions = [parsed(ics) for ics in (booked, moved, cancelled)]
    assert len({str(event["UID"]) for _, event in versions}) == 1
    sequences = [event.decoded("SEQUENCE") for _, event in versions]
    assert sequences == [0, 1, 2]
    assert [str(calendar["METHOD"]) for calendar, _ in versions] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [str(event["STATUS"]) for _, event in versions] == [
        "CONFIRMED",
        "CONFIRMED",
        "CANCELLED",
    ]
    assert versions[1][1].decoded("DTSTART") == utc(2026, 6, 18, 12, 0)
    # The cancellation still names the event's time and its attendee (RFC 5546).
    _, gone = versions[2]
    assert gone.decoded("DTSTART") == utc(2026, 6, 18, 12, 0)
    assert str(gone["ATTENDEE"]) == "mailto:alice@example.org"
    assert gone.decoded("DTSTAMP") == utc(2026, 6, 3, 7, 0)


def test_the_same_booking_makes_the_same_file():
    assert invite_ics(booking()) == invite_ics(booking())


# What is refused


@pytest.mark.parametrize(
    "changes",
    [
        {"method": "PUBLISH"},
        {"method": "request"},
        {"method": ""},
        {"sequence": -1},
        {"sequence": True},
        {"sequence": "1"},
        {"ends": berlin(2026, 6, 16, 10, 0)},  # ends == starts
        {"ends": berlin(2026, 6, 16, 9, 0)},  # ends before starts
        {"ends": berlin(2026, 6, 16, 10, 0, 0, 500000)},  # the same second
        {"starts": datetime.datetime(2026, 6, 16, 10, 0)},  # naive
        {"ends": datetime.datetime(2026, 6, 16, 10, 45)},  # naive
        {"stamp": datetime.datetime(2026, 6, 1, 9, 30)},  # naive
        {"starts": datetime.date(2026, 6, 16)},  # a day, not a moment
        {"uid": ""},
        {"uid": "  "},
        {"attendee_email": ""},
        {"attendee_email": "alice"},
        {"attendee_email": "alice@example.org\r\nATTENDEE:mailto:eve@example.org"},
        {"organizer_email": "service @wg-beispiel.example"},
        {"url": "https://portal.example.org/\r\nX-EVIL:1"},
    ],
)
def test_it_refuses_what_would_make_an_invalid_invite(changes):
    with pytest.raises(ValueError):
        booking(**changes)


def test_the_invite_cannot_be_changed_after_it_was_checked():
    invite = booking()
    with pytest.raises(AttributeError):
        invite.method = "PUBLISH"  # type: ignore[misc]


# Through the outbox and a real SMTP server


class Sink:
    """An SMTP server's end: the bytes of every message exactly as received."""

    def __init__(self):
        self.received: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def sink(settings):
    settings.MAIL_REPLY_TO = "service@wg-beispiel.example"
    with smtp_server(Sink(), settings) as handler:
        yield handler


def queue_invite(cast, invite: Invite, **extra) -> OutboundEmail:
    return email_queue(
        to=cast.alice.email,
        template="accounts/email/email_changed",
        context={"user": cast.alice, "new_email": cast.alice.email},
        language="de",
        calendar=invite_ics(invite),
        calendar_method=invite.method,
        **extra,
    )


def received(sink: Sink):
    assert len(sink.received) == 1
    return BytesParser(policy=policy.default).parsebytes(sink.received[0])


def calendar_parts(message):
    """The invite as mail programs find it: the text/calendar alternative
    (inline) and the attached file."""
    alternatives = [
        part
        for part in message.walk()
        if part.get_content_type() == "text/calendar" and not part.is_attachment()
    ]
    attachments = list(message.iter_attachments())
    return alternatives, attachments


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("method", "sequence", "status"), [("REQUEST", 0, "CONFIRMED"), ("CANCEL", 3, "CANCELLED")]
)
def test_the_invite_arrives_as_an_invite_and_as_termin_ics(cast, sink, method, sequence, status):
    invite = booking(method=method, sequence=sequence, attendee_email=cast.alice.email)
    ics = invite_ics(invite)
    email = queue_invite(cast, invite, thread="A-2026-000042")
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert email.calendar == ics.decode()
    assert email.calendar_method == method

    message = received(sink)
    # The headers every message of the outbox has are still there.
    assert message["Message-ID"] == email.message_id()
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] == "service@wg-beispiel.example"
    assert message["To"] == cast.alice.email
    assert message["Subject"] == email.subject

    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "text/calendar",
    ]
    # (as on the wire, with CRLF line ends)
    plain = message.get_body(("plain",)).get_content()
    assert plain.strip().splitlines() == email.body.strip().splitlines()
    assert "<p>" in message.get_body(("html",)).get_content()

    (inline,), (attached,) = calendar_parts(message)
    for part in (inline, attached):
        assert part.get_param("method") == method
        assert part.get_content_charset() == "utf-8"
        calendar, event = parsed(part.get_payload(decode=True))
        assert str(calendar["METHOD"]) == part.get_param("method")
        assert str(event["STATUS"]) == status
        assert event.decoded("SEQUENCE") == sequence
        assert str(event["UID"]) == invite.uid
        # The very file that was queued, line for line.
        assert part.get_payload(decode=True).splitlines() == ics.splitlines()
        assert part.get_content().splitlines() == ics.decode().splitlines()
    assert inline.get_content_disposition() is None
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_filename() == "termin.ics"
    assert attached.get_content_type() == "text/calendar"


@pytest.mark.django_db(transaction=True)
def test_the_invites_header_reads_as_calendar_programs_expect(cast, sink):
    queue_invite(cast, booking(attendee_email=cast.alice.email))
    raw = sink.received[0]
    assert raw.count(b'Content-Type: text/calendar; method=REQUEST; charset="utf-8"') == 2
    assert b'Content-Disposition: attachment; filename="termin.ics"' in raw


@pytest.mark.django_db(transaction=True)
def test_a_changed_booking_threads_with_the_first_invite(cast, sink):
    """A new version of the invite is another e-mail about the same booking:
    it answers the first one, like every message of a request."""
    first = queue_invite(cast, booking(), thread="T-2026-000001")
    second = queue_invite(cast, booking(sequence=1), thread="T-2026-000001")
    assert len(sink.received) == 2
    parser = BytesParser(policy=policy.default)
    one, two = (parser.parsebytes(raw) for raw in sink.received)
    assert one["In-Reply-To"] is None
    assert two["In-Reply-To"] == first.message_id()
    assert two["Message-ID"] == second.message_id()
    assert [p.get_param("method") for p in calendar_parts(two)[0]] == ["REQUEST"]


@pytest.mark.django_db(transaction=True)
def test_an_email_without_an_invite_is_as_before(cast, sink):
    email = email_queue(
        to=cast.alice.email,
        template="accounts/email/email_changed",
        context={"user": cast.alice, "new_email": cast.alice.email},
        language="de",
    )
    email.refresh_from_db()
    assert (email.calendar, email.calendar_method) == ("", "")
    message = received(sink)
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]
    assert b"text/calendar" not in sink.received[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("calendar", "method"),
    [
        ("request-ics", "CANCEL"),  # the file says REQUEST
        ("request-ics", ""),  # a file without its method
        (b"", "REQUEST"),  # a method without a file
        ("request-ics", "REQUEST; charset=latin-1"),  # not a method: would go into a header
        ("request-ics", "request"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "REQUEST"),  # no METHOD
        (b"\xff\xfe not UTF-8", "REQUEST"),
    ],
)
def test_the_outbox_refuses_an_invite_that_disagrees_with_its_method(cast, sink, calendar, method):
    if calendar == "request-ics":
        calendar = invite_ics(booking())
    with pytest.raises(ValueError), transaction.atomic():
        email_queue(
            to=cast.alice.email,
            template="accounts/email/email_changed",
            context={"user": cast.alice, "new_email": cast.alice.email},
            language="de",
            calendar=calendar,
            calendar_method=method,
        )
    assert OutboundEmail.objects.count() == 0
    assert sink.received == []


@pytest.mark.django_db(transaction=True)
def test_the_outbox_takes_the_invite_as_text_too(cast, sink):
    ics = invite_ics(booking(method="CANCEL", sequence=1))
    email = email_queue(
        to=cast.alice.email,
        template="accounts/email/email_changed",
        context={"user": cast.alice, "new_email": cast.alice.email},
        language="de",
        calendar=ics.decode(),
        calendar_method="CANCEL",
    )
    assert email.calendar == ics.decode()
    (inline,), _ = calendar_parts(received(sink))
    assert inline.get_param("method") == "CANCEL"
