"""Rooms on the database (issue 13, point 8): the availability calendar,
the member's room and confirmation pages, booking and the staff list,
against a fresh database with years of bookings.

    .venv/bin/python bench/rooms.py [--rooms 20] [--history 50000] [--months 6] [--busy 0.5]
                                    [--runs 50] [--requests 100] [--bookings 50] [--target 50]
                                    [--database-url postgres://…/gp_bench_rooms]
                                    [--json var/bench/rooms-<vendor>.json] [--seed 13]

The data (fixed seed): the test cast (demo.cast.build_demo with 4 units a
building) and the demo's guest apartment and common room
(demo.rooms.rooms_demo_ensure), then --rooms more rooms, half guest
apartments (by the night: 1–14 nights, check-in 15:00, check-out 10:00,
cleaning 2–4 hours), half common rooms (by the hour, open 8–22, 7–23 or 9–21,
cleaning 0–60 minutes, some needing staff confirmation, every fourth kept
for its estate's residents), all looked after by team Vermietung. Over
the last three years --history bookings (confirmed, some cancelled or
declined), spread over the rooms by how many each can hold; over the next
--months months about --busy of every room's nights or hours booked
(confirmed, or awaiting confirmation where staff confirm). All with
bulk_create in chunks. No two active bookings of a room overlap (busy
times, cleaning included): the database refuses them (migration 0002).
On SQLite the history goes in with its triggers dropped, checked for
overlaps here instead, and the triggers are made again with 0002's own
statements (as bench/appointments_db.py does); the upcoming bookings go
in through them. PostgreSQL checks every row (its exclusion constraint)
and is analysed and vacuumed after loading.

Measured (after a warm-up; median and p95 of wall-clock time, and the
CPU time's median):

a. rooms.selectors.month_of for a guest apartment and a common room, next
   month: the calendar's data, database read included; target: median
   under --target ms;
b. the member's room page GET /raeume/<slug>/ and ?monat=<next month>
   through django.test.Client as alice, for a guest apartment and a
   common room: requests per second, SQL statements;
c. the confirmation page GET /raeume/<slug>/bestaetigen/?… with a free
   stay (guest apartment) and free hours (common room): the price quote;
d. rooms.services.room_book, --bookings real bookings one after another
   (every other a guest apartment's stay, the others a common room's
   hours), each found free beforehand: bookings per second, SQL
   statements of one of each kind;
e. the staff list GET /bearbeitung/raeume/ as tom (team lead: every
   room's upcoming bookings, awaiting confirmation first, 50 a page).

Pages must not run more than --statements SQL statements (12). Prints a
table and writes the figures as JSON to var/bench/rooms-<vendor>.json
(or --json). Default database: SQLite, a file in a temporary directory
under var/bench/; with --database-url postgres://… that database (its
name must contain "bench") is dropped, created and dropped again at the
end. Exits 1 when (a)'s median is over --target, a page runs more
statements than allowed or answers otherwise than 200, or a booking of
a free time fails."""

import argparse
import contextlib
import datetime
import importlib
import itertools
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

# Run as a script: the project root on the path, for bench.*.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.appointments_db import percentile, poisson, timed
from bench.member_pages import drop_database, prepare_database, stamps_as_given

ROOT = Path(__file__).resolve().parent.parent

HISTORY_YEARS = 3
CHUNK = 5_000
STATEMENTS = 12
ONE_DAY = datetime.timedelta(days=1)
# Nights of a stay and hours of a common room booking, as members book them.
NIGHTS = {1: 3, 2: 5, 3: 4, 4: 2, 5: 1, 7: 2, 10: 1, 14: 1}
HOURS = {1: 2, 2: 5, 3: 4, 4: 3, 5: 1, 6: 1}
# The columns of the table; the rest of a row goes to its notes.
PLAIN = {"key", "label", "runs", "median_ms", "p95_ms", "cpu_median_ms", "per_second", "statements"}


@contextlib.contextmanager
def overlap_triggers_off():
    """SQLite: migration 0002's triggers dropped while loading the history
    and made again after with 0002's statements; PostgreSQL: nothing to do
    (its exclusion constraint checks each row through its GiST index)."""
    # Django is set up by now (prepare_database).
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    no_overlap = importlib.import_module("rooms.migrations.0002_no_overlap")
    with connection.cursor() as cursor:
        for statement in no_overlap.SQLITE_BACK:
            cursor.execute(statement)
    yield
    with connection.cursor() as cursor:
        for statement in no_overlap.SQLITE:
            cursor.execute(statement)


def overlaps(rows) -> int:
    """How many of (room, status, starts, busy until) overlap the one
    before them in the same room (half-open; only holding ones count), as
    the database would find them."""
    by_room: dict[int, list] = {}
    for room_id, status, starts, busy_until in rows:
        if status in ("requested", "confirmed"):
            by_room.setdefault(room_id, []).append((starts, busy_until))
    found = 0
    for intervals in by_room.values():
        intervals.sort()
        found += sum(
            1 for (_, until), (begins, _) in itertools.pairwise(intervals) if begins < until
        )
    return found


def weighted(rng: random.Random, table: dict[int, int], least: int, most: int) -> int:
    choices = [value for value in table if least <= value <= most] or [least]
    return rng.choices(choices, [table.get(value, 1) for value in choices])[0]


def mean_of(table: dict[int, int], least: int, most: int) -> float:
    choices = [value for value in table if least <= value <= most] or [least]
    weights = [table.get(value, 1) for value in choices]
    return sum(v * w for v, w in zip(choices, weights, strict=True)) / sum(weights)


def cleaning_hours(room) -> int:
    """Hours a common room's cleaning keeps it from the next booking (on the hour)."""
    return math.ceil(room.cleaning_minutes / 60)


def per_day(room) -> float:
    """About how many bookings a day the room holds when well used."""
    if room.by_night:
        return 0.8 / mean_of(NIGHTS, room.min_units, room.max_units)
    open_hours = room.closes.hour - room.opens.hour
    return (
        0.8 * open_hours / (mean_of(HOURS, room.min_units, room.max_units) + cleaning_hours(room))
    )


def make_rooms(rng: random.Random, count: int, team, estates) -> list:
    from rooms.models import Room, RoomKind

    made = []
    for number in range(count):
        flat = number % 2 == 0
        kept = number % 4 == 3 and estates
        estate = estates[number % len(estates)] if estates else None
        common = {
            "slug": f"bench-{'gaestewohnung' if flat else 'raum'}-{number:02}",
            "name_de": f"{'Gästewohnung' if flat else 'Gemeinschaftsraum'} {number:02}",
            "name_en": f"{'Guest apartment' if flat else 'Common room'} {number:02}",
            "description_de": "Ein Raum für den Benchmark.",
            "description_en": "A room for the benchmark.",
            "address": f"Benchstraße {number + 1}",
            "estate": estate,
            "residents_only": bool(kept),
            "team": team,
            "position": number,
            "cancel_cutoff_hours": 48,
        }
        if flat:
            room = Room(
                kind=RoomKind.GUEST_FLAT,
                capacity=rng.choice([2, 3, 4, 6]),
                price=Decimal(rng.choice(["30.00", "35.00", "45.00"])),
                fee=Decimal(rng.choice(["0.00", "20.00", "25.00"])),
                cleaning_minutes=rng.choice([120, 180, 240]),
                min_units=rng.choice([1, 1, 2]),
                max_units=14,
                min_notice_hours=24,
                horizon_days=365,
                needs_confirmation=number % 3 == 0,
                **common,
            )
        else:
            opens, closes = rng.choice([(8, 22), (8, 22), (7, 23), (9, 21)])
            room = Room(
                kind=RoomKind.COMMON_ROOM,
                capacity=rng.choice([12, 20, 30, 50]),
                price=Decimal(rng.choice(["0.00", "5.00", "8.00"])),
                fee=Decimal(rng.choice(["0.00", "15.00"])),
                opens=datetime.time(opens),
                closes=datetime.time(closes),
                cleaning_minutes=rng.choice([0, 30, 60]),
                min_units=rng.choice([1, 1, 2]),
                max_units=10,
                min_notice_hours=48,
                horizon_days=180,
                needs_confirmation=number % 3 == 1,
                **common,
            )
        made.append(room)
    return Room.objects.bulk_create(made)


def build(rng: random.Random, args, cast) -> dict:
    """The rooms and their bookings; returns what was made."""
    # Django is set up by now (prepare_database).
    from django.utils import timezone

    from cooperative.models import Estate
    from demo.rooms import rooms_demo_ensure
    from members.models import Member
    from rooms import plan
    from rooms.models import RoomBooking
    from rooms.selectors import busy_between, rules_for
    from routing.models import Team

    demo = rooms_demo_ensure(cast)
    team = Team.objects.get(name="Vermietung")
    estates = list(Estate.objects.order_by("pk"))
    bench_rooms = make_rooms(rng, args.rooms, team, estates)
    rooms = [demo["flat"], demo["hall"], *bench_rooms]
    now = timezone.now()
    today = timezone.localdate()
    first_day = today - datetime.timedelta(days=365 * HISTORY_YEARS)
    last_day = today + datetime.timedelta(days=round(args.months * 30.4))
    members = list(Member.objects.values_list("pk", "user__pk"))
    Status = RoomBooking.Status

    def row(room, starts, ends, busy_until, units, status, *, past: bool) -> RoomBooking:
        member_id, user_id = rng.choice(members)
        made = min(now, starts) - datetime.timedelta(days=rng.uniform(1, 60))
        decided = room.needs_confirmation and status in (Status.CONFIRMED, Status.DECLINED)
        cancelled = status == Status.CANCELLED
        return RoomBooking(
            room=room,
            member_id=member_id,
            booked_by_id=user_id,
            starts_at=starts,
            ends_at=ends,
            busy_until=busy_until,
            units=units,
            price=room.price_for(units),
            persons=rng.randint(1, room.capacity),
            purpose=rng.choice(["", "Geburtstag", "Familie zu Besuch", "Hausversammlung"]),
            status=status,
            decided_by=cast.hanna if decided else None,
            decided_at=made + datetime.timedelta(hours=5) if decided else None,
            decline_reason="Der Raum wird renoviert." if status == Status.DECLINED else "",
            cancelled_at=made + datetime.timedelta(days=2) if cancelled else None,
            cancelled_by_id=user_id if cancelled else None,
            created_at=made,
            updated_at=made + datetime.timedelta(hours=5) if decided or cancelled else made,
        )

    def past_status(room) -> str:
        weights = [85, 10, 5 if room.needs_confirmation else 0]
        return rng.choices([Status.CONFIRMED, Status.CANCELLED, Status.DECLINED], weights)[0]

    def future_status(room) -> str:
        if room.needs_confirmation and rng.random() < 0.3:
            return Status.REQUESTED
        return Status.CANCELLED if rng.random() < 0.05 else Status.CONFIRMED

    def stays(room, rules, wanted_history: int):
        """A guest apartment's stays from `first_day` to `last_day`, one
        after another (the next arrival once the cleaning is done)."""
        past_days = (today - first_day).days
        nights_mean = mean_of(NIGHTS, room.min_units, room.max_units)
        gap_past = max(0.0, past_days / max(1, wanted_history) - nights_mean)
        gap_future = nights_mean * (1 - args.busy) / max(args.busy, 0.01)
        day, made = first_day, 0
        while True:
            if day < today and made >= wanted_history:
                day = today  # the history is complete: on to the next months
            gap = gap_past if day < today else gap_future
            after = day + datetime.timedelta(days=rng.randint(0, round(2 * gap)))
            if day < today <= after:  # the history's gap does not reach into the next months
                after = today + datetime.timedelta(days=rng.randint(0, round(2 * gap_future)))
            day = after
            if day >= last_day:
                return
            nights = weighted(rng, NIGHTS, room.min_units, room.max_units)
            span = plan.stay(rules, day, day + nights * ONE_DAY)
            past = span.starts < now
            made += past
            yield span, past
            day += nights * ONE_DAY
            if plan.at(day, rules.check_in, rules.zone) < span.busy_until:
                day += ONE_DAY

    def hours_of(room, rules, wanted_history: int):
        """A common room's bookings, day by day: a Poisson number of them,
        spread over the room's hours with the cleaning between; what did
        not fit moves on to the next day."""
        past_days = (today - first_day).days
        per_past = wanted_history / max(1, past_days)
        clean = cleaning_hours(room)
        opens, closes = room.opens.hour, room.closes.hour
        per_future = args.busy * (closes - opens) / mean_of(HOURS, room.min_units, room.max_units)
        owed, made = 0.0, 0
        day = first_day
        while day < last_day:
            past = day < today
            if past:
                wanted = min(poisson(rng, per_past + owed), wanted_history - made)
            else:
                wanted = poisson(rng, per_future)
            lengths = [weighted(rng, HOURS, room.min_units, room.max_units) for _ in range(wanted)]
            # Drop the longest until they fit, with their cleaning between.
            lengths.sort()
            while lengths and sum(lengths) + clean * (len(lengths) - 1) > closes - opens:
                lengths.pop()
            rng.shuffle(lengths)
            slack = closes - opens - sum(lengths) - clean * max(0, len(lengths) - 1)
            gaps = sorted(rng.randint(0, slack) for _ in lengths)
            hour, used = opens, 0
            for length, gap in zip(lengths, gaps, strict=True):
                hour += gap - used
                used = gap
                span = plan.hours(rules, day, datetime.time(hour), datetime.time(hour + length))
                yield span, past
                hour += length + clean
            if past:
                made += len(lengths)
                owed = max(0.0, owed + per_past - len(lengths))
            day += ONE_DAY

    # Each room's share of the history by how many bookings a day it holds.
    capacity = [per_day(room) for room in rooms]
    shares = [args.history * c / sum(capacity) for c in capacity]
    wanted = [math.floor(s) for s in shares]
    for index in sorted(range(len(rooms)), key=lambda i: shares[i] - wanted[i], reverse=True)[
        : args.history - sum(wanted)
    ]:
        wanted[index] += 1

    history, upcoming, checked = 0, [], []
    busy_minutes = open_minutes = 0
    future_days = (last_day - today).days
    with stamps_as_given(RoomBooking), overlap_triggers_off():
        chunk: list[RoomBooking] = []
        carried = 0  # what a room could not hold goes to the next
        for room, share in zip(rooms, wanted, strict=True):
            rules = rules_for(room)
            goal = share + carried
            spans = stays(room, rules, goal) if room.by_night else hours_of(room, rules, goal)
            # The demo's own few bookings (rooms_demo_ensure) stay as they are.
            existing = busy_between(
                room,
                plan.at(first_day, datetime.time(0), rules.zone),
                plan.at(last_day + 30 * ONE_DAY, datetime.time(0), rules.zone),
            )
            mine = 0
            for span, past in spans:
                if any(s < span.busy_until and span.starts < u for s, u in existing):
                    continue
                if past:
                    if mine >= goal:
                        continue
                    mine += 1
                    chunk.append(
                        row(room, span.starts, span.ends, span.busy_until, span.units,
                            past_status(room), past=True)
                    )  # fmt: skip
                else:
                    upcoming.append(
                        row(room, span.starts, span.ends, span.busy_until, span.units,
                            future_status(room), past=False)
                    )  # fmt: skip
                    busy_minutes += span.units * (24 * 60 if room.by_night else 60)
                if len(chunk) >= CHUNK:
                    RoomBooking.objects.bulk_create(chunk, batch_size=1000)
                    checked += [(r.room_id, r.status, r.starts_at, r.busy_until) for r in chunk]
                    chunk = []
            history += mine
            carried = goal - mine
            open_minutes += future_days * (
                24 * 60 if room.by_night else (room.closes.hour - room.opens.hour) * 60
            )
        RoomBooking.objects.bulk_create(chunk, batch_size=1000)
        checked += [(r.room_id, r.status, r.starts_at, r.busy_until) for r in chunk]
    # The upcoming ones after the history, through the triggers (SQLite) or
    # the exclusion constraint (PostgreSQL), as every booking goes in.
    with stamps_as_given(RoomBooking):
        for start in range(0, len(upcoming), CHUNK):
            RoomBooking.objects.bulk_create(upcoming[start : start + CHUNK], batch_size=1000)
    checked += [(r.room_id, r.status, r.starts_at, r.busy_until) for r in upcoming]
    clashes = overlaps(checked)
    if clashes:
        raise RuntimeError(f"{clashes} seeded room bookings overlap")
    return {
        "rooms": rooms,
        "history": history,
        "upcoming": len(upcoming),
        "busy_share": busy_minutes / max(1, open_minutes),
    }


def second_step(client, user) -> None:
    """The code after the password (team leads must give it): the
    authenticator app's code, typed on the code page."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    response = client.post("/anmelden/code/", {"code": code}, secure=True)
    if response.status_code != 302:
        raise RuntimeError(f"the second step failed for {user}: {response.status_code}")


def first_free(weeks):
    """The first day of a month plan a booking can begin (free, or partly
    for a common room) and, for a common room, its first free hours."""
    for week in weeks:
        for day in week:
            if day is not None and day.state in ("free", "partly"):
                return day
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=20, help="rooms besides the demo's two")
    parser.add_argument("--history", type=int, default=50_000, help="past bookings (3 years)")
    parser.add_argument("--months", type=float, default=6, help="booked ahead")
    parser.add_argument("--busy", type=float, default=0.5, help="share booked ahead")
    parser.add_argument("--runs", type=int, default=50, help="timed calls of (a)")
    parser.add_argument("--requests", type=int, default=100, help="timed requests a page")
    parser.add_argument("--bookings", type=int, default=50, help="room_book calls, (d)")
    parser.add_argument("--target", type=float, default=50.0, help="(a)'s median limit in ms")
    parser.add_argument("--statements", type=int, default=STATEMENTS, help="a page's limit")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite, temporary)")
    parser.add_argument("--json", help="where the figures go (default var/bench/rooms-<vendor>)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="rooms-", dir=ROOT / "var" / "bench"))
    rows: list[dict] = []
    problems: list[str] = []
    report: dict = {}
    try:
        database = prepare_database(args.database_url, workdir)
        # Django is set up by now (prepare_database).
        from django.conf import settings
        from django.db import connection, transaction
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from accounts.models import User
        from demo.cast import build_demo
        from rooms import plan
        from rooms.models import RoomBooking
        from rooms.selectors import busy_between, month_of, rules_for
        from rooms.services import RoomBookingError, room_book

        # A member may hold only a few bookings ahead; this books many for
        # the cast's members to measure booking, not the limit.
        settings.ROOMS_MAX_UPCOMING = 10**6

        rng = random.Random(args.seed)  # the same data every run
        started = time.perf_counter()
        with transaction.atomic():
            cast = build_demo(units_per_building=4)
            made = build(rng, args, cast)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
        built = time.perf_counter() - started
        vendor = connection.vendor
        rooms = made["rooms"]
        total = RoomBooking.objects.count()
        seeded = (
            f"{database}: {len(rooms)} rooms, {made['history']:,} past bookings, "
            f"{made['upcoming']:,} over the next {args.months:g} months "
            f"({made['busy_share']:.0%} booked), {total:,} bookings in all; built in {built:.1f} s"
        )
        print(seeded, flush=True)

        def record(key, label, wall, cpu, *, statements=None, **extra):
            rows.append(
                {
                    "key": key,
                    "label": label,
                    "runs": len(wall),
                    "median_ms": round(statistics.median(wall), 2),
                    "p95_ms": round(percentile(wall, 0.95), 2),
                    "cpu_median_ms": round(statistics.median(cpu), 2),
                    "per_second": round(len(wall) / (sum(wall) / 1000), 1) if sum(wall) else None,
                    "statements": statements,
                    **extra,
                }
            )
            print(f"  {label}: median {rows[-1]['median_ms']} ms", flush=True)

        # The rooms alice may book (not kept for another estate's residents).
        flat = next(r for r in rooms[2:] if r.by_night and not r.residents_only)
        hall = next(r for r in rooms[2:] if not r.by_night and not r.residents_only)
        now = timezone.now()
        next_month = (timezone.localdate(now).replace(day=1) + datetime.timedelta(days=32)).replace(
            day=1
        )

        # (a) the calendar's data
        calendar_medians = {}
        plans = {}
        for key, room in (("a_month_flat", flat), ("a_month_common", hall)):

            def read(room=room):
                return month_of(room, next_month.year, next_month.month, now=now)

            wall, cpu, weeks = timed(read, args.runs)
            with CaptureQueriesContext(connection) as captured:
                read()
            plans[room.pk] = weeks
            states = [day.state for week in weeks for day in week if day is not None]
            calendar_medians[key] = statistics.median(wall)
            record(
                key,
                f"(a) month_of {room.slug} {next_month:%Y-%m}",
                wall,
                cpu,
                statements=len(captured.captured_queries),
                free_days=states.count("free") + states.count("partly"),
                taken_days=states.count("taken"),
            )

        # (b), (c) the member's pages
        client = Client()
        client.force_login(cast.alice)

        def page(key, label, path, query=None, *, runs=args.requests):
            statuses: dict[int, int] = {}

            def get():
                response = client.get(path, query or {}, secure=True)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                return response

            wall, cpu, _ = timed(get, runs)
            with CaptureQueriesContext(connection) as captured:
                response = get()
            count = len(captured.captured_queries)
            record(key, label, wall, cpu, statements=count, statuses=statuses)
            if set(statuses) != {200}:
                problems.append(f"{label} answered {statuses}")
            if count > args.statements:
                problems.append(f"{label} ran {count} SQL statements (at most {args.statements})")
            return response

        month_query = {"monat": f"{next_month:%Y-%m}"}
        for kind, room in (("flat", flat), ("common", hall)):
            path = f"/raeume/{room.slug}/"
            page(f"b_room_{kind}", f"(b) GET {path}", path)
            page(
                f"b_room_{kind}_next", f"(b) GET {path}?monat={next_month:%Y-%m}", path, month_query
            )

        day = first_free(plans[flat.pk])
        if day is None:
            problems.append(f"no free stay in {flat.slug} in {next_month:%Y-%m}")
        else:
            stay = {
                "anreise": day.date.isoformat(),
                "abreise": (day.date + flat.min_units * ONE_DAY).isoformat(),
                "personen": "2",
            }
            path = f"/raeume/{flat.slug}/bestaetigen/"
            page("c_confirm_flat", f"(c) GET {path} ({flat.min_units} night(s))", path, stay)
        day = first_free(plans[hall.pk])
        if day is None:
            problems.append(f"no free hours in {hall.slug} in {next_month:%Y-%m}")
        else:
            start = day.free[0][0]
            hours = {
                "tag": day.date.isoformat(),
                "von": f"{start:%H:%M}",
                "bis": f"{start.hour + hall.min_units:02}:00",
                "personen": "10",
            }
            path = f"/raeume/{hall.slug}/bestaetigen/"
            page("c_confirm_common", f"(c) GET {path} ({hall.min_units} hour(s))", path, hours)

        # (d) booking, one after another, each at a time found free beforehand
        bookable = [r for r in rooms[2:] if not r.residents_only]
        flats = [r for r in bookable if r.by_night]
        halls = [r for r in bookable if not r.by_night]
        busy = {
            r.pk: busy_between(r, now, now + datetime.timedelta(days=r.horizon_days + 30))
            for r in bookable
        }

        def free_span(room):
            rules = rules_for(room)
            local = timezone.localdate(now)
            for _ in range(1000):
                day = local + datetime.timedelta(days=rng.randint(3, room.horizon_days - 20))
                if room.by_night:
                    nights = weighted(rng, NIGHTS, room.min_units, min(room.max_units, 4))
                    span = plan.stay(rules, day, day + nights * ONE_DAY)
                else:
                    length = weighted(rng, HOURS, room.min_units, room.max_units)
                    hour = rng.randint(room.opens.hour, room.closes.hour - length)
                    span = plan.hours(rules, day, datetime.time(hour), datetime.time(hour + length))
                try:
                    plan.bookable(rules, span, busy[room.pk], now)
                except plan.Refused:
                    continue
                busy[room.pk].append((span.starts, span.busy_until))
                return span
            raise RuntimeError(f"no free time found in {room.slug}")

        # Every other booking a guest apartment's stay, the others a common
        # room's hours, the rooms in turn; the last two (one of each kind)
        # have their statements counted and are not timed.
        turns = [flats, halls]
        picks = []
        for number in range(args.bookings + 2):
            kind = turns[number % 2]
            room = kind[(number // 2) % len(kind)]
            picks.append((room, free_span(room)))
        accounts = list(User.objects.filter(member__isnull=False).select_related("member"))
        failed = 0
        wall, cpu = [], []
        counts = {}

        def book(index, room, span):
            nonlocal failed
            user = accounts[index % len(accounts)]
            try:
                room_book(
                    room=room,
                    member=user.member,
                    span=span,
                    booked_by=user,
                    persons=min(2, room.capacity),
                    purpose="Bench",
                )
            except RoomBookingError as error:
                failed += 1
                problems.append(f"(d) {room.slug} {span.starts}: {error}")

        for index, (room, span) in enumerate(picks[: args.bookings]):
            start, start_cpu = time.perf_counter(), time.process_time()
            book(index, room, span)
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        for index, (room, span) in enumerate(picks[args.bookings :], start=args.bookings):
            with CaptureQueriesContext(connection) as captured:
                book(index, room, span)
            counts["flat" if room.by_night else "common"] = len(captured.captured_queries)
        record(
            "d_room_book",
            f"(d) room_book x{args.bookings} (stays and hours)",
            wall,
            cpu,
            statements=max(counts.values()) if counts else None,
            statements_flat=counts.get("flat"),
            statements_common=counts.get("common"),
            failed=failed,
        )

        # (e) the staff list
        upcoming = RoomBooking.objects.upcoming().count()
        staff = Client()
        staff.force_login(cast.tom)
        second_step(staff, cast.tom)
        statuses: dict[int, int] = {}

        def staff_list():
            response = staff.get("/bearbeitung/raeume/", secure=True)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            return response

        # The list is long: fewer requests than the member's pages.
        wall, cpu, response = timed(staff_list, max(1, args.requests // 5))
        with CaptureQueriesContext(connection) as captured:
            response = staff_list()
        count = len(captured.captured_queries)
        shown = response.content.decode().count('class="ticket-list__item"')
        record(
            "e_staff_list",
            "(e) GET /bearbeitung/raeume/ as tom",
            wall,
            cpu,
            statements=count,
            statuses=statuses,
            upcoming=upcoming,
            shown=shown,
            kilobytes=round(len(response.content) / 1024),
        )
        if set(statuses) != {200}:
            problems.append(f"(e) answered {statuses}")
        if count > args.statements:
            problems.append(f"(e) ran {count} SQL statements (at most {args.statements})")

        report = {
            "database": database,
            "vendor": vendor,
            "seed": {
                "rooms": len(rooms),
                "history": made["history"],
                "upcoming": made["upcoming"],
                "busy_share": round(made["busy_share"], 3),
                "bookings": total,
                "seconds": round(built, 1),
            },
            "target_ms": args.target,
            "statements_max": args.statements,
            "rows": rows,
        }
    finally:
        if "django" in sys.modules:
            drop_database(args.database_url)
        shutil.rmtree(workdir, ignore_errors=True)

    over = {key: value for key, value in calendar_medians.items() if value > args.target}
    report["calendar_over_target"] = sorted(over)
    report["problems"] = problems
    target = Path(args.json) if args.json else ROOT / "var" / "bench" / f"rooms-{vendor}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")

    print()
    print(seeded)
    print(f"{'workload':<64} {'median':>8} {'p95':>8} {'CPU':>8} {'/s':>8} {'SQL':>4}  notes")
    for row in rows:
        notes = ", ".join(f"{key} {value}" for key, value in row.items() if key not in PLAIN)
        print(
            f"{row['label']:<64} {row['median_ms']:>6.1f}ms {row['p95_ms']:>6.1f}ms "
            f"{row['cpu_median_ms']:>6.1f}ms {row['per_second'] or 0:>8.1f} "
            f"{row['statements'] if row['statements'] is not None else '-':>4}  {notes}"
        )
    for key, value in calendar_medians.items():
        verdict = "OVER TARGET" if key in over else "OK"
        print(f"target (a) {key} median {value:.1f} ms under {args.target:g} ms: {verdict}")
    pages = [r for r in rows if r["key"][0] in "bce"]
    worst = max((r["statements"] for r in pages), default=0)
    print(
        f"pages at most {args.statements} SQL statements: "
        f"{'OK' if worst <= args.statements else 'OVER'} (most {worst})"
    )
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"written to {target}")
    return 1 if over or problems else 0


if __name__ == "__main__":
    sys.exit(main())
