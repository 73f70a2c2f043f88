from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    """Incidents (Störungen, issue 14): many requests with one cause. The
    detector proposes them from clusters of requests, team leads accept,
    dismiss or resolve them. A use case beside `appointments` and `rooms`:
    it imports `tickets`, `notices`, `routing` and below."""

    name = "incidents"
    verbose_name = _("incidents")
