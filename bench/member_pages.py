"""Per-page smoke benchmark of the pages whose data grows (issue 10).

    .venv/bin/python bench/member_pages.py [--members 5000] [--tickets 20000]
                                           [--repeat 20] [--limit-ms 500]
                                           [--database-url URL] [--seed 10]

Requests through the Django test client against a real database, with the
whole middleware stack, sessions and templates:

* the staff member lookup of the phone log, GET /bearbeitung/anruf/mitglieder/
  ?q=… as htmx asks for it (HX-Request: true), as handler hanna, for a
  common last name, a rare one, an address ("nordring 1"), a phone number
  and a member number;
* the staff inbox /bearbeitung/ (default view, "needs action" order) as hanna;
* the member's list of requests /anliegen/ and Mein Bereich /mein-bereich/
  as alice.

The data (fixed seed): the test cast (demo.cast.build_demo as
tests/conftest.py builds it), then --members members in generated estates
(~15 % two-person households, some partners who joined a running contract,
former tenants, members who left, investing members; ~60 % with a portal
account) and --tickets requests over two years spread over the members and
their units (most finished, recent ones open; teams, handlers, priorities,
SLA deadlines, 1-4 events each, the handler's and the member's visits),
about 0.3 % of them (at least 30) in alice's household. Written with
bulk_create after `migrate`.

Default database: SQLite in a temporary directory, removed at the end. With
--database-url postgres://postgres@127.0.0.1:5432/gp_bench that database is
dropped if it exists, created, analysed after loading (as autovacuum would)
and dropped at the end; its name must contain "bench". Settings as in
production: DEBUG off, requests over HTTPS (as behind the proxy), the
configured connection reuse; only the static files are not collected, so
they use the plain storage instead of the manifest.

Each page: 2 warm-up requests, then --repeat requests; one line per page
with median and p95 in ms and the SQL queries per request
(CaptureQueriesContext), then a summary. Exits 1 if a median exceeds
--limit-ms (default 500) or a page does not answer 200.

This is the per-page smoke benchmark. The real targets (requests per second
under gunicorn, concurrent users) come with issue 11's benchmark rig."""

import argparse
import contextlib
import datetime
import math
import os
import random
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

# Run as a script: the project root on the path, for bench.common.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import postgres_drop, postgres_fresh

ROOT = Path(__file__).resolve().parent.parent

# Generated estates; "Nordring" also has houses beyond alice's Nordring 1,
# so "nordring 1" has to find the whole word "1".
STREETS = [
    "Nordring", "Lindenstraße", "Goethestraße", "Am Mühlgraben", "Kastanienallee",
    "Fröbelstraße", "Birkenweg", "Friedrich-Engels-Ring", "Hölderlinstraße",
    "Märkische Allee", "Straße der Einheit", "Uferstraße", "Weißenseer Weg", "Thälmannplatz",
]  # fmt: skip
SIDES = ["links", "rechts", "Mitte"]
TEXTS = [
    "Der Wasserhahn im Bad tropft seit einigen Tagen.",
    "Die Heizung im Wohnzimmer bleibt kalt, bitte schicken Sie jemanden vorbei.",
    "Im Schlafzimmer bildet sich Schimmel an der Außenwand.",
    "Das Fenster in der Küche schließt nicht mehr richtig.",
    "Bitte senden Sie mir eine Mitgliedsbescheinigung für das Amt.",
    "Meine Bankverbindung hat sich geändert.",
    "Der Aufzug im Haus steht seit gestern.",
    "Die Klingel funktioniert nicht, Besuch kommt nicht herein.",
    "Im Treppenhaus ist die Beleuchtung im dritten Stock ausgefallen.",
    "Wir möchten einen Stellplatz in der Tiefgarage mieten.",
]
ROOMS = ["kitchen", "bathroom", "toilet", "living_room", "bedroom", "hallway", "balcony"]
# (what the line says, the query typed)
SEARCHES = [
    ("last name, common", "Müller"),
    ("last name, rare", "Ahrens"),
    ("address", "nordring 1"),
    ("phone number", "030 5550001"),
    ("member number", "20001"),
]
WARM_UP = 2


@dataclass
class Measured:
    label: str
    status: int
    times_ms: list[float]
    queries: list[int]
    shows: str

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)  # nearest rank
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    @property
    def query_text(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


def prepare_database(url: str | None, workdir: Path, *, fresh: bool = True) -> str:
    """A fresh database (or with fresh=False the one at `url` as it is,
    SQLite or PostgreSQL: bench/insights.py --reuse), Django set up on it
    with production-like settings and migrated; returns a label for it."""
    if url is None:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    elif not fresh and url.startswith("sqlite:///"):
        pass
    elif url.startswith(("postgres://", "postgresql://")):
        if fresh:
            postgres_fresh(url)
    else:
        sys.exit("--database-url must be postgres://… (default: SQLite in a temporary directory)")
    # Whitenoise looks for the collected files (none: see below) at start.
    (workdir / "staticfiles").mkdir()
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=f"bench-{secrets.token_urlsafe(48)}",
        DJANGO_ALLOWED_HOSTS="testserver",
        GENOPORTAL_VAR_DIR=str(workdir),  # uploads and mail of this run only
        GENOPORTAL_LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Django can only be imported once the environment above is set; the
    # other functions import from it after this one ran.
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    # Production reads collected static files through the manifest; none are
    # collected here, so the plain storage (the same URLs, no manifest).
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=storages).enable()
    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def drop_database(url: str | None) -> None:
    # Django is set up by now (prepare_database).
    from django.db import connections

    connections.close_all()
    if url is not None:
        postgres_drop(url)


def random_date(rng: random.Random, first: int, last: int) -> datetime.date:
    return datetime.date(rng.randint(first, last), rng.randint(1, 12), rng.randint(1, 28))


@contextlib.contextmanager
def stamps_as_given(*models):
    """bulk_create keeps the created_at/updated_at set on the objects
    (auto_now_add and auto_now would set both to now)."""
    fields = [
        (field, field.auto_now, field.auto_now_add)
        for model in models
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    for field, _now, _add in fields:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, now, add in fields:
            field.auto_now, field.auto_now_add = now, add


def build_members(rng: random.Random, count: int, cast) -> None:
    """Estates, buildings, units, `count` members with contracts, shares
    and accounts, in the ERP's shape (bench/import_master_data.py)."""
    # Django is set up by now (prepare_database).
    from accounts.models import User
    from cooperative.models import Building, Estate, Unit
    from demo.cast import FIRST_NAMES, LAST_NAMES
    from members.models import Contract, ContractMember, Member, Salutation, Shareholding

    estates, buildings, units, members = [], [], [], []
    contracts, holders, holdings, accounts = [], [], [], []
    today = datetime.date.today()
    number = 100000
    estate_no = 0

    def member(street, postcode, joined, last_name=None, left=None) -> Member:
        nonlocal number
        number += 1
        salutation = rng.choice([Salutation.MS, Salutation.MR, Salutation.MS, Salutation.NONE])
        person = Member(
            member_number=str(number),
            salutation=salutation,
            title=rng.choice(["", "", "", "", "", "", "", "", "", "Dr."]),
            first_name=rng.choice(FIRST_NAMES),
            last_name=last_name or rng.choice(LAST_NAMES),
            street=street,
            postcode=postcode,
            city="Berlin",
            email=f"m{number}@example.org" if rng.random() < 0.6 else "",
            phone=(
                f"0{rng.randint(30, 399)} {rng.randint(100000, 9999999)}"
                if rng.random() < 0.7
                else ""
            ),
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

    while len(members) < count:
        estate_no += 1
        street = STREETS[estate_no % len(STREETS)]
        postcode = f"{12000 + estate_no * 17:05d}"
        estate = Estate(
            number=f"WA-{100 + estate_no}",
            name=f"Wohnanlage {street} {estate_no}",
            property_manager=cast.hanna if estate_no % 3 == 0 else cast.tom,
        )
        estates.append(estate)
        for house in range(1, rng.randint(4, 10) + 1):
            building = Building(
                estate=estate,
                street=street,
                house_number=str(house * 2 - 1),
                postcode=postcode,
                city="Berlin",
            )
            buildings.append(building)
            address = f"{street} {building.house_number}"
            for floor in range(rng.randint(3, 6)):
                for side_index, side in enumerate(SIDES[: rng.randint(2, 3)]):
                    area = Decimal(rng.randint(2800, 12500)) / 100
                    unit = Unit(
                        building=building,
                        number=f"{100 + estate_no:03d}{house:02d}{floor}{side_index}",
                        floor=floor,
                        position=f"{'EG' if floor == 0 else f'{floor}. OG'} {side}",
                        rooms=Decimal(rng.choice(["1", "2", "2", "2.5", "3", "3", "4", "5"])),
                        living_area=area,
                    )
                    units.append(unit)
                    fee = (area * Decimal(rng.uniform(6.2, 9.8))).quantize(Decimal("0.01"))
                    start = random_date(rng, 1985, today.year - 1)
                    if rng.random() < 0.08 and len(members) < count:
                        # A former tenant; most left the cooperative too.
                        begun = random_date(rng, 1975, start.year - 1)
                        ended = start - datetime.timedelta(days=1)
                        left = ended if rng.random() < 0.6 else None
                        former = Contract(
                            number=f"NV-{unit.number}-A",
                            unit=unit,
                            start=begun,
                            end=ended,
                            monthly_fee=fee,
                        )
                        contracts.append(former)
                        holders.append(
                            ContractMember(
                                contract=former, member=member(address, postcode, begun, left=left)
                            )
                        )
                    if rng.random() < 0.04 or len(members) >= count:
                        continue  # vacant
                    contract = Contract(
                        number=f"NV-{unit.number}", unit=unit, start=start, monthly_fee=fee
                    )
                    contracts.append(contract)
                    first = member(address, postcode, start)
                    holders.append(ContractMember(contract=contract, member=first))
                    household = [first]
                    if rng.random() < 0.15 and len(members) < count:
                        joined = None
                        if rng.random() < 0.3:  # a partner who moved in later
                            joined = start + datetime.timedelta(days=rng.randint(30, 3000))
                            joined = min(joined, today)
                        name = first.last_name if rng.random() < 0.7 else None
                        partner = member(address, postcode, joined or start, last_name=name)
                        holders.append(
                            ContractMember(contract=contract, member=partner, joined=joined)
                        )
                        household.append(partner)
                    accounts.extend(
                        User(email=p.email, member=p, password="!bench")
                        for p in household
                        if p.email
                    )
                    if rng.random() < 0.03 and len(members) < count:
                        # An investing member: shares, no flat.
                        member(f"Irgendwoweg {rng.randint(1, 99)}", "10999", start)
    for model, rows in (
        (Estate, estates),
        (Building, buildings),
        (Unit, units),
        (Member, members),
        (Contract, contracts),
        (ContractMember, holders),
        (Shareholding, holdings),
        (User, accounts),
    ):
        model.objects.bulk_create(rows, batch_size=1000)


def build_tickets(rng: random.Random, count: int, cast) -> int:
    """`count` requests over two years, spread over all members and their
    current units, at least 30 in alice's household; returns how many
    alice's household has."""
    # Django is set up by now (prepare_database).
    from django.utils import timezone

    from accounts.models import User
    from members.models import Contract, ContractMember, Member
    from routing.models import Priority, Team
    from tickets.models import Channel, RequestType, Status, Ticket, TicketEvent, TicketVisit

    now = timezone.now()
    homes: dict[int, list[int]] = {}
    for unit_id, member_id in ContractMember.objects.filter(
        contract__in=Contract.objects.current()
    ).values_list("contract__unit_id", "member_id"):
        homes.setdefault(unit_id, []).append(member_id)
    housed = {m for household in homes.values() for m in household}
    homeless = list(Member.objects.exclude(pk__in=housed).values_list("pk", flat=True))
    home_list = sorted(homes.items())
    account_of = dict(User.objects.filter(member__isnull=False).values_list("member_id", "pk"))
    alice, bob = cast.alice.member_id, cast.bob.member_id
    alice_unit = next(unit for unit, household in home_list if alice in household)
    types = list(RequestType.objects.filter(active=True))
    weights = [10 if t.slug == "schadensmeldung" else 1 for t in types]
    snapshots = {t.pk: t.snapshot() for t in types}
    teams = list(Team.objects.values_list("pk", flat=True))
    hanna_teams = set(Team.objects.filter(members=cast.hanna).values_list("pk", flat=True))
    staff = [cast.hanna.pk, cast.tom.pk]
    household_count = max(30, count // 300)

    tickets, events, visits = [], [], []
    serial: dict[int, int] = {}
    for index in range(count):
        created = now - datetime.timedelta(seconds=rng.uniform(600, 730 * 86400))
        age_days = (now - created).days
        member_id = unit_id = None
        if index < household_count:
            member_id, unit_id = (alice if rng.random() < 0.7 else bob), alice_unit
        elif rng.random() < 0.9:
            unit_id, household = rng.choice(home_list)
            member_id = rng.choice(household)
        elif rng.random() < 0.9:
            member_id = rng.choice(homeless)
        request_type = rng.choices(types, weights)[0]
        account = account_of.get(member_id)
        if account and rng.random() < 0.75:
            channel, created_by = Channel.PORTAL, account
        else:
            channel = rng.choice([Channel.PHONE, Channel.EMAIL, Channel.LETTER, Channel.COUNTER])
            created_by = rng.choice(staff)
        open_chance = 0.7 if age_days < 21 else 0.15 if age_days < 90 else 0.02
        if rng.random() < open_chance:
            status = rng.choices(
                [Status.RECEIVED, Status.IN_PROGRESS, Status.WAITING], [4, 4.5, 1.5]
            )[0]
        else:
            status = rng.choices([Status.RESOLVED, Status.CLOSED, Status.WITHDRAWN], [2, 7, 1])[0]
        is_open = status in (Status.RECEIVED, Status.IN_PROGRESS, Status.WAITING)
        team = request_type.default_team_id or rng.choice(teams)
        if member_id is None or (is_open and rng.random() < 0.05):
            team = None  # triage
        assignee = None
        if team is not None and status != Status.RECEIVED:
            pool = [*staff, None] if team in hanna_teams else [cast.tom.pk, None, None]
            assignee = rng.choice(pool)
        priority = rng.choices(
            [Priority.EMERGENCY, Priority.URGENT, Priority.HIGH, Priority.LOW, Priority.NORMAL],
            [0.5, 2, 8, 5, 84.5],
        )[0]
        emergency = priority == Priority.EMERGENCY
        first_response = None
        if status != Status.RECEIVED:
            first_response = min(now, created + datetime.timedelta(hours=rng.uniform(0.2, 30)))
        member_at = created
        if first_response and rng.random() < 0.3:
            member_at = min(now, first_response + datetime.timedelta(hours=rng.uniform(1, 72)))
        finished_at = None
        if not is_open:
            finished_at = min(now, member_at + datetime.timedelta(days=rng.uniform(0.5, 20)))
        last = max(filter(None, [created, first_response, member_at, finished_at]))
        year = created.year
        serial[year] = serial.get(year, 0) + 1
        snapshot = snapshots[request_type.pk]
        ticket = Ticket(
            reference=f"A-{year}-{serial[year]:06d}",
            request_type=request_type,
            fields_snapshot=snapshot,
            answers=answers(rng, snapshot, created),
            member_id=member_id,
            contact_name="" if member_id else "Erika Nachbarin (Nachbarin)",
            contact_phone="" if member_id else "030 1234567",
            unit_id=unit_id,
            shared_with_household=request_type.shared_with_household,
            channel=channel,
            status=status,
            team_id=team,
            assignee_id=assignee,
            created_by_id=created_by,
            priority=priority,
            first_response_due_at=created + datetime.timedelta(hours=1 if emergency else 16),
            due_at=created + datetime.timedelta(days=1 if emergency else 10),
            first_response_at=first_response,
            member_activity_at=member_at,
            office_activity_at=max(filter(None, [first_response, finished_at]), default=None),
            resolved_at=finished_at if status in (Status.RESOLVED, Status.CLOSED) else None,
            closed_at=finished_at if status == Status.CLOSED else None,
            created_at=created,
            updated_at=last,
        )
        tickets.append(ticket)
        portal = channel == Channel.PORTAL
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=TicketEvent.Kind.OPENED,
                public=True,
                actor_id=created_by,
                body=rng.choice(TEXTS) if portal else "",
                created_at=created,
            )
        )
        if first_response:
            events.append(
                TicketEvent(
                    ticket=ticket,
                    kind=TicketEvent.Kind.REPLY,
                    public=True,
                    actor_id=assignee or cast.hanna.pk,
                    body="Vielen Dank für Ihre Nachricht, wir kümmern uns darum.",
                    created_at=first_response,
                )
            )
        if member_at > created:
            events.append(
                TicketEvent(
                    ticket=ticket,
                    kind=TicketEvent.Kind.MEMBER_REPLY,
                    public=True,
                    actor_id=account or cast.hanna.pk,
                    body="Danke, ich bin vormittags zu Hause.",
                    created_at=member_at,
                )
            )
        if finished_at:
            events.append(
                TicketEvent(
                    ticket=ticket,
                    kind=TicketEvent.Kind.STATUS,
                    public=True,
                    actor_id=assignee or cast.hanna.pk,
                    data={"from": Status.IN_PROGRESS, "to": status},
                    created_at=finished_at,
                )
            )
        hanna_sees = team is None or team in hanna_teams or assignee == cast.hanna.pk
        news = is_open and rng.random() < 0.3  # she has not looked since the member's news
        if hanna_sees and not news and rng.random() < 0.6:
            seen = min(now, last + datetime.timedelta(minutes=rng.randint(1, 600)))
            visits.append(TicketVisit(user=cast.hanna, ticket=ticket, seen_at=seen))
        if index < household_count and rng.random() < 0.7:
            seen = min(now, last + datetime.timedelta(minutes=rng.randint(1, 600)))
            visits.append(TicketVisit(user=cast.alice, ticket=ticket, seen_at=seen))
    with stamps_as_given(Ticket):
        Ticket.objects.bulk_create(tickets, batch_size=1000)
    TicketEvent.objects.bulk_create(events, batch_size=1000)
    TicketVisit.objects.bulk_create(visits, batch_size=1000)
    return household_count


def answers(rng: random.Random, snapshot: list[dict], created: datetime.datetime) -> dict:
    """An answer to each field of the form but IBANs and files."""
    result = {}
    for field in snapshot:
        kind, choices = field["kind"], [c["value"] for c in field["choices"]]
        if kind in ("text", "textarea"):
            result[field["key"]] = rng.choice(TEXTS)
        elif kind == "choice" and choices:
            result[field["key"]] = rng.choice(choices)
        elif kind == "multichoice" and choices:
            result[field["key"]] = [rng.choice(choices)]
        elif kind == "room":
            result[field["key"]] = rng.choice(ROOMS)
        elif kind == "yesno":
            result[field["key"]] = rng.choice(["yes", "no"])
        elif kind == "date":
            result[field["key"]] = created.date().isoformat()
        elif kind == "number":
            result[field["key"]] = str(field["min"] or "1")
    return result


def measure(client, label, path, *, repeat, shows, data=None, headers=None) -> Measured:
    # Django is set up by now (prepare_database).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    status = 200
    for _ in range(WARM_UP):
        status = client.get(path, data, secure=True, headers=headers).status_code
    times, queries = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, data, secure=True, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured))
        if response.status_code != 200:
            status = response.status_code
    return Measured(label, status, times, queries, shows)


def measure_pages(cast, repeat: int) -> list[Measured]:
    # Django is set up by now (prepare_database).
    from django.test import Client
    from django.utils import timezone

    from members.selectors import members_search
    from tickets.inbox import inbox_page
    from tickets.models import Ticket
    from tickets.selectors import tickets_open_for_member

    staff, member = Client(), Client()
    staff.force_login(cast.hanna)
    member.force_login(cast.alice)
    results = []
    for what, query in SEARCHES:
        search = members_search(query=query)
        results.append(
            measure(
                staff,
                f'phone lookup "{query}" ({what})',
                "/bearbeitung/anruf/mitglieder/",
                data={"q": query},
                headers={"HX-Request": "true"},
                repeat=repeat,
                shows=f"{len(search.hits)} hits{' and more' if search.more else ''}",
            )
        )
    page = inbox_page(
        user=cast.hanna,
        view=None,
        filters={},
        sort="action",
        search="",
        after="",
        now=timezone.now(),
    )
    results.append(
        measure(
            staff,
            "inbox /bearbeitung/ (needs action)",
            "/bearbeitung/",
            repeat=repeat,
            shows=f"{len(page.rows)} of {page.counts[page.view]} ({page.view})",
        )
    )
    listed = Ticket.objects.visible_to_member(cast.alice.member).count()
    results.append(
        measure(member, "alice /anliegen/", "/anliegen/", repeat=repeat, shows=f"{listed} rows")
    )
    cards = tickets_open_for_member(cast.alice.member, limit=5, user=cast.alice)
    total = cards[0].card_total if cards else 0
    results.append(
        measure(
            member,
            "alice /mein-bereich/",
            "/mein-bereich/",
            repeat=repeat,
            shows=f"{len(cards)} of {total} cards",
        )
    )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    parser.add_argument("--limit-ms", type=float, default=500.0, help="for each page's median")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite, temporary)")
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="genoportal-bench-"))
    try:
        database = prepare_database(args.database_url, workdir)
        # Django is set up by now (prepare_database).
        from django.db import connection, transaction

        from demo.cast import build_demo
        from members.models import Member
        from tickets.models import Ticket

        rng = random.Random(args.seed)  # the same data every run
        started = time.perf_counter()
        with transaction.atomic():
            cast = build_demo(units_per_building=4)
            build_members(rng, args.members - Member.objects.count(), cast)
            household = build_tickets(rng, args.tickets, cast)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        built = time.perf_counter() - started
        print(
            f"{Member.objects.count():,} members, {Ticket.objects.count():,} tickets "
            f"({household} in alice's household) on {database}; data built in {built:.1f} s"
        )
        results = measure_pages(cast, args.repeat)
    finally:
        if "django" in sys.modules:
            drop_database(args.database_url)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{'page':<46}{'median ms':>10}{'p95 ms':>9}{'queries':>9}  shows")
    for result in results:
        print(
            f"{result.label:<46}{result.median:>10.1f}{result.p95:>9.1f}"
            f"{result.query_text:>9}  {result.shows}"
        )
    slowest = max(results, key=lambda r: r.median)
    failed = [r.label for r in results if r.status != 200]
    over = [r.label for r in results if r.median > args.limit_ms]
    print(
        f"{len(results)} pages x {args.repeat} requests; slowest median {slowest.median:.1f} ms "
        f"({slowest.label}); limit {args.limit_ms:.0f} ms: {'FAIL' if over or failed else 'OK'}"
    )
    for label in failed:
        print(f"FAIL: {label} did not answer 200")
    for label in over:
        print(f"FAIL: {label} over {args.limit_ms:.0f} ms (median)")
    return 1 if over or failed else 0


if __name__ == "__main__":
    sys.exit(main())
