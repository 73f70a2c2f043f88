"""Seeds a benchmark data set quickly with bulk inserts (issue 11).

    .venv/bin/python bench/seed.py [--scale smoke|100k|1m] [--database-url URL]
                                   [--keep PATH|NAME] [--seed 7] [--limit-s S]

Scales (SCALES): `smoke` (60 member accounts, 400 requests: seconds, run by
the test suite), `100k` (5,000 member accounts, 100,000 requests) and `1m`
(10,000 member accounts, 1,000,000 requests), each over eight years of
history, ~7 % of the requests open.

What it builds (fixed seed: the same data every run):

* the demo cooperative and its test cast (demo.cast.build_demo), the 14
  demo request types and 5 teams (demo.request_types), the demo routing
  rules, SLA policies and staff (demo.routing), and more handlers: 20 staff;
* 10 estates with buildings and units; one current contract per occupied
  unit with a household of one or two members (some partners joined a
  running contract later), former tenants before some of them, a few
  investing members without a flat; a portal account for most members
  (all with the same password: hashed once, set on every row);
* the requests, spread over the households (some file many, most a few)
  and the request types (repairs most): answers in German ("Die Heizung im
  Bad bleibt kalt. …"), channel, team, handler and routing reason as the
  demo rules decide them, priority, SLA deadlines, first response, status
  (~7 % open: most of the recent ones, a few stale old ones), rating,
  ~3 events each (received, replies, questions, member replies, internal
  notes, status changes), the member's and the handler's visits (the
  unread badge and the inbox news), office and member activity, and the
  reference counters, so a request filed later gets the next reference.

Master data goes in with bulk_create. Requests, events and visits (the
bulk of it) are built as plain rows and written in chunks of CHUNK
requests straight to the tables (executemany on SQLite, COPY on
PostgreSQL; values stored as Django stores them), in the order they were
filed with explicit ids, so ids grow with time as in a real database; the
id sequence is moved past them after. Their created_at/updated_at are the
real moments, not the time of seeding (no auto_now on this path). Each
request draws from its own seed, so a run on another day differs only in
the few requests whose age crossed a boundary. The search index is filled
as the real write path leaves it: on PostgreSQL the GIN expression indexes
of migration 0007 fill themselves; on SQLite 0007's triggers would rewrite
a ticket's FTS row on every event, so they are dropped while loading and
made again with 0007's own statements, which also fill the FTS table in
one INSERT…SELECT (as migrations 0008 and 0011 do). Then ANALYZE on
PostgreSQL, `PRAGMA optimize` on SQLite, and outside the transaction
`VACUUM (ANALYZE)` on PostgreSQL, as autovacuum would long have done to
years of requests (the visibility map that index-only scans need).

In code (bench/rig.py, tests/test_bench_seed.py): seed_database(scale=…)
fills the database Django is configured for (migrated, otherwise empty)
and returns a SeedResult: member e-mails with tickets, handler e-mails (the
busiest first; handlers log in without a second step), the password, a
reference each of those members may see, German search words that occur in
answers, counts, seconds and the seconds of each step.

The command line creates the database first: by default a temporary
SQLite file, removed at the end; with --database-url
postgres://postgres@127.0.0.1:5432/gp_bench that database is dropped if it
exists and created (its name must contain "bench"), and dropped at the end.
--keep PATH (SQLite: the file, replaced) or --keep NAME (PostgreSQL: the
database name, which must contain "bench") leaves the database for the rig.
Prints the counts and seconds; exits 1 if seeding took longer than
--limit-s (default: the scale's budget, 60 s for 100k)."""

import argparse
import contextlib
import datetime
import importlib
import itertools
import json
import math
import os
import random
import secrets
import sys
import tempfile
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

# Run as a script: the project root on the path, for bench.common.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import postgres_drop, postgres_fresh
from demo.bulk import Json, Table
from demo.texts import (
    FIRMS,
    MEMBER_REPLIES,
    NOTES,
    OFFICE_REPLIES,
    QUESTIONS,
    RATING_COMMENTS,
    REPAIR_REPLIES,
    TYPE_WEIGHTS,
    WEEKDAYS,
    WITHDRAW_REASONS,
    answers_for,
)

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Scale:
    accounts: int  # member accounts (portal logins)
    tickets: int
    years: int  # of history
    budget_s: float  # the seeding time the command line accepts


SCALES = {
    "smoke": Scale(accounts=60, tickets=400, years=8, budget_s=60),
    "100k": Scale(accounts=5_000, tickets=100_000, years=8, budget_s=60),
    "1m": Scale(accounts=10_000, tickets=1_000_000, years=8, budget_s=600),
}


@dataclass
class SeedResult:
    members: list[str]  # member account e-mails with tickets (up to 50)
    staff: list[str]  # handler e-mails, the busiest (most open requests) first
    password: str  # of every account, member and staff
    ticket_for: dict[str, str]  # member e-mail -> a reference that member may see
    search_words: list[str]  # German words that occur in answers
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step


ESTATE_COUNT = 10
CHUNK = 5_000  # requests built and written at a time
BATCH = 1_000  # rows per INSERT
ESTATES = [
    ("Lindenhof", ["Lindenstraße", "Ahornweg"]),
    ("Am Mühlgraben", ["Am Mühlgraben", "Müllerstraße"]),
    ("Kastanienhof", ["Kastanienallee"]),
    ("Fröbelsiedlung", ["Fröbelstraße", "Pestalozziweg"]),
    ("Birkenhain", ["Birkenweg", "Erlenring"]),
    ("Engels-Ring", ["Friedrich-Engels-Ring"]),
    ("Hölderlinviertel", ["Hölderlinstraße", "Schillerweg", "Uhlandstraße"]),
    ("Märkisches Viertel", ["Märkische Allee"]),
    ("Uferpark", ["Uferstraße", "Am Wäldchen"]),
    ("Weißensee", ["Weißenseer Weg", "Lößnitzstraße"]),
]
SIDES = ["links", "Mitte", "rechts", "Mitte links"]
# The handlers beyond the demo's: (first, last, teams).
MORE_STAFF = [
    ("Paul", "Peters", ["Technik"]),
    ("Sabine", "Seidel", ["Technik"]),
    ("Kemal", "Kaya", ["Technik"]),
    ("Doris", "Dreher", ["Technik", "Hausverwaltung"]),
    ("Frank", "Fuchs", ["Technik"]),
    ("Greta", "Graf", ["Vermietung"]),
    ("Ole", "Otto", ["Vermietung", "Hausverwaltung"]),
    ("Nina", "Noack", ["Mitgliederwesen"]),
    ("Emil", "Engel", ["Mitgliederwesen"]),
    ("Bärbel", "Brandt", ["Rechnungswesen"]),
    ("Ulf", "Urban", ["Rechnungswesen"]),
    ("Ines", "Ilgner", ["Hausverwaltung"]),
]
# Words that occur in the answers (repair texts, the bills question): what
# the rig searches for.
SEARCH_WORDS = ["Heizung", "Schimmel", "Wasserhahn", "Rollladen", "Nachzahlung", "Abfluss"]

# --- the data -----------------------------------------------------------------


@dataclass
class Household:
    """Who may file requests about a unit, and when."""

    unit_id: int | None
    estate_id: int | None
    # (member id, account id or None, on the contract since)
    people: list[tuple[int, int | None, datetime.date]]
    start: datetime.date
    end: datetime.date | None


def random_date(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    return first + datetime.timedelta(days=rng.randint(0, max(0, (last - first).days)))


def seed_database(*, scale: "str | Scale", rng_seed: int = 7) -> SeedResult:
    """Fill the (migrated, empty) database Django is configured for; see the
    module docstring."""
    # Django is set up by the caller (the command line below, or pytest).
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from demo.cast import DEMO_PASSWORD, build_demo
    from demo.routing import routing_demo_ensure

    # A name from SCALES, or a Scale of its own (bench/insights.py --tickets).
    size = SCALES[scale] if isinstance(scale, str) else scale
    rng = random.Random(rng_seed)  # the same data every run
    started = time.perf_counter()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        phases[name] = time.perf_counter() - started - sum(phases.values())

    with transaction.atomic():
        cast = build_demo(units_per_building=2)
        routing_demo_ensure(hanna=cast.hanna, tom=cast.tom)
        _staff_ensure()
        password = make_password(DEMO_PASSWORD)  # once, for every member account
        phase("demo, staff, password")
        households = _master_data(rng, size, password)
        phase("master data")
        with _search_triggers_off():
            result = _tickets(rng, size, households)
            phase("requests")
        phase("search index")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.vendor == "postgresql" else "PRAGMA optimize")
    phase("analyse, commit")
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Years of requests have long been vacuumed by autovacuum; rows just
        # loaded have not, and without the visibility map PostgreSQL cannot
        # answer from an index alone (the inbox counts read 45,000 table
        # pages at 1m instead). VACUUM cannot run in a transaction: a caller
        # inside one (the test suite) gets the ANALYZE above only.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        phase("vacuum")
    result.password = DEMO_PASSWORD
    result.seconds = time.perf_counter() - started
    result.phases = phases
    return result


def _staff_ensure() -> None:
    """MORE_STAFF, handlers in their teams, beside the demo's staff."""
    # Django is set up by the caller (seed_database).
    from accounts import roles
    from demo.cast import staff_ensure
    from routing.models import Team

    teams = {team.name: team for team in Team.objects.all()}
    for first, last, team_names in MORE_STAFF:
        plain = last.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        person = staff_ensure(f"{first.lower()}.{plain}@example.org", first, last, roles.HANDLER)
        for name in team_names:
            teams[name].members.add(person)


def _master_data(rng: random.Random, size: Scale, password: str) -> list[Household]:
    """Estates, buildings, units, members, contracts, shares and accounts
    (size.accounts of them); returns the households that file requests."""
    # Django is set up by the caller (seed_database).
    from django.utils import timezone

    from accounts.models import User
    from cooperative.models import Building, Estate, Unit
    from demo.cast import FIRST_NAMES, LAST_NAMES
    from members.models import Contract, ContractMember, Member, Salutation, Shareholding
    from routing.models import Team

    today = timezone.localdate()
    window = today - datetime.timedelta(days=365 * size.years)
    managers = list(
        Team.objects.get(name="Hausverwaltung").members.order_by("pk").values_list("pk", flat=True)
    )
    caretakers = list(
        Team.objects.get(name="Technik").members.order_by("pk").values_list("pk", flat=True)
    )
    # Units per estate so that the accounts wanted fit: about 1.1 accounts
    # per occupied unit; the units left over stay vacant.
    units_per_estate = max(4, math.ceil(size.accounts * 0.95 / ESTATE_COUNT))
    estates, buildings, units = [], [], []
    unit_estate: list[Estate] = []
    for index, (name, streets) in enumerate(ESTATES[:ESTATE_COUNT]):
        estate = Estate(
            number=f"WA-{index + 11:02d}",
            name=f"Wohnanlage {name}",
            property_manager_id=managers[index % len(managers)],
            caretaker_id=caretakers[index % len(caretakers)],
        )
        estates.append(estate)
        postcode = f"{12000 + index * 173:05d}"
        made = house = 0
        while made < units_per_estate:
            house += 1
            street = streets[house % len(streets)]
            building = Building(
                estate=estate,
                street=street,
                house_number=str(house),
                postcode=postcode,
                city="Berlin",
            )
            buildings.append(building)
            floors, per_floor = rng.randint(3, 6), rng.randint(2, 4)
            for floor in range(floors):
                for side in range(per_floor):
                    made += 1
                    units.append(
                        Unit(
                            building=building,
                            number=f"W{index + 11:02d}-{house:03d}-{floor}{side}",
                            floor=floor,
                            position=f"{'EG' if floor == 0 else f'{floor}. OG'} {SIDES[side]}",
                            rooms=Decimal(rng.choice(["1", "2", "2", "2.5", "3", "3", "4", "5"])),
                            living_area=Decimal(rng.randint(2800, 12500)) / 100,
                        )
                    )
                    unit_estate.append(estate)
    Estate.objects.bulk_create(estates)
    Building.objects.bulk_create(buildings, batch_size=1000)
    Unit.objects.bulk_create(units, batch_size=1000)

    members, holdings, contracts, holders, accounts = [], [], [], [], []
    number = 300000
    # (unit, estate, [(member, has account, since)], start, end)
    plans: list[tuple] = []

    def member(street, postcode, joined, *, last_name=None, left=None, email=True) -> Member:
        nonlocal number
        number += 1
        person = Member(
            member_number=str(number),
            salutation=rng.choice([Salutation.MS, Salutation.MR, Salutation.MS, Salutation.NONE]),
            title=rng.choice(["", "", "", "", "", "", "", "", "", "Dr."]),
            first_name=rng.choice(FIRST_NAMES),
            last_name=last_name or rng.choice(LAST_NAMES),
            street=street,
            postcode=postcode,
            city="Berlin",
            email=f"m{number}@example.org" if email else "",
            phone=f"0{rng.randint(30, 399)} {rng.randint(100000, 9999999)}"
            if rng.random() < 0.7
            else "",
            joined_on=joined,
            left_on=left,
        )
        members.append(person)
        holdings.append(
            Shareholding(
                member=person,
                kind=Shareholding.Kind.REQUIRED,
                count=rng.randint(1, 5),
                nominal_value=Decimal("160.00"),
            )
        )
        return person

    wanted = size.accounts
    # Occupied in a random order, so that the vacant units are spread out.
    order = list(range(len(units)))
    rng.shuffle(order)
    for unit, estate in ((units[i], unit_estate[i]) for i in order):
        if len(accounts) >= wanted:
            break
        if rng.random() < 0.03:
            continue  # vacant
        building = unit.building
        street, postcode = f"{building.street} {building.house_number}", building.postcode
        fee = (unit.living_area * Decimal(rng.uniform(6.2, 9.8))).quantize(Decimal("0.01"))
        # Most tenancies began before the history starts; some within it.
        if rng.random() < 0.7:
            start = random_date(rng, datetime.date(1975, 1, 1), window)
        else:
            start = random_date(rng, window, today - datetime.timedelta(days=60))
        if start > window and rng.random() < 0.5:
            # The former tenant, who filed requests about this unit too.
            begun = random_date(rng, start - datetime.timedelta(days=20 * 365), window)
            ended = start - datetime.timedelta(days=1)
            former = Contract(
                number=f"NV-{unit.number}-A", unit=unit, start=begun, end=ended, monthly_fee=fee
            )
            contracts.append(former)
            left = ended if rng.random() < 0.7 else None
            person = member(street, postcode, begun, left=left, email=False)
            holders.append(ContractMember(contract=former, member=person))
            plans.append((unit, estate, [(person, False, begun)], begun, ended))
        contract = Contract(number=f"NV-{unit.number}", unit=unit, start=start, monthly_fee=fee)
        contracts.append(contract)
        first = member(street, postcode, start, email=rng.random() < 0.92)
        holders.append(ContractMember(contract=contract, member=first))
        people = [(first, bool(first.email), start)]
        if rng.random() < 0.22:  # a household of two
            joined = None
            if rng.random() < 0.3:  # a partner who moved in later
                joined = random_date(
                    rng, start + datetime.timedelta(days=30), today - datetime.timedelta(days=30)
                )
            name = first.last_name if rng.random() < 0.7 else None
            partner = member(
                street, postcode, joined or start, last_name=name, email=rng.random() < 0.8
            )
            holders.append(ContractMember(contract=contract, member=partner, joined=joined))
            people.append((partner, bool(partner.email), joined or start))
        for person, has_account, _since in people:
            if has_account:
                accounts.append(User(email=person.email, member=person, password=password))
        plans.append((unit, estate, people, start, None))
        if rng.random() < 0.03:
            # An investing member: shares, no flat.
            investor = member(f"Irgendwoweg {rng.randint(1, 99)}", "10999", start)
            accounts.append(User(email=investor.email, member=investor, password=password))
            plans.append((None, None, [(investor, True, start)], start, None))
    Member.objects.bulk_create(members, batch_size=1000)
    Shareholding.objects.bulk_create(holdings, batch_size=1000)
    Contract.objects.bulk_create(contracts, batch_size=1000)
    ContractMember.objects.bulk_create(holders, batch_size=1000)
    User.objects.bulk_create(accounts, batch_size=1000)
    account_of = {user.member_id: user.pk for user in accounts}
    return [
        Household(
            unit_id=unit.pk if unit else None,
            estate_id=estate.pk if estate else None,
            people=[(p.pk, account_of.get(p.pk), since) for p, _account, since in people],
            start=start,
            end=end,
        )
        for unit, estate, people, start, end in plans
    ]


@contextlib.contextmanager
def _search_triggers_off():
    """SQLite: migration 0007's search triggers are dropped while loading
    and made again after with 0007's statements, which also fill the FTS
    table in one INSERT…SELECT (as migrations 0008 and 0011 do). PostgreSQL:
    nothing to do, the GIN expression indexes fill themselves."""
    # Django is set up by the caller (seed_database).
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    search = importlib.import_module("tickets.migrations.0007_ticket_search_index")
    with connection.cursor() as cursor:
        for statement in search.SQLITE_BACKWARDS:
            if statement.startswith("DROP TRIGGER"):
                cursor.execute(statement)
    yield
    with connection.cursor() as cursor:
        for statement in search.SQLITE_FORWARDS:
            cursor.execute(statement)


class _Routing:
    """The demo rules (demo.routing) as the router applies them, without a
    query per request: the first rule that matches, its team, strategy,
    priority and SLA policy, and a handler of the team."""

    def __init__(self, rng: random.Random, staff: dict):
        # Django is set up by the caller (seed_database).
        from accounts import roles
        from cooperative.models import Estate
        from routing.models import Priority, RoutingRule, SlaPolicy, Strategy, Team

        self.rng = rng
        self.priority, self.strategy = Priority, Strategy
        self.policies = {p.pk: p for p in SlaPolicy.objects.all()}
        self.for_priority = {p.for_priority: p for p in self.policies.values() if p.for_priority}
        self.standard = next((p for p in self.policies.values() if p.name == "Standard"), None)
        self.teams = {t.pk: t.name for t in Team.objects.all()}
        self.estates = dict(Estate.objects.values_list("pk", "name"))
        self.rules = [
            (
                {t.pk for t in rule.request_types.all()},
                {e.pk for e in rule.estates.all()},
                set(rule.channels),
                rule.field_key,
                rule.field_value,
                [w.strip() for w in rule.keywords.lower().split(",") if w.strip()],
                rule,
            )
            for rule in RoutingRule.objects.filter(active=True, draft=False)
            .prefetch_related("request_types", "estates")
            .order_by("position")
        ]
        handlers = {
            user.pk
            for user in staff.values()
            if user.groups.filter(name=roles.HANDLER).exists() and not user.is_superuser
        }
        self.names = {pk: user.get_full_name() for pk, user in staff.items()}
        # Each team's handlers, the first ones busier (a realistic skew).
        self.pools = {}
        for team in Team.objects.all():
            pool = sorted(pk for pk in team.members.values_list("pk", flat=True) if pk in handlers)
            self.pools[team.pk] = (pool, list(itertools.accumulate(range(len(pool) + 2, 2, -1))))
        self.handlers = sorted(handlers)

    def handler(self, team_id: int | None) -> int | None:
        pool, cumulative = self.pools.get(team_id, ([], []))
        if not pool:
            return None
        return pool[bisect_right(cumulative, self.rng.random() * cumulative[-1])]

    def route(self, *, type_id, default_team_id, channel, answers, estate_id, manager_id):
        """(team id, handler id, priority, policy, reason)."""
        Priority, Strategy = self.priority, self.strategy
        for types, estates, channels, key, value, keywords, rule in self.rules:
            if (
                (types and type_id not in types)
                or (estates and estate_id not in estates)
                or (channels and channel not in channels)
                or (key and answers.get(key) != value)
            ):
                continue
            if keywords:
                text = " ".join(v for v in answers.values() if isinstance(v, str)).lower()
                if not any(word in text for word in keywords):
                    continue
            team_id = rule.team_id
            how, handler = {"how": "queue"}, None
            if rule.strategy == Strategy.ESTATE_MANAGER and manager_id:
                handler = manager_id
                how = {"how": "manager", "estate": self.estates.get(estate_id, "")}
            elif rule.strategy == Strategy.ROUND_ROBIN:
                handler, how = self.handler(team_id), {"how": "in_turn"}
            elif rule.strategy == Strategy.LEAST_OPEN:
                handler = self.handler(team_id)
                how = {"how": "least_open", "open": self.rng.randint(0, 12)}
            reason = {
                "rule": rule.position,
                "rule_name": rule.name,
                "team": self.teams[team_id],
                "handler": self.names.get(handler, "") if handler else "",
                **how,
            }
            priority = rule.priority or Priority.NORMAL
            policy = self.policies.get(rule.sla_policy_id)
            break
        else:
            team_id, handler, priority, policy = default_team_id, None, Priority.NORMAL, None
            reason = {"rule": None, "team": self.teams[team_id], "how": "default_team"}
        if answers.get("urgency") == "dringend" and priority == Priority.NORMAL:
            priority = Priority.URGENT  # the form option raises it
        return team_id, handler, priority, self.for_priority.get(priority, policy), reason


def _tickets(rng: random.Random, size: Scale, households: list[Household]) -> SeedResult:
    """size.tickets requests over size.years, with events and visits."""
    # Django is set up by the caller (seed_database).
    from django.db.models import Count, Max
    from django.utils import timezone

    from accounts.models import User
    from cooperative.models import Estate
    from members.models import Member
    from routing.models import Priority
    from tickets.models import (
        Channel,
        ReferenceCounter,
        RequestType,
        Status,
        Ticket,
        TicketEvent,
        TicketVisit,
        open_condition,
    )

    now = timezone.now()
    window = now - datetime.timedelta(days=365 * size.years)
    local = timezone.get_current_timezone()
    staff = {u.pk: u for u in User.objects.filter(is_staff=True)}
    every_type = [t for t in RequestType.objects.filter(active=True) if t.slug in TYPE_WEIGHTS]
    # Each request draws from its own seed: a request that turns out
    # differently (its age crossed a bucket since the last run) changes no
    # other one.
    one = random.Random()
    maker = _Maker(one, now=now, routing=_Routing(one, staff), types=every_type)
    base = rng.getrandbits(40) << 24
    for_members = [t for t in every_type if t.audience == RequestType.Audience.MEMBERS]
    type_weights = list(itertools.accumulate(TYPE_WEIGHTS[t.slug] for t in every_type))
    member_weights = list(itertools.accumulate(TYPE_WEIGHTS[t.slug] for t in for_members))
    # Some households file many requests, most a few; in proportion to how
    # long they have lived there within the history.
    today = timezone.localdate()
    activity = list(
        itertools.accumulate(
            rng.lognormvariate(0, 0.9)
            * max(30, ((house.end or today) - max(house.start, window.date())).days)
            for house in households
        )
    )

    def moment(day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(8), tzinfo=local).astimezone(
            datetime.UTC
        )

    # 1. Who filed what when; then in the order filed.
    specs = []
    latest = now - datetime.timedelta(minutes=10)
    for index in range(size.tickets):
        if rng.random() < 0.02:  # someone who is not a member (a neighbour, a caller)
            created = window + (now - window) * rng.random()
            kind = rng.choice([t for t in every_type if t.slug in ("schadensmeldung", "allgemein")])
            specs.append((created, index, None, None, kind))
            continue
        house = households[bisect_right(activity, rng.random() * activity[-1])]
        person = house.people[0] if rng.random() < 0.7 else rng.choice(house.people)
        first = max(window, moment(person[2]))
        last = latest if house.end is None else min(latest, moment(house.end))
        if last <= first:
            first = window
        created = first + (last - first) * rng.random()
        if index < len(every_type) and house.unit_id:
            kind = every_type[index]  # every type at least once, even at smoke size
        elif house.unit_id:
            kind = every_type[bisect_right(type_weights, rng.random() * type_weights[-1])]
        else:  # no flat: only the forms for every member
            kind = for_members[bisect_right(member_weights, rng.random() * member_weights[-1])]
        specs.append((created, index, house, person, kind))
    specs.sort(key=lambda spec: spec[0])

    # 2. Which are still open: most recent ones, and a share of the older
    # ones so that ~7 % are open in all.
    def recent_chance(created: datetime.datetime) -> float:
        days = (now - created).days
        return 0.85 if days < 14 else 0.55 if days < 60 else 0.3 if days < 365 else -1.0

    chances = [recent_chance(spec[0]) for spec in specs]
    known = sum(c for c in chances if c >= 0)
    stale = sum(1 for c in chances if c < 0)
    old_chance = max(0.0, min(1.0, (0.07 * len(specs) - known) / stale)) if stale else 0.0

    # 3. Write them in chunks, in the order filed, with ids that grow with time.
    tickets = Table(Ticket, explicit_pk=True)
    events, visits = Table(TicketEvent), Table(TicketVisit)
    next_id = (Ticket.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    serial: dict[int, int] = {}
    own: dict[int, list[str]] = {}  # account id -> references of its own requests
    for index, (created, drawn, house, person, kind) in enumerate(specs):
        one.seed(base + drawn)
        chance = chances[index]
        year = created.astimezone(local).year
        serial[year] = serial.get(year, 0) + 1
        reference = f"A-{year}-{serial[year]:06d}"
        maker.ticket(
            ticket_id=next_id + index,
            created=created,
            house=house,
            person=person,
            kind=kind,
            reference=reference,
            is_open=one.random() < (old_chance if chance < 0 else chance),
            tickets=tickets,
            events=events,
            visits=visits,
        )
        if person is not None and person[1] is not None:
            own.setdefault(person[1], []).append(reference)
        if len(tickets.rows) >= CHUNK:
            for table in (tickets, events, visits):
                table.flush()
    for table in (tickets, events, visits):
        table.flush()
    tickets.sequence_reset()
    counts = {"tickets": tickets.written, "events": events.written, "visits": visits.written}
    # A request filed later gets the next number of its year.
    ReferenceCounter.objects.bulk_create(
        [ReferenceCounter(year=year, last=last) for year, last in serial.items()]
    )

    # 4. What the rig needs.
    emails = dict(User.objects.filter(pk__in=own).values_list("pk", "email"))
    chosen = rng.sample(sorted(own), min(50, len(own)))
    busy = dict(
        Ticket.objects.filter(open_condition(), assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
    )
    handlers = sorted(maker.routing.handlers, key=lambda pk: (-busy.get(pk, 0), pk))
    counts.update(
        open=Ticket.objects.filter(open_condition()).count(),
        waiting=Ticket.objects.filter(status=Status.WAITING).count(),
        unassigned_open=Ticket.objects.filter(open_condition(), assignee__isnull=True).count(),
        emergencies=Ticket.objects.filter(priority=Priority.EMERGENCY).count(),
        portal=Ticket.objects.filter(channel=Channel.PORTAL).count(),
        request_types_used=Ticket.objects.values("request_type").distinct().count(),
        members=Member.objects.count(),
        member_accounts=User.objects.filter(member__isnull=False).count(),
        staff=len(staff),
        estates=Estate.objects.count(),
    )
    return SeedResult(
        members=[emails[pk] for pk in chosen],
        staff=[staff[pk].email for pk in handlers],
        password="",
        ticket_for={emails[pk]: own[pk][-1] for pk in chosen},
        search_words=list(SEARCH_WORDS),
        counts=counts,
    )


class _Maker:
    """Builds the rows of one request, its events and its visits."""

    def __init__(self, rng: random.Random, *, now: datetime.datetime, routing: _Routing, types):
        # Django is set up by the caller (seed_database).
        from cooperative.models import Estate
        from members.models import Member
        from routing.models import Priority
        from tickets.models import Channel, FieldKind, Status, TicketEvent

        self.rng, self.now, self.routing = rng, now, routing
        self.Priority, self.Channel, self.Status = Priority, Channel, Status
        self.Kind = TicketEvent.Kind
        self.snapshots = {t.id: t.snapshot() for t in types}
        self.snapshot_text = {pk: Json(json.dumps(s)) for pk, s in self.snapshots.items()}
        self.file_keys = {
            pk: {d["key"] for d in s if d["kind"] == FieldKind.FILE}
            for pk, s in self.snapshots.items()
        }
        self.managers = dict(Estate.objects.values_list("pk", "property_manager_id"))
        self.names = {
            pk: f"{first} {last}"
            for pk, first, last in Member.objects.values_list("pk", "first_name", "last_name")
        }

    def ticket(
        self,
        *,
        ticket_id,
        created,
        house,
        person,
        kind,
        reference,
        is_open,
        tickets: Table,
        events: Table,
        visits: Table,
    ) -> None:
        """Adds the rows of one request to `tickets`, `events` and `visits`."""
        rng, now, routing = self.rng, self.now, self.routing
        Priority, Channel, Status, Kind = self.Priority, self.Channel, self.Status, self.Kind
        hour = datetime.timedelta(hours=1)
        member_id, account = (person[0], person[1]) if person else (None, None)
        snapshot = self.snapshots[kind.id]
        answers = answers_for(
            rng, snapshot, kind.slug, created, self.names.get(member_id, ""), ESTATES
        )
        if account and rng.random() < 0.72:
            channel = Channel.PORTAL
        else:
            channel = rng.choices(
                [Channel.PHONE, Channel.EMAIL, Channel.LETTER, Channel.COUNTER], [50, 30, 10, 10]
            )[0]
        estate_id = house.estate_id if house else None
        team_id, handler, priority, policy, reason = routing.route(
            type_id=kind.id,
            default_team_id=kind.default_team_id,
            channel=channel,
            answers=answers,
            estate_id=estate_id,
            manager_id=self.managers.get(estate_id),
        )
        if member_id is None:
            reason = {"how": "not_member"}
            if is_open:
                team_id = handler = None  # still in triage
        elif is_open and rng.random() < 0.04:
            reason, team_id, handler = {"how": "triage"}, None, None
        if priority == Priority.NORMAL and rng.random() < 0.04:
            priority = rng.choice([Priority.HIGH, Priority.LOW])  # changed by hand
        if team_id is None:
            handler = None
        office = handler or routing.handler(team_id) or routing.handlers[0]
        created_by = account if channel == Channel.PORTAL else office
        emergency = priority == Priority.EMERGENCY
        hours = policy.first_response_hours if policy else 16
        days = policy.resolution_days if policy else 10
        # Working time as calendar time, roughly (8 office hours a day).
        first_due = created + hour * (hours if emergency else hours * 3)
        due = created + datetime.timedelta(days=days if emergency else days * 1.4)
        if is_open:
            status = rng.choices(
                [Status.RECEIVED, Status.IN_PROGRESS, Status.WAITING], [30, 55, 15]
            )[0]
            if created > now - 2 * hour:
                status = Status.RECEIVED
        else:
            status = rng.choices([Status.RESOLVED, Status.CLOSED, Status.WITHDRAWN], [18, 78, 4])[0]

        limit = now - datetime.timedelta(minutes=1)
        mine: list[dict] = []

        def event(kind_, at, *, public=True, actor=office, body="", data=None):
            mine.append(
                {
                    "ticket_id": ticket_id,
                    "kind": kind_,
                    "public": public,
                    "actor_id": actor,
                    "body": body,
                    "data": data or {},
                    "created_at": at,
                }
            )

        def office_text(texts):
            return rng.choice(texts).format(firm=rng.choice(FIRMS), day=rng.choice(WEEKDAYS))

        team_name = reason.get("team", "") if team_id else ""
        event(
            Kind.OPENED,
            created,
            actor=created_by,
            data={"channel": channel, "team": team_name, "reason": reason},
        )
        member_at, office_at = created, None
        first_response = paused = finished = None
        moment = created
        answered = status != Status.RECEIVED and not (
            status == Status.WITHDRAWN and rng.random() < 0.5
        )
        if answered:
            first_response = min(limit, created + hour * min(200, rng.lognormvariate(1.6, 1.1)))
            if rng.random() < 0.8:
                replies = REPAIR_REPLIES if kind.slug == "schadensmeldung" else OFFICE_REPLIES
                event(Kind.REPLY, first_response, body=office_text(replies))
            else:
                data = {"from": Status.RECEIVED, "to": Status.IN_PROGRESS}
                event(Kind.STATUS, first_response, data=data)
            office_at = moment = first_response
            if rng.random() < 0.15:
                moment = min(limit, moment + hour * rng.uniform(0.5, 48))
                event(Kind.NOTE, moment, public=False, body=office_text(NOTES))
            if rng.random() < 0.25:
                moment = member_at = min(limit, moment + hour * rng.uniform(1, 72))
                body = rng.choice(MEMBER_REPLIES)
                event(Kind.MEMBER_REPLY, moment, actor=account or office, body=body)
            if status == Status.WAITING:
                paused = office_at = moment = min(limit, moment + hour * rng.uniform(1, 48))
                event(Kind.REPLY, paused, body=rng.choice(QUESTIONS))
                event(Kind.STATUS, paused, data={"from": Status.IN_PROGRESS, "to": status})
        if not is_open:
            finished = min(limit, moment + datetime.timedelta(days=rng.lognormvariate(1, 1)))
            data = {"from": Status.IN_PROGRESS if answered else Status.RECEIVED, "to": status}
            if status == Status.WITHDRAWN:
                body = rng.choice(WITHDRAW_REASONS)
                event(Kind.STATUS, finished, actor=account or office, body=body, data=data)
                member_at = finished
            else:
                event(Kind.STATUS, finished, data=data)
                office_at = finished
        rating, comment = None, ""
        if status in (Status.RESOLVED, Status.CLOSED) and account and rng.random() < 0.15:
            rating = rng.choices([1, 2, 3, 4, 5], [3, 4, 10, 30, 53])[0]
            comment = rng.choice(RATING_COMMENTS)
        file_keys = self.file_keys[kind.id]
        tickets.rows.append(
            {
                "id": ticket_id,
                "reference": reference,
                "request_type_id": kind.id,
                "fields_snapshot": self.snapshot_text[kind.id],
                "answers": {k: v for k, v in answers.items() if k not in file_keys},
                "member_id": member_id,
                "contact_name": "" if member_id else rng.choice(["Erika Nachbarin", "Herr Krüger"]),
                "contact_phone": "" if member_id else "030 1234567",
                "unit_id": house.unit_id if house else None,
                "shared_with_household": kind.shared_with_household,
                "channel": channel,
                "status": status,
                "team_id": team_id,
                "assignee_id": handler,
                "created_by_id": created_by,
                "version": len(mine),
                "priority": priority,
                "routing_reason": reason,
                "sla_policy_id": policy.pk if policy else None,
                "first_response_due_at": first_due,
                "first_response_warn_at": created + (first_due - created) * 0.75,
                "due_at": due,
                "warn_at": created + (due - created) * 0.75,
                "first_response_at": first_response,
                "sla_paused_at": paused,
                "breached_at": due if is_open and due < now else None,
                "resolved_at": finished if status in (Status.RESOLVED, Status.CLOSED) else None,
                "closed_at": finished if status == Status.CLOSED else None,
                "office_activity_at": office_at,
                "member_activity_at": member_at,
                "on_call_alerted_at": created if emergency else None,
                "rating": rating,
                "rating_comment": comment,
                "created_at": created,
                "updated_at": max(e["created_at"] for e in mine),
            }
        )
        events.rows.extend(mine)
        # The member's visits (the unread badge) and the handler's (the inbox news).
        if account and office_at:
            roll = rng.random()
            if roll < 0.8:
                seen = office_at + hour * rng.uniform(0.1, 48)
                if seen < now:
                    visits.rows.append(
                        {"ticket_id": ticket_id, "user_id": account, "seen_at": seen}
                    )
            elif roll < 0.88:  # looked before the office's last word: unread
                visits.rows.append({"ticket_id": ticket_id, "user_id": account, "seen_at": created})
        if handler and rng.random() < 0.7:
            seen = max(member_at, office_at or created) + hour * rng.uniform(0.1, 24)
            if seen < now:
                visits.rows.append({"ticket_id": ticket_id, "user_id": handler, "seen_at": seen})


# --- the command line -----------------------------------------------------------


def database_create(url: str | None, keep: str | None, workdir: Path) -> str:
    """The URL of a fresh, empty database (see the module docstring)."""
    if url is None or url.startswith("sqlite"):
        path = Path(keep) if keep else workdir / "bench.sqlite3"
        if url and not keep:
            path = Path(urlparse(url).path)
        path = path.resolve()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("--database-url must be postgres://… or sqlite:///… (default: SQLite, temporary)")
    return postgres_fresh(url, name=keep)


def database_drop(url: str) -> None:
    if url.startswith("sqlite"):
        path = urlparse(url).path
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    postgres_drop(url)


def django_setup(url: str) -> str:
    """Django with production settings on `url`, migrated; returns a label."""
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=f"bench-{secrets.token_urlsafe(48)}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        GENOPORTAL_LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Django can only be imported once the environment above is set.
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=list(SCALES), default="smoke")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite, temporary)")
    parser.add_argument("--keep", metavar="PATH|NAME", help="leave the database for the rig")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit-s", type=float, help="default: the scale's budget")
    args = parser.parse_args()
    limit = args.limit_s or SCALES[args.scale].budget_s

    workdir = Path(tempfile.mkdtemp(prefix="genoportal-seed-"))
    url = database_create(args.database_url, args.keep, workdir)
    try:
        started = time.perf_counter()
        database = django_setup(url)
        migrated = time.perf_counter() - started
        result = seed_database(scale=args.scale, rng_seed=args.seed)
        # Django is set up by now (django_setup).
        from django.db import connections

        connections.close_all()
    finally:
        if not args.keep and "django" in sys.modules:
            database_drop(url)
        if not args.keep:
            with contextlib.suppress(OSError):
                workdir.rmdir()
    counts = ", ".join(f"{key} {value:,}" for key, value in result.counts.items())
    print(f"scale {args.scale} on {database}: {counts}")
    print("steps: " + ", ".join(f"{name} {s:.1f} s" for name, s in result.phases.items()))
    print(
        f"seeded in {result.seconds:.1f} s (migrate {migrated:.1f} s before); "
        f"{result.counts['tickets'] / result.seconds:,.0f} requests/s; "
        f"limit {limit:.0f} s: {'OK' if result.seconds <= limit else 'FAIL'}"
    )
    if args.keep:
        print(f"kept: {url}")
    return 0 if result.seconds <= limit else 1


if __name__ == "__main__":
    sys.exit(main())
