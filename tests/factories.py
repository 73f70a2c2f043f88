"""Test data for requests: the one ticket factory, the answers and files a
member sends; appointments as they stand in the database. A helper module, not a test module: test modules import from
here, never from each other."""

import datetime
import io
from email.message import EmailMessage
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User
from appointments.models import Appointment
from cooperative.models import Cooperative
from members.models import Member
from members.shares import cancellation_effective_on
from tickets.models import Channel, FieldKind, RequestField, RequestType, Ticket
from tickets.services import ticket_open

# A dripping tap: the answers of a repair report as stored on the ticket (the
# demo's "schadensmeldung" and the `repair` fixture have the same fields).
TAP = {
    "room": "bathroom",
    "what": "Der Wasserhahn tropft.",
    "urgency": "normal",
    "master_key": "yes",
}

# The same repair report as a member fills in the form, with the optional date.
GOOD = {
    "room": "bathroom",
    "what": "Der Wasserhahn tropft.",
    "since": "2026-11-20",
    "urgency": "normal",
    "master_key": "yes",
}

# One value a form accepts for each simple kind of field.
SAMPLE = {
    FieldKind.TEXT: "Beispiel",
    FieldKind.TEXTAREA: "Ein längerer Text\nmit zwei Zeilen.",
    # A month ahead: a "valid from" must not lie in the past (no_past_dates).
    FieldKind.DATE: (datetime.date.today() + datetime.timedelta(days=30)).isoformat(),
    FieldKind.YESNO: "yes",
    FieldKind.ROOM: "kitchen",
    FieldKind.IBAN: "DE02 1203 0000 0000 2020 51",
}


def photo(name="kaputt.jpg", exif=True) -> SimpleUploadedFile:
    """A small JPEG as a browser uploads it, by default with camera data in
    its EXIF block (which the portal must strip)."""
    buffer = io.BytesIO()
    image = Image.new("RGB", (64, 48), "red")
    if exif:
        data = image.getexif()
        data[0x010F] = "SecretCam"  # Make
        image.save(buffer, "JPEG", exif=data)
    else:
        image.save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def field_answer(field: RequestField, language: str):
    """A valid form value for the field, as typed in that language (a number
    has a decimal comma in German; a file field gets a small PNG)."""
    if field.kind in (FieldKind.CHOICE,):
        return field.choice_list()[0]["value"]
    if field.kind == FieldKind.MULTICHOICE:
        return [field.choice_list()[0]["value"]]
    if field.kind == FieldKind.NUMBER:
        number = str(field.min_value if field.min_value is not None else 1)
        return number.replace(".", ",") if language == "de" else number
    if field.kind in (FieldKind.SHARES_SUBSCRIBE, FieldKind.SHARES_CANCEL):
        return "1"  # alice holds 3 voluntary shares
    if field.kind == FieldKind.YEAR_END:
        cooperative = Cooperative.objects.current()
        return cancellation_effective_on(
            datetime.date.today(),
            notice_months=cooperative.share_notice_months,
            end_month=cooperative.business_year_end_month,
        ).isoformat()
    if field.kind == FieldKind.FILE:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
        return SimpleUploadedFile("bild.png", buffer.getvalue(), content_type="image/png")
    return SAMPLE[field.kind]


def form_answers(request_type: RequestType) -> dict:
    """An answer to every field of the form but its files."""
    return {
        field.key: field_answer(field, "en")
        for field in request_type.fields.all()
        if field.kind != FieldKind.FILE
    }


def answers_default(request_type: RequestType) -> dict:
    """A repair report's form gets the dripping tap, any other form an answer
    to each of its fields but files (none for a form without fields)."""
    keys = {field.key for field in request_type.fields.all()}
    if set(TAP) <= keys:
        return dict(TAP)
    return form_answers(request_type)


def ticket_create(
    *,
    request_type: RequestType | None = None,
    member: Member | None = None,
    answers: dict | None = None,
    channel: str = Channel.PORTAL,
    created_by: User | None = None,
    **changes,
) -> Ticket:
    """A request opened through the real service (routing, events, e-mails),
    then `changes` (status, assignee, team, created_at, due_at ...) written
    with one UPDATE, as a story needs them; returns the ticket as stored.

    Defaults: the demo's repair report, filed by alice for her household,
    with answers_default(); created by the member's own account on the
    portal, by the handler hanna on any other channel (or for a member
    without an account)."""
    if request_type is None:
        request_type = RequestType.objects.get(slug="schadensmeldung")
    if member is None:
        member = Member.objects.get(user__email="alice@example.org")
    if answers is None:
        answers = answers_default(request_type)
    if created_by is None:
        account = getattr(member, "user", None)
        if channel == Channel.PORTAL and account is not None:
            created_by = account
        else:
            created_by = User.objects.get(email="hanna@example.org")
    ticket = ticket_open(
        request_type=request_type,
        member=member,
        answers=answers,
        channel=channel,
        created_by=created_by,
    )
    if changes:
        Ticket.objects.filter(pk=ticket.pk).update(**changes)
    ticket.refresh_from_db()
    return ticket


def mail(
    *,
    sender="alice@example.org",
    subject="Heizung im Bad",
    body="Guten Tag,\n\nim Bad wird die Heizung nicht warm.\n\nGrüße\nAlice Ahrens",
    message_id="<m1@mail.example.org>",
    attachments=(),
    **headers,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "service@genossenschaft.example"
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    for name, data, kind in attachments:
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def jpeg() -> bytes:
    out = BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "JPEG")
    return out.getvalue()


def appointment_put(advisor, starts, minutes, status="booked", *, block=False, member=None,
                    topic=None):  # fmt: skip
    """An appointment (or, with `block`, blocked time) as it stands in the
    database, past ones included: the services book and block only from
    now on, and the overview's figures are mostly about the past."""
    ends = starts + datetime.timedelta(minutes=minutes)
    return Appointment.objects.create(
        kind=Appointment.Kind.BLOCK if block else Appointment.Kind.APPOINTMENT,
        advisor=advisor,
        member=None if block else member,
        appointment_type=None if block else topic,
        starts_at=starts, ends_at=ends, busy_from=starts, busy_until=ends, status=status,
    )  # fmt: skip
