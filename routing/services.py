"""Routing's inputs and outputs: load the rules and the state of the staff,
run the pure decide(), take the team's lock where a decision reads what a
concurrent one changes (round robin, least open work), and turn an SLA
policy into deadlines. It returns decisions and moments and writes only its
own rows (a team's round-robin position); `tickets.route` applies them to a
ticket and writes its history."""

import dataclasses
import datetime
from collections.abc import Callable, Collection, Mapping

from accounts.models import User
from cooperative.models import Estate
from core.request_cache import request_cached
from routing import sla
from routing.decide import (
    ESTATE_CARETAKER,
    ESTATE_MANAGER,
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
from routing.models import Absence, OnCallShift, RoutingRule, SlaPolicy, Team


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
    """The live rule set, in order (drafts only take part in the preview).
    Read for every request filed: the conditions' ids come straight from
    the link tables (prefetching built a request type, estate or building
    object for each, only to take its id — the slowest part of filing).
    Read once per web request, or per batch of the mail intake (a rule
    edited meanwhile counts from the next); the rules are frozen."""
    return list(request_cached("routing_rules_active", _rules_read))


def _rules_read() -> tuple[Rule, ...]:
    rules = list(
        RoutingRule.objects.filter(active=True, draft=False)
        .select_related("team")
        .order_by("position", "pk")
    )
    ids = [rule.pk for rule in rules]
    types = _linked(RoutingRule.request_types, ids)
    estates = _linked(RoutingRule.estates, ids)
    buildings = _linked(RoutingRule.buildings, ids)
    return tuple(
        rule_from(
            rule,
            request_type_ids=types.get(rule.pk, ()),
            estate_ids=estates.get(rule.pk, ()),
            building_ids=buildings.get(rule.pk, ()),
        )
        for rule in rules
    )


def _linked(relation, rule_ids: list[int]) -> dict[int, list[int]]:
    """rule id -> the ids a many-to-many condition of the rules names."""
    if not rule_ids:
        return {}
    field = relation.field
    rule_column, other_column = (
        f"{field.m2m_field_name()}_id",
        f"{field.m2m_reverse_field_name()}_id",
    )
    found: dict[int, list[int]] = {}
    pairs = relation.through.objects.filter(**{f"{rule_column}__in": rule_ids}).values_list(
        rule_column, other_column
    )
    for rule_id, other_id in pairs:
        found.setdefault(rule_id, []).append(other_id)
    return found


def staff_state(*, today: datetime.date, open_counts: Mapping[int, int]) -> StaffState:
    """Who works in which team, who is away (and who stands in), who manages
    which estate, as of `today`; `open_counts` (user -> open requests) comes
    from the caller, who owns the requests. Whose turn it is in each team is
    read every time (each request filed moves it on); the rest once per web
    request or batch of the mail intake (_staff_standing)."""
    standing = request_cached(("routing_staff_standing", today), lambda: _staff_standing(today))
    return dataclasses.replace(
        standing,
        open_counts=dict(open_counts),
        last_assignee=dict(Team.objects.values_list("pk", "last_assignee_id")),
    )


def _staff_standing(today: datetime.date) -> StaffState:
    """staff_state without the workloads and the round-robin positions."""
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
    # Absent people who are no longer active staff are still named in reasons.
    gone = [person for person in absent if person not in staff]
    people = {**staff, **User.objects.in_bulk(gone)} if gone else staff
    names = {pk: user.get_full_name() for pk, user in people.items()}
    return StaffState(
        team_members={team: tuple(ids) for team, ids in members.items()},
        names=names,
        absent=absent,
        estate_managers=managers,
        estate_caretakers=caretakers,
        estate_names=estate_names,
    )


def route_decide(
    facts: Facts,
    *,
    fallback: Fallback,
    today: datetime.date,
    open_counts: Callable[[Collection[int]], Mapping[int, int]],
) -> Decision:
    """The decision for one request with the live rules and today's staff.
    Run inside the caller's transaction: for round robin and least open work
    it locks the team's row before it reads the staff's state, so requests
    filed at the same moment still take turns; round robin's position is
    stored on the team. The staff's state is read only when the rule that
    decides picks a person (not for a team's queue, nor when no rule
    matches). `open_counts(user_ids)` gives those users' open requests; it
    is asked only for least open work, only for the chosen team's members
    and only under the lock (counting everyone's workload for every request
    filed was the slowest part of filing at a million requests, and a count
    read before the lock is stale anyway)."""
    rules = rules_active()
    # decide() takes the first rule that matches; its strategy says whether
    # the staff's state plays any part (it does not for a team's queue, or
    # when no rule matches and the form's default team takes it).
    rule = next((r for r in rules if r.matches(facts)), None)
    strategy = rule.strategy if rule is not None else None
    if strategy not in (ESTATE_MANAGER, ESTATE_CARETAKER, ROUND_ROBIN, LEAST_OPEN):
        return decide(facts, rules, StaffState(), fallback)
    taking_turns = strategy in (ROUND_ROBIN, LEAST_OPEN)
    if taking_turns:
        # The team's lock first, then the staff's state: what a request
        # filed at the same moment changes (the workloads, whose turn it
        # is) is read as committed. Teams, absences and estates are as
        # read now (an admin's edit meanwhile counts from the next request).
        Team.objects.select_for_update().filter(pk=rule.team_id).first()
    staff = staff_state(today=today, open_counts={})
    members = staff.team_members.get(rule.team_id, ())
    if strategy == LEAST_OPEN and members:
        staff = dataclasses.replace(staff, open_counts=dict(open_counts(members)))
    decision = decide(facts, rules, staff, fallback)
    if taking_turns and decision.handler_id is not None:
        Team.objects.filter(pk=decision.team_id).update(last_assignee_id=decision.handler_id)
    return decision


def sla_moments(*, policy_id: int | None, start: datetime.datetime) -> dict:
    """The four SLA moments (sla.SLA_FIELDS) for a request received at
    `start` under the policy; all None without one."""
    policy = (
        request_cached(("sla_policy", policy_id), SlaPolicy.objects.filter(pk=policy_id).first)
        if policy_id
        else None
    )
    if policy is None:
        return dict.fromkeys(sla.SLA_FIELDS)
    return sla.targets(policy=policy, start=start, calendar=sla.calendar_for(policy))


def policy_for_priority(priority: str) -> SlaPolicy | None:
    """The SLA policy marked for this priority (SlaPolicy.for_priority), if
    any: a form option that raises a request's priority brings its
    deadlines along."""
    return SlaPolicy.objects.filter(for_priority=priority).first() if priority else None


def on_call_addresses(*, team_id: int | None, at: datetime.datetime) -> list[str]:
    """Whom to alert about an emergency of this team at this moment:

    1. the active staff whose on-call shift (OnCallShift) covers `at`
       (starts ≤ at < ends), earliest shift first;
    2. else the team's fixed on-call address (Team.on_call_email, e.g. the
       emergency service the cooperative contracts);
    3. else, as a last resort, the team lead: an emergency must reach a
       person, and the lead answers for the team's rota. (Outside office
       hours the lead may read it only the next morning; that is why a
       cooperative sets a rota or an address.)

    Empty without a team, or when none of these exists."""
    if team_id is None:
        return []
    shifts = (
        OnCallShift.objects.filter(
            team_id=team_id, starts__lte=at, ends__gt=at, user__is_active=True
        )
        .exclude(user__email="")
        .order_by("starts", "pk")
        .values_list("user__email", flat=True)
    )
    addresses = list(dict.fromkeys(shifts))  # one each, in order
    if addresses:
        return addresses
    team = Team.objects.select_related("lead").filter(pk=team_id).first()
    if team is None:
        return []
    if team.on_call_email:
        return [team.on_call_email]
    if team.lead is not None and team.lead.is_active and team.lead.email:
        return [team.lead.email]
    return []
