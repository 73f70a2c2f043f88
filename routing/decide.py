"""The routing decision as a pure function: facts about a request, the
ordered rules and the state of the staff in, a decision with its reason out.
No database, no clock: the same input always gives the same answer, so it is
tested table-driven, benchmarked, used for the rule preview and for
re-routing alike. routing.services loads the inputs; tickets.route applies
the result to a ticket."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.text import fold

# The assignment strategies (routing.models.Strategy holds their labels).
ESTATE_MANAGER = "estate_manager"
ESTATE_CARETAKER = "estate_caretaker"
ROUND_ROBIN = "round_robin"
LEAST_OPEN = "least_open"
TEAM_QUEUE = "team_queue"


# Rule keywords and a request's text are compared folded (umlauts spelt out,
# case and accents ignored); routing calls it by this name.
normalise = fold


@dataclass(frozen=True)
class Facts:
    request_type_id: int | None = None
    category: str = ""
    estate_id: int | None = None
    building_id: int | None = None
    channel: str = ""
    answers: Mapping[str, object] = field(default_factory=dict)
    text: str = ""  # free text, already normalise()d

    def answer_is(self, key: str, value: str) -> bool:
        answer = self.answers.get(key)
        if isinstance(answer, bool):
            answer = "yes" if answer else "no"
        if isinstance(answer, list | tuple):
            return value in [str(item) for item in answer]
        return answer is not None and str(answer) == value


@dataclass(frozen=True)
class Rule:
    id: int
    position: int
    name: str
    team_id: int
    team_name: str
    strategy: str = TEAM_QUEUE
    priority: str = "normal"
    sla_policy_id: int | None = None
    request_type_ids: frozenset[int] = frozenset()
    categories: frozenset[str] = frozenset()
    estate_ids: frozenset[int] = frozenset()
    building_ids: frozenset[int] = frozenset()
    channels: frozenset[str] = frozenset()
    field_key: str = ""
    field_value: str = ""
    keywords: tuple[str, ...] = ()  # normalise()d

    def matches(self, facts: Facts) -> bool:
        # Cheapest and most selective checks first: most rules fail on type.
        return (
            (not self.request_type_ids or facts.request_type_id in self.request_type_ids)
            and (not self.categories or facts.category in self.categories)
            and (not self.channels or facts.channel in self.channels)
            and (not self.estate_ids or facts.estate_id in self.estate_ids)
            and (not self.building_ids or facts.building_id in self.building_ids)
            and (not self.field_key or facts.answer_is(self.field_key, self.field_value))
            and (not self.keywords or any(word in facts.text for word in self.keywords))
        )


@dataclass(frozen=True)
class StaffState:
    """Who works where and who is away, as of the moment of routing."""

    team_members: Mapping[int, tuple[int, ...]] = field(default_factory=dict)  # active staff
    names: Mapping[int, str] = field(default_factory=dict)
    absent: Mapping[int, int | None] = field(default_factory=dict)  # user -> substitute
    open_counts: Mapping[int, int] = field(default_factory=dict)
    last_assignee: Mapping[int, int | None] = field(default_factory=dict)  # team -> user
    estate_managers: Mapping[int, int | None] = field(default_factory=dict)
    estate_caretakers: Mapping[int, int | None] = field(default_factory=dict)
    estate_names: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fallback:
    """Where a request goes when no rule matches: the form's default team
    (its queue), or nobody (the triage queue)."""

    team_id: int | None = None
    team_name: str = ""


@dataclass(frozen=True)
class Decision:
    team_id: int | None
    handler_id: int | None
    priority: str
    sla_policy_id: int | None
    rule_id: int | None
    # The reason as data (rendered in the reader's language by
    # routing.reasons.reason_text): which rule, which team, who and why.
    reason: Mapping[str, object]


def _available(user_id: int | None, staff: StaffState) -> bool:
    return user_id is not None and user_id not in staff.absent


def _in_turn(members: tuple[int, ...], last: int | None) -> list[int]:
    """Members in round-robin order: the one after `last` first."""
    ordered = sorted(members)
    if last is None:
        return ordered
    later = [m for m in ordered if m > last]
    return later + [m for m in ordered if m <= last]


def _person(rule: Rule, facts: Facts, staff: StaffState) -> tuple[int | None, dict]:
    """The handler by the rule's strategy, and how it was found."""
    strategy = rule.strategy
    if strategy in (ESTATE_MANAGER, ESTATE_CARETAKER):
        role = "manager" if strategy == ESTATE_MANAGER else "caretaker"
        people = staff.estate_managers if role == "manager" else staff.estate_caretakers
        person = people.get(facts.estate_id) if facts.estate_id is not None else None
        estate = staff.estate_names.get(facts.estate_id, "") if facts.estate_id else ""
        if person is None:
            return None, {"how": "no_" + role, "estate": estate}
        if _available(person, staff):
            return person, {"how": role, "estate": estate}
        substitute = staff.absent.get(person)
        if _available(substitute, staff):
            return substitute, {
                "how": "substitute",
                "absent": staff.names.get(person, ""),
                "estate": estate,
            }
        return None, {"how": "absent_no_substitute", "absent": staff.names.get(person, "")}
    if strategy in (ROUND_ROBIN, LEAST_OPEN):
        members = staff.team_members.get(rule.team_id, ())
        candidates = [
            m
            for m in _in_turn(members, staff.last_assignee.get(rule.team_id))
            if _available(m, staff)
        ]
        if not candidates:
            return None, {"how": "nobody_available"}
        if strategy == ROUND_ROBIN:
            return candidates[0], {"how": "in_turn"}
        # Least open work; a tie goes to whoever is next in turn (min keeps
        # the first of equals), so ties are shared out fairly too.
        person = min(candidates, key=lambda m: staff.open_counts.get(m, 0))
        return person, {"how": "least_open", "open": staff.open_counts.get(person, 0)}
    return None, {"how": "queue"}


def decide(
    facts: Facts, rules: list[Rule], staff: StaffState, fallback: Fallback = Fallback()
) -> Decision:
    """The first matching rule (rules are in position order) decides the
    team, priority and SLA; its strategy finds the handler. No match: the
    fallback team's queue, or triage."""
    for rule in rules:
        if rule.matches(facts):
            handler, how = _person(rule, facts, staff)
            return Decision(
                team_id=rule.team_id,
                handler_id=handler,
                priority=rule.priority,
                sla_policy_id=rule.sla_policy_id,
                rule_id=rule.id,
                reason={
                    "rule": rule.position,
                    "rule_name": rule.name,
                    "team": rule.team_name,
                    "handler": staff.names.get(handler, "") if handler else "",
                    **how,
                },
            )
    if fallback.team_id is not None:
        reason = {"rule": None, "team": fallback.team_name, "how": "default_team"}
    else:
        reason = {"rule": None, "team": "", "how": "triage"}
    return Decision(
        team_id=fallback.team_id,
        handler_id=None,
        priority="normal",
        sla_policy_id=None,
        rule_id=None,
        reason=reason,
    )
