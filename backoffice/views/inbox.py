"""The central inbox (“Bearbeitung”): every request a handler may see, in
views (mine, my teams, triage, overdue, all), filtered, searched, sorted by
due date and paged with a keyset (no OFFSET: page 40 costs what page 1 costs,
and a request filed meanwhile never shifts rows between pages)."""

import datetime

from django import forms
from django.contrib import messages
from django.db.models import Count, F, Q
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from accounts.models import User
from audit.services import access_record
from backoffice.forms import BulkForm
from cooperative.models import Building
from core.decorators import staff_required
from routing.models import Team
from tickets import services
from tickets.models import Channel, RequestType, Status, Ticket
from tickets.search import ticket_search

PAGE_SIZE = 25
CLOSED_STATES = (Status.RESOLVED, Status.CLOSED)

VIEWS = {
    "mine": gettext_lazy("Assigned to me"),
    "teams": gettext_lazy("My teams"),
    "triage": gettext_lazy("Not yet assigned"),
    "overdue": gettext_lazy("Overdue"),
    "all": gettext_lazy("All requests"),
}
SORTS = {
    "due": gettext_lazy("Due date, earliest first"),
    "newest": gettext_lazy("Newest first"),
}
AGES = {
    "today": gettext_lazy("today"),
    "7": gettext_lazy("in the last 7 days"),
    "30": gettext_lazy("in the last 30 days"),
    "older": gettext_lazy("more than 30 days ago"),
}
ANY = ("", gettext_lazy("any"))
NOBODY = "none"


def _choice(label, choices, message):
    return forms.ChoiceField(
        label=label,
        choices=[ANY, *choices],
        required=False,
        error_messages={"invalid_choice": message},
    )


class InboxFilterForm(forms.Form):
    """The filters of the inbox, all optional. A bad value (an edited link, an
    option deleted meanwhile) is reported and ignored; the others still apply."""

    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "Reference, member name or number, request type or words from the request."
        ),
        error_messages={"max_length": gettext_lazy("Enter at most 200 characters.")},
    )
    status = _choice(
        gettext_lazy("Status"), Status.choices, gettext_lazy("Choose a status from the list.")
    )
    request_type = _choice(
        gettext_lazy("Request type"), [], gettext_lazy("Choose a request type from the list.")
    )
    estate = _choice(gettext_lazy("Estate"), [], gettext_lazy("Choose an estate from the list."))
    building = _choice(
        gettext_lazy("Building"), [], gettext_lazy("Choose a building from the list.")
    )
    channel = _choice(
        gettext_lazy("Channel"), Channel.choices, gettext_lazy("Choose a channel from the list.")
    )
    assignee = _choice(gettext_lazy("Handler"), [], gettext_lazy("Choose a handler from the list."))
    age = _choice(
        gettext_lazy("Received"),
        list(AGES.items()),
        gettext_lazy("Choose a time span from the list."),
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        choices=list(SORTS.items()),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a sort order from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Three queries for all options; checking a submitted value against
        # them costs none (a ModelChoiceField would query once per filter).
        self.fields["request_type"].choices = [
            ANY,
            *((str(t.pk), t.name) for t in RequestType.objects.order_by("name_de")),
        ]
        buildings = list(Building.objects.select_related("estate").order_by("street", "pk"))
        estates = {b.estate_id: b.estate for b in buildings}
        self.fields["estate"].choices = [
            ANY,
            *((str(e.pk), e.name) for e in sorted(estates.values(), key=lambda e: e.name)),
        ]
        self.fields["building"].choices = [ANY, *((str(b.pk), str(b)) for b in buildings)]
        staff = (
            User.objects.filter(is_staff=True, is_active=True)
            .only("first_name", "last_name", "email")
            .order_by("first_name", "last_name", "pk")
        )
        # Shared with the bulk form on the same page: one query for both.
        self.staff = [(str(u.pk), u.get_full_name() or u.email) for u in staff]
        self.fields["assignee"].choices = [
            ANY,
            (NOBODY, _("nobody (not assigned)")),
            *self.staff,
        ]

    def valid_params(self) -> dict[str, str]:
        """The submitted values that passed, as they go into links."""
        return {
            name: self.data[name]
            for name in self.fields
            if name not in self.errors and self.data.get(name)
        }


def _view_conditions(user, now) -> dict[str, Q]:
    is_open = ~Q(status__in=CLOSED_STATES)
    my_teams = Team.objects.filter(Q(members=user) | Q(lead=user)).values("pk")
    return {
        "mine": is_open & Q(assignee=user),
        "teams": is_open & Q(team__in=my_teams),
        "triage": is_open & (Q(team__isnull=True) | Q(assignee__isnull=True)),
        "overdue": is_open
        & (Q(due_at__lt=now) | Q(first_response_at__isnull=True, first_response_due_at__lt=now)),
        "all": Q(),
    }


def _filtered(tickets, data: dict, now):
    if data.get("request_type"):
        tickets = tickets.filter(request_type_id=int(data["request_type"]))
    if data.get("estate"):
        tickets = tickets.filter(unit__building__estate_id=int(data["estate"]))
    if data.get("building"):
        tickets = tickets.filter(unit__building_id=int(data["building"]))
    if data.get("status"):
        tickets = tickets.filter(status=data["status"])
    if data.get("channel"):
        tickets = tickets.filter(channel=data["channel"])
    if data.get("assignee") == NOBODY:
        tickets = tickets.filter(assignee__isnull=True)
    elif data.get("assignee"):
        tickets = tickets.filter(assignee_id=int(data["assignee"]))
    age = data.get("age")
    if age == "today":
        midnight = timezone.make_aware(
            datetime.datetime.combine(timezone.localdate(now), datetime.time.min)
        )
        tickets = tickets.filter(created_at__gte=midnight)
    elif age in ("7", "30"):
        tickets = tickets.filter(created_at__gte=now - datetime.timedelta(days=int(age)))
    elif age == "older":
        tickets = tickets.filter(created_at__lt=now - datetime.timedelta(days=30))
    return tickets


# Keyset pagination ---------------------------------------------------------
# The "after" parameter is the sort key of the last row shown, in plain text
# ("due|<due or ->|<created>|<pk>" or "newest|<created>|<pk>", UTC ISO dates).
# It needs no signature: it only says where to continue, and every row is
# still filtered by what the user may see.


def _order(sort: str) -> list:
    if sort == "newest":
        return ["-created_at", "-pk"]
    return [F("due_at").asc(nulls_last=True), "created_at", "pk"]


def _cursor(ticket: Ticket, sort: str) -> str:
    created = ticket.created_at.astimezone(datetime.UTC).isoformat()
    if sort == "newest":
        return f"newest|{created}|{ticket.pk}"
    due = ticket.due_at.astimezone(datetime.UTC).isoformat() if ticket.due_at else "-"
    return f"due|{due}|{created}|{ticket.pk}"


def _moment(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(datetime.UTC)  # OverflowError at the ends of the calendar


def _after(value: str, sort: str) -> Q:
    """Rows after the cursor in the given order; ValueError if it is not one."""
    parts = value.split("|")
    if parts[0] != sort or len(parts) != (3 if sort == "newest" else 4):
        raise ValueError("cursor for another order")
    pk = int(parts[-1])
    if not 0 < pk < 2**63:
        raise ValueError("pk out of range")
    created = _moment(parts[-2])
    same_created_later = Q(created_at=created, pk__gt=pk)
    if sort == "newest":
        return Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk)
    if parts[1] == "-":
        return Q(due_at__isnull=True) & (Q(created_at__gt=created) | same_created_later)
    due = _moment(parts[1])
    return (
        Q(due_at__gt=due)
        | Q(due_at=due, created_at__gt=created)
        | (Q(due_at=due) & same_created_later)
        | Q(due_at__isnull=True)
    )


def _url(params: dict) -> str:
    query = QueryDict(mutable=True)
    query.update({k: v for k, v in params.items() if v})
    return "?" + query.urlencode() if query else "?"


def _ticket_url(reference: str) -> str | None:
    try:
        return reverse("backoffice:ticket", args=[reference])
    except NoReverseMatch:  # the detail screen is optional for this list
        return None


def _listing(request) -> dict:
    """The rows and controls of the inbox page, from the query string."""
    user = request.user
    now = timezone.now()
    visible = Ticket.objects.visible_to_staff(user)
    conditions = _view_conditions(user, now)
    counts = visible.aggregate(
        **{name: Count("pk", filter=condition or None) for name, condition in conditions.items()}
    )

    view = request.GET.get("view")
    if view not in VIEWS:
        view = "mine" if counts["mine"] else "teams"
    form = InboxFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    sort = data.get("sort") or "due"
    query = data.get("q", "").strip()

    tickets = _filtered(visible.filter(conditions[view]), data, now)
    tickets = ticket_search(tickets, query)
    after = request.GET.get("after", "")
    if after:
        try:
            tickets = tickets.filter(_after(after, sort))
        except (ValueError, OverflowError):
            after = ""
            form.add_error(
                None,
                _("The link to the next page was not valid, so the list starts from the top."),
            )
    rows = list(
        tickets.select_related(
            "request_type", "member", "unit__building", "team", "assignee"
        ).order_by(*_order(sort))[: PAGE_SIZE + 1]
    )
    has_next, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]

    if query:
        # Searching for a name or member number is looking up member data.
        access_record(
            request=request,
            action="search",
            subject=_("Inbox search: %(query)s") % {"query": query},
        )

    today = timezone.localdate(now)
    for ticket in rows:
        ticket.inbox_url = _ticket_url(ticket.reference)
        ticket.inbox_overdue = ticket.status not in CLOSED_STATES and (
            (ticket.due_at is not None and ticket.due_at < now)
            or (
                ticket.first_response_at is None
                and ticket.first_response_due_at is not None
                and ticket.first_response_due_at < now
            )
        )
        ticket.bulk_value = f"{ticket.pk}:{ticket.version}"
        ticket.age_days = (today - timezone.localdate(ticket.created_at)).days

    params = form.valid_params()
    filters = [name for name in params if name not in ("q", "sort")]
    # The filter panel stays open while a filter applies or needs correcting.
    filters_open = bool(
        filters or params.get("sort") == "newest" or set(form.errors) - {"q", "__all__"}
    )
    tabs = [
        {
            "name": name,
            "label": label,
            "count": counts[name],
            "url": _url({**params, "view": name}),
            "current": name == view,
        }
        for name, label in VIEWS.items()
    ]
    return {
        "visible": visible,
        "form": form,
        "view": view,
        "view_label": VIEWS[view],
        "sort_label": SORTS[sort],
        "tabs": tabs,
        "tickets": rows,
        "first_url": _url({**params, "view": view}) if after else None,
        "next_url": (
            _url({**params, "view": view, "after": _cursor(rows[-1], sort)}) if has_next else None
        ),
        "clear_url": _url({"view": view}),
        "filters_active": len(filters),
        "filters_open": filters_open,
    }


def _bulk_message(request, outcome: services.BulkOutcome, done: str) -> None:
    if outcome.changed:
        messages.success(
            request,
            ngettext(
                "%(done)s: %(count)d request (%(references)s).",
                "%(done)s: %(count)d requests (%(references)s).",
                len(outcome.changed),
            )
            % {
                "done": done,
                "count": len(outcome.changed),
                "references": ", ".join(outcome.changed),
            },
        )
    if outcome.conflicts:
        messages.warning(
            request,
            _(
                "Left unchanged because a colleague changed them after your list was "
                "loaded: %(references)s. Please look at them again."
            )
            % {"references": ", ".join(outcome.conflicts)},
        )
    if outcome.skipped:
        messages.info(
            request,
            _("Not possible for these requests (already closed or in that status): %(references)s.")
            % {"references": ", ".join(outcome.skipped)},
        )


@staff_required
@require_http_methods(["GET", "POST"])
def inbox(request):
    bulk_form = None
    if request.method == "POST":
        bulk_form = BulkForm(request.POST, tickets=Ticket.objects.visible_to_staff(request.user))
        if bulk_form.is_valid():
            data = bulk_form.cleaned_data
            if data["action"] == "assign":
                outcome = services.tickets_bulk_assign(
                    selection=data["selection"],
                    actor=request.user,
                    team=data["team"],
                    assignee=data["assignee"],
                )
                _bulk_message(request, outcome, _("Assigned"))
            else:
                outcome = services.tickets_bulk_status(
                    selection=data["selection"], actor=request.user, status=data["status"]
                )
                _bulk_message(
                    request, outcome, _("Status changed to “%s”") % Status(data["status"]).label
                )
            # Back to the same view, filters and page.
            return redirect(request.get_full_path())
    context = _listing(request)
    if bulk_form is None:
        bulk_form = BulkForm(tickets=context["visible"])
    bulk_form.fields["assignee"].choices = [("", "---------"), *context["form"].staff]
    context["bulk_form"] = bulk_form
    context["checked"] = bulk_form.checked()
    return render(request, "backoffice/inbox.html", context)
