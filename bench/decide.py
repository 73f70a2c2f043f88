"""Benchmark of the routing decision routing.decide.decide() with many rules.

    .venv/bin/python bench/decide.py [--rules 200] [--facts 1000] [--calls 20000]
                                     [--limit-us 1000] [--seed 7]

No database and no Django: decide() is a pure function. Builds (fixed seed)
--rules realistic rules (request type sets, categories, estates, buildings,
channels, some form-field conditions, some lists of 3-8 German keywords, all
five strategies), a staff of 5 teams x 6 members with absences, substitutes
and open counts, and --facts different requests with ~40 words of free text
(normalised, as routing.services passes it). The facts are chosen for the
worst case: about half match only the last rule, the rest no rule at all
(the fallback), so every call walks all the rules.

Times --calls decide() calls (after a warm-up) one by one with
time.perf_counter and prints mean, median and p99 per call in microseconds,
for all calls and for the two worst cases apart, then a one-line summary.
Exits 1 if the p99 exceeds --limit-us (default 1000: the target is decide()
under 1 ms with 200 rules)."""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from routing.decide import (  # noqa: E402
    ESTATE_CARETAKER,
    ESTATE_MANAGER,
    LEAST_OPEN,
    ROUND_ROBIN,
    TEAM_QUEUE,
    Facts,
    Fallback,
    Rule,
    StaffState,
    decide,
    normalise,
)

STRATEGIES = [ESTATE_MANAGER, ESTATE_CARETAKER, ROUND_ROBIN, LEAST_OPEN, TEAM_QUEUE]
TEAMS = {1: "Technik", 2: "Vermietung", 3: "Mitgliederservice", 4: "Buchhaltung", 5: "Hauswarte"}
CATEGORIES = ["damage", "rent", "contract", "membership", "neighbours", "parking", "other"]
CHANNELS = ["portal", "email", "phone", "letter"]
REQUEST_TYPES = range(1, 31)
ESTATES = range(1, 13)
BUILDINGS = {estate: range(estate * 10, estate * 10 + 6) for estate in ESTATES}
FIELDS = {
    "urgent": [True, False],
    "floor": ["EG", "1", "2", "3", "4", "5"],
    "rooms": ["Bad", "Küche", "Flur", "Wohnzimmer", "Schlafzimmer", "Keller", "Balkon"],
    "since": ["heute", "gestern", "diese Woche", "länger"],
    "pets": [True, False],
}
# What rules look for (spelt as staff type them: umlauts, capitals).
KEYWORDS = [
    "Schimmel", "Wasserschaden", "Rohrbruch", "tropft", "undicht", "Heizung", "Heizkörper",
    "kalt", "Warmwasser", "Strom", "Sicherung", "Steckdose", "Aufzug", "Fahrstuhl",
    "Schlüssel", "Schließanlage", "Briefkasten", "Klingel", "Gegensprechanlage", "Fenster",
    "Rollladen", "Jalousie", "Balkontür", "Wohnungstür", "Haustür", "Lärm", "Ruhestörung",
    "Nachbar", "Müll", "Sperrmüll", "Ungeziefer", "Schädlinge", "Mäuse", "Kakerlaken",
    "Tauben", "Graffiti", "Vandalismus", "Treppenhaus", "Beleuchtung", "Glühbirne",
    "Rauchmelder", "Gasgeruch", "Verstopfung", "Abfluss", "Toilette", "Spülkasten",
    "Waschmaschine", "Trockenraum", "Fahrradkeller", "Tiefgarage", "Stellplatz", "Kündigung",
    "Untermiete", "Nebenkosten", "Betriebskosten", "Abrechnung", "Lastschrift", "Mahnung",
    "Kaution", "Genossenschaftsanteile", "Wohnungstausch", "Besichtigung", "Übergabe",
    "Renovierung", "Tapete", "Parkett", "Fliesen", "Dusche", "Badewanne", "Silikonfuge",
]  # fmt: skip
# Everyday words of a request that no rule looks for.
FILLER = [
    "Guten", "Tag", "sehr", "geehrte", "Damen", "und", "Herren", "ich", "wohne", "seit",
    "Jahren", "in", "der", "Wohnung", "im", "zweiten", "Stock", "links", "und", "möchte",
    "Ihnen", "mitteilen", "dass", "seit", "einigen", "Tagen", "etwas", "nicht", "stimmt",
    "bitte", "kommen", "Sie", "so", "bald", "wie", "möglich", "vorbei", "ich", "bin",
    "vormittags", "meistens", "zu", "Hause", "meine", "Telefonnummer", "haben", "Sie",
    "bereits", "vielen", "Dank", "für", "Ihre", "Mühe", "mit", "freundlichen", "Grüßen",
    "außerdem", "wollte", "ich", "fragen", "ob", "man", "das", "auch", "später", "machen",
    "kann", "es", "ist", "schon", "das", "dritte", "Mal", "gestern", "Abend", "wieder",
    "meine", "Nachbarin", "hat", "dasselbe", "Problem", "gemeldet", "wäre", "schön",
    "wenn", "jemand", "sich", "darum", "kümmert", "Woche", "Montag", "Freitag", "gegen",
    "Uhr", "Straße", "Hinterhaus", "Vorderhaus", "Erdgeschoss", "Dachgeschoss", "Familie",
]  # fmt: skip


def build_rules(rng: random.Random, count: int) -> list[Rule]:
    rules = []
    for number in range(1, count):
        # Realistic rules narrow a request type (or all types) down by estate,
        # category, channel, a form answer or words in the text; none is a
        # catch-all, which would shadow every rule after it.
        types = rng.sample(list(REQUEST_TYPES), rng.randint(1, 5)) if rng.random() < 0.6 else []
        categories = rng.sample(CATEGORIES, rng.randint(1, 2)) if rng.random() < 0.3 else []
        channels = rng.sample(CHANNELS, rng.randint(1, 2)) if rng.random() < 0.2 else []
        estates = rng.sample(list(ESTATES), rng.randint(1, 3)) if rng.random() < 0.25 else []
        buildings = (
            rng.sample([b for e in estates for b in BUILDINGS[e]], 2)
            if estates and rng.random() < 0.4
            else []
        )
        field_key = rng.choice(list(FIELDS)) if rng.random() < 0.15 else ""
        field_value = rng.choice(FIELDS[field_key]) if field_key else ""
        if isinstance(field_value, bool):
            field_value = "yes" if field_value else "no"
        keywords = rng.sample(KEYWORDS, rng.randint(3, 8)) if rng.random() < 0.5 else []
        if not keywords and not (types and (categories or channels or estates or field_key)):
            keywords = rng.sample(KEYWORDS, rng.randint(3, 8))
        team = rng.choice(list(TEAMS))
        rules.append(
            Rule(
                id=1000 + number,
                position=number,
                name=f"Regel {number}",
                team_id=team,
                team_name=TEAMS[team],
                strategy=rng.choice(STRATEGIES),
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                sla_policy_id=rng.choice([None, 1, 2, 3]),
                request_type_ids=frozenset(types),
                categories=frozenset(categories),
                estate_ids=frozenset(estates),
                building_ids=frozenset(buildings),
                channels=frozenset(channels),
                field_key=field_key,
                field_value=field_value,
                keywords=tuple(normalise(word) for word in keywords),
            )
        )
    # The last rule: a broad catch of water damage, checked after all others.
    rules.append(
        Rule(
            id=1000 + count,
            position=count,
            name="Wasser allgemein",
            team_id=1,
            team_name=TEAMS[1],
            strategy=ESTATE_MANAGER,
            priority="high",
            sla_policy_id=1,
            categories=frozenset({"damage"}),
            keywords=tuple(normalise(w) for w in ("Überschwemmung", "Pfütze", "nass", "feucht")),
        )
    )
    return rules


def build_staff(rng: random.Random) -> StaffState:
    members = {team: tuple(range(team * 10 + 1, team * 10 + 7)) for team in TEAMS}
    everyone = [m for team in members.values() for m in team]
    absent = {}
    for person in rng.sample(everyone, 5):
        substitute = rng.choice([None, *rng.sample(everyone, 2)])
        absent[person] = substitute if substitute != person else None
    return StaffState(
        team_members=members,
        names={person: f"Mitarbeiterin {person}" for person in everyone},
        absent=absent,
        open_counts={person: rng.randint(0, 15) for person in everyone},
        last_assignee={team: rng.choice([None, *members[team]]) for team in TEAMS},
        estate_managers={e: rng.choice([None, *everyone]) for e in ESTATES},
        estate_caretakers={e: rng.choice([None, *members[5]]) for e in ESTATES},
        estate_names={e: f"Wohnanlage {e}" for e in ESTATES},
    )


def random_facts(rng: random.Random, water: bool) -> tuple[Facts, str]:
    """Facts of a request, and its free text as the member typed it."""
    estate = rng.choice(list(ESTATES))
    words = [rng.choice(FILLER) for _ in range(rng.randint(34, 46))]
    for _ in range(rng.randint(0, 2)):  # a rule's word or two, which rarely fit the rest
        words.insert(rng.randrange(len(words)), rng.choice(KEYWORDS))
    if water:
        words.insert(rng.randrange(len(words)), rng.choice(["nass", "feucht", "Pfützen"]))
    raw = " ".join(words)
    facts = Facts(
        request_type_id=rng.choice(list(REQUEST_TYPES)),
        category="damage" if water else rng.choice(CATEGORIES),
        estate_id=estate,
        building_id=rng.choice(list(BUILDINGS[estate])),
        channel=rng.choice(CHANNELS),
        answers={key: rng.choice(values) for key, values in FIELDS.items() if rng.random() < 0.6},
        text=normalise(raw),
    )
    return facts, raw


def build_facts(rng: random.Random, rules: list[Rule], count: int) -> tuple[list, list, list]:
    """`count` facts, half matching only the last rule, half matching none,
    and their raw texts."""
    last, none, raws = [], [], []
    earlier = rules[:-1]
    while len(last) + len(none) < count:
        water = len(last) < count // 2 and rng.random() < 0.5
        facts, raw = random_facts(rng, water)
        if any(rule.matches(facts) for rule in earlier):
            continue  # not the worst case
        pool = last if rules[-1].matches(facts) else none
        if pool is none and len(none) >= count - count // 2:
            continue
        pool.append(facts)
        raws.append(raw)
    return last, none, raws


def micro(seconds: list[float]) -> tuple[float, float, float]:
    values = sorted(s * 1e6 for s in seconds)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return statistics.fmean(values), statistics.median(values), p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--facts", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit-us", type=float, default=1000.0, help="p99 limit per call")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    rules = build_rules(rng, args.rules)
    staff = build_staff(rng)
    fallback = Fallback(team_id=3, team_name=TEAMS[3])
    last, none, raws = build_facts(rng, rules, args.facts)
    facts = last + none
    rng.shuffle(facts)
    kind = {id(f): "last" for f in last} | {id(f): "none" for f in none}

    for item in facts:  # warm-up, and a check that these are the worst cases
        decision = decide(item, rules, staff, fallback)
        expected = rules[-1].id if kind[id(item)] == "last" else None
        assert decision.rule_id == expected, (decision, item)

    timings: dict[str, list[float]] = {"last": [], "none": []}
    clock = time.perf_counter
    for call in range(args.calls):
        item = facts[call % len(facts)]
        start = clock()
        decide(item, rules, staff, fallback)
        timings[kind[id(item)]].append(clock() - start)

    start = clock()
    for raw in raws:
        normalise(raw)
    normalise_us = (clock() - start) / len(raws) * 1e6

    words = statistics.fmean(len(item.text.split()) for item in facts)
    print(
        f"{len(rules)} rules, {len(facts)} facts (~{words:.0f} words; {len(last)} match only "
        f"the last rule, {len(none)} none), {args.calls} calls, Python {sys.version.split()[0]}"
    )
    print(f"{'case':<24}{'calls':>7}{'mean µs':>10}{'median µs':>11}{'p99 µs':>9}")
    overall = micro(timings["last"] + timings["none"])
    rows = [
        ("all", timings["last"] + timings["none"]),
        ("matching rule is last", timings["last"]),
        ("no match (fallback)", timings["none"]),
    ]
    for label, values in rows:
        mean, median, p99 = micro(values)
        print(f"{label:<24}{len(values):>7}{mean:>10.1f}{median:>11.1f}{p99:>9.1f}")
    print(
        f"(normalise() of one raw ~{words:.0f}-word text: {normalise_us:.1f} µs, done once before decide())"
    )
    worst = max(micro(timings["last"])[2], micro(timings["none"])[2])
    summary = (
        f"decide() with {len(rules)} rules: mean {overall[0]:.0f} µs, median {overall[1]:.0f} µs, "
        f"p99 {overall[2]:.0f} µs (worst case p99 {worst:.0f} µs) over {args.calls} calls; "
        f"limit {args.limit_us:.0f} µs"
    )
    print(summary)
    if overall[2] > args.limit_us:
        print(f"FAIL: p99 {overall[2]:.0f} µs exceeds {args.limit_us:.0f} µs")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
