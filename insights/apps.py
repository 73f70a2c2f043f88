from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """Focal points of work (issue 14): figures over requests and
    appointments computed in SQL for the team leads' dashboard. A use case
    above `appointments` and `tickets` (it reads both); no models yet."""

    name = "insights"
    verbose_name = _("insights")
