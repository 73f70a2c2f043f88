"""Reading incidents: the requests the detector looks at (as plain
clusters.Report data), the incidents new reports are matched against, what
staff see and may do, and the incident a member's request belongs to."""

import datetime
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.roles import ADMIN, TEAM_LEAD
from core.request_cache import request_cached
from incidents.clusters import Profile, Report
from incidents.models import ACTIVE, Incident, IncidentStatus, IncidentTicket
from routing.models import Team
from tickets.models import FieldKind, Ticket

# Resolved and dismissed incidents stay on the staff list this long.
RECENT_DAYS = 14
_FREE_TEXT = (FieldKind.TEXT, FieldKind.TEXTAREA)


def report_text(fields_snapshot: list[dict], answers: dict) -> str:
    """What the member wrote in their own words: the free-text answers.
    Choices ("bathroom", "normal") are left out: every repair report has
    them, so they would make unrelated reports look alike."""
    parts = []
    for definition in fields_snapshot or []:
        value = (answers or {}).get(definition.get("key"))
        if definition.get("kind") in _FREE_TEXT and isinstance(value, str) and value.strip():
            parts.append(value.strip())
    return " ".join(parts)


def _report(row: dict) -> Report:
    return Report(
        id=row["pk"],
        building_id=row["unit__building_id"],
        request_type_id=row["request_type_id"],
        team_id=row["team_id"],
        text=report_text(row["fields_snapshot"], row["answers"]),
        created_at=row["created_at"],
    )


def reports_unlinked(*, since: datetime.datetime) -> list[Report]:
    """Open requests about a flat received since `since` that belong to no
    incident yet (a request once proposed, even in a dismissed proposal,
    is never proposed again). One query, plain values."""
    linked = IncidentTicket.objects.filter(ticket=OuterRef("pk"))
    rows = (
        Ticket.objects.open()
        .filter(created_at__gte=since, unit__isnull=False)
        .filter(~Exists(linked))
        .values(
            "pk",
            "unit__building_id",
            "request_type_id",
            "team_id",
            "fields_snapshot",
            "answers",
            "created_at",
        )
        .order_by("created_at", "pk")
    )
    return [_report(row) for row in rows]


def profiles_active() -> list[Profile]:
    """The proposed and open incidents with their buildings and their
    requests' texts, for matching new reports (three queries)."""
    incidents = list(
        Incident.objects.filter(status__in=ACTIVE).prefetch_related(
            "buildings",
            Prefetch(
                "links",
                queryset=IncidentTicket.objects.select_related("ticket").only(
                    "incident_id", "ticket__fields_snapshot", "ticket__answers"
                ),
            ),
        )
    )
    return [
        Profile(
            id=incident.pk,
            building_ids=frozenset(b.pk for b in incident.buildings.all()),
            request_type_id=incident.request_type_id,
            texts=(
                incident.title,
                *(
                    report_text(link.ticket.fields_snapshot, link.ticket.answers)
                    for link in incident.links.all()
                ),
            ),
        )
        for incident in incidents
    ]


# Staff ------------------------------------------------------------------------------
#
# Admins see and manage every incident. Everyone else sees the incidents of
# the teams they belong to or lead — read-only for handlers: they take the
# members' calls and should know about the heating outage, but accepting,
# dismissing and resolving (which resolves every linked request and
# e-mails every member) is for the team's lead. An incident without a team
# (requests still in triage) is for admins and team leads.


def _roles(user) -> frozenset[str]:
    """The person's admin and team-lead groups, read once per request."""
    return request_cached(
        ("incidents_roles", user.pk),
        lambda: frozenset(
            user.groups.filter(name__in=[ADMIN, TEAM_LEAD]).values_list("name", flat=True)
        ),
    )


def _is_admin(user) -> bool:
    return user.is_staff and (user.is_superuser or ADMIN in _roles(user))


def _is_lead(user) -> bool:
    return TEAM_LEAD in _roles(user)


def visible_condition(user) -> Q:
    if _is_admin(user):
        return Q()
    teams = Team.objects.filter(Q(members=user) | Q(lead=user)).values("pk")
    visible = Q(team__in=teams)
    if _is_lead(user):
        visible |= Q(team__isnull=True)
    return visible


def may_manage(user, incident: Incident) -> bool:
    """Accept, dismiss, resolve, publish a notice: the lead of the
    incident's team, or an admin (any team lead for one without a team)."""
    if not user.is_staff:
        return False
    if _is_admin(user):
        return True
    if incident.team_id is None:
        return _is_lead(user)
    return incident.team.lead_id == user.pk


def may_create_for(user, team: Team | None) -> bool:
    """Create an incident by hand for requests of this team."""
    if not user.is_staff:
        return False
    if _is_admin(user):
        return True
    if team is None:
        return _is_lead(user)
    return team.lead_id == user.pk


def may_create_any(user) -> bool:
    """Whether the person may create incidents at all (team leads, admins)."""
    return user.is_staff and (_is_admin(user) or _is_lead(user))


# A page of the staff list. Resolved and dismissed incidents leave it
# after RECENT_DAYS, proposed and open ones only when someone acts: a lead
# who never does leaves them piling up.
PAGE_SIZE = 50
# The list's sections, in their order on the page.
PROPOSED, OPEN, RECENT = range(3)


@dataclass
class StaffIncidents:
    page: Page  # the incidents of this page, section after section
    proposed: list[Incident] = field(default_factory=list)  # of this page
    open: list[Incident] = field(default_factory=list)
    recent: list[Incident] = field(default_factory=list)  # resolved or dismissed lately
    counts: dict[str, int] = field(default_factory=dict)  # each section's, every page


def incidents_for_staff(
    user, *, page: str | int | None = None, now: datetime.datetime | None = None
) -> StaffIncidents:
    """The list: proposals first, then open incidents, then those resolved
    or dismissed in the last RECENT_DAYS, the newest first in each,
    PAGE_SIZE at a time. A page number past the end gives the last page,
    nonsense the first. The sections' counts, the page (with its request
    counts) and its buildings: three queries."""
    if not user.is_staff:
        raise Http404
    now = now or timezone.now()
    before = now - datetime.timedelta(days=RECENT_DAYS)
    section = Case(
        When(status=IncidentStatus.PROPOSED, then=Value(PROPOSED)),
        When(status=IncidentStatus.OPEN, then=Value(OPEN)),
        default=Value(RECENT),
    )
    listed = (
        Incident.objects.filter(visible_condition(user))
        .filter(Q(status__in=ACTIVE) | Q(resolved_at__gte=before) | Q(dismissed_at__gte=before))
        .annotate(section=section)
    )
    names = {PROPOSED: "proposed", OPEN: "open", RECENT: "recent"}
    counts = dict.fromkeys(names.values(), 0)
    for row in listed.values("section").annotate(n=Count("pk")).order_by():
        counts[names[row["section"]]] = row["n"]
    requests = IncidentTicket.objects.filter(incident=OuterRef("pk")).order_by()
    rows = (
        listed.select_related("estate", "team", "request_type")
        .prefetch_related("buildings")
        # Counted for the page's rows only (a join and GROUP BY counted
        # every listed incident's requests before the page was cut).
        .annotate(
            ticket_count=Coalesce(
                Subquery(requests.values("incident").annotate(n=Count("pk")).values("n")), 0
            )
        )
        .order_by("section", "-created_at", "-pk")
    )
    pages = Paginator(rows, PAGE_SIZE)
    pages.count = sum(counts.values())  # known: the paginator need not count again
    found = StaffIncidents(page=pages.get_page(page), counts=counts)
    lists = {
        IncidentStatus.PROPOSED: found.proposed,
        IncidentStatus.OPEN: found.open,
        IncidentStatus.RESOLVED: found.recent,
        IncidentStatus.DISMISSED: found.recent,
    }
    for incident in found.page:
        lists[incident.status].append(incident)
    return found


def get_incident_for_staff(user, public_id) -> Incident:
    """One incident for the back office; 404 for anyone who may not see it."""
    if not user.is_staff:
        raise Http404
    incident = (
        Incident.objects.filter(visible_condition(user), public_id=public_id)
        .select_related(
            "estate",
            "team",
            "request_type",
            "created_by",
            "accepted_by",
            "dismissed_by",
            "resolved_by",
            "notice",
        )
        .prefetch_related("buildings")
        .first()
    )
    if incident is None:
        raise Http404
    return incident


def _links(incident: Incident):
    return incident.links.select_related(
        "ticket__request_type", "ticket__member", "ticket__unit__building", "ticket__assignee"
    ).order_by("ticket__created_at", "pk")


def incident_links(incident: Incident) -> list[IncidentTicket]:
    """The incident's requests with what the list shows of each (one query)."""
    return list(_links(incident))


def incident_links_page(incident: Incident, *, page: str | int | None = None) -> Page:
    """A page of the incident's requests (PAGE_SIZE; two queries): an
    estate's heating failure brings hundreds (bench/notices_incidents.py:
    300 on one page took 106-127 ms of CPU to render, 2.2-2.7 times the
    inbox's page; 50: ~40 ms)."""
    return Paginator(_links(incident), PAGE_SIZE).get_page(page)


def incident_for_ticket(ticket) -> Incident | None:
    """The incident being worked on that this request belongs to, for the
    member's request page ("Bekannte Störung: … — wird bearbeitet"); None
    for a proposal (not yet confirmed by anyone), a dismissed or resolved
    one. One query."""
    return (
        Incident.objects.filter(links__ticket=ticket, status=IncidentStatus.OPEN)
        .only("title", "public_text", "status")
        .first()
    )


@dataclass(frozen=True)
class TicketIncident:
    """What the staff's request page shows about incidents."""

    public_id: object | None
    title: str
    status: str
    may_create: bool  # no incident yet, and this person may create one

    def get_status_display(self) -> str:
        return IncidentStatus(self.status).label if self.status else ""


def ticket_incident_annotations() -> dict:
    """The incident a request belongs to (any status but dismissed), as
    annotations for the query that fetches the request
    (tickets.selectors.get_ticket_for_staff): the page asks nothing more."""
    link = IncidentTicket.objects.filter(ticket=OuterRef("pk")).exclude(
        incident__status=IncidentStatus.DISMISSED
    )
    return {
        "incident_public_id": Subquery(link.values("incident__public_id")[:1]),
        "incident_title": Subquery(link.values("incident__title")[:1]),
        "incident_status": Subquery(link.values("incident__status")[:1]),
    }


def ticket_incident_for_staff(user, ticket) -> TicketIncident:
    """What the staff's request page shows about incidents, from a request
    fetched with ticket_incident_annotations(); whether this person may
    create one from it is their role's (loaded with the user)."""
    public_id = getattr(ticket, "incident_public_id", None)
    return TicketIncident(
        public_id=public_id,
        title=getattr(ticket, "incident_title", None) or "",
        status=getattr(ticket, "incident_status", None) or "",
        may_create=public_id is None and user.is_staff and user.is_lead_or_admin,
    )
