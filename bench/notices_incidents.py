"""The lists that grow with time (issue 14): notices and incidents on a
database with years of them.

    .venv/bin/python bench/notices_incidents.py [--tickets 100000] [--years 3] [--per-week 5]
                                               [--incidents 2000] [--big 5] [--big-size 300]
                                               [--runs 20] [--warm-up 2]
                                               [--database-url postgres://…/gp_bench_x]
                                               [--reuse] [--json var/bench/lists-<vendor>.json]
                                               [--seed 14]

The data: bench/seed.py's requests (seed_database, --tickets requests over
eight years: the demo cooperative and test cast, its staff and teams, ten
more estates with members and households), then, over the last --years
years (fixed seed):

* --per-week notices per estate and week, every estate (the cast's
  included), a few weeks announced ahead: staircase cleaning, water,
  heating and power outages (hours to days), lifts out of service, building
  work (weeks), assembly invitations; about a third for one or two
  buildings only, a few until further notice (most withdrawn weeks later),
  a few withdrawn early, a few drafts never published;
* --incidents incidents, each 3–8 requests of one building and request
  type received one after another (the detector's clusters), most resolved
  or dismissed days later, those of the last weeks proposed or being
  worked on, and a few left open for months (what a lead forgot); and
  --big incidents of --big-size requests each, of one estate's buildings
  and the most frequent type (a heating failure of a whole estate), the
  latest being worked on now.

Written with bulk_create, then ANALYZE. With --reuse the database at
--database-url is used as it is (seeded only if it holds no requests; the
notices and incidents are added each run) and kept: e.g. one left by
`bench/seed.py --scale 1m --keep gp_bench_x`.

Measured through django.test.Client (after --warm-up requests; median,
p95 and the CPU time's median of --runs requests, SQL statements of one
request, the rows shown):

* calibration: the login form GET /anmelden/ (anonymous, no SQL), as in
  bench/rig.py: the targets are shares of its rate;
* (a) the staff notices list GET /bearbeitung/aushaenge/ as hanna
  (handler: every staff member sees every notice);
* (b) the member's notices page GET /aushaenge/ and Mein Bereich
  GET /mein-bereich/ (its notices card) as alice, each also before the
  notices were written (b0: what the card adds);
* (c) the staff incidents list GET /bearbeitung/stoerungen/ as tom (lead
  of Technik) and as ada (admin: every team's);
* (d) the incident with the most requests GET /bearbeitung/stoerungen/<id>/
  as tom.

Targets (bench/rig.py's, issue 11, as shares of the calibration's rate;
in one process a request's rate is 1 / its median): member pages 70 %,
the staff lists and the incident page as the inbox, 30 %; at most
--statements (12) SQL statements a page. In one process there is no HTTP
or gunicorn time to share, so these shares are stricter than the rig's.
Prints a table and writes the figures as JSON to
var/bench/lists-<vendor>.json (or --json). Default database: SQLite, a
file in a temporary directory under var/bench/; with --database-url
postgres://… that database (its name must contain "bench") is dropped,
created and dropped again at the end (unless --reuse). Exits 1 when a page
misses its target, runs more statements than allowed or answers
otherwise than 200."""

import argparse
import datetime
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

# Run as a script: the project root on the path, for bench.*.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.appointments_db import percentile
from bench.insights import scale_for, timed
from bench.member_pages import drop_database, prepare_database, stamps_as_given
from bench.rooms import second_step

ROOT = Path(__file__).resolve().parent.parent

STATEMENTS = 12
BATCH = 1_000
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(weeks=1)
# The columns of the table; the rest of a row goes to its notes.
PLAIN = {"key", "label", "runs", "median_ms", "p95_ms", "cpu_median_ms", "statements", "share"}

# (kind, weight, how long it holds: (shortest, longest) in hours, announced
# ahead: (least, most) in days, German title with {where})
NOTICE_KINDS = [
    ("cleaning", 25, (8, 24), (2, 7), "Treppenhausreinigung {where}"),
    ("water", 15, (3, 8), (2, 7), "Wasser abgestellt {where}"),
    ("heating", 12, (4, 48), (1, 5), "Heizung und Warmwasser abgestellt {where}"),
    ("power", 6, (2, 6), (3, 10), "Stromabschaltung {where}"),
    ("lift", 10, (24, 240), (1, 7), "Aufzug außer Betrieb {where}"),
    ("construction", 18, (168, 1000), (7, 21), "Bauarbeiten {where}"),
    ("assembly", 4, (3, 4), (14, 28), "Einladung zur Bewohnerversammlung {where}"),
    ("other", 10, (24, 336), (1, 7), "Hinweis für die Bewohner {where}"),
]
NOTICE_TEXTS = [
    "Bitte beachten Sie, dass es in dieser Zeit zu Einschränkungen kommen kann.",
    "Die Arbeiten führt eine Fachfirma im Auftrag der Genossenschaft aus.",
    "Bei Fragen wenden Sie sich bitte an Ihre Hausverwaltung.",
    "Wir bitten um Ihr Verständnis.",
    "Bitte halten Sie die Kellergänge frei.",
    "Bitte lassen Sie in dieser Zeit keine Wasserhähne offen.",
]
INCIDENT_TITLES = [
    "Heizung ausgefallen",
    "Warmwasser ausgefallen",
    "Aufzug steht still",
    "Beleuchtung im Treppenhaus ausgefallen",
    "Gegensprechanlage gestört",
    "Wasserschaden im Keller",
]
# What became of an incident older than the list's window (resolved,
# dismissed, left open, left proposed).
FATES = [("resolved", 70), ("dismissed", 28), ("open", 1.5), ("proposed", 0.5)]


def weighted(rng: random.Random, pairs):
    return rng.choices([value for value, _ in pairs], [weight for _, weight in pairs])[0]


def make_notices(rng: random.Random, *, years: int, per_week: float, now) -> dict[str, int]:
    """--per-week notices per estate and week over `years` years and four
    weeks ahead; returns counts."""
    # Django is set up by now (prepare_database).
    from accounts.models import User
    from cooperative.models import Building, Estate
    from notices.models import Notice

    staff = list(User.objects.filter(is_staff=True).order_by("pk").values_list("pk", flat=True))
    estates = list(Estate.objects.order_by("pk"))
    buildings: dict[int, list[tuple[int, str]]] = {}
    for pk, estate_id, street, number in Building.objects.order_by("pk").values_list(
        "pk", "estate_id", "street", "house_number"
    ):
        buildings.setdefault(estate_id, []).append((pk, f"{street} {number}"))
    kinds = [(kind, weight) for kind, weight, *_ in NOTICE_KINDS]
    details = {kind: rest for kind, _weight, *rest in NOTICE_KINDS}
    first = now - years * 365 * DAY
    counts: Counter = Counter()
    notices, chosen = [], []
    Through = Notice.buildings.through

    def flush():
        with stamps_as_given(Notice):
            Notice.objects.bulk_create(notices, batch_size=BATCH)
        Through.objects.bulk_create(
            [Through(notice=notice, building_id=building) for notice, building in chosen],
            batch_size=BATCH,
        )
        notices.clear()
        chosen.clear()

    weeks = int(years * 52) + 4
    for estate in estates:
        houses = buildings.get(estate.pk, [])
        people = [p for p in (estate.property_manager_id, estate.caretaker_id) if p] or staff
        for week in range(weeks):
            # A Poisson count around per_week: some weeks more, some none.
            for _ in range(sum(1 for _ in range(int(per_week * 2)) if rng.random() < 0.5)):
                kind = weighted(rng, kinds)
                (short, long), (least, most), title = details[kind]
                starts = first + week * WEEK + rng.uniform(0, 7) * DAY
                starts = starts.replace(minute=0, second=0, microsecond=0)
                if starts > now + 4 * WEEK:
                    continue
                published = starts - rng.uniform(least, most) * DAY
                ends = starts + rng.uniform(short, long) * HOUR
                for_houses = (
                    rng.sample(houses, min(len(houses), rng.choice([1, 1, 2])))
                    if houses and rng.random() < 0.35
                    else []
                )
                where = ", ".join(name for _, name in for_houses) or estate.name
                author = rng.choice(people)
                notice = Notice(
                    kind=kind,
                    title_de=title.format(where=where)[:200],
                    text_de=" ".join(rng.sample(NOTICE_TEXTS, 3)),
                    estate=estate,
                    valid_from=starts,
                    valid_until=ends,
                    created_by_id=author,
                    published_by_id=author,
                    published_at=min(published, now - HOUR),
                    created_at=min(published, now - HOUR) - rng.uniform(0, 2) * DAY,
                )
                fate = rng.random()
                if kind in ("other", "construction") and fate < 0.08:
                    # Until further notice; most are withdrawn weeks later.
                    notice.valid_until = None
                    withdrawn = starts + rng.uniform(2, 10) * WEEK
                    if withdrawn < now and rng.random() < 0.9:
                        notice.withdrawn_at, notice.withdrawn_by_id = withdrawn, author
                        counts["withdrawn"] += 1
                    counts["open-ended"] += 1
                elif fate < 0.02:
                    notice.published_at = notice.published_by_id = None
                    counts["drafts"] += 1
                elif fate < 0.04 and notice.published_at < now - DAY:
                    withdrawn = notice.published_at + rng.uniform(0, 3) * DAY
                    notice.withdrawn_at = min(withdrawn, ends - HOUR, now - HOUR)
                    notice.withdrawn_by_id = author
                    counts["withdrawn"] += 1
                notice.updated_at = notice.withdrawn_at or notice.published_at or notice.created_at
                notices.append(notice)
                chosen.extend((notice, pk) for pk, _ in for_houses)
                counts["notices"] += 1
            if len(notices) >= BATCH:
                flush()
    flush()
    counts["estates"] = len(estates)
    return dict(counts)


def make_incidents(
    rng: random.Random, *, years: int, count: int, big: int, big_size: int, now
) -> dict:
    """`count` small and `big` large incidents over the last `years`
    years, from the requests received then; returns counts and the
    public id of the largest one being worked on."""
    # Django is set up by now (prepare_database).
    from accounts.models import User
    from incidents.models import Incident, IncidentStatus, IncidentTicket
    from routing.models import Team
    from tickets.models import Ticket

    first = now - years * 365 * DAY
    # (pk, building, estate, type, team, created_at) of every request
    # about a flat since then, in the order they came.
    rows = list(
        Ticket.objects.filter(created_at__gte=first, unit__isnull=False)
        .order_by("created_at", "pk")
        .values_list(
            "pk",
            "unit__building_id",
            "unit__building__estate_id",
            "request_type_id",
            "team_id",
            "created_at",
        )
    )
    leads = dict(Team.objects.values_list("pk", "lead_id"))
    admin = User.objects.filter(email="ada@example.org").values_list("pk", flat=True).first()
    by_place: dict[tuple, list] = {}
    by_estate: dict[tuple, list] = {}
    for row in rows:
        by_place.setdefault((row[1], row[3]), []).append(row)
        by_estate.setdefault((row[2], row[3]), []).append(row)
    places = [key for key, found in by_place.items() if len(found) >= 3]
    taken: set[int] = set()
    incidents, links, chosen = [], [], []
    counts: Counter = Counter()
    Through = Incident.buildings.through

    def make(cluster, *, status=None, detected=3):
        """An incident of these requests, its status by its age unless given."""
        estate = cluster[0][2]
        created = cluster[min(detected, len(cluster)) - 1][5] + rng.uniform(1, 12) * HOUR
        created = min(created, now - HOUR)
        team = Counter(row[4] for row in cluster).most_common(1)[0][0]
        lead = leads.get(team) or admin
        if status is None:
            status = (
                weighted(rng, FATES)
                if created < now - 30 * DAY
                else rng.choice(["proposed", "open", "open", "resolved", "dismissed"])
            )
        incident = Incident(
            title=rng.choice(INCIDENT_TITLES),
            public_text="Wir wissen Bescheid, eine Fachfirma ist beauftragt.",
            estate_id=estate,
            request_type_id=cluster[0][3],
            team_id=team,
            status=status,
            created_at=created,
        )
        later = min(created + rng.uniform(0.1, 3) * DAY, now - HOUR)
        if status != IncidentStatus.PROPOSED and status != IncidentStatus.DISMISSED:
            incident.accepted_at, incident.accepted_by_id = later, lead
        if status == IncidentStatus.DISMISSED:
            incident.dismissed_at, incident.dismissed_by_id = later, lead
        if status == IncidentStatus.RESOLVED:
            done = min(later + rng.uniform(0.5, 10) * DAY, now - HOUR)
            incident.resolved_at, incident.resolved_by_id = done, lead
        incident.updated_at = incident.resolved_at or incident.dismissed_at or later
        incidents.append(incident)
        for building in sorted({row[1] for row in cluster}):
            chosen.append((incident, building))
        for index, row in enumerate(cluster):
            taken.add(row[0])
            links.append(
                IncidentTicket(
                    incident=incident,
                    ticket_id=row[0],
                    how="detected" if index < detected else "matched",
                    linked_at=max(row[5], created),
                )
            )
        counts[status] += 1
        return incident

    # The big ones first: one estate's buildings and a type of Technik
    # (whose lead, tom, the page is measured as), the most frequent first.
    biggest = None
    technik = Team.objects.filter(name="Technik").values_list("pk", flat=True).first()
    estates = sorted(by_estate, key=lambda key: len(by_estate[key]), reverse=True)
    estates = [
        key
        for key in estates
        if Counter(row[4] for row in by_estate[key]).most_common(1)[0][0] == technik
    ] or estates
    for number in range(big):
        if not estates:
            break
        found = by_estate[estates[number % len(estates)]]
        free = [row for row in found if row[0] not in taken]
        if len(free) < 3:
            continue
        size = min(big_size, len(free))
        # The last is the latest and being worked on now; the others spread over the years.
        start = (
            len(free) - size
            if number == big - 1
            else rng.randrange(0, max(1, len(free) - size * (big - number)))
        )
        cluster = free[start : start + size]
        incident = make(
            cluster,
            status=IncidentStatus.OPEN if number == big - 1 else IncidentStatus.RESOLVED,
            detected=min(size, 10),
        )
        counts["big"] += 1
        if biggest is None or size >= biggest[1]:
            biggest = (incident, size)

    made = 0
    for _ in range(count * 20):
        if made >= count or not places:
            break
        found = by_place[rng.choice(places)]
        size = rng.randint(3, min(8, len(found)))
        start = rng.randrange(0, len(found) - size + 1)
        cluster = found[start : start + size]
        if any(row[0] in taken for row in cluster):
            continue
        make(cluster)
        made += 1

    # Ids in the order they were created, as in a real database.
    order = sorted(range(len(incidents)), key=lambda i: incidents[i].created_at)
    incidents = [incidents[i] for i in order]
    with stamps_as_given(Incident):
        Incident.objects.bulk_create(incidents, batch_size=BATCH)
    IncidentTicket.objects.bulk_create(links, batch_size=BATCH)
    Through.objects.bulk_create(
        [Through(incident=incident, building_id=building) for incident, building in chosen],
        batch_size=BATCH,
    )
    counts["incidents"] = len(incidents)
    counts["links"] = len(links)
    return {
        "counts": dict(counts),
        "biggest": (str(biggest[0].public_id), biggest[1]) if biggest else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="requests (8 years)")
    parser.add_argument("--years", type=int, default=3, help="of notices and incidents")
    parser.add_argument("--per-week", type=float, default=5, help="notices per estate and week")
    parser.add_argument("--incidents", type=int, default=2_000, help="of 3-8 requests each")
    parser.add_argument("--big", type=int, default=5, help="incidents of --big-size requests")
    parser.add_argument("--big-size", type=int, default=300)
    parser.add_argument("--runs", type=int, default=20, help="timed requests of each page")
    parser.add_argument("--warm-up", type=int, default=2)
    parser.add_argument("--limit-ms", type=float, default=500.0, help="a page's median limit")
    parser.add_argument("--statements", type=int, default=STATEMENTS, help="a page's limit")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite, temporary)")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is, keep it")
    parser.add_argument("--json", help="default var/bench/lists-<vendor>.json")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    if args.reuse and not args.database_url:
        sys.exit("--reuse needs --database-url (postgres://… or sqlite:///path)")

    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="lists-", dir=ROOT / "var" / "bench"))
    rows: list[dict] = []
    problems: list[str] = []
    report: dict = {}
    try:
        database = prepare_database(args.database_url, workdir, fresh=not args.reuse)
        # Django is set up by now (prepare_database).
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from accounts.models import User
        from bench.seed import seed_database
        from incidents.models import Incident
        from notices.models import Notice
        from tickets.models import Ticket

        vendor = connection.vendor
        rng = random.Random(args.seed)
        started = time.perf_counter()
        existing = Ticket.objects.count()
        if existing:
            how = f"reused ({existing:,} requests there)"
        else:
            seed_database(scale=scale_for(args.tickets, 8), rng_seed=args.seed)
            how = f"seeded ({args.tickets:,} requests over 8 years)"
        requests_s = time.perf_counter() - started

        def record(key, label, wall, cpu, *, statements, share=None, **extra):
            rows.append(
                {
                    "key": key,
                    "label": label,
                    "runs": len(wall),
                    "median_ms": round(statistics.median(wall), 2),
                    "p95_ms": round(percentile(wall, 0.95), 2),
                    "cpu_median_ms": round(statistics.median(cpu), 2),
                    "statements": statements,
                    "share": share,
                    **extra,
                }
            )

        def client_of(email: str | None) -> Client:
            client = Client()
            if email is not None:
                user = User.objects.get(email=email)
                client.force_login(user)
                if user.needs_second_step:
                    second_step(client, user)
            return client

        medians: dict[str, float] = {}

        def page(key, label, client, path, *, like=None, item='class="ticket-list__item"'):
            """Times GET `path`; `like`: the key of the page whose target it
            shares (the inbox, Meine Anliegen), for the ratio."""
            statuses: dict[int, int] = {}

            def get():
                response = client.get(path, secure=True)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                return response

            wall, cpu, response = timed(get, args.runs, args.warm_up)
            with CaptureQueriesContext(connection) as captured:
                response = get()
            count = len(captured.captured_queries)
            median = medians[key] = statistics.median(wall)
            extra = {}
            if like is not None:
                extra["vs"] = f"{median / medians[like]:.2f}x {like}"
            record(
                key,
                label,
                wall,
                cpu,
                statements=count,
                share=round(medians["calibration"] / median, 3),
                **extra,
                statuses={str(k): v for k, v in statuses.items()},
                shown=response.content.decode().count(item),
                kilobytes=round(len(response.content) / 1024),
            )
            if set(statuses) != {200}:
                problems.append(f"{label} answered {statuses}")
            if count > args.statements:
                problems.append(f"{label} ran {count} SQL statements (at most {args.statements})")
            if median > args.limit_ms:
                problems.append(f"{label}: median {median:.0f} ms (limit {args.limit_ms:g} ms)")
            print(f"{label}: median {median:.1f} ms, {count} statements", flush=True)
            return response

        anonymous, alice = client_of(None), client_of("alice@example.org")
        hanna = client_of("hanna@example.org")
        wall, cpu, _ = timed(lambda: anonymous.get("/anmelden/", secure=True), args.runs * 2, 2)
        medians["calibration"] = statistics.median(wall)
        record("calibration", "calibration: GET /anmelden/ (anonymous)", wall, cpu, statements=0)
        # The pages whose targets the new ones share (bench/rig.py): member
        # pages 70 % of the calibration's rate, the inbox 30 %.
        page("r_inbox", "(r) GET /bearbeitung/ as hanna (the inbox)", hanna, "/bearbeitung/",
             item='class="inbox-table__pick"')  # fmt: skip
        page("r_requests", "(r) GET /anliegen/ as alice (Meine Anliegen)", alice, "/anliegen/",
             like=None)  # fmt: skip
        # (b0) the member's pages before the notices
        page("b0_notices", "(b0) GET /aushaenge/ as alice, no notices yet", alice, "/aushaenge/",
             like="r_requests", item='class="notice"')  # fmt: skip
        page("b0_home", "(b0) GET /mein-bereich/ as alice, no notices yet", alice,
             "/mein-bereich/", like="r_requests", item='class="notice"')  # fmt: skip

        now = timezone.now()
        started = time.perf_counter()
        made_notices = make_notices(rng, years=args.years, per_week=args.per_week, now=now)
        made_incidents = make_incidents(
            rng,
            years=args.years,
            count=args.incidents,
            big=args.big,
            big_size=args.big_size,
            now=now,
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if vendor == "postgresql" else "PRAGMA optimize")
        built = time.perf_counter() - started
        in_window = {
            "notices_staff": Notice.objects.filter(
                withdrawn_at__isnull=True, valid_until__isnull=True
            ).count(),
            "incidents_active": Incident.objects.filter(status__in=("proposed", "open")).count(),
        }
        notices = dict(made_notices)
        incidents = dict(made_incidents["counts"])
        seeded = (
            f"{database}: {Ticket.objects.count():,} requests ({how} in {requests_s:.1f} s); "
            f"{notices.pop('notices', 0):,} notices ("
            + ", ".join(f"{value:,} {key}" for key, value in notices.items())
            + f"); {incidents.pop('incidents', 0):,} incidents with "
            f"{incidents.pop('links', 0):,} requests ("
            + ", ".join(f"{value:,} {key}" for key, value in incidents.items())
            + f"); written and analysed in {built:.1f} s"
        )
        print(seeded, flush=True)

        # (a) the staff notices list
        page("a_staff_notices", "(a) GET /bearbeitung/aushaenge/ as hanna", hanna,
             "/bearbeitung/aushaenge/", like="r_inbox")  # fmt: skip
        # (b) the member's notices page and Mein Bereich
        page("b_notices", "(b) GET /aushaenge/ as alice", alice, "/aushaenge/",
             like="b0_notices", item='class="notice"')  # fmt: skip
        page("b_home", "(b) GET /mein-bereich/ as alice", alice, "/mein-bereich/",
             like="b0_home", item='class="notice"')  # fmt: skip
        # (c) the staff incidents list, (d) the largest incident
        tom, ada = client_of("tom@example.org"), client_of("ada@example.org")
        page("c_incidents_lead", "(c) GET /bearbeitung/stoerungen/ as tom (lead)", tom,
             "/bearbeitung/stoerungen/", like="r_inbox")  # fmt: skip
        page("c_incidents_admin", "(c) GET /bearbeitung/stoerungen/ as ada (admin)", ada,
             "/bearbeitung/stoerungen/", like="r_inbox")  # fmt: skip
        if made_incidents["biggest"]:
            public_id, size = made_incidents["biggest"]
            # As its team's lead (tom for Technik's), or the admin.
            lead = Incident.objects.filter(public_id=public_id, team__lead__email="tom@example.org")
            who, client = ("tom", tom) if lead.exists() else ("ada", ada)
            page("d_incident", f"(d) GET /bearbeitung/stoerungen/<id>/ ({size} requests) as {who}",
                 client, f"/bearbeitung/stoerungen/{public_id}/", like="r_inbox")  # fmt: skip

        report = {
            "database": database,
            "vendor": vendor,
            "seed": {
                "requests": how,
                "notices": made_notices,
                "incidents": made_incidents["counts"],
                "until_withdrawn_or_active": in_window,
                "seconds": round(built, 1),
            },
            "calibration_ms": round(medians["calibration"], 2),
            "limit_ms": args.limit_ms,
            "statements_max": args.statements,
            "rows": rows,
        }
    finally:
        if "django" in sys.modules:
            drop_database(None if args.reuse else args.database_url)
        shutil.rmtree(workdir, ignore_errors=True)

    report["problems"] = problems
    path = Path(args.json) if args.json else ROOT / "var" / "bench" / f"lists-{vendor}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")

    print()
    print(seeded)
    print(f"{'workload':<64} {'median':>8} {'p95':>8} {'CPU':>8} {'SQL':>4} {'share':>6}  notes")
    for row in rows:
        notes = ", ".join(f"{key} {value}" for key, value in row.items() if key not in PLAIN)
        share = f"{row['share']:.0%}" if row["share"] is not None else "-"
        print(
            f"{row['label']:<64} {row['median_ms']:>6.1f}ms {row['p95_ms']:>6.1f}ms "
            f"{row['cpu_median_ms']:>6.1f}ms {row['statements']:>4} {share:>6}  {notes}"
        )
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"written to {path}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
