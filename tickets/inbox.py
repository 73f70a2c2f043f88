"""The staff inbox as queries: the views (mine, my teams, triage, overdue,
all) with their counts, the filters, search, the sort orders, the signals
of each row (news from the member since the viewer's last look, the latest
activity) and keyset paging. Plain data in, rows and counts out, so the inbox page, the JSON API
and dashboards show the same requests and the same numbers.

Keyset paging, not OFFSET: page 40 costs what page 1 costs, and a request
filed meanwhile never shifts rows between pages."""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import User
from routing.models import Priority, Team
from tickets.models import (
    FINISHED,
    OPEN,
    Ticket,
    TicketQuerySet,
    TicketVisit,
    late_condition,
    open_condition,
)
from tickets.search import ticket_search

PAGE_SIZE = 25
VIEWS = ("mine", "teams", "triage", "overdue", "all")
# "action" (needs action) is the default: a handler opening the inbox wants
# what needs them now on top, not merely the earliest deadline; the other
# orders are one click away.
SORTS = ("action", "due", "newest")  # the first is the default
# The needs-action ranks, most pressing first: an open emergency; news from
# the member the viewer has not seen (a new request, a reply, a reopening);
# other open work; finished requests (nothing to do).
RANK_EMERGENCY, RANK_MEMBER_NEWS, RANK_OPEN, RANK_FINISHED = range(4)
AGES = ("today", "7", "30", "older")
NOBODY = "none"  # the "assignee" filter for requests nobody has yet


class InvalidCursor(ValueError):
    """The `after` value is not a position in this sort order (an edited or
    outdated link)."""


@dataclass(frozen=True)
class InboxPage:
    view: str  # the view shown: the one asked for, else the default
    counts: dict[
        str, int | None
    ]  # open requests per view the user may see, unfiltered; None: not counted
    rows: list[Ticket]
    next_after: str | None  # the cursor for the next page; None on the last page

    @property
    def has_next(self) -> bool:
        return self.next_after is not None


def view_conditions(*, user: User, now: datetime.datetime) -> dict[str, Q | None]:
    """Each view but "all" as a condition on open requests (None: every
    request, finished ones too). Without the open part itself, so one
    query over the open requests counts them all from an index alone."""
    return {
        "mine": Q(assignee=user),
        "teams": Q(team__in=Team.objects.with_member(user).values("pk")),
        "triage": Q(team__isnull=True) | Q(assignee__isnull=True),
        "overdue": late_condition(now),
        "all": None,
    }


def filtered(
    tickets: TicketQuerySet, *, filters: Mapping[str, str], now: datetime.datetime
) -> TicketQuerySet:
    """Apply the inbox filters. Values come validated (ids as digit strings,
    codes from the choices); a missing or empty one does not filter."""
    if filters.get("request_type"):
        tickets = tickets.filter(request_type_id=int(filters["request_type"]))
    if filters.get("estate"):
        tickets = tickets.filter(unit__building__estate_id=int(filters["estate"]))
    if filters.get("building"):
        tickets = tickets.filter(unit__building_id=int(filters["building"]))
    if filters.get("status"):
        tickets = tickets.filter(status=filters["status"])
    if filters.get("channel"):
        tickets = tickets.filter(channel=filters["channel"])
    if filters.get("assignee") == NOBODY:
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.get("assignee"):
        tickets = tickets.filter(assignee_id=int(filters["assignee"]))
    if filters.get("team") == NOBODY:
        tickets = tickets.filter(team__isnull=True)
    elif filters.get("team"):
        tickets = tickets.filter(team_id=int(filters["team"]))
    if filters.get("state") == "open":
        tickets = tickets.filter(status__in=OPEN)
    elif filters.get("state") == "finished":
        tickets = tickets.filter(status__in=FINISHED)
    zone = timezone.get_default_timezone()
    if filters.get("received_from"):
        start = datetime.datetime.combine(filters["received_from"], datetime.time(), zone)
        tickets = tickets.filter(created_at__gte=start)
    if filters.get("received_to"):
        after = filters["received_to"] + datetime.timedelta(days=1)
        tickets = tickets.filter(
            created_at__lt=datetime.datetime.combine(after, datetime.time(), zone)
        )
    age = filters.get("age")
    if age == "today":
        # Today in the office's time zone, not in UTC.
        midnight = timezone.make_aware(
            datetime.datetime.combine(timezone.localdate(now), datetime.time.min)
        )
        tickets = tickets.filter(created_at__gte=midnight)
    elif age in ("7", "30"):
        tickets = tickets.filter(created_at__gte=now - datetime.timedelta(days=int(age)))
    elif age == "older":
        tickets = tickets.filter(created_at__lt=now - datetime.timedelta(days=30))
    return tickets


def with_signals(tickets: TicketQuerySet, *, user: User) -> TicketQuerySet:
    """Annotate what the inbox shows and sorts by, in the rows query itself
    (subqueries, no query per row):

    * `visited`: `user` opened the request's work page before (TicketVisit);
    * `member_news`: the request is open and the member did something (filed,
      wrote, reopened) after `user` last opened it, or `user` never did;
    * `last_activity_at`: the latest of filing, member and office activity;
    * `action_rank`: the needs-action rank (RANK_*)."""
    visits = TicketVisit.objects.filter(user=user, ticket=OuterRef("pk"))
    # Requests filed before member activity was recorded have none: their
    # filing is the member's latest activity.
    tickets = tickets.annotate(
        member_at=Coalesce("member_activity_at", "created_at"),
        last_activity_at=Greatest(
            Coalesce("member_activity_at", "created_at"),
            Coalesce("office_activity_at", "created_at"),
        ),
    )
    news = open_condition() & ~Exists(visits.filter(seen_at__gte=OuterRef("member_at")))
    return tickets.annotate(
        visited=Exists(visits),
        member_news=ExpressionWrapper(news, output_field=BooleanField()),
        action_rank=Case(
            When(~open_condition(), then=Value(RANK_FINISHED)),
            When(priority=Priority.EMERGENCY, then=Value(RANK_EMERGENCY)),
            When(news, then=Value(RANK_MEMBER_NEWS)),
            default=Value(RANK_OPEN),
        ),
    )


# Keyset pagination ---------------------------------------------------------
# The cursor is the sort key of the last row shown, in plain text
# ("action|<rank>|<due or ->|<created>|<pk>", "due|<due or ->|<created>|<pk>"
# or "newest|<created>|<pk>", UTC ISO dates). It needs no signature: it only
# says where to continue, and every row is still filtered by what the user
# may see. A request whose needs-action rank changes meanwhile (the handler
# opened it in another tab) may show on two pages or on none; the next
# load of the first page has it in its place.

CURSOR_PARTS = {"action": 5, "due": 4, "newest": 3}


def ordering(sort: str) -> list:
    if sort == "newest":
        return ["-created_at", "-pk"]
    by_due = [F("due_at").asc(nulls_last=True), "created_at", "pk"]
    if sort == "action":
        return ["action_rank", *by_due]
    return by_due


def cursor(ticket: Ticket, *, sort: str) -> str:
    created = ticket.created_at.astimezone(datetime.UTC).isoformat()
    if sort == "newest":
        return f"newest|{created}|{ticket.pk}"
    due = ticket.due_at.astimezone(datetime.UTC).isoformat() if ticket.due_at else "-"
    if sort == "action":
        return f"action|{ticket.action_rank}|{due}|{created}|{ticket.pk}"
    return f"due|{due}|{created}|{ticket.pk}"


def _moment(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(datetime.UTC)  # OverflowError at the ends of the calendar


def _after(value: str, sort: str) -> Q:
    """Rows after the cursor in the given order; ValueError if it is not one."""
    parts = value.split("|")
    if parts[0] != sort or len(parts) != CURSOR_PARTS[sort]:
        raise ValueError("cursor for another order")
    pk = int(parts[-1])
    if not 0 < pk < 2**63:
        raise ValueError("pk out of range")
    created = _moment(parts[-2])
    same_created_later = Q(created_at=created, pk__gt=pk)
    if sort == "newest":
        return Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk)
    if parts[-3] == "-":
        by_due = Q(due_at__isnull=True) & (Q(created_at__gt=created) | same_created_later)
    else:
        due = _moment(parts[-3])
        by_due = (
            Q(due_at__gt=due)
            | Q(due_at=due, created_at__gt=created)
            | (Q(due_at=due) & same_created_later)
            | Q(due_at__isnull=True)
        )
    if sort == "due":
        return by_due
    ranks = {str(rank): rank for rank in range(RANK_FINISHED + 1)}
    rank = ranks[parts[1]]  # KeyError for anything else: not a cursor
    return Q(action_rank__gt=rank) | (Q(action_rank=rank) & by_due)


def after_condition(value: str, *, sort: str) -> Q:
    """The rows after the cursor `value` in `sort` order."""
    try:
        return _after(value, sort)
    except (ValueError, OverflowError, KeyError) as error:
        raise InvalidCursor(value) from error


def inbox_page(
    *,
    user: User,
    view: str | None,
    filters: Mapping[str, str],
    sort: str,
    search: str,
    after: str,
    now: datetime.datetime,
    size: int = PAGE_SIZE,
) -> InboxPage:
    """One page of the inbox in three queries: the counts of every view, the
    page's place in the order (one more than fit, to know whether a next
    page exists), then its rows, each with its signals for `user`
    (with_signals).

    An unknown `view` shows "mine", or "teams" while nothing is assigned to
    the user. Raises InvalidCursor, before any query, for an `after` that is
    not a position in `sort` order."""
    sort = sort if sort in SORTS else SORTS[0]
    after_rows = after_condition(after, sort=sort) if after else None
    visible = Ticket.objects.visible_to_staff(user)
    conditions = view_conditions(user=user, now=now)
    # Counted over open requests only (the partial indexes of Ticket.Meta):
    # "all" has years of finished ones and no count; counting them on every
    # page view read the whole table.
    counts: dict[str, int | None] = visible.filter(open_condition()).aggregate(
        **{
            # COUNT(CASE …), not COUNT(id) FILTER: no column outside the index.
            name: Count(Case(When(condition, then=Value(1))))
            for name, condition in conditions.items()
            if condition is not None
        }
    )
    counts.update({name: None for name, condition in conditions.items() if condition is None})
    if view not in VIEWS:
        view = "mine" if counts["mine"] else "teams"
    if conditions[view] is not None:
        visible = visible.filter(open_condition() & conditions[view])
    chosen = filtered(visible, filters=filters, now=now)

    def matching(within: Q | None = None):
        found = with_signals(ticket_search(chosen, search, within=within), user=user)
        return found.filter(after_rows) if after_rows is not None else found

    # Rank first, then load: the order needs the signals of every matching
    # row (hundreds for a busy handler), the page only the columns and
    # related rows of one page. Joined over all of them, the members, flats
    # and buildings were read whole and the wide rows sorted.
    if sort == "action":
        # Every open request ranks before every finished one (RANK_FINISHED
        # is last): the finished ones — most of a search over all requests —
        # are looked at only when the open ones do not fill the page; and
        # the search looks in each part only.
        ranked = matching(open_condition()).filter(open_condition()).order_by(*ordering(sort))
        page_ids = list(ranked.values_list("pk", flat=True)[: size + 1])
        # The other views and an open status filter hold open ones only.
        finished_too = conditions[view] is None and filters.get("status", "") not in OPEN
        if finished_too and len(page_ids) <= size:
            # All of the same rank: by deadline, without the signals.
            # The search is not narrowed to finished ones here: they are
            # most requests, and their status condition in each lookup
            # made the planners read them all.
            finished = matching().filter(status__in=FINISHED)
            finished = finished.order_by(*ordering("due"))
            page_ids += list(finished.values_list("pk", flat=True)[: size + 1 - len(page_ids)])
    else:
        ranked = matching().order_by(*ordering(sort))
        page_ids = list(ranked.values_list("pk", flat=True)[: size + 1])
    rows = list(
        with_signals(Ticket.objects.filter(pk__in=page_ids), user=user)
        .select_related("request_type", "member", "unit__building", "team", "assignee")
        .defer("answers", "fields_snapshot")
        .order_by(*ordering(sort))
    )
    has_next, rows = len(rows) > size, rows[:size]
    return InboxPage(
        view=view,
        counts=counts,
        rows=rows,
        next_after=cursor(rows[-1], sort=sort) if has_next else None,
    )
