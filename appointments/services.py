"""Booking, changing and cancelling appointments (issue 13).

Never double-booked, in three layers: the slot is checked against the
advisor's availability and bookings under a lock on the advisor's row
(which also keeps the daily maximum under parallel requests), and the
database refuses an overlap of buffered times in any case (migration
0002), which turns into SlotTaken with the nearest free times. A second
submit of the same confirmation (request_key) gives the same booking.
"Any advisor" tries the advisors in fair turns and takes the next one
when the first is taken meanwhile.

Every change the member is told of raises the booking's SEQUENCE, sends
an iCalendar invite with the same UID (REQUEST, or CANCEL when cancelled),
gives a new link token (the old link dies) and re-plans the reminder."""

import datetime
import secrets
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from accounts.models import User
from appointments import selectors
from appointments.invites import Invite, invite_ics
from appointments.models import (
    Advisor,
    Appointment,
    AppointmentType,
    LocationKind,
    token_hash,
)
from appointments.slots import Slot, nearest
from cooperative.cache import cooperative_current
from core.links import absolute_url
from mail.services import email_queue
from members.models import Contract, Member
from tickets.models import Ticket

NOTE_MAX = 1000


class BookingError(Exception):
    """A booking that cannot be made; the message is safe to show."""


class SlotTaken(BookingError):
    """The time was free when shown and is taken now."""

    def __init__(self, message: str, *, nearest: list[Slot]):
        super().__init__(message)
        self.nearest = nearest


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    link_token: str  # the secret of the e-mail's link (only its hash is kept)


def _local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment)


def _time_check(
    appointment_type: AppointmentType, starts_at: datetime.datetime, now, *, by_staff: bool
) -> None:
    """Refuse times a member may not book, each with its own reason. Staff
    (a caller on the phone) may book inside the notice period: they know
    the advisor's day."""
    if starts_at.tzinfo is None:
        raise BookingError(_("This time is not valid."))
    if starts_at <= now:
        raise BookingError(_("This time has already passed. Please choose another one."))
    notice = datetime.timedelta(hours=appointment_type.min_notice_hours)
    if not by_staff and starts_at < now + notice:
        raise BookingError(
            _("Appointments of this kind can be booked at least %(hours)s hours ahead.")
            % {"hours": appointment_type.min_notice_hours}
        )
    last = timezone.localdate(now) + datetime.timedelta(days=appointment_type.horizon_days)
    if timezone.localdate(starts_at) > last:
        raise BookingError(
            _("Appointments of this kind can be booked at most %(days)s days ahead.")
            % {"days": appointment_type.horizon_days}
        )


def _offered(appointment_type, advisors, starts_at, now, *, by_staff, exclude=None) -> bool:
    """Whether the time is one of the slots on offer at all (bookings
    aside): to tell "not offered" from "just taken"."""
    day = timezone.localdate(starts_at)
    slots = selectors.slots_free(
        appointment_type=appointment_type,
        advisors=advisors,
        first_day=day,
        last_day=day,
        now=now,
        exclude=exclude,
        ignore_busy=True,
        notice=not by_staff,
    )
    return any(slot.starts == starts_at for slot in slots)


def _free_for(advisor, appointment_type, starts_at, now, *, by_staff, exclude=None) -> bool:
    day = timezone.localdate(starts_at)
    slots = selectors.slots_free(
        appointment_type=appointment_type,
        advisors=[advisor],
        first_day=day,
        last_day=day,
        now=now,
        exclude=exclude,
        notice=not by_staff,
    )
    return any(slot.starts == starts_at for slot in slots)


def _free_at(appointment_type, advisors, starts_at, now, *, by_staff) -> set[int]:
    """The ids of the advisors free at `starts_at` (one read for all)."""
    day = timezone.localdate(starts_at)
    slots = selectors.slots_free(
        appointment_type=appointment_type,
        advisors=advisors,
        first_day=day,
        last_day=day,
        now=now,
        notice=not by_staff,
    )
    return {slot.advisor_id for slot in slots if slot.starts == starts_at}


def _nearest(appointment_type, advisors, starts_at, now, *, by_staff, exclude=None) -> list[Slot]:
    day = timezone.localdate(starts_at)
    slots = selectors.slots_free(
        appointment_type=appointment_type,
        advisors=advisors,
        first_day=max(day - datetime.timedelta(days=3), timezone.localdate(now)),
        last_day=day + datetime.timedelta(days=7),
        now=now,
        exclude=exclude,
        notice=not by_staff,
    )
    # One per time: with several advisors free at once, "any advisor"
    # offers the time once.
    distinct = list({slot.starts: slot for slot in reversed(slots)}.values())
    return nearest(distinct, around=starts_at, count=5)


def _location(appointment_type: AppointmentType, advisor: Advisor, member: Member | None) -> str:
    kind = appointment_type.location_kind
    if kind == LocationKind.OFFICE:
        cooperative = cooperative_current()
        address = ", ".join(p for p in (cooperative.street, cooperative.city) if p)
        return ", ".join(p for p in (address, advisor.room) if p)
    if kind == LocationKind.VIDEO:
        return advisor.video_link
    if kind == LocationKind.HOME and member is not None:
        contract = (
            Contract.objects.filter(members=member)
            .current()
            .select_related("unit__building")
            .first()
        )
        if contract is not None:
            building = contract.unit.building
            return f"{building.street} {building.house_number}, {building.postcode} {building.city}"
    return ""


def _reminder_due(starts_at: datetime.datetime, now: datetime.datetime):
    """When the reminder goes: REMINDER_HOURS before; none when booked
    inside that window (the member has just chosen the time)."""
    due = starts_at - datetime.timedelta(hours=settings.APPOINTMENT_REMINDER_HOURS)
    return due if due > now else None


def _reminder_plan(appointment: Appointment) -> None:
    """Enqueue the reminder task for the planned moment, once committed.
    The task sends only if the booking still plans that moment (a move
    plans another, a cancel none) and has not sent it yet: a retried or
    stale task sends nothing. Backends that cannot run a task later
    (the test suite's immediate one) leave it to `appointments_remind`,
    the timer's backstop, which sends what is due anyway."""
    due = appointment.reminder_due_at
    if due is None or not appointment_remind.get_backend().supports_defer:
        return
    pk, planned = appointment.pk, due.isoformat()
    transaction.on_commit(lambda: appointment_remind.using(run_after=due).enqueue(pk, planned))


def _token(appointment: Appointment) -> str:
    token = secrets.token_urlsafe(32)  # 256 bits
    appointment.link_token_hash = token_hash(token)
    return token


def _recipient(member: Member | None) -> tuple[str, str]:
    if member is None:
        return "", settings.LANGUAGE_CODE
    user = getattr(member, "user", None)
    address = user.email if user is not None and user.is_active else member.email
    language = user.language if user is not None else member.preferred_language
    return address or "", language or settings.LANGUAGE_CODE


def organizer_email() -> str:
    """The address invites name as the organiser: the mailbox that is read."""
    return settings.MAIL_REPLY_TO or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def _invite(appointment: Appointment, *, method: str, address: str, language: str, link: str):
    advisor = appointment.advisor
    with translation.override(language):
        summary = _("Appointment: %(topic)s with %(advisor)s") % {
            "topic": appointment.appointment_type.name,
            "advisor": str(advisor),
        }
        description = "\n".join(
            part
            for part in (
                appointment.get_location_kind_display(),
                appointment.note,
                _("Change or cancel: %(link)s") % {"link": link} if link else "",
            )
            if part
        )
    cooperative = cooperative_current()
    return invite_ics(
        Invite(
            uid=appointment.ical_uid(),
            sequence=appointment.sequence,
            method=method,
            starts=appointment.starts_at,
            ends=appointment.ends_at,
            summary=summary,
            description=description,
            location=appointment.location,
            organizer_email=organizer_email(),
            organizer_name=cooperative.name,
            attendee_email=address,
            attendee_name=appointment.member.formal_name if appointment.member else "",
            stamp=timezone.now(),
            url=link,
        )
    )


def _notify(appointment: Appointment, *, template: str, token: str = "") -> None:
    """The member's e-mail with the invite (REQUEST, or CANCEL)."""
    address, language = _recipient(appointment.member)
    if not address:
        return  # a member without e-mail was booked by phone and is told so
    link = absolute_url("appointments:link", args=[token]) if token else ""
    method = "CANCEL" if appointment.status == Appointment.Status.CANCELLED else "REQUEST"
    email_queue(
        to=address,
        template=template,
        context={
            "appointment": appointment,
            "member": appointment.member,
            "starts": _local(appointment.starts_at),
            "ends": _local(appointment.ends_at),
            "link": link,
            "portal_link": absolute_url("appointments:list"),
        },
        language=language,
        calendar=_invite(appointment, method=method, address=address, language=language, link=link),
        calendar_method=method,
    )


def appointment_book(
    *,
    member: Member,
    appointment_type: AppointmentType,
    starts_at: datetime.datetime,
    booked_by: User,
    advisor: Advisor | None = None,
    note: str = "",
    ticket: Ticket | None = None,
    request_key: str = "",
    now: datetime.datetime | None = None,
) -> Booked:
    """Book the slot starting at `starts_at` with `advisor` (None: any
    advisor offering the topic, in fair turns). Raises BookingError for a
    time that may not be booked or is not offered, SlotTaken (with the
    nearest free times) when it was taken meanwhile."""
    now = now or timezone.now()
    note = note.strip()[:NOTE_MAX]
    if request_key:
        again = Appointment.objects.filter(member=member, request_key=request_key).first()
        if again is not None:
            return Booked(again, link_token="")
    if not appointment_type.active:
        raise BookingError(_("This kind of appointment cannot be booked at the moment."))
    if (
        ticket is not None
        and not Ticket.objects.visible_to_member(member).filter(pk=ticket.pk).exists()
    ):
        raise BookingError(_("This request cannot be linked to the appointment."))
    by_staff = booked_by.is_staff
    _time_check(appointment_type, starts_at, now, by_staff=by_staff)
    if not by_staff:
        # One member cannot book out an advisor's weeks (by mistake, or to
        # keep others out); staff booking for a caller decide themselves.
        upcoming = Appointment.objects.upcoming(now=now).filter(member=member).count()
        if upcoming >= settings.APPOINTMENTS_MAX_UPCOMING:
            raise BookingError(
                _(
                    "You already have %(count)s appointments coming up. Please cancel one "
                    "you no longer need, or call us."
                )
                % {"count": upcoming}
            )
    if advisor is not None:
        if not Advisor.objects.bookable().filter(pk=advisor.pk, types=appointment_type).exists():
            raise BookingError(_("This advisor does not offer this kind of appointment."))
        candidates = [advisor]
    else:
        candidates = selectors.advisors_for(appointment_type)
    if not candidates or not _offered(
        appointment_type, candidates, starts_at, now, by_staff=by_staff
    ):
        raise BookingError(_("This time is not offered. Please choose one of the free times."))
    trying = candidates
    if advisor is None:
        # "Any advisor": one read tells who is free then; only they are
        # tried, in fair turns (each is checked again under its lock).
        free = _free_at(appointment_type, candidates, starts_at, now, by_staff=by_staff)
        trying = [candidate for candidate in candidates if candidate.pk in free]
    for candidate in trying:
        try:
            booked = _book_with(
                candidate,
                member=member,
                appointment_type=appointment_type,
                starts_at=starts_at,
                booked_by=booked_by,
                note=note,
                ticket=ticket,
                request_key=request_key,
                now=now,
                by_staff=by_staff,
            )
        except IntegrityError:
            # Taken between our check and our insert (the database's
            # constraint), or this very form submitted twice at once.
            if request_key:
                again = Appointment.objects.filter(member=member, request_key=request_key).first()
                if again is not None:
                    return Booked(again, link_token="")
            continue
        if booked is not None:
            return booked
    raise SlotTaken(
        _("This time was just taken. Here are the nearest free times."),
        nearest=_nearest(appointment_type, candidates, starts_at, now, by_staff=by_staff),
    )


def _book_with(candidate: Advisor, *, member, appointment_type, starts_at, booked_by, note,
               ticket, request_key, now, by_staff) -> Booked | None:  # fmt: skip
    """One advisor: None when the slot is not free with them."""
    with transaction.atomic():
        # The advisor's lock: parallel bookings with them take turns, so
        # the daily maximum and the free-slot check see each other.
        Advisor.objects.select_for_update().filter(pk=candidate.pk).values_list("pk").first()
        if request_key:
            # The same form, sent twice at once: the first has booked by now.
            again = Appointment.objects.filter(member=member, request_key=request_key).first()
            if again is not None:
                return Booked(again, link_token="")
        if not _free_for(candidate, appointment_type, starts_at, now, by_staff=by_staff):
            return None
        ends_at = starts_at + appointment_type.duration
        appointment = Appointment(
            advisor=candidate,
            appointment_type=appointment_type,
            member=member,
            booked_by=booked_by,
            starts_at=starts_at,
            ends_at=ends_at,
            busy_from=starts_at - appointment_type.buffer_before,
            busy_until=ends_at + appointment_type.buffer_after,
            location_kind=appointment_type.location_kind,
            location=_location(appointment_type, candidate, member),
            note=note,
            ticket=ticket,
            request_key=request_key,
            reminder_due_at=_reminder_due(starts_at, now),
        )
        token = _token(appointment)
        appointment.save()
        Advisor.objects.filter(pk=candidate.pk).update(last_booked_at=now)
        _reminder_plan(appointment)
        _notify(appointment, template="appointments/email/booked", token=token)
    return Booked(appointment, link_token=token)


def _locked(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("appointment_type", "advisor__user", "member")
        .get(pk=appointment.pk)
    )


def appointment_cancel(
    *, appointment: Appointment, actor: User | None, now: datetime.datetime | None = None
) -> Appointment:
    """Cancel: the time is free again at once, the link dies, the member
    gets the cancellation (CANCEL, same UID, next SEQUENCE). A member
    (actor None: the e-mail's link, or the member's own account) only
    until the type's cutoff; staff at any time."""
    now = now or timezone.now()
    by_staff = actor is not None and actor.is_staff
    with transaction.atomic():
        current = _locked(appointment)
        if current.status != Appointment.Status.BOOKED:
            raise BookingError(_("This appointment is no longer booked."))
        if not by_staff and not current.member_may_change(now):
            raise BookingError(
                _("This appointment can no longer be changed online. Please call us.")
            )
        current.status = Appointment.Status.CANCELLED
        current.cancelled_at = now
        current.cancelled_by = actor
        current.sequence += 1
        current.link_token_hash = ""
        current.reminder_due_at = None
        current.save(
            update_fields=[
                "status", "cancelled_at", "cancelled_by", "sequence", "link_token_hash",
                "reminder_due_at", "updated_at",
            ]
        )  # fmt: skip
        if current.kind == Appointment.Kind.APPOINTMENT:
            _notify(current, template="appointments/email/cancelled")
    return current


def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: datetime.datetime,
    actor: User | None,
    now: datetime.datetime | None = None,
) -> Booked:
    """Move to another free time with the same advisor. The new time is
    claimed in the same UPDATE that gives up the old one, so the booking
    is never without a time and never holds two: should the new time be
    taken (the database refuses it), the old one stays as it was."""
    now = now or timezone.now()
    by_staff = actor is not None and actor.is_staff
    with transaction.atomic():
        current = _locked(appointment)
        kind = current.appointment_type
        if current.status != Appointment.Status.BOOKED:
            raise BookingError(_("This appointment is no longer booked."))
        if not by_staff and not current.member_may_change(now):
            raise BookingError(
                _("This appointment can no longer be changed online. Please call us.")
            )
        if starts_at == current.starts_at:
            raise BookingError(_("Please choose a different time."))
        _time_check(kind, starts_at, now, by_staff=by_staff)
        if not _offered(kind, [current.advisor], starts_at, now, by_staff=by_staff,
                        exclude=current):  # fmt: skip
            raise BookingError(_("This time is not offered. Please choose one of the free times."))
        Advisor.objects.select_for_update().filter(pk=current.advisor_id).values_list("pk").first()
        if not _free_for(current.advisor, kind, starts_at, now, by_staff=by_staff,
                         exclude=current):  # fmt: skip
            raise SlotTaken(
                _("This time was just taken. Here are the nearest free times."),
                nearest=_nearest(
                    kind, [current.advisor], starts_at, now, by_staff=by_staff, exclude=current
                ),
            )
        ends_at = starts_at + kind.duration
        current.starts_at, current.ends_at = starts_at, ends_at
        current.busy_from = starts_at - kind.buffer_before
        current.busy_until = ends_at + kind.buffer_after
        current.sequence += 1
        current.reminder_due_at = _reminder_due(starts_at, now)
        current.reminder_sent_at = None
        token = _token(current)
        try:
            with transaction.atomic():
                current.save(
                    update_fields=[
                        "starts_at", "ends_at", "busy_from", "busy_until", "sequence",
                        "reminder_due_at", "reminder_sent_at", "link_token_hash", "updated_at",
                    ]
                )  # fmt: skip
        except IntegrityError:
            raise SlotTaken(
                _("This time was just taken. Here are the nearest free times."),
                nearest=_nearest(
                    kind, [current.advisor], starts_at, now, by_staff=by_staff, exclude=current
                ),
            ) from None
        _reminder_plan(current)
        _notify(current, template="appointments/email/changed", token=token)
    return Booked(current, link_token=token)


def reminder_send(*, appointment_id: int, planned: datetime.datetime | None = None) -> bool:
    """Send the reminder of one booking, at most once: the claim is a
    conditional UPDATE in the same transaction as the queued e-mail, so a
    worker that retries, or the task and the timer at once, send it once.
    `planned`: the moment the task was planned for; a booking moved or
    cancelled since plans another or none, and the stale task sends
    nothing. Returns whether it was sent now."""
    now = timezone.now()
    with transaction.atomic():
        due = Appointment.objects.filter(
            pk=appointment_id,
            status=Appointment.Status.BOOKED,
            reminder_sent_at__isnull=True,
            reminder_due_at__lte=now,
            starts_at__gt=now,
        )
        if planned is not None:
            due = due.filter(reminder_due_at=planned)
        if not due.update(reminder_sent_at=now):
            return False
        appointment = Appointment.objects.select_related(
            "appointment_type", "advisor__user", "member__user"
        ).get(pk=appointment_id)
        address, language = _recipient(appointment.member)
        if address:
            email_queue(
                to=address,
                template="appointments/email/reminder",
                context={
                    "appointment": appointment,
                    "member": appointment.member,
                    "starts": _local(appointment.starts_at),
                    "ends": _local(appointment.ends_at),
                    "portal_link": absolute_url("appointments:list"),
                },
                language=language,
            )
    return True


@task()
def appointment_remind(appointment_id: int, planned: str) -> bool:
    """The reminder task, enqueued to run at the planned moment."""
    return reminder_send(
        appointment_id=appointment_id, planned=datetime.datetime.fromisoformat(planned)
    )


def reminders_due(*, now: datetime.datetime | None = None) -> int:
    """The timer's backstop (`manage.py appointments_remind`): reminders
    that are due and not sent (their task lost, or a backend that cannot
    run tasks later). Returns how many went out."""
    now = now or timezone.now()
    ids = Appointment.objects.filter(
        status=Appointment.Status.BOOKED,
        reminder_sent_at__isnull=True,
        reminder_due_at__lte=now,
        starts_at__gt=now,
    ).values_list("pk", flat=True)
    return sum(reminder_send(appointment_id=pk) for pk in list(ids))


# Staff: blocked times, the outcome of an appointment, a request linked
# afterwards, the advisor's private calendar feed -----------------------------------------


class BlockOverlap(BookingError):
    """A blocked time would cover a booking or another blocked time."""


def _when(appointment: Appointment) -> str:
    starts, ends = _local(appointment.starts_at), _local(appointment.ends_at)
    return f"{formats.date_format(starts, 'SHORT_DATE_FORMAT')} {starts:%H:%M}–{ends:%H:%M}"


def _overlap_error(found: Appointment) -> BlockOverlap:
    if found.kind == Appointment.Kind.BLOCK:
        return BlockOverlap(
            _("This time overlaps a time that is already blocked (%(when)s).")
            % {"when": _when(found)}
        )
    return BlockOverlap(
        _(
            "This time overlaps the appointment on %(when)s (with the time kept free around "
            "it). Move or cancel that appointment first."
        )
        % {"when": _when(found)}
    )


def appointment_block(
    *,
    advisor: Advisor,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    actor: User,
    reason: str = "",
) -> Appointment:
    """Block a range of the advisor's time (a meeting, a site visit): an
    Appointment of kind BLOCK, so the database's no-overlap guarantee keeps
    bookings out of it as it keeps them from each other. A range that
    overlaps a booking (with its buffers) or another blocked time is
    refused with BlockOverlap, naming what is in the way: a booking is
    never cancelled behind the member's back. Unblocking is
    `appointment_cancel` of the block."""
    if not actor.is_staff:
        raise BookingError(_("Only staff can block times."))
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise BookingError(_("This time is not valid."))
    if ends_at <= starts_at:
        raise BookingError(_("The end must be after the start."))
    if ends_at <= timezone.now():
        raise BookingError(_("This time has already passed. Please choose another one."))
    reason = " ".join(reason.split())[:200]
    with transaction.atomic():
        # The advisor's lock, as for a booking: a booking being made at
        # this moment either sees the block or is seen by the check below.
        Advisor.objects.select_for_update().filter(pk=advisor.pk).values_list("pk").first()
        found = (
            Appointment.objects.active()
            .filter(advisor=advisor, busy_from__lt=ends_at, busy_until__gt=starts_at)
            .order_by("starts_at")
            .first()
        )
        if found is not None:
            raise _overlap_error(found)
        block = Appointment(
            kind=Appointment.Kind.BLOCK,
            advisor=advisor,
            booked_by=actor,
            starts_at=starts_at,
            ends_at=ends_at,
            busy_from=starts_at,
            busy_until=ends_at,
            note=reason,
        )
        try:
            with transaction.atomic():
                block.save()
        except IntegrityError:
            # Written by another process between the check and the insert
            # (the lock makes this rare; the database makes it safe).
            raise BlockOverlap(
                _("This time was just taken. Please look at the day again.")
            ) from None
    return block


def appointment_mark(
    *,
    appointment: Appointment,
    status: str,
    actor: User,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Record how a booked appointment went: ATTENDED or NO_SHOW. Only once
    it has started (nobody has come or stayed away before that) and only
    for a booking that stands (a cancelled one had no outcome; one marked
    already keeps its mark). The member is not told: nothing changes for
    their calendar."""
    now = now or timezone.now()
    if status not in (Appointment.Status.ATTENDED, Appointment.Status.NO_SHOW):
        raise BookingError(_("This is not an outcome of an appointment."))
    if not actor.is_staff:
        raise BookingError(_("Only staff can record how an appointment went."))
    with transaction.atomic():
        current = _locked(appointment)
        if current.kind != Appointment.Kind.APPOINTMENT:
            raise BookingError(_("A blocked time has no outcome."))
        if current.status != Appointment.Status.BOOKED:
            raise BookingError(_("This appointment is no longer booked."))
        if now < current.starts_at:
            raise BookingError(
                _("The appointment has not started yet. Record how it went once it has begun.")
            )
        current.status = status
        current.reminder_due_at = None
        current.save(update_fields=["status", "reminder_due_at", "updated_at"])
    return current


def appointment_ticket_link(
    *, appointment: Appointment, ticket: Ticket | None, actor: User
) -> Appointment:
    """Link the appointment to one of its member's requests (None: unlink).
    Only a request the member may see themselves (own, or the household's
    about the flat), as when they link it while booking: the member's page
    shows the link."""
    if not actor.is_staff:
        raise BookingError(_("Only staff can link a request to an appointment."))
    with transaction.atomic():
        current = _locked(appointment)
        if current.kind != Appointment.Kind.APPOINTMENT or current.member is None:
            raise BookingError(_("A blocked time cannot be linked to a request."))
        if current.status == Appointment.Status.CANCELLED:
            raise BookingError(_("This appointment is no longer booked."))
        if (
            ticket is not None
            and not Ticket.objects.visible_to_member(current.member).filter(pk=ticket.pk).exists()
        ):
            raise BookingError(_("This request cannot be linked to the appointment."))
        current.ticket = ticket
        current.save(update_fields=["ticket", "updated_at"])
    return current


def advisor_feed_renew(*, advisor: Advisor) -> str:
    """A new secret address for the advisor's calendar feed; the old one
    stops working at once. Returns the token, which is kept nowhere: only
    its hash is stored, so it is shown once."""
    token = secrets.token_urlsafe(32)  # 256 bits
    advisor.feed_token_hash = token_hash(token)
    advisor.feed_token_created_at = timezone.now()
    with transaction.atomic():
        advisor.save(update_fields=["feed_token_hash", "feed_token_created_at", "updated_at"])
    return token


def advisor_feed_revoke(*, advisor: Advisor) -> None:
    """The feed's address stops working; there is none until renewed."""
    advisor.feed_token_hash = ""
    advisor.feed_token_created_at = None
    with transaction.atomic():
        advisor.save(update_fields=["feed_token_hash", "feed_token_created_at", "updated_at"])


def recipient_address(member: Member | None) -> str:
    """Where the member's appointment e-mails go ("" when nowhere: staff
    then tell the caller the time)."""
    return _recipient(member)[0]
