"""The central inbox (“Bearbeitung”): every request a handler may see, in
views (mine, my teams, triage, overdue, all), filtered, searched, sorted
(needs action first by default, or by due date, or newest first) and paged,
each row marked when the member did something the handler has not seen yet.
The queries are tickets.inbox; this page adds the filter form, the bulk
actions, the audit record of searches and the links."""

from functools import partial

from django import forms
from django.contrib import messages
from django.db.models import F, Q, Value
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from audit.services import access_record
from backoffice.forms import BulkForm
from cooperative.models import Building, Estate
from core.decorators import staff_required
from core.widgets import Select
from routing.models import Team
from tickets import services
from tickets.inbox import NOBODY, SORTS, InvalidCursor, inbox_page
from tickets.models import Channel, RequestType, Status, Ticket

# Labels for the codes of tickets.inbox (VIEWS, SORTS, AGES), in its order.
VIEWS = {
    "mine": gettext_lazy("Assigned to me"),
    "teams": gettext_lazy("My teams"),
    "triage": gettext_lazy("Not yet assigned"),
    "overdue": gettext_lazy("Overdue"),
    "all": gettext_lazy("All requests"),
}
SORT_LABELS = {
    "action": gettext_lazy("Needs action: emergencies, news from the member, due soonest"),
    "due": gettext_lazy("Due date, earliest first"),
    "newest": gettext_lazy("Newest first"),
}
# The same orders, short, for the links above the list.
SORT_LINKS = {
    "action": gettext_lazy("Needs action"),
    "due": gettext_lazy("Due date"),
    "newest": gettext_lazy("Newest"),
}
AGES = {
    "today": gettext_lazy("today"),
    "7": gettext_lazy("in the last 7 days"),
    "30": gettext_lazy("in the last 30 days"),
    "older": gettext_lazy("more than 30 days ago"),
}
ANY = ("", gettext_lazy("any"))


def _choice(label, choices, message):
    return forms.ChoiceField(
        label=label,
        choices=[ANY, *choices],
        widget=Select,
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
    team = _choice(gettext_lazy("Team"), [], gettext_lazy("Choose a team from the list."))
    state = _choice(
        gettext_lazy("Open or finished"),
        [("open", gettext_lazy("open")), ("finished", gettext_lazy("finished"))],
        gettext_lazy("Choose open or finished from the list."),
    )
    # A period exactly (the dashboard's figures link here with one).
    received_from = forms.DateField(
        label=gettext_lazy("Received from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a date such as 2026-03-31.")},
    )
    received_to = forms.DateField(
        label=gettext_lazy("Received until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a date such as 2026-03-31.")},
    )
    age = _choice(
        gettext_lazy("Received"),
        list(AGES.items()),
        gettext_lazy("Choose a time span from the list."),
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        choices=[(code, SORT_LABELS[code]) for code in SORTS],
        widget=Select,
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a sort order from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One query for the request types', estates' and teams' options
        # (UNION ALL); checking a submitted value against them costs none
        # (a ModelChoiceField would query once per filter).
        english = (get_language() or "de").startswith("en")
        options: dict[str, list] = {"type": [], "estate": [], "team": []}

        def listed(model, german: str, english: str, kind: str):
            return (
                model.objects.order_by()
                .annotate(german=F(german), english=F(english), kind=Value(kind))
                .values_list("pk", "german", "english", "kind")
            )

        rows = listed(RequestType, "name_de", "name_en", "type").union(
            listed(Estate, "name", "name", "estate"), listed(Team, "name", "name", "team"), all=True
        )
        for pk, name_de, name_en, kind in rows:
            options[kind].append((str(pk), name_en if english and name_en else name_de))
        for kind in options:
            options[kind].sort(key=lambda option: (option[1].casefold(), int(option[0])))
        self.fields["request_type"].choices = [ANY, *options["type"]]
        self.fields["estate"].choices = [ANY, *options["estate"]]
        self.fields["team"].choices = [ANY, (NOBODY, _("no team (triage)")), *options["team"]]
        # The buildings of the chosen estate only (a cooperative has hundreds:
        # one list of all of them made the page long and slow to read). A
        # link with a building but no estate offers that building's estate.
        estate, building = self._digits("estate"), self._digits("building")
        if estate or building:
            same_estate = (
                Q(estate_id=estate)
                if estate
                else Q(estate__in=Building.objects.filter(pk=building).values("estate"))
            )
            self.fields["building"].choices = [
                ANY,
                *(
                    (str(b.pk), str(b))
                    for b in Building.objects.filter(same_estate).order_by("street", "pk")
                ),
            ]
        else:
            self.fields["building"].help_text = _("Choose an estate first.")
        staff = (
            User.objects.filter(is_staff=True, is_active=True)
            .only("first_name", "last_name", "email", "member")
            .order_by("first_name", "last_name", "pk")
        )
        # Shared with the bulk form on the same page: one query for both.
        self.staff = [(str(u.pk), u.get_full_name() or u.email) for u in staff]
        self.fields["assignee"].choices = [
            ANY,
            (NOBODY, _("nobody (not assigned)")),
            *self.staff,
        ]

    def _digits(self, name: str) -> int | None:
        value = self.data.get(name, "")
        return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None

    def valid_params(self) -> dict[str, str]:
        """The submitted values that passed, as they go into links."""
        return {
            name: self.data[name]
            for name in self.fields
            if name not in self.errors and self.data.get(name)
        }


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
    now = timezone.now()
    form = InboxFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    query = data.get("q", "").strip()
    sort = data.get("sort") or SORTS[0]
    page_of = partial(
        inbox_page,
        user=request.user,
        view=request.GET.get("view"),
        filters=data,
        sort=sort,
        search=query,
        now=now,
    )
    after = request.GET.get("after", "")
    try:
        page = page_of(after=after)
    except InvalidCursor:
        after = ""
        form.add_error(
            None, _("The link to the next page was not valid, so the list starts from the top.")
        )
        page = page_of(after="")
    view = page.view

    if query:
        # Searching for a name or member number is looking up member data.
        access_record(
            request=request,
            action="search",
            subject=_("Inbox search: %(query)s") % {"query": query},
        )

    today = timezone.localdate(now)
    for ticket in page.rows:
        ticket.inbox_url = _ticket_url(ticket.reference)
        ticket.inbox_overdue = ticket.is_overdue(now)
        ticket.bulk_value = f"{ticket.pk}:{ticket.version}"
        ticket.age_days = (today - timezone.localdate(ticket.created_at)).days

    params = form.valid_params()
    filters = [name for name in params if name not in ("q", "sort")]
    # The filter panel stays open while a filter applies or needs correcting
    # (not for another sort order: the links above the list show that one).
    filters_open = bool(filters or set(form.errors) - {"q", "__all__"})
    tabs = [
        {
            "name": name,
            "label": label,
            "count": page.counts[name],
            "url": _url({**params, "view": name}),
            "current": name == view,
        }
        for name, label in VIEWS.items()
    ]
    return {
        "form": form,
        "view": view,
        "view_label": VIEWS[view],
        "sort_label": SORT_LABELS[sort],
        "sorts": [
            {
                "label": SORT_LINKS[code],
                "url": _url({**params, "view": view, "sort": code}),
                "current": code == sort,
            }
            for code in SORTS
        ],
        "tabs": tabs,
        "tickets": page.rows,
        "first_url": _url({**params, "view": view}) if after else None,
        "next_url": (
            _url({**params, "view": view, "after": page.next_after}) if page.has_next else None
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
        bulk_form = BulkForm(tickets=Ticket.objects.visible_to_staff(request.user))
    bulk_form.fields["assignee"].choices = [("", "---------"), *context["form"].staff]
    context["bulk_form"] = bulk_form
    context["checked"] = bulk_form.checked()
    return render(request, "backoffice/inbox.html", context)
