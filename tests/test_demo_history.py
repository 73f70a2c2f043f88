"""The demo's half year of history (demo.history, issue 14: "in `make demo`
the dashboard explains the last 90 days"): after `manage.py seed_demo` the
team lead's overview has something in every part and one focal point
stands out; a second run adds nothing; the cast sees what it saw before;
the incident detector proposes the planted outage and nothing else; the
consultations keep to the advisors' hours; nobody is e-mailed; the same
history for the same day.

seed_demo runs once for the tests of TestAfterSeedDemo (it trains the
classifier, which takes a while) inside a transaction that is rolled back
after them; each test works in a savepoint of it."""

import datetime
import io
import itertools
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts.models import User
from appointments.models import Appointment, WeeklyHours
from appointments.selectors import calendar_current
from demo.history import ACCOUNT_DOMAIN, FOCUS, MARK, history_demo_ensure
from demo.incidents import REPORTS
from demo.routing import routing_demo_ensure
from incidents.models import Incident
from incidents.services import incidents_detect
from mail.models import OutboundEmail
from members.models import Contract
from routing.models import Team
from tests.helpers import otp_verify
from tickets.escalation import escalate
from tickets.models import FINISHED, OPEN, Status, Ticket, TicketEvent, TicketVisit

pytestmark = pytest.mark.django_db

PAGE = "/bearbeitung/ueberblick/"


def _counts() -> dict[str, int]:
    return {
        "tickets": Ticket.objects.count(),
        "events": TicketEvent.objects.count(),
        "visits": TicketVisit.objects.count(),
        "appointments": Appointment.objects.count(),
        "accounts": User.objects.count(),
        "emails": OutboundEmail.objects.count(),
    }


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        before = timezone.now()
        call_command("seed_demo", stdout=io.StringIO())
        first = _counts()
        call_command("seed_demo", stdout=io.StringIO())
        yield {"before": before, "first": first, "second": _counts()}
        transaction.set_rollback(True)


def _history():
    return Ticket.objects.filter(events__kind=TicketEvent.Kind.OPENED, events__data__demo=MARK)


@pytest.fixture
def lead(seeded):
    client = Client()
    tom = User.objects.get(email="tom@example.org")
    client.force_login(tom)
    otp_verify(client, tom)
    return client


class TestAfterSeedDemo:
    """After `manage.py seed_demo`, twice."""

    def test_a_second_seeding_adds_nothing(self, seeded):
        assert seeded["first"] == seeded["second"]
        planted = _history().count()
        assert 1200 <= planted <= 2200
        assert seeded["first"]["tickets"] == planted + 2 + 5  # Alice's two, the outage's five

    def test_the_overview_explains_the_last_90_days(self, lead):
        today = timezone.localdate()

        eingang = lead.get(PAGE).context
        assert eingang["scope"].first_day == today - datetime.timedelta(days=89)
        assert 600 <= eingang["received_total"] <= 1100
        weekdays = [count for day, count in eingang["days"] if day.weekday() < 5]
        assert sum(1 for count in weekdays if count) >= 0.9 * len(weekdays)
        weekend = [count for day, count in eingang["days"] if day.weekday() >= 5]
        assert sum(weekend) / len(weekend) < sum(weekdays) / len(weekdays) / 2
        channels = {row.key for row in eingang["tables"]["channel"].rows}
        assert {"portal", "email", "phone", "counter", "letter"} <= channels

        backlog = lead.get(PAGE, {"teil": "rueckstand"}).context
        teams = backlog["tables"]["team"].rows
        buckets = Counter()
        for row in teams:
            buckets.update({key: row.values[key] for key in ("0_2", "3_7", "8_30", "31")})
        assert sum(1 for count in buckets.values() if count) >= 3
        assert sum(row.values["overdue"] for row in teams) > 0

        times = lead.get(PAGE, {"teil": "zeiten"}).context
        by_team = {row.label: row.values for row in times["tables"]["team"].rows}
        for values in by_team.values():
            assert values["response_median"] is not None and values["resolution_median"] is not None
            assert 0 < values["attainment"] <= 1
        # The focal point's team answers late: its deadlines are missed most.
        assert by_team[FOCUS.team]["attainment"] == min(v["attainment"] for v in by_team.values())
        assert by_team[FOCUS.team]["attainment"] < 0.85

        for period in ("90", "30"):
            focal = lead.get(PAGE, {"teil": "schwerpunkte", "zeitraum": period}).context
            types, estates = focal["tables"]["type"].rows, focal["tables"]["estate"].rows
            assert types[0].key == str(self._focus_type_id()), period
            assert estates[0].label == "Wohnanlage Süd", period
            assert types[0].values["now"] > 1.5 * types[0].values["before"]

        tables = lead.get(PAGE, {"teil": "ergebnis"}).context["tables"]
        summary = {row.key: row.values for row in tables["summary"].rows}
        assert summary["reopened"]["value"] > 0 and summary["rated"]["value"] > 50
        assert 0 < summary["reopened"]["share"] < 0.1
        advisors = tables["advisors"]
        assert len(advisors.rows) == 4
        for row in advisors.rows:
            assert 0.1 < row.values["share"] < 1, row.label  # hours booked of those offered
        assert advisors.total.values["attended"] > 50
        assert advisors.total.values["no_show"] > 0 and advisors.total.values["cancelled"] > 0

    @staticmethod
    def _focus_type_id() -> int:
        return Ticket.objects.filter(request_type__slug=FOCUS.slug).values_list(
            "request_type", flat=True
        )[0]

    def test_the_cast_sees_what_it_saw(self, seeded):
        alice, bob, dave = (
            User.objects.get(email=f"{name}@example.org") for name in ("alice", "bob", "dave")
        )
        history = set(_history().values_list("pk", flat=True))
        for user in (alice, bob, dave):
            visible = set(
                Ticket.objects.visible_to_member(user.member).values_list("pk", flat=True)
            )
            assert not visible & history, user
            assert not Appointment.objects.filter(member=user.member).exists()
        # Alice's two sample requests, as before; Bob sees the one about the flat.
        assert Ticket.objects.visible_to_member(alice.member).count() == 2
        assert Ticket.objects.visible_to_member(bob.member).count() == 1
        assert Ticket.objects.visible_to_member(dave.member).count() == 0
        cast_units = Contract.objects.filter(members__in=[alice.member, bob.member, dave.member])
        assert not _history().filter(unit__in=cast_units.values("unit")).exists()
        page = Client()
        page.force_login(alice)
        listed = page.get("/anliegen/").content.decode()
        assert listed.count('href="/anliegen/A-') == 2

    def test_the_detector_proposes_the_planted_outage_only(self, seeded):
        assert incidents_detect()["proposed"] == 1
        [incident] = Incident.objects.all()
        texts = {link.ticket.answers["what"] for link in incident.links.select_related("ticket")}
        assert texts == {what for _hours, _room, what in REPORTS}

    def test_the_escalation_timer_finds_nothing_left_to_do(self, seeded):
        """Warnings and breaches up to the seeding are recorded already: the
        timer's first run sends nothing about the history."""
        assert set(escalate(now=seeded["before"]).values()) == {0}

    def test_each_request_lived_a_consistent_life(self, seeded):
        history = _history()
        assert not history.filter(member__user__email__endswith="@example.org").exists()
        for ticket in history.prefetch_related("events"):
            events = list(ticket.events.all())
            assert (
                events[0].kind == TicketEvent.Kind.OPENED
                and events[0].created_at == ticket.created_at
            )
            assert [e.created_at for e in events] == sorted(e.created_at for e in events)
            status = Status.RECEIVED
            for event in events:
                if event.kind == TicketEvent.Kind.STATUS:
                    assert event.data["from"] == status, ticket.reference
                    status = event.data["to"]
            assert status == ticket.status, ticket.reference
            if ticket.status in OPEN:
                assert ticket.resolved_at is None and ticket.closed_at is None
            if ticket.status == Status.RESOLVED:
                assert ticket.first_response_at <= ticket.resolved_at
            if ticket.first_response_at is not None:
                assert ticket.first_response_at >= ticket.created_at
            assert (ticket.status == Status.WAITING) == (ticket.sla_paused_at is not None)
            if ticket.breached_at is not None:
                assert ticket.breached_at >= ticket.due_at
            if ticket.rating is not None:
                assert ticket.status in FINISHED and ticket.member.user is not None
        reopened = TicketEvent.objects.filter(
            ticket__in=history, kind=TicketEvent.Kind.STATUS, data__from=Status.RESOLVED,
            data__to=Status.IN_PROGRESS,
        )  # fmt: skip
        assert reopened.exists()
        # Each team of the demo has had work, each open request a handler but few.
        assert set(history.values_list("team__name", flat=True)) == set(
            Team.objects.values_list("name", flat=True)
        )
        open_history = history.filter(status__in=OPEN)
        assert 20 <= open_history.count() <= 150
        assert open_history.filter(assignee__isnull=True).count() <= 10

    def test_the_consultations_keep_to_the_hours_and_never_overlap(self, seeded):
        appointments = list(Appointment.objects.all())
        assert len(appointments) > 100
        assert not any(a.member.member_number.startswith("2000") for a in appointments)
        zone = timezone.get_current_timezone()
        today = timezone.localdate()
        calendar = calendar_current()
        hours = {}
        for advisor, weekday, starts, ends in WeeklyHours.objects.values_list(
            "advisor", "weekday", "starts", "ends"
        ):
            hours.setdefault((advisor, weekday), []).append((starts, ends))
        busy: dict[int, list] = {}
        for appointment in appointments:
            starts = appointment.starts_at.astimezone(zone)
            ends = appointment.ends_at.astimezone(zone)
            assert today - datetime.timedelta(days=90) <= starts.date() < today
            assert not calendar.is_closed(starts.date())
            ranges = hours[(appointment.advisor_id, starts.weekday())]
            assert any(a <= starts.time() and ends.time() <= b for a, b in ranges), appointment
            if appointment.status != Appointment.Status.CANCELLED:
                busy.setdefault(appointment.advisor_id, []).append(
                    (appointment.busy_from, appointment.busy_until)
                )
        for intervals in busy.values():
            intervals.sort()
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(intervals))

    def test_nobody_is_emailed_about_the_history(self, seeded):
        accounts = User.objects.filter(email__endswith=f"@{ACCOUNT_DOMAIN}")
        assert accounts.count() > 50
        assert not any(account.has_usable_password() for account in accounts)
        addresses = set(OutboundEmail.objects.values_list("to", flat=True))
        assert not any(address.endswith(ACCOUNT_DOMAIN) for address in addresses)
        assert seeded["first"]["emails"] < 20


def test_the_same_history_for_the_same_day(cast):
    """Fixed seed, dates counted back from `now`: twice the same."""
    routing_demo_ensure(hanna=cast.hanna, tom=cast.tom)
    now = timezone.now()

    def planted() -> list[tuple]:
        with transaction.atomic():
            counts = history_demo_ensure(cast, now=now)
            rows = list(
                _history()
                .order_by("created_at")
                .values_list("created_at", "request_type__slug", "status", "member", "assignee")
            )
            transaction.set_rollback(True)
        assert counts["requests"] == len(rows) > 500
        return rows

    assert planted() == planted()
