"""Retention: what the portal holds about former members is anonymised
once the period has passed (manage.py privacy_retention, idempotent).

What goes (DSGVO Art. 5(1)(e), 17): of each request of a member whose
membership has ended, closed more than PRIVACY_RETENTION_YEARS ago, the
link to the member, every text (answers typed, messages, notes, the
rating's comment, the withdrawal reason), the contact fields, the files
(rows and stored files), the e-mails in and out about it, the member's
"seen" marks; of their appointments and room bookings ended that long ago,
the notes, the place of a home visit, the occasion, the decline reason
and the link to a request; of a member who left more than that long ago,
the login account (address, names, password, second step, drafts).

What stays: the row of each request with its type, channel, dates, team,
flat, status history, choices made in the form (options of the form, no
free text) and rating, so the overview keeps counting it by type, date,
team and estate; appointments and bookings with their times and price
(the bookings are part of the accounts); and the member's entry itself,
untouched: the members' list must keep name, address, shares, the date of
joining and the date and reason of leaving (GenG § 30), and that entry is
the ERP's, imported here.

Whole texts are removed rather than names replaced in them: a message
identifies its writer by much more than a name (the flat, the family, the
damage described). The one structured place that names the member, the
member number in an "assigned to a member" event, is replaced.

Running it again changes nothing: every step selects only rows that still
hold something to remove (an anonymised request has no member any more)."""

import datetime
import logging
from dataclasses import asdict, dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from appointments.models import Appointment
from mail.models import InboundEmail, OutboundEmail
from privacy.models import DataExport
from rooms.models import RoomBooking
from tickets.models import (
    FINISHED,
    Attachment,
    FieldKind,
    Ticket,
    TicketDraft,
    TicketEvent,
    TicketVisit,
)

logger = logging.getLogger(__name__)

BATCH = 500
# Answers kept: options of the form, never typed by the member.
KEPT_KINDS = {FieldKind.CHOICE, FieldKind.MULTICHOICE, FieldKind.YESNO, FieldKind.ROOM}
# E-mails being delivered are left alone until they are done.
MAIL_IN_FLIGHT = (OutboundEmail.Status.QUEUED, OutboundEmail.Status.SENDING)


@dataclass
class RetentionReport:
    requests: int = 0
    messages: int = 0
    attachments: int = 0
    emails_in: int = 0
    emails_out: int = 0
    appointments: int = 0
    room_bookings: int = 0
    accounts: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def cutoff_of(now: datetime.datetime, years: int) -> datetime.datetime:
    return now - relativedelta(years=years)


def requests_due(*, now: datetime.datetime, years: int):
    """Requests of former members, finished more than `years` ago (closed,
    else resolved, else withdrawn: its last change)."""
    today = timezone.localdate(now)
    return (
        Ticket.objects.filter(member__left_on__lt=today, status__in=FINISHED)
        .annotate(finished_at=Coalesce("closed_at", "resolved_at", "updated_at"))
        .filter(finished_at__lt=cutoff_of(now, years))
    )


def _kept_answers(ticket: Ticket) -> dict:
    kinds = {d["key"]: d["kind"] for d in ticket.fields_snapshot}
    return {key: value for key, value in ticket.answers.items() if kinds.get(key) in KEPT_KINDS}


def _requests_anonymise(
    ids: list[int], *, now, report: RetentionReport, files: list[tuple[Storage, str]]
) -> None:
    tickets = list(
        Ticket.objects.select_for_update()
        .filter(pk__in=ids, member__isnull=False)
        .only("pk", "reference", "answers", "fields_snapshot")
    )
    ids = [ticket.pk for ticket in tickets]
    references = [ticket.reference for ticket in tickets]
    attachments = Attachment.objects.filter(ticket__in=ids)
    storage = Attachment._meta.get_field("file").storage
    files.extend((storage, name) for name in attachments.values_list("file", flat=True) if name)
    report.attachments += attachments.delete()[1].get(Attachment._meta.label, 0)
    events = TicketEvent.objects.filter(ticket__in=ids)
    report.messages += events.exclude(body="").update(body="")
    events.filter(kind=TicketEvent.Kind.MEMBER).update(data={"member": ""})
    report.emails_in += (
        InboundEmail.objects.filter(
            Q(pk__in=events.filter(email__isnull=False).values("email_id"))
            | Q(ticket_reference__in=references)
        )
        .exclude(raw=b"", sender="", subject="")
        .update(raw=b"", sender="", subject="", notes=[], updated_at=now)
    )
    report.emails_out += _outbound_blank(OutboundEmail.objects.filter(thread__in=references), now)
    TicketVisit.objects.filter(ticket__in=ids).delete()
    Appointment.objects.filter(ticket__in=ids).update(ticket=None, updated_at=now)
    for ticket in tickets:
        ticket.answers = _kept_answers(ticket)
    Ticket.objects.bulk_update(tickets, ["answers"])
    report.requests += Ticket.objects.filter(pk__in=ids).update(
        member=None,
        contact_name="",
        contact_phone="",
        contact_email="",
        rating_comment="",
        updated_at=now,
    )


def _outbound_blank(emails, now) -> int:
    return (
        emails.exclude(status__in=MAIL_IN_FLIGHT)
        .exclude(to="", subject="", body="")
        .update(to="", subject="", body="", calendar="", last_error="", updated_at=now)
    )


def _accounts_anonymise(
    *, now, years: int, report: RetentionReport, files: list[tuple[Storage, str]]
) -> None:
    """Login accounts of members who left more than `years` ago: nobody
    logs in with them again; the rows stay (requests name who filed them)."""
    left_before = cutoff_of(now, years).date()
    export_storage = DataExport._meta.get_field("file").storage
    attachment_storage = Attachment._meta.get_field("file").storage
    users = list(
        User.objects.select_for_update()
        .filter(member__left_on__lt=left_before)
        .only("pk", "email", "member_id")
    )
    for user in users:
        report.emails_out += _outbound_blank(
            OutboundEmail.objects.filter(to__iexact=user.email), now
        )
        exports = DataExport.objects.filter(member_id=user.member_id).exclude(file="")
        files.extend((export_storage, name) for name in exports.values_list("file", flat=True))
        exports.update(status=DataExport.Status.EXPIRED, file="", updated_at=now)
        drafts = TicketDraft.objects.filter(user=user)
        names = Attachment.objects.filter(draft__in=drafts).values_list("file", flat=True)
        files.extend((attachment_storage, name) for name in names)
        drafts.delete()  # their attachment rows with them
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).update(
            email=f"anonymisiert-{user.pk}@anonymisiert.invalid",
            first_name="",
            last_name="",
            member=None,
            is_active=False,
            notices_by_email=False,
            password=make_password(None),
        )
        report.accounts += 1


def _files_delete(files: list[tuple[Storage, str]]) -> None:
    for storage, name in files:
        if name:
            storage.delete(name)


def privacy_retention(
    *, now: datetime.datetime | None = None, years: int | None = None, dry_run: bool = False
) -> RetentionReport:
    """Anonymise what is due (see the module's docstring) and return how
    many rows of each kind changed. With `dry_run` everything is done in a
    transaction that is rolled back: the counts are exact, nothing changes
    and no file is deleted. Logs the counts, never whose data it was."""
    now = now or timezone.now()
    years = settings.PRIVACY_RETENTION_YEARS if years is None else years
    report = RetentionReport()
    files: list[tuple[Storage, str]] = []
    cutoff = cutoff_of(now, years)
    today = timezone.localdate(now)
    with transaction.atomic():
        due = list(requests_due(now=now, years=years).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(due), BATCH):
            with transaction.atomic():
                _requests_anonymise(due[start : start + BATCH], now=now, report=report, files=files)
        report.appointments = (
            Appointment.objects.filter(
                member__left_on__lt=today, kind=Appointment.Kind.APPOINTMENT, ends_at__lt=cutoff
            )
            .exclude(note="", location="", ticket__isnull=True)
            .update(note="", location="", ticket=None, updated_at=now)
        )
        report.room_bookings = (
            RoomBooking.objects.filter(member__left_on__lt=today, ends_at__lt=cutoff)
            .exclude(purpose="", note="", decline_reason="")
            .update(purpose="", note="", decline_reason="", updated_at=now)
        )
        _accounts_anonymise(now=now, years=years, report=report, files=files)
        if dry_run:
            transaction.set_rollback(True)
        else:
            transaction.on_commit(lambda: _files_delete(files))
    logger.info("privacy retention%s", " (dry run)" if dry_run else "", extra=report.as_dict())
    return report
