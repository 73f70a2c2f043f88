"""Routing applied to a ticket: the facts of the request go to the routing
policy (`routing.services.route_decide`, the pure `decide()` underneath),
the member's answers may raise the priority (a form option's priority, an
emergency in the text: tickets.emergency), and the decision, its reason
and the SLA moments are written onto the ticket here. Events and e-mails
are the caller's (tickets.services), but one: an emergency alerts the
on-call people at once (tickets.on_call), whether routing made it one when
the request was filed or a re-routing later, and only once."""

import datetime
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from cooperative.cache import cooperative_current
from core.request_cache import request_cached
from routing.classifier import suggest
from routing.decide import Decision, Facts, Fallback, decide, normalise
from routing.models import Priority, Team
from routing.preview import rule_sets
from routing.services import policy_for_priority, route_decide, sla_moments, staff_state
from tickets.emergency import OPTION, emergency_reasons, option_priority, priority_higher
from tickets.models import Category, RequestType, Ticket
from tickets.on_call import on_call_alert

SIMULATION_DAYS = 30
SIMULATION_LIMIT = 5000  # a bound for the page; a cooperative files far fewer a month


def open_counts(user_ids: Collection[int] | None = None) -> dict[int, int]:
    """Open requests per handler (for "least open work"): of `user_ids`, or
    of everyone. Answered from the (status, assignee, …) index."""
    handlers = Ticket.objects.open()
    handlers = (
        handlers.filter(assignee__in=user_ids)
        if user_ids is not None
        else handlers.filter(assignee__isnull=False)
    )
    return dict(handlers.values("assignee").annotate(n=Count("pk")).values_list("assignee", "n"))


def staff_now(*, today: datetime.date):
    """routing's view of the staff today, with their current workload."""
    return staff_state(today=today, open_counts=open_counts())


def facts_for(ticket: Ticket, *, request_type: RequestType | None = None) -> Facts:
    request_type = request_type or ticket.request_type
    building = ticket.unit.building if ticket.unit_id else None
    return Facts(
        request_type_id=request_type.pk,
        category=request_type.category,
        estate_id=building.estate_id if building else None,
        building_id=building.pk if building else None,
        channel=ticket.channel,
        answers=ticket.answers or {},
        text=normalise(ticket.answers_text()),
    )


def fallback_for(request_type: RequestType | None) -> Fallback:
    """No rule matches: the form's default team (its queue), else triage."""
    if request_type is None or request_type.default_team_id is None:
        return Fallback()
    return Fallback(team_id=request_type.default_team_id, team_name=request_type.default_team.name)


def _suggestion(ticket: Ticket):
    """For free text (the general question): which type it really is."""
    if ticket.request_type.category != Category.GENERAL:
        return None, None
    found = suggest(ticket.answers_text())
    if found is None:
        return None, None
    suggested = request_cached(
        ("request_type_active", found.slug),
        RequestType.objects.filter(slug=found.slug, active=True)
        .select_related("default_team")  # its queue, should it be routed as this type
        .first,
    )
    return found, suggested


def ticket_route(
    ticket: Ticket, *, now: datetime.datetime | None = None, alert_on_call: bool = True
) -> Decision:
    """Decide and write team, handler, priority, SLA and reason onto the
    ticket (saved). Run inside the caller's transaction. An emergency
    alerts the on-call people (once per ticket), unless `alert_on_call` is
    off (staff logged a call that was solved at once)."""
    now = now or timezone.now()
    found, suggested = _suggestion(ticket)
    route_as = ticket.request_type
    unsure = False
    if suggested is not None and suggested != ticket.request_type:
        if found.confidence >= settings.ROUTING_MIN_CONFIDENCE:
            route_as = suggested
        else:
            unsure = True
    if ticket.member_id is None and ticket.request_type.audience != RequestType.Audience.EVERYONE:
        # Not from a member (or not known as one yet): triage finds out who
        # it is before a team takes it — unless the form is for everyone
        # (feedback on the portal), where it does not matter who it is. The
        # answers may still raise the priority below.
        decision = Decision(None, None, "normal", None, None, {"rule": None, "how": "not_member"})
    elif unsure:
        decision = Decision(None, None, "normal", None, None, {"rule": None, "how": "unsure"})
    else:
        decision = route_decide(
            facts_for(ticket, request_type=route_as),
            fallback=fallback_for(route_as),
            today=timezone.localdate(now),
            open_counts=open_counts,
        )
    reason = dict(decision.reason)
    priority, policy_id = priority_raised(
        definitions=ticket.fields_snapshot or [],
        answers=ticket.answers or {},
        decision=decision,
        reason=reason,
    )
    if suggested is not None:
        reason["suggested"] = {
            "type": suggested.name_de,
            "type_en": suggested.name_en,
            "slug": suggested.slug,
            "confidence": round(found.confidence, 3),
            "routed": route_as == suggested,
        }
    # The team as an object (its name goes into the history and the
    # e-mails), read once per web request or batch of the mail intake.
    ticket.team = (
        request_cached(
            ("routing_team", decision.team_id), Team.objects.filter(pk=decision.team_id).first
        )
        if decision.team_id
        else None
    )
    ticket.assignee_id = decision.handler_id
    ticket.priority = priority
    ticket.sla_policy_id = policy_id
    ticket.routing_reason = reason
    ticket.suggested_type = suggested
    fields = ["team", "assignee", "priority", "sla_policy", "routing_reason", "suggested_type"]
    moments = sla_moments(policy_id=policy_id, start=ticket.created_at)
    for name, moment in moments.items():
        setattr(ticket, name, moment)
    ticket.save(update_fields=[*fields, *moments, "updated_at"])
    if alert_on_call and priority == Priority.EMERGENCY:
        on_call_alert(ticket=ticket, at=now)
    return decision


def priority_raised(
    *, definitions: list[dict], answers: dict, decision: Decision, reason: dict
) -> tuple[str, int | None]:
    """The priority and SLA policy after the member's answers: the highest
    priority among the chosen options, or "emergency" when the text reads
    like one, raises the rule's priority (never lowers it), and the policy
    marked for the new priority (SlaPolicy.for_priority) replaces the
    rule's, when there is one. Recorded in `reason["raised"]` for the staff
    page (routing.reasons). `definitions` and `answers` as a ticket stores
    them; also for requests routed without a ticket row (demo.history)."""
    priority, policy_id = decision.priority, decision.sla_policy_id
    chosen, option = option_priority(answers=answers, definitions=definitions)
    raised = None
    if chosen is not None and priority_higher(chosen, priority):
        priority = chosen
        raised = {"priority": chosen, "by": "option", "de": option["de"], "en": option["en"]}
    if priority != Priority.EMERGENCY:
        # The member saw "please call now" for such a text and sent anyway.
        words = cooperative_current().emergency_words
        found = [
            r.text
            for r in emergency_reasons(answers=answers, definitions=definitions, words=words)
            if r.source != OPTION
        ]
        if found:
            priority = Priority.EMERGENCY
            raised = {"priority": priority, "by": "text", "words": ", ".join(found)}
    if raised is not None:
        policy = policy_for_priority(priority)
        if policy is not None:
            policy_id = policy.pk
            raised["policy"] = policy.name
        reason["raised"] = raised
    return priority, policy_id


# --- the rule preview's simulation --------------------------------------------


@dataclass
class Difference:
    ticket: Ticket
    live: Decision
    proposed: Decision


@dataclass
class Simulation:
    compared: int  # every request of the period, whoever may see it
    differences: list[Difference]  # only those the viewer may see
    drafts: int
    changed: int  # every request that would go elsewhere, listed or not

    @property
    def hidden(self) -> int:
        """Requests that would go elsewhere but are not listed: the viewer
        may not see them (another team's)."""
        return self.changed - len(self.differences)


def simulate(*, viewer: User, now: datetime.datetime | None = None) -> Simulation:
    """Route the last 30 days' requests with the live and the proposed rule
    sets (with today's staff: absences and workloads as they are now) and
    list where the result would differ. The same decide() as live routing.

    Only requests the viewer may see (Ticket.objects.visible_to_staff) are
    listed; the counts take in all, because a team lead judging a draft
    needs its whole reach (what would come to the team is often another
    team's today). A number names no member, request or answer."""
    now = now or timezone.now()
    live, proposed = rule_sets()
    live_ids = {rule.id for rule in live}
    drafts = sum(1 for rule in proposed if rule.id not in live_ids)
    staff = staff_now(today=timezone.localdate(now))
    since = now - datetime.timedelta(days=SIMULATION_DAYS)
    visible = set(
        Ticket.objects.visible_to_staff(viewer)
        .filter(created_at__gte=since)
        .values_list("pk", flat=True)
    )
    tickets = (
        Ticket.objects.filter(created_at__gte=since)
        .select_related(
            "request_type__default_team",
            "suggested_type__default_team",
            "unit__building",
            "member",
        )
        .order_by("-created_at")[:SIMULATION_LIMIT]
    )
    differences = []
    compared = changed = 0
    for ticket in tickets:
        compared += 1
        routed_as = ticket.request_type
        if (ticket.routing_reason or {}).get("suggested", {}).get(
            "routed"
        ) and ticket.suggested_type:
            routed_as = ticket.suggested_type
        facts = facts_for(ticket, request_type=routed_as)
        fallback = fallback_for(routed_as)
        before = decide(facts, live, staff, fallback)
        after = decide(facts, proposed, staff, fallback)
        if (before.team_id, before.handler_id, before.priority, before.sla_policy_id) != (
            after.team_id,
            after.handler_id,
            after.priority,
            after.sla_policy_id,
        ):
            changed += 1
            if ticket.pk in visible:
                differences.append(Difference(ticket, before, after))
    return Simulation(compared=compared, differences=differences, drafts=drafts, changed=changed)
