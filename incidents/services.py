"""Writes on incidents: the detector's run (proposals and matching new
reports), accepting, dismissing, creating by hand, resolving, and the
notice to residents.

The detector runs as a timer (`manage.py incidents_detect`, every minute)
and as a task (`incidents_detect_task`) for a worker. New reports are
linked to open incidents by that run, not by a signal or a hook in
`ticket_open`: tickets sit below incidents and must not call up, signals
carry no business rules here, and a minute's delay costs a member nothing
(the office works the request the same way meanwhile). Every proposal
and every link is claimed by the unique ticket of IncidentTicket, so two
runs at once never propose a cluster twice; the team lead's e-mail goes
in the proposal's transaction, so it is sent once per proposal."""

import datetime
import functools
import logging
from collections import Counter, defaultdict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_tasks import task

from accounts.models import User
from cooperative.models import Building
from core.links import absolute_url
from core.text import fold
from incidents import selectors
from incidents.clusters import Cluster, clusters_find, matches_find, topic_word
from incidents.models import Incident, IncidentStatus, IncidentTicket
from mail.services import email_queue
from notices.models import NoticeKind
from notices.services import NoticeContent, NoticeError, notice_publish, notice_withdraw
from routing.classifier import corpus_load
from routing.models import Team
from tickets.models import FINISHED, RequestType, Status, Ticket
from tickets.services import TicketError, ticket_status_change

logger = logging.getLogger(__name__)

TITLE_MAX = 200
TEXT_MAX = 2000


class IncidentError(Exception):
    """A change that is not possible now; the message is safe to show."""


class IncidentNotAllowed(IncidentError):
    """The person may not do this with the incident."""


# Detection -----------------------------------------------------------------------


@functools.cache
def _corpus() -> tuple[str, ...]:
    """Typical request texts (the routing classifier's shipped corpus), so
    the document frequencies do not come from the few reports of a window
    alone: there the words of a cluster are frequent and would weigh
    nothing."""
    return tuple(text for _slug, text in corpus_load())


def _parameters() -> dict:
    fault_types = (
        frozenset(
            RequestType.objects.filter(slug__in=settings.INCIDENT_FAULT_TYPES).values_list(
                "pk", flat=True
            )
        )
        if settings.INCIDENT_FAULT_TYPES
        else frozenset()
    )
    return {
        "window": datetime.timedelta(hours=settings.INCIDENT_WINDOW_HOURS),
        "min_size": settings.INCIDENT_MIN_REPORTS,
        "threshold": settings.INCIDENT_SIMILARITY,
        "same_type_ids": fault_types,
        "corpus": _corpus(),
    }


def incidents_detect(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """One run of the detector: open requests of the last two windows that
    belong to no incident are first matched against the proposed and open
    incidents of their buildings (and linked), the rest are clustered; each
    new cluster becomes a proposal for the team's lead. Idempotent: a
    second run finds every request it used linked already."""
    now = now or timezone.now()
    parameters = _parameters()
    # Two windows back: a cluster whose first report is a window old is
    # still found in full, also after the timer stood still for a while.
    reports = selectors.reports_unlinked(since=now - 2 * parameters["window"])
    counts = {"linked": 0, "proposed": 0}
    if not reports:
        return counts
    profiles = selectors.profiles_active()
    matched = (
        matches_find(
            profiles,
            reports,
            threshold=parameters["threshold"],
            same_type_ids=parameters["same_type_ids"],
            corpus=parameters["corpus"],
        )
        if profiles
        else {}
    )
    for ticket_id, incident_id in matched.items():
        counts["linked"] += _link_matched(incident_id, ticket_id, now=now)
    rest = [report for report in reports if report.id not in matched]
    for cluster in clusters_find(rest, **parameters):
        counts["proposed"] += _propose(cluster, now=now)
    return counts


def _link_matched(incident_id: int, ticket_id: int, *, now: datetime.datetime) -> int:
    try:
        with transaction.atomic():
            IncidentTicket.objects.create(
                incident_id=incident_id,
                ticket_id=ticket_id,
                how=IncidentTicket.How.MATCHED,
                linked_at=now,
            )
    except IntegrityError:
        return 0  # another run linked it meanwhile
    return 1


def _propose(cluster: Cluster, *, now: datetime.datetime) -> int:
    building = Building.objects.select_related("estate").get(pk=cluster.building_id)
    request_type = RequestType.objects.get(pk=cluster.request_type_id)
    team = Team.objects.select_related("lead").filter(pk=cluster.team_id).first()
    # The title is data staff read and may change: in the cooperative's
    # language, whoever runs the timer; the word most reports use, else the
    # form's name.
    topic = topic_word(cluster.texts)
    with override(settings.LANGUAGE_CODE):
        title = _("%(topic)s in %(building)s") % {
            "topic": topic or request_type.name,
            "building": f"{building.street} {building.house_number}",
        }
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                title=title[:TITLE_MAX],
                estate=building.estate,
                request_type=request_type,
                team=team,
                status=IncidentStatus.PROPOSED,
            )
            incident.buildings.set([building])
            IncidentTicket.objects.bulk_create(
                IncidentTicket(
                    incident=incident,
                    ticket_id=ticket_id,
                    how=IncidentTicket.How.DETECTED,
                    linked_at=now,
                )
                for ticket_id in cluster.report_ids
            )
            _lead_notify(incident, team=team)
    except IntegrityError:
        return 0  # another run proposed these requests meanwhile
    return 1


def _lead_notify(incident: Incident, *, team: Team | None) -> None:
    lead = team.lead if team is not None else None
    if lead is None or not lead.is_active:
        return  # admins and leads see it on the list
    references = list(
        incident.links.order_by("ticket__created_at").values_list("ticket__reference", flat=True)
    )
    email_queue(
        to=lead.email,
        template="incidents/email/proposed",
        context={
            "incident": incident,
            "lead": lead,
            "references": references,
            "link": absolute_url("backoffice:incident", args=[incident.public_id]),
        },
        language=lead.language or settings.LANGUAGE_CODE,
    )


@task()
def incidents_detect_task() -> dict[str, int]:
    """The detector for a worker (the timer runs `manage.py incidents_detect`)."""
    return incidents_detect()


# Decisions -------------------------------------------------------------------------


def _checked(title: str, public_text: str) -> tuple[str, str]:
    title = " ".join(title.split())
    public_text = public_text.strip()
    if not title:
        raise IncidentError(_("Please give the incident a title."))
    if len(title) > TITLE_MAX:
        raise IncidentError(
            _("Please keep the title to %(count)s characters.") % {"count": TITLE_MAX}
        )
    if len(public_text) > TEXT_MAX:
        raise IncidentError(
            _("Please keep the text to %(count)s characters.") % {"count": TEXT_MAX}
        )
    return title, public_text


def _locked(incident: Incident) -> Incident:
    # Not joined: FOR UPDATE refuses the nullable side of an outer join.
    return Incident.objects.select_for_update().get(pk=incident.pk)


def incident_status_check(incident: Incident, status: str) -> None:
    """The clear message for a step the incident's status does not allow."""
    if incident.status == status:
        return
    messages = {
        IncidentStatus.DISMISSED: _("This proposal was dismissed; it can no longer be changed."),
        IncidentStatus.RESOLVED: _("This incident is resolved already."),
        IncidentStatus.OPEN: _("This incident has been accepted already."),
        IncidentStatus.PROPOSED: _("This is still a proposal. Please accept it first."),
    }
    raise IncidentError(messages[incident.status])


def incident_accept(
    *,
    actor: User,
    incident: Incident,
    title: str,
    public_text: str,
    now: datetime.datetime | None = None,
) -> Incident:
    """A proposal becomes an incident being worked on: its requests'
    members see it on their request pages from now on."""
    now = now or timezone.now()
    title, public_text = _checked(title, public_text)
    with transaction.atomic():
        incident = _locked(incident)
        if not selectors.may_manage(actor, incident):
            raise IncidentNotAllowed(_("Only the team's lead or an admin may accept it."))
        incident_status_check(incident, IncidentStatus.PROPOSED)
        incident.title = title
        incident.public_text = public_text
        incident.status = IncidentStatus.OPEN
        incident.accepted_at = now
        incident.accepted_by = actor
        incident.save(
            update_fields=[
                "title",
                "public_text",
                "status",
                "accepted_at",
                "accepted_by",
                "updated_at",
            ]
        )
    return incident


def incident_dismiss(
    *, actor: User, incident: Incident, now: datetime.datetime | None = None
) -> Incident:
    """Not one cause after all: the proposal is set aside. Its requests
    stay with it, so the detector never proposes them again."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = _locked(incident)
        if not selectors.may_manage(actor, incident):
            raise IncidentNotAllowed(_("Only the team's lead or an admin may dismiss it."))
        incident_status_check(incident, IncidentStatus.PROPOSED)
        incident.status = IncidentStatus.DISMISSED
        incident.dismissed_at = now
        incident.dismissed_by = actor
        incident.save(update_fields=["status", "dismissed_at", "dismissed_by", "updated_at"])
    return incident


def incident_create(
    *,
    actor: User,
    tickets: list[Ticket],
    title: str,
    public_text: str,
    now: datetime.datetime | None = None,
) -> Incident:
    """An incident by hand, from requests the lead chose: open at once.
    The requests must be about flats of one estate and belong to no other
    incident (one in a dismissed proposal is moved)."""
    now = now or timezone.now()
    title, public_text = _checked(title, public_text)
    if not tickets:
        raise IncidentError(_("Please choose at least one request."))
    with transaction.atomic():
        tickets = list(
            Ticket.objects.select_for_update(of=("self",))
            .filter(pk__in=[t.pk for t in tickets])
            .select_related("unit__building", "request_type")
            .order_by("created_at", "pk")
        )
        if any(t.unit_id is None for t in tickets):
            raise IncidentError(_("Only requests about a flat can belong to an incident."))
        buildings = {t.unit.building_id: t.unit.building for t in tickets}
        estates = {b.estate_id for b in buildings.values()}
        if len(estates) > 1:
            raise IncidentError(_("Please choose requests from buildings of one estate."))
        taken = IncidentTicket.objects.filter(ticket__in=tickets).exclude(
            incident__status=IncidentStatus.DISMISSED
        )
        if taken.exists():
            raise IncidentError(
                _("%(references)s already belong to an incident.")
                % {"references": ", ".join(taken.values_list("ticket__reference", flat=True))}
            )
        team_id = Counter(t.team_id for t in tickets).most_common(1)[0][0]
        team = Team.objects.filter(pk=team_id).first()
        if not selectors.may_create_for(actor, team):
            raise IncidentNotAllowed(_("Incidents are created by the team's lead or an admin."))
        type_id = Counter(t.request_type_id for t in tickets).most_common(1)[0][0]
        incident = Incident.objects.create(
            title=title,
            public_text=public_text,
            estate_id=estates.pop(),
            request_type_id=type_id,
            team=team,
            status=IncidentStatus.OPEN,
            created_by=actor,
            accepted_at=now,
            accepted_by=actor,
        )
        incident.buildings.set(buildings.values())
        IncidentTicket.objects.filter(ticket__in=tickets).delete()  # dismissed proposals'
        IncidentTicket.objects.bulk_create(
            IncidentTicket(
                incident=incident, ticket=t, how=IncidentTicket.How.BY_HAND, linked_at=now
            )
            for t in tickets
        )
    return incident


def incident_resolve(
    *, actor: User, incident: Incident, now: datetime.datetime | None = None
) -> Incident:
    """The cause is fixed: every open request of the incident is resolved
    (through tickets.services, one status event each, no e-mail each), its
    notice withdrawn, and every member with a request in it is told once —
    one e-mail naming all their requests of it."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = _locked(incident)
        if not selectors.may_manage(actor, incident):
            raise IncidentNotAllowed(_("Only the team's lead or an admin may resolve it."))
        incident_status_check(incident, IncidentStatus.OPEN)
        tickets = list(
            Ticket.objects.select_for_update(of=("self",))
            .filter(incident_link__incident=incident)
            .select_related("member__user", "request_type")
            .order_by("created_at", "pk")
        )
        for ticket in tickets:
            if ticket.status in FINISHED:
                continue
            try:
                ticket_status_change(
                    ticket=ticket,
                    actor=actor,
                    status=Status.RESOLVED,
                    expected_version=ticket.version,
                    notify=False,
                )
            except TicketError:  # cannot happen under the lock; never undo the rest
                logger.exception("incident %s: %s not resolved", incident.pk, ticket.reference)
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_at = now
        incident.resolved_by = actor
        incident.save(update_fields=["status", "resolved_at", "resolved_by", "updated_at"])
        if incident.notice is not None and incident.notice.is_out(now):
            try:
                notice_withdraw(actor=actor, notice=incident.notice, now=now)
            except NoticeError:
                logger.warning("incident %s: notice not withdrawn", incident.pk)
        _members_notify(incident, tickets)
    return incident


def _members_notify(incident: Incident, tickets: list[Ticket]) -> None:
    """One e-mail per member, whatever the number of their requests in it."""
    by_member = defaultdict(list)
    for ticket in tickets:
        if ticket.member_id is not None and ticket.status != Status.WITHDRAWN:
            by_member[ticket.member_id].append(ticket)
    for member_tickets in by_member.values():
        member = member_tickets[0].member
        user = getattr(member, "user", None)
        address = user.email if user is not None and user.is_active else member.email
        if not address:
            continue  # a member without e-mail reads it on the page or is called
        language = user.language if user is not None else member.preferred_language
        email_queue(
            to=address,
            template="incidents/email/resolved",
            context={
                "incident": incident,
                "member": member,
                "references": [t.reference for t in member_tickets],
                "link": absolute_url("tickets:detail", args=[member_tickets[0].reference]),
            },
            language=language or settings.LANGUAGE_CODE,
            thread=member_tickets[0].reference,
        )


# Notice --------------------------------------------------------------------------

# What the title says about the kind of notice (folded word beginnings).
_KINDS = (
    (("heiz", "warmwasser", "warmes wasser"), NoticeKind.HEATING),
    (("wasser", "rohr"), NoticeKind.WATER),
    (("strom", "elektr", "licht"), NoticeKind.POWER),
    (("aufzug", "fahrstuhl", "lift"), NoticeKind.LIFT),
)


def notice_kind_for(title: str) -> str:
    """The kind of notice an incident's title suggests (else "other")."""
    folded = fold(title)
    for stems, kind in _KINDS:
        if any(stem in folded for stem in stems):
            return kind
    return NoticeKind.OTHER


def incident_notice_publish(
    *, actor: User, incident: Incident, now: datetime.datetime | None = None
) -> Incident:
    """Publish the incident's title and text as a notice (Aushang) for its
    buildings, in force until the incident is resolved (resolving
    withdraws it), through notices.services.notice_publish."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = _locked(incident)
        if not selectors.may_manage(actor, incident):
            raise IncidentNotAllowed(_("Only the team's lead or an admin may publish it."))
        incident_status_check(incident, IncidentStatus.OPEN)
        if incident.notice is not None and incident.notice.withdrawn_at is None:
            raise IncidentError(_("A notice for this incident is published already."))
        if not incident.public_text:
            raise IncidentError(_("Please write the text for members first."))
        content = NoticeContent(
            kind=notice_kind_for(incident.title),
            title_de=incident.title,
            text_de=incident.public_text,
            estate=incident.estate,
            buildings=list(incident.buildings.all()),
            valid_from=now,
        )
        try:
            notice = notice_publish(actor=actor, content=content, now=now)
        except NoticeError as error:
            raise IncidentError(str(error)) from error
        incident.notice = notice
        incident.save(update_fields=["notice", "updated_at"])
    return incident
