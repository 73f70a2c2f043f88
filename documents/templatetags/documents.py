"""The documents app's part of pages it does not own: the blank forms
under a request form (the request template, in `tickets`, a layer below
beside this one, loads this library: `tickets` never imports
`documents`), the "Documents" entry of the staff menu, and how the time
a document is about reads."""

import datetime

from django import template

from core.dates import date_long
from documents.models import period_is_year
from documents.selectors import forms_for_request_type, may_manage

register = template.Library()


@register.filter
def period(document) -> str:
    """ "2025" for a calendar year, the day for one day, else from – until."""
    start: datetime.date = document.period_start
    end: datetime.date = document.period_end
    if period_is_year(start, end):
        return str(start.year)
    if start == end:
        return date_long(start)
    return f"{date_long(start)} – {date_long(end)}"


@register.filter
def may_manage_documents(user) -> bool:
    return may_manage(user)


@register.inclusion_tag("documents/_request_forms.html")
def request_type_forms(request_type):
    """The forms to download that go with this request form: one query."""
    return {"forms": forms_for_request_type(request_type.pk)}
