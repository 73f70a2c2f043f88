"""The rule preview for admins: what the live rules decide for given facts,
and what the draft rules would change on the last 30 days of requests. The
same decide() as in live routing, so the preview cannot drift from it."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from routing.decide import Decision, Facts, Fallback, decide
from routing.models import RoutingRule
from routing.services import facts_for, rule_from, staff_state
from tickets.models import RequestType, Ticket

SIMULATION_DAYS = 30
SIMULATION_LIMIT = 5000  # a bound for the page; a cooperative files far fewer a month


def rule_sets() -> tuple[list, list]:
    """(live, proposed): proposed = live without the rules the drafts
    replace, plus the drafts, in position order."""
    rules = list(
        RoutingRule.objects.filter(active=True)
        .select_related("team")
        .prefetch_related("request_types", "estates", "buildings")
        .order_by("position", "pk")
    )
    drafts = [r for r in rules if r.draft]
    replaced = {r.replaces_id for r in drafts if r.replaces_id}
    live = [rule_from(r) for r in rules if not r.draft]
    proposed = [rule_from(r) for r in rules if not r.draft and r.pk not in replaced]
    proposed += [rule_from(r) for r in drafts]
    proposed.sort(key=lambda rule: (rule.position, rule.id))
    return live, proposed


def fallback_for(request_type: RequestType | None) -> Fallback:
    if request_type is None or request_type.default_team_id is None:
        return Fallback()
    return Fallback(team_id=request_type.default_team_id, team_name=request_type.default_team.name)


@dataclass
class Difference:
    ticket: Ticket
    live: Decision
    proposed: Decision


@dataclass
class Simulation:
    compared: int
    differences: list[Difference]
    drafts: int


def simulate(*, now: datetime.datetime | None = None) -> Simulation:
    """Route the last 30 days' requests with both rule sets (with today's
    staff: absences and workloads as they are now) and list where the
    result would differ."""
    now = now or timezone.now()
    live, proposed = rule_sets()
    live_ids = {rule.id for rule in live}
    drafts = sum(1 for rule in proposed if rule.id not in live_ids)
    staff = staff_state(today=timezone.localdate(now))
    tickets = (
        Ticket.objects.filter(created_at__gte=now - datetime.timedelta(days=SIMULATION_DAYS))
        .select_related(
            "request_type__default_team",
            "suggested_type__default_team",
            "unit__building",
            "member",
        )
        .order_by("-created_at")[:SIMULATION_LIMIT]
    )
    differences = []
    compared = 0
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
            differences.append(Difference(ticket, before, after))
    return Simulation(compared=compared, differences=differences, drafts=drafts)


def preview(facts: Facts, request_type: RequestType | None) -> tuple[Decision, Decision]:
    live, proposed = rule_sets()
    staff = staff_state(today=timezone.localdate())
    fallback = fallback_for(request_type)
    return decide(facts, live, staff, fallback), decide(facts, proposed, staff, fallback)
