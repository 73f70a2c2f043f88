"""Dates as members read them."""

import datetime

from django.utils import formats


def date_long(value: datetime.date) -> str:
    """A calendar date with the month in words, in the order of the active
    language: "25. November 2026", "November 25, 2026". Answers such as
    "valid from" are read by people who do not think in ISO dates; the
    language's DATE_FORMAT is used with an abbreviated month ("N", "M":
    English has "Nov. 25, 2026") written in full ("F")."""
    pattern = formats.get_format("DATE_FORMAT")
    return formats.date_format(value, pattern.replace("N", "F").replace("M", "F"))
