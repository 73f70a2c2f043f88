"""A notice's moments as residents read them: "today, 12:00", "Friday,
12:00" within the week, the date written out beyond."""

import datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.dates import date_long

register = template.Library()


def moment(value: datetime.datetime, now: datetime.datetime | None = None) -> str:
    local = timezone.localtime(value)
    today = timezone.localdate(now)
    days = (local.date() - today).days
    time = formats.time_format(local, "H:i")
    if days == 0:
        return _("today, %(time)s") % {"time": time}
    if days == 1:
        return _("tomorrow, %(time)s") % {"time": time}
    if days == -1:
        return _("yesterday, %(time)s") % {"time": time}
    weekday = formats.date_format(local, "l")
    if 1 < days < 7:
        return _("%(weekday)s, %(time)s") % {"weekday": weekday, "time": time}
    return _("%(weekday)s, %(date)s, %(time)s") % {
        "weekday": weekday,
        "date": date_long(local.date()),
        "time": time,
    }


register.filter("moment", moment)
