"""The member's side of room booking: the rooms, a room's calendar and
booking form, the confirmation with the price, their bookings."""

import secrets

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.decorators import member_required
from rooms import selectors, services
from rooms.forms import KIND_SLUGS, ConfirmForm, WhenForm
from rooms.models import RoomBooking


@member_required
@require_GET
def room_list(request):
    member = request.user.member
    kind_slug = request.GET.get("art", "")
    rooms = list(selectors.rooms_for_member(member, kind=KIND_SLUGS.get(kind_slug, "")))
    return render(
        request,
        "rooms/list.html",
        {
            "rooms": rooms,
            "kind_slug": kind_slug if kind_slug in KIND_SLUGS else "",
            "bookings": list(selectors.bookings_of_member(member)),
        },
    )


def _room_page(request, room, form: WhenForm, *, status: int = 200):
    now = timezone.now()
    month = selectors.month_shown(request.GET.get("monat", ""), form, now=now)
    return render(
        request,
        "rooms/room.html",
        {"room": room, "form": form, **selectors.calendar_context(room, month, now=now)},
        status=status,
    )


def _room(request, slug):
    room = selectors.get_room_for_member(request.user.member, slug)
    if room is None:
        raise Http404
    return room


@member_required
@require_GET
def room_detail(request, slug):
    room = _room(request, slug)
    initial = {"personen": 1}
    for name in ("anreise", "tag"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    return _room_page(request, room, WhenForm(room=room, initial=initial))


@member_required
@require_http_methods(["GET", "POST"])
def room_confirm(request, slug):
    room = _room(request, slug)
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        # The same form sent again (a double click, a reload): the booking
        # it made, before its own time looks taken.
        earlier = selectors.booking_by_request_key(
            request.user.member, request.POST.get("request_key", "")
        )
        if earlier is not None:
            return redirect("rooms:booking", public_id=earlier.public_id)
    when = WhenForm(data, room=room)
    quote, status = when.quote()
    if quote is None:
        return _room_page(request, room, when, status=status)
    context = {
        "room": room,
        "when": when,
        "quote": quote,
        "starts": timezone.localtime(quote.span.starts),
        "ends": timezone.localtime(quote.span.ends),
        "persons": when.cleaned_data["personen"],
    }
    if request.method == "GET":
        form = ConfirmForm(initial={"request_key": secrets.token_urlsafe(24)})
        return render(request, "rooms/confirm.html", {**context, "form": form})
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        return render(request, "rooms/confirm.html", {**context, "form": form}, status=400)
    try:
        booking = services.room_book(
            room=room,
            member=request.user.member,
            span=quote.span,
            booked_by=request.user,
            persons=when.cleaned_data["personen"],
            purpose=form.cleaned_data["anlass"],
            note=form.cleaned_data["notiz"],
            request_key=form.cleaned_data["request_key"],
        )
    except services.RoomTaken as error:
        when.add_error(None, str(error))
        return _room_page(request, room, when, status=409)
    except services.RoomBookingError as error:
        form.add_error(None, str(error))
        return render(request, "rooms/confirm.html", {**context, "form": form}, status=400)
    if booking.status == RoomBooking.Status.REQUESTED:
        messages.success(
            request,
            _("We hold the time for you and confirm it shortly. You will get an e-mail."),
        )
    else:
        messages.success(request, _("Booked. We have sent you a confirmation."))
    return redirect("rooms:booking", public_id=booking.public_id)


def _own(request, public_id) -> RoomBooking:
    booking = selectors.get_booking_for_member(request.user.member, public_id)
    if booking is None:
        raise Http404
    return booking


@member_required
@require_GET
def booking_detail(request, public_id):
    booking = _own(request, public_id)
    return render(
        request,
        "rooms/booking.html",
        {"booking": booking, "may_cancel": booking.member_may_cancel()},
    )


@member_required
@require_http_methods(["GET", "POST"])
def booking_cancel(request, public_id):
    booking = _own(request, public_id)
    if not booking.member_may_cancel():
        messages.error(
            request, _("This booking can no longer be cancelled online. Please call us.")
        )
        return redirect("rooms:booking", public_id=public_id)
    if request.method == "POST":
        try:
            services.room_booking_cancel(booking=booking, actor=request.user)
        except services.RoomBookingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your booking is cancelled."))
        return redirect("rooms:booking", public_id=public_id)
    return render(request, "rooms/cancel.html", {"booking": booking})
