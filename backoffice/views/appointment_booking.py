"""Booking for a caller (issue 13): from the phone log, once the member is
found — topic → advisor or any advisor → day → free time → confirm, the
steps of the member's own pages, for any staff member.

Staff may book inside the topic's minimum notice (they know the day;
`appointment_book` skips it for staff). A member without an e-mail
address is booked all the same: nothing is sent, and the last page tells
whoever is at the phone to say the time. A time taken meanwhile answers
409 with the nearest free times, as for members."""

import secrets

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from appointments import selectors, services
from appointments.forms import ConfirmForm, moment_parse
from audit.services import access_record
from core.decorators import staff_required
from members.models import Member
from members.selectors import get_member_for_staff
from tickets.selectors import tickets_open_for_member

ANY = "alle"


def _seen(request, member: Member) -> None:
    access_record(
        request=request, action="view", subject=_("Appointment booking"), members=[member]
    )


def _topic(slug: str):
    appointment_type = selectors.get_appointment_type_for_member(slug)
    if appointment_type is None:
        raise Http404
    return appointment_type


def _advisor(advisors, value: str):
    """The advisor chosen by id among those offering the topic; None for
    "any advisor" or anything else."""
    return next((a for a in advisors if str(a.pk) == value), None)


@staff_required
@require_GET
def book_topics(request, member_number):
    member = get_member_for_staff(member_number)
    _seen(request, member)
    return render(
        request,
        "backoffice/appointments/book_topics.html",
        {"member": member, "types": list(selectors.appointment_types_bookable())},
    )


@staff_required
@require_GET
def book_slots(request, member_number, slug):
    member = get_member_for_staff(member_number)
    appointment_type = _topic(slug)
    advisors = selectors.advisors_for(appointment_type)
    advisor = _advisor(advisors, request.GET.get("berater", ANY))
    weeks, day, times = selectors.days_and_times(
        appointment_type,
        [advisor] if advisor else advisors,
        day_value=request.GET.get("tag", ""),
        notice=False,  # staff book at short notice
    )
    # Not logged: the step before (the topics) and the one after (the
    # confirmation) are; this one shows no more of the member than their
    # name and number, and a row per day looked at would bury the log.
    return render(
        request,
        "backoffice/appointments/book_slots.html",
        {
            "member": member,
            "appointment_type": appointment_type,
            "advisors": advisors,
            "advisor": advisor,
            "advisor_value": str(advisor.pk) if advisor else ANY,
            "weeks": weeks,
            "day": day,
            "times": times,
        },
    )


class StaffConfirmForm(ConfirmForm):
    """The member's confirmation form in the words of someone booking for
    them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].label = _("What is it about?")
        self.fields["note"].help_text = _("The member and the advisor see this note.")
        if "ticket" in self.fields:
            self.fields["ticket"].label = _("About one of the member's requests")


@staff_required
@require_http_methods(["GET", "POST"])
def book_confirm(request, member_number, slug):
    member = get_member_for_staff(member_number)
    appointment_type = _topic(slug)
    data = request.POST if request.method == "POST" else request.GET
    starts_at = moment_parse(data.get("zeit", ""))
    if starts_at is None:
        messages.error(request, _("This time is not valid. Please choose one of the free times."))
        return redirect("backoffice:appointment_book_slots", member_number=member_number, slug=slug)
    advisors = selectors.advisors_for(appointment_type)
    advisor = _advisor(advisors, data.get("berater", ANY))
    tickets = tickets_open_for_member(member, limit=20)
    context = {
        "member": member,
        "appointment_type": appointment_type,
        "advisor": advisor,
        "advisor_value": str(advisor.pk) if advisor else ANY,
        "starts": starts_at,
        "ends": starts_at + appointment_type.duration,
        "email": services.recipient_address(member),
    }
    if request.method == "GET":
        form = StaffConfirmForm(tickets=tickets, initial={"request_key": secrets.token_urlsafe(24)})
        _seen(request, member)
        return render(
            request, "backoffice/appointments/book_confirm.html", {**context, "form": form}
        )
    form = StaffConfirmForm(request.POST, tickets=tickets)
    if form.is_valid():
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
            nearest = [timezone.localtime(slot.starts) for slot in error.nearest]
            return render(
                request,
                "backoffice/appointments/book_taken.html",
                {**context, "nearest": nearest},
                status=409,
            )
        except services.BookingError as error:
            form.add_error(None, str(error))
        else:
            return redirect("backoffice:appointment_booked", public_id=booked.appointment.public_id)
    return render(
        request, "backoffice/appointments/book_confirm.html", {**context, "form": form}, status=400
    )


@staff_required
@require_GET
def booked(request, public_id):
    """What to tell the caller: the time, and whether a confirmation is on
    its way by e-mail."""
    appointment = selectors.get_appointment_booked_for_staff(request.user, public_id)
    if appointment.member is None:
        raise Http404  # a blocked time was never booked for anyone
    _seen(request, appointment.member)
    return render(
        request,
        "backoffice/appointments/booked.html",
        {
            "appointment": appointment,
            "member": appointment.member,
            "email": services.recipient_address(appointment.member),
            "may_open": appointment.advisor.user_id == request.user.pk
            or selectors.sees_every_advisor(request.user),
        },
    )
