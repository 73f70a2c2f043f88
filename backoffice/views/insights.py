"""The team leads' dashboard (issue 14): where work piles up, in four
parts — what came in, what is open, how fast it went, how it ended — for
a period, an estate and a team. Every figure is computed by
insights.selectors in SQL and links to the inbox filtered to exactly the
requests behind it; every table can be downloaded as CSV (semicolons and
decimal commas for a German spreadsheet)."""

import csv
import datetime

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
from insights.selectors import Scope
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


def _figures(part: str, scope: Scope) -> dict:
    """The tables of one part: {name: (title, columns, rows)}."""
    english = (get_language() or "de").startswith("en")
    now = timezone.now()
    if part == "eingang":
        return {
            "type": (_("By request type"), selectors.incoming_by(scope, "request_type", english=english)),
            "channel": (_("By channel"), selectors.incoming_by(scope, "channel")),
            "estate": (_("By estate"), selectors.incoming_by(scope, "estate")),
        }  # fmt: skip
    if part == "rueckstand":
        buckets = selectors.age_days(now)
        tables = {
            "team": (_("Open by team"), selectors.backlog(scope, by="team", now=now)),
            "handler": (_("Open by handler"), selectors.backlog(scope, by="assignee", now=now)),
        }
        for _title, rows in tables.values():
            for row in rows:
                row.bucket_links = {
                    key: _inbox({**row.filters, **_bucket_filters(first, last)})
                    for key, (first, last) in buckets.items()
                }
        return tables
    if part == "zeiten":
        return {
            "team": (_("By team"), selectors.timings(scope, by="team")),
            "type": (_("By request type"), selectors.timings(scope, by="request_type", english=english)),
        }  # fmt: skip
    return {}


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
    tables = []
    for table, (title, rows) in _figures(part, scope).items():
        for row in rows:
            row.inbox_url = _inbox(row.filters)
        export_url = reverse("backoffice:insights_export", args=[csv_name[(part, table)]])
        tables.append({"name": table, "title": title, "rows": rows,
                       "csv": f"{export_url}?{urlencode(_query(request))}"})  # fmt: skip
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
        english = (get_language() or "de").startswith("en")
        context["previous"] = selectors.previous(scope)
        context["rising"] = [
            (_("Request types"), selectors.rising(scope, "request_type", english=english)),
            (_("Estates"), selectors.rising(scope, "estate")),
        ]
        for _title, rows in context["rising"]:
            for row in rows:
                row.inbox_url = _inbox(row.filters) if row.filters else ""
        columns, heat_rows = selectors.heat(scope, english=english)
        for row in heat_rows:
            row.cells = [
                (row.values.get(key, 0), _inbox(row.filters[key]) if key in row.filters else "")
                for key, _name in columns
            ]
        context["heat_columns"] = columns
        context["heat_rows"] = heat_rows
    if part == "ergebnis":
        context["outcome"] = selectors.reopened_and_rated(scope)
        context["appointments"] = selectors.appointments_use(scope)
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
}


@staff_required
@require_GET
def export(request, name):
    """One table of the dashboard as CSV, for the scope asked for."""
    _form, scope = _scope(request)
    if name == "eingang-tage":
        rows = [[_("Day"), _("Received")]] + [
            [day.isoformat(), str(count)] for day, count in selectors.incoming_per_day(scope)
        ]
    elif name in EXPORTS:
        part, table = EXPORTS[name]
        _title, found = _figures(part, scope)[table]
        keys = list(found[0].values) if found else []
        rows = [[_("Name"), *keys]] + [
            [row.label or "–", *(_number(row.values[key]) for key in keys)] for row in found
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
