from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    """Notices (Aushänge, issue 14 point 5): staff publish a notice for an
    estate or chosen buildings with a validity period; residents read the
    current ones on Mein Bereich and, if they opted in, by e-mail. A use
    case beside `tickets` (neither imports the other): an incident will
    publish through `notices.services.notice_publish`."""

    name = "notices"
    verbose_name = _("notices")
