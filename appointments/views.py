"""Member pages of appointments (issue 13): topic → advisor or "any
advisor" → day → free time → confirm; the member's bookings with cancel
and move; the e-mail's link, which works without logging in.

Plain pages and forms (GET for choosing, POST for booking), so every
step works with the keyboard, a screen reader and without JavaScript; the
free times are real buttons whose names carry the full date and time."""

import secrets

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from appointments import selectors, services
from appointments.feed import FeedEntry, feed_ics
from appointments.forms import ConfirmForm, moment_parse
from appointments.invites import Invite, invite_ics
from appointments.models import Appointment, token_hash
from core.decorators import member_required
from core.links import absolute_url
from tickets.selectors import get_ticket_for_member, tickets_open_for_member

ANY = "alle"


@member_required
@require_GET
def appointment_list(request):
    member = request.user.member
    upcoming = list(selectors.appointments_of_member(member))
    return render(request, "appointments/list.html", {"appointments": upcoming})


@member_required
@require_GET
def appointment_new(request):
    """Choose a topic; `anliegen` (a request's reference) goes along."""
    ticket = _ticket_from(request, request.GET.get("anliegen", ""))
    return render(
        request,
        "appointments/new.html",
        {"types": list(selectors.appointment_types_bookable()), "ticket": ticket},
    )


def _ticket_from(request, reference: str):
    if not reference:
        return None
    return get_ticket_for_member(request.user, reference)


@member_required
@require_GET
def appointment_slots(request, slug):
    appointment_type = selectors.get_appointment_type_for_member(slug)
    if appointment_type is None:
        raise Http404
    advisors = selectors.advisors_for(appointment_type)
    chosen_value = request.GET.get("berater", ANY)
    advisor = selectors.advisor_for_choice(appointment_type, chosen_value)
    weeks, day, times = selectors.days_and_times(
        appointment_type, [advisor] if advisor else advisors, day_value=request.GET.get("tag", "")
    )
    return render(
        request,
        "appointments/slots.html",
        {
            "appointment_type": appointment_type,
            "advisors": advisors,
            "advisor": advisor,
            "advisor_value": str(advisor.pk) if advisor else ANY,
            "weeks": weeks,
            "day": day,
            "times": times,
            "ticket_reference": request.GET.get("anliegen", "")[:20],
        },
    )


def _taken(request, error: services.SlotTaken, context: dict):
    nearest = [timezone.localtime(slot.starts) for slot in error.nearest]
    return render(
        request,
        "appointments/taken.html",
        {**context, "error": str(error), "nearest": nearest},
        status=409,
    )


@member_required
@require_http_methods(["GET", "POST"])
def appointment_confirm(request, slug):
    appointment_type = selectors.get_appointment_type_for_member(slug)
    if appointment_type is None:
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    starts_at = moment_parse(data.get("zeit", ""))
    advisor_value = data.get("berater", ANY)
    advisor = selectors.advisor_for_choice(appointment_type, advisor_value)
    member = request.user.member
    tickets = tickets_open_for_member(member, limit=20, user=request.user)
    context = {
        "appointment_type": appointment_type,
        "advisor": advisor,
        "advisor_value": str(advisor.pk) if advisor else ANY,
        "starts": starts_at,
        "ends": starts_at + appointment_type.duration if starts_at else None,
    }
    if starts_at is None:
        messages.error(request, _("This time is not valid. Please choose one of the free times."))
        return redirect("appointments:slots", slug=slug)
    if request.method == "GET":
        reference = request.GET.get("anliegen", "")
        form = ConfirmForm(
            tickets=tickets,
            initial={
                "request_key": secrets.token_urlsafe(24),
                "ticket": reference if any(t.reference == reference for t in tickets) else "",
            },
        )
        return render(request, "appointments/confirm.html", {**context, "form": form})
    form = ConfirmForm(request.POST, tickets=tickets)
    if not form.is_valid():
        return render(request, "appointments/confirm.html", {**context, "form": form}, status=400)
    try:
        booked = services.appointment_book(
            member=member,
            appointment_type=appointment_type,
            starts_at=starts_at,
            booked_by=request.user,
            advisor=advisor,
            note=form.cleaned_data["note"],
            ticket=form.ticket_chosen(),
            request_key=form.cleaned_data["request_key"],
        )
    except services.SlotTaken as error:
        return _taken(request, error, context)
    except services.BookingError as error:
        form.add_error(None, str(error))
        return render(request, "appointments/confirm.html", {**context, "form": form}, status=400)
    messages.success(request, _("Your appointment is booked. We have sent you a confirmation."))
    return redirect("appointments:detail", public_id=booked.appointment.public_id)


def _own(request, public_id) -> Appointment:
    appointment = selectors.get_appointment_for_member(request.user.member, public_id)
    if appointment is None:
        raise Http404
    return appointment


@member_required
@require_GET
def appointment_detail(request, public_id):
    appointment = _own(request, public_id)
    return render(
        request,
        "appointments/detail.html",
        {"appointment": appointment, "may_change": appointment.member_may_change()},
    )


@member_required
@require_http_methods(["GET", "POST"])
def appointment_cancel(request, public_id):
    appointment = _own(request, public_id)
    if request.method == "POST":
        try:
            services.appointment_cancel(appointment=appointment, actor=request.user)
        except services.BookingError as error:
            messages.error(request, str(error))
            return redirect("appointments:detail", public_id=public_id)
        messages.success(request, _("The appointment is cancelled."))
        return redirect("appointments:list")
    return render(request, "appointments/cancel.html", {"appointment": appointment})


def _move(request, appointment: Appointment, *, actor, done_url):
    """Choose a new free time with the same advisor (GET), move (POST)."""
    appointment_type = appointment.appointment_type
    if request.method == "POST":
        starts_at = moment_parse(request.POST.get("zeit", ""))
        if starts_at is None:
            messages.error(
                request, _("This time is not valid. Please choose one of the free times.")
            )
            return redirect(request.path)
        try:
            moved = services.appointment_reschedule(
                appointment=appointment, starts_at=starts_at, actor=actor
            )
        except services.SlotTaken as error:
            return _taken(
                request,
                error,
                {"appointment_type": appointment_type, "appointment": appointment, "moving": True},
            )
        except services.BookingError as error:
            messages.error(request, str(error))
            return redirect(request.path)
        messages.success(request, _("The appointment is moved. We have sent you the new time."))
        return redirect(done_url(moved))
    weeks, day, times = selectors.days_and_times(
        appointment_type,
        [appointment.advisor],
        day_value=request.GET.get("tag", ""),
        exclude=appointment,
    )
    return render(
        request,
        "appointments/slots.html",
        {
            "appointment_type": appointment_type,
            "appointment": appointment,
            "moving": True,
            "weeks": weeks,
            "day": day,
            "times": times,
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def appointment_move(request, public_id):
    appointment = _own(request, public_id)
    if not appointment.member_may_change():
        messages.error(
            request, _("This appointment can no longer be changed online. Please call us.")
        )
        return redirect("appointments:detail", public_id=public_id)
    return _move(
        request,
        appointment,
        actor=request.user,
        done_url=lambda moved: moved.appointment.get_absolute_url(),
    )


@member_required
@require_GET
def appointment_ics(request, public_id):
    """The booking as a calendar file, to add it by hand."""
    appointment = _own(request, public_id)
    cancelled = appointment.status == Appointment.Status.CANCELLED
    method = "CANCEL" if cancelled else "REQUEST"
    body = invite_ics(
        Invite(
            uid=appointment.ical_uid(),
            sequence=appointment.sequence,
            method=method,
            starts=appointment.starts_at,
            ends=appointment.ends_at,
            summary=appointment.appointment_type.name,
            description=appointment.note,
            location=appointment.location,
            organizer_email=services.organizer_email(),
            organizer_name=str(appointment.advisor),
            attendee_email=request.user.email,
            attendee_name=appointment.member.formal_name,
            stamp=timezone.now(),
        )
    )
    response = HttpResponse(body, content_type=f"text/calendar; method={method}; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="termin.ics"'
    return response


# The e-mail's link: no login, the token is the key ----------------------------------------------


def _by_link(token: str) -> Appointment | None:
    return selectors.get_appointment_by_link(token_hash(token))


@never_cache
@require_http_methods(["GET", "POST"])
def appointment_link(request, token):
    appointment = _by_link(token)
    if appointment is None:
        return render(request, "appointments/link_invalid.html", status=404)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        try:
            services.appointment_cancel(appointment=appointment, actor=None)
        except services.BookingError as error:
            messages.error(request, str(error))
            return redirect(request.path)
        return render(request, "appointments/link_done.html", {"appointment": appointment})
    return render(
        request,
        "appointments/link.html",
        {"appointment": appointment, "token": token, "may_change": appointment.member_may_change()},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def appointment_link_move(request, token):
    appointment = _by_link(token)
    if appointment is None:
        return render(request, "appointments/link_invalid.html", status=404)
    if not appointment.member_may_change():
        messages.error(
            request, _("This appointment can no longer be changed online. Please call us.")
        )
        return redirect("appointments:link", token=token)
    return _move(
        request,
        appointment,
        actor=None,
        done_url=lambda moved: reverse("appointments:link", args=[moved.link_token]),
    )


# The advisor's private calendar feed: no login, the secret address is the key ----------------


def _feed_entry(appointment: Appointment) -> FeedEntry:
    if appointment.kind == Appointment.Kind.BLOCK:
        summary = _("Blocked time")
        if appointment.note:
            summary = f"{summary}: {appointment.note}"
    else:
        summary = f"{appointment.appointment_type.name} – {appointment.member.full_name}"
    return FeedEntry(
        uid=appointment.ical_uid(),
        sequence=appointment.sequence,
        starts=appointment.starts_at,
        ends=appointment.ends_at,
        summary=summary,
        location=appointment.location,
        url=absolute_url("backoffice:appointment", args=[appointment.public_id]),
    )


@require_GET
def advisor_feed(request, token):
    """What Outlook or Thunderbird read by the address the advisor set up
    (the back office's "calendar subscription" page); 404 once renewed or
    revoked."""
    advisor = selectors.get_advisor_by_feed(token_hash(token))
    if advisor is None:
        raise Http404
    now = timezone.now()
    with translation.override(advisor.user.language or settings.LANGUAGE_CODE):
        entries = [_feed_entry(a) for a in selectors.appointments_for_feed(advisor, now=now)]
        name = _("Appointments of %(name)s") % {"name": str(advisor)}
    response = HttpResponse(
        feed_ics(name=name, entries=entries, stamp=now), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="termine.ics"'
    # The secret address holds member names: never in a shared cache.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
