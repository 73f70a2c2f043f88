from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    """Consultations with an advisor (issue 13; rooms are `rooms`): who
    offers what when (availability, pure slot generation in
    Europe/Berlin), bookings the database itself keeps from overlapping,
    calendar invites and reminders. A use case above `tickets` (a booking
    may be about a request) and `routing` (the absences routing uses)."""

    name = "appointments"
    verbose_name = _("appointments")
