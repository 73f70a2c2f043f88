"""Routing applied: load rules and staff state from the database, run the
pure decide(), lock what must not race (round robin), and write the result
onto the ticket. Events and e-mails are the caller's (tickets.services)."""

import datetime

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from cooperative.models import Estate
from routing import sla
from routing.decide import (
    LEAST_OPEN,
    ROUND_ROBIN,
    Decision,
    Facts,
    Fallback,
    Rule,
    StaffState,
    decide,
    normalise,
)
from routing.models import Absence, RoutingRule, SlaPolicy, Team
from tickets.models import Category, RequestType, Ticket


def rule_from(rule: RoutingRule, *, request_type_ids=None, estate_ids=None, building_ids=None):
    """The pure form of a rule. The id sets may be given for a rule not yet
    saved (the preview of an edited rule)."""
    if request_type_ids is None:
        request_type_ids = [t.pk for t in rule.request_types.all()]
        estate_ids = [e.pk for e in rule.estates.all()]
        building_ids = [b.pk for b in rule.buildings.all()]
    return Rule(
        id=rule.pk or 0,
        position=rule.position,
        name=rule.name,
        team_id=rule.team_id,
        team_name=rule.team.name,
        strategy=rule.strategy,
        priority=rule.priority,
        sla_policy_id=rule.sla_policy_id,
        request_type_ids=frozenset(request_type_ids),
        categories=frozenset(rule.categories or ()),
        estate_ids=frozenset(estate_ids or ()),
        building_ids=frozenset(building_ids or ()),
        channels=frozenset(rule.channels or ()),
        field_key=rule.field_key,
        field_value=rule.field_value,
        keywords=tuple(
            normalise(word.strip()) for word in rule.keywords.split(",") if word.strip()
        ),
    )


def rules_active() -> list[Rule]:
    """The live rule set, in order (drafts only take part in the preview)."""
    rules = (
        RoutingRule.objects.filter(active=True, draft=False)
        .select_related("team")
        .prefetch_related("request_types", "estates", "buildings")
        .order_by("position", "pk")
    )
    return [rule_from(rule) for rule in rules]


def staff_state(*, today: datetime.date) -> StaffState:
    staff = {
        u.pk: u
        for u in User.objects.filter(is_staff=True, is_active=True).only(
            "first_name", "last_name", "email", "member"
        )
    }
    members: dict[int, list[int]] = {}
    for team_id, user_id in Team.members.through.objects.values_list("team_id", "user_id"):
        if user_id in staff:
            members.setdefault(team_id, []).append(user_id)
    absent: dict[int, int | None] = dict(
        Absence.objects.filter(starts__lte=today, ends__gte=today).values_list(
            "user_id", "substitute_id"
        )
    )
    managers, caretakers, estate_names = {}, {}, {}
    for pk, manager, caretaker, name in Estate.objects.values_list(
        "pk", "property_manager_id", "caretaker_id", "name"
    ):
        managers[pk], caretakers[pk], estate_names[pk] = manager, caretaker, name
        for person in (manager, caretaker):
            if person is not None and person not in staff:
                absent.setdefault(person, None)  # left or deactivated: never assign
    open_counts = dict(
        Ticket.objects.open()
        .filter(assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
    )
    # Absent people who are no longer active staff are still named in reasons.
    gone = [person for person in absent if person not in staff]
    people = {**staff, **User.objects.in_bulk(gone)} if gone else staff
    names = {pk: user.get_full_name() for pk, user in people.items()}
    return StaffState(
        team_members={team: tuple(ids) for team, ids in members.items()},
        names=names,
        absent=absent,
        open_counts=open_counts,
        last_assignee=dict(Team.objects.values_list("pk", "last_assignee_id")),
        estate_managers=managers,
        estate_caretakers=caretakers,
        estate_names=estate_names,
    )


def answers_text(ticket: Ticket) -> str:
    """The string answers of a ticket (lists included), for keywords and
    the classifier; a request is routed before its first event exists."""
    parts = []
    for value in (ticket.answers or {}).values():
        values = value if isinstance(value, list) else [value]
        parts.extend(v.strip() for v in values if isinstance(v, str) and v.strip())
    return " ".join(parts)


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
        text=normalise(answers_text(ticket)),
    )


def _suggestion(ticket: Ticket):
    """For free text (the general question): which type it really is."""
    if ticket.request_type.category != Category.GENERAL:
        return None, None
    from routing.classifier import suggest

    found = suggest(answers_text(ticket))
    if found is None:
        return None, None
    suggested = RequestType.objects.filter(slug=found.slug, active=True).first()
    return found, suggested


def route(ticket: Ticket, *, now: datetime.datetime | None = None) -> Decision:
    """Decide and write team, handler, priority, SLA and reason onto the
    ticket (saved). Run inside the caller's transaction."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    found, suggested = _suggestion(ticket)
    route_as = ticket.request_type
    unsure = False
    if suggested is not None and suggested != ticket.request_type:
        if found.confidence >= settings.ROUTING_MIN_CONFIDENCE:
            route_as = suggested
        else:
            unsure = True
    facts = facts_for(ticket, request_type=route_as)
    fallback = Fallback(
        team_id=route_as.default_team_id,
        team_name=route_as.default_team.name if route_as.default_team_id else "",
    )
    rules = rules_active()
    if unsure:
        decision = Decision(None, None, "normal", None, None, {"rule": None, "how": "unsure"})
    else:
        decision = decide(facts, rules, staff_state(today=today), fallback)
        strategy = next((r.strategy for r in rules if r.id == decision.rule_id), None)
        if strategy in (ROUND_ROBIN, LEAST_OPEN):
            # Round robin and least open work read state that a ticket filed
            # at the same moment changes: take the team's row lock, then
            # decide again on what is committed now.
            Team.objects.select_for_update().filter(pk=decision.team_id).first()
            decision = decide(facts, rules, staff_state(today=today), fallback)
            if decision.handler_id is not None:
                Team.objects.filter(pk=decision.team_id).update(
                    last_assignee_id=decision.handler_id
                )
    reason = dict(decision.reason)
    if suggested is not None:
        reason["suggested"] = {
            "type": suggested.name_de,
            "type_en": suggested.name_en,
            "slug": suggested.slug,
            "confidence": round(found.confidence, 3),
            "routed": route_as == suggested,
        }
    ticket.team_id = decision.team_id
    ticket.assignee_id = decision.handler_id
    ticket.priority = decision.priority
    ticket.sla_policy_id = decision.sla_policy_id
    ticket.routing_reason = reason
    ticket.suggested_type = suggested
    fields = ["team", "assignee", "priority", "sla_policy", "routing_reason", "suggested_type"]
    policy = (
        SlaPolicy.objects.filter(pk=decision.sla_policy_id).first()
        if decision.sla_policy_id
        else None
    )
    moments = (
        sla.targets(policy=policy, start=ticket.created_at, calendar=sla.calendar_current())
        if policy
        else dict.fromkeys(sla.SLA_FIELDS)
    )
    for name, moment in moments.items():
        setattr(ticket, name, moment)
    ticket.save(update_fields=[*fields, *moments, "updated_at"])
    return decision
