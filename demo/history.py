"""The demo cooperative's last half year (issue 14: in `make demo` the
team leads' overview explains the last 90 days): requests and
consultations as they would have come and gone, so /bearbeitung/ueberblick/
has something to show in each of its parts.

* About ten requests a working day (Mondays most), two or three on a
  weekend day, most in the morning; phone and counter within opening
  hours. From members of the generated stock — never the test cast nor
  anyone who had an account before: alice, bob and dave see what they saw
  before. Some of those members use the portal; an account is made for
  them (without a password: no login to hand out).
* Routed as the live rules decide (routing.decide with the staff of the
  day, taking turns and counting open work as it goes), priority raised by
  the answers as tickets.route does, the deadlines of the SLA policy in the
  office's working time.
* Each one lived through to today: a first reply after hours or days,
  sometimes a question to the member (the deadlines pause), most resolved,
  a few reopened, some rated; calls settled at once, a few withdrawn; what
  is not done yet is open, with its deadline warnings and breaches
  recorded as the escalation timer would have (routing_escalate sends
  nothing for them afterwards).
* Half a year, not 90 days: the focal points compare a period with the one
  before it. One stands out: Wohnanlage Süd's service-charge statements
  went out four weeks ago with a heating-cost error, questions pile up at
  Rechnungswesen, and the answers come late.
* Past consultations of the demo advisors over the last 90 days: held,
  some missed, some cancelled, within each advisor's hours and never
  overlapping (appointments.slots, as for a booking; the database checks).

The incident detector reads the open requests of its last two windows
(incidents.services.incidents_detect): a history request received then is
open only if it is the one open request of its building and the building
is neither the cast's nor the planted outage's (demo.incidents), so
`manage.py incidents_detect` proposes that outage and nothing else.

Written straight to the tables (demo.bulk): the moments they happened, and
through no service, so nobody is e-mailed and no task is queued. Planted
once: the first event of each of these requests carries MARK. A fixed seed
and dates counted back from today: the same history for the same day."""

import dataclasses
import datetime
import heapq
import json
import random
import uuid
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from appointments.models import Advisor, Appointment, LocationKind
from appointments.selectors import availability_for
from appointments.selectors import calendar_current as consultation_calendar
from appointments.slots import Rules, free_slots
from cooperative.cache import cooperative_current
from cooperative.models import Building, Estate
from core.request_cache import request_scope
from demo import texts
from demo.bulk import Json, Table
from demo.cast import Cast
from demo.incidents import NUMBER as OUTAGE_NUMBER
from demo.incidents import STREET as OUTAGE_STREET
from members.models import Contract, ContractMember, Member
from routing import sla
from routing.decide import LEAST_OPEN, ROUND_ROBIN, Facts, decide, normalise
from routing.models import Absence, Priority, SlaPolicy, Team
from routing.services import rules_active, staff_state
from tickets.models import (
    Channel,
    FieldKind,
    ReferenceCounter,
    RequestType,
    Status,
    Ticket,
    TicketEvent,
    TicketVisit,
)
from tickets.route import fallback_for, priority_raised

SEED = 1414
DAYS = 180  # of requests: the overview's 90 days and the 90 before them
CONSULTATION_DAYS = 90
# Requests a day (Monday = 0); holidays and closing days like a Sunday.
PER_DAY = {0: 14, 1: 12, 2: 11, 3: 11, 4: 9, 5: 3, 6: 2}
ACCOUNT_SHARE = 0.5  # of the members, who file through the portal
ACCOUNT_DOMAIN = "mitglieder.example.org"
MARK = "history"  # TicketEvent.data["demo"] of each planted request's first event
# Portal and e-mail by the hour of the day: mornings most, evenings too.
HOURS = [1, 1, 0, 0, 0, 1, 3, 8, 12, 12, 10, 9, 7, 7, 7, 6, 6, 6, 7, 8, 7, 5, 3, 2]
FRONT_DESK = "Mitgliederwesen"  # who takes the calls and the post
# Median hours of working time to the first reply, by team.
FIRST_REPLY = {
    "Technik": 2.5,
    "Mitgliederwesen": 3,
    "Vermietung": 5,
    "Hausverwaltung": 6,
    "Rechnungswesen": 6,
}
# Median working days from the first reply to "resolved", by form.
WORK_DAYS = {
    "schadensmeldung": 2.5,
    "zaehlerstand": 0.8,
    "nebenkosten": 3.5,
    "allgemein": 1.5,
    "schluessel": 2,
    "genehmigung": 3,
    "mitgliedsbescheinigung": 0.6,
    "parkplatz": 3,
    "gaestewohnung": 1,
    "bankverbindung": 0.6,
    "wohnungswechsel": 3.5,
    "adressaenderung": 0.5,
    "namensaenderung": 0.7,
    "kuendigung": 2.5,
}
WORKING_DAY = 6.6  # hours: the demo office's 33 hours a week
# What a call or a visit at the counter settles at once, now and then.
AT_ONCE = {"allgemein", "mitgliedsbescheinigung", "zaehlerstand", "adressaenderung", "schluessel"}


@dataclass(frozen=True)
class Focus:
    """The focal point: questions about one form in one estate, extra on
    each working day of a stretch of days (counted back from today)."""

    slug: str = "nebenkosten"
    estate_number: str = "WA-02"  # Wohnanlage Süd
    first_day_back: int = 27
    last_day_back: int = 3
    per_day: float = 3.0
    # The team the form goes to answers everything this much later since.
    team: str = "Rechnungswesen"
    slower: float = 2.5
    questions: tuple[str, ...] = (
        "Die Nachzahlung für die Heizkosten ist fast doppelt so hoch wie im letzten Jahr. "
        "Stimmt da etwas nicht?",
        "In unserer Abrechnung steht ein Heizverbrauch, den wir nie hatten. Bitte prüfen Sie das.",
        "Die Nachbarn im Haus haben auch eine sehr hohe Nachzahlung. Wurden die Zähler richtig "
        "abgelesen?",
        "Ich kann die Nachzahlung von über 600 Euro nicht auf einmal bezahlen. Geht eine "
        "Ratenzahlung?",
        "Warum sind die Heizkosten so gestiegen? Wir haben weniger geheizt als im Vorjahr.",
    )
    reply: str = (
        "Vielen Dank für Ihre Nachricht. Bei den Heizkosten der Südallee prüfen wir gerade mit "
        "dem Messdienst die Ablesewerte. Bitte zahlen Sie die Nachzahlung noch nicht; wir melden "
        "uns mit einer korrigierten Abrechnung."
    )


FOCUS = Focus()


@dataclass(frozen=True)
class Home:
    """A member who may file, and the flat a request is about."""

    member_id: int
    name: str
    account_id: int | None
    unit_id: int
    building_id: int
    estate_id: int


@dataclass
class Filed:
    """One request as it came in, and what became of it."""

    created: datetime.datetime
    home: Home
    kind: RequestType
    channel: str
    focus: bool = False
    answers: dict = field(default_factory=dict)
    row: dict = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    visits: list[dict] = field(default_factory=list)


def history_demo_ensure(cast: Cast, *, now: datetime.datetime | None = None) -> dict[str, int]:
    """Plant the history once (see the module docstring); returns what was
    made, nothing when it is there already."""
    if TicketEvent.objects.filter(kind=TicketEvent.Kind.OPENED, data__demo=MARK).exists():
        return {}
    now = now or timezone.now()
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
    # One scope: the rules, the calendar and the cooperative are read once.
    with transaction.atomic(), request_scope():
        homes = _homes(cast, rng)
        world = _World(rng, now, cast)
        filed = [
            request
            for request in _filed(rng, homes, world)
            if world.lived(request)  # false: left out (see _Detector)
        ]
        counts = _written(filed, world)
        counts["appointments"] = _consultations(rng, homes, now)
        counts["accounts"] = sum(1 for home in homes if home.account_id)
    return counts


# --- who files ------------------------------------------------------------------------


def _homes(cast: Cast, rng: random.Random) -> list[Home]:
    """The members living in the stock today, but none of a flat where
    someone already has an account (the cast's); a share of them get a
    portal account."""
    rows = list(
        ContractMember.objects.filter(contract__in=Contract.objects.current())
        .order_by("member__member_number")
        .values_list(
            "member_id",
            "member__member_number",
            "member__first_name",
            "member__last_name",
            "contract__unit_id",
            "contract__unit__building_id",
            "contract__unit__building__estate_id",
        )
    )
    with_account = set(User.objects.filter(member__isnull=False).values_list("member", flat=True))
    with_account |= {cast.alice.member_id, cast.bob.member_id, cast.dave.member_id}
    taken = {unit for member, _n, _f, _l, unit, _b, _e in rows if member in with_account}
    # The outage's callers (demo.incidents) are filed after the history:
    # with an account each would be e-mailed a confirmation, which the
    # demo did not do before.
    offline = set(
        Building.objects.filter(street=OUTAGE_STREET, house_number=OUTAGE_NUMBER).values_list(
            "pk", flat=True
        )
    )
    password = make_password(None)  # unusable: these accounts are no demo logins
    homes, accounts = [], {}
    for member, number, first, last, unit, building, estate in rows:
        if unit in taken:
            continue
        if rng.random() < ACCOUNT_SHARE and building not in offline:
            accounts[member] = User(
                email=f"m{number}@{ACCOUNT_DOMAIN}", member_id=member, password=password
            )
        homes.append(Home(member, f"{first} {last}", None, unit, building, estate))
    User.objects.bulk_create(accounts.values())
    Member.objects.bulk_update(
        [Member(pk=member, email=user.email) for member, user in accounts.items()], ["email"]
    )
    return [
        dataclasses.replace(home, account_id=accounts[home.member_id].pk)
        if home.member_id in accounts
        else home
        for home in homes
    ]


def _pick(rng: random.Random, items: list, cumulative: list[float]):
    return items[bisect_right(cumulative, rng.random() * cumulative[-1])]


def _filed(rng: random.Random, homes: list[Home], world: "_World") -> list[Filed]:
    """Who filed which form when and how, in the order filed."""
    kinds = [
        k
        for k in RequestType.objects.filter(active=True).select_related("default_team")
        if k.slug in texts.TYPE_WEIGHTS
    ]
    kinds.sort(key=lambda k: k.slug)
    kind_weights = list(accumulate(texts.TYPE_WEIGHTS[k.slug] for k in kinds))
    # Some households write often, most seldom.
    activity = [rng.lognormvariate(0, 0.6) for _ in homes]
    everyone = list(accumulate(activity))
    online = [h for h in homes if h.account_id]
    online_weights = list(
        accumulate(a for a, h in zip(activity, homes, strict=True) if h.account_id)
    )
    focus_estate = set(
        Estate.objects.filter(number=FOCUS.estate_number).values_list("pk", flat=True)
    )
    focus_homes = [h for h in homes if h.estate_id in focus_estate]
    focus_kind = next((k for k in kinds if k.slug == FOCUS.slug), None)
    today = world.today
    filed = []
    for back in range(DAYS - 1, -1, -1):
        day = today - datetime.timedelta(days=back)
        spans = world.work.intervals(day)  # none at weekends, on holidays and closing days
        # A holiday on a weekday is as quiet as a Sunday.
        mean = PER_DAY[day.weekday()] if spans or day.weekday() >= 5 else PER_DAY[6]
        count = max(0, round(rng.gauss(mean, mean**0.5 * 0.7)))
        for _ in range(count):
            # The office is closed: only the portal and e-mail take requests.
            home = _pick(rng, homes, everyone) if spans else _pick(rng, online, online_weights)
            channel = _channel(rng, home, bool(spans))
            kind = _pick(rng, kinds, kind_weights)
            filed.append(Filed(_moment(rng, day, channel, spans, world), home, kind, channel))
        surge = FOCUS.last_day_back <= back <= FOCUS.first_day_back
        if focus_kind and focus_homes and spans and surge:
            for _ in range(max(0, round(rng.gauss(FOCUS.per_day, 1)))):
                home = rng.choice(focus_homes)
                channel = _channel(rng, home, True)
                moment = _moment(rng, day, channel, spans, world)
                filed.append(Filed(moment, home, focus_kind, channel, focus=True))
    limit = world.now - datetime.timedelta(minutes=5)
    filed = [request for request in filed if request.created < limit]
    filed.sort(key=lambda request: request.created)
    return filed


def _channel(rng: random.Random, home: Home, office_open: bool) -> str:
    if not office_open:
        return rng.choices([Channel.PORTAL, Channel.EMAIL], [80, 20])[0]
    if home.account_id:
        return rng.choices(
            [Channel.PORTAL, Channel.EMAIL, Channel.PHONE, Channel.COUNTER], [62, 20, 14, 4]
        )[0]
    # Without an account: e-mail from an unknown address would wait in
    # triage; these members call, come by or write a letter.
    return rng.choices([Channel.PHONE, Channel.COUNTER, Channel.LETTER], [75, 12, 13])[0]


def _moment(rng, day: datetime.date, channel: str, spans, world: "_World") -> datetime.datetime:
    """When on `day`: calls and visits within opening hours (the first
    hours busiest), the post in the morning, the rest by HOURS."""
    if channel in (Channel.PHONE, Channel.COUNTER, Channel.LETTER):
        opens, closes = rng.choice(spans)
        if channel == Channel.LETTER:
            return opens + datetime.timedelta(minutes=rng.uniform(10, 90))
        return opens + (closes - opens) * rng.betavariate(1.3, 2.2)
    hour = rng.choices(range(24), HOURS)[0]
    clock = datetime.time(hour, rng.randint(0, 59), rng.randint(0, 59))
    return datetime.datetime.combine(day, clock, tzinfo=world.zone)


# --- routing and the life of a request -----------------------------------------------


class _World:
    """What the history is decided by: the live rules and staff (taking
    turns and counting open work as the requests come in), the SLA
    policies and the office's working time, and the detector's window."""

    def __init__(self, rng: random.Random, now: datetime.datetime, cast: Cast):
        self.rng, self.now = rng, now
        self.zone = timezone.get_current_timezone()
        self.today = now.astimezone(self.zone).date()
        self.work = sla.calendar_current()
        self.rules = rules_active()
        self.rule_strategy = {rule.id: rule.strategy for rule in self.rules}
        self.standing = staff_state(today=self.today, open_counts={})
        self.absences = list(
            Absence.objects.values_list("user_id", "starts", "ends", "substitute_id")
        )
        self.last: dict[int, int | None] = {}  # team -> whose turn it was
        self.open: Counter[int] = Counter()  # handler -> open requests
        self.finishing: list[tuple[datetime.datetime, int]] = []  # (done at, handler)
        self.policies = {p.pk: p for p in SlaPolicy.objects.all()}
        self.teams = {t.pk: t.name for t in Team.objects.all()}
        front = Team.objects.filter(name=FRONT_DESK).first()
        self.front_desk = sorted(self.standing.team_members.get(front.pk, ())) if front else []
        self.snapshots = {}
        self.detector = _Detector(now, cast)

    def snapshot(self, kind: RequestType) -> tuple[list[dict], Json, set[str]]:
        if kind.pk not in self.snapshots:
            definitions = kind.snapshot()
            files = {d["key"] for d in definitions if d["kind"] == FieldKind.FILE}
            self.snapshots[kind.pk] = (definitions, Json(json.dumps(definitions)), files)
        return self.snapshots[kind.pk]

    def absent_on(self, moment: datetime.datetime) -> dict[int, int | None]:
        day = moment.astimezone(self.zone).date()
        return {user: sub for user, starts, ends, sub in self.absences if starts <= day <= ends}

    def staff_on(self, moment: datetime.datetime):
        """The staff as routing saw them at `moment` (requests come in
        order: what was finished by then no longer counts as open work)."""
        while self.finishing and self.finishing[0][0] <= moment:
            _done, handler = heapq.heappop(self.finishing)
            self.open[handler] -= 1
        return dataclasses.replace(
            self.standing,
            absent=self.absent_on(moment),
            open_counts=dict(self.open),
            last_assignee=self.last,
        )

    def present(self, team_id: int | None, moment: datetime.datetime) -> list[int]:
        """Who of the team is at work at `moment` (else the front desk)."""
        absent = self.absent_on(moment)
        people = sorted(self.standing.team_members.get(team_id, ())) if team_id else []
        return [p for p in people if p not in absent] or self.front_desk

    def lived(self, request: Filed) -> bool:
        """Route the request, live it to today; False when it is left out
        (an open one the detector could take for part of an outage)."""
        rng = self.rng
        definitions, snapshot_text, files = self.snapshot(request.kind)
        answers = texts.answers_for(
            rng,
            definitions,
            request.kind.slug,
            request.created.astimezone(self.zone),
            request.home.name,
            PLACES,
        )
        if request.focus and "question" in answers:
            answers["question"] = rng.choice(FOCUS.questions)
        request.answers = {k: v for k, v in answers.items() if k not in files}
        staff = self.staff_on(request.created)
        facts = Facts(
            request_type_id=request.kind.pk,
            category=request.kind.category,
            estate_id=request.home.estate_id,
            building_id=request.home.building_id,
            channel=request.channel,
            answers=request.answers,
            text=normalise(Ticket(answers=request.answers).answers_text()),
        )
        decision = decide(facts, self.rules, staff, fallback_for(request.kind))
        reason = dict(decision.reason)
        priority, policy_id = priority_raised(
            definitions=definitions, answers=request.answers, decision=decision, reason=reason
        )
        policy = self.policies.get(policy_id)
        life = _Life(self, request, decision.team_id, decision.handler_id, priority, policy)
        life.run(rng, reason=reason)
        if life.open and not self.detector.allows(request):
            return False
        # As routing.services.route_decide: the team's turn moves on.
        taking_turns = self.rule_strategy.get(decision.rule_id) in (ROUND_ROBIN, LEAST_OPEN)
        if taking_turns and decision.handler_id is not None:
            self.last[decision.team_id] = decision.handler_id
        if life.handler is not None:
            self.open[life.handler] += 1
            done = life.finished or datetime.datetime.max.replace(tzinfo=datetime.UTC)
            heapq.heappush(self.finishing, (done, life.handler))
        request.row = life.row(snapshot_text)
        request.events = sorted(life.events, key=lambda e: e["created_at"])
        request.visits = life.visits(rng)
        return True


class _Detector:
    """The incident detector's view (incidents.services.incidents_detect:
    open requests about a flat of its last two windows, clustered per
    building, at least INCIDENT_MIN_REPORTS of them): of the history, at
    most one such request a building, none in the buildings of the cast or
    of the planted outage."""

    def __init__(self, now: datetime.datetime, cast: Cast):
        self.since = now - datetime.timedelta(hours=2 * settings.INCIDENT_WINDOW_HOURS + 1)
        outage = Building.objects.filter(street=OUTAGE_STREET, house_number=OUTAGE_NUMBER)
        members = [cast.alice.member_id, cast.bob.member_id, cast.dave.member_id]
        homes = Contract.objects.current().filter(members__in=members)
        recent = Ticket.objects.open().filter(created_at__gte=self.since, unit__isnull=False)
        self.taken = (
            set(outage.values_list("pk", flat=True))
            | set(homes.values_list("unit__building", flat=True))
            | set(recent.values_list("unit__building", flat=True))
        )

    def allows(self, request: Filed) -> bool:
        """Whether `request`, open today, may stay in the history."""
        if request.created < self.since:
            return True
        if request.home.building_id in self.taken:
            return False
        self.taken.add(request.home.building_id)
        return True


PLACES = [("Nord", ["Nordring"]), ("Süd", ["Südallee"]), ("am Park", ["Parkweg"])]


def _hours(value: float) -> datetime.timedelta:
    return datetime.timedelta(hours=value)


class _Life:
    """One request from receipt to today: its events, its fields, open or
    not. Office work happens in working time, members write at any hour."""

    def __init__(self, world: _World, request: Filed, team_id, handler, priority, policy):
        self.world, self.request = world, request
        self.team_id, self.handler = team_id, handler
        self.priority, self.policy = priority, policy
        self.limit = world.now - datetime.timedelta(minutes=1)
        self.clock = sla.calendar_for(policy) if policy else world.work
        self.moments = (
            sla.targets(policy=policy, start=request.created, calendar=self.clock)
            if policy
            else dict.fromkeys(sla.SLA_FIELDS)
        )
        self.events: list[dict] = []
        self.status = Status.RECEIVED
        self.first_response = self.resolved = self.closed = self.paused = None
        self.finished: datetime.datetime | None = None
        self.office_at: datetime.datetime | None = None
        self.member_at = request.created
        self.rating, self.comment = None, ""
        # When the request was open and its clock running (the escalation
        # timer looks only then): [start, end), end None = still.
        self.running: list[list] = [[request.created, None]]

    @property
    def open(self) -> bool:
        return self.status not in (Status.RESOLVED, Status.CLOSED, Status.WITHDRAWN)

    @property
    def emergency(self) -> bool:
        return self.priority == Priority.EMERGENCY

    def event(self, kind, at, *, actor, public=True, body="", data=None) -> None:
        self.events.append(
            {
                "kind": kind,
                "public": public,
                "actor_id": actor,
                "body": body,
                "data": data or {},
                "created_at": at,
            }
        )

    def status_to(self, status: str, at, *, actor, body="") -> None:
        self.event(
            TicketEvent.Kind.STATUS, at, actor=actor, body=body,
            data={"from": self.status, "to": status},
        )  # fmt: skip
        self.status = status
        if status in (Status.WAITING, Status.RESOLVED, Status.CLOSED, Status.WITHDRAWN):
            self.running[-1][1] = at
        elif self.running[-1][1] is not None:
            self.running.append([at, None])

    def office(self, start: datetime.datetime, hours: float) -> datetime.datetime:
        """`hours` of the office's time after `start` (around the clock for
        an emergency: the on-call service)."""
        if self.emergency:
            return start + _hours(hours / 6)
        return self.world.work.add(start=start, duration=_hours(hours))

    def run(self, rng: random.Random, *, reason: dict) -> None:
        request, world = self.request, self.world
        created, account = request.created, request.home.account_id
        team = world.teams.get(self.team_id, "")
        desk = rng.choice(world.front_desk) if world.front_desk else self.handler
        online = request.channel in (Channel.PORTAL, Channel.EMAIL)
        taken_by = account if online else desk or self.handler
        self.created_by, self.reason = taken_by, reason
        self.event(
            TicketEvent.Kind.OPENED, created, actor=taken_by,
            data={"channel": request.channel, "team": team, "reason": reason, "demo": MARK},
        )  # fmt: skip
        slug = request.kind.slug
        if (
            request.channel in (Channel.PHONE, Channel.COUNTER)
            and slug in AT_ONCE
            and rng.random() < 0.35
        ):
            # Settled during the call (tickets.services.ticket_log_call).
            at = created + datetime.timedelta(seconds=rng.randint(30, 400))
            if at < self.limit:
                body = rng.choice(texts.SOLVED_NOTES)
                self.event(TicketEvent.Kind.NOTE, at, actor=taken_by, public=False, body=body)
                self.status_to(Status.CLOSED, at, actor=taken_by)
                # Settled on the phone: answered, resolved and closed at once.
                self.first_response = self.office_at = at
                self.resolved = self.closed = self.finished = at
                return
        # An urgent request is taken up and done sooner.
        hurry = 0.3 if self.priority == Priority.URGENT else 1.0
        slower = FOCUS.slower if self._focus_team(team) else 1.0
        median = FIRST_REPLY.get(team, 4) * slower * hurry
        first = self.office(created, rng.lognormvariate(0, 0.8) * median)
        if account and rng.random() < 0.04:
            gone = created + _hours(rng.lognormvariate(3, 1))
            if gone < first and gone < self.limit:
                body = rng.choice(texts.WITHDRAW_REASONS)
                self.status_to(Status.WITHDRAWN, gone, actor=account, body=body)
                self.member_at = self.finished = gone
                return
        if first > self.limit:
            return
        if self.handler is None:
            # A team's queue: whoever answers first takes it.
            self.handler = rng.choice(world.present(self.team_id, first))
            self.event(
                TicketEvent.Kind.ASSIGNED, first, actor=self.handler, public=False,
                data={"from": {"team": team, "assignee": ""},
                      "to": {"team": team, "assignee": world.standing.names.get(self.handler, "")}},
            )  # fmt: skip
        self.event(TicketEvent.Kind.REPLY, first, actor=self.handler, body=self._reply(rng))
        self.status_to(Status.IN_PROGRESS, first, actor=self.handler)
        self.first_response = self.office_at = moment = first
        if rng.random() < 0.2:
            noted = self.office(moment, rng.uniform(0.3, 4))
            if noted > self.limit:
                return
            body = _filled(rng, texts.NOTES)
            self.event(TicketEvent.Kind.NOTE, noted, actor=self.handler, public=False, body=body)
            moment = noted
        if rng.random() < 0.15:
            moment = self._question(rng, moment)
            if moment is None:
                return
        days = rng.lognormvariate(0, 0.8) * WORK_DAYS.get(slug, 2) * hurry
        if rng.random() < 0.02:
            days *= 6  # waiting for a part, a firm, a decision
        done = self.office(moment, days * WORKING_DAY)
        if done > self.limit:
            return
        self._resolve(rng, done)
        if account and rng.random() < 0.06:
            self._reopen(rng, done)
        if self.status == Status.RESOLVED and account and rng.random() < 0.3:
            self._rate(rng)

    def _focus_team(self, team: str) -> bool:
        """The focal point's team, since the questions began to pile up."""
        back = (self.world.today - self.request.created.astimezone(self.world.zone).date()).days
        return team == FOCUS.team and back <= FOCUS.first_day_back

    def _reply(self, rng: random.Random) -> str:
        if self.request.focus:
            return FOCUS.reply
        slug = self.request.kind.slug
        return _filled(
            rng, texts.REPAIR_REPLIES if slug == "schadensmeldung" else texts.OFFICE_REPLIES
        )

    def _question(self, rng: random.Random, moment: datetime.datetime):
        """A question to the member; the deadlines stand still until the
        answer. The moment work goes on, or None: still waiting today."""
        asked = self.office(moment, rng.lognormvariate(0, 0.8) * 2)
        if asked > self.limit:
            return None
        self.event(
            TicketEvent.Kind.REPLY, asked, actor=self.handler, body=rng.choice(texts.QUESTIONS)
        )
        self.status_to(Status.WAITING, asked, actor=self.handler)
        self.office_at = self.paused = asked
        account = self.request.home.account_id
        if rng.random() < 0.06:
            return None  # never answered
        if account:
            answered = asked + _hours(rng.lognormvariate(0, 1) * 18)
        else:
            answered = self.office(asked, rng.lognormvariate(0, 0.8) * 6)
        if answered > self.limit:
            return None
        if account:
            body = rng.choice(texts.ANSWERS)
            self.event(TicketEvent.Kind.MEMBER_REPLY, answered, actor=account, body=body)
            self.status_to(Status.IN_PROGRESS, answered, actor=account)
            self.member_at = answered
        else:
            body = rng.choice(texts.CALLED_BACK)
            self.event(TicketEvent.Kind.NOTE, answered, actor=self.handler, public=False, body=body)
            self.status_to(Status.IN_PROGRESS, answered, actor=self.handler)
            self.office_at = answered
        # As tickets.services._status_set: the deadlines move on by the pause.
        moments = _Moments(**self.moments)
        sla.moved_on(moments, paused_at=asked, now=answered, calendar=self.clock)
        self.moments = dataclasses.asdict(moments)
        self.paused = None
        return answered

    def _resolve(self, rng: random.Random, done: datetime.datetime) -> None:
        if rng.random() < 0.5:
            body = rng.choice(texts.DONE_REPLIES)
            self.event(TicketEvent.Kind.REPLY, done, actor=self.handler, body=body)
        self.status_to(Status.RESOLVED, done, actor=self.handler)
        self.resolved = self.finished = self.office_at = done

    def _reopen(self, rng: random.Random, done: datetime.datetime) -> None:
        """Within the two weeks a member may (Ticket.can_be_reopened)."""
        again = done + _hours(rng.lognormvariate(0, 0.9) * 30)
        if again > min(self.limit, done + datetime.timedelta(days=13)):
            return
        account = self.request.home.account_id
        body = rng.choice(texts.REOPEN_REASONS)
        self.event(TicketEvent.Kind.MEMBER_REPLY, again, actor=account, body=body)
        self.status_to(Status.IN_PROGRESS, again, actor=account)
        self.member_at, self.resolved, self.finished = again, None, None
        second = self.office(again, rng.lognormvariate(0, 0.8) * 10)
        if second <= self.limit:
            self._resolve(rng, second)

    def _rate(self, rng: random.Random) -> None:
        late = self._fired("due_at", self.finished) or self._fired(
            "first_response_due_at", self.first_response
        )
        weights = [15, 20, 30, 25, 10] if late else [2, 3, 10, 35, 50]
        self.rating = rng.choices([1, 2, 3, 4, 5], weights)[0]
        self.comment = rng.choice(texts.RATING_COMMENTS)

    def _fired(self, name: str, until: datetime.datetime | None) -> datetime.datetime | None:
        """When the escalation timer (tickets.escalation, every minute)
        recorded the step of moment `name`: the first moment from it on
        that the request was open with its clock running, before `until`
        (the first response, for its steps) and today."""
        moment = self.moments.get(name)
        if moment is None:
            return None
        end_of_all = min(until or self.world.now, self.world.now)
        for start, end in self.running:
            end = min(end or self.world.now, end_of_all)
            at = max(moment, start)
            if at < end or (at == end and end == self.world.now):
                return at
        return None

    def row(self, snapshot: Json) -> dict:
        """The ticket's fields, and the escalation's marks as its events."""
        request, created = self.request, self.request.created
        fired = {}
        for step, moment, done, kind in ESCALATION:
            until = self.first_response if step.startswith("first") else None
            at = self._fired(moment, until)
            fired[done] = at
            deadline_name = "first_response_due_at" if step.startswith("first") else "due_at"
            deadline = self.moments[deadline_name]
            if at is not None and not (kind == "warn" and deadline <= at):
                self.event(
                    TicketEvent.Kind.ESCALATED, at, actor=None, public=False,
                    data={"step": step, "deadline": deadline.isoformat()},
                )  # fmt: skip
        updated = max(
            e["created_at"] for e in self.events if e["kind"] != TicketEvent.Kind.ESCALATED
        )
        counted = sum(1 for e in self.events if e["kind"] != TicketEvent.Kind.ESCALATED)
        return {
            "request_type_id": request.kind.pk,
            "fields_snapshot": snapshot,
            "answers": request.answers,
            "member_id": request.home.member_id,
            "unit_id": request.home.unit_id,
            "shared_with_household": request.kind.shared_with_household,
            "channel": request.channel,
            "status": self.status,
            "team_id": self.team_id,
            "assignee_id": self.handler,
            "created_by_id": self.created_by,
            "version": counted,
            "priority": self.priority,
            "routing_reason": self.reason,
            "sla_policy_id": self.policy.pk if self.policy else None,
            **self.moments,
            "first_response_at": self.first_response,
            "sla_paused_at": self.paused,
            **fired,
            "resolved_at": self.resolved,
            "closed_at": self.closed,
            "office_activity_at": self.office_at,
            "member_activity_at": self.member_at,
            "on_call_alerted_at": created if self.emergency else None,
            "rating": self.rating,
            "rating_comment": self.comment,
            "created_at": created,
            "updated_at": updated,
        }

    def visits(self, rng: random.Random) -> list[dict]:
        """The handler's and the member's last look (the inbox's and the
        portal's "new"): most have seen the other side's last word."""
        now, seen = self.world.now, []
        account = self.request.home.account_id
        if self.handler and rng.random() < 0.85:
            at = max(self.member_at, self.office_at or self.member_at) + _hours(rng.uniform(0.1, 8))
            if at < now:
                seen.append({"user_id": self.handler, "seen_at": at})
        if account and self.office_at and rng.random() < 0.85:
            at = self.office_at + _hours(rng.uniform(0.2, 30))
            if at < now:
                seen.append({"user_id": account, "seen_at": at})
        return seen


@dataclass
class _Moments:
    """The four SLA moments, as routing.sla.moved_on reads and sets them."""

    first_response_due_at: datetime.datetime | None
    first_response_warn_at: datetime.datetime | None
    due_at: datetime.datetime | None
    warn_at: datetime.datetime | None


# tickets.escalation.STEPS: step, the moment, the field that records it, kind.
ESCALATION = [
    ("first_response_warning", "first_response_warn_at", "first_response_warned_at", "warn"),
    ("first_response_breach", "first_response_due_at", "first_response_breached_at", "breach"),
    ("resolution_warning", "warn_at", "warned_at", "warn"),
    ("resolution_breach", "due_at", "breached_at", "breach"),
]


def _filled(rng: random.Random, choices: list[str]) -> str:
    return rng.choice(choices).format(firm=rng.choice(texts.FIRMS), day=rng.choice(texts.WEEKDAYS))


# --- writing --------------------------------------------------------------------------


def _written(filed: list[Filed], world: _World) -> dict[str, int]:
    """Tickets with ids and references in the order filed (as the counter
    would have handed them out), their events and visits."""
    tickets = Table(Ticket, explicit_pk=True)
    events, visits = Table(TicketEvent), Table(TicketVisit)
    next_id = (Ticket.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    counters = dict(ReferenceCounter.objects.values_list("year", "last"))
    used: dict[int, int] = {}
    for offset, request in enumerate(filed):
        year = request.created.astimezone(world.zone).year
        used[year] = used.get(year, counters.get(year, 0)) + 1
        ticket_id = next_id + offset
        reference = f"A-{year}-{used[year]:06d}"
        tickets.rows.append({"id": ticket_id, "reference": reference, **request.row})
        events.rows += [{"ticket_id": ticket_id, **event} for event in request.events]
        visits.rows += [{"ticket_id": ticket_id, **visit} for visit in request.visits]
    for table in (tickets, events, visits):
        table.flush()
    tickets.sequence_reset()
    for year, last in used.items():
        ReferenceCounter.objects.update_or_create(year=year, defaults={"last": last})
    return {
        "requests": tickets.written,
        "open": sum(1 for r in filed if r.row["status"] in _OPEN),
        "events": events.written,
    }


_OPEN = {Status.RECEIVED, Status.IN_PROGRESS, Status.WAITING}


# --- consultations --------------------------------------------------------------------


def _consultations(rng: random.Random, homes: list[Home], now: datetime.datetime) -> int:
    """The advisors' consultations of the last CONSULTATION_DAYS days up to
    yesterday: each working day a share of each advisor's hours booked, at
    free times as a booking finds them (appointments.slots); most came,
    some did not, some cancelled (their time was free again)."""
    advisors = list(Advisor.objects.bookable().select_related("user").prefetch_related("types"))
    if not advisors or not homes:
        return 0
    zone = timezone.get_current_timezone()
    today = now.astimezone(zone).date()
    first = today - datetime.timedelta(days=CONSULTATION_DAYS)
    last = today - datetime.timedelta(days=1)
    calendar = consultation_calendar()
    hours = availability_for(advisors, first_day=first, last_day=last)
    book = _Booking(rng, homes, since=datetime.datetime.combine(first, datetime.time(), zone))
    day = first
    while day <= last:
        if not calendar.is_closed(day):
            for advisor, availability in zip(advisors, hours, strict=True):
                book.day(advisor, availability, day, calendar)
        day += datetime.timedelta(days=1)
    book.rows.flush()
    return book.rows.written


class _Booking:
    """Consultations booked day by day: what is booked stands in the way
    of the next one, as in the database."""

    def __init__(self, rng: random.Random, homes: list[Home], *, since: datetime.datetime):
        self.rng, self.homes, self.since = rng, homes, since
        self.busy: dict[int, list] = {}
        self.per_day: dict[int, Counter] = {}
        self.rows = Table(Appointment)
        cooperative = cooperative_current()
        self.office = ", ".join(p for p in (cooperative.street, cooperative.city) if p)
        self.addresses = {
            pk: f"{street} {number}, {postcode} {city}"
            for pk, street, number, postcode, city in Building.objects.values_list(
                "pk", "street", "house_number", "postcode", "city"
            )
        }

    def day(self, advisor: Advisor, availability, day: datetime.date, calendar) -> None:
        """Book a share of the advisor's hours of `day` (a few tries: a day
        may be too full for the topic drawn)."""
        rng = self.rng
        topics = sorted(advisor.types.all(), key=lambda t: t.slug)
        if not topics or day in availability.absent_days:
            return
        busy = self.busy.setdefault(advisor.pk, list(availability.busy))
        per_day = self.per_day.setdefault(advisor.pk, Counter(availability.booked_per_day))
        offered = sum(
            (
                datetime.datetime.combine(day, end) - datetime.datetime.combine(day, start)
                for start, end in availability.ranges(day)
            ),
            datetime.timedelta(),
        )
        wanted, booked = offered * rng.uniform(0.05, 0.45), datetime.timedelta()
        for _ in range(12):
            if booked >= wanted:
                return
            topic = rng.choice(topics)
            free = free_slots(
                advisors=[
                    dataclasses.replace(
                        availability, busy=tuple(busy), booked_per_day=dict(per_day)
                    )
                ],
                rules=Rules(
                    duration=topic.duration,
                    buffer_before=topic.buffer_before,
                    buffer_after=topic.buffer_after,
                    min_notice=datetime.timedelta(0),
                    horizon_days=2 * CONSULTATION_DAYS,
                    max_per_day=topic.max_per_advisor_per_day,
                ),
                calendar=calendar,
                now=self.since,
                first_day=day,
                last_day=day,
            )
            if not free:
                continue
            home = rng.choice(self.homes)
            row = _consultation(rng, advisor, topic, rng.choice(free), home)
            if topic.location_kind == LocationKind.OFFICE:
                row["location"] = ", ".join(p for p in (self.office, advisor.room) if p)
            elif topic.location_kind == LocationKind.HOME:
                row["location"] = self.addresses.get(home.building_id, "")
            if row["status"] != Appointment.Status.CANCELLED:
                busy.append((row["busy_from"], row["busy_until"]))
                per_day[day] += 1
                booked += topic.duration
            self.rows.rows.append(row)


def _consultation(rng: random.Random, advisor: Advisor, topic, slot, home: Home) -> dict:
    starts, ends = slot.starts, slot.ends
    booked = starts - datetime.timedelta(days=rng.uniform(1, 20))
    by = home.account_id or advisor.user_id  # the portal, or the advisor on the phone
    status = rng.choices(
        [Appointment.Status.ATTENDED, Appointment.Status.NO_SHOW, Appointment.Status.CANCELLED],
        [82, 7, 11],
    )[0]
    cancelled = None
    if status == Appointment.Status.CANCELLED:
        cancelled = booked + (starts - booked) * rng.uniform(0.2, 0.95)
    reminder = starts - datetime.timedelta(hours=settings.APPOINTMENT_REMINDER_HOURS)
    return {
        "public_id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "kind": Appointment.Kind.APPOINTMENT,
        "advisor_id": advisor.pk,
        "appointment_type_id": topic.pk,
        "member_id": home.member_id,
        "booked_by_id": by,
        "starts_at": starts,
        "ends_at": ends,
        "busy_from": starts - topic.buffer_before,
        "busy_until": ends + topic.buffer_after,
        "status": status,
        "location_kind": topic.location_kind,
        "location": "",
        "reminder_sent_at": reminder if not cancelled and booked < reminder else None,
        "cancelled_at": cancelled,
        "cancelled_by_id": by if cancelled else None,
        "created_at": booked,
        "updated_at": cancelled or ends,
    }
