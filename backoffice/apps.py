from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """Staff screens: a thin layer over the domain apps, no models of its own."""

    name = "backoffice"
    verbose_name = _("Back office")
