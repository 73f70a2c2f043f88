"""The member's data export: asked for on the page, prepared by the worker,
downloaded by the member alone, deleted when it expires.

States: requested → preparing → ready → expired, or → failed (and back to
requested when the member tries again). Only a ready row carries a
complete file; the file is stored under its final name before the row is
marked ready in one conditional UPDATE, so a worker that stops half-way
leaves a row that is not offered for download."""

import datetime
import logging
import tempfile
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import task

from accounts.models import User
from core.links import absolute_url
from mail.services import email_queue
from members.models import Member
from privacy.export import sha256_of, summary_file, zip_write
from privacy.models import DataExport, export_path
from privacy.selectors import export_data

logger = logging.getLogger(__name__)

Status = DataExport.Status


def _lease() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.PRIVACY_EXPORT_LEASE_MINUTES)


def export_storage():
    """Where the ZIPs are kept (the private storage)."""
    return DataExport._meta.get_field("file").storage


def _files_delete(names: list[str]) -> None:
    storage = export_storage()
    for name in names:
        if name:
            storage.delete(name)


def _enqueue_on_commit(export_id: int) -> None:
    transaction.on_commit(lambda: data_export_build.enqueue(export_id))


def data_export_request(*, user: User, now: datetime.datetime | None = None) -> DataExport:
    """The member asks for a copy of their data. Idempotent: while one is
    requested or being prepared that one is returned (one per member at a
    time); a failed one is tried again (the same row); a ready one is
    replaced by a fresh copy (its file deleted: no second copy of the
    member's data lies about). A preparation whose worker stopped (older
    than the lease) counts as failed and is tried again."""
    now = now or timezone.now()
    member = user.member
    with transaction.atomic():
        # The member's row lock serialises two requests of the same member
        # (two tabs, a double click); the unique constraint is the backstop.
        Member.objects.select_for_update().filter(pk=member.pk).values_list("pk").first()
        live = (
            DataExport.objects.select_for_update()
            .filter(member=member, status__in=DataExport.LIVE)
            .first()
        )
        if live is not None and live.is_in_progress():
            stale = live.status == Status.PREPARING and live.started_at < now - _lease()
            if not stale:
                return live
            return _retry(live, now=now)
        if live is not None:  # ready: superseded by the new copy
            name = live.file.name
            DataExport.objects.filter(pk=live.pk).update(
                status=Status.EXPIRED, file="", updated_at=now
            )
            transaction.on_commit(lambda: _files_delete([name]))
        failed = DataExport.objects.filter(member=member).order_by("-created_at", "-pk").first()
        if failed is not None and failed.status == Status.FAILED:
            return _retry(failed, now=now)
        export = DataExport.objects.create(member=member, requested_by=user)
        _enqueue_on_commit(export.pk)
    return export


def _retry(export: DataExport, *, now: datetime.datetime) -> DataExport:
    """Back to "requested" with its partial file gone; a new task."""
    name = export.file.name
    DataExport.objects.filter(pk=export.pk).update(
        status=Status.REQUESTED, file="", claim=None, error="", updated_at=now
    )
    transaction.on_commit(lambda: _files_delete([name]))
    _enqueue_on_commit(export.pk)
    export.refresh_from_db()
    return export


def _readme(language: str) -> str:
    with translation.override(language):
        return render_to_string("privacy/readme.txt", {})


def data_export_prepare(*, export_id: int, now: datetime.datetime | None = None) -> str:
    """Build the ZIP of a requested export (the task's work). Claimed by a
    conditional UPDATE with a token, so a second task for the same export
    does nothing. On any error the row is marked failed and whatever was
    stored is deleted, then the error is raised again (the task queue keeps
    its traceback for the administrator)."""
    now = now or timezone.now()
    token = uuid.uuid4()
    export = DataExport.objects.filter(pk=export_id).select_related("member").first()
    if export is None:
        return "gone"
    name = export_path(export, "")
    claimed = DataExport.objects.filter(pk=export_id, status=Status.REQUESTED).update(
        status=Status.PREPARING,
        claim=token,
        started_at=now,
        attempts=F("attempts") + 1,
        # The name it will be stored under is on the row before anything is
        # stored: a worker that stops leaves nothing the timer cannot find.
        file=name,
        updated_at=now,
    )
    if not claimed:
        return "not claimable"
    user = export.requested_by
    language = user.language or settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            data, files = export_data(
                member=export.member, user=user, generated_at=now, language=language
            )
        summary = summary_file(data=data, language=language)
        with tempfile.TemporaryFile(prefix="genoportal-export-") as handle:
            zip_write(
                handle,
                data=data,
                summary=summary,
                readme=_readme(language),
                files=files,
            )
            sha256, size = sha256_of(handle)
            stored = export_storage().save(name, File(handle, name=name))
        return _ready(export, token=token, stored=stored, sha256=sha256, size=size)
    except Exception as error:
        _failed(export_id, token=token, name=name, error=error)
        raise


def _ready(export: DataExport, *, token, stored: str, sha256: str, size: int) -> str:
    now = timezone.now()
    user = export.requested_by
    with transaction.atomic():
        done = DataExport.objects.filter(pk=export.pk, claim=token, status=Status.PREPARING).update(
            status=Status.READY,
            file=stored,
            sha256=sha256,
            size=size,
            ready_at=now,
            expires_at=now + datetime.timedelta(days=settings.PRIVACY_EXPORT_EXPIRY_DAYS),
            updated_at=now,
        )
        if not done:
            # The timer gave the claim up meanwhile (the lease ran out): this
            # copy is nobody's.
            transaction.on_commit(lambda: _files_delete([stored]))
            return "claim lost"
        export.refresh_from_db()
        email_queue(
            to=user.email,
            template="privacy/email/export_ready",
            context={
                "member": export.member,
                "link": absolute_url("privacy:export"),
                "expires": timezone.localtime(export.expires_at),
            },
            language=user.language or settings.LANGUAGE_CODE,
        )
    logger.info("data export ready", extra={"export": export.pk, "bytes": size})
    return "ready"


def _failed(export_id: int, *, token, name: str, error: BaseException) -> None:
    now = timezone.now()
    with transaction.atomic():
        DataExport.objects.filter(pk=export_id, claim=token, status=Status.PREPARING).update(
            status=Status.FAILED,
            file="",
            failed_at=now,
            # The type only: an exception's text may quote the member's data.
            error=type(error).__name__[:200],
            updated_at=now,
        )
    _files_delete([name])
    logger.warning("data export failed", extra={"export": export_id, "error": type(error).__name__})


@task()
def data_export_build(export_id: int) -> str:
    """The task enqueued when a member asks for their data."""
    return data_export_prepare(export_id=export_id)


def data_export_downloaded(*, export: DataExport, now: datetime.datetime | None = None) -> None:
    """The member fetched their copy (the view records it in the access log)."""
    now = now or timezone.now()
    DataExport.objects.filter(pk=export.pk).update(downloaded_at=now, updated_at=now)


@dataclass(frozen=True)
class ExpiryReport:
    expired: int  # ready copies past their date, files deleted
    stopped: int  # preparations whose worker stopped, marked failed
    requeued: int  # requests whose task was lost, enqueued again


def data_exports_expire(*, now: datetime.datetime | None = None) -> ExpiryReport:
    """The timer's job (manage.py privacy_exports_expire, idempotent):
    delete the files of copies past their date, mark preparations whose
    worker stopped as failed (their partial files deleted, so the member
    can try again), and enqueue again requests whose task was lost. Files
    are deleted after the rows are committed."""
    now = now or timezone.now()
    with transaction.atomic():
        ended = list(
            DataExport.objects.select_for_update()
            .filter(status=Status.READY, expires_at__lte=now)
            .values_list("pk", "file")
        )
        DataExport.objects.filter(pk__in=[pk for pk, _ in ended]).update(
            status=Status.EXPIRED, file="", updated_at=now
        )
        stopped = list(
            DataExport.objects.select_for_update()
            .filter(status=Status.PREPARING, started_at__lt=now - _lease())
            .values_list("pk", "file")
        )
        DataExport.objects.filter(pk__in=[pk for pk, _ in stopped]).update(
            status=Status.FAILED, file="", failed_at=now, error="worker stopped", updated_at=now
        )
        lost = list(
            DataExport.objects.filter(
                status=Status.REQUESTED, updated_at__lt=now - _lease()
            ).values_list("pk", flat=True)
        )
        DataExport.objects.filter(pk__in=lost).update(updated_at=now)
        for pk in lost:
            _enqueue_on_commit(pk)
        names = [name for _, name in ended + stopped]
        transaction.on_commit(lambda: _files_delete(names))
    return ExpiryReport(expired=len(ended), stopped=len(stopped), requeued=len(lost))
