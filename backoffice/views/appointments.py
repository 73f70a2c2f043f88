"""Appointments as staff see them (issue 13): an advisor's week, one
appointment with what happened (came, did not come), cancelling and the
linked request, blocking time, and the private calendar feed's address.

An advisor sees their own days; team leads and admins choose any
advisor. Everyone else on the staff has no days here (the page says so)
but books for a caller from the phone log (backoffice.views.
appointment_booking). The fetch helpers in appointments.selectors answer
404 for an appointment the person may not see."""

import datetime

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from appointments import selectors, services
from appointments.models import Advisor, Appointment
from audit.services import access_record
from core.decorators import staff_required
from core.links import absolute_url
from core.widgets import Select
from tickets.selectors import tickets_open_for_member

WORKDAYS = 5


def _monday(value: str) -> datetime.date:
    """The Monday of the week a date in the address falls in; this week
    for anything else."""
    try:
        day = datetime.date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        day = timezone.localdate()
    return day - datetime.timedelta(days=day.weekday())


def _week_url(advisor: Advisor | None, monday: datetime.date | None = None) -> str:
    query = {}
    if advisor is not None:
        query["berater"] = advisor.pk
    if monday is not None:
        query["woche"] = monday.isoformat()
    url = reverse("backoffice:appointments")
    return f"{url}?{urlencode(query)}" if query else url


def _week_of(appointment: Appointment) -> str:
    day = timezone.localdate(appointment.starts_at)
    return _week_url(appointment.advisor, _monday(day.isoformat()))


def _not_advisor(request):
    """Staff who offer no consultations: nothing of theirs to show, and
    where booking for a caller starts."""
    return render(request, "backoffice/appointments/not_advisor.html")


def _advisor_chosen(request, value: str):
    """(the advisor whose days to show, every advisor for the choice).
    Team leads and admins choose any (their own, else the first, by
    default); an advisor sees their own, another's is a 404."""
    own = selectors.advisor_own(request.user)
    if selectors.sees_every_advisor(request.user):
        advisors = list(selectors.advisors_all())
        if value:
            chosen = next((a for a in advisors if str(a.pk) == value), None)
            if chosen is None:
                raise Http404
            return chosen, advisors
        return own or (advisors[0] if advisors else None), advisors
    if value and (own is None or str(own.pk) != value):
        raise Http404
    return own, []


@staff_required
@require_GET
def appointment_week(request):
    advisor, advisors = _advisor_chosen(request, request.GET.get("berater", ""))
    if advisor is None:
        return _not_advisor(request)
    monday = _monday(request.GET.get("woche", ""))
    entries = selectors.appointments_of_week(advisor, monday, user=request.user)
    today = timezone.localdate()
    days = []
    for offset in range(7):
        day = monday + datetime.timedelta(days=offset)
        of_day = [e for e in entries if timezone.localdate(e.starts_at) == day]
        if offset < WORKDAYS or of_day or day == today:
            days.append(
                {
                    "date": day,
                    "today": day == today,
                    "appointments": [e for e in of_day if e.kind == Appointment.Kind.APPOINTMENT],
                    "blocks": [e for e in of_day if e.kind == Appointment.Kind.BLOCK],
                }
            )
    week = datetime.timedelta(days=7)
    return render(
        request,
        "backoffice/appointments/week.html",
        {
            "advisor": advisor,
            "advisors": advisors,
            "own": advisor.user_id == request.user.pk,
            "monday": monday,
            "sunday": monday + datetime.timedelta(days=6),
            "days": days,
            "previous_url": _week_url(advisor, monday - week),
            "next_url": _week_url(advisor, monday + week),
            "today_url": _week_url(advisor) + f"#tag-{today.isoformat()}",
            "this_week": monday == _monday(""),
        },
    )


class LinkForm(forms.Form):
    """Which of the member's requests the appointment is about."""

    ticket = forms.ChoiceField(label=gettext_lazy("Request"), required=False, widget=Select)

    def __init__(self, *args, tickets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.tickets = {ticket.reference: ticket for ticket in tickets}
        self.fields["ticket"].choices = [("", _("No request"))] + [
            (t.reference, f"{t.reference} – {t.request_type.name}") for t in tickets
        ]

    def ticket_chosen(self):
        return self.tickets.get(self.cleaned_data.get("ticket") or "")


def _subject(appointment: Appointment) -> str:
    local = timezone.localtime(appointment.starts_at)
    return f"{_('Appointment')} {local:%Y-%m-%d %H:%M} {appointment.public_id}"


def _may_mark(appointment: Appointment) -> bool:
    return (
        appointment.kind == Appointment.Kind.APPOINTMENT
        and appointment.status == Appointment.Status.BOOKED
        and timezone.now() >= appointment.starts_at
    )


def _linkable(appointment: Appointment) -> bool:
    return (
        appointment.kind == Appointment.Kind.APPOINTMENT
        and appointment.status != Appointment.Status.CANCELLED
    )


@staff_required
@require_http_methods(["GET", "POST"])
def appointment_detail(request, public_id):
    appointment = selectors.get_appointment_for_staff(request.user, public_id)
    member = appointment.member
    tickets = tickets_open_for_member(member, limit=20) if member and _linkable(appointment) else []
    link_form = LinkForm(
        request.POST if request.POST.get("action") == "link" else None,
        tickets=tickets,
        initial={"ticket": appointment.ticket.reference if appointment.ticket else ""},
    )
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in (Appointment.Status.ATTENDED, Appointment.Status.NO_SHOW):
                services.appointment_mark(
                    appointment=appointment, status=action, actor=request.user
                )
                messages.success(request, _("Saved."))
            elif action == "link":
                if not link_form.is_valid():
                    raise services.BookingError(
                        _("This request cannot be linked to the appointment.")
                    )
                services.appointment_ticket_link(
                    appointment=appointment, ticket=link_form.ticket_chosen(), actor=request.user
                )
                messages.success(request, _("Saved."))
            elif action == "unblock" and appointment.kind == Appointment.Kind.BLOCK:
                services.appointment_cancel(appointment=appointment, actor=request.user)
                messages.success(request, _("The time is no longer blocked."))
                return redirect(_week_of(appointment))
            else:
                messages.error(request, _("Please try again."))
        except services.BookingError as error:
            messages.error(request, str(error))
        return redirect("backoffice:appointment", public_id=public_id)
    if member is not None:
        access_record(
            request=request, action="view", subject=_subject(appointment), members=[member]
        )
    return render(
        request,
        "backoffice/appointments/detail.html",
        {
            "appointment": appointment,
            "may_mark": _may_mark(appointment),
            "may_cancel": appointment.kind == Appointment.Kind.APPOINTMENT
            and appointment.status == Appointment.Status.BOOKED,
            "link_form": link_form if _linkable(appointment) else None,
            "email": services.recipient_address(member) if member else "",
            "week_url": _week_of(appointment),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def appointment_cancel(request, public_id):
    """Staff cancel at any time (the member's cutoff is the member's): the
    member gets the cancellation with the calendar entry's removal."""
    appointment = selectors.get_appointment_for_staff(request.user, public_id)
    if appointment.kind == Appointment.Kind.BLOCK:
        return redirect("backoffice:appointment", public_id=public_id)  # unblocked there
    if appointment.status != Appointment.Status.BOOKED:
        messages.error(request, _("This appointment is no longer booked."))
        return redirect("backoffice:appointment", public_id=public_id)
    email = services.recipient_address(appointment.member)
    if request.method == "POST":
        try:
            services.appointment_cancel(appointment=appointment, actor=request.user)
        except services.BookingError as error:
            messages.error(request, str(error))
            return redirect("backoffice:appointment", public_id=public_id)
        if email:
            text = _("The appointment is cancelled. The member gets the cancellation by e-mail.")
        else:
            text = _(
                "The appointment is cancelled. The member has no e-mail address: please tell them."
            )
        messages.success(request, text)
        return redirect("backoffice:appointment", public_id=public_id)
    access_record(
        request=request,
        action="view",
        subject=_subject(appointment),
        members=[appointment.member],
    )
    return render(
        request, "backoffice/appointments/cancel.html", {"appointment": appointment, "email": email}
    )


class BlockForm(forms.Form):
    advisor = forms.ModelChoiceField(
        label=gettext_lazy("Advisor"), queryset=Advisor.objects.none(), widget=Select
    )
    date = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    starts = forms.TimeField(
        label=gettext_lazy("From"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    ends = forms.TimeField(
        label=gettext_lazy("Until"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy("For example “team meeting”. Members do not see it."),
        max_length=200,
        required=False,
    )

    def __init__(self, *args, advisors=None, **kwargs):
        super().__init__(*args, **kwargs)
        if advisors is None:
            del self.fields["advisor"]  # an advisor blocks their own time
        else:
            self.fields["advisor"].queryset = advisors

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts"), cleaned.get("ends")
        if starts and ends and ends <= starts:
            self.add_error("ends", _("The end must be after the start."))
        return cleaned

    def moments(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The range as aware moments of the office's time zone."""
        data = self.cleaned_data
        zone = timezone.get_default_timezone()
        return (
            timezone.make_aware(datetime.datetime.combine(data["date"], data["starts"]), zone),
            timezone.make_aware(datetime.datetime.combine(data["date"], data["ends"]), zone),
        )


@staff_required
@require_http_methods(["GET", "POST"])
def appointment_block(request):
    """Block a range of an advisor's time (their own; a team lead or admin
    any advisor's). Refused, with what is in the way, where it overlaps a
    booking or another blocked time."""
    own = selectors.advisor_own(request.user)
    every = selectors.sees_every_advisor(request.user)
    if own is None and not every:
        return _not_advisor(request)
    advisors = selectors.advisors_all() if every else None
    chosen = request.GET.get("berater", "")
    form = BlockForm(
        request.POST or None,
        advisors=advisors,
        initial={
            "advisor": chosen if chosen.isdigit() else (own.pk if own else None),
            "date": request.GET.get("tag") or timezone.localdate(),
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            advisor = form.cleaned_data.get("advisor") or own
            starts_at, ends_at = form.moments()
            try:
                services.appointment_block(
                    advisor=advisor,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except services.BookingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The time is blocked."))
                monday = _monday(form.cleaned_data["date"].isoformat())
                return redirect(_week_url(advisor, monday))
        status = 400
    return render(
        request,
        "backoffice/appointments/block.html",
        {"form": form, "own": own, "every": every},
        status=status,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def appointment_feed(request):
    """The advisor's private calendar subscription: a new secret address
    (shown once, the old one stops working) or none."""
    advisor = selectors.advisor_own(request.user)
    if advisor is None:
        return _not_advisor(request)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "renew":
            token = services.advisor_feed_renew(advisor=advisor)
            # Shown in this answer only: what is stored is its hash.
            return render(
                request,
                "backoffice/appointments/feed.html",
                {"advisor": advisor, "url": absolute_url("appointments:feed", args=[token])},
            )
        if action == "revoke":
            services.advisor_feed_revoke(advisor=advisor)
            messages.success(request, _("The calendar address no longer works."))
        return redirect("backoffice:appointment_feed")
    return render(request, "backoffice/appointments/feed.html", {"advisor": advisor, "url": ""})
