from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Privacy rights (issue 15, point 5): the member's copy of everything
    held about them (DSGVO Art. 15 and 20) as a ZIP prepared by the worker,
    and the retention that anonymises former members' requests after a
    period. A use case beside `insights`, above every app it reads."""

    name = "privacy"
    verbose_name = _("privacy")
