"""Emergencies protect people: a request that reads like one stops the
member with "please call now" before anything is sent, the on-call person
is alerted exactly once (also at a Saturday-night clock, also when the
worker retries), emergency deadlines run around the clock, and a form
option's priority (urgent, emergency) brings its own SLA policy."""

import datetime
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext, override

from mail.models import OutboundEmail
from mail.tasks import email_deliver
from routing import sla
from routing.models import (
    Clock,
    OnCallShift,
    Priority,
    RoutingRule,
    SlaPolicy,
    Strategy,
    Team,
)
from routing.reasons import reason_text
from routing.services import on_call_addresses, sla_moments
from tests.factories import TAP, ticket_create
from tests.helpers import de, otp_verify
from tests.mailserver import smtp_server
from tickets import emergency
from tickets.escalation import escalate
from tickets.models import RequestType, Status, Ticket, TicketDraft
from tickets.on_call import on_call_alert
from tickets.services import ticket_log_call, ticket_open, ticket_reroute, ticket_status_change

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
BERLIN = ZoneInfo("Europe/Berlin")
# Saturday night before the clocks go forward (Sunday 28 March 2027, 02:00).
SATURDAY_NIGHT = datetime.datetime(2027, 3, 27, 23, 40, tzinfo=BERLIN)

# The demo's repair report as the member fills it in.
FORM = {"room": "bathroom", "what": "Der Wasserhahn tropft.", "urgency": "normal"}
FORM_YES = {**FORM, "master_key": "yes"}


# Detection: a table of what members type ----------------------------------------------

TEXT = [{"key": "what", "kind": "textarea"}]
FIRE, GAS, WATER, POWER = emergency.FIRE, emergency.GAS, emergency.WATER, emergency.POWER

PHRASES = [
    # The examples.
    ("Wasser läuft aus der Wand", {WATER}),
    ("Gasgeruch im Treppenhaus", {GAS}),
    ("Seit einer Stunde kein Strom in der ganzen Wohnung", {POWER}),
    ("Rauch im Keller", {FIRE}),
    # Written any way members write.
    ("WASSERROHRBRUCH!!", {WATER}),
    ("Rohrbruch im Bad", {WATER}),
    ("Heizungsrohr geplatzt", {WATER}),
    ("Der Keller ist überschwemmt", {WATER}),
    ("Der Keller ist ueberschwemmt", {WATER}),
    ("Der Keller steht unter Wasser", {WATER}),
    ("Wasser tropft von der Decke", {WATER}),
    ("Aus der Decke kommt Wasser", {WATER}),
    ("Wasser kommt aus der Steckdose", {WATER}),
    ("Es riecht nach Gas in der Küche", {GAS}),
    ("es riecht stark nach gas", {GAS}),
    ("Stromausfall im ganzen Haus", {POWER}),
    ("Der Strom ist weg", {POWER}),
    ("Kurzschluss in der Küche", {POWER}),
    ("Es brennt!", {FIRE}),
    ("Der Herd brennt", {FIRE}),
    ("Feuer im Müllraum", {FIRE}),
    ("Funken aus der Steckdose", {FIRE}),
    ("Es raucht aus der Steckdose", {FIRE}),
    ("Es riecht verbrannt", {FIRE}),
    ("Brandgeruch im Flur", {FIRE}),
    ("Rauchmelder piept und es riecht nach Rauch", {FIRE}),
    ("Der Rauchmelder schlägt Alarm", {FIRE}),
    ("Kein Strom und Funken am Zähler", {POWER, FIRE}),
    ("water is pouring out of the wall", {WATER}),
    ("burst pipe in the bathroom", {WATER}),
    ("I smell gas in the kitchen", {GAS}),
    ("no power since this morning", {POWER}),
    ("smoke in the stairwell", {FIRE}),
    # Everyday requests that must not call out the emergency service.
    ("Der Wasserhahn tropft.", set()),
    ("Wasserhahn tropft", set()),
    ("Heizung kalt", set()),
    ("Die Heizung ist seit gestern kalt", set()),
    ("Rauchmelder piept", set()),
    ("Licht brennt nicht", set()),
    ("Die Lampe im Flur brennt die ganze Nacht", set()),
    ("Das Licht im Keller brennt dauernd", set()),
    ("Mein Nachbar raucht auf dem Balkon", set()),
    ("Kein Gasgeruch mehr, danke", set()),
    ("Wasserfleck an der Decke im Bad.", set()),
    ("Aus der Leitung kommt kein warmes Wasser", set()),
    ("Wasser läuft in der Küche nicht ab", set()),
    ("Brandschutztür klemmt", set()),
    ("Feuerlöscher im Treppenhaus fehlt", set()),
    ("Die Klingel funkt nicht", set()),
    ("Schimmel im Bad", set()),
    ("Fenster klemmt", set()),
    ("the smoke detector beeps", set()),
    ("The fire door does not close", set()),
    ("The tap is dripping", set()),
]


@pytest.mark.parametrize(("text", "kinds"), PHRASES)
def test_it_reads_emergencies_from_the_text_and_leaves_everyday_requests_alone(text, kinds):
    reasons = emergency.emergency_reasons(answers={"what": text}, definitions=TEXT)
    assert emergency.kinds(reasons) == kinds, [r.text for r in reasons]


def test_fire_and_gas_call_the_fire_brigade_gas_and_power_the_fault_service():
    def reasons(text):
        return emergency.emergency_reasons(answers={"what": text}, definitions=TEXT)

    assert emergency.needs_fire_brigade(reasons("Gasgeruch"))
    assert emergency.needs_utility(reasons("Gasgeruch"))
    assert emergency.needs_fire_brigade(reasons("Es brennt"))
    assert not emergency.needs_utility(reasons("Es brennt"))
    assert emergency.needs_utility(reasons("kein Strom"))
    assert not emergency.needs_fire_brigade(reasons("Rohrbruch"))
    assert not emergency.needs_utility(reasons("Rohrbruch"))


def test_an_option_counts_by_its_priority_and_the_cooperative_adds_words():
    definitions = [
        *TEXT,
        {
            "key": "urgency",
            "kind": "choice",
            "choices": [
                {"value": "normal", "de": "Normal", "en": "Normal"},
                {"value": "dringend", "de": "Dringend", "en": "Urgent", "priority": "urgent"},
                {
                    "value": "notfall",
                    "de": "Notfall (Gefahr, Wasser, Strom, Gas)",
                    "en": "Emergency",
                    "priority": "emergency",
                },
            ],
        },
        {"key": "extra", "kind": "multichoice", "choices": [{"value": "x", "de": "X"}]},
    ]
    chosen = emergency.emergency_reasons(
        answers={"what": "tropft", "urgency": "notfall"}, definitions=definitions
    )
    assert [(r.source, r.option["value"]) for r in chosen] == [("option", "notfall")]
    # The label of an option is never read as text ("Gas" in "Notfall (… Gas)").
    assert not emergency.emergency_reasons(
        answers={"what": "tropft", "urgency": "dringend"}, definitions=definitions
    )
    assert emergency.option_priority(answers={"urgency": "dringend"}, definitions=definitions) == (
        "urgent",
        definitions[1]["choices"][1],
    )
    assert emergency.option_priority(answers={"urgency": "normal"}, definitions=definitions) == (
        None,
        None,
    )
    words = "Aufzug steckt fest\n  \nHochwasser"
    found = emergency.emergency_reasons(
        answers={"what": "Der AUFZUG STECKT FEST mit Kind"}, definitions=TEXT, words=words
    )
    assert [(r.source, r.kind) for r in found] == [("word", "other")]
    assert not emergency.emergency_reasons(
        answers={"what": "Der Aufzug ist laut"}, definitions=TEXT, words=words
    )


# The interstitial: nothing is filed until the member says they called -----------------


def _fill(client, answers) -> str:
    response = client.post("/anliegen/neu/schadensmeldung/", answers)
    assert response.status_code == 302, response.content.decode()[:3000]
    return response["Location"]


def test_an_emergency_stops_the_member_before_sending_and_files_once_confirmed(
    client, cast, outbox
):
    # Even a policy set up in office time never makes the page promise a day.
    SlaPolicy.objects.create(
        name="Notfall", first_response_hours=8, resolution_days=3, for_priority="emergency"
    )
    client.force_login(cast.alice)
    review = _fill(client, {**FORM_YES, "urgency": "notfall"})
    page = client.get(review).content.decode()
    assert de("Please call now") in page
    assert 'href="tel:03012345699"' in page  # the cooperative's emergency number
    assert 'href="tel:112"' in page
    assert 'class="call-button' in page
    assert de("I have called – send anyway") in page
    assert Ticket.objects.count() == 0

    # "Send" from a review page opened before: the same page again, nothing filed.
    again = client.post(review)
    assert again.status_code == 200 and de("Please call now") in again.content.decode()
    assert Ticket.objects.count() == 0
    assert TicketDraft.objects.filter(user=cast.alice).count() == 1  # nothing lost

    sent = client.post(review, {"emergency_called": "1"})
    assert sent.status_code == 302
    ticket = Ticket.objects.get()
    assert sent["Location"] == f"/anliegen/{ticket.reference}/"
    assert ticket.priority == Priority.EMERGENCY
    assert not TicketDraft.objects.filter(user=cast.alice).exists()
    # A second confirmation (a double click) has no draft left to file.
    client.post(review, {"emergency_called": "1"})
    assert Ticket.objects.count() == 1

    detail = client.get(sent["Location"]).content.decode()
    assert 'href="tel:03012345699"' in detail and 'href="tel:112"' in detail
    assert "Antwort in der Regel bis" not in detail
    assert ticket.first_response_due_at is not None
    alerted = (
        "Our on-call service has been alerted and will take care of it as soon as possible "
        "– also at night, at weekends and on holidays."
    )
    assert de(alerted) in detail
    # Technik has no rota and no address: its lead is the last resort.
    alerts = [m for m in outbox if ticket.reference in m.subject and m.to == ["tom@example.org"]]
    assert len(alerts) == 1
    confirmation = [m for m in outbox if m.to == ["alice@example.org"]]
    assert len(confirmation) == 1 and "030 123456-99" in confirmation[0].body


@pytest.mark.parametrize(
    ("what", "fire", "utility"),
    [
        ("Gasgeruch im ganzen Treppenhaus", True, True),
        ("Es brennt im Keller", True, False),
        ("Wasser läuft aus der Wand", False, False),
        ("Seit heute früh kein Strom", False, True),
    ],
)
def test_the_call_page_names_the_numbers_the_danger_needs(client, cast, what, fire, utility):
    client.force_login(cast.alice)
    review = _fill(client, {**FORM_YES, "what": what})
    page = client.get(review).content.decode()
    assert de("Please call now") in page
    call_list = page.split('<ul class="call-list">', 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'href="(tel:[^"]+)"', call_list)
    assert (links[0] == "tel:112") is fire, links
    assert ("tel:08007654321" in links) is utility, links
    assert "tel:03012345699" in links and "tel:112" in links
    assert Ticket.objects.count() == 0


def test_an_everyday_request_goes_straight_through(client, cast):
    client.force_login(cast.alice)
    review = _fill(client, FORM_YES)
    page = client.get(review).content.decode()
    assert de("Please call now") not in page and de("Check your answers") in page
    assert client.post(review).status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.priority == Priority.NORMAL and ticket.on_call_alerted_at is None


def test_the_call_page_needs_few_queries(client, cast, django_assert_max_num_queries):
    client.force_login(cast.alice)
    review = _fill(client, {**FORM_YES, "urgency": "notfall"})
    client.get(review)  # the cooperative's row is cached like on every page
    with django_assert_max_num_queries(10):
        response = client.get(review)
    assert de("Please call now") in response.content.decode()


def test_the_call_page_is_refused_to_strangers_and_to_wrong_methods(client, cast):
    client.force_login(cast.alice)
    review = _fill(client, {**FORM_YES, "urgency": "notfall"})
    client.force_login(cast.bob)  # her partner has no draft of his own
    assert client.post(review, {"emergency_called": "1"}).status_code == 302
    client.force_login(cast.hanna)
    assert client.get(review).status_code == 404
    client.force_login(cast.alice)
    assert client.put(review).status_code == 405
    assert Ticket.objects.count() == 0


# The on-call alert ---------------------------------------------------------------------


@pytest.fixture
def technik(cast):
    team = Team.objects.get(name="Technik")
    team.members.add(cast.hanna)
    return team


def _emergency(cast, now=None, what="Wasser läuft aus der Wand im Bad"):
    return ticket_open(
        request_type=RequestType.objects.get(slug="schadensmeldung"),
        member=cast.alice.member,
        answers={**TAP, "what": what},
        channel="portal",
        created_by=cast.alice,
        now=now,
    )


def test_who_is_on_call_the_rota_then_the_address_then_the_lead(cast, technik):
    night = SATURDAY_NIGHT
    assert on_call_addresses(team_id=technik.pk, at=night) == ["tom@example.org"]
    technik.on_call_email = "notdienst@example.org"
    technik.save()
    assert on_call_addresses(team_id=technik.pk, at=night) == ["notdienst@example.org"]
    OnCallShift.objects.create(
        team=technik,
        user=cast.hanna,
        starts=night - datetime.timedelta(hours=5),
        ends=night + datetime.timedelta(days=1),
    )
    # Tom's shift ends before the moment; an ended or future shift does not count.
    OnCallShift.objects.create(
        team=technik,
        user=cast.tom,
        starts=night - datetime.timedelta(days=1),
        ends=night - datetime.timedelta(minutes=1),
    )
    assert on_call_addresses(team_id=technik.pk, at=night) == ["hanna@example.org"]
    assert on_call_addresses(team_id=technik.pk, at=night + datetime.timedelta(days=2)) == [
        "notdienst@example.org"
    ]
    cast.hanna.is_active = False
    cast.hanna.save()
    assert on_call_addresses(team_id=technik.pk, at=night) == ["notdienst@example.org"]
    assert on_call_addresses(team_id=None, at=night) == []


def test_a_saturday_night_emergency_alerts_the_person_on_call_exactly_once(
    client, cast, technik, outbox
):
    OnCallShift.objects.create(
        team=technik,
        user=cast.hanna,
        starts=datetime.datetime(2027, 3, 26, 16, 0, tzinfo=BERLIN),
        ends=datetime.datetime(2027, 3, 29, 7, 0, tzinfo=BERLIN),
    )
    technik.on_call_email = "notdienst@example.org"
    technik.save()
    outbox.clear()
    ticket = _emergency(cast, now=SATURDAY_NIGHT)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.EMERGENCY
    assert ticket.on_call_alerted_at == SATURDAY_NIGHT
    alerts = [m for m in outbox if ticket.reference in m.subject and m.to != ["alice@example.org"]]
    assert [m.to for m in alerts] == [["hanna@example.org"]]
    body = alerts[0].body
    assert "Nordring" in body and "2. OG links" in body  # where to go
    assert "Wasser läuft aus der Wand im Bad" in body  # what the member wrote
    assert f"/bearbeitung/anliegen/{ticket.reference}/" in body
    assert "Alice" in body

    # Again and again: a second call, a re-routing by staff. Nothing new.
    assert on_call_alert(ticket=ticket, at=SATURDAY_NIGHT) == []
    assert on_call_alert(ticket=ticket, at=SATURDAY_NIGHT + datetime.timedelta(hours=1)) == []
    ticket_reroute(ticket=ticket, actor=cast.hanna, expected_version=ticket.version)
    ticket.refresh_from_db()
    assert ticket.on_call_alerted_at == SATURDAY_NIGHT
    assert (
        OutboundEmail.objects.filter(to="hanna@example.org", subject__contains="[")
        .filter(subject__contains=ticket.reference)
        .count()
        == 1
    )


def test_an_ordinary_request_alerts_nobody_and_a_rerouted_emergency_alerts_once(
    cast, technik, outbox
):
    ticket = ticket_create()
    assert ticket.priority == Priority.NORMAL
    assert on_call_alert(ticket=ticket, at=timezone.now()) == []
    # Staff add a rule for the answer later and route again: now it is one.
    RoutingRule.objects.create(
        name="Tropfen",
        team=technik,
        keywords="wasserhahn",
        priority=Priority.EMERGENCY,
        strategy=Strategy.TEAM_QUEUE,
    )
    outbox.clear()
    ticket_reroute(ticket=ticket, actor=cast.tom, expected_version=ticket.version)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.EMERGENCY and ticket.on_call_alerted_at is not None
    assert [m.to for m in outbox if ticket.reference in m.subject] == [["tom@example.org"]]


def test_a_call_solved_at_once_alerts_nobody(cast, technik, outbox):
    outbox.clear()
    ticket = ticket_log_call(
        request_type=RequestType.objects.get(slug="schadensmeldung"),
        member=cast.alice.member,
        answers={**TAP, "what": "Rohrbruch im Keller"},
        channel="phone",
        created_by=cast.hanna,
        note="Haupthahn zugedreht, Notdienst war schon da.",
        solved=True,
    )
    ticket.refresh_from_db()
    assert ticket.priority == Priority.EMERGENCY and ticket.status == Status.CLOSED
    assert ticket.on_call_alerted_at is None
    assert outbox == []


class Recorder:
    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_retried_delivery_by_a_real_worker_sends_the_alert_once(
    cast, technik, settings, transactional_db
):
    technik.on_call_email = "notdienst@example.org"
    technik.save()
    with smtp_server(Recorder(), settings) as server:
        # Filed on Saturday night; the alert leaves when the request commits.
        ticket = _emergency(cast, now=SATURDAY_NIGHT, what="Gasgeruch im Keller")
        alert = OutboundEmail.objects.get(to="notdienst@example.org")
        assert alert.status == OutboundEmail.Status.SENT
        # The task runs again (a retry): nothing is claimable any more.
        assert email_deliver.call(alert.pk) == "not claimable"
        # And a real database worker is handed the same delivery twice.
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("GENOPORTAL_TASKS_IMMEDIATE", "DJANGO_ALLOW_ASYNC_UNSAFE")
        }
        env.update(
            DATABASE_URL=_database_url(),
            EMAIL_BACKEND=settings.EMAIL_BACKEND,
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(settings.EMAIL_PORT),
            GENOPORTAL_LOG_LEVEL="CRITICAL",
        )
        manage = [sys.executable, "manage.py"]
        enqueue = (
            "from mail.tasks import email_deliver; "
            f"email_deliver.enqueue({alert.pk}); email_deliver.enqueue({alert.pk})"
        )
        subprocess.run([*manage, "shell", "-c", enqueue], cwd=ROOT, env=env, check=True, timeout=60)
        subprocess.run(
            [*manage, "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert on_call_alert(ticket=ticket, at=SATURDAY_NIGHT) == []
    alerts = [m for m in server.messages if m[0] == ["notdienst@example.org"]]
    assert len(alerts) == 1
    assert ticket.reference.encode() in alerts[0][1]
    alert.refresh_from_db()
    assert alert.attempts == 1


# Urgency counts: an option's priority and its policy ---------------------------------


@pytest.fixture
def urgent_policy(db):
    return SlaPolicy.objects.create(
        name="Dringend",
        first_response_hours=4,
        resolution_days=1,
        for_priority=Priority.URGENT,
    )


def test_the_urgent_option_raises_the_priority_and_brings_its_policy(
    client, cast, technik, urgent_policy
):
    standard = SlaPolicy.objects.create(
        name="Reparatur", first_response_hours=16, resolution_days=10
    )
    RoutingRule.objects.create(name="Schäden", team=technik, sla_policy=standard).request_types.set(
        [RequestType.objects.get(slug="schadensmeldung")]
    )
    ticket = ticket_create(answers={**TAP, "urgency": "dringend"})
    assert (ticket.priority, ticket.sla_policy) == (Priority.URGENT, urgent_policy)
    assert ticket.routing_reason["raised"] == {
        "priority": "urgent",
        "by": "option",
        "de": "Dringend (heute/morgen)",
        "en": "Urgent (today/tomorrow)",
        "policy": "Dringend",
    }
    expected = sla_moments(policy_id=urgent_policy.pk, start=ticket.created_at)
    assert ticket.first_response_due_at == expected["first_response_due_at"]
    with override("en"):
        text = reason_text(ticket.routing_reason)
    assert text.endswith(
        "Priority raised to “urgent” by the answer “Urgent (today/tomorrow)”; "
        "deadlines of the SLA policy “Dringend”"
    )
    # Staff read it on the ticket page; the member reads a day, never "Monday"
    # for a request they marked urgent unless the urgent policy says so.
    client.force_login(cast.hanna)
    with override("de"):
        german = reason_text(ticket.routing_reason)
    assert german in client.get(f"/bearbeitung/anliegen/{ticket.reference}/").content.decode()
    client.force_login(cast.alice)
    page = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    local = timezone.localdate(ticket.first_response_due_at)
    days = (local - timezone.localdate()).days
    if days <= 0:
        assert de("We usually answer today.") in page
    elif days == 1:
        assert de("We usually answer by tomorrow.") in page
    else:
        assert "Antwort in der Regel bis" in page
    assert de("Urgent.") in page


def test_an_option_never_lowers_what_the_rule_says(cast, technik, urgent_policy):
    rule_policy = SlaPolicy.objects.create(
        name="Notfall", first_response_hours=1, resolution_days=1
    )
    RoutingRule.objects.create(
        name="Alles eilig",
        team=technik,
        priority=Priority.EMERGENCY,
        sla_policy=rule_policy,
    )
    ticket = ticket_create(answers={**TAP, "urgency": "dringend"})
    assert (ticket.priority, ticket.sla_policy) == (Priority.EMERGENCY, rule_policy)
    assert "raised" not in ticket.routing_reason


def test_an_emergency_option_takes_the_emergency_policy_and_its_clock(cast, technik):
    policy = SlaPolicy.objects.create(
        name="Notfall",
        first_response_hours=1,
        resolution_days=1,
        for_priority=Priority.EMERGENCY,
        clock=Clock.CALENDAR,
    )
    ticket = ticket_create(answers={**TAP, "urgency": "notfall"})
    assert (ticket.priority, ticket.sla_policy) == (Priority.EMERGENCY, policy)
    assert ticket.first_response_due_at == ticket.created_at + datetime.timedelta(hours=1)
    text = ticket_create(answers={**TAP, "what": "Es riecht nach Gas"})
    assert text.priority == Priority.EMERGENCY and text.sla_policy == policy
    assert text.routing_reason["raised"]["by"] == "text"


# Calendar time: around the clock, across a weekend and a DST change ------------------


def real(moment: datetime.datetime) -> datetime.datetime:
    """In UTC: Python subtracts two times of one zone by the wall clock."""
    return moment.astimezone(datetime.UTC)


def _policy(**values):
    defaults = {"first_response_hours": 1, "resolution_days": 1, "warn_percent": 80}
    return SimpleNamespace(**{**defaults, **values})


def test_calendar_time_counts_every_hour_of_a_weekend_and_the_dst_night():
    clock = sla.CalendarClock()
    moments = sla.targets(policy=_policy(), start=SATURDAY_NIGHT, calendar=clock)
    assert moments["first_response_due_at"] == datetime.datetime(2027, 3, 28, 0, 40, tzinfo=BERLIN)
    assert moments["first_response_warn_at"] == datetime.datetime(2027, 3, 28, 0, 28, tzinfo=BERLIN)
    # One day later on the wall clock, though the night lost an hour.
    due = moments["due_at"]
    assert (due.date(), due.hour, due.minute) == (datetime.date(2027, 3, 28), 23, 40)
    assert real(due) - real(SATURDAY_NIGHT) == datetime.timedelta(hours=23)
    assert real(moments["warn_at"]) - real(SATURDAY_NIGHT) == datetime.timedelta(hours=23) * 0.8
    # An hour across the switch is an hour: 01:30 CET + 1 h = 03:30 CEST.
    before = datetime.datetime(2027, 3, 28, 1, 30, tzinfo=BERLIN)
    after = clock.add(start=before, duration=datetime.timedelta(hours=1))
    assert (after.hour, after.minute, after.utcoffset()) == (3, 30, datetime.timedelta(hours=2))
    # Autumn: a day after Saturday 12:00 is Sunday 12:00, 25 hours on.
    autumn = datetime.datetime(2027, 10, 30, 12, 0, tzinfo=BERLIN)
    later = clock.add_working_days(start=autumn, days=1)
    assert real(later) - real(autumn) == datetime.timedelta(hours=25)
    # A wall time the spring night skips moves on by that hour.
    gap = clock.add_working_days(start=datetime.datetime(2027, 3, 27, 2, 30, tzinfo=BERLIN), days=1)
    assert (gap.hour, gap.minute) == (3, 30)
    assert clock.elapsed(start=SATURDAY_NIGHT, end=due) == datetime.timedelta(hours=23)
    assert clock.elapsed(start=due, end=SATURDAY_NIGHT) == datetime.timedelta(0)


def test_the_same_request_in_working_time_waits_for_the_office_after_easter():
    working = sla.calendar_default()
    moments = sla.targets(policy=_policy(), start=SATURDAY_NIGHT, calendar=working)
    # Easter Monday (29 March 2027) is a holiday: Tuesday, one office hour
    # after opening at 08:00, and its closing time.
    assert moments["first_response_due_at"] == datetime.datetime(2027, 3, 30, 9, 0, tzinfo=BERLIN)
    assert moments["due_at"] == datetime.datetime(2027, 3, 30, 16, 0, tzinfo=BERLIN)


def test_a_pause_moves_calendar_deadlines_by_every_hour_it_took():
    clock = sla.CalendarClock()
    start = SATURDAY_NIGHT
    ticket = SimpleNamespace(**sla.targets(policy=_policy(), start=start, calendar=clock))
    due = ticket.due_at
    # Waiting for the member from Saturday 23:50 to Sunday 09:50: 9 real hours (DST).
    paused_at = datetime.datetime(2027, 3, 27, 23, 50, tzinfo=BERLIN)
    now = datetime.datetime(2027, 3, 28, 9, 50, tzinfo=BERLIN)
    changed = sla.moved_on(ticket, paused_at=paused_at, now=now, calendar=clock)
    assert set(changed) == set(sla.SLA_FIELDS)
    assert real(ticket.due_at) - real(due) == datetime.timedelta(hours=9)


def test_the_ticket_policy_decides_the_clock_of_deadlines_and_pauses(cast, technik):
    calendar = SlaPolicy.objects.create(
        name="Rund um die Uhr", first_response_hours=1, resolution_days=1, clock=Clock.CALENDAR
    )
    working = SlaPolicy.objects.create(name="Büro", first_response_hours=1, resolution_days=1)
    assert isinstance(sla.calendar_for(calendar), sla.CalendarClock)
    assert not isinstance(sla.calendar_for(working), sla.CalendarClock)
    assert sla_moments(policy_id=calendar.pk, start=SATURDAY_NIGHT)["due_at"] == datetime.datetime(
        2027, 3, 28, 23, 40, tzinfo=BERLIN
    )
    assert sla_moments(policy_id=working.pk, start=SATURDAY_NIGHT)["due_at"] > datetime.datetime(
        2027, 3, 29, tzinfo=BERLIN
    )
    # A calendar-clock request waits for the member for two hours on a
    # Sunday: its deadline moves on by those two hours, not by none.
    ticket = ticket_create(sla_policy=calendar)
    sunday = datetime.datetime(2027, 3, 28, 10, 0, tzinfo=BERLIN)
    due = sunday + datetime.timedelta(days=1)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.WAITING,
        sla_paused_at=timezone.now() - datetime.timedelta(hours=2),
        due_at=due,
    )
    ticket.refresh_from_db()
    ticket_status_change(
        ticket=ticket, actor=cast.hanna, status=Status.IN_PROGRESS, expected_version=ticket.version
    )
    ticket.refresh_from_db()
    moved = ticket.due_at - due
    assert datetime.timedelta(hours=2) <= moved < datetime.timedelta(hours=2, minutes=1)


def test_escalation_runs_at_night_on_the_calendar_deadlines(cast, technik, outbox):
    ticket = ticket_create(
        assignee=cast.hanna,
        priority=Priority.EMERGENCY,
        **sla.targets(policy=_policy(), start=SATURDAY_NIGHT, calendar=sla.CalendarClock()),
    )
    outbox.clear()
    counts = escalate(now=datetime.datetime(2027, 3, 28, 0, 45, tzinfo=BERLIN))
    assert counts["first_response_breach"] == 1
    assert [m.to for m in outbox if ticket.reference in m.subject] == [["tom@example.org"]]


# Admin: the fourth part of a choice line --------------------------------------------


def _request_type_post(choices: str) -> dict:
    return {
        "slug": "notfall-test",
        "name_de": "Notfalltest",
        "name_en": "Emergency test",
        "category": "repair",
        "audience": RequestType.Audience.MEMBERS,
        "position": "100",
        "active": "on",
        "in_portal": "on",
        "fields-TOTAL_FORMS": "1",
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "1000",
        "fields-0-position": "0",
        "fields-0-key": "urgency",
        "fields-0-kind": "choice",
        "fields-0-required": "on",
        "fields-0-label_de": "Wie dringend?",
        "fields-0-label_en": "How urgent?",
        "fields-0-choices": choices,
    }


def test_the_admin_refuses_an_unknown_priority_in_a_choice_line(client, cast):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    bad = "normal|Normal|Normal\nnotfall|Notfall|Emergency|notfall"
    response = client.post("/verwaltung/tickets/requesttype/add/", _request_type_post(bad))
    assert response.status_code == 200
    message = (
        "“%(priority)s” (the fourth part of the line “%(value)s”) is not a priority. "
        "Use one of: %(priorities)s."
    )
    values = {
        "priority": "notfall",
        "value": "notfall",
        "priorities": "low, normal, high, urgent, emergency",
    }
    assert de(message) % values in response.content.decode()
    assert not RequestType.objects.filter(slug="notfall-test").exists()
    good = "normal|Normal|Normal\nnotfall|Notfall|Emergency|emergency"
    response = client.post("/verwaltung/tickets/requesttype/add/", _request_type_post(good))
    assert response.status_code == 302
    field = RequestType.objects.get(slug="notfall-test").fields.get()
    assert field.choice_list()[1]["priority"] == "emergency"


# Admin: the on-call rota ---------------------------------------------------------------


def test_a_team_lead_plans_the_rota_of_his_team_only(client, cast, technik):
    accounting = Team.objects.get(name="Rechnungswesen")
    theirs = OnCallShift.objects.create(
        team=accounting,
        user=cast.ada,
        starts=SATURDAY_NIGHT,
        ends=SATURDAY_NIGHT + datetime.timedelta(hours=8),
    )
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)
    form = {
        "team": technik.pk,
        "user": cast.hanna.pk,
        "starts_0": "27.03.2027",
        "starts_1": "16:00",
        "ends_0": "29.03.2027",
        "ends_1": "07:00",
    }
    response = client.post("/verwaltung/routing/oncallshift/add/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    shift = OnCallShift.objects.get(team=technik)
    assert shift.user == cast.hanna
    # Not his team's shift, not his team, not someone outside the team.
    assert client.get(f"/verwaltung/routing/oncallshift/{theirs.pk}/change/").status_code == 404
    refused = client.post("/verwaltung/routing/oncallshift/add/", {**form, "team": accounting.pk})
    assert refused.status_code == 200
    outsider = client.post("/verwaltung/routing/oncallshift/add/", {**form, "user": cast.ada.pk})
    assert outsider.status_code == 200
    with override("de"):
        why = gettext(
            "%(person)s is not in the team %(team)s and could not open its requests. "
            "Add them to the team first, or choose a member of the team."
        ) % {"person": cast.ada.get_full_name(), "team": "Technik"}
    assert escape(why) in outsider.content.decode()
    backwards = client.post(
        "/verwaltung/routing/oncallshift/add/", {**form, "ends_0": "26.03.2027"}
    )
    assert backwards.status_code == 200
    assert OnCallShift.objects.count() == 2
    listing = client.get("/verwaltung/routing/oncallshift/").content.decode()
    assert f"/verwaltung/routing/oncallshift/{shift.pk}/change/" in listing
    assert f"/verwaltung/routing/oncallshift/{theirs.pk}/change/" not in listing


def test_the_rota_list_needs_few_queries(client, cast, technik, django_assert_max_num_queries):
    for day in range(20):
        OnCallShift.objects.create(
            team=technik,
            user=cast.hanna,
            starts=SATURDAY_NIGHT + datetime.timedelta(days=day),
            ends=SATURDAY_NIGHT + datetime.timedelta(days=day, hours=8),
        )
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    client.get("/verwaltung/routing/oncallshift/")
    with django_assert_max_num_queries(14):  # 13 today, with 20 shifts or 1
        response = client.get("/verwaltung/routing/oncallshift/")
    assert response.status_code == 200
