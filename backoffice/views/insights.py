"""The team leads' dashboard (issue 14): where work piles up, in four
parts — what came in, what is open, how fast it went, how it ended — for
a period, an estate and a team. Every figure is computed by
insights.selectors in SQL and links to the inbox filtered to exactly the
requests behind it; every table can be downloaded as CSV (semicolons and
decimal commas for a German spreadsheet)."""

import csv
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cooperative.models import Estate
from core.decorators import staff_required
from core.widgets import Select
from insights import charts, selectors
from insights.selectors import Row, Scope
from routing.models import Team

PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}
PARTS = {
    "eingang": gettext_lazy("Incoming"),
    "rueckstand": gettext_lazy("Backlog"),
    "zeiten": gettext_lazy("Times and SLA"),
    "schwerpunkte": gettext_lazy("Focal points"),
    "ergebnis": gettext_lazy("Outcome"),
}


class ScopeForm(forms.Form):
    zeitraum = forms.ChoiceField(
        label=gettext_lazy("Period"),
        required=False,
        widget=Select,
        choices=[
            ("7", gettext_lazy("last 7 days")),
            ("30", gettext_lazy("last 30 days")),
            ("90", gettext_lazy("last 90 days")),
            ("365", gettext_lazy("last 365 days")),
            ("eigener", gettext_lazy("from … to …")),
        ],
        error_messages={"invalid_choice": gettext_lazy("Choose a period from the list.")},
    )
    von = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a date such as 2026-03-31.")},
    )
    bis = forms.DateField(
        label=gettext_lazy("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a date such as 2026-03-31.")},
    )
    wohnanlage = forms.TypedChoiceField(
        label=gettext_lazy("Estate"), required=False, coerce=int, empty_value=None, widget=Select
    )
    team = forms.TypedChoiceField(
        label=gettext_lazy("Team"), required=False, coerce=int, empty_value=None, widget=Select
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        every = [("", gettext_lazy("all"))]
        self.fields["wohnanlage"].choices = every + list(
            Estate.objects.order_by("name").values_list("pk", "name")
        )
        self.fields["team"].choices = every + list(
            Team.objects.order_by("name").values_list("pk", "name")
        )

    def clean(self):
        data = super().clean()
        if data.get("zeitraum") == "eigener":
            if not data.get("von") or not data.get("bis"):
                raise forms.ValidationError(_("Please give both dates of the period."))
            if data["bis"] < data["von"]:
                raise forms.ValidationError(_("The end of the period lies before its start."))
            if (data["bis"] - data["von"]).days > 3 * 366:
                raise forms.ValidationError(_("Please choose a period of at most three years."))
        return data

    def scope(self, today: datetime.date) -> Scope:
        """The scope asked for; the last 90 days for anything not valid."""
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("zeitraum") == "eigener":
            first, last = data["von"], data["bis"]
        else:
            days = PERIODS.get(data.get("zeitraum") or "90", 90)
            first, last = today - datetime.timedelta(days=days - 1), today
        return Scope(first, last, estate_id=data.get("wohnanlage"), team_id=data.get("team"))


def _inbox(filters: dict) -> str:
    return f"{reverse('backoffice:inbox')}?{urlencode(filters)}"


def _scope(request) -> tuple[ScopeForm, Scope]:
    if not selectors.may_see(request.user):
        raise Http404
    # Unasked, the last 90 days (what the period list then shows too).
    form = ScopeForm(request.GET or None, initial={"zeitraum": "90"})
    return form, form.scope(timezone.localdate())


@dataclass
class Table:
    """One table of a part, as the page shows it and its CSV gives it:
    `columns` are (key in each row's values, heading) after the rows'
    label column, whose heading is `label`; `extra` columns are in the CSV
    only (the counts behind a share the page shows)."""

    title: str
    label: str
    columns: list[tuple[str, str]]
    rows: list[Row]
    total: Row | None = None
    extra: list[tuple[str, str]] = field(default_factory=list)

    @property
    def headings(self) -> list[str]:
        return [self.label, *(heading for _key, heading in self.columns)]


def _incoming(scope: Scope, title: str, dimension: str) -> Table:
    english = (get_language() or "de").startswith("en")
    return Table(title, _("Name"), [("count", _("Received"))],
                 selectors.incoming_by(scope, dimension, english=english))  # fmt: skip


def _backlog(scope: Scope, by: str) -> Table:
    now = timezone.now()
    rows = selectors.backlog(scope, by=by, now=now)
    buckets = selectors.age_days(now)
    for row in rows:
        row.bucket_links = {
            key: _inbox({**row.filters, **_bucket_filters(first, last)})
            for key, (first, last) in buckets.items()
        }
    columns = [("total", _("Open")), ("0_2", _("0–2 days")), ("3_7", _("3–7 days")),
               ("8_30", _("8–30 days")), ("31", _("over 30 days")), ("overdue", _("Overdue"))]  # fmt: skip
    if by == "team":
        return Table(_("Open by team"), _("Team"), columns, rows)
    return Table(_("Open by handler"), _("Handler"), columns, rows)


def _timings(scope: Scope, title: str, by: str) -> Table:
    english = (get_language() or "de").startswith("en")
    columns = [
        ("count", _("Received")),
        ("response_median", _("First answer, median (h)")),
        ("response_p90", _("First answer, 90 in 100 (h)")),
        ("resolution_median", _("Solution, median (h)")),
        ("resolution_p90", _("Solution, 90 in 100 (h)")),
        ("attainment", _("Deadlines kept")),
    ]
    extra = [("with_sla", _("With a deadline")), ("breached", _("Deadline missed"))]
    rows = selectors.timings(scope, by=by, english=english)
    return Table(title, _("Name"), columns, rows, extra=extra)


def _rising(scope: Scope, title: str, dimension: str) -> Table:
    english = (get_language() or "de").startswith("en")
    rows = selectors.rising(scope, dimension, english=english)
    columns = [("now", _("Now")), ("before", _("Before")), ("change", _("More"))]
    return Table(_("%(title)s rising fastest") % {"title": title}, _("Name"), columns, rows)


def _heat(scope: Scope) -> Table:
    english = (get_language() or "de").startswith("en")
    columns, rows = selectors.heat(scope, english=english)
    for row in rows:
        # a type no request of the estate had: 0, in the CSV as on the page
        row.values = {key: row.values.get(key, 0) for key, _name in columns}
        row.cells = [
            (row.values[key], _inbox(row.filters[key]) if key in row.filters else "")
            for key, _name in columns
        ]
    return Table(_("Estates and request types"), _("Estate"), columns, rows)


def _outcome(scope: Scope) -> Table:
    """The requests' outcome as rows of one table (each figure a row):
    the page and the CSV the same."""
    figures = selectors.reopened_and_rated(scope)
    rated = figures["rated"]
    rows = [
        Row("finished", _("Solved"), {"value": figures["finished"], "share": None}),
        Row("reopened", _("Reopened by the member"),
            {"value": figures["reopened"], "share": figures["reopen_rate"]}),
        Row("rated", _("Rated"), {"value": rated, "share": None}),
        Row("rating_average", _("Average rating (1 to 5)"),
            {"value": figures["rating_average"], "share": None}),
    ] + [
        Row(f"rating_{n}", _("Rated %(rating)s of 5") % {"rating": n},
            {"value": figures[f"rating_{n}"],
             "share": figures[f"rating_{n}"] / rated if rated else None})
        for n in range(1, 6)
    ]  # fmt: skip
    return Table(_("Requests received in the period"), _("Figure"),
                 [("value", _("Value")), ("share", _("Share"))], rows)  # fmt: skip


def _advisors(scope: Scope) -> Table:
    rows, total = selectors.appointments_by_advisor(scope)
    total.label = _("All advisors")
    columns = [
        ("offered_hours", _("Offered (h)")),
        ("booked_hours", _("Booked (h)")),
        ("share", _("Share booked")),
        ("booked", _("Appointments")),
        ("attended", _("Held")),
        ("no_show", _("Did not come")),
        ("no_show_rate", _("No-show rate")),
        ("cancelled", _("Cancelled")),
    ]
    return Table(_("Appointments in the period"), _("Advisor"), columns, rows,
                 total=total if rows else None)  # fmt: skip


def _tables(part: str, scope: Scope) -> dict[str, Callable[[], Table]]:
    """The tables of one part, each computed when called (a CSV needs one)."""
    return {
        "eingang": {
            "type": lambda: _incoming(scope, _("By request type"), "request_type"),
            "channel": lambda: _incoming(scope, _("By channel"), "channel"),
            "estate": lambda: _incoming(scope, _("By estate"), "estate"),
        },
        "rueckstand": {
            "team": lambda: _backlog(scope, "team"),
            "handler": lambda: _backlog(scope, "assignee"),
        },
        "zeiten": {
            "team": lambda: _timings(scope, _("By team"), "team"),
            "type": lambda: _timings(scope, _("By request type"), "request_type"),
        },
        "schwerpunkte": {
            "type": lambda: _rising(scope, _("Request types"), "request_type"),
            "estate": lambda: _rising(scope, _("Estates"), "estate"),
            "matrix": lambda: _heat(scope),
        },
        "ergebnis": {
            "summary": lambda: _outcome(scope),
            "advisors": lambda: _advisors(scope),
        },
    }.get(part, {})


def _bucket_filters(first: datetime.date | None, last: datetime.date) -> dict:
    filters = {"received_to": last.isoformat()}
    if first is not None:
        filters["received_from"] = first.isoformat()
    return filters


@staff_required
@require_GET
def dashboard(request):
    form, scope = _scope(request)
    part = request.GET.get("teil", "eingang")
    if part not in PARTS:
        part = "eingang"
    csv_name = {place: name for name, place in EXPORTS.items()}
    tables = {}
    for name, compute in _tables(part, scope).items():
        table = compute()
        for row in table.rows:
            row.inbox_url = _inbox(row.filters) if row.filters else ""
        export_url = reverse("backoffice:insights_export", args=[csv_name[(part, name)]])
        table.name = name
        table.csv = f"{export_url}?{urlencode(_query(request))}"
        tables[name] = table
    context = {
        "form": form,
        "scope": scope,
        "part": part,
        "parts": [
            (key, label, f"?{urlencode({**_query(request), 'teil': key})}")
            for key, label in PARTS.items()
        ],
        "tables": tables,
        "query": urlencode(_query(request)),
        "inbox_all": _inbox(scope.inbox_filters()),
        "filtered": bool(scope.estate_id or scope.team_id),
    }
    if part == "eingang":
        days = selectors.incoming_per_day(scope)
        context["days"] = days
        context["chart"] = charts.bars(
            [(formats.date_format(day, "j.n."), count) for day, count in days],
            every=max(1, len(days) // 6),
        )
        context["received_total"] = sum(count for _day, count in days)
    if part == "schwerpunkte":
        context["previous"] = selectors.previous(scope)
    if part == "ergebnis" and tables["advisors"].rows:
        context["use_chart"] = charts.pairs(
            [
                (row.label, row.values["offered_hours"], row.values["booked_hours"])
                for row in tables["advisors"].rows
            ]
        )
    return render(request, "backoffice/insights/dashboard.html", context)


def _query(request) -> dict:
    """The scope's parameters as given (for the parts' links and CSV)."""
    return {
        name: request.GET[name]
        for name in ("zeitraum", "von", "bis", "wohnanlage", "team")
        if request.GET.get(name)
    }


def _number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return formats.number_format(round(value, 2), decimal_pos=2)
    return str(value)


EXPORTS = {
    # name: (part, table)
    "eingang-anliegenart": ("eingang", "type"),
    "eingang-kanal": ("eingang", "channel"),
    "eingang-wohnanlage": ("eingang", "estate"),
    "rueckstand-team": ("rueckstand", "team"),
    "rueckstand-bearbeitung": ("rueckstand", "handler"),
    "zeiten-team": ("zeiten", "team"),
    "zeiten-anliegenart": ("zeiten", "type"),
    "schwerpunkte-anliegenart": ("schwerpunkte", "type"),
    "schwerpunkte-wohnanlage": ("schwerpunkte", "estate"),
    "schwerpunkte-matrix": ("schwerpunkte", "matrix"),
    "ergebnis-anliegen": ("ergebnis", "summary"),
    "ergebnis-beratung": ("ergebnis", "advisors"),
}


@staff_required
@require_GET
def export(request, name):
    """One table of the dashboard as CSV, for the scope asked for: the
    page's headings (and the counts behind its shares), its rows and its
    total row."""
    _form, scope = _scope(request)
    if name == "eingang-tage":
        rows = [[_("Day"), _("Received")]] + [
            [day.isoformat(), str(count)] for day, count in selectors.incoming_per_day(scope)
        ]
    elif name in EXPORTS:
        part, table_name = EXPORTS[name]
        table = _tables(part, scope)[table_name]()
        columns = table.columns + table.extra
        found = table.rows + ([table.total] if table.total else [])
        rows = [[table.label, *(heading for _key, heading in columns)]] + [
            [row.label or "–", *(_number(row.values.get(key)) for key, _heading in columns)]
            for row in found
        ]
    else:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{name}_{scope.first_day:%Y-%m-%d}_{scope.last_day:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # the BOM: spreadsheets read the umlauts right
    writer = csv.writer(response, delimiter=";")
    writer.writerows(rows)
    return response
