"""Room bookings as staff see them (issue 13, point 8): the bookings of
the rooms their team looks after — those awaiting confirmation first —
and one booking to confirm, decline (with a reason the member reads) or
cancel. Team leads and admins see every room's. rooms.selectors answers
404 for a booking of a room the person does not look after."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import access_record
from core.decorators import staff_required
from rooms import selectors, services
from rooms.forms import DeclineForm
from rooms.models import RoomBooking


def _subject(booking: RoomBooking) -> str:
    local = timezone.localtime(booking.starts_at)
    return f"{_('Room booking')} {local:%Y-%m-%d} {booking.public_id}"


# A page of bookings: a busy guest apartment has hundreds ahead.
PAGE_SIZE = 50


@staff_required
@require_GET
def room_bookings(request):
    """The bookings of the rooms this person looks after, those awaiting
    confirmation first, then by date, a page at a time."""
    rooms = list(selectors.rooms_for_staff(request.user))
    chosen = next((room for room in rooms if room.slug == request.GET.get("raum")), None)
    page = Paginator(selectors.bookings_for_staff(request.user, room=chosen), PAGE_SIZE).get_page(
        request.GET.get("seite")
    )
    return render(
        request,
        "backoffice/rooms/list.html",
        {"rooms": rooms, "chosen": chosen, "page": page},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def room_booking(request, public_id):
    """One booking; POST action=confirm confirms it (the decline has its
    own page for the reason)."""
    booking = selectors.get_booking_for_staff(request.user, public_id)
    if request.method == "POST":
        if request.POST.get("action") == "confirm":
            try:
                services.room_booking_confirm(booking=booking, actor=request.user)
            except services.RoomBookingError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("Confirmed. The member gets an e-mail."))
        else:
            messages.error(request, _("Please try again."))
        return redirect("backoffice:room_booking", public_id=public_id)
    access_record(
        request=request, action="view", subject=_subject(booking), members=[booking.member]
    )
    return render(
        request,
        "backoffice/rooms/booking.html",
        {"booking": booking, "over": booking.ends_at <= timezone.now()},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def room_booking_decline(request, public_id):
    booking = selectors.get_booking_for_staff(request.user, public_id)
    if booking.status != RoomBooking.Status.REQUESTED:
        messages.error(request, _("This booking is not awaiting confirmation."))
        return redirect("backoffice:room_booking", public_id=public_id)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.room_booking_decline(
                booking=booking, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except services.RoomBookingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Declined. The member gets an e-mail with your reason."))
        return redirect("backoffice:room_booking", public_id=public_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "backoffice/rooms/decline.html", {"booking": booking, "form": form}, status=status
    )


@staff_required
@require_http_methods(["GET", "POST"])
def room_booking_cancel(request, public_id):
    booking = selectors.get_booking_for_staff(request.user, public_id)
    if not booking.is_active() or booking.ends_at <= timezone.now():
        messages.error(request, _("This booking is no longer active."))
        return redirect("backoffice:room_booking", public_id=public_id)
    if request.method == "POST":
        try:
            services.room_booking_cancel(booking=booking, actor=request.user)
        except services.RoomBookingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The booking is cancelled. The member gets an e-mail."))
        return redirect("backoffice:room_booking", public_id=public_id)
    return render(request, "backoffice/rooms/cancel.html", {"booking": booking})
