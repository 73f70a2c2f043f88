"""A request being filled in (a draft) keeps what the member typed and
uploaded, but never more files than a request may carry, and not forever:
drafts nobody touched for GENOPORTAL_DRAFT_EXPIRY_DAYS are deleted with
their files by `manage.py drafts_expire`, which a timer runs."""

import datetime
import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone, translation
from django.utils.html import escape

from tests.factories import GOOD, photo
from tickets import services
from tickets.files import CleanFile
from tickets.forms import attachments_limit_message
from tickets.models import Attachment, RequestType, TicketDraft

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # Real files in a folder of this test, so the test sees what is deleted.
    settings.MEDIA_ROOT = tmp_path / "media"


def _post(client, repair, files, data=GOOD):
    return client.post(f"/anliegen/neu/{repair.slug}/", {**data, "photos": files})


def _photos(count, start=0):
    return [photo(f"foto{start + n}.jpg") for n in range(count)]


def _limit_text(**kept) -> str:
    with translation.override("de"):
        return escape(attachments_limit_message(**kept))


def _stored(settings) -> list[str]:
    """Every file in the media folder."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_it_refuses_eleven_files_and_stores_none(client, cast, repair, settings):
    client.force_login(cast.alice)
    response = _post(client, repair, _photos(11))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in body
    assert _limit_text(count=0) in body  # names the limit: 10 files
    assert "10" in _limit_text(count=0)
    assert not Attachment.objects.exists()
    assert _stored(settings) == []
    # What was typed is kept, in the page and in the draft.
    assert "Der Wasserhahn tropft." in body
    assert TicketDraft.objects.get(user=cast.alice).answers["what"] == "Der Wasserhahn tropft."


def test_many_posts_cannot_exceed_the_limit(client, cast, repair, settings):
    client.force_login(cast.alice)
    data = {**GOOD, "urgency": ""}  # a field is wrong: the good files are still kept
    for round_ in range(3):
        assert _post(client, repair, _photos(3, start=3 * round_), data=data).status_code == 200
    assert Attachment.objects.filter(draft__user=cast.alice).count() == 9
    # Three more would make twelve: none of them is stored.
    response = _post(client, repair, _photos(3, start=9), data=data)
    assert _limit_text(count=9) in response.content.decode()
    assert Attachment.objects.filter(draft__user=cast.alice).count() == 9
    # One more fits, then nothing more, however often the member tries.
    _post(client, repair, _photos(1, start=20), data=data)
    assert Attachment.objects.filter(draft__user=cast.alice).count() == 10
    for attempt in range(3):
        response = _post(client, repair, _photos(1, start=30 + attempt))
        assert response.status_code == 200  # not on to the review page
        assert _limit_text(count=10) in response.content.decode()
    assert Attachment.objects.filter(draft__user=cast.alice).count() == 10
    assert _stored(settings) == sorted(a.file.name for a in Attachment.objects.all())


def test_the_service_keeps_the_limits_whatever_the_caller_checked(cast, repair, settings):
    # The form counts the files it was shown; two posts at once could both
    # pass it. draft_save counts again under the draft's lock.
    settings.TICKET_ATTACHMENT_MAX_COUNT = 3
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1000  # so at most 3 000 bytes together

    def pdf(size):
        return CleanFile(b"%PDF-" + b"0" * (size - 5), "application/pdf", "scan.pdf")

    save = {"user": cast.alice, "request_type": repair}
    services.draft_save(**save, answers={"what": "eins"}, files=[pdf(1400), pdf(1400)])
    with pytest.raises(services.AttachmentLimitExceeded):
        services.draft_save(**save, answers={"what": "zwei"}, files=[pdf(300)])  # 3 100 bytes
    draft = TicketDraft.objects.get(user=cast.alice)
    assert draft.answers == {"what": "zwei"}  # the typed text is saved all the same
    assert draft.attachments.count() == 2
    services.draft_save(**save, answers={"what": "drei"}, files=[pdf(200)])
    with pytest.raises(services.AttachmentLimitExceeded):
        services.draft_save(**save, answers={"what": "vier"}, files=[pdf(10)])  # a 4th file
    assert draft.attachments.count() == 3
    assert _stored(settings) == sorted(a.file.name for a in draft.attachments.all())


def _draft_with_file(user, request_type, *, age_days: int) -> TicketDraft:
    buffer = io.BytesIO(b"%PDF-1.4 scan")
    draft = services.draft_save(
        user=user,
        request_type=request_type,
        answers={"what": "Fenster klemmt"},
        files=[CleanFile(buffer.getvalue(), "application/pdf", "scan.pdf")],
    )
    TicketDraft.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=age_days)
    )
    return draft


def test_it_expires_old_drafts_with_their_files_and_keeps_fresh_ones(
    cast, repair, settings, django_capture_on_commit_callbacks
):
    settings.DRAFT_EXPIRY_DAYS = 30
    other_type = RequestType.objects.get(slug="allgemein")
    old = _draft_with_file(cast.alice, repair, age_days=31)
    fresh = _draft_with_file(cast.alice, other_type, age_days=29)
    old_file = old.attachments.get().file.name
    fresh_file = fresh.attachments.get().file.name
    assert default_storage.exists(old_file) and default_storage.exists(fresh_file)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("drafts_expire", verbosity=0)
    assert list(TicketDraft.objects.all()) == [fresh]
    assert list(Attachment.objects.values_list("file", flat=True)) == [fresh_file]
    assert not default_storage.exists(old_file)
    assert default_storage.exists(fresh_file)

    # A timer runs it every minute: a second run changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("drafts_expire", verbosity=0)
    assert list(TicketDraft.objects.all()) == [fresh]
    assert default_storage.exists(fresh_file)


def test_the_expiry_period_is_a_setting(cast, repair, settings, django_capture_on_commit_callbacks):
    settings.DRAFT_EXPIRY_DAYS = 5
    _draft_with_file(cast.alice, repair, age_days=6)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("drafts_expire", verbosity=0)
    assert not TicketDraft.objects.exists() and not Attachment.objects.exists()


def test_files_are_deleted_only_once_the_rows_are_gone(
    cast, repair, django_capture_on_commit_callbacks
):
    # Should the transaction fail, the rows stay and so must their files:
    # a row never points at a deleted file.
    draft = _draft_with_file(cast.alice, repair, age_days=400)
    name = draft.attachments.get().file.name
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.drafts_expire(now=timezone.now())
        assert default_storage.exists(name)  # not yet: not committed
        raise RuntimeError("crash before the commit")
    assert TicketDraft.objects.filter(pk=draft.pk).exists()
    assert default_storage.exists(name)


def test_files_sent_with_a_request_are_not_draft_files(
    client, cast, repair, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice)
    _post(client, repair, _photos(1))
    client.post(f"/anliegen/neu/{repair.slug}/pruefen/")
    attachment = Attachment.objects.get()
    assert attachment.ticket is not None and attachment.draft is None
    with django_capture_on_commit_callbacks(execute=True):
        services.drafts_expire(now=timezone.now() + datetime.timedelta(days=1000))
    assert default_storage.exists(attachment.file.name)
