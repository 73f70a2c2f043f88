"""Booking a guest apartment or common room for a caller (issue 13): from
the phone log, once the member is found — room → dates in the calendar →
the price → book, the steps of the member's own pages, for any staff
member. Staff may book inside the room's notice; the estate rule (rooms
kept for an estate's residents) holds for the member as on their pages.
A room that needs confirmation is confirmed at once when the person at
the phone looks after it, and waits for its team otherwise."""

import secrets

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import access_record
from core.decorators import staff_required
from members.models import Member
from members.selectors import get_member_for_staff
from rooms import selectors, services
from rooms.forms import ConfirmForm, WhenForm


def _seen(request, member: Member) -> None:
    access_record(request=request, action="view", subject=_("Room booking"), members=[member])


def _room(member: Member, slug: str):
    room = selectors.get_room_for_member(member, slug)
    if room is None:
        raise Http404
    return room


@staff_required
@require_GET
def book_rooms(request, member_number):
    member = get_member_for_staff(member_number)
    _seen(request, member)
    return render(
        request,
        "backoffice/rooms/book_rooms.html",
        {"member": member, "rooms": list(selectors.rooms_for_member(member))},
    )


def _room_page(request, member, room, form: WhenForm, *, status: int = 200):
    now = timezone.now()
    month = selectors.month_shown(request.GET.get("monat", ""), form, now=now)
    return render(
        request,
        "backoffice/rooms/book_room.html",
        {"member": member, "room": room, "form": form,
         **selectors.calendar_context(room, month, now=now, notice=False)},
        status=status,
    )  # fmt: skip


@staff_required
@require_GET
def book_room(request, member_number, slug):
    member = get_member_for_staff(member_number)
    room = _room(member, slug)
    initial = {"personen": 1}
    for name in ("anreise", "tag"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    return _room_page(request, member, room, WhenForm(room=room, initial=initial))


@staff_required
@require_http_methods(["GET", "POST"])
def book_confirm(request, member_number, slug):
    member = get_member_for_staff(member_number)
    room = _room(member, slug)
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        earlier = selectors.booking_by_request_key(member, request.POST.get("request_key", ""))
        if earlier is not None:
            return redirect("backoffice:room_booked", public_id=earlier.public_id)
    when = WhenForm(data, room=room)
    quote, status = when.quote(notice=False)  # staff book inside the notice
    if quote is None:
        return _room_page(request, member, room, when, status=status)
    context = {
        "member": member,
        "room": room,
        "when": when,
        "quote": quote,
        "starts": timezone.localtime(quote.span.starts),
        "ends": timezone.localtime(quote.span.ends),
        "persons": when.cleaned_data["personen"],
    }
    if request.method == "GET":
        _seen(request, member)
        form = ConfirmForm(initial={"request_key": secrets.token_urlsafe(24)})
        return render(request, "backoffice/rooms/book_confirm.html", {**context, "form": form})
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            booking = services.room_book(
                room=room,
                member=member,
                span=quote.span,
                booked_by=request.user,
                persons=when.cleaned_data["personen"],
                purpose=form.cleaned_data["anlass"],
                note=form.cleaned_data["notiz"],
                request_key=form.cleaned_data["request_key"],
            )
        except services.RoomTaken as error:
            when.add_error(None, str(error))
            return _room_page(request, member, room, when, status=409)
        except services.RoomBookingError as error:
            form.add_error(None, str(error))
        else:
            return redirect("backoffice:room_booked", public_id=booking.public_id)
    return render(
        request, "backoffice/rooms/book_confirm.html", {**context, "form": form}, status=400
    )


@staff_required
@require_GET
def booked(request, public_id):
    """What to tell the caller: the dates, the price, and whether staff
    still confirm it."""
    booking = selectors.get_booking_booked_for_staff(request.user, public_id)
    _seen(request, booking.member)
    user = getattr(booking.member, "user", None)
    return render(
        request,
        "backoffice/rooms/booked.html",
        {
            "booking": booking,
            "member": booking.member,
            "email": (user.email if user is not None and user.is_active else "")
            or booking.member.email,
            "may_open": selectors.looks_after(request.user, booking.room),
        },
    )
