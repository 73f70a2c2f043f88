"""The accessibility statement (Erklärung zur Barrierefreiheit, issue 15,
point 6) and its feedback: a public page linked in every footer, the
contents the BFSG / BITV 2.0 model statement asks for, and a form that
anyone — logged in or not — uses to report a barrier, which becomes one
request in the inbox, routed to a team."""

import pytest
from django.test import Client
from django.utils.html import escape

from cooperative.cache import cooperative_cache_clear
from cooperative.models import Cooperative
from mail.models import OutboundEmail
from routing.models import RoutingRule, Strategy, Team
from tests.helpers import MOST, de, measured, repeated
from tickets.feedback import ACCESSIBILITY_SLUG, WEB_INTAKE_EMAIL, accessibility_request_type
from tickets.models import Category, Channel, RequestType, Ticket

pytestmark = pytest.mark.django_db

STATEMENT = "/barrierefreiheit/"
REPORT = "/barrierefreiheit/melden/"
SENT = "/barrierefreiheit/melden/gesendet/"

ANONYMOUS = {
    "page": "/anliegen/neu/",
    "problem": "Der Knopf „Weiter“ wird vom Screenreader nicht vorgelesen.",
    "assistive": "NVDA",
    "reply": "email",
    "contact-name": "Erika Gast",
    "contact-email": "erika@example.net",
    "contact-phone": "",
    "contact-website": "",
}


def _footer(html: str) -> str:
    return html.split('<footer class="site-footer">', 1)[1]


@pytest.fixture
def routed(cast):
    """As the demo routes it: reports go to Mitgliederwesen's queue."""
    team, _ = Team.objects.get_or_create(name="Mitgliederwesen")
    team.members.add(cast.hanna)
    rule = RoutingRule.objects.create(name="Barrierefreiheit", position=10, team=team)
    rule.request_types.set([accessibility_request_type()])
    rule.strategy = Strategy.TEAM_QUEUE
    rule.save()
    return team


# --- The statement ------------------------------------------------------------------


def test_the_statement_has_what_the_model_statement_asks_for(client, cast):
    html = client.get(STATEMENT).content.decode()
    for text in (
        "Accessibility statement",
        "What this statement covers",
        # The state of compliance, honestly: largely, with the exceptions named.
        "The portal is largely compatible with WCAG 2.1 level AA. The parts listed below are "
        "not, or not fully, accessible.",
        "What is not accessible",
        "How this statement was made",
        "Tell us about barriers",
        "Enforcement",
        "We are a cooperative, not a public body: the procedures for public bodies under BITV "
        "2.0 and the accessibility laws of the federal states do not apply to this portal.",
    ):
        assert de(text) in html, text
    # The known limitations: the browser's date field, the ERP's PDFs.
    assert (
        de(
            "Date fields use the date field of your browser. How it shows a date (for example "
            "11/29/2026 instead of 29.11.2026) and how its calendar is operated is decided by the "
            "browser and its language setting, not by us; screen readers announce it differently "
            "from browser to browser."
        )
        in html
    )
    assert "PDF" in html
    # How and when it was assessed.
    assert "axe-core" in html and "29. November 2026" in html
    # Where to turn: the market surveillance of the federal states, the
    # conciliation body (§ 34 BFSG with § 16 BGG).
    assert "MLBF" in html and 'href="https://www.mlbf-barrierefrei.de/"' in html
    assert "§ 16" in html and 'href="https://www.schlichtungsstelle-bgg.de/"' in html
    # The feedback: the form, and the office's address, phone and e-mail.
    assert f'href="{REPORT}"' in html
    cooperative = Cooperative.objects.get()
    assert cooperative.street in html and 'href="tel:030123456-0"' in html
    assert f'href="mailto:{cooperative.email}"' in html


def test_the_cooperatives_own_text_replaces_the_statement_but_keeps_the_feedback(client, cast):
    cooperative = Cooperative.objects.get()
    cooperative.accessibility_statement = (
        "Unsere Prüfung vom 1. Oktober 2026 durch ein Prüfbüro.\n\n<b>Ergebnis</b>: konform."
    )
    cooperative.save()
    cooperative_cache_clear()
    html = client.get(STATEMENT).content.decode()
    assert "<p>Unsere Prüfung vom 1. Oktober 2026 durch ein Prüfbüro.</p>" in html
    assert "&lt;b&gt;Ergebnis&lt;/b&gt;" in html and "<b>Ergebnis</b>" not in html
    assert de("What is not accessible") not in html
    assert f'href="{REPORT}"' in html and de("Tell us about barriers") in html


def test_every_footer_links_the_statement_and_the_report(client, cast):
    for who, url in [(None, "/"), (cast.alice, "/mein-bereich/"), (cast.hanna, "/bearbeitung/")]:
        if who is not None:
            client.force_login(who)
        footer = _footer(client.get(url).content.decode())
        assert f'href="{STATEMENT}"' in footer, (who, url)
        # The report form is told which page the person was on.
        assert f'href="{REPORT}?seite={url}"' in footer, (who, url)
        assert de("Accessibility") in footer and de("Report a barrier") in footer


def test_the_statement_opens_before_the_second_login_step_the_report_does_not(client, cast):
    client.force_login(cast.ada)  # password given, code not yet
    assert client.get(STATEMENT).status_code == 200
    assert client.get(REPORT).status_code == 302


def test_the_statement_refuses_a_post(client, cast):
    assert client.post(STATEMENT).status_code == 405


# --- Reporting a barrier without a login ---------------------------------------------


def test_the_form_names_the_page_the_person_came_from(client, cast):
    html = client.get(REPORT + "?seite=/anliegen/neu/").content.decode()
    assert 'value="/anliegen/neu/"' in html
    assert 'name="contact-email"' in html
    # The trap for robots is there, hidden from people and screen readers.
    assert '<div hidden><div class="form-group">' in html and 'name="contact-website"' in html


def test_a_report_without_login_becomes_exactly_one_routed_request(client, cast, routed):
    response = client.post(REPORT, ANONYMOUS)
    assert response.status_code == 302 and response["Location"] == SENT
    ticket = Ticket.objects.get()
    assert ticket.request_type.slug == ACCESSIBILITY_SLUG
    assert ticket.member is None and ticket.channel == Channel.PORTAL
    assert (ticket.contact_name, ticket.contact_email) == ("Erika Gast", "erika@example.net")
    assert ticket.answers == {
        "page": "/anliegen/neu/",
        "problem": ANONYMOUS["problem"],
        "assistive": "NVDA",
        "reply": "email",
    }
    # Logged by the web intake account, which cannot log in.
    assert ticket.created_by.email == WEB_INTAKE_EMAIL and not ticket.created_by.is_active
    assert not ticket.created_by.has_usable_password()
    # Routed by the rules like a member's request, not held in triage.
    assert ticket.team == routed and ticket.routing_reason.get("how") != "not_member"
    # The confirmation names the reference; so does the e-mail to the address given.
    sent = client.get(SENT).content.decode()
    assert ticket.reference in sent
    mail = OutboundEmail.objects.get(to="erika@example.net")
    assert ticket.reference in mail.subject
    # The report in the staff's inbox.
    client.force_login(cast.hanna)
    assert ticket.reference in client.get("/bearbeitung/").content.decode()


def test_the_type_is_made_once_and_then_kept_as_the_office_edits_it(client, cast):
    client.post(REPORT, ANONYMOUS)
    request_type = RequestType.objects.get(slug=ACCESSIBILITY_SLUG)
    assert request_type.category == Category.PORTAL and not request_type.in_portal
    assert request_type.audience == RequestType.Audience.EVERYONE
    request_type.name_de = "Barriere gefunden?"
    request_type.active = False  # switched off: the statement still promises the form
    request_type.save()
    assert "Barriere gefunden?" in client.get(REPORT).content.decode()
    client.post(REPORT, {**ANONYMOUS, "contact-email": "zweite@example.net"})
    assert RequestType.objects.filter(slug=ACCESSIBILITY_SLUG).count() == 1
    assert Ticket.objects.count() == 2


def test_the_confirmation_is_only_for_the_session_that_sent_the_report(client, cast):
    client.post(REPORT, ANONYMOUS)
    reference = Ticket.objects.get().reference
    stranger = Client()
    response = stranger.get(SENT)
    assert response.status_code == 302 and response["Location"] == REPORT
    assert reference not in stranger.get(REPORT).content.decode()


def test_a_report_without_an_answer_needs_no_contact_details(client, cast):
    data = {**ANONYMOUS, "reply": "none", "contact-name": "", "contact-email": ""}
    assert client.post(REPORT, data).status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.contact_name, ticket.contact_email) == ("", "")
    assert not OutboundEmail.objects.exists()


# --- Bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"problem": ""}, "This field is required."),
        ({"reply": "fax"}, None),
        ({"contact-email": ""}, "Please give your e-mail address, so that we can answer you."),
        ({"contact-email": "erika@"}, "Enter a valid email address."),
        (
            {"reply": "phone", "contact-phone": ""},
            "Please give your phone number, so that we can call you.",
        ),
        ({"contact-website": "https://spam.example"}, "Please leave the field “Website” empty."),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_nothing_typed_is_lost(
    client, cast, changes, message
):
    page = client.post(REPORT, {**ANONYMOUS, **changes})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="error-summary"' in html and html.count("<title>Fehler:") == 1
    if message:
        assert de(message) in html or escape(message) in html
    for key in ("contact-name", "assistive"):
        assert f'value="{ANONYMOUS[key]}"' in html
    if changes.get("problem") != "":
        assert escape(ANONYMOUS["problem"]) in html
    assert not Ticket.objects.exists()


def test_reports_are_limited_per_address(client, cast, settings):
    limit, _window = settings.RATE_LIMITS["accessibility_report:address"]
    for _ in range(limit):
        assert client.post(REPORT, ANONYMOUS).status_code == 302
    page = client.post(REPORT, {**ANONYMOUS, "problem": "Noch etwas."})
    assert page.status_code == 200
    assert (
        de(
            "Several reports have been sent from here within the last hour. Please try again "
            "later, or call or write to us."
        )
        in page.content.decode()
    )
    assert "Noch etwas." in page.content.decode()
    assert Ticket.objects.count() == limit


def test_reports_are_limited_per_connection(client, cast, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "accessibility_report:ip": (2, 3600)}
    for number in range(2):
        data = {**ANONYMOUS, "contact-email": f"person{number}@example.net"}
        assert client.post(REPORT, data).status_code == 302
    assert client.post(REPORT, {**ANONYMOUS, "contact-email": "x@example.net"}).status_code == 200
    assert Ticket.objects.count() == 2


def test_a_report_without_the_forms_token_is_refused(cast):
    forged = Client(enforce_csrf_checks=True)
    assert forged.post(REPORT, ANONYMOUS).status_code == 403
    assert not Ticket.objects.exists()


def test_the_form_refuses_other_methods(client, cast):
    assert client.put(REPORT).status_code == 405
    assert client.post(SENT).status_code == 405


# --- Reporting a barrier logged in ----------------------------------------------------


def test_a_members_report_is_hers_and_she_follows_it_in_the_portal(client, cast, routed):
    client.force_login(cast.alice)
    html = client.get(REPORT).content.decode()
    assert 'name="contact-email"' not in html  # we know how to reach her
    data = {"page": "/termine/", "problem": "Die Zeiten sind zu klein.", "reply": "email"}
    assert client.post(REPORT, data)["Location"] == SENT
    ticket = Ticket.objects.get()
    assert ticket.member == cast.alice.member and ticket.created_by == cast.alice
    assert (ticket.contact_name, ticket.contact_email) == ("", "")
    assert ticket.team == routed
    # Personal: her household partner does not see it.
    assert not ticket.shared_with_household
    sent = client.get(SENT).content.decode()
    assert f'href="/anliegen/{ticket.reference}/"' in sent
    assert client.get(f"/anliegen/{ticket.reference}/").status_code == 200
    client.force_login(cast.bob)
    assert client.get(f"/anliegen/{ticket.reference}/").status_code == 404


def test_a_staff_member_trying_the_form_gives_contact_details_like_a_visitor(client, cast):
    client.force_login(cast.hanna)
    assert 'name="contact-email"' in client.get(REPORT).content.decode()
    assert client.post(REPORT, ANONYMOUS).status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.member is None and ticket.created_by == cast.hanna


# --- Queries ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, "alice"])
@pytest.mark.parametrize("url", [STATEMENT, REPORT])
def test_the_pages_ask_few_queries_none_twice(client, cast, who, url):
    if who:
        client.force_login(getattr(cast, who))
    statements = measured(client, url)
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements)


def test_the_confirmation_asks_few_queries_none_twice(client, cast):
    client.post(REPORT, ANONYMOUS)
    statements = measured(client, SENT)
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements)
