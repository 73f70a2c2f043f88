"""A member files a request through a pre-made form and follows it."""

import io
import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.factories import GOOD, photo
from tests.helpers import de
from tickets.models import (
    Attachment,
    Status,
    Ticket,
    TicketDraft,
    TicketEvent,
)
from tickets.services import reference_next

pytestmark = pytest.mark.django_db


def _file(client, repair, data=GOOD, files=None):
    return client.post(f"/anliegen/neu/{repair.slug}/", {**data, **(files or {})})


def test_it_files_a_repair_report_with_a_photo(client, cast, repair, outbox):
    client.force_login(cast.alice)
    response = _file(client, repair, files={"photos": photo()})
    assert response.status_code == 302
    assert response["Location"] == f"/anliegen/neu/{repair.slug}/pruefen/"
    review = client.get(response["Location"]).content.decode()
    assert "Der Wasserhahn tropft." in review and "kaputt.jpg" in review
    response = client.post(f"/anliegen/neu/{repair.slug}/pruefen/")
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/anliegen/{ticket.reference}/"
    assert re.fullmatch(r"A-\d{4}-\d{6}", ticket.reference)
    assert ticket.member == cast.alice.member
    assert ticket.unit.number == "0101900"
    assert ticket.team.name == "Technik"
    assert ticket.channel == "portal"
    assert ticket.status == Status.RECEIVED
    assert ticket.answers == GOOD
    assert [d["key"] for d in ticket.fields_snapshot] == [
        "room",
        "what",
        "since",
        "urgency",
        "photos",
        "master_key",
    ]
    assert TicketEvent.objects.get(ticket=ticket).kind == TicketEvent.Kind.OPENED
    assert not TicketDraft.objects.exists()
    # The photo is re-encoded: same picture, no camera metadata.
    attachment = Attachment.objects.get(ticket=ticket)
    with attachment.file.open("rb") as fh:
        image = Image.open(io.BytesIO(fh.read()))
        assert image.size == (64, 48)
        assert 0x010F not in image.getexif()
    # Confirmation e-mail with the reference in the subject, in German.
    assert outbox[-1].to == ["alice@example.org"]
    assert ticket.reference in outbox[-1].subject
    detail = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert de("Bathroom") in detail and "Der Wasserhahn tropft." in detail


def test_the_form_keeps_typed_text_and_uploads_when_a_field_is_wrong(client, cast, repair):
    client.force_login(cast.alice)
    data = {**GOOD, "urgency": ""}
    response = _file(client, repair, data=data, files={"photos": photo()})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in body
    assert "Der Wasserhahn tropft." in body
    assert "kaputt.jpg" in body  # the upload is kept and shown again
    assert Attachment.objects.filter(draft__user=cast.alice).count() == 1
    # Coming back later (new page load) shows the same text.
    again = client.get(f"/anliegen/neu/{repair.slug}/").content.decode()
    assert "Der Wasserhahn tropft." in again and "kaputt.jpg" in again
    assert not Ticket.objects.exists()


def test_it_refuses_files_that_are_not_what_they_claim(client, cast, repair):
    client.force_login(cast.alice)
    fake = SimpleUploadedFile(
        "rechnung.pdf", b"MZ\x90\x00 this is an exe", content_type="application/pdf"
    )
    response = _file(client, repair, files={"photos": fake})
    assert response.status_code == 200
    assert "rechnung.pdf" in response.content.decode()
    assert not Attachment.objects.exists()


def test_it_refuses_files_over_the_size_limit(client, cast, repair, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1000
    client.force_login(cast.alice)
    big = SimpleUploadedFile(
        "gross.pdf", b"%PDF-1.4\n" + b"0" * 2000, content_type="application/pdf"
    )
    response = _file(client, repair, files={"photos": big})
    assert response.status_code == 200
    assert not Attachment.objects.exists()


def test_a_member_without_contract_cannot_use_contract_forms(client, cast, repair):
    from accounts.models import User
    from members.models import Member

    loner = Member.objects.filter(contracts__isnull=True).first()
    user = User.objects.create_user("loner@example.org", "x" * 12, member=loner)
    client.force_login(user)
    assert client.get(f"/anliegen/neu/{repair.slug}/").status_code == 404
    assert repair.name_de not in client.get("/anliegen/neu/").content.decode()


def test_meine_anliegen_lists_own_and_household_tickets_only(
    client, cast, repair, django_assert_max_num_queries
):
    client.force_login(cast.alice)
    for _ in range(3):
        _file(client, repair)
        client.post(f"/anliegen/neu/{repair.slug}/pruefen/")
    client.force_login(cast.bob)  # household partner: sees them too
    with django_assert_max_num_queries(12):
        body = client.get("/anliegen/").content.decode()
    assert body.count('class="ticket-list__item"') == 3
    client.force_login(cast.dave)
    assert 'class="ticket-list__item"' not in client.get("/anliegen/").content.decode()


def test_an_outsider_gets_404_for_tickets_and_attachments(client, cast, repair):
    client.force_login(cast.alice)
    _file(client, repair, files={"photos": photo()})
    client.post(f"/anliegen/neu/{repair.slug}/pruefen/")
    ticket = Ticket.objects.get()
    attachment = Attachment.objects.get()
    client.force_login(cast.dave)
    assert client.get(f"/anliegen/{ticket.reference}/").status_code == 404
    assert client.get(f"/anliegen/{ticket.reference}/dateien/{attachment.pk}/").status_code == 404
    assert client.post(f"/anliegen/{ticket.reference}/", {"body": "hijack"}).status_code == 404
    assert (
        client.post(f"/anliegen/{ticket.reference}/wieder-oeffnen/", {"reason": "x"}).status_code
        == 404
    )
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1
    client.force_login(cast.alice)
    response = client.get(f"/anliegen/{ticket.reference}/dateien/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


def test_the_member_replies_and_answers_a_question(client, cast, repair):
    client.force_login(cast.alice)
    _file(client, repair)
    client.post(f"/anliegen/neu/{repair.slug}/pruefen/")
    ticket = Ticket.objects.get()
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.WAITING)
    response = client.post(f"/anliegen/{ticket.reference}/", {"body": "Ich bin ab 8 Uhr da."})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == ["opened", "member_reply", "status"]
    empty = client.post(f"/anliegen/{ticket.reference}/", {"body": ""})
    assert empty.status_code == 200
    assert ticket.events.count() == 3


def test_reopen_only_within_14_days(client, cast, repair):
    import datetime

    from django.utils import timezone

    client.force_login(cast.alice)
    _file(client, repair)
    client.post(f"/anliegen/neu/{repair.slug}/pruefen/")
    ticket = Ticket.objects.get()
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.RESOLVED, resolved_at=timezone.now() - datetime.timedelta(days=15)
    )
    client.post(f"/anliegen/{ticket.reference}/wieder-oeffnen/", {"reason": "tropft wieder"})
    assert Ticket.objects.get().status == Status.RESOLVED
    Ticket.objects.filter(pk=ticket.pk).update(
        resolved_at=timezone.now() - datetime.timedelta(days=13)
    )
    client.post(f"/anliegen/{ticket.reference}/wieder-oeffnen/", {"reason": "tropft wieder"})
    assert Ticket.objects.get().status == Status.IN_PROGRESS


def test_portal_request_pages_refuse_wrong_methods_and_staff(client, cast, repair):
    client.force_login(cast.alice)
    assert client.post("/anliegen/").status_code == 405
    assert client.put(f"/anliegen/neu/{repair.slug}/").status_code == 405
    assert client.get("/anliegen/A-2026-000001/wieder-oeffnen/").status_code == 405
    client.force_login(cast.hanna)
    assert client.get("/anliegen/").status_code == 404


def test_the_iban_is_checked(client, cast):
    from django.core.exceptions import ValidationError

    from tickets.forms import iban_validate

    assert iban_validate("de02 1203 0000 0000 2020 51") == "DE02120300000000202051"
    for bad in ["DE02 1203 0000 0000 2020 52", "DE02 1203", "XX"]:
        with pytest.raises(ValidationError):
            iban_validate(bad)


def test_references_count_up_per_year(cast):
    from django.db import transaction

    with transaction.atomic():
        first = reference_next(year=2031)
        second = reference_next(year=2031)
    assert (first, second) == ("A-2031-000001", "A-2031-000002")
    assert reference_next(year=2032) == "A-2032-000001"


@pytest.mark.django_db(transaction=True)
def test_references_are_unique_under_concurrency():
    from django.db import connections, transaction

    results, errors = [], []

    def worker():
        try:
            for _ in range(10):
                with transaction.atomic():
                    results.append(reference_next(year=2040))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 80 and len(set(results)) == 80
    assert max(results) == "A-2040-000080"


def test_a_resolved_request_can_be_rated_once(client, cast, repair):
    client.force_login(cast.alice)
    _file(client, repair)
    client.post(f"/anliegen/neu/{repair.slug}/pruefen/")
    ticket = Ticket.objects.get()
    url = f"/anliegen/{ticket.reference}/bewerten/"
    client.post(url, {"rating": "5"})
    assert Ticket.objects.get().rating is None  # not resolved yet
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.RESOLVED)
    client.post(url, {"rating": "9"})
    assert Ticket.objects.get().rating is None  # out of range
    client.post(url, {"rating": "4", "comment": "Schnell erledigt"})
    client.post(url, {"rating": "1"})
    ticket.refresh_from_db()
    assert (ticket.rating, ticket.rating_comment) == (4, "Schnell erledigt")
    client.force_login(cast.dave)
    assert client.post(url, {"rating": "1"}).status_code == 404
