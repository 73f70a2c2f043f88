"""The dashboard's figures (issue 14), each computed by the database:
counts, conditional counts, percentiles (core.stats) — never by loading
tickets into Python. A figure is plain data (rows of label, values and
the inbox filters that list exactly the tickets behind it).

The period is local dates in the cooperative's zone, both days included.
Incoming, timings, SLA, reopens and ratings are about the requests
received in the period; the backlog is what is open now; appointments
are those that start in the period."""

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Avg, Count, Exists, F, FilteredRelation, OuterRef, Q, Sum
from django.db.models.functions import TruncDate

from appointments.models import Advisor, Appointment
from appointments.selectors import availability_for, calendar_current
from appointments.slots import offered_time
from cooperative.cache import cooperative_cached
from core.stats import Percentile, Seconds
from tickets.models import FINISHED, OPEN, Channel, Ticket, TicketEvent, overdue_condition

HOUR = 3600.0
# Age buckets of the backlog: (key, youngest day, oldest day or None).
AGE_BUCKETS = (("0_2", 0, 2), ("3_7", 3, 7), ("8_30", 8, 30), ("31", 31, None))


@dataclass(frozen=True)
class Scope:
    """What the dashboard looks at: a period of local dates and,
    optionally, one estate and one team."""

    first_day: datetime.date
    last_day: datetime.date
    estate_id: int | None = None
    team_id: int | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(settings.TIME_ZONE)

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.first_day, datetime.time(), self.zone)

    @property
    def end(self) -> datetime.datetime:
        after = self.last_day + datetime.timedelta(days=1)
        return datetime.datetime.combine(after, datetime.time(), self.zone)

    def days(self) -> list[datetime.date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + datetime.timedelta(days=n) for n in range(count)]

    def inbox_filters(self, *, received: bool = True) -> dict[str, str]:
        """The inbox's filters for this scope (received in the period)."""
        filters = {"view": "all"}
        if received:
            filters.update(
                {
                    "received_from": self.first_day.isoformat(),
                    "received_to": self.last_day.isoformat(),
                }
            )
        if self.estate_id:
            filters["estate"] = str(self.estate_id)
        if self.team_id:
            filters["team"] = str(self.team_id)
        return filters


def _scoped(tickets, scope: Scope):
    if scope.estate_id:
        tickets = tickets.filter(unit__building__estate_id=scope.estate_id)
    if scope.team_id:
        tickets = tickets.filter(team_id=scope.team_id)
    return tickets


def received(scope: Scope):
    """The requests received in the period (merged duplicates included:
    they were work that came in)."""
    return _scoped(
        Ticket.objects.filter(created_at__gte=scope.start, created_at__lt=scope.end), scope
    )


@dataclass
class Row:
    key: str
    label: str
    values: dict = field(default_factory=dict)
    filters: dict = field(default_factory=dict)


DIMENSIONS = {
    # dimension: (group-by field, label field, inbox filter name)
    "request_type": ("request_type_id", "request_type__name_de", "request_type"),
    "channel": ("channel", None, "channel"),
    "estate": ("unit__building__estate_id", "unit__building__estate__name", "estate"),
    "team": ("team_id", "team__name", "team"),
}


def incoming_by(scope: Scope, dimension: str, *, english: bool = False) -> list[Row]:
    """Requests received per request type, channel, estate or team, most
    first."""
    key, label, name = DIMENSIONS[dimension]
    if dimension == "request_type" and english:
        label = "request_type__name_en"
    fields = [key] + ([label] if label else [])
    channels = dict(Channel.choices)
    rows = []
    for values in received(scope).order_by().values(*fields).annotate(count=Count("pk")):
        group = values[key]
        text = channels.get(group, group) if dimension == "channel" else values.get(label)
        filters = scope.inbox_filters()
        if group is not None:
            filters[name] = str(group)
        rows.append(
            Row(
                str(group) if group is not None else "",
                str(text or ""),
                {"count": values["count"]},
                filters,
            )
        )
    return sorted(rows, key=lambda row: (-row.values["count"], row.label))


def incoming_per_day(scope: Scope) -> list[tuple[datetime.date, int]]:
    """Requests received on each day of the period (days without any: 0)."""
    counts = dict(
        received(scope)
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=scope.zone))
        .values("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    return [(day, counts.get(day, 0)) for day in scope.days()]


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), ZoneInfo(settings.TIME_ZONE))


def _received_between(first: datetime.date | None, last: datetime.date) -> Q:
    condition = Q(created_at__lt=_midnight(last + datetime.timedelta(days=1)))
    if first is not None:
        condition &= Q(created_at__gte=_midnight(first))
    return condition


def age_days(now: datetime.datetime) -> dict[str, tuple[datetime.date | None, datetime.date]]:
    """Each age bucket as the local days received (first or None, last):
    the inbox's received_from/received_to list exactly its requests."""
    today = now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    return {
        key: (
            today - datetime.timedelta(days=oldest) if oldest is not None else None,
            today - datetime.timedelta(days=youngest),
        )
        for key, youngest, oldest in AGE_BUCKETS
    }


def backlog(scope: Scope, *, by: str, now: datetime.datetime) -> list[Row]:
    """Open requests now per team or handler ("team" / "assignee"), by age
    (days since received) and how many are overdue."""
    key, label = {
        "team": ("team_id", "team__name"),
        "assignee": ("assignee_id", "assignee__last_name"),
    }[by]
    counts = {"total": Count("pk"), "overdue": Count("pk", filter=overdue_condition(now))}
    for bucket, (first, last) in age_days(now).items():
        counts[bucket] = Count("pk", filter=_received_between(first, last))
    names = ["assignee__first_name"] if by == "assignee" else []
    tickets = _scoped(Ticket.objects.filter(status__in=OPEN), scope).order_by()
    rows = []
    for values in tickets.values(key, label, *names).annotate(**counts):
        group = values[key]
        text = " ".join(filter(None, [values.get("assignee__first_name"), values[label]]))
        filters = {**scope.inbox_filters(received=False), "state": "open"}
        filters[by] = str(group) if group is not None else "none"
        rows.append(Row(str(group or ""), text, {name: values[name] for name in counts}, filters))
    return sorted(rows, key=lambda row: (-row.values["total"], row.label))


def timings(scope: Scope, *, by: str, english: bool = False) -> list[Row]:
    """First response and resolution times (hours, calendar time: median
    and 90th percentile) and SLA attainment of the requests received in the
    period, per team or request type."""
    key, label = {
        "team": ("team_id", "team__name"),
        "request_type": (
            "request_type_id",
            "request_type__name_en" if english else "request_type__name_de",
        ),
    }[by]
    response = Seconds(F("first_response_at"), F("created_at"))
    resolution = Seconds(F("resolved_at"), F("created_at"))
    with_sla = Q(sla_policy__isnull=False)
    breached = Q(breached_at__isnull=False) | Q(first_response_breached_at__isnull=False)
    figures = (
        received(scope)
        .order_by()
        .values(key, label)
        .annotate(
            count=Count("pk"),
            response_median=Percentile(response, 0.5),
            response_p90=Percentile(response, 0.9),
            resolution_median=Percentile(resolution, 0.5),
            resolution_p90=Percentile(resolution, 0.9),
            with_sla=Count("pk", filter=with_sla),
            breached=Count("pk", filter=with_sla & breached),
        )
    )
    rows = []
    for values in figures:
        group = values[key]
        numbers = {
            name: (values[name] / HOUR if values[name] is not None else None)
            for name in ("response_median", "response_p90", "resolution_median", "resolution_p90")
        }
        numbers["count"] = values["count"]
        numbers["with_sla"] = values["with_sla"]
        numbers["breached"] = values["breached"]
        numbers["attainment"] = (
            (values["with_sla"] - values["breached"]) / values["with_sla"]
            if values["with_sla"]
            else None
        )
        filters = scope.inbox_filters()
        filters[by] = str(group) if group is not None else "none"
        rows.append(Row(str(group or ""), str(values[label] or ""), numbers, filters))
    return sorted(rows, key=lambda row: (-row.values["count"], row.label))


def reopened_and_rated(scope: Scope) -> dict:
    """Of the requests received in the period: how many were finished,
    how many of those a member reopened, and the ratings given."""
    reopened = TicketEvent.objects.filter(
        ticket=OuterRef("pk"),
        kind=TicketEvent.Kind.STATUS,
        data__from__in=list(FINISHED),
        data__to__in=list(OPEN),
    )
    figures = received(scope).aggregate(
        finished=Count("pk", filter=Q(resolved_at__isnull=False)),
        reopened=Count("pk", filter=Q(Exists(reopened))),
        rated=Count("pk", filter=Q(rating__isnull=False)),
        rating_average=Avg("rating"),
        **{f"rating_{n}": Count("pk", filter=Q(rating=n)) for n in range(1, 6)},
    )
    figures["reopen_rate"] = (
        figures["reopened"] / figures["finished"] if figures["finished"] else None
    )
    return figures


# Appointments that stand: booked, held or missed. A member who did not
# come still had the advisor's time, so a no-show counts as booked time.
STANDING = (Appointment.Status.BOOKED, Appointment.Status.ATTENDED, Appointment.Status.NO_SHOW)


def appointments_by_advisor(scope: Scope) -> tuple[list[Row], Row]:
    """Per advisor for the period: the hours offered, the hours booked and
    the share of the offered hours they are, how many appointments were
    booked (all that stand), held, missed and cancelled, and the no-show
    rate (missed of those with an outcome); and a total row. Appointments
    count by their start; advisors belong to no team or estate, so the
    scope's period applies, its estate and team do not.

    Booked hours and the counts are one aggregate query for all advisors,
    never the appointments themselves. Offered hours are availability, not
    appointments: each advisor's weekly hours, date overrides, absences and
    the cooperative's holidays and closing days as the booking pages read
    them (appointments.selectors.availability_for, one query per kind for
    all advisors and days), summed by appointments.slots.offered_time.
    They are the hours as set today — no history of them is kept — and
    only of advisors who take bookings now: one who stopped offers nothing
    (their appointments still count).

    Blocked time (staff blocks, Appointment.Kind.BLOCK) is neither booked
    nor offered: the advisor took it off offer (a meeting, a site visit),
    as a shorter day's override would, so it comes off the offered hours;
    counting it as booked would report an advisor who blocks a whole week
    as fully used by members. The database keeps blocks and bookings from
    overlapping, so nothing is taken off twice."""
    period = Q(
        appointments__kind=Appointment.Kind.APPOINTMENT,
        appointments__starts_at__gte=scope.start,
        appointments__starts_at__lt=scope.end,
    )
    standing = Q(in_period__status__in=STANDING)
    advisors = list(
        Advisor.objects.select_related("user")
        .annotate(in_period=FilteredRelation("appointments", condition=period))
        .annotate(
            takes_bookings=Exists(Advisor.objects.bookable().filter(pk=OuterRef("pk"))),
            booked=Count("in_period", filter=standing),
            booked_seconds=Sum(
                Seconds("in_period__ends_at", "in_period__starts_at"), filter=standing
            ),
            attended=Count("in_period", filter=Q(in_period__status=Appointment.Status.ATTENDED)),
            no_show=Count("in_period", filter=Q(in_period__status=Appointment.Status.NO_SHOW)),
            cancelled=Count("in_period", filter=Q(in_period__status=Appointment.Status.CANCELLED)),
        )
        .order_by("user__last_name", "user__first_name", "pk")
    )
    offering = [advisor for advisor in advisors if advisor.takes_bookings]
    offered: dict[int, datetime.timedelta] = {}
    if offering:
        offered = offered_time(
            advisors=availability_for(
                offering,
                first_day=scope.first_day,
                last_day=scope.last_day,
                busy_kind=Appointment.Kind.BLOCK,
            ),
            # The page's copy of the cooperative (a minute old at most): a
            # figure of the past need not read the row again.
            calendar=calendar_current(cooperative_cached()),
            first_day=scope.first_day,
            last_day=scope.last_day,
        )
    rows = []
    total = {"offered": 0, "booked_seconds": 0, "booked": 0, "attended": 0, "no_show": 0,
             "cancelled": 0}  # fmt: skip
    for advisor in advisors:
        seconds = round(offered.get(advisor.pk, datetime.timedelta()).total_seconds())
        figures = {
            "offered": seconds,
            # julianday() on SQLite is a few microseconds off: whole seconds
            "booked_seconds": round(advisor.booked_seconds or 0),
            "booked": advisor.booked,
            "attended": advisor.attended,
            "no_show": advisor.no_show,
            "cancelled": advisor.cancelled,
        }
        if not (seconds or figures["booked"] or figures["cancelled"]):
            continue  # nothing offered or booked in the period
        for name, value in figures.items():
            total[name] += value
        rows.append(Row(str(advisor.pk), str(advisor), _use_values(figures)))
    return rows, Row("total", "", _use_values(total))


def _use_values(figures: dict) -> dict:
    outcome = figures["attended"] + figures["no_show"]
    offered = figures["offered"] / HOUR
    booked = figures["booked_seconds"] / HOUR
    return {
        "offered_hours": offered,
        "booked_hours": booked,
        "share": booked / offered if offered else None,
        "booked": figures["booked"],
        "attended": figures["attended"],
        "no_show": figures["no_show"],
        "no_show_rate": figures["no_show"] / outcome if outcome else None,
        "cancelled": figures["cancelled"],
    }


def may_see(user) -> bool:
    """The dashboard is the team leads' and the management's (admins)."""
    return user.is_lead_or_admin


def previous(scope: Scope) -> Scope:
    """The period of the same length just before the scope's."""
    length = scope.last_day - scope.first_day + datetime.timedelta(days=1)
    return Scope(
        scope.first_day - length,
        scope.first_day - datetime.timedelta(days=1),
        estate_id=scope.estate_id,
        team_id=scope.team_id,
    )


def rising(scope: Scope, dimension: str, *, english: bool = False, limit: int = 5) -> list[Row]:
    """Focal points: the request types or estates whose requests rose most
    against the period before (one query for both periods), those with
    most more first; only those that rose."""
    key, label, name = DIMENSIONS[dimension]
    if dimension == "request_type" and english:
        label = "request_type__name_en"
    before = previous(scope)
    now_part = Q(created_at__gte=scope.start)
    tickets = _scoped(
        Ticket.objects.filter(created_at__gte=before.start, created_at__lt=scope.end), scope
    )
    rows = []
    for values in (
        tickets.order_by()
        .values(key, label)
        .annotate(now=Count("pk", filter=now_part), before=Count("pk", filter=~now_part))
    ):
        if values["now"] <= values["before"]:
            continue
        filters = scope.inbox_filters()
        filters[name] = str(values[key]) if values[key] is not None else "none"
        if values[key] is None and dimension == "estate":
            filters = {}  # requests without a flat: the inbox has no such filter
        rows.append(
            Row(
                str(values[key] or ""),
                str(values[label] or ""),
                {"now": values["now"], "before": values["before"],
                 "change": values["now"] - values["before"]},
                filters,
            )
        )  # fmt: skip
    rows.sort(key=lambda row: (-row.values["change"], -row.values["now"], row.label))
    return rows[:limit]


def heat(scope: Scope, *, english: bool = False) -> tuple[list[tuple[str, str]], list[Row]]:
    """Requests received per estate (rows) and request type (columns):
    the types that occur, and a row per estate with a count per type."""
    type_label = "request_type__name_en" if english else "request_type__name_de"
    cells = (
        received(scope)
        .order_by()
        .values(
            "unit__building__estate_id",
            "unit__building__estate__name",
            "request_type_id",
            type_label,
        )
        .annotate(count=Count("pk"))
    )
    types: dict[str, str] = {}
    estates: dict[str, Row] = {}
    for cell in cells:
        type_key = str(cell["request_type_id"])
        types[type_key] = cell[type_label]
        estate_key = str(cell["unit__building__estate_id"] or "")
        row = estates.setdefault(
            estate_key, Row(estate_key, cell["unit__building__estate__name"] or "", {}, {})
        )
        row.values[type_key] = cell["count"]
        if estate_key:  # requests without a flat: the inbox has no such filter
            filters = scope.inbox_filters()
            filters.update({"request_type": type_key, "estate": estate_key})
            row.filters[type_key] = filters
    columns = sorted(types.items(), key=lambda item: item[1])
    return columns, sorted(estates.values(), key=lambda row: row.label)
