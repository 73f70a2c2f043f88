"""Appointments on the database (issue 13): the free-slot read, the
choose-a-time pages and booking, against a fresh database with years of
bookings — bench/appointment_slots.py times the pure slot function alone.

    .venv/bin/python bench/appointments_db.py [--advisors 20] [--weeks 8] [--busy 0.3]
                                              [--history 100000] [--runs 50] [--requests 200]
                                              [--bookings 50] [--target 50]
                                              [--database-url postgres://…/gp_bench_appt]
                                              [--seed 13]

The data (fixed seed): the test cast (demo.cast.build_demo with 4 units a
building) and the demo's topics and four advisors
(demo.appointments.appointments_demo_ensure), then --advisors more
advisors (staff, group handler) offering every demo topic, with realistic
weekly hours (bench/appointment_slots.py's: Mon–Thu 08:30–12:00 and
13:00–16:00, Fri 08:30–12:30, with personal variations), one of them on
holiday for two weeks, a day at another office for every fifth. Over the
next --weeks weeks about --busy of their hours are booked (booked, on each
topic's grid, the topic's buffer after); over the last three years
--history appointments (attended, some no-shows and cancellations), all
with bulk_create in chunks. No two of an advisor's bookings overlap: the
database refuses them (migration 0002). On SQLite its trigger looks at
every earlier appointment of the advisor for each new row (no index
helps it), so the history goes in with the triggers dropped, checked for
overlaps here instead, and the triggers are made again with 0002's own
statements; the upcoming bookings go in with them. PostgreSQL checks
every row (its exclusion constraint) and is analysed and vacuumed after
loading, as autovacuum would long have done.

Measured (after a warm-up; median and p95 of wall-clock time, and the
CPU time's median for a busy machine):

a. appointments.selectors.slots_free for the topic "vermietung" and the
   --advisors advisors from today over eight weeks: the data of "any
   advisor"'s days page, database read included; target: median under
   --target ms (issue 13: 50 ms for 20 advisors over 8 weeks);
b. appointments.selectors.days_and_times for one advisor and a chosen
   day (theirs with the most free times): the member's page with an
   advisor chosen;
c. the member's page GET /termine/neu/vermietung/?tag=<the day with the
   most free times> through django.test.Client as alice ("any advisor": every
   advisor offering the topic, the demo's two included), --requests
   requests: requests per second, median and p95;
d. appointments.services.appointment_book, one booking after another for
   --bookings free times found beforehand (one advisor each), then as
   many with advisor=None ("any advisor", fair turns): bookings per
   second. Each is a real booking: the lock, the checks, the row, the
   e-mail with its invite in the outbox and the reminder task queued.

Prints the SQL statements of one call of (a), one request of (c) and one
booking of each kind of (d) (CaptureQueriesContext). Default database:
SQLite in a temporary directory; with --database-url postgres://… that
database (its name must contain "bench") is dropped, created and dropped
again at the end. Exits 1 when (a)'s median is over --target or a page
does not answer 200."""

import argparse
import contextlib
import datetime
import importlib
import itertools
import math
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
from bench.appointment_slots import weekly_hours
from bench.member_pages import drop_database, prepare_database, stamps_as_given

TOPIC = "vermietung"
# Which topics the seeded bookings are of (slug: weight).
MIX = {
    "vermietung": 4,
    "nebenkosten": 3,
    "mitgliedschaft": 3,
    "sozialberatung": 1,
    "technik-vor-ort": 1,
}
FIRST_NAMES = ["Anna", "Jonas", "Mia", "Lukas", "Lea", "Felix", "Emma", "Paul", "Clara",
               "Elias", "Ida", "Noah", "Greta", "Moritz", "Frieda", "Karl", "Lotte", "Otto"]  # fmt: skip
LAST_NAMES = ["Schulz", "Becker", "Hoffmann", "Krüger", "Wolf", "Neumann", "Braun", "Zimmermann",
              "Hartmann", "Lange", "Krause", "Lehmann", "Köhler", "Richter", "Kaiser"]  # fmt: skip
HISTORY_YEARS = 3
CHUNK = 5_000
WARM_UP = 5
MINUTE = datetime.timedelta(minutes=1)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth; the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def minutes(value: datetime.time) -> int:
    return value.hour * 60 + value.minute


def place(rng: random.Random, ranges, topics: list) -> list[tuple[object, int]]:
    """(topic, start minute of the day) for `topics` in the day's ranges:
    spread at random, each start on its topic's grid (what the booking page
    offers: every duration from the range's start), each slot inside its
    range, buffered times never overlapping. Topics that do not fit are
    left out."""
    if not ranges or not topics:
        return []
    # each range gets topics in proportion to its length
    lengths = [minutes(end) - minutes(start) for start, end in ranges]
    share: dict[int, list] = {index: [] for index in range(len(ranges))}
    for topic in topics:
        share[rng.choices(range(len(ranges)), lengths)[0]].append(topic)
    placed = []
    cursor = None  # end of the previous buffered time, across ranges
    for index, (start, end) in enumerate(ranges):
        opens, closes = minutes(start), minutes(end)
        mine = share[index]
        rng.shuffle(mine)
        length = sum(t.buffer_before_minutes + t.duration_minutes + t.buffer_after_minutes
                     for t in mine)  # fmt: skip
        slack = max(0, closes - opens - length)
        # Sorted random offsets: the gaps before each topic add up to `slack` at most.
        offsets = sorted(rng.randint(0, slack) for _ in mine)
        before_me = 0
        for topic, offset in zip(mine, offsets, strict=True):
            earliest = opens + before_me + offset
            if cursor is not None:
                earliest = max(earliest, cursor)
            grid = topic.duration_minutes
            # the first grid point whose buffered start is at or after `earliest`
            steps = max(0, -((opens - earliest - topic.buffer_before_minutes) // grid))
            begins = opens + steps * grid
            if begins + topic.duration_minutes > closes:
                continue
            placed.append((topic, begins))
            cursor = begins + topic.duration_minutes + topic.buffer_after_minutes
            before_me += (topic.buffer_before_minutes + topic.duration_minutes
                          + topic.buffer_after_minutes)  # fmt: skip
    return placed


@contextlib.contextmanager
def overlap_triggers_off():
    """SQLite: migration 0002's overlap triggers dropped while loading the
    history and made again after with 0002's statements. PostgreSQL:
    nothing to do, its exclusion constraint checks each row through its
    GiST index."""
    # Django is set up by now (prepare_database).
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    no_overlap = importlib.import_module("appointments.migrations.0002_no_overlap")
    with connection.cursor() as cursor:
        for statement in no_overlap.SQLITE_BACK:
            cursor.execute(statement)
    yield
    with connection.cursor() as cursor:
        for statement in no_overlap.SQLITE:
            cursor.execute(statement)


def overlaps(rows) -> int:
    """How many of (advisor, status, busy from, busy until) overlap the one
    before them with the same advisor (buffered times, half-open; cancelled
    ones do not count), as the database would find them."""
    by_advisor: dict[int, list] = {}
    for advisor_id, status, busy_from, busy_until in rows:
        if status != "cancelled":
            by_advisor.setdefault(advisor_id, []).append((busy_from, busy_until))
    found = 0
    for intervals in by_advisor.values():
        intervals.sort()
        found += sum(
            1 for (_, until), (begins, _) in itertools.pairwise(intervals) if begins < until
        )
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)  # nearest rank
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed(call, runs: int) -> tuple[list[float], list[float], object]:
    """Wall-clock and CPU milliseconds of `runs` calls after a warm-up; the last result."""
    result = None
    for _ in range(min(WARM_UP, runs)):
        result = call()
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = call()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu, result


def figures(wall: list[float], cpu: list[float]) -> str:
    return (
        f"median {statistics.median(wall):.1f} ms, p95 {percentile(wall, 0.95):.1f} ms "
        f"(CPU median {statistics.median(cpu):.1f} ms)"
    )


def build(rng: random.Random, args, cast) -> dict:
    """The advisors, their hours and bookings; returns what was made."""
    # Django is set up by now (prepare_database).
    from django.utils import timezone

    from accounts import roles
    from appointments.models import (
        Advisor,
        Appointment,
        AppointmentType,
        AvailabilityOverride,
        WeeklyHours,
    )
    from appointments.selectors import calendar_current
    from demo.appointments import appointments_demo_ensure
    from demo.cast import staff_ensure
    from members.models import Member
    from routing.models import Absence

    appointments_demo_ensure(hanna=cast.hanna, tom=cast.tom)
    types = {t.slug: t for t in AppointmentType.objects.filter(slug__in=MIX)}
    zone = timezone.get_default_timezone()
    now = timezone.now()
    today = timezone.localdate()
    calendar = calendar_current()
    members = list(Member.objects.values_list("pk", flat=True))
    future_days = [today + datetime.timedelta(days=n) for n in range(args.weeks * 7)]

    advisors, plans = [], []
    for number in range(args.advisors):
        first = FIRST_NAMES[number % len(FIRST_NAMES)]
        last = LAST_NAMES[(number * 7) % len(LAST_NAMES)]
        user = staff_ensure(f"berater{number:02}@example.org", first, last, roles.HANDLER)
        advisor = Advisor.objects.create(user=user, room=f"Raum 2.{number:02}")
        advisor.types.set(types.values())
        hours = weekly_hours(rng)
        WeeklyHours.objects.bulk_create(
            WeeklyHours(advisor=advisor, weekday=day, starts=starts, ends=ends)
            for day, ranges in hours.items()
            for starts, ends in ranges
        )
        overrides: dict[datetime.date, tuple] = {}
        if number % 5 == 0:  # a day at the estate office: other hours
            day = rng.choice(future_days)
            overrides[day] = ((datetime.time(10), datetime.time(14)),)
            AvailabilityOverride.objects.create(
                advisor=advisor, date=day, starts=datetime.time(10), ends=datetime.time(14)
            )
        absent: set[datetime.date] = set()
        if number == 3:  # two weeks of holiday from the third week
            starts = today + datetime.timedelta(days=14)
            Absence.objects.create(
                user=user,
                kind=Absence.Kind.VACATION,
                starts=starts,
                ends=starts + datetime.timedelta(days=13),
            )
            absent = {starts + datetime.timedelta(days=n) for n in range(14)}
        advisors.append(advisor)
        plans.append((advisor, hours, overrides, absent))

    slugs, weights = list(MIX), list(MIX.values())
    mean_busy = sum(
        (t.buffer_before_minutes + t.duration_minutes + t.buffer_after_minutes) * MIX[slug]
        for slug, t in types.items()
    ) / sum(weights)

    def day_ranges(hours, overrides, day):
        return overrides.get(day, hours.get(day.weekday(), ()))

    def row(advisor, topic, day, begins, status) -> Appointment:
        starts_at = datetime.datetime.combine(day, datetime.time(), zone) + begins * MINUTE
        ends_at = starts_at + topic.duration
        due = starts_at - datetime.timedelta(hours=24)
        cancelled = status == Appointment.Status.CANCELLED
        made = min(now, starts_at) - datetime.timedelta(days=rng.uniform(1, 30))
        return Appointment(
            advisor=advisor,
            appointment_type=topic,
            member_id=rng.choice(members),
            booked_by=advisor.user,
            starts_at=starts_at,
            ends_at=ends_at,
            busy_from=starts_at - topic.buffer_before,
            busy_until=ends_at + topic.buffer_after,
            status=status,
            location_kind=topic.location_kind,
            reminder_due_at=due if status == Appointment.Status.BOOKED and due > now else None,
            reminder_sent_at=None
            if status in (Appointment.Status.BOOKED, Appointment.Status.CANCELLED)
            else due,
            cancelled_at=made + datetime.timedelta(hours=2) if cancelled else None,
            created_at=made,
            updated_at=made,
        )

    # The next weeks: about --busy of every advisor's open minutes.
    upcoming, open_minutes, busy_minutes = [], 0, 0
    for advisor, hours, overrides, absent in plans:
        for day in future_days:
            if day in absent or calendar.is_closed(day):
                continue
            ranges = day_ranges(hours, overrides, day)
            length = sum(minutes(end) - minutes(start) for start, end in ranges)
            open_minutes += length
            wanted = poisson(rng, args.busy * length / mean_busy)
            chosen = [types[slug] for slug in rng.choices(slugs, weights, k=wanted)]
            for topic, begins in place(rng, ranges, chosen):
                busy_minutes += topic.duration_minutes + topic.buffer_after_minutes
                upcoming.append(row(advisor, topic, day, begins, Appointment.Status.BOOKED))

    # The history: --history over the last three years, as evenly as they fit.
    past_days = [
        today - datetime.timedelta(days=n)
        for n in range(1, 365 * HISTORY_YEARS + 1)
        if not calendar.is_closed(today - datetime.timedelta(days=n))
    ]
    open_days = sum(
        1 for _a, hours, _o, _ab in plans for day in past_days if hours.get(day.weekday())
    )
    per_day = args.history / max(1, open_days)
    statuses = [Appointment.Status.ATTENDED, Appointment.Status.NO_SHOW,
                Appointment.Status.CANCELLED]  # fmt: skip
    history = 0
    checked: list[tuple] = []  # (advisor, status, busy_from, busy_until) of every row
    with stamps_as_given(Appointment), overlap_triggers_off():
        chunk: list[Appointment] = []
        for advisor, hours, _overrides, _absent in plans:
            owed = 0.0  # what did not fit moves on to the next day
            for day in reversed(past_days):
                ranges = hours.get(day.weekday(), ())
                if not ranges or history >= args.history:
                    continue
                wanted = min(poisson(rng, per_day + owed), args.history - history)
                chosen = [types[slug] for slug in rng.choices(slugs, weights, k=wanted)]
                placed = place(rng, ranges, chosen)
                owed = max(0.0, owed + per_day - len(placed))
                for topic, begins in placed:
                    status = rng.choices(statuses, [85, 5, 10])[0]
                    chunk.append(row(advisor, topic, day, begins, status))
                history += len(placed)
                if len(chunk) >= CHUNK:
                    Appointment.objects.bulk_create(chunk, batch_size=1000)
                    checked += [(r.advisor_id, r.status, r.busy_from, r.busy_until) for r in chunk]
                    chunk = []
        Appointment.objects.bulk_create(chunk, batch_size=1000)
        checked += [(r.advisor_id, r.status, r.busy_from, r.busy_until) for r in chunk]
    # The upcoming ones after the history, through the triggers (SQLite) or
    # the exclusion constraint (PostgreSQL), as every booking goes in.
    with stamps_as_given(Appointment):
        Appointment.objects.bulk_create(upcoming, batch_size=1000)
    checked += [(r.advisor_id, r.status, r.busy_from, r.busy_until) for r in upcoming]
    clashes = overlaps(checked)
    if clashes:
        raise RuntimeError(f"{clashes} seeded appointments overlap")
    return {
        "advisors": advisors,
        "upcoming": len(upcoming),
        "history": history,
        "busy_share": busy_minutes / max(1, open_minutes),
    }


def free_times(slots, count: int, rng: random.Random, taken: list) -> list:
    """`count` slots at random, each an hour from every one chosen before
    (`taken`, across both kinds of booking), so no booking stands in
    another's way."""
    pool = list(slots)
    rng.shuffle(pool)
    chosen = []
    for slot in pool:
        if len(chosen) == count:
            break
        if all(abs(slot.starts - other) >= datetime.timedelta(hours=1) for other in taken):
            chosen.append(slot)
            taken.append(slot.starts)
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--advisors", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=8, help="booked ahead")
    parser.add_argument("--busy", type=float, default=0.3, help="share of the hours booked")
    parser.add_argument("--history", type=int, default=100_000, help="past appointments")
    parser.add_argument("--runs", type=int, default=50, help="timed calls of (a) and (b)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests of (c)")
    parser.add_argument("--bookings", type=int, default=50, help="of each kind, (d)")
    parser.add_argument("--target", type=float, default=50.0, help="(a)'s median limit in ms")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite, temporary)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="genoportal-bench-appt-"))
    out: list[str] = []
    failed = False
    try:
        database = prepare_database(args.database_url, workdir)
        # Django is set up by now (prepare_database).
        from django.conf import settings
        from django.db import connection, transaction
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from accounts.models import User
        from appointments.models import Appointment, AppointmentType
        from appointments.selectors import advisors_for, days_and_times, slots_free
        from appointments.services import appointment_book
        from appointments.slots import any_advisor
        from demo.cast import build_demo

        # A member may hold only a few appointments ahead; this books many
        # for the cast's members to measure booking, not the limit.
        settings.APPOINTMENTS_MAX_UPCOMING = 10**6

        rng = random.Random(args.seed)  # the same data every run
        started = time.perf_counter()
        with transaction.atomic():
            cast = build_demo(units_per_building=4)
            made = build(rng, args, cast)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
        built = time.perf_counter() - started
        advisors = made["advisors"]
        topic = AppointmentType.objects.get(slug=TOPIC)
        today = timezone.localdate()
        last_day = today + datetime.timedelta(days=56)
        total = Appointment.objects.count()
        out.append(
            f"{database}: {len(advisors)} advisors, {made['upcoming']:,} bookings over "
            f"{args.weeks} weeks ({made['busy_share']:.0%} of the hours), {made['history']:,} "
            f"past ones, {total:,} appointments in all; built in {built:.1f} s"
        )

        # (a) the "any advisor" days page's data
        def any_days():
            return slots_free(
                appointment_type=topic, advisors=advisors, first_day=today, last_day=last_day
            )

        wall, cpu, slots = timed(any_days, args.runs)
        median_a = statistics.median(wall)
        with CaptureQueriesContext(connection) as read:
            any_days()
        out.append(
            f"(a) slots_free, {len(advisors)} advisors, {today}..{last_day}: "
            f"{figures(wall, cpu)}; {len(slots):,} free slots, "
            f"{len(read.captured_queries)} SQL statements; target median {args.target:.0f} ms"
        )

        # (b) one advisor's page with a day chosen
        one = advisors[0]
        own_days = Counter(timezone.localdate(s.starts) for s in slots if s.advisor_id == one.pk)
        # the day with the most free times: the longest list the page shows
        day_b = max(own_days, key=lambda day: (own_days[day], day)) if own_days else today
        wall, cpu, (_weeks, chosen_b, times_b) = timed(
            lambda: days_and_times(topic, [one], day_value=day_b.isoformat()), args.runs
        )
        out.append(
            f"(b) days_and_times, one advisor, day {day_b}: {figures(wall, cpu)}; "
            f"{len(times_b)} free times that day"
        )
        if chosen_b != day_b:
            out.append(f"FAIL: (b) did not show {day_b} as a day with free times")
            failed = True

        # (c) the member's page through the whole stack, "any advisor"
        any_slots = slots_free(
            appointment_type=topic,
            advisors=advisors_for(topic),
            first_day=today,
            last_day=last_day,
        )
        days = Counter(timezone.localdate(starts) for starts, _ids in any_advisor(any_slots))
        day_c = max(days, key=lambda day: (days[day], day)) if days else today
        client = Client()
        client.force_login(cast.alice)
        path = f"/termine/neu/{TOPIC}/"

        def page():
            return client.get(path, {"tag": day_c.isoformat()}, secure=True)

        statuses = Counter()
        for _ in range(WARM_UP):
            statuses[page().status_code] += 1
        wall = []
        begun = time.perf_counter()
        for _ in range(args.requests):
            start = time.perf_counter()
            statuses[page().status_code] += 1
            wall.append((time.perf_counter() - start) * 1000)
        seconds = time.perf_counter() - begun
        with CaptureQueriesContext(connection) as request:
            response = page()
        shown = response.content.decode().count('name="zeit"')
        out.append(
            f"(c) GET {path}?tag={day_c} as alice, {len(advisors_for(topic))} advisors: "
            f"{args.requests / seconds:.1f} requests/s, median {statistics.median(wall):.1f} ms, "
            f"p95 {percentile(wall, 0.95):.1f} ms; {len(request.captured_queries)} SQL statements, "
            f"{shown} free times shown; statuses "
            + ", ".join(f"{code} x{n}" for code, n in sorted(statuses.items()))
        )
        if set(statuses) != {200}:
            out.append("FAIL: (c) the page did not always answer 200")
            failed = True

        # (d) booking, one after another, each at a time found free beforehand
        accounts = list(User.objects.filter(member__isnull=False).select_related("member"))
        taken: list[datetime.datetime] = []
        by_id = {advisor.pk: advisor for advisor in advisors}
        for_one = free_times(slots, args.bookings + 1, rng, taken)
        for_any = free_times(
            [s for s in any_slots if s.advisor_id in by_id], args.bookings + 1, rng, taken
        )
        rates = []
        counts = []
        for label, picks, chosen_advisor in (
            ("with an advisor", for_one, lambda s: by_id[s.advisor_id]),
            ("any advisor", for_any, lambda s: None),
        ):
            booked = 0
            begun = time.perf_counter()
            for index, slot in enumerate(picks[:-1]):
                user = accounts[index % len(accounts)]
                appointment_book(
                    member=user.member,
                    appointment_type=topic,
                    starts_at=slot.starts,
                    booked_by=user,
                    advisor=chosen_advisor(slot),
                )
                booked += 1
            seconds = time.perf_counter() - begun
            with CaptureQueriesContext(connection) as booking:
                if picks:
                    slot = picks[-1]
                    appointment_book(
                        member=cast.alice.member,
                        appointment_type=topic,
                        starts_at=slot.starts,
                        booked_by=cast.alice,
                        advisor=chosen_advisor(slot),
                    )
            rate = booked / seconds if seconds else 0.0
            rates.append(rate)
            counts.append(len(booking.captured_queries))
            out.append(
                f"(d) appointment_book {label}: {booked} bookings in {seconds:.2f} s = "
                f"{rate:.1f} bookings/s; {len(booking.captured_queries)} SQL statements for one"
            )
        times = len(any_advisor(any_slots))
        out.append(
            f"({len(any_slots):,} free slots at {times:,} times for any advisor on the page)"
        )
    finally:
        if "django" in sys.modules:
            drop_database(args.database_url)
        shutil.rmtree(workdir, ignore_errors=True)

    print("\n".join(out))
    over = median_a > args.target
    print(f"target (a) median {args.target:.0f} ms: {'OVER TARGET' if over else 'OK'}")
    return 1 if over or failed else 0


if __name__ == "__main__":
    sys.exit(main())
