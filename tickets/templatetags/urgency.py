"""Phone numbers as links and deadlines in words, for the pages that tell a
member whom to call and how soon we answer."""

import re

from django import template
from django.utils import timezone

register = template.Library()

_NOT_DIALLED = re.compile(r"[^0-9+]")


@register.filter
def tel_href(number: str) -> str:
    """ "030 123456-99" → "tel:03012345699": only what a phone dials (digits
    and a leading +), so spaces, slashes or brackets never break the link."""
    digits = _NOT_DIALLED.sub("", number or "")
    plus = digits.startswith("+")
    return "tel:" + ("+" if plus else "") + digits.replace("+", "")


@register.filter
def day_relation(moment) -> str:
    """ "today", "tomorrow" or "later" for a moment, by the local date:
    an urgent request promises an answer "today", not a weekday."""
    if moment is None:
        return ""
    days = (timezone.localdate(moment) - timezone.localdate()).days
    if days <= 0:
        return "today"
    return "tomorrow" if days == 1 else "later"
