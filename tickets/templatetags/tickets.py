from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from routing.reasons import reason_text
from tickets.models import Status

register = template.Library()


@register.filter
def status_label(value: str) -> str:
    """The member-facing words for a status code stored in an event."""
    try:
        return Status(value).label
    except ValueError:
        return value


@register.filter
def routing_reason(reason) -> str:
    """Why the ticket went where it went, in the reader's language."""
    return reason_text(reason)


@register.filter
def weekday_date(moment) -> str:
    """ "Donnerstag, 3. Dezember" / "Thursday, December 3", local time."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, 'l')}, {formats.date_format(local, 'MONTH_DAY_FORMAT')}"


@register.filter
def sla_step(step: str) -> str:
    return {
        "first_response_warning": _("First response due soon: the handler was warned."),
        "first_response_breach": _("First response overdue: the team lead was told."),
        "resolution_warning": _("Due soon: the handler was warned."),
        "resolution_breach": _("Overdue: the team lead was told."),
    }.get(step, step)


@register.filter
def images(attachments) -> list:
    """The pictures among a list of attachments: shown as thumbnails."""
    return [a for a in attachments if a.content_type.startswith("image/")]


@register.filter
def documents(attachments) -> list:
    """The attachments that are not pictures: listed by name."""
    return [a for a in attachments if not a.content_type.startswith("image/")]
