"""Nothing a person can type makes the portal fail (HTTP 500), on SQLite or
PostgreSQL: every form of the project gets text from hypothesis (NUL, umlauts,
superscript digits, letters outside the BMP, right-to-left marks, very long
strings) as the user who would send it, and must answer with a page, an
error message, a redirect or 400 / 404, never with a crash.

PostgreSQL cannot store or compare text containing NUL, so a NUL anywhere in
a request (address, query, form data) is answered with 400 by
core.middleware.NulCharacterMiddleware before any view or the admin sees it."""

import datetime
from urllib.parse import quote

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import Attempt
from accounts.services import activation_codes_create
from members.models import Member
from routing.models import Team
from tests.factories import GOOD, form_answers, ticket_create
from tests.helpers import de, otp_verify
from tickets.forms import iban_validate
from tickets.models import RequestType, Status, Ticket

pytestmark = pytest.mark.django_db

NUL = "\x00"


# --- the findings of the probe, one by one ---------------------------------


@pytest.mark.parametrize("iban", ["DE02 1203 0000 0000 2020 5Ä", "DE²2 1203 0000 0000 2020 51"])
def test_an_iban_with_non_ascii_characters_is_an_error_not_a_crash(iban):
    with pytest.raises(ValidationError):
        iban_validate(iban)


def test_the_bank_details_form_refuses_such_an_iban_in_the_portal_and_the_phone_log(client, cast):
    number = cast.alice.member.member_number
    for iban in [
        "DE02 1203 0000 0000 2020 5Ä",
        "DE²2 1203 0000 0000 2020 51",
        "DE02 1203 0000 0000 2020 5¹",
        "ＤＥ02 1203 0000 0000 2020 51",  # full-width letters
        "de02 1203 0000 0000 2020 5ß",  # "ß".upper() is "SS"
    ]:
        data = {
            "account_holder": "Alice Ahrens",
            "iban": iban,
            "valid_from": "2026-12-01",
            "sepa_consent": "yes",
        }
        client.force_login(cast.alice)
        response = client.post("/anliegen/neu/bankverbindung/", data)
        assert response.status_code == 200
        assert de("Enter an IBAN like DE02 1203 0000 0000 2020 51.") in response.content.decode()
        client.force_login(cast.hanna)
        response = client.post(f"/bearbeitung/anruf/{number}/bankverbindung/phone/", data)
        assert response.status_code == 200
        assert de("Enter an IBAN like DE02 1203 0000 0000 2020 51.") in response.content.decode()
    assert not Ticket.objects.exists()


def test_an_iban_is_still_normalised():
    assert iban_validate(" de02120300000000202051 ") == "DE02120300000000202051"
    assert iban_validate("DE02\u00a01203 0000 0000 2020 51") == "DE02120300000000202051"


def _bad_request(response) -> None:
    assert response.status_code == 400
    body = response.content.decode()
    assert de("Your input could not be processed") in body  # the friendly page, translated


def test_a_nul_in_an_address_is_a_bad_request(client, cast):
    client.force_login(cast.alice)
    _bad_request(client.get("/anliegen/A-2026-%00/"))
    client.force_login(cast.hanna)
    _bad_request(client.get("/bearbeitung/anliegen/%00/"))
    _bad_request(client.get("/bearbeitung/anruf/%00/schadensmeldung/phone/"))


def test_a_nul_in_a_query_is_a_bad_request(client, cast):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    _bad_request(client.get("/verwaltung/members/member/?q=%00"))
    _bad_request(client.get("/verwaltung/tickets/ticket/?q=a%00b"))
    client.force_login(cast.hanna)
    _bad_request(client.get("/bearbeitung/?q=%00"))
    _bad_request(client.get("/bearbeitung/?view=%00"))


def test_a_nul_in_form_data_is_a_bad_request_and_changes_nothing(client, cast):
    ticket = ticket_create(status=Status.RESOLVED)
    client.force_login(cast.alice)
    _bad_request(
        client.post(f"/anliegen/{ticket.reference}/wieder-oeffnen/", {"reason": f"a{NUL}b"})
    )
    _bad_request(client.post("/anliegen/neu/schadensmeldung/", {**GOOD, "what": f"tropft{NUL}"}))
    _bad_request(client.post(f"/anliegen/{ticket.reference}/", {"body": NUL}))
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.events.count() == 1
    client.logout()
    _bad_request(client.post("/anmelden/", {"email": "a@example.org", "password": NUL}))


def test_the_bad_request_page_speaks_english_too(client, cast):
    client.cookies["genoportal_language"] = "en"
    response = client.get("/anliegen/%00/")
    assert response.status_code == 400
    assert "Your input could not be processed" in response.content.decode()


def test_a_member_account_cannot_be_made_staff_in_the_admin(cast):
    # The database forbids it (check constraint user_staff_is_not_member);
    # the admin must say so in the form, not fail with an IntegrityError.
    alice = cast.alice
    url = reverse("admin:accounts_user_change", args=[alice.pk])
    client = Client(raise_request_exception=False)
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    answer = client.post(
        url,
        {
            "email": alice.email,
            "first_name": "",
            "last_name": "",
            "language": "de",
            "is_active": "on",
            "is_staff": "on",
        },
    )
    assert answer.status_code == 200
    assert 'class="errornote"' in answer.content.decode()
    alice.refresh_from_db()
    assert not alice.is_staff


# --- every form, with text from hypothesis ----------------------------------

# The first ones go into every field of every form; hypothesis draws the
# others too, and text of its own.
SWEEP = 8
NASTY = [
    NUL,
    "Ä",
    "²",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\u202eevil\u202c \u200f\u200e",  # right-to-left override, RTL / LTR marks
    "x" * 10_000,
    "٣٤",  # Arabic-Indic digits: isdigit() and int(), but not ASCII
    "9" * 30,
    f"A-2026-000001{NUL}",
    "DE²2 1203 0000 0000 2020 51",
    "\ufeff",
    "９",  # a full-width digit
    "-1",
    "1e999999",
    "NaN",
    "' OR 1=1 --",
    '"*:&|!()',
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "\r\nSet-Cookie: x=y",
    "%00",
    " ",
    "",
]
# Text as a browser sends it: any code point but surrogates (which UTF-8,
# and so no form post, can carry).
TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
)


def _hostile(valid: dict, send, *, examples: int) -> None:
    """Send `valid` (a form as filled in correctly) with all its fields set
    to each of the first nasty examples, then `examples` times with some
    fields replaced by text from hypothesis; no answer may be a server error."""

    def check(data: dict) -> None:
        # A savepoint per request: a database error (a bug) must surface as
        # this request's failure, not poison every later one on PostgreSQL.
        with transaction.atomic():
            response = send(data)
        assert response.status_code < 500, data

    for nasty in NASTY[:SWEEP]:
        check(dict.fromkeys(valid, nasty))

    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,  # no example files in the checkout
        derandomize=True,  # the same examples on every run: CI never flickers
        suppress_health_check=list(HealthCheck),
    )
    @given(st.fixed_dictionaries({key: st.one_of(st.just(v), TEXT) for key, v in valid.items()}))
    def explore(data):
        check(data)

    explore()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Every password check is an Argon2 hash (unknown addresses included);
    # hundreds of them would take minutes. Argon2 stays for the cast's hashes.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


def _segment(text: str) -> str:
    return quote(text, safe="") or "x"


def _resolved(ticket: Ticket) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.RESOLVED, resolved_at=timezone.now(), rating=None
    )


def test_member_request_forms_of_every_demo_type(client, cast):
    client.force_login(cast.alice)
    for request_type in RequestType.objects.filter(in_portal=True, active=True):
        slug = request_type.slug

        def send(data, slug=slug):
            response = client.post(f"/anliegen/neu/{slug}/", data)
            if response.status_code == 302:  # on to the review page: send it
                return client.post(f"/anliegen/neu/{slug}/pruefen/")
            return response

        _hostile(form_answers(request_type), send, examples=4)
    _hostile({"q": "Schaden"}, lambda data: client.get("/anliegen/neu/", data), examples=5)
    _hostile(
        {"slug": "schadensmeldung"},
        lambda data: client.get(f"/anliegen/neu/{_segment(data['slug'])}/"),
        examples=5,
    )


def test_member_pages_of_a_request(client, cast):
    ticket = ticket_create(status=Status.RESOLVED, resolved_at=timezone.now())
    url = f"/anliegen/{ticket.reference}/"
    client.force_login(cast.alice)

    _hostile({"body": "Danke, passt."}, lambda data: client.post(url, data), examples=8)

    def reopen(data):
        _resolved(ticket)
        return client.post(f"{url}wieder-oeffnen/", data)

    _hostile({"reason": "Tropft wieder."}, reopen, examples=8)

    def rate(data):
        _resolved(ticket)
        return client.post(f"{url}bewerten/", data)

    _hostile({"rating": "4", "comment": "Schnell."}, rate, examples=8)
    _hostile(
        {"reference": ticket.reference, "file": "1"},
        lambda data: client.get(
            f"/anliegen/{_segment(data['reference'])}/dateien/{_segment(data['file'])}/"
        ),
        examples=8,
    )


def test_member_account_forms(client, cast, password):
    client.force_login(cast.alice)
    _hostile(
        {"phone": "030 1234567", "language": "de"},
        lambda data: client.post("/mein-bereich/kontakt/", data),
        examples=8,
    )
    _hostile(
        {"email": "alice.neu@example.org"},
        lambda data: client.post("/mein-bereich/e-mail/", data),
        examples=8,
    )
    _hostile(
        {"language": "en", "next": "/anliegen/"},
        lambda data: client.post("/sprache/", data),
        examples=8,
    )
    _hostile(
        {"token": "abc"},
        lambda data: client.get(f"/mein-bereich/e-mail/bestaetigen/{_segment(data['token'])}/"),
        examples=5,
    )
    _hostile(
        {
            "old_password": password,
            "new_password1": "ein langes neues Passwort",
            "new_password2": "ein langes neues Passwort",
        },
        lambda data: client.post("/passwort-aendern/", data),
        examples=6,
    )


def test_forms_before_the_login(client, cast, password):
    def login(data):
        client.logout()
        Attempt.objects.all().delete()  # the rate limit would soon stop every try
        return client.post("/anmelden/", data)

    account = {"email": "alice@example.org", "password": password}
    _hostile({**account, "next": "/anliegen/"}, login, examples=6)
    # Logged in, then sent on to the page the member came from.
    _hostile({"next": "/anliegen/"}, lambda data: login({**account, **data}), examples=6)
    _hostile(
        {"member_number": "20001", "code": "ABCD-EFGH-JKLM-NPQR"},
        lambda data: client.post("/aktivieren/", data),
        examples=8,
    )
    _hostile(
        {"email": "alice@example.org"},
        lambda data: client.post("/passwort-vergessen/", data),
        examples=8,
    )
    _hostile(
        {"uidb64": "MQ", "token": "set-password"},
        lambda data: client.get(
            f"/passwort-neu/{_segment(data['uidb64'])}/{_segment(data['token'])}/"
        ),
        examples=5,
    )
    _hostile(
        {"token": "abc"},
        lambda data: client.get(f"/aktivieren/bestaetigen/{_segment(data['token'])}/"),
        examples=5,
    )

    # The new password, after following a reset link (a fresh one each time:
    # a changed password ends the old link).
    def new_password(data):
        dave = type(cast.dave).objects.get(pk=cast.dave.pk)
        uid = urlsafe_base64_encode(force_bytes(dave.pk))
        client.get(f"/passwort-neu/{uid}/{default_token_generator.make_token(dave)}/")
        return client.post(f"/passwort-neu/{uid}/set-password/", data)

    _hostile(
        {
            "new_password1": "ein langes neues Passwort",
            "new_password2": "ein langes neues Passwort",
        },
        new_password,
        examples=5,
    )
    # Step two of the activation, with a code of a member without account.
    member = Member.objects.filter(user__isnull=True).first()

    def details(data):
        ((_member, code, _expiry),) = activation_codes_create(members=[member], created_by=None)
        client.post("/aktivieren/", {"member_number": member.member_number, "code": code})
        return client.post("/aktivieren/zugang/", data)

    _hostile(
        {
            "email": "neu@example.org",
            "password1": "ein langes neues Passwort",
            "password2": "ein langes neues Passwort",
        },
        details,
        examples=5,
    )


def test_phone_log_forms(client, cast):
    client.force_login(cast.hanna)
    number = cast.alice.member.member_number
    repair = RequestType.objects.get(slug="schadensmeldung")
    _hostile(
        {"member_number": number, "request_type": str(repair.pk), "channel": "phone"},
        lambda data: client.post("/bearbeitung/anruf/", data),
        examples=8,
    )
    for request_type in RequestType.objects.filter(active=True):
        url = f"/bearbeitung/anruf/{number}/{request_type.slug}/phone/"
        _hostile(
            form_answers(request_type), lambda data, url=url: client.post(url, data), examples=3
        )
    _hostile(
        {"number": number, "slug": "schadensmeldung", "channel": "counter"},
        lambda data: client.get(
            "/bearbeitung/anruf/{}/{}/{}/".format(*(_segment(v) for v in data.values()))
        ),
        examples=8,
    )


def test_back_office_forms_of_a_request(client, cast):
    ticket = ticket_create()
    other = ticket_create()
    url = f"/bearbeitung/anliegen/{ticket.reference}/"
    client.force_login(cast.hanna)
    technik = Team.objects.get(name="Technik")

    def post(data):
        version = str(Ticket.objects.get(pk=ticket.pk).version)
        # The version as the page showed it, unless hypothesis replaced it.
        data = {k: (version if v == "VERSION" else v) for k, v in data.items()}
        return client.post(url, data)

    reply = {"action": "reply", "body": "Wir kommen am Montag.", "version": "VERSION"}
    forms = [
        {**reply, "visibility": "public", "ask_member": "on"},
        {**reply, "visibility": "internal"},  # an internal note
        {"action": "status", "status": Status.IN_PROGRESS, "version": "VERSION"},
        {
            "action": "assign",
            "team": str(technik.pk),
            "assignee": str(cast.hanna.pk),
            "version": "VERSION",
        },
        {"action": "merge", "merge-reference": other.reference, "merge-version": "VERSION"},
        {"action": "link", "link-reference": other.reference, "link-version": "VERSION"},
        {"action": "reroute", "request_type": str(ticket.request_type_id), "version": "VERSION"},
    ]
    for fields in forms:
        _hostile(fields, post, examples=4)
    _hostile({"baustein": "1"}, lambda data: client.get(url, data), examples=8)
    _hostile(
        {"version": "VERSION", "request_type": str(ticket.request_type_id)},
        lambda data: client.post(f"{url}art/", data),
        examples=6,
    )
    _hostile(
        {"reference": ticket.reference},
        lambda data: client.get(f"/bearbeitung/anliegen/{_segment(data['reference'])}/"),
        examples=8,
    )


def test_inbox_filters_and_bulk_form(client, cast):
    tickets = [ticket_create() for _ in range(2)]
    client.force_login(cast.hanna)
    technik = Team.objects.get(name="Technik")
    filters = {
        "view": "all",
        "q": "Wasserhahn",
        "status": Status.RECEIVED,
        "request_type": str(tickets[0].request_type_id),
        "estate": "",
        "building": "",
        "channel": "portal",
        "assignee": "none",
        "age": "7",
        "sort": "newest",
        "after": f"newest|{datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC).isoformat()}|5",
    }
    _hostile(filters, lambda data: client.get("/bearbeitung/", data), examples=15)

    def bulk(data):
        selected = [f"{t.pk}:{Ticket.objects.get(pk=t.pk).version}" for t in tickets]
        chosen = data.pop("bulk-selected")
        return client.post("/bearbeitung/", {**data, "bulk-selected": [*selected, chosen]})

    _hostile(
        {
            "bulk-action": "assign",
            "bulk-team": str(technik.pk),
            "bulk-assignee": str(cast.hanna.pk),
            "bulk-status": Status.RESOLVED,
            "bulk-selected": f"{tickets[0].pk}:1",
        },
        bulk,
        examples=10,
    )


def test_admin_search_and_lists(client, cast):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    for changelist in [
        "members/member",
        "accounts/user",
        "tickets/ticket",
        "audit/accesslog",
        "routing/routingrule",
    ]:
        _hostile(
            {"q": "Ahrens", "o": "1", "p": "1"},
            lambda data, changelist=changelist: client.get(f"/verwaltung/{changelist}/", data),
            examples=4,
        )
