from django import template

from tickets.models import Status

register = template.Library()


@register.filter
def status_label(value: str) -> str:
    """The member-facing words for a status code stored in an event."""
    try:
        return Status(value).label
    except ValueError:
        return value
