"""Certificates answered at once (issue 15, point 3): the membership
certificate and the extract of the member's own entries in the members'
list, made from the member records as a PDF on the cooperative's letter,
read back here with pypdf; the request filed and closed by itself so the
overview still counts it; the public check of the code, which tells a
stranger nothing but cooperative, name, member since, kind and date; and
nobody but the member reaches a certificate."""

import contextlib
import datetime
import io
import re
import socket
import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError

from accounts.forms import TOO_MANY
from accounts.models import User
from certificates.codes import ALPHABET, LENGTH, code_hash, code_new, code_normal
from certificates.models import Certificate
from certificates.services import REUSE_MINUTES, certificate_request
from core.dates import date_long
from core.pdf import FetchRefused, StaticOnlyFetcher
from insights.selectors import Scope, incoming_by
from mail.models import OutboundEmail
from members.models import Contract, ContractMember, LeavingReason, Member, Shareholding
from tests.helpers import MOST, de, measured, otp_verify, repeated
from tickets.models import Attachment, Channel, RequestType, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){6}\b")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def alice_client(client, cast):
    client.force_login(cast.alice)
    return client


def issue(client, slug="mitgliedsbescheinigung") -> Certificate:
    """Mein Bereich's button, as the member presses it."""
    response = client.post(reverse("certificates:issue", args=[slug]))
    assert response.status_code == 302, response.content.decode()[:500]
    certificate = Certificate.objects.latest("pk")
    assert response["Location"] == reverse("certificates:detail", args=[certificate.pk])
    return certificate


def pdf_text(response) -> str:
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def download(client, certificate) -> str:
    response = client.get(reverse("certificates:download", args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".pdf" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    return pdf_text(response)


def german_amount(value) -> str:
    with translation.override("de"):
        return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)


def in_german(function, *args):
    with translation.override("de"):
        return function(*args)


# The PDF ---------------------------------------------------------------------------


def test_membership_certificate_says_what_the_records_say(alice_client, cast):
    member = cast.alice.member
    holdings = list(member.shareholdings.all())
    count = sum(h.count for h in holdings)
    total = sum(h.total for h in holdings)
    certificate = issue(alice_client)
    text = download(alice_client, certificate)

    assert "Alice Ahrens" in text
    assert member.member_number in text
    assert in_german(date_long, member.joined_on) in text
    assert in_german(date_long, timezone.localdate()) in text  # the date of issue
    assert de("Membership certificate") in text
    address = certificate.facts["member"]["address"]
    assert address and all(line in text for line in address)  # in the window
    with translation.override("de"):
        sentence = de(
            "We hereby confirm that %(name)s has been a member of %(cooperative)s since %(joined)s."
        ) % {
            "name": "Alice Ahrens",
            "cooperative": certificate.facts["cooperative"]["name"],
            "joined": date_long(member.joined_on),
        }
    assert sentence in text
    assert f"{count} Anteile, {german_amount(total)} €" in text
    for holding in holdings:
        assert (
            f"{holding.count} × {german_amount(holding.nominal_value)} € = "
            f"{german_amount(holding.total)} €"
        ) in text
    # The letter's footer: what § 25a GenG requires on business letters.
    assert "Amtsgericht Berlin-Charlottenburg, GnR 123 B" in text
    assert "Petra Muster, Klaus Beispiel" in text
    assert certificate.ticket.reference in text

    # The code on the paper is the one stored (as a hash): it checks out.
    [code] = CODE.findall(text)
    assert code_hash(code_normal(code)) == certificate.code_hash
    assert alice_client.get(f"/pruefen/{code}/").status_code == 200
    # Only the hash is stored.
    assert code.replace("-", "") not in str(Certificate.objects.values().get(pk=certificate.pk))


def test_extract_from_the_members_list_holds_the_entries_of_gen_g_30(alice_client, cast):
    member = cast.alice.member
    certificate = issue(alice_client, "auszug-mitgliederliste")
    assert certificate.kind == "register_extract"
    text = download(alice_client, certificate)
    assert de("Extract from the members' list (§ 31 GenG)") in text
    assert "Alice Ahrens" in text
    for line in certificate.facts["member"]["address"]:
        assert line in text
    assert in_german(date_long, member.joined_on) in text
    for holding in member.shareholdings.all():
        assert f"{holding.count} × {german_amount(holding.nominal_value)} €" in text
    assert de("no leaving entered") in text


def test_the_extract_names_the_date_and_reason_of_leaving(alice_client, cast):
    """GenG § 30 (2): the members' list holds the date and the reason of
    leaving, so the extract of the member's entries does too."""
    left = timezone.localdate() - datetime.timedelta(days=3)
    Member.objects.filter(pk=cast.alice.member.pk).update(left_on=left, left_reason="transfer")
    text = " ".join(download(alice_client, issue(alice_client, "auszug-mitgliederliste")).split())
    with translation.override("de"):
        reason = str(LeavingReason.TRANSFER.label)
        expected = de("left on %(date)s") % {"date": date_long(left)}
    assert f"{expected} ({reason})" in text


def test_a_member_who_left_is_certified_in_the_past_tense(alice_client, cast):
    member = cast.alice.member
    Member.objects.filter(pk=member.pk).update(
        left_on=timezone.localdate() - datetime.timedelta(days=3)
    )
    member.refresh_from_db()
    text = download(alice_client, issue(alice_client))
    with translation.override("de"):
        expected = de(
            "We hereby confirm that %(name)s was a member of %(cooperative)s from %(joined)s "
            "until %(left)s."
        ) % {
            "name": "Alice Ahrens",
            "cooperative": "Wohnungsgenossenschaft Beispiel eG",
            "joined": date_long(member.joined_on),
            "left": date_long(member.left_on),
        }
    assert expected in text


def test_the_certificate_is_in_the_members_language(alice_client, cast):
    User.objects.filter(pk=cast.alice.pk).update(language="en")
    member = cast.alice.member
    certificate = issue(alice_client)
    text = download(alice_client, certificate)
    # Tagged for screen readers, in her language.
    with certificate.attachment.file.open("rb") as handle:
        root = PdfReader(io.BytesIO(handle.read())).trailer["/Root"]
    assert root["/Lang"] == "en"
    assert "/StructTreeRoot" in root
    with translation.override("en"):
        joined = date_long(member.joined_on)
    assert "Membership certificate" in text
    assert f"has been a member of Wohnungsgenossenschaft Beispiel eG since {joined}." in text
    assert "Mitgliedsbescheinigung" not in text


# The request behind it ----------------------------------------------------------------


def test_the_request_is_filed_and_closed_and_the_overview_counts_it(alice_client, cast):
    mails = OutboundEmail.objects.count()
    certificate = issue(alice_client)
    ticket = Ticket.objects.get(pk=certificate.ticket_id)
    assert ticket.request_type.slug == "mitgliedsbescheinigung"
    assert ticket.channel == Channel.PORTAL
    assert ticket.member == cast.alice.member
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None
    assert not ticket.shared_with_household  # personal, as the form says
    kinds = list(ticket.events.values_list("kind", "public", "actor"))
    assert kinds == [
        (TicketEvent.Kind.OPENED, True, cast.alice.pk),
        (TicketEvent.Kind.REPLY, True, None),  # the portal's answer, with the PDF
        (TicketEvent.Kind.STATUS, True, None),
    ]
    status = ticket.events.get(kind=TicketEvent.Kind.STATUS)
    assert status.data == {"from": Status.RECEIVED, "to": Status.CLOSED}
    pdf = Attachment.objects.get(ticket=ticket)
    assert pdf == certificate.attachment and pdf.content_type == "application/pdf"
    assert pdf.event.kind == TicketEvent.Kind.REPLY
    assert OutboundEmail.objects.count() == mails  # nobody is e-mailed
    # The overview counts it by its type like any request.
    today = timezone.localdate()
    counts = {
        row.key: row.values["count"] for row in incoming_by(Scope(today, today), "request_type")
    }
    assert counts[str(ticket.request_type_id)] == 1
    # The member finds it among her requests, with the PDF.
    page = alice_client.get(reverse("tickets:detail", args=[ticket.reference])).content.decode()
    assert pdf.original_name in page
    assert de("This request is closed.") in page


def test_a_second_click_soon_after_gives_the_same_certificate(alice_client, cast):
    first = issue(alice_client)
    again = issue(alice_client)
    assert again.pk == first.pk
    assert Ticket.objects.filter(member=cast.alice.member).count() == 1
    # Half an hour later it is a new request and a new certificate.
    Certificate.objects.filter(pk=first.pk).update(
        issued_at=timezone.now() - datetime.timedelta(minutes=REUSE_MINUTES + 1)
    )
    later = issue(alice_client)
    assert later.pk != first.pk and later.code_hash != first.code_hash
    # So is one that would say something else (a share subscribed meanwhile).
    Shareholding.objects.filter(member=cast.alice.member, kind="voluntary").update(count=9)
    changed = issue(alice_client)
    assert changed.pk != later.pk
    assert changed.facts["shares_count"] != later.facts["shares_count"]
    assert Ticket.objects.filter(member=cast.alice.member).count() == 3
    # The other kind is another certificate.
    assert issue(alice_client, "auszug-mitgliederliste").pk != changed.pk


def test_the_form_issues_it_with_the_purpose_and_keeps_input_on_errors(alice_client, cast):
    # The form list and the old address lead to the certificate's form.
    new = alice_client.get(reverse("tickets:new")).content.decode()
    assert reverse("certificates:request", args=["mitgliedsbescheinigung"]) in new
    old = alice_client.get(reverse("tickets:form", args=["mitgliedsbescheinigung"]))
    assert old["Location"] == reverse("certificates:request", args=["mitgliedsbescheinigung"])
    url = reverse("certificates:request", args=["mitgliedsbescheinigung"])
    assert alice_client.get(url).status_code == 200

    refused = alice_client.post(url, {"purpose": "Wohngeldstelle"})
    assert refused.status_code == 200
    assert "Wohngeldstelle" in refused.content.decode()
    assert not Certificate.objects.exists() and not Ticket.objects.exists()

    response = alice_client.post(url, {"purpose": "Wohngeldstelle", "delivery": "download"})
    certificate = Certificate.objects.get()
    assert response["Location"] == reverse("certificates:detail", args=[certificate.pk])
    assert certificate.ticket.answers == {"purpose": "Wohngeldstelle", "delivery": "download"}
    text = download(alice_client, certificate)
    assert "Wohngeldstelle" in text


def test_by_post_the_request_stays_open_for_the_office_with_the_letter(alice_client, cast):
    url = reverse("certificates:request", args=["mitgliedsbescheinigung"])
    response = alice_client.post(url, {"delivery": "post"})
    certificate = Certificate.objects.get()
    ticket = certificate.ticket
    assert response["Location"] == reverse("tickets:detail", args=[ticket.reference])
    ticket.refresh_from_db()
    assert ticket.status == Status.RECEIVED and ticket.team.name == "Mitgliederwesen"
    note = ticket.events.get(kind=TicketEvent.Kind.NOTE)
    assert not note.public and note.attachments.get() == certificate.attachment
    # The member sees her request waiting, not the office's letter.
    page = alice_client.get(response["Location"]).content.decode()
    assert certificate.attachment.original_name not in page
    # The usual confirmation goes out.
    assert OutboundEmail.objects.filter(to="alice@example.org").exists()
    # The office (an admin sees every team) has the letter on the request.
    ada = Client_for(cast.ada)
    staff_page = ada.get(reverse("backoffice:ticket", args=[ticket.reference])).content.decode()
    assert certificate.attachment.original_name in staff_page


def Client_for(user):
    client = Client()
    client.force_login(user)
    if user.needs_second_step:
        otp_verify(client, user)
    return client


def test_mein_bereich_offers_both_certificates(alice_client):
    page = alice_client.get(reverse("portal:member_home")).content.decode()
    assert de("Download membership certificate") in page
    assert de("Extract from the members' list") in page
    assert reverse("certificates:issue", args=["mitgliedsbescheinigung"]) in page
    assert reverse("certificates:issue", args=["auszug-mitgliederliste"]) in page


def test_a_form_without_a_certificate_is_no_certificate_form(alice_client):
    for name in ("certificates:request", "certificates:issue"):
        response = alice_client.post(reverse(name, args=["schadensmeldung"]))
        assert response.status_code == 404
    assert not Ticket.objects.exists()


# Nobody else ---------------------------------------------------------------------------


def _next_tenant(cast) -> User:
    """Nora moves into alice's flat after alice's contract ended."""
    contract = Contract.objects.current().get(members=cast.alice.member)
    today = timezone.localdate()
    Contract.objects.filter(pk=contract.pk).update(end=today - datetime.timedelta(days=1))
    nora = Member.objects.create(
        member_number="30001", first_name="Nora", last_name="Nachmieterin", joined_on=today
    )
    Contract.objects.create(
        number="NV-NORA", unit=contract.unit, start=today, monthly_fee=contract.monthly_fee
    ).members.add(nora)
    return User.objects.create_user(email="nora@example.org", password="x" * 20, member=nora)


def _partner_added_later(cast) -> User:
    contract = Contract.objects.current().get(members=cast.alice.member)
    paul = Member.objects.create(
        member_number="30002",
        first_name="Paul",
        last_name="Partner",
        joined_on=timezone.localdate(),
    )
    ContractMember.objects.create(contract=contract, member=paul, joined=timezone.localdate())
    return User.objects.create_user(email="paul@example.org", password="x" * 20, member=paul)


@pytest.mark.parametrize("who", ["bob", "dave", "next_tenant", "partner_added_later", "hanna"])
def test_nobody_else_reaches_alices_certificate(client, cast, who):
    client.force_login(cast.alice)
    certificate = issue(client)
    # Shared with the household or not: the certificate is hers.
    users = {
        "bob": lambda: cast.bob,
        "dave": lambda: cast.dave,
        "next_tenant": lambda: _next_tenant(cast),
        "partner_added_later": lambda: _partner_added_later(cast),
        "hanna": lambda: cast.hanna,
    }
    other = users[who]()
    client.force_login(other)
    for name in ("certificates:detail", "certificates:download"):
        assert client.get(reverse(name, args=[certificate.pk])).status_code == 404, name
    attachment = reverse(
        "tickets:attachment", args=[certificate.ticket.reference, certificate.attachment_id]
    )
    assert client.get(attachment).status_code == 404
    # Nor by issuing: their own certificate is theirs, never alice's.
    if who != "hanna":
        mine = issue(client)
        assert mine.member.user == other and mine.pk != certificate.pk


def test_logged_out_the_member_pages_ask_for_the_login(client, cast):
    client.force_login(cast.alice)
    certificate = issue(client)
    client.logout()
    for name, args in [
        ("certificates:detail", [certificate.pk]),
        ("certificates:download", [certificate.pk]),
        ("certificates:request", ["mitgliedsbescheinigung"]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and "/anmelden/" in response["Location"]


# The public check ------------------------------------------------------------------


def _issued_with_code(cast) -> tuple[Certificate, str]:
    code = code_new()
    certificate = certificate_request(
        request_type=RequestType.objects.get(slug="mitgliedsbescheinigung"),
        member=cast.alice.member,
        answers={},
        channel=Channel.PORTAL,
        created_by=cast.alice,
    )
    # The code the PDF carries is unknown here; give the row one we know.
    Certificate.objects.filter(pk=certificate.pk).update(code_hash=code_hash(code))
    return certificate, code


def _verified_rows(html: str) -> list[tuple[str, str]]:
    block = re.search(r"<dl[^>]*data-verified>(.*?)</dl>", html, re.S).group(1)
    return [
        (re.sub(r"\s+", " ", dt).strip(), re.sub(r"\s+", " ", dd).strip())
        for dt, dd in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block, re.S)
    ]


def test_the_check_shows_exactly_the_allowed_facts(client, cast):
    certificate, code = _issued_with_code(cast)
    member = cast.alice.member
    response = client.get(f"/pruefen/{code[:4]}-{code[4:]}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    with translation.override("de"):
        issued = date_format(timezone.localtime(certificate.issued_at), "DATE_FORMAT")
        since = date_long(member.joined_on)
    assert _verified_rows(html) == [
        (de("Cooperative"), "Wohnungsgenossenschaft Beispiel eG"),
        (de("Member"), "Alice Ahrens"),
        (de("Member since"), since),
        (de("Kind"), de("membership certificate").capitalize()),
        (de("Issued on"), issued),
    ]
    main = html.split('id="main"', 1)[1].split("</main>", 1)[0]
    for secret in [
        member.member_number,
        *certificate.facts["member"]["address"],
        de("Shares subscribed"),
        de("Member number"),
        certificate.ticket.reference,
    ]:
        assert secret not in main, secret
    # The code typed from paper, in any case, with spaces, O for 0.
    typed = " ".join(code[i : i + 4] for i in range(0, LENGTH, 4)).lower().replace("0", "o")
    response = client.post("/pruefen/", {"code": typed})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


def test_a_changed_or_unknown_code_finds_nothing_neutrally(client, cast):
    _certificate, code = _issued_with_code(cast)
    changed = ("1" if code[0] != "1" else "2") + code[1:]
    for wrong in [changed, code_new(), "abc", "0" * LENGTH, code + "A"]:
        response = client.get(f"/pruefen/{wrong}/")
        assert response.status_code == 404, wrong
        html = response.content.decode()
        assert de("No certificate found") in html
        assert "Alice" not in html and "Ahrens" not in html
    # The form says what a code looks like, and keeps what was typed.
    response = client.post("/pruefen/", {"code": "12-34"})
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        de(
            "This is not a verification code. It has 28 letters and digits; please check what "
            "you typed against the certificate."
        )
        in html
    )
    assert 'value="12-34"' in html


def test_trying_codes_is_limited_like_the_login(client, cast, settings):
    _certificate, code = _issued_with_code(cast)
    limit, _window = settings.RATE_LIMITS["certificate_verify:ip"]
    # A right code costs no try: an office checking many papers is never stopped.
    for _ in range(limit + 2):
        assert client.get(f"/pruefen/{code}/").status_code == 200
    for _ in range(limit):
        assert client.get(f"/pruefen/{code_new()}/").status_code == 404
    refused = client.get(f"/pruefen/{code}/")
    assert refused.status_code == 429
    assert de(str(TOO_MANY)) in refused.content.decode()
    assert "Alice" not in refused.content.decode()


def test_codes_are_long_random_and_read_as_typed():
    codes = {code_new() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert len(ALPHABET) ** LENGTH >= 2**128
    code = next(iter(codes))
    assert code_normal(f" {code[:7].lower()} - {code[7:]} ") == code
    assert code_normal(code.replace("1", "I")) == code
    assert code_normal(code[:-1]) is None and code_normal(code + "U") is None


# The PDF renderer fetches nothing ------------------------------------------------------


def test_the_renderer_fetches_no_url_and_no_file_outside_the_static_files():
    fetcher = StaticOnlyFetcher()
    for url in ["http://127.0.0.1/x.png", "https://example.org/a.css", "file:///etc/passwd"]:
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
    static = django_settings.STATICFILES_DIRS[0] / "css" / "site.css"
    assert fetcher.fetch(static.as_uri()).read()[:1]
    assert fetcher.fetch("data:text/plain,hallo").read() == b"hallo"

    # A letter naming a server stops, and the server hears nothing.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    calls = []

    def listen():
        with contextlib.suppress(OSError):  # nobody came within the timeout
            calls.append(server.accept())

    thread = threading.Thread(target=listen)
    thread.start()
    html = f'<p>Brief</p><img src="http://127.0.0.1:{port}/spy.png">'
    with pytest.raises(FatalURLFetchingError):
        HTML(string=html, url_fetcher=StaticOnlyFetcher()).write_pdf()
    thread.join()
    server.close()
    assert calls == []


# Speed ------------------------------------------------------------------------------------


def test_the_certificate_pages_cost_few_queries(alice_client, cast, client):
    certificate = issue(alice_client)
    for url in [
        reverse("portal:member_home"),
        reverse("certificates:detail", args=[certificate.pk]),
        reverse("certificates:download", args=[certificate.pk]),
        reverse("certificates:request", args=["mitgliedsbescheinigung"]),
    ]:
        statements = measured(alice_client, url)
        assert len(statements) <= MOST, url
        assert not repeated(statements), url
    _other, code = _issued_with_code(cast)
    client.logout()
    for url in ["/pruefen/", f"/pruefen/{code}/"]:
        statements = measured(client, url)
        assert len(statements) <= MOST, url
        assert not repeated(statements), url


def test_issuing_costs_the_same_few_queries_with_a_long_history(alice_client, cast):
    """Filing and settling reads no list that grows with the member's
    requests or certificates."""
    issue(alice_client)
    Certificate.objects.update(issued_at=timezone.now() - datetime.timedelta(hours=2))
    with CaptureQueriesContext(connection) as first:
        issue(alice_client)
    for _ in range(5):
        Certificate.objects.update(issued_at=timezone.now() - datetime.timedelta(hours=2))
        issue(alice_client)
    Certificate.objects.update(issued_at=timezone.now() - datetime.timedelta(hours=2))
    with CaptureQueriesContext(connection) as later:
        issue(alice_client)
    assert len(later.captured_queries) == len(first.captured_queries)


# Staff, for a caller ------------------------------------------------------------------


def test_staff_issue_one_for_a_caller_from_the_phone_log(client, cast):
    client.force_login(cast.hanna)
    url = f"/bearbeitung/anruf/{cast.alice.member.member_number}/mitgliedsbescheinigung/phone/"
    page = client.get(url).content.decode()
    assert de("Issue certificate") in page
    assert de("Solved on the phone: log and close") not in page
    response = client.post(
        url,
        {
            "caller": "household-20002",
            "purpose": "Jobcenter",
            "delivery": "post",
            "note": "Braucht sie bis Freitag.",
        },
    )
    certificate = Certificate.objects.get()
    ticket = Ticket.objects.get(pk=certificate.ticket_id)
    assert response["Location"] == reverse("backoffice:ticket", args=[ticket.reference])
    assert certificate.issued_by == cast.hanna and ticket.channel == Channel.PHONE
    assert ticket.contact_name.startswith("Bob Ahrens")
    assert ticket.status == Status.RECEIVED  # by post: the team posts it
    notes = list(ticket.events.filter(kind=TicketEvent.Kind.NOTE).values_list("actor", "body"))
    assert (cast.hanna.pk, "Braucht sie bis Freitag.") in notes
    # The letter is on the request (hanna sees it once it is her team's or
    # an admin looks; ada here) and says what the records say.
    ada = Client_for(cast.ada)
    staff_page = ada.get(response["Location"]).content.decode()
    assert certificate.attachment.original_name in staff_page
    with certificate.attachment.file.open("rb") as handle:
        text = " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages).split()
        )
    assert "Alice Ahrens" in text and "Jobcenter" in text
    # A second call a moment later gives the same certificate again.
    again = client.post(url, {"caller": "member", "delivery": "post", "purpose": "Jobcenter"})
    assert again["Location"] == response["Location"]
    assert Certificate.objects.count() == 1
