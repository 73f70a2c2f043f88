"""Documents for members and forms to download (issue 15, points 1 and 2).

The story: the office publishes the service-charge statement 2025 for
alice and bob's contract, a letter to that contract and one about their
flat (both dated today), an invitation for alice alone, and — long ago —
the 2014 statement of petra, who lived in the flat before them. carla was
added to the contract ten days ago: she sees the household's documents
about the time from then on, not the statement 2025. nina is the next
tenant (alice and bob moved out yesterday): she sees nothing of theirs.
dave lives elsewhere. Member services (lena) upload and check; a team
lead (tom) or an admin (ada) publishes a batch; hanna (Technik) has no
business with members' documents."""

import datetime
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import roles
from accounts.models import User
from audit.models import AccessLog
from demo.cast import staff_ensure
from demo.documents import documents_demo_ensure, forms_demo_ensure
from demo.pdf import pdf_simple
from documents.intake import index_read, name_is_unsafe, number_from_name
from documents.models import (
    BatchState,
    Document,
    DocumentBatch,
    DocumentDelivery,
    DocumentKind,
    DocumentRead,
    Form,
    FormTopic,
)
from documents.selectors import (
    documents_new_count,
    documents_visible_to_member,
    get_document_for_member,
    recipients,
)
from documents.services import (
    About,
    DocumentError,
    DocumentNotAllowed,
    batch_check,
    batch_discard,
    batch_publish,
    batch_withdraw,
    document_publish,
    document_withdraw,
    documents_email,
    documents_notify,
)
from documents.storage import private_storage
from mail.models import OutboundEmail
from members.models import Contract, ContractMember, Member
from routing.models import Team
from tests.helpers import MOST, de, measured, otp_verify, repeated
from tickets.models import RequestType

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
YEAR_2025 = (datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
STAFF = "/bearbeitung/dokumente/"


def statement_2025() -> About:
    return About(DocumentKind.STATEMENT, "Betriebskostenabrechnung 2025", *YEAR_2025)


def pdf(title: str = "Dokument", *lines: str) -> bytes:
    return pdf_simple(title, list(lines))


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def zipped(files: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def alice_contract() -> Contract:
    return Contract.objects.get(number="NV-0101900")


def member_account(number: str, first: str, last: str) -> User:
    member = Member.objects.create(
        member_number=number, first_name=first, last_name=last, joined_on=datetime.date(2020, 1, 1)
    )
    return User.objects.create_user(f"{first.lower()}@example.org", "x" * 12, member=member)


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path) -> Path:
    settings.PRIVATE_ROOT = tmp_path / "private"
    return settings.PRIVATE_ROOT


@pytest.fixture
def lena(cast) -> User:
    """A handler of member services (Mitgliederwesen), with the documents role."""
    user = staff_ensure("lena@example.org", "Lena", "Lorenz", roles.HANDLER)
    user.groups.add(Group.objects.get(name=roles.DOCUMENTS))
    Team.objects.get(name="Mitgliederwesen").members.add(user)
    return user


@pytest.fixture
def world(cast, lena) -> dict:
    """The documents of the story, published by lena (single) as staff would."""
    contract = alice_contract()
    today = timezone.localdate()
    previous = Contract.objects.create(
        number="NV-0101900-V",
        unit=contract.unit,
        start=datetime.date(2005, 4, 1),
        end=datetime.date(2015, 8, 31),
        monthly_fee=contract.monthly_fee,
    )
    petra = Member.objects.create(
        member_number="20100",
        first_name="Petra",
        last_name="Vogt",
        joined_on=datetime.date(2005, 1, 1),
    )
    previous.members.add(petra)
    carla = member_account("20777", "Carla", "Neu")
    ContractMember.objects.create(contract=contract, member=carla.member, joined=today - 10 * DAY)
    nina = member_account("20888", "Nina", "Nachmieterin")

    def publish(addressee, about, name="dokument.pdf"):
        return document_publish(
            actor=lena, upload=upload(name, pdf(about.title)), addressee=addressee, about=about
        )

    documents = {
        "statement": publish(contract, statement_2025()),
        "letter": publish(contract, About(DocumentKind.LETTER, "Neue Hausverwaltung", today)),
        "flat": publish(contract.unit, About(DocumentKind.LETTER, "Rauchmelderwartung", today)),
        "invitation": publish(
            cast.alice.member,
            About(DocumentKind.INVITATION, "Einladung Vertreterversammlung", today),
        ),
        "previous": publish(
            previous,
            About(
                DocumentKind.STATEMENT,
                "Betriebskostenabrechnung 2014",
                datetime.date(2014, 1, 1),
                datetime.date(2014, 12, 31),
            ),
        ),
    }
    users = {"alice": cast.alice, "bob": cast.bob, "carla": carla, "nina": nina, "dave": cast.dave}
    return {"documents": documents, "users": users, "previous": previous}


def next_tenant_moves_in(nina: User) -> None:
    """alice and bob moved out yesterday; nina's contract begins today."""
    contract = alice_contract()
    today = timezone.localdate()
    Contract.objects.filter(pk=contract.pk).update(end=today - DAY)
    Contract.objects.create(
        number="NV-0101900-2", unit=contract.unit, start=today, monthly_fee=contract.monthly_fee
    ).members.add(nina.member)


# Who sees what ------------------------------------------------------------------------

Y, N = True, False
# fmt: off
SEES = {
    #           statement letter flat  invitation previous
    "alice":   (Y,        Y,     Y,    Y,         N),
    "bob":     (Y,        Y,     Y,    N,         N),   # the invitation is alice's own
    "carla":   (N,        Y,     Y,    N,         N),   # on the contract for ten days
    "nina":    (N,        N,     N,    N,         N),   # not yet living there
    "dave":    (N,        N,     N,    N,         N),
}
# After the move: nina lives in the flat from today; alice and bob no
# longer hold the contract, and keep what was addressed to them alone.
SEES_AFTER_MOVE = {
    "alice":   (N,        N,     N,    Y,         N),
    "bob":     (N,        N,     N,    N,         N),
    "carla":   (N,        N,     N,    N,         N),
    "nina":    (N,        N,     Y,    N,         N),   # the flat's letter is about today
    "dave":    (N,        N,     N,    N,         N),
}
# fmt: on
KEYS = ("statement", "letter", "flat", "invitation", "previous")


def _seen(client, world, matrix) -> list[str]:
    wrong = []
    for who, row in matrix.items():
        user = world["users"][who]
        client.force_login(user)
        listing = client.get("/dokumente/").content.decode()
        home = client.get("/mein-bereich/").content.decode()
        visible = set(documents_visible_to_member(user.member).values_list("pk", flat=True))
        for key, expected in zip(KEYS, row, strict=True):
            document = world["documents"][key]
            url = f"/dokumente/{document.public_id}/"
            got = {
                "selector": document.pk in visible,
                "list": url in listing,
                "download": client.get(url).status_code == 200,
            }
            for what, value in got.items():
                if value != expected:
                    wrong.append(f"{who} {key} {what}: got {value}, expected {expected}")
        expected_new = sum(row)
        if expected_new and de("All my documents") not in home:
            wrong.append(f"{who}: no documents card")
        client.logout()
    return wrong


def test_each_member_sees_exactly_their_own_and_their_households(client, world):
    wrong = _seen(client, world, SEES)
    assert not wrong, "\n".join(wrong)


def test_the_next_tenant_never_sees_the_previous_tenants_documents(client, world):
    next_tenant_moves_in(world["users"]["nina"])
    wrong = _seen(client, world, SEES_AFTER_MOVE)
    assert not wrong, "\n".join(wrong)


def test_a_partner_added_later_sees_from_their_first_day_on(world):
    carla = world["users"]["carla"]
    contract = alice_contract()
    joined = ContractMember.objects.get(member=carla.member).joined
    day_before = About(DocumentKind.LETTER, "Vorher", joined - DAY)
    on_the_day = About(DocumentKind.LETTER, "Am ersten Tag", joined)
    lena = User.objects.get(email="lena@example.org")
    before = document_publish(
        actor=lena, upload=upload("a.pdf", pdf()), addressee=contract, about=day_before
    )
    first = document_publish(
        actor=lena, upload=upload("b.pdf", pdf()), addressee=contract, about=on_the_day
    )
    visible = set(documents_visible_to_member(carla.member))
    assert first in visible and before not in visible
    assert {before, first} <= set(documents_visible_to_member(world["users"]["bob"].member))


def test_others_ids_answer_404_and_the_fetch_helper_refuses(client, world):
    dave = world["users"]["dave"]
    client.force_login(dave)
    for document in world["documents"].values():
        assert client.get(f"/dokumente/{document.public_id}/").status_code == 404
        with pytest.raises(Exception) as refused:
            get_document_for_member(dave, document.public_id)
        assert refused.type.__name__ == "Http404"
    assert client.get("/dokumente/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_download_is_a_private_attachment_streamed_as_stored(client, world):
    document = world["documents"]["statement"]
    client.force_login(world["users"]["alice"])
    response = client.get(f"/dokumente/{document.public_id}/")
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == document.sha256
    assert body.startswith(b"%PDF-")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Betriebskostenabrechnung 2025.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    # Stored outside the media files, under a random name.
    assert Path(private_storage().path(document.file.name)).is_file()
    assert "Betriebskosten" not in document.file.name


def test_a_download_marks_it_read_for_that_account_only(client, world):
    alice, bob = world["users"]["alice"], world["users"]["bob"]
    document = world["documents"]["statement"]
    before = documents_new_count(alice.member, user=alice)
    client.force_login(alice)
    listing = client.get("/dokumente/").content.decode()
    assert listing.count(de("new")) >= before
    client.get(f"/dokumente/{document.public_id}/")
    client.get(f"/dokumente/{document.public_id}/")  # twice: one mark
    assert DocumentRead.objects.filter(user=alice, document=document).count() == 1
    assert documents_new_count(alice.member, user=alice) == before - 1
    assert documents_new_count(bob.member, user=bob) == 3  # statement, letter, flat
    home = client.get("/mein-bereich/").content.decode()
    assert f'tag--new">{before - 1} ' in home


def test_staff_have_no_member_documents_and_wrong_methods_are_refused(client, world):
    document = world["documents"]["statement"]
    client.force_login(User.objects.get(email="hanna@example.org"))
    assert client.get("/dokumente/").status_code == 404
    assert client.get(f"/dokumente/{document.public_id}/").status_code == 404
    client.force_login(world["users"]["alice"])
    assert client.post("/dokumente/").status_code == 405
    assert client.post(f"/dokumente/{document.public_id}/").status_code == 405
    client.logout()
    response = client.get("/dokumente/")
    assert response.status_code == 302 and "/anmelden/" in response["Location"]


def test_withdrawn_documents_disappear_but_stay(client, world, lena):
    document = world["documents"]["letter"]
    document_withdraw(actor=lena, document=document)
    client.force_login(world["users"]["alice"])
    assert client.get(f"/dokumente/{document.public_id}/").status_code == 404
    assert f"/dokumente/{document.public_id}/" not in client.get("/dokumente/").content.decode()
    document.refresh_from_db()
    assert document.withdrawn_by == lena
    assert Path(private_storage().path(document.file.name)).is_file()
    with pytest.raises(DocumentError):
        document_withdraw(actor=lena, document=document)


# Staff: who may -------------------------------------------------------------------------


def _staff(client, user):
    client.force_login(user)
    if user.two_factor_required:
        otp_verify(client, user)
    return client


def test_only_member_services_leads_and_admins_reach_the_staff_pages(client, cast, lena, world):
    document = world["documents"]["statement"]
    pages = [STAFF, STAFF + "neu/", STAFF + "stapel/neu/", f"{STAFF}{document.public_id}/"]
    _staff(client, cast.hanna)
    assert [client.get(url).status_code for url in pages] == [404] * 4
    assert de("Documents") not in client.get("/bearbeitung/").content.decode().split("<main")[0]
    for user in (lena, cast.tom, cast.ada):
        _staff(client, user)
        assert [client.get(url).status_code for url in pages] == [200] * 4, user
    assert 'href="/bearbeitung/dokumente/"' in client.get("/bearbeitung/").content.decode()
    with pytest.raises(DocumentNotAllowed):
        document_withdraw(actor=cast.hanna, document=document)


def test_staff_opening_a_document_is_recorded(client, cast, world):
    document = world["documents"]["statement"]
    _staff(client, cast.ada)
    client.get(f"{STAFF}{document.public_id}/")
    response = client.get(f"{STAFF}{document.public_id}/datei/")
    assert response["Content-Disposition"].startswith("attachment;")
    b"".join(response.streaming_content)
    logged = AccessLog.objects.filter(actor=cast.ada, subject__startswith=document.title)
    assert {row.member_id for row in logged} >= {cast.alice.member_id, cast.bob.member_id}


def test_one_document_by_form_for_a_member_contract_or_flat(client, cast, lena):
    _staff(client, lena)
    today = timezone.localdate()
    cases = [
        ("member", "20003", "dave"),
        ("contract", "NV-0101900", "bob"),
        ("unit", "0101900", "alice"),
    ]
    for addressed, number, reader in cases:
        response = client.post(
            STAFF + "neu/",
            {
                "addressed": addressed,
                "number": number,
                "kind": DocumentKind.LETTER,
                "title": f"Brief an {number}",
                "period_start": today.isoformat(),
                "file": upload("brief.pdf", pdf("Brief")),
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        document = Document.objects.get(title=f"Brief an {number}")
        assert document.period_end == today
        assert document in documents_visible_to_member(getattr(cast, reader).member)


def test_the_single_upload_refuses_bad_input_keeping_what_was_typed(client, cast, lena):
    _staff(client, lena)
    base = {
        "addressed": "member",
        "number": "20001",
        "kind": DocumentKind.LETTER,
        "title": "Ihr Schreiben vom März",
        "period_start": "2026-03-01",
    }
    cases = [
        ({**base, "number": "99999"}, upload("a.pdf", pdf()), "No member has the number %(number)s."),
        (base, upload("tabelle.pdf", b"Wohnung;Betrag\n"), "Not a PDF file (judged by its content, not its name)."),
        ({**base, "period_end": "2026-02-01"}, upload("a.pdf", pdf()), "The last day must not be before the first."),
        ({**base, "title": "  "}, upload("a.pdf", pdf()), "Please give the document a title members will recognise."),
    ]  # fmt: skip
    for data, file, message in cases:
        response = client.post(STAFF + "neu/", {**data, "file": file})
        page = response.content.decode()
        assert response.status_code == 400
        assert de(message).split("%")[0] in page, message
        assert "Ihr Schreiben vom März" in page or not data["title"].strip()
    assert not Document.objects.exists()
    assert not any(Path(private_storage().location).rglob("*.pdf"))


# Bulk upload: the report -----------------------------------------------------------------


def contracts_of_alices_building() -> list[Contract]:
    return list(
        Contract.objects.current()
        .filter(unit__building__street="Nordring", unit__building__house_number="1")
        .order_by("number")
    )


def encrypted_pdf() -> bytes:
    data = pdf("Geschützt")
    return data.replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt << /Filter /Standard /V 1 >>")


def scripted_pdf() -> bytes:
    return pdf("Skript").replace(
        b"<< /Type /Catalog",
        b"<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> /Type /Catalog",
    )


@pytest.fixture
def messy(cast, settings):
    """A ZIP as real uploads come: good files, and one of everything wrong."""
    settings.DOCUMENT_MAX_BYTES = 4 * 1024 * 1024
    numbers = list(Contract.objects.current().order_by("number").values_list("number", flat=True))
    assert len(numbers) >= 11
    good = {f"2025/{number}_Abrechnung.pdf": pdf("Abrechnung", number) for number in numbers[:3]}
    bad = {
        "NV-9999999_Abrechnung.pdf": pdf(),  # unknown number
        f"{numbers[3]}_Abrechnung.pdf": pdf("eins"),  # the same contract twice
        f"{numbers[3]}_Abrechnung_korrigiert.pdf": pdf("zwei"),
        f"{numbers[4]}_Tabelle.pdf": b"Wohnung;Betrag\n1;12,00\n",  # not a PDF, renamed .pdf
        f"../../{numbers[5]}_Abrechnung.pdf": pdf(),  # climbs out of the folder
        f"{numbers[6]}_gross.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 20_000 + b"\n%%EOF\n",
        f"{numbers[7]}_bombe.pdf": b"%PDF-1.4\n" + b"\0" * 3_500_000 + b"\n%%EOF\n",
        f"{numbers[8]}_geschuetzt.pdf": encrypted_pdf(),
        f"{numbers[9]}_abgeschnitten.pdf": pdf()[:-40],
        f"{numbers[10]}_skript.pdf": scripted_pdf(),
        "Deckblatt.pdf": pdf(),  # no number: "Deckblatt" is none
        "__MACOSX/._x.pdf": b"\0\5\26\7",  # what a Mac adds: ignored
    }
    return {"zip": zipped({**good, **bad}), "numbers": numbers}


def _check(actor, *uploads, numbers="contract", about=None):
    return batch_check(
        actor=actor, uploads=list(uploads), numbers=numbers, about=about or statement_2025()
    )


def test_the_report_refuses_each_bad_file_alone_and_publishes_nothing(cast, lena, messy):
    batch = _check(lena, upload("betriebskosten.zip", messy["zip"]))
    problems = {entry["name"].split(" › ", 1)[1]: entry["problem"] for entry in batch.report}
    numbers = messy["numbers"]
    assert problems == {
        f"2025/{numbers[0]}_Abrechnung.pdf": "",
        f"2025/{numbers[1]}_Abrechnung.pdf": "",
        f"2025/{numbers[2]}_Abrechnung.pdf": "",
        "NV-9999999_Abrechnung.pdf": "unknown_contract",
        f"{numbers[3]}_Abrechnung.pdf": "duplicate",
        f"{numbers[3]}_Abrechnung_korrigiert.pdf": "duplicate",
        f"{numbers[4]}_Tabelle.pdf": "not_pdf",
        f"../../{numbers[5]}_Abrechnung.pdf": "unsafe_name",
        f"{numbers[6]}_gross.pdf": "too_large",
        f"{numbers[7]}_bombe.pdf": "bomb",
        f"{numbers[8]}_geschuetzt.pdf": "encrypted",
        f"{numbers[9]}_abgeschnitten.pdf": "broken",
        f"{numbers[10]}_skript.pdf": "active",
        "Deckblatt.pdf": "unknown_contract",
    }
    assert batch.state == BatchState.CHECKED
    assert (batch.files_total, batch.files_accepted) == (14, 3)
    # Nothing published: no document, no member sees anything, no e-mail.
    assert not Document.objects.exists()
    assert documents_new_count(cast.alice.member, user=cast.alice) == 0
    assert not OutboundEmail.objects.filter(to__endswith="@example.org").exists()
    # Only the three good files were kept, and only them.
    stored = sorted(p.name for p in Path(private_storage().location).rglob("*.pdf"))
    assert len(stored) == 3


def test_the_report_page_says_why_in_the_readers_language(client, cast, lena, messy):
    batch = _check(lena, upload("betriebskosten.zip", messy["zip"]))
    _staff(client, lena)
    page = client.get(f"{STAFF}stapel/{batch.public_id}/?zeigen=refused").content.decode()
    for text in (
        "Not a PDF file (judged by its content, not its name).",
        "The file is password-protected; members could not open it.",
        "The PDF is incomplete or damaged (cut short?).",
    ):
        assert de(text) in page, text
    duplicate = de(
        "%(count)s files of this upload are for the same addressee; none of them is "
        "published. Upload the right one again."
    )
    assert duplicate % {"count": 2} in page
    assert de("No contract has the number %(number)s.") % {"number": "NV-9999999"} in page
    # lena may not publish: the page says who does, and the service refuses her.
    assert de("A team lead or an admin publishes it.") in page
    with pytest.raises(DocumentNotAllowed):
        batch_publish(actor=lena, batch=batch)
    response = client.post(f"{STAFF}stapel/{batch.public_id}/veroeffentlichen/")
    assert response.status_code == 302
    assert not Document.objects.exists()


def test_publishing_is_one_confirmed_step_and_each_member_is_told_once(
    client, cast, lena, django_capture_on_commit_callbacks
):
    contract = alice_contract()
    files = {f"{contract.number}_2025.pdf": pdf("Abrechnung 2025", contract.number)}
    for other in contracts_of_alices_building()[:4]:
        if other != contract:
            files[f"{other.number}_2025.pdf"] = pdf("Abrechnung 2025", other.number)
    batch = _check(lena, upload("abrechnungen.zip", zipped(files)))
    _staff(client, cast.tom)
    confirm = client.get(f"{STAFF}stapel/{batch.public_id}/veroeffentlichen/")
    assert confirm.status_code == 200 and not Document.objects.exists()
    cast.alice.language = "en"
    cast.alice.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{STAFF}stapel/{batch.public_id}/veroeffentlichen/")
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.state == BatchState.PUBLISHED and batch.published_by == cast.tom
    assert Document.objects.filter(batch=batch).count() == len(files)
    assert documents_new_count(cast.alice.member, user=cast.alice) == 1
    assert documents_new_count(cast.bob.member, user=cast.bob) == 1
    # One e-mail per member account and batch, in the member's language;
    # the document itself is not attached.
    mails = {
        m.to: m
        for m in OutboundEmail.objects.filter(to__in=["alice@example.org", "bob@example.org"])
    }
    assert set(mails) == {"alice@example.org", "bob@example.org"}
    assert (
        mails["alice@example.org"].subject
        == "New in your member portal: Betriebskostenabrechnung 2025"
    )
    subject = de("New in your member portal: %(title)s")
    assert mails["bob@example.org"].subject == subject % {"title": "Betriebskostenabrechnung 2025"}
    assert "http://testserver/dokumente/" in mails["alice@example.org"].body
    assert documents_email(batch_id=batch.pk) == 0  # the task again: nothing more
    assert documents_notify.call(batch.pk) == 0
    assert DocumentDelivery.objects.filter(batch=batch, user=cast.alice).count() == 1
    # Published once only.
    with pytest.raises(DocumentError):
        batch_publish(actor=cast.tom, batch=batch)


def test_a_batch_already_published_for_an_addressee_is_refused_for_it(cast, lena):
    contract = alice_contract()
    first = _check(lena, upload(f"{contract.number}.pdf", pdf()))
    batch_publish(actor=cast.ada, batch=first)
    again = _check(lena, upload(f"{contract.number}_neu.pdf", pdf("neu")))
    assert [entry["problem"] for entry in again.report] == ["published"]
    # Withdrawn, the corrected one may follow.
    batch_withdraw(actor=cast.ada, batch=first)
    third = _check(lena, upload(f"{contract.number}_neu.pdf", pdf("neu")))
    assert [entry["problem"] for entry in third.report] == [""]


def test_a_race_between_two_batches_publishes_one_and_changes_nothing_else(cast, lena):
    contract = alice_contract()
    one = _check(lena, upload(f"{contract.number}.pdf", pdf("eins")))
    two = _check(lena, upload(f"{contract.number}.pdf", pdf("zwei")))
    batch_publish(actor=cast.ada, batch=one)
    with pytest.raises(DocumentError):
        batch_publish(actor=cast.ada, batch=two)
    two.refresh_from_db()
    assert two.state == BatchState.CHECKED
    assert Document.objects.count() == 1


def test_member_numbers_several_pdfs_and_an_index_csv(cast, lena):
    index = "Datei;Nummer\nbrief-a.pdf;20001\nunterordner/brief-b.pdf;20002\nfehlt.pdf;20003\n"
    archive = zipped(
        {
            "index.csv": index.encode(),
            "brief-a.pdf": pdf("A"),
            "unterordner/brief-b.pdf": pdf("B"),
            "nicht-gelistet.pdf": pdf("C"),
        }
    )
    batch = _check(
        lena,
        upload("briefe.zip", archive),
        upload("20003_Brief.pdf", pdf("D")),
        numbers="member",
        about=About(DocumentKind.LETTER, "Heizungserneuerung", timezone.localdate()),
    )
    got = [(entry["name"], entry["number"], entry["problem"]) for entry in batch.report]
    assert got == [
        ("briefe.zip › brief-a.pdf", "20001", ""),
        ("briefe.zip › unterordner/brief-b.pdf", "20002", ""),
        ("briefe.zip › nicht-gelistet.pdf", "", "not_in_index"),
        ("briefe.zip › fehlt.pdf", "20003", "index_missing"),
        ("20003_Brief.pdf", "20003", ""),
    ]
    batch_publish(actor=cast.tom, batch=batch)
    assert documents_new_count(cast.dave.member, user=cast.dave) == 1
    assert documents_new_count(cast.bob.member, user=cast.bob) == 1


def test_whole_archives_are_refused_before_they_are_unpacked(cast, lena, settings):
    settings.DOCUMENT_BATCH_MAX_FILES = 5
    many = zipped({f"{i}.pdf": pdf() for i in range(6)})
    batch = _check(lena, upload("viele.zip", many), upload("kaputt.zip", b"PK\3\4 nothing"))
    assert [e["problem"] for e in batch.report] == ["archive_entries", "archive_broken"]
    settings.DOCUMENT_BATCH_MAX_FILES = 100
    settings.DOCUMENT_BATCH_MAX_BYTES = 1_000_000
    big = zipped({"NV-0101900.pdf": b"%PDF-" + b"\0" * 2_000_000})
    batch = _check(lena, upload("gross.zip", big))
    assert [e["problem"] for e in batch.report] == ["archive_size"]
    assert not any(Path(private_storage().location).rglob("*.pdf"))


def test_an_encrypted_zip_entry_is_refused_alone(cast, lena):
    contract = alice_contract()
    data = bytearray(zipped({f"{contract.number}.pdf": pdf()}, compression=zipfile.ZIP_STORED))
    # Mark the entry encrypted (general purpose flag bit 0) in both headers.
    data[6] |= 1
    central = data.rfind(b"PK\1\2")
    data[central + 8] |= 1
    batch = _check(lena, upload("verschluesselt.zip", bytes(data)))
    assert [e["problem"] for e in batch.report] == ["encrypted"]


def test_discarding_deletes_the_files_and_withdrawing_keeps_them(
    cast, lena, django_capture_on_commit_callbacks
):
    contract = alice_contract()
    checked = _check(lena, upload(f"{contract.number}.pdf", pdf()))
    path = Path(private_storage().path(checked.report[0]["path"]))
    assert path.is_file()
    with django_capture_on_commit_callbacks(execute=True):  # deleted once committed
        batch_discard(actor=lena, batch=checked)
    checked.refresh_from_db()
    assert checked.state == BatchState.DISCARDED and not path.exists()
    with pytest.raises(DocumentError):
        batch_publish(actor=cast.ada, batch=checked)

    published = _check(lena, upload(f"{contract.number}.pdf", pdf()))
    batch_publish(actor=cast.ada, batch=published)
    with pytest.raises(DocumentNotAllowed):
        batch_withdraw(actor=lena, batch=published)
    assert batch_withdraw(actor=cast.ada, batch=published) == 1
    assert documents_new_count(cast.alice.member, user=cast.alice) == 0
    document = Document.objects.get(batch=published)
    assert document.withdrawn_at is not None
    assert Path(private_storage().path(document.file.name)).is_file()


def test_the_staff_flow_through_the_pages(client, cast, lena):
    """Upload → report → publish → withdraw, as the pages send it."""
    contract = alice_contract()
    _staff(client, lena)
    response = client.post(
        STAFF + "stapel/neu/",
        {
            "numbers": "contract",
            "kind": DocumentKind.STATEMENT,
            "title": "Betriebskostenabrechnung 2025",
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "files": [
                upload(f"{contract.number}_2025.pdf", pdf()),
                upload("NV-0000000_2025.pdf", pdf()),
            ],
        },
    )
    assert response.status_code == 302
    batch = DocumentBatch.objects.get(source="bulk")
    assert response["Location"] == f"{STAFF}stapel/{batch.public_id}/"
    page = client.get(response["Location"]).content.decode()
    assert "NV-0000000_2025.pdf" in page and de("Refused") in page
    entry = client.get(f"{STAFF}stapel/{batch.public_id}/dateien/1/")
    assert b"".join(entry.streaming_content).startswith(b"%PDF-")
    assert client.get(f"{STAFF}stapel/{batch.public_id}/dateien/2/").status_code == 404
    _staff(client, cast.tom)
    client.post(f"{STAFF}stapel/{batch.public_id}/veroeffentlichen/")
    assert Document.objects.filter(contract=contract).count() == 1
    assert client.get(f"{STAFF}stapel/{batch.public_id}/dateien/1/").status_code == 404
    client.post(f"{STAFF}stapel/{batch.public_id}/zurueckziehen/")
    batch.refresh_from_db()
    assert batch.state == BatchState.WITHDRAWN


def test_bad_batch_input_keeps_the_text_and_stores_nothing(client, cast, lena):
    _staff(client, lena)
    response = client.post(
        STAFF + "stapel/neu/",
        {
            "numbers": "contract",
            "kind": "statement",
            "title": "Abrechnung 2025",
            "period_start": "",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert de("Please give the day or the first day it is about.") in page
    assert de("Please choose the PDF files or a ZIP archive.") in page
    assert 'value="Abrechnung 2025"' in page
    assert not DocumentBatch.objects.exists()


def test_an_upload_over_the_limit_is_not_stored_and_the_text_is_kept(client, cast, lena, settings):
    settings.DOCUMENT_BATCH_MAX_BYTES = 200_000
    _staff(client, lena)
    response = client.post(
        STAFF + "stapel/neu/",
        {
            "numbers": "contract",
            "kind": "statement",
            "title": "Abrechnung 2025",
            "period_start": "2025-01-01",
            "files": [upload("gross.zip", b"PK" + b"x" * 300_000)],
        },
    )
    page = response.content.decode()
    assert response.status_code == 413
    assert (
        de("The upload was %(size)s; at most %(limit)s can be sent at once.").split("%")[0] in page
    )
    assert 'value="Abrechnung 2025"' in page
    assert not DocumentBatch.objects.exists()


# Names and index -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("20001_Abrechnung 2025.pdf", "20001"),
        ("NV-0101900.pdf", "NV-0101900"),
        ("2025/NV-0101900_x_y.PDF", "NV-0101900"),
        ("ordner\\20002_brief.pdf", "20002"),
        ("Deckblatt.pdf", "Deckblatt"),
    ],
)
def test_the_number_is_the_name_before_the_first_underscore(name, number):
    assert number_from_name(name) == number


@pytest.mark.parametrize(
    ("name", "unsafe"),
    [
        ("a/b/20001.pdf", False),
        ("../20001.pdf", True),
        ("a/../../20001.pdf", True),
        ("/etc/20001.pdf", True),
        ("\\\\server\\share\\20001.pdf", True),
        ("C:\\Users\\20001.pdf", True),
        ("a..b_20001.pdf", False),
    ],
)
def test_names_that_climb_out_are_unsafe(name, unsafe):
    assert name_is_unsafe(name) is unsafe


def test_the_index_reads_semicolons_commas_and_windows_1252():
    assert index_read("Datei;Nummer\nä.pdf;20001\n".encode("cp1252")) == {"ä.pdf": "20001"}
    assert index_read(b"x.pdf,20001\n./y.pdf,20002\n") == {"x.pdf": "20001", "y.pdf": "20002"}
    for broken in (b"", b"Datei;Nummer\n", b"nur-eine-spalte\n"):
        with pytest.raises(ValueError):
            index_read(broken)


# Forms to download --------------------------------------------------------------------------


def test_forms_are_public_by_topic_and_shown_with_their_request_form(client, cast):
    forms_demo_ensure()
    forms_demo_ensure()  # idempotent
    assert Form.objects.count() == 5
    page = client.get("/formulare/").content.decode()
    for title in ("SEPA-Lastschriftmandat", "Hausordnung", "Satzung der Genossenschaft"):
        assert title in page
    headings = [de(str(topic.label)) for topic in (FormTopic.MEMBERSHIP, FormTopic.APARTMENT)]
    assert page.index(f">{headings[0]}</h2>") < page.index(f">{headings[1]}</h2>")
    response = client.get("/formulare/sepa-lastschriftmandat.pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    Form.objects.filter(slug="hausordnung").update(active=False)
    assert client.get("/formulare/hausordnung.pdf").status_code == 404
    assert client.get("/formulare/gibt-es-nicht.pdf").status_code == 404
    assert client.post("/formulare/").status_code == 405
    client.force_login(cast.alice)
    bank = RequestType.objects.get(slug="bankverbindung")
    form_page = client.get(f"/anliegen/neu/{bank.slug}/").content.decode()
    assert de("Forms for this request") in form_page
    assert "/formulare/sepa-lastschriftmandat.pdf" in form_page
    repair = client.get("/anliegen/neu/schadensmeldung/").content.decode()
    assert de("Forms for this request") not in repair


def test_the_administration_takes_pdfs_only_for_forms(client, cast):
    _staff(client, cast.ada)
    data = {
        "slug": "merkblatt",
        "topic": FormTopic.LIVING,
        "title_de": "Merkblatt Lüften",
        "position": 0,
        "active": "on",
    }
    refused = client.post(
        "/verwaltung/documents/form/add/", {**data, "file": upload("m.pdf", b"<html>")}
    )
    assert refused.status_code == 200
    assert not Form.objects.exists()
    content = pdf("Merkblatt Lüften")
    added = client.post(
        "/verwaltung/documents/form/add/", {**data, "file": upload("m.pdf", content)}
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    form = Form.objects.get()
    assert form.size == len(content) and form.sha256 == hashlib.sha256(content).hexdigest()
    _staff(client, cast.tom)
    assert client.get("/verwaltung/documents/form/").status_code == 403


# The demo ------------------------------------------------------------------------------------


def test_the_demo_gives_alices_household_its_statement_and_hides_the_previous_tenants(cast, lena):
    first = documents_demo_ensure(cast, lena=lena)
    again = documents_demo_ensure(cast, lena=lena)
    assert first["batch"].pk == again["batch"].pk
    assert first["batch"].state == BatchState.CHECKED and first["batch"].uploaded_by == lena
    assert Document.objects.count() == 3 and Form.objects.count() == 5
    alice = {d.title for d in documents_visible_to_member(cast.alice.member)}
    bob = {d.title for d in documents_visible_to_member(cast.bob.member)}
    assert alice == {"Betriebskostenabrechnung 2025", "Einladung zur Vertreterversammlung 2026"}
    assert bob == {"Betriebskostenabrechnung 2025"}
    previous = Document.objects.get(title="Betriebskostenabrechnung 2014")
    assert previous.contract == first["previous"]
    # The waiting batch: alice's contract is refused (published already).
    problems = {e["problem"] for e in first["batch"].report}
    assert {"", "published", "unknown_contract", "not_pdf"} <= problems
    for path in first["zips"]:
        with zipfile.ZipFile(path) as archive:
            assert archive.namelist()


# Speed ----------------------------------------------------------------------------------------


def test_publishing_runs_the_same_statements_for_5_or_40_files(cast, lena):
    contracts = list(Contract.objects.current().order_by("number"))
    assert cast.ada.is_lead_or_admin  # asked once per request, as on a page
    counts = []
    for size, title in ((5, "A"), (40, "B")):
        chosen = contracts[:size]
        assert len(chosen) == size
        archive = zipped({f"{c.number}.pdf": pdf(c.number) for c in chosen})
        batch = _check(
            lena,
            upload("a.zip", archive),
            about=About(DocumentKind.LETTER, title, timezone.localdate()),
        )
        with CaptureQueriesContext(connection) as captured:
            assert batch_publish(actor=cast.ada, batch=batch) == size
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts


def test_recipients_are_who_sees_it(world):
    batch = world["documents"]["statement"].batch
    users = world["users"]
    told = set(recipients(batch))
    assert told == {users["alice"].pk, users["bob"].pk}
    flat = world["documents"]["flat"].batch
    assert set(recipients(flat)) == {users["alice"].pk, users["bob"].pk, users["carla"].pk}


@pytest.fixture
def many_documents(world, lena):
    contract = alice_contract()
    for index in range(30):
        document_publish(
            actor=lena,
            upload=upload("x.pdf", pdf(str(index))),
            addressee=contract,
            about=About(DocumentKind.LETTER, f"Brief {index}", timezone.localdate()),
        )


def test_member_pages_use_few_queries_none_repeated_whatever_the_number(client, world, lena):
    client.force_login(world["users"]["alice"])
    few = {url: measured(client, url) for url in ("/dokumente/", "/mein-bereich/")}
    contract = alice_contract()
    for index in range(30):
        document_publish(
            actor=lena,
            upload=upload("x.pdf", pdf(str(index))),
            addressee=contract,
            about=About(DocumentKind.LETTER, f"Brief {index}", timezone.localdate()),
        )
    for url, before in few.items():
        after = measured(client, url)
        assert len(after) == len(before) <= MOST, (url, after)
        assert not repeated(after), (url, repeated(after))
    second = measured(client, "/dokumente/?seite=2")
    assert len(second) <= MOST and not repeated(second)


def test_public_and_request_pages_with_forms_use_few_queries(client, cast):
    forms_demo_ensure()
    statements = measured(client, "/formulare/")
    assert len(statements) <= MOST and not repeated(statements)
    client.force_login(cast.alice)
    statements = measured(client, "/anliegen/neu/bankverbindung/")
    assert len(statements) <= MOST and not repeated(statements), statements


def test_staff_pages_use_few_queries_and_the_report_is_paged(client, cast, lena, settings):
    """A batch of 5,000 files (the report as the check writes it; the files
    themselves are not needed to list it): one page of 50, in a fixed
    number of statements."""
    contracts = list(Contract.objects.order_by("pk").values_list("pk", "number"))
    report = [
        {
            "name": f"abrechnungen.zip › {number}_{index}.pdf",
            "number": number,
            "problem": "" if index % 10 else "unknown_contract",
            "detail": {} if index % 10 else {"number": number},
            "size": 1234,
            "sha256": "0" * 64,
            "path": f"documents/x/{index}.pdf",
            "addressee": pk,
        }
        for index, (pk, number) in ((i, contracts[i % len(contracts)]) for i in range(5000))
    ]
    batch = DocumentBatch.objects.create(
        source=DocumentBatch.Source.BULK,
        numbers="contract",
        state=BatchState.CHECKED,
        report=report,
        files_total=5000,
        files_accepted=4500,
        uploaded_by=lena,
        kind=DocumentKind.STATEMENT,
        title="Betriebskostenabrechnung 2025",
        period_start=YEAR_2025[0],
        period_end=YEAR_2025[1],
    )
    _staff(client, cast.tom)
    base = f"{STAFF}stapel/{batch.public_id}/"
    page = client.get(base).content.decode()
    assert page.count("<tr>") == 51  # the head and 50 files
    last = client.get(base + "?seite=100").content.decode()
    assert "5000" in last
    for url in (
        STAFF,
        STAFF + "neu/",
        STAFF + "stapel/neu/",
        base,
        base + "?zeigen=refused&seite=3",
        base + "veroeffentlichen/",
        base + "verwerfen/",
    ):
        statements = measured(client, url)
        assert len(statements) <= MOST, (url, len(statements), statements)
        assert not repeated(statements), (url, repeated(statements))
    single = document_publish(
        actor=lena,
        upload=upload("x.pdf", pdf()),
        addressee=alice_contract(),
        about=About(DocumentKind.LETTER, "Brief", timezone.localdate()),
    )
    for url in (f"{STAFF}{single.public_id}/", f"{STAFF}{single.public_id}/zurueckziehen/"):
        statements = measured(client, url)
        assert len(statements) <= MOST and not repeated(statements), (url, statements)
    _staff(client, lena)  # a handler with the documents role
    for url in (STAFF, base):
        statements = measured(client, url)
        assert len(statements) <= MOST and not repeated(statements), (url, statements)
