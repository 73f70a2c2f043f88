"""The statutory rules on shares as pure functions: dates in, dates out.

A member with more shares than the statutes require may cancel the
voluntary ones (GenG § 67b). The cancellation takes effect only at the end
of a business year, and must reach the cooperative at least the notice
period before that end (§ 67b (2) with § 65 (2): at least three months, the
statutes may set up to five years). The business year is the calendar year
unless the statutes say otherwise; it always ends on the last day of a
month.

The notice period is counted back from the end of the business year (BGB
§§ 187, 188 applied backwards): with three months to 31 December the
months are October, November and December, so a cancellation received on
30 September is in time and one received on 1 October is not — it takes
effect a year later."""

import calendar
import datetime

ONE_DAY = datetime.timedelta(days=1)


def month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _months_back(first_of_month: datetime.date, months: int) -> datetime.date:
    """The first of the month `months` months before a first of a month."""
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def business_year_end(day: datetime.date, *, end_month: int) -> datetime.date:
    """The last day of the business year that `day` belongs to."""
    end = month_end(day.year, end_month)
    return end if end >= day else month_end(day.year + 1, end_month)


def next_business_year_end(end: datetime.date, *, end_month: int) -> datetime.date:
    return month_end(end.year + 1, end_month)


def cancellation_deadline(year_end: datetime.date, *, notice_months: int) -> datetime.date:
    """The last day a cancellation to `year_end` may be received: the
    notice period ends with `year_end`, so it begins on the first of the
    month `notice_months` months before the day after it."""
    if notice_months < 0:
        raise ValueError("the notice period cannot be negative")
    return _months_back(year_end + ONE_DAY, notice_months) - ONE_DAY


def cancellation_effective_on(
    received: datetime.date, *, notice_months: int, end_month: int
) -> datetime.date:
    """The earliest end of a business year that a cancellation received on
    `received` takes effect at."""
    end = business_year_end(received, end_month=end_month)
    while cancellation_deadline(end, notice_months=notice_months) < received:
        end = next_business_year_end(end, end_month=end_month)
    return end


def cancellation_dates(
    received: datetime.date, *, notice_months: int, end_month: int, count: int = 5
) -> list[datetime.date]:
    """The ends of business years a cancellation received on `received`
    may name: the earliest possible and the `count - 1` after it (a member
    may cancel to a later year end than the earliest)."""
    dates = [cancellation_effective_on(received, notice_months=notice_months, end_month=end_month)]
    while len(dates) < count:
        dates.append(next_business_year_end(dates[-1], end_month=end_month))
    return dates
