"""Privacy rights (issue 15, point 5): the member's copy of their data and
the retention of former members' requests.

The story: alice filed a repair report about the flat (with a photo) and
her new bank details (personal, with a scan); hanna answered the repair in
public and left an internal note with a file; alice wrote into the repair
report bob filed for the household; bob changed his bank details too
(personal: not alice's). Hanna looked at alice's request (the access log).
Alice booked a consultation and the common room. Carla joined the
contract later, nina is the next tenant, dave lives elsewhere."""

import datetime
import hashlib
import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from accounts import roles
from accounts.models import User
from appointments.models import Appointment, AppointmentType
from appointments.selectors import slots_free
from appointments.services import appointment_book
from audit.models import AccessLog
from certificates.services import certificate_request
from demo.appointments import appointments_demo_ensure
from demo.cast import staff_ensure
from demo.pdf import pdf_simple
from demo.rooms import rooms_demo_ensure
from documents.models import DocumentKind
from documents.services import About, document_publish
from insights.selectors import Scope, incoming_by, reopened_and_rated
from mail.models import InboundEmail, OutboundEmail
from members.models import Contract, ContractMember, Member, ShareMovement
from privacy.models import DataExport
from privacy.retention import privacy_retention
from privacy.services import data_export_request, data_exports_expire
from rooms.models import RoomBooking
from rooms.services import room_book, room_span
from tests.factories import TAP, photo, ticket_create
from tests.helpers import de, measured, parallel, repeated
from tickets.files import CleanFile, file_clean
from tickets.models import Attachment, Channel, RequestType, Status, Ticket, TicketEvent
from tickets.services import ticket_member_reply, ticket_open, ticket_reply

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "privacy/schema/export-v1.json").read_text()
)
NOTE = "Interne Notiz: Mieterin gilt als schwierig"
BOB_BANK = "Bobs neues Konto"
BOB_IBAN = "DE89370400440532013000"
PAGE = "/meine-daten/"
EXPORTS = DataExport._meta.get_field("file").storage  # the private storage


def scan(name="kontoauszug.pdf") -> CleanFile:
    return CleanFile(b"%PDF-1.4\n% alice\n%%EOF\n", "application/pdf", name)


def member_account(number: str, first: str, last: str) -> User:
    member = Member.objects.create(
        member_number=number, first_name=first, last_name=last, joined_on=datetime.date(2020, 1, 1)
    )
    return User.objects.create_user(f"{first.lower()}@example.org", "x" * 12, member=member)


@pytest.fixture
def world(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"
    alice, bob, hanna = cast.alice, cast.bob, cast.hanna
    bank = RequestType.objects.get(slug="bankverbindung")
    repair = ticket_open(
        request_type=RequestType.objects.get(slug="schadensmeldung"),
        member=alice.member,
        answers=dict(TAP),
        channel=Channel.PORTAL,
        created_by=alice,
        files=[file_clean(photo())],
    )
    reply = ticket_reply(
        ticket=repair, actor=hanna, body="Der Handwerker kommt am Montag.", expected_version=1,
        public=True,
    )  # fmt: skip
    repair.refresh_from_db()
    ticket_reply(
        ticket=repair,
        actor=hanna,
        body=NOTE,
        expected_version=repair.version,
        public=False,
        files=[scan("intern.pdf")],
    )
    alice_bank = ticket_create(
        request_type=bank,
        answers={
            "account_holder": "Alice Ahrens",
            "iban": "DE02120300000000202051",
            "valid_from": "2027-01-01",
            "sepa_consent": "yes",
        },
    )
    ticket_member_reply(ticket=alice_bank, user=alice, body="Anbei der Auszug", files=[scan()])
    bob_repair = ticket_create(member=bob.member, created_by=bob)
    ticket_member_reply(ticket=bob_repair, user=alice, body="Ich war auch da.", files=[])
    bob_bank = ticket_create(
        request_type=bank,
        member=bob.member,
        created_by=bob,
        answers={
            "account_holder": BOB_BANK,
            "iban": BOB_IBAN,
            "valid_from": "2027-01-01",
            "sepa_consent": "yes",
        },
    )
    dave_repair = ticket_create(member=cast.dave.member, created_by=cast.dave)
    AccessLog.objects.create(
        actor=hanna, action="view", member=alice.member, subject=repair.reference, path="/x/"
    )
    AccessLog.objects.create(
        actor=hanna, action="view", member=bob.member, subject=bob_bank.reference, path="/y/"
    )
    advisors = appointments_demo_ensure(hanna=hanna, tom=cast.tom)
    letting = AppointmentType.objects.get(slug="vermietung")
    today = timezone.localdate()
    slot = slots_free(
        appointment_type=letting,
        advisors=[advisors["tom"]],
        first_day=today,
        last_day=today + datetime.timedelta(days=28),
    )[0]
    booking = appointment_book(
        member=alice.member,
        appointment_type=letting,
        starts_at=slot.starts,
        booked_by=alice,
        advisor=advisors["tom"],
        note="Bitte klingeln",
    )
    rooms = rooms_demo_ensure(cast)
    saturday = today + datetime.timedelta(days=30)
    hall = room_book(
        room=rooms["hall"],
        member=alice.member,
        span=room_span(
            room=rooms["hall"], day=saturday, start=datetime.time(10), end=datetime.time(12)
        ),
        booked_by=alice,
    )
    certificate = certificate_request(
        request_type=RequestType.objects.get(slug="mitgliedsbescheinigung"),
        member=alice.member,
        answers={},
        channel=Channel.PORTAL,
        created_by=alice,
    )
    for member, reference, amount in (
        (alice.member, "B-1", "250.00"),
        (bob.member, "BOB-LEDGER-2", "999.00"),
    ):
        ShareMovement.objects.create(
            member=member,
            reference=reference,
            booked_on=datetime.date(2024, 3, 1),
            kind=ShareMovement.Kind.PAYMENT,
            amount=amount,
            business_year=2024,
            text="Einzahlung",
        )
    # Documents (lena of member services publishes them): alice's own, the
    # household's, and the previous tenant's statement of the same flat.
    lena = staff_ensure("lena@example.org", "Lena", "Lorenz", roles.HANDLER)
    lena.groups.add(Group.objects.get(name=roles.DOCUMENTS))
    contract = Contract.objects.get(number="NV-0101900")
    previous = Contract.objects.create(
        number="NV-0101900-V",
        unit=contract.unit,
        start=datetime.date(2005, 4, 1),
        end=datetime.date(2015, 8, 31),
        monthly_fee=contract.monthly_fee,
    )

    def publish(addressee, title, first, last=None):
        about = About(DocumentKind.STATEMENT, title, first, last or first)
        data = pdf_simple(title, [])
        upload = SimpleUploadedFile("dokument.pdf", data, content_type="application/pdf")
        return document_publish(actor=lena, upload=upload, addressee=addressee, about=about)

    documents = {
        "own": publish(alice.member, "Einladung Vertreterversammlung", today),
        "household": publish(
            contract,
            "Betriebskostenabrechnung 2025",
            datetime.date(2025, 1, 1),
            datetime.date(2025, 12, 31),
        ),
        "previous": publish(
            previous,
            "Betriebskostenabrechnung 2014",
            datetime.date(2014, 1, 1),
            datetime.date(2014, 12, 31),
        ),
        "bob": publish(bob.member, "Bobs Brief", today),
        "dave": publish(cast.dave.member, "Daves Brief", today),
    }
    carla = member_account("20777", "Carla", "Neu")
    ContractMember.objects.create(
        contract=contract, member=carla.member, joined=today - datetime.timedelta(days=10)
    )
    nina = member_account("20888", "Nina", "Nachmieterin")
    return {
        "repair": repair,
        "reply": reply,
        "alice_bank": alice_bank,
        "bob_repair": bob_repair,
        "bob_bank": bob_bank,
        "dave_repair": dave_repair,
        "certificate": certificate,
        "documents": documents,
        "appointment": booking.appointment,
        "hall": hall,
        "carla": carla,
        "nina": nina,
    }


def next_tenant_moves_in(nina: User) -> None:
    contract = Contract.objects.get(number="NV-0101900")
    today = timezone.localdate()
    Contract.objects.filter(pk=contract.pk).update(end=today - datetime.timedelta(days=1))
    Contract.objects.create(
        number="NV-0101900-2", unit=contract.unit, start=today, monthly_fee=contract.monthly_fee
    ).members.add(nina.member)


def requested(client, capture) -> DataExport:
    """The member asks on the page; the worker runs (on commit, at once)."""
    with capture(execute=True):
        response = client.post(PAGE)
    assert response.status_code == 302
    return DataExport.objects.latest("created_at")


def download(client, export: DataExport) -> zipfile.ZipFile:
    response = client.get(f"{PAGE}{export.public_id}/datei/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == export.sha256
    return zipfile.ZipFile(io.BytesIO(body))


# The export -------------------------------------------------------------------


def test_it_gives_the_member_everything_and_nobody_else_s(
    client, cast, world, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice)
    export = requested(client, django_capture_on_commit_callbacks)
    assert export.status == DataExport.Status.READY and export.member == cast.alice.member
    page = client.get(PAGE).content.decode()
    # Told on the page after asking (the worker ran after the request).
    assert (
        de("We are preparing your data. We will send you an e-mail as soon as you can download it.")
        in page
    )
    assert f"{PAGE}{export.public_id}/datei/" in page and export.sha256 in page

    archive = download(client, export)
    assert archive.testzip() is None
    names = set(archive.namelist())
    assert {"data.json", "uebersicht.pdf", "LIESMICH.txt"} <= names
    data = json.loads(archive.read("data.json"))
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    references = [r["reference"] for r in data["requests"]]
    certificate = world["certificate"]
    assert references == [
        world["repair"].reference,
        world["alice_bank"].reference,
        certificate.ticket.reference,
    ]
    # Her documents and the household's, with their PDFs; not the previous
    # tenant's statement of the flat, not bob's or dave's letters.
    documents = world["documents"]
    assert [d["title"] for d in data["documents"]] == [
        "Betriebskostenabrechnung 2025",
        "Einladung Vertreterversammlung",
    ]
    for row in data["documents"]:
        stored = documents["own" if row["addressed_to"] == "member" else "household"]
        assert archive.read(row["path"]) == stored.file.read()
        assert hashlib.sha256(archive.read(row["path"])).hexdigest() == row["sha256"]
    # The certificate: what it said, and its PDF with the request's files.
    [issued] = data["certificates"]
    assert issued["kind"] == "membership" and issued["request"] == certificate.ticket.reference
    assert issued["facts"] == json.loads(json.dumps(certificate.facts))
    assert archive.read(issued["path"]) == certificate.attachment.file.read()
    repair = data["requests"][0]
    texts = [event["text"] for event in repair["history"]]
    assert "Der Handwerker kommt am Montag." in texts
    assert {event["kind"] for event in repair["history"]} <= {"opened", "reply", "status"}
    bank = data["requests"][1]
    assert {a["key"]: a["value"] for a in bank["answers"]}["iban"] == "DE02120300000000202051"
    assert [e["author"] for e in bank["history"] if e["kind"] == "member_reply"] == ["member"]
    # Every file named is in the ZIP, byte for byte as stored.
    paths = [
        (a["path"], a["file_name"])
        for r in data["requests"]
        for e in r["history"]
        for a in e["attachments"]
    ]
    assert sorted(name for _, name in paths) == sorted(
        ["kaputt.jpg", "kontoauszug.pdf", certificate.attachment.original_name]
    )
    for path, name in paths:
        stored = Attachment.objects.get(original_name=name, ticket__member=cast.alice.member)
        assert archive.read(path) == stored.file.read()
    # Her own words in bob's household request, without bob's request.
    assert [(m["reference"], m["text"]) for m in data["household_messages"]] == [
        (world["bob_repair"].reference, "Ich war auch da.")
    ]
    assert [a["id"] for a in data["appointments"]] == [str(world["appointment"].public_id)]
    assert data["appointments"][0]["note"] == "Bitte klingeln"
    assert [b["id"] for b in data["room_bookings"]] == [str(world["hall"].public_id)]
    assert data["access_log"] == [
        {
            "at": data["access_log"][0]["at"],
            "action": "view",
            "role": "Bearbeitung",
            "subject": world["repair"].reference,
        }
    ]
    # Her bookings on shares and balance (the demo's ledger and one more), not bob's.
    ledger = [(m["reference"], m["amount"]) for m in data["share_movements"]]
    assert ("B-1", "250.00") in ledger
    assert {reference for reference, _ in ledger} == set(
        ShareMovement.objects.filter(member=cast.alice.member).values_list("reference", flat=True)
    )
    assert data["member"]["member_number"] == cast.alice.member.member_number
    assert data["account"]["email"] == "alice@example.org"

    # Nothing of the office's internal work, nothing of bob's or dave's.
    everything = b"".join(archive.read(name) for name in names)
    for secret in (
        "BOB-LEDGER-2",
        "Betriebskostenabrechnung 2014",
        "Bobs Brief",
        "Daves Brief",
        NOTE,
        "intern.pdf",
        BOB_BANK,
        BOB_IBAN,
        world["bob_bank"].reference,
        world["dave_repair"].reference,
        "argon2",
        cast.hanna.email,
    ):
        assert secret.encode() not in everything, secret
    # The readable summary: the cooperative's letter to alice, as text.
    summary = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(archive.read("uebersicht.pdf"))).pages
    )
    assert "Alice" in summary and world["repair"].reference in summary
    assert world["alice_bank"].reference in summary and certificate.ticket.reference in summary
    assert NOTE not in summary and BOB_BANK not in summary


def test_it_answers_404_to_everyone_else(client, cast, world, django_capture_on_commit_callbacks):
    client.force_login(cast.alice)
    export = requested(client, django_capture_on_commit_callbacks)
    url = f"{PAGE}{export.public_id}/datei/"
    next_tenant_moves_in(world["nina"])
    for user in (cast.bob, world["carla"], world["nina"], cast.dave, cast.hanna):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
        page = client.get(PAGE)
        if user.is_staff:
            assert page.status_code == 404
        else:  # their own page, without alice's export
            assert page.status_code == 200 and str(export.public_id) not in page.content.decode()
    client.logout()
    assert client.get(url)["Location"].startswith("/anmelden/")
    # Alice's own download is in the access log, for the office to see.
    assert AccessLog.objects.filter(actor=cast.alice, action="export").count() == 0
    client.force_login(cast.alice)
    b"".join(client.get(url).streaming_content)
    assert AccessLog.objects.filter(
        actor=cast.alice, action="export", member=cast.alice.member
    ).exists()
    export.refresh_from_db()
    assert export.downloaded_at is not None
    assert client.post(url).status_code == 405


def test_a_second_request_while_one_is_prepared_is_the_same_one(client, cast, world, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client.force_login(cast.alice)
    first = data_export_request(user=cast.alice)
    second = data_export_request(user=cast.alice)
    assert first.pk == second.pk and first.status == DataExport.Status.REQUESTED
    assert DataExport.objects.count() == 1
    page = client.get(PAGE).content.decode()
    main = page.split("<main")[1].split("</main>")[0]
    assert de("Check again") in main and 'action="/meine-daten/"' not in main
    assert client.post(PAGE).status_code == 302
    assert DataExport.objects.count() == 1


def test_two_requests_at_once_make_one_export(cast, settings, transactional_db):
    """Two tabs send the form at the same moment: the member's row lock
    (and the unique constraint behind it) leaves one export, and both get it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    alice = User.objects.get(email="alice@example.org")
    results = parallel(2, lambda _: data_export_request(user=alice).pk)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0] == results[1] and DataExport.objects.count() == 1


def test_a_ready_copy_is_replaced_by_a_new_one(
    client, cast, world, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice)
    first = requested(client, django_capture_on_commit_callbacks)
    stored = first.file.name
    assert EXPORTS.exists(stored)
    second = requested(client, django_capture_on_commit_callbacks)
    assert second.pk != first.pk and second.status == DataExport.Status.READY
    first.refresh_from_db()
    assert first.status == DataExport.Status.EXPIRED and not EXPORTS.exists(stored)
    assert client.get(f"{PAGE}{first.public_id}/datei/").status_code == 404


def test_a_failure_half_way_offers_nothing_and_the_member_tries_again(
    client, cast, world, django_capture_on_commit_callbacks
):
    """The worker fails after data.json and the first file (the scan has
    gone from storage): the row is failed, no file is kept or offered;
    once the scan is back, trying again gives the complete copy."""
    attachment = Attachment.objects.get(original_name="kontoauszug.pdf")
    content = attachment.file.read()
    attachment.file.close()
    default_storage.delete(attachment.file.name)
    client.force_login(cast.alice)
    export = requested(client, django_capture_on_commit_callbacks)
    assert export.status == DataExport.Status.FAILED
    assert export.error == "FileNotFoundError" and not export.file
    exports_dir = Path(EXPORTS.location) / "privacy"
    assert not [p for p in exports_dir.rglob("*") if p.is_file()]
    page = client.get(PAGE).content.decode()
    assert de("Try again") in page and "/datei/" not in page
    assert client.get(f"{PAGE}{export.public_id}/datei/").status_code == 404

    default_storage.save(attachment.file.name, io.BytesIO(content))
    again = requested(client, django_capture_on_commit_callbacks)
    assert again.pk == export.pk and again.status == DataExport.Status.READY
    assert again.attempts == 2
    assert "kontoauszug.pdf" in "".join(download(client, again).namelist())


def test_a_worker_that_stopped_is_found_by_the_timer(
    client, cast, world, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    export = data_export_request(user=cast.alice)
    half = EXPORTS.save("privacy/exports/half.zip", io.BytesIO(b"PK\x03\x04half"))
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    DataExport.objects.filter(pk=export.pk).update(
        status=DataExport.Status.PREPARING, started_at=long_ago, file=half
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = data_exports_expire()
    assert (report.stopped, report.expired) == (1, 0)
    export.refresh_from_db()
    assert export.status == DataExport.Status.FAILED and not EXPORTS.exists(half)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client.force_login(cast.alice)
    assert requested(client, django_capture_on_commit_callbacks).status == "ready"


def test_the_timer_deletes_expired_copies(client, cast, world, django_capture_on_commit_callbacks):
    client.force_login(cast.alice)
    export = requested(client, django_capture_on_commit_callbacks)
    name = export.file.name
    assert export.expires_at - export.ready_at == datetime.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("privacy_exports_expire", verbosity=0)
    assert EXPORTS.exists(name)  # not yet
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert data_exports_expire().expired == 1
        assert data_exports_expire().expired == 0
    export.refresh_from_db()
    assert export.status == DataExport.Status.EXPIRED and not EXPORTS.exists(name)
    assert client.get(f"{PAGE}{export.public_id}/datei/").status_code == 404
    assert de("Request my data") in client.get(PAGE).content.decode()


def test_the_member_is_told_by_e_mail_in_their_language(cast, world, outbox, client):
    User.objects.filter(pk=cast.alice.pk).update(language="en")
    client.force_login(cast.alice)
    assert client.post(PAGE).status_code == 302
    export = DataExport.objects.get()
    assert export.status == DataExport.Status.READY
    [email] = [m for m in outbox if "ready to download" in m.subject]
    assert email.to == ["alice@example.org"]
    assert "http://testserver/meine-daten/" in email.body
    assert str(export.public_id) not in email.body  # the page, not the file


def test_the_page_and_the_download_ask_little(
    client, cast, world, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice)
    for url in (PAGE,):
        statements = measured(client, url)
        assert len(statements) <= 12 and not repeated(statements), statements
    export = requested(client, django_capture_on_commit_callbacks)
    statements = measured(client, PAGE)
    assert len(statements) <= 12 and not repeated(statements), statements
    url = f"{PAGE}{export.public_id}/datei/"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        b"".join(response.streaming_content)
    sql = [q["sql"] for q in captured.captured_queries]
    assert len(sql) <= 12 and not repeated(sql), sql


# Retention --------------------------------------------------------------------

YEARS_AGO_4 = datetime.timedelta(days=4 * 366)
YEARS_AGO_1 = datetime.timedelta(days=366)
GENG_30 = ("member_number", "first_name", "last_name", "street", "postcode", "city")


def _finished(ticket: Ticket, ago: datetime.timedelta) -> Ticket:
    when = timezone.now() - ago
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.CLOSED, closed_at=when, created_at=when - datetime.timedelta(days=3)
    )
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def former(cast, settings, tmp_path):
    """Frieda left the cooperative five years ago; her repair report was
    closed four years ago (due), her letter one year ago (not yet). Gerd
    left last year with a request closed four years ago (due). Alice is a
    member: her request closed four years ago stays as it is."""
    settings.MEDIA_ROOT = tmp_path / "media"
    today = timezone.localdate()
    frieda = member_account("20901", "Frieda", "Früher")
    Member.objects.filter(pk=frieda.member.pk).update(
        joined_on=datetime.date(2001, 1, 1),
        left_on=today - datetime.timedelta(days=5 * 366),
        left_reason="cancellation",
        street="Alte Straße 1",
        postcode="12345",
        city="Altstadt",
    )
    ShareMovement.objects.create(
        member=frieda.member,
        reference="B-F1",
        booked_on=datetime.date(2020, 12, 31),
        kind=ShareMovement.Kind.PAYOUT,
        shares=0,
        amount="300.00",
        business_year=2020,
        text="Auszahlung Auseinandersetzungsguthaben",
    )
    gerd = member_account("20902", "Gerd", "Gegangen")
    Member.objects.filter(pk=gerd.member.pk).update(
        joined_on=datetime.date(2001, 1, 1), left_on=today - datetime.timedelta(days=200)
    )
    hanna = cast.hanna
    due = ticket_create(
        member=frieda.member,
        channel=Channel.PHONE,
        created_by=hanna,
        contact_name="Fritz Früher",
        contact_phone="030 1234567",
        answers={
            "room": "kitchen",
            "what": "Frieda Früher meldet Schimmel.",
            "urgency": "normal",
            "master_key": "yes",
        },
    )
    ticket_member_reply(ticket=due, user=frieda, body="Gruß, Frieda Früher", files=[scan()])
    due.refresh_from_db()
    ticket_reply(ticket=due, actor=hanna, body="Notiz zu Frieda", expected_version=due.version,
                 public=False)  # fmt: skip
    Ticket.objects.filter(pk=due.pk).update(rating=4, rating_comment="Danke, Frieda")
    InboundEmail.objects.create(
        mailbox="service",
        content_hash="f" * 64,
        raw=b"From: frieda@example.org\r\n\r\nHallo\r\n",
        size=40,
        sender="frieda@example.org",
        subject="Schimmel",
        status=InboundEmail.Status.REPLY,
        ticket_reference=due.reference,
    )
    due = _finished(due, YEARS_AGO_4)
    # Delivered long ago (e-mails still being delivered are left alone).
    OutboundEmail.objects.update(status=OutboundEmail.Status.SENT)
    recent = _finished(
        ticket_create(member=frieda.member, created_by=frieda, channel=Channel.PORTAL),
        YEARS_AGO_1,
    )
    gerd_due = _finished(
        ticket_create(member=gerd.member, created_by=gerd, channel=Channel.PORTAL), YEARS_AGO_4
    )
    alice_old = _finished(ticket_create(), YEARS_AGO_4)
    # A home visit and a guest apartment stay of frieda's, four years ago.
    advisor = appointments_demo_ensure(hanna=hanna, tom=cast.tom)["hanna"]
    starts = timezone.now() - YEARS_AGO_4
    visit = Appointment.objects.create(
        advisor=advisor,
        appointment_type=AppointmentType.objects.get(slug="technik-vor-ort"),
        member=frieda.member,
        booked_by=frieda,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=1),
        busy_from=starts,
        busy_until=starts + datetime.timedelta(hours=1),
        status=Appointment.Status.ATTENDED,
        location="Alte Straße 1, Altstadt",
        note="Bei Früher klingeln",
        ticket=due,
    )
    stay = RoomBooking.objects.create(
        room=rooms_demo_ensure(cast)["flat"],
        member=frieda.member,
        booked_by=frieda,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(days=2),
        busy_until=starts + datetime.timedelta(days=2, hours=3),
        units=2,
        price="70.00",
        persons=2,
        purpose="Besuch von Fritz Früher",
        status=RoomBooking.Status.CONFIRMED,
    )
    return {
        "visit": visit,
        "stay": stay,
        "frieda": frieda,
        "gerd": gerd,
        "due": due,
        "recent": recent,
        "gerd_due": gerd_due,
        "alice_old": alice_old,
    }


def _figures() -> dict:
    """The overview's counts of requests received in the last six years."""
    today = timezone.localdate()
    scope = Scope(first_day=today - datetime.timedelta(days=6 * 366), last_day=today)
    by = {
        dimension: [(row.label, row.values["count"]) for row in incoming_by(scope, dimension)]
        for dimension in ("request_type", "team", "channel", "estate")
    }
    return {**by, "rated": reopened_and_rated(scope)}


def _snapshot() -> dict:
    return {
        "tickets": list(Ticket.objects.order_by("pk").values()),
        "events": list(TicketEvent.objects.order_by("pk").values()),
        "attachments": list(Attachment.objects.order_by("pk").values_list("pk", "file")),
        "users": list(User.objects.order_by("pk").values()),
        "inbound": list(InboundEmail.objects.order_by("pk").values()),
        "outbound": list(OutboundEmail.objects.order_by("pk").values()),
        "appointments": list(Appointment.objects.order_by("pk").values()),
        "room_bookings": list(RoomBooking.objects.order_by("pk").values()),
    }


def test_retention_anonymises_former_members_requests_after_the_period(
    former, django_capture_on_commit_callbacks
):
    frieda = former["frieda"]
    members_before = {
        m.pk: {f: getattr(m, f) for f in (*GENG_30, "joined_on", "left_on", "left_reason")}
        for m in Member.objects.all()
    }
    shares_before = list(Member.objects.values_list("shareholdings__count", "shareholdings__kind"))
    ledger_before = list(ShareMovement.objects.order_by("pk").values())
    figures_before = _figures()
    scan_name = Attachment.objects.get(ticket=former["due"]).file.name
    untouched = {
        key: Ticket.objects.filter(pk=former[key].pk).values().get()
        for key in ("recent", "alice_old")
    }

    dry = privacy_retention(dry_run=True)
    assert dry.requests == 2 and dry.accounts == 1
    assert _snapshot()["tickets"] == list(Ticket.objects.order_by("pk").values())
    assert Ticket.objects.get(pk=former["due"].pk).member_id == frieda.member.pk

    with django_capture_on_commit_callbacks(execute=True):
        report = privacy_retention()
    assert report.as_dict() == dry.as_dict()
    assert (report.requests, report.attachments, report.emails_in, report.accounts) == (2, 1, 1, 1)
    assert (report.appointments, report.room_bookings) == (1, 1)
    visit = Appointment.objects.get(pk=former["visit"].pk)
    assert (visit.note, visit.location, visit.ticket_id) == ("", "", None)
    assert visit.status == Appointment.Status.ATTENDED and visit.member_id == frieda.member.pk
    stay = RoomBooking.objects.get(pk=former["stay"].pk)
    assert stay.purpose == "" and str(stay.price) == "70.00"

    due = Ticket.objects.get(pk=former["due"].pk)
    assert due.member_id is None
    assert due.answers == {"room": "kitchen", "urgency": "normal", "master_key": "yes"}
    assert (due.contact_name, due.contact_phone, due.rating_comment) == ("", "", "")
    assert due.rating == 4 and due.status == Status.CLOSED
    assert not TicketEvent.objects.filter(ticket=due).exclude(body="").exists()
    assert TicketEvent.objects.filter(ticket=due).count() >= 3  # the history's frame stays
    assert not Attachment.objects.filter(ticket=due).exists()
    assert not default_storage.exists(scan_name)
    mail = InboundEmail.objects.get(ticket_reference=due.reference)
    assert (bytes(mail.raw), mail.sender, mail.subject) == (b"", "", "")
    assert not OutboundEmail.objects.filter(thread=due.reference).exclude(body="").exists()
    assert "Frieda" not in json.dumps(_snapshot()["tickets"], default=str)
    # Frieda left five years ago: her login is gone; Gerd left last year.
    account = User.objects.get(pk=frieda.pk)
    assert account.member_id is None and not account.is_active
    assert "frieda" not in account.email and not account.has_usable_password()
    assert User.objects.get(pk=former["gerd"].pk).member_id == former["gerd"].member.pk
    assert Ticket.objects.get(pk=former["gerd_due"].pk).member_id is None

    # Not yet due, or still a member: as it was.
    for key, row in untouched.items():
        assert Ticket.objects.filter(pk=former[key].pk).values().get() == row, key
    # GenG § 30: the members' list keeps name, address, shares, joining, leaving.
    assert {
        m.pk: {f: getattr(m, f) for f in (*GENG_30, "joined_on", "left_on", "left_reason")}
        for m in Member.objects.all()
    } == members_before
    assert (
        list(Member.objects.values_list("shareholdings__count", "shareholdings__kind"))
        == shares_before
    )
    assert list(ShareMovement.objects.order_by("pk").values()) == ledger_before
    # The overview counts the same.
    assert _figures() == figures_before

    # A second run changes nothing at all.
    snapshot = _snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        again = privacy_retention()
    assert set(again.as_dict().values()) == {0}
    assert _snapshot() == snapshot


def test_the_retention_command_prints_counts_only(former, capsys):
    call_command("privacy_retention", "--dry-run")
    out = capsys.readouterr().out
    assert "would anonymise (3 years after closure): requests: 2" in out
    assert "Frieda" not in out and former["due"].reference not in out
    assert Ticket.objects.get(pk=former["due"].pk).member_id is not None
    call_command("privacy_retention")
    assert "anonymised (3 years after closure): requests: 2" in capsys.readouterr().out
    call_command("privacy_retention")
    assert "requests: 0" in capsys.readouterr().out
    with pytest.raises(Exception, match="at least 1"):
        call_command("privacy_retention", "--years", "0")


def test_a_shorter_period_reaches_more(former, django_capture_on_commit_callbacks):
    # Frieda's letter, closed 366 days ago, is due after one year.
    with django_capture_on_commit_callbacks(execute=True):
        assert privacy_retention(years=1).requests == 3
    assert Ticket.objects.get(pk=former["recent"].pk).member_id is None
    assert Ticket.objects.get(pk=former["alice_old"].pk).member_id is not None
