from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    """Guest apartments by the night and common rooms by the hour (issue 13,
    point 8): an availability calendar, a price, bookings linked to the
    member that the database itself keeps from overlapping, and the staff
    confirmation a room may require. A use case beside `appointments`,
    above `tickets` (the guest-apartment form leads here) and `routing`
    (the team that looks after a room)."""

    name = "rooms"
    verbose_name = _("guest apartments and rooms")
