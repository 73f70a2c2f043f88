"""The pure routing decision (routing.decide) table-driven, without a database:
conditions, rule order, every strategy, the fallback, fairness over a sequence
of decisions and the reason in words (routing.reasons) in German and English.
Every expected value is written by hand."""

from collections import Counter
from dataclasses import replace

import pytest
from django.utils import translation

from routing.decide import (
    ESTATE_CARETAKER,
    ESTATE_MANAGER,
    LEAST_OPEN,
    ROUND_ROBIN,
    TEAM_QUEUE,
    Decision,
    Facts,
    Fallback,
    Rule,
    StaffState,
    decide,
    normalise,
)
from routing.reasons import reason_text

# The cast. Teams: 10 Technik (1, 2, 3), 20 Vermietung (4, 5), 30 Leer (nobody).
# Estates: 100 Nord (manager Hanna 1, caretaker Uwe 6), 200 Süd (manager Peter 4,
# caretaker Karin 7), 300 Ost (neither).
HANNA, JONAS, AYLIN, PETER, LENA, UWE, KARIN, SABINE = 1, 2, 3, 4, 5, 6, 7, 8
TECHNIK, VERMIETUNG, LEER = 10, 20, 30
NORD, SUED, OST = 100, 200, 300

STAFF = StaffState(
    team_members={TECHNIK: (HANNA, JONAS, AYLIN), VERMIETUNG: (PETER, LENA), LEER: ()},
    names={
        HANNA: "Hanna Beispiel",
        JONAS: "Jonas Richter",
        AYLIN: "Aylin Yılmaz",
        PETER: "Peter Koch",
        LENA: "Lena Wolf",
        UWE: "Uwe Braun",
        KARIN: "Karin Lange",
        SABINE: "Sabine Neumann",
    },
    estate_managers={NORD: HANNA, SUED: PETER},
    estate_caretakers={NORD: UWE, SUED: KARIN},
    estate_names={NORD: "Wohnanlage Nord", SUED: "Wohnanlage Süd", OST: "Wohnanlage Ost"},
)


def staff(**changes) -> StaffState:
    """The cast with some fields replaced (absences, open counts, last assignees)."""
    return replace(STAFF, **changes)


def rule(
    id: int = 1,
    *,
    strategy: str = TEAM_QUEUE,
    team: int = TECHNIK,
    team_name: str = "Technik",
    name: str = "",
    types=(),
    categories=(),
    estates=(),
    buildings=(),
    channels=(),
    field: tuple[str, str] = ("", ""),
    keywords=(),
    priority: str = "normal",
    sla: int | None = None,
) -> Rule:
    """A rule at position == id; keywords are normalise()d like routing.services does."""
    return Rule(
        id=id,
        position=id,
        name=name or f"Regel {id}",
        team_id=team,
        team_name=team_name,
        strategy=strategy,
        priority=priority,
        sla_policy_id=sla,
        request_type_ids=frozenset(types),
        categories=frozenset(categories),
        estate_ids=frozenset(estates),
        building_ids=frozenset(buildings),
        channels=frozenset(channels),
        field_key=field[0],
        field_value=field[1],
        keywords=tuple(normalise(word) for word in keywords),
    )


def text(raw: str) -> Facts:
    return Facts(text=normalise(raw))


# --- conditions --------------------------------------------------------------------------

CONDITIONS = [
    # (rule, facts, matches)
    (rule(types={5}), Facts(request_type_id=5), True),
    (rule(types={5}), Facts(request_type_id=6), False),
    (rule(types={5}), Facts(), False),
    (rule(types={5, 6}), Facts(request_type_id=6), True),
    (rule(categories={"damage"}), Facts(category="damage"), True),
    (rule(categories={"damage"}), Facts(category="rent"), False),
    (rule(categories={"damage"}), Facts(), False),
    (rule(estates={NORD}), Facts(estate_id=NORD), True),
    (rule(estates={NORD}), Facts(estate_id=SUED), False),
    (rule(estates={NORD}), Facts(), False),
    (rule(buildings={7}), Facts(building_id=7), True),
    (rule(buildings={7}), Facts(building_id=8), False),
    (rule(buildings={7}), Facts(estate_id=NORD), False),
    (rule(channels={"email"}), Facts(channel="email"), True),
    (rule(channels={"email"}), Facts(channel="portal"), False),
    (rule(field=("floor", "2")), Facts(answers={"floor": "2"}), True),
    (rule(field=("floor", "2")), Facts(answers={"floor": "3"}), False),
    (rule(field=("floor", "2")), Facts(answers={"floor": 2}), True),
    (rule(field=("urgent", "yes")), Facts(answers={"urgent": True}), True),
    (rule(field=("urgent", "yes")), Facts(answers={"urgent": False}), False),
    (rule(field=("urgent", "no")), Facts(answers={"urgent": False}), True),
    (rule(field=("urgent", "True")), Facts(answers={"urgent": True}), False),
    (rule(field=("rooms", "Küche")), Facts(answers={"rooms": ["Bad", "Küche"]}), True),
    (rule(field=("rooms", "Küche")), Facts(answers={"rooms": ("Küche",)}), True),
    (rule(field=("rooms", "Flur")), Facts(answers={"rooms": ["Bad", "Küche"]}), False),
    (rule(field=("rooms", "Bad")), Facts(answers={"rooms": []}), False),
    (rule(field=("floor", "2")), Facts(answers={}), False),
    (rule(field=("floor", "2")), Facts(answers={"other": "2"}), False),
    (rule(keywords=("schimmel", "feucht")), text("An der Wand ist es feucht"), True),
    (rule(keywords=("schimmel", "feucht")), text("Schimmel im Bad"), True),
    (rule(keywords=("schimmel", "feucht")), text("Die Heizung ist kalt"), False),
    (rule(keywords=("schimmel",)), Facts(), False),
    (rule(keywords=("schlüssel",)), text("Schluessel verloren"), True),
    (rule(keywords=("schlüssel",)), text("SCHLÜSSEL weg"), True),
    (rule(keywords=("Schluessel",)), text("Mein Schlüssel klemmt"), True),
    (rule(keywords=("straße",)), text("Laterne an der Strasse"), True),
    (rule(keywords=("kalt",)), text("Heizung KALT"), True),
    (rule(keywords=("café",)), text("Das Cafe im Hof"), True),
    (
        rule(types={5}, estates={NORD}, keywords=("wasser",)),
        Facts(request_type_id=5, estate_id=NORD, text=normalise("Wasser im Keller")),
        True,
    ),
    (
        rule(types={5}, estates={NORD}, keywords=("wasser",)),
        Facts(request_type_id=6, estate_id=NORD, text=normalise("Wasser im Keller")),
        False,
    ),
    (
        rule(types={5}, estates={NORD}, keywords=("wasser",)),
        Facts(request_type_id=5, estate_id=SUED, text=normalise("Wasser im Keller")),
        False,
    ),
    (
        rule(types={5}, estates={NORD}, keywords=("wasser",)),
        Facts(request_type_id=5, estate_id=NORD, text=normalise("Strom ist aus")),
        False,
    ),
    (
        rule(categories={"damage"}, channels={"phone"}, buildings={7}, field=("urgent", "yes")),
        Facts(category="damage", channel="phone", building_id=7, answers={"urgent": True}),
        True,
    ),
    (
        rule(categories={"damage"}, channels={"phone"}, buildings={7}, field=("urgent", "yes")),
        Facts(category="damage", channel="email", building_id=7, answers={"urgent": True}),
        False,
    ),
    (
        rule(categories={"damage"}, channels={"phone"}, buildings={7}, field=("urgent", "yes")),
        Facts(category="damage", channel="phone", building_id=7, answers={"urgent": False}),
        False,
    ),
    (rule(), Facts(), True),
    (
        rule(),
        Facts(request_type_id=9, category="x", estate_id=OST, channel="email", text="egal"),
        True,
    ),
]
CONDITION_IDS = [
    "type-match",
    "type-other",
    "type-missing",
    "type-one-of-several",
    "category-match",
    "category-other",
    "category-missing",
    "estate-match",
    "estate-other",
    "estate-missing",
    "building-match",
    "building-other",
    "building-missing",
    "channel-match",
    "channel-other",
    "field-string-match",
    "field-string-other",
    "field-int-as-string",
    "field-bool-true-is-yes",
    "field-bool-false-not-yes",
    "field-bool-false-is-no",
    "field-bool-true-not-True",
    "field-list-contains",
    "field-tuple-contains",
    "field-list-lacks",
    "field-list-empty",
    "field-answer-missing",
    "field-other-key-only",
    "keywords-second-of-two",
    "keywords-first-of-two",
    "keywords-none",
    "keywords-empty-text",
    "keyword-umlaut-vs-ue",
    "keyword-umlaut-upper-case",
    "keyword-ue-vs-umlaut",
    "keyword-eszett",
    "keyword-case-insensitive",
    "keyword-accent-dropped",
    "combined-all-match",
    "combined-type-fails",
    "combined-estate-fails",
    "combined-keyword-fails",
    "combined-four-match",
    "combined-channel-fails",
    "combined-field-fails",
    "no-conditions-empty-facts",
    "no-conditions-any-facts",
]


@pytest.mark.parametrize(("the_rule", "facts", "matches"), CONDITIONS, ids=CONDITION_IDS)
def test_condition(the_rule, facts, matches):
    assert the_rule.matches(facts) is matches
    assert decide(facts, [the_rule], STAFF).rule_id == (1 if matches else None)


# --- rule order --------------------------------------------------------------------------

ORDER = [
    # (rules, facts, expected rule id)
    ([rule(1, types={5}), rule(2, types={5})], Facts(request_type_id=5), 1),
    ([rule(1, types={6}), rule(2, types={5})], Facts(request_type_id=5), 2),
    ([rule(1, types={5}, estates={SUED}), rule(2, types={5})], Facts(5, estate_id=NORD), 2),
    ([rule(1), rule(2, types={5})], Facts(request_type_id=5), 1),
    ([rule(1, types={6}), rule(2), rule(3, types={5})], Facts(request_type_id=5), 2),
    ([rule(1, types={6}), rule(2, types={7})], Facts(request_type_id=5), None),
    ([], Facts(request_type_id=5), None),
    (
        [rule(3, keywords=("gas",)), rule(1, keywords=("geruch",))],
        text("Gasgeruch im Treppenhaus"),
        3,
    ),
]
ORDER_IDS = [
    "both-match-first-wins",
    "only-second-matches",
    "first-fails-on-estate",
    "catch-all-first-shadows",
    "catch-all-in-the-middle",
    "none-matches",
    "no-rules",
    "list-order-not-id-order",
]


@pytest.mark.parametrize(("rules", "facts", "rule_id"), ORDER, ids=ORDER_IDS)
def test_first_matching_rule_wins(rules, facts, rule_id):
    assert decide(facts, rules, STAFF).rule_id == rule_id


# --- strategies --------------------------------------------------------------------------

R = "Regel 1"  # the default rule name
NORD_FACTS = Facts(estate_id=NORD)
SUED_FACTS = Facts(estate_id=SUED)
STRATEGIES = [
    # (strategy, team, facts, staff, handler, reason)
    (
        ESTATE_MANAGER, TECHNIK, NORD_FACTS, STAFF, HANNA,
        {"how": "manager", "estate": "Wohnanlage Nord", "handler": "Hanna Beispiel"},
    ),
    (
        ESTATE_MANAGER, TECHNIK, SUED_FACTS, STAFF, PETER,
        {"how": "manager", "estate": "Wohnanlage Süd", "handler": "Peter Koch"},
    ),
    (
        ESTATE_MANAGER, TECHNIK, NORD_FACTS, staff(absent={HANNA: JONAS}), JONAS,
        {
            "how": "substitute", "estate": "Wohnanlage Nord", "handler": "Jonas Richter",
            "absent": "Hanna Beispiel",
        },
    ),
    (
        ESTATE_MANAGER, TECHNIK, NORD_FACTS, staff(absent={HANNA: SABINE}), SABINE,
        {
            "how": "substitute", "estate": "Wohnanlage Nord", "handler": "Sabine Neumann",
            "absent": "Hanna Beispiel",
        },
    ),
    (
        ESTATE_MANAGER, TECHNIK, NORD_FACTS, staff(absent={HANNA: JONAS, JONAS: AYLIN}), None,
        {"how": "absent_no_substitute", "absent": "Hanna Beispiel", "handler": ""},
    ),
    (
        ESTATE_MANAGER, TECHNIK, NORD_FACTS, staff(absent={HANNA: None}), None,
        {"how": "absent_no_substitute", "absent": "Hanna Beispiel", "handler": ""},
    ),
    (
        ESTATE_MANAGER, TECHNIK, Facts(estate_id=OST), STAFF, None,
        {"how": "no_manager", "estate": "Wohnanlage Ost", "handler": ""},
    ),
    (
        ESTATE_MANAGER, TECHNIK, Facts(estate_id=999), STAFF, None,
        {"how": "no_manager", "estate": "", "handler": ""},
    ),
    (
        ESTATE_MANAGER, TECHNIK, Facts(), STAFF, None,
        {"how": "no_manager", "estate": "", "handler": ""},
    ),
    (
        ESTATE_CARETAKER, TECHNIK, NORD_FACTS, STAFF, UWE,
        {"how": "caretaker", "estate": "Wohnanlage Nord", "handler": "Uwe Braun"},
    ),
    (
        ESTATE_CARETAKER, TECHNIK, SUED_FACTS, staff(absent={KARIN: UWE}), UWE,
        {
            "how": "substitute", "estate": "Wohnanlage Süd", "handler": "Uwe Braun",
            "absent": "Karin Lange",
        },
    ),
    (
        ESTATE_CARETAKER, TECHNIK, SUED_FACTS, staff(absent={KARIN: UWE, UWE: None}), None,
        {"how": "absent_no_substitute", "absent": "Karin Lange", "handler": ""},
    ),
    (
        ESTATE_CARETAKER, TECHNIK, SUED_FACTS, staff(absent={KARIN: None}), None,
        {"how": "absent_no_substitute", "absent": "Karin Lange", "handler": ""},
    ),
    (
        ESTATE_CARETAKER, TECHNIK, Facts(estate_id=OST), STAFF, None,
        {"how": "no_caretaker", "estate": "Wohnanlage Ost", "handler": ""},
    ),
    (
        ESTATE_CARETAKER, TECHNIK, Facts(), STAFF, None,
        {"how": "no_caretaker", "estate": "", "handler": ""},
    ),
    (
        ROUND_ROBIN, TECHNIK, Facts(), STAFF, HANNA,
        {"how": "in_turn", "handler": "Hanna Beispiel"},
    ),
    (
        ROUND_ROBIN, TECHNIK, Facts(), staff(last_assignee={TECHNIK: HANNA}), JONAS,
        {"how": "in_turn", "handler": "Jonas Richter"},
    ),
    (
        ROUND_ROBIN, TECHNIK, Facts(), staff(last_assignee={TECHNIK: JONAS}), AYLIN,
        {"how": "in_turn", "handler": "Aylin Yılmaz"},
    ),
    (
        ROUND_ROBIN, TECHNIK, Facts(), staff(last_assignee={TECHNIK: AYLIN}), HANNA,
        {"how": "in_turn", "handler": "Hanna Beispiel"},
    ),
    (
        ROUND_ROBIN, TECHNIK, Facts(), staff(last_assignee={TECHNIK: PETER}), HANNA,
        {"how": "in_turn", "handler": "Hanna Beispiel"},
    ),
    (
        ROUND_ROBIN, TECHNIK, Facts(), staff(last_assignee={VERMIETUNG: PETER}), HANNA,
        {"how": "in_turn", "handler": "Hanna Beispiel"},
    ),
    (
        ROUND_ROBIN, TECHNIK, Facts(),
        staff(last_assignee={TECHNIK: HANNA}, absent={JONAS: None}), AYLIN,
        {"how": "in_turn", "handler": "Aylin Yılmaz"},
    ),
    (
        ROUND_ROBIN, TECHNIK, Facts(),
        staff(last_assignee={TECHNIK: JONAS}, absent={AYLIN: HANNA}), HANNA,
        {"how": "in_turn", "handler": "Hanna Beispiel"},
    ),
    (
        ROUND_ROBIN, TECHNIK, Facts(),
        staff(absent={HANNA: None, JONAS: AYLIN, AYLIN: None}), None,
        {"how": "nobody_available", "handler": ""},
    ),
    (
        ROUND_ROBIN, LEER, Facts(), STAFF, None,
        {"how": "nobody_available", "handler": ""},
    ),
    (
        ROUND_ROBIN, 99, Facts(), STAFF, None,
        {"how": "nobody_available", "handler": ""},
    ),
    (
        LEAST_OPEN, TECHNIK, Facts(), staff(open_counts={HANNA: 4, JONAS: 1, AYLIN: 2}), JONAS,
        {"how": "least_open", "open": 1, "handler": "Jonas Richter"},
    ),
    (
        LEAST_OPEN, TECHNIK, Facts(), staff(open_counts={HANNA: 4, JONAS: 1}), AYLIN,
        {"how": "least_open", "open": 0, "handler": "Aylin Yılmaz"},
    ),
    (
        LEAST_OPEN, TECHNIK, Facts(), staff(open_counts={HANNA: 2, JONAS: 2, AYLIN: 2}), HANNA,
        {"how": "least_open", "open": 2, "handler": "Hanna Beispiel"},
    ),
    (
        LEAST_OPEN, TECHNIK, Facts(),
        staff(open_counts={HANNA: 1, JONAS: 1, AYLIN: 1}, last_assignee={TECHNIK: HANNA}), JONAS,
        {"how": "least_open", "open": 1, "handler": "Jonas Richter"},
    ),
    (
        LEAST_OPEN, TECHNIK, Facts(),
        staff(open_counts={HANNA: 1, JONAS: 3, AYLIN: 1}, last_assignee={TECHNIK: HANNA}), AYLIN,
        {"how": "least_open", "open": 1, "handler": "Aylin Yılmaz"},
    ),
    (
        LEAST_OPEN, TECHNIK, Facts(),
        staff(open_counts={HANNA: 1, JONAS: 1, AYLIN: 1}, last_assignee={TECHNIK: AYLIN}), HANNA,
        {"how": "least_open", "open": 1, "handler": "Hanna Beispiel"},
    ),
    (
        LEAST_OPEN, TECHNIK, Facts(),
        staff(open_counts={HANNA: 5, JONAS: 0, AYLIN: 3}, absent={JONAS: HANNA}), AYLIN,
        {"how": "least_open", "open": 3, "handler": "Aylin Yılmaz"},
    ),
    (
        LEAST_OPEN, TECHNIK, Facts(), staff(absent={HANNA: None, JONAS: None, AYLIN: None}), None,
        {"how": "nobody_available", "handler": ""},
    ),
    (
        LEAST_OPEN, LEER, Facts(), STAFF, None,
        {"how": "nobody_available", "handler": ""},
    ),
    (
        TEAM_QUEUE, TECHNIK, NORD_FACTS, STAFF, None,
        {"how": "queue", "handler": ""},
    ),
    (
        "no_such_strategy", TECHNIK, NORD_FACTS, STAFF, None,
        {"how": "queue", "handler": ""},
    ),
]  # fmt: skip
STRATEGY_IDS = [
    "manager-present",
    "manager-present-other-estate",
    "manager-absent-substitute-in-team",
    "manager-absent-substitute-outside-team",
    "manager-absent-substitute-absent",
    "manager-absent-no-substitute",
    "manager-none-for-estate",
    "manager-unknown-estate",
    "manager-request-without-estate",
    "caretaker-present",
    "caretaker-absent-substitute",
    "caretaker-absent-substitute-absent",
    "caretaker-absent-no-substitute",
    "caretaker-none-for-estate",
    "caretaker-request-without-estate",
    "round-robin-first-ever-lowest-id",
    "round-robin-after-first",
    "round-robin-after-second",
    "round-robin-wraps-around",
    "round-robin-last-not-in-team",
    "round-robin-last-of-other-team-ignored",
    "round-robin-skips-absent",
    "round-robin-skips-absent-and-wraps",
    "round-robin-all-absent",
    "round-robin-team-without-members",
    "round-robin-unknown-team",
    "least-open-fewest-wins",
    "least-open-missing-count-is-zero",
    "least-open-tie-first-ever-lowest-id",
    "least-open-tie-next-after-last",
    "least-open-tie-skips-busier-next",
    "least-open-tie-wraps-around",
    "least-open-skips-absent",
    "least-open-all-absent",
    "least-open-team-without-members",
    "team-queue",
    "unknown-strategy-queue",
]


@pytest.mark.parametrize(
    ("strategy", "team", "facts", "state", "handler", "how"), STRATEGIES, ids=STRATEGY_IDS
)
def test_strategy(strategy, team, facts, state, handler, how):
    decision = decide(facts, [rule(strategy=strategy, team=team, team_name="Team")], state)
    assert decision.team_id == team
    assert decision.handler_id == handler
    assert decision.reason == {"rule": 1, "rule_name": R, "team": "Team", **how}


# --- fallback and the decision's fields --------------------------------------------------

NO_MATCH = [rule(1, types={6}, priority="high", sla=3)]


def test_no_match_with_default_team_goes_to_its_queue():
    decision = decide(Facts(request_type_id=5), NO_MATCH, STAFF, Fallback(VERMIETUNG, "Vermietung"))
    assert decision == Decision(
        team_id=VERMIETUNG,
        handler_id=None,
        priority="normal",
        sla_policy_id=None,
        rule_id=None,
        reason={"rule": None, "team": "Vermietung", "how": "default_team"},
    )


@pytest.mark.parametrize("fallback", [Fallback(), None], ids=["empty-fallback", "no-fallback"])
def test_no_match_without_default_team_goes_to_triage(fallback):
    args = (Facts(request_type_id=5), NO_MATCH, STAFF) + ((fallback,) if fallback else ())
    assert decide(*args) == Decision(
        team_id=None,
        handler_id=None,
        priority="normal",
        sla_policy_id=None,
        rule_id=None,
        reason={"rule": None, "team": "", "how": "triage"},
    )


def test_a_match_ignores_the_fallback():
    decision = decide(Facts(request_type_id=6), NO_MATCH, STAFF, Fallback(VERMIETUNG, "Vermietung"))
    assert (decision.team_id, decision.rule_id) == (TECHNIK, 1)


DECISIONS = [
    # (rule, facts, state, decision)
    (
        Rule(
            id=42, position=3, name="Schaden Nord", team_id=TECHNIK, team_name="Technik",
            strategy=ESTATE_MANAGER, priority="urgent", sla_policy_id=7,
            request_type_ids=frozenset({5}),
        ),
        Facts(request_type_id=5, estate_id=NORD),
        STAFF,
        Decision(
            team_id=TECHNIK, handler_id=HANNA, priority="urgent", sla_policy_id=7, rule_id=42,
            reason={
                "rule": 3, "rule_name": "Schaden Nord", "team": "Technik",
                "handler": "Hanna Beispiel", "how": "manager", "estate": "Wohnanlage Nord",
            },
        ),
    ),
    (
        Rule(
            id=8, position=1, name="Miete", team_id=VERMIETUNG, team_name="Vermietung",
            strategy=LEAST_OPEN, priority="low", categories=frozenset({"rent"}),
        ),
        Facts(category="rent"),
        staff(open_counts={PETER: 3, LENA: 2}),
        Decision(
            team_id=VERMIETUNG, handler_id=LENA, priority="low", sla_policy_id=None, rule_id=8,
            reason={
                "rule": 1, "rule_name": "Miete", "team": "Vermietung", "handler": "Lena Wolf",
                "how": "least_open", "open": 2,
            },
        ),
    ),
    (
        Rule(
            id=9, position=2, name="Allgemein", team_id=TECHNIK, team_name="Technik",
            strategy=TEAM_QUEUE, priority="high", sla_policy_id=1,
        ),
        Facts(),
        STAFF,
        Decision(
            team_id=TECHNIK, handler_id=None, priority="high", sla_policy_id=1, rule_id=9,
            reason={
                "rule": 2, "rule_name": "Allgemein", "team": "Technik", "handler": "",
                "how": "queue",
            },
        ),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("the_rule", "facts", "state", "expected"),
    DECISIONS,
    ids=["manager-urgent-with-sla", "least-open-low-without-sla", "queue-high"],
)
def test_decision_fields(the_rule, facts, state, expected):
    assert decide(facts, [the_rule], state) == expected


# --- fairness over a sequence of decisions -----------------------------------------------


def run(strategy: str, state: StaffState, times: int) -> tuple[list[int | None], StaffState]:
    """`times` decisions in a row, each one's handler fed back as the team's
    last assignee and with one more open request."""
    chosen = []
    the_rule = rule(strategy=strategy)
    for _ in range(times):
        handler = decide(Facts(), [the_rule], state).handler_id
        chosen.append(handler)
        counts = dict(state.open_counts)
        counts[handler] = counts.get(handler, 0) + 1
        state = replace(state, last_assignee={TECHNIK: handler}, open_counts=counts)
    return chosen, state


def test_round_robin_shares_out_evenly_and_cycles():
    chosen, _ = run(ROUND_ROBIN, STAFF, 9)
    assert chosen == [HANNA, JONAS, AYLIN] * 3
    assert Counter(chosen) == {HANNA: 3, JONAS: 3, AYLIN: 3}


def test_round_robin_with_one_absent_alternates_between_the_other_two():
    chosen, _ = run(ROUND_ROBIN, staff(absent={JONAS: None}), 6)
    assert chosen == [HANNA, AYLIN, HANNA, AYLIN, HANNA, AYLIN]


def test_round_robin_continues_after_the_last_assignee():
    chosen, _ = run(ROUND_ROBIN, staff(last_assignee={TECHNIK: JONAS}), 4)
    assert chosen == [AYLIN, HANNA, JONAS, AYLIN]


def test_least_open_balances_the_open_counts():
    chosen, state = run(LEAST_OPEN, staff(open_counts={HANNA: 2, JONAS: 0, AYLIN: 1}), 10)
    assert chosen == [JONAS, AYLIN, JONAS, AYLIN, HANNA, JONAS, AYLIN, HANNA, JONAS, AYLIN]
    assert state.open_counts == {HANNA: 4, JONAS: 4, AYLIN: 5}
    counts = state.open_counts.values()
    assert max(counts) - min(counts) <= 1


# --- the reason in words -----------------------------------------------------------------

SCHADEN_NORD = Rule(
    id=42,
    position=3,
    name="Schaden Nord",
    team_id=TECHNIK,
    team_name="Technik",
    strategy=ESTATE_MANAGER,
)
TEXTS = [
    # (rule, facts, state, fallback, German, English)
    (
        SCHADEN_NORD, NORD_FACTS, STAFF, Fallback(),
        "Regel 3 „Schaden Nord“ → Technik; zuständig Hanna Beispiel (Verwaltung Wohnanlage Nord)",
        "Rule 3 “Schaden Nord” → Technik; handler Hanna Beispiel "
        "(property manager of Wohnanlage Nord)",
    ),
    (
        SCHADEN_NORD, NORD_FACTS, staff(absent={HANNA: JONAS}), Fallback(),
        "Regel 3 „Schaden Nord“ → Technik; zuständig Jonas Richter "
        "(Vertretung für Hanna Beispiel, abwesend)",
        "Rule 3 “Schaden Nord” → Technik; handler Jonas Richter "
        "(substitute for Hanna Beispiel, who is absent)",
    ),
    (
        SCHADEN_NORD, NORD_FACTS, staff(absent={HANNA: None}), Fallback(),
        "Regel 3 „Schaden Nord“ → Technik; Hanna Beispiel ist abwesend ohne Vertretung: "
        "im Eingang des Teams",
        "Rule 3 “Schaden Nord” → Technik; Hanna Beispiel is absent and has no substitute: "
        "in the team's queue",
    ),
    (
        replace(SCHADEN_NORD, strategy=ESTATE_CARETAKER), NORD_FACTS, STAFF, Fallback(),
        "Regel 3 „Schaden Nord“ → Technik; zuständig Uwe Braun (Hauswart Wohnanlage Nord)",
        "Rule 3 “Schaden Nord” → Technik; handler Uwe Braun (caretaker of Wohnanlage Nord)",
    ),
    (
        replace(SCHADEN_NORD, strategy=ROUND_ROBIN), NORD_FACTS, STAFF, Fallback(),
        "Regel 3 „Schaden Nord“ → Technik; zuständig Hanna Beispiel (der Reihe nach)",
        "Rule 3 “Schaden Nord” → Technik; handler Hanna Beispiel (in turn)",
    ),
    (
        replace(SCHADEN_NORD, strategy=LEAST_OPEN), NORD_FACTS,
        staff(open_counts={HANNA: 2, JONAS: 1, AYLIN: 3}), Fallback(),
        "Regel 3 „Schaden Nord“ → Technik; zuständig Jonas Richter (wenigste offene Anliegen: 1)",
        "Rule 3 “Schaden Nord” → Technik; handler Jonas Richter (fewest open requests: 1)",
    ),
    (
        replace(SCHADEN_NORD, strategy=TEAM_QUEUE), NORD_FACTS, STAFF, Fallback(),
        "Regel 3 „Schaden Nord“ → Technik; im Eingang des Teams",
        "Rule 3 “Schaden Nord” → Technik; in the team's queue",
    ),
    (
        SCHADEN_NORD, Facts(estate_id=OST), STAFF, Fallback(),
        "Regel 3 „Schaden Nord“ → Technik; keine Verwaltung für diese Wohnanlage hinterlegt: "
        "im Eingang des Teams",
        "Rule 3 “Schaden Nord” → Technik; no property manager for this estate: "
        "in the team's queue",
    ),
    (
        replace(SCHADEN_NORD, estate_ids=frozenset({SUED})), NORD_FACTS, STAFF, Fallback(),
        "Keine Regel passt → Eingangskorb (noch nicht zugeordnet)",
        "No rule matched → triage (not yet assigned)",
    ),
    (
        replace(SCHADEN_NORD, estate_ids=frozenset({SUED})), NORD_FACTS, STAFF,
        Fallback(VERMIETUNG, "Vermietung"),
        "Keine Regel passt → Standardteam des Formulars: Vermietung (Eingang des Teams)",
        "No rule matched → default team of the form: Vermietung (team's queue)",
    ),
]  # fmt: skip
TEXT_IDS = [
    "manager",
    "substitute-names-the-absent",
    "absent-no-substitute",
    "caretaker",
    "in-turn",
    "least-open",
    "queue",
    "no-manager",
    "triage",
    "default-team",
]


@pytest.mark.parametrize(
    ("the_rule", "facts", "state", "fallback", "german", "english"), TEXTS, ids=TEXT_IDS
)
def test_reason_text(the_rule, facts, state, fallback, german, english):
    reason = decide(facts, [the_rule], state, fallback).reason
    with translation.override("de"):
        assert reason_text(reason) == german
    with translation.override("en"):
        assert reason_text(reason) == english


# --- determinism -------------------------------------------------------------------------


def test_the_same_inputs_give_the_same_decision():
    rules = [
        rule(1, types={6}),
        rule(2, keywords=("schimmel",), strategy=ESTATE_MANAGER),
        rule(3, strategy=LEAST_OPEN),
    ]
    state = staff(absent={HANNA: JONAS}, open_counts={JONAS: 1}, last_assignee={TECHNIK: AYLIN})
    facts = Facts(request_type_id=5, estate_id=NORD, text=normalise("Schimmel im Bad"))
    first = decide(facts, rules, state)
    second = decide(facts, list(rules), state)
    assert first == second
    assert first.handler_id == JONAS
    assert first.reason["how"] == "substitute"
    facts = Facts(request_type_id=5, estate_id=NORD, text=normalise("Heizung kalt"))
    assert decide(facts, rules, state) == decide(facts, rules, state)
    assert decide(facts, rules, state).handler_id == AYLIN
