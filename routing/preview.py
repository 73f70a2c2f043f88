"""The rule preview for admins: what the live rules and the rules with
drafts decide for given facts. The same decide() as in live routing, so the
preview cannot drift from it. (The simulation on the last 30 days' requests
reads requests, so it lives with them: tickets.route.simulate.)"""

from routing.decide import Decision, Facts, Fallback, StaffState, decide
from routing.models import RoutingRule
from routing.services import rule_from


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


def preview(facts: Facts, *, fallback: Fallback, staff: StaffState) -> tuple[Decision, Decision]:
    """(live, proposed) decisions for the facts."""
    live, proposed = rule_sets()
    return decide(facts, live, staff, fallback), decide(facts, proposed, staff, fallback)
