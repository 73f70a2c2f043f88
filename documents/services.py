"""Writing documents: checking an upload, publishing it in one confirmed
step, withdrawing, a single document, a download marked as read, and the
e-mail to the members who got something new.

Who may (documents.selectors): staff with the documents role (member
services), team leads and admins upload and check batches, publish and
withdraw single documents and discard a checked batch; team leads and
admins publish and withdraw batches. Every service checks again, whatever the page showed.

A bulk upload is two steps. `batch_check` reads every file (documents.
intake), writes those that pass to the private storage and keeps the
report in a batch that waits, "checked": nothing is visible to anyone
but staff. `batch_publish` turns the passed files into documents in one
transaction, with a fixed number of statements whatever the number of
files (the files are written already; the documents go in by
bulk_create): 5,000 yearly statements in seconds (bench/documents.py).
E-mails follow from a task after commit, one per member account and
batch (DocumentDelivery is the claim, as NoticeDelivery is for notices).
Withdrawing hides; nothing is deleted but the files of a batch discarded
before anyone saw them."""

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from accounts.models import User
from cooperative.models import Unit
from core.links import absolute_url
from documents import intake
from documents.models import (
    Addressed,
    BatchState,
    Document,
    DocumentBatch,
    DocumentDelivery,
    DocumentKind,
    DocumentRead,
)
from documents.selectors import (
    addressees_lookup,
    addressees_published,
    may_manage,
    may_publish_batch,
    recipients,
)
from documents.storage import private_storage
from mail.services import email_delivery_batch, email_queue
from members.models import Contract, Member

TITLE_MAX = 200
BULK_CREATE_SIZE = 1000
# Accounts e-mailed per transaction: each chunk's e-mails go out by one
# delivery task (mail.services.email_delivery_batch).
DELIVERY_BATCH = 200


class DocumentError(Exception):
    """An upload, publication or withdrawal that cannot be done; the
    message is safe to show, keyed by the form field it is about (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DocumentNotAllowed(DocumentError):
    """The person may not do this with documents."""


@dataclass
class About:
    """What a document (or every document of a batch) is and the time it
    is about; without an end, the one day of the start."""

    kind: str
    title: str
    period_start: datetime.date | None
    period_end: datetime.date | None = None


def about_check(about: About) -> About:
    """`about`, tidied, or DocumentError with the first problem (the form
    shows it under its field; the services refuse the same)."""
    about.title = " ".join((about.title or "").split())
    if about.kind not in DocumentKind.values:
        raise DocumentError(_("Please choose what kind of document it is."), "kind")
    if not about.title:
        raise DocumentError(_("Please give the document a title members will recognise."), "title")
    if len(about.title) > TITLE_MAX:
        raise DocumentError(
            _("Please keep the title to %(count)s characters.") % {"count": TITLE_MAX}, "title"
        )
    if about.period_start is None:
        raise DocumentError(_("Please give the day or the first day it is about."), "period_start")
    if about.period_end is None:
        about.period_end = about.period_start
    if about.period_end < about.period_start:
        raise DocumentError(_("The last day must not be before the first."), "period_end")
    return about


def _about_fields(about: About) -> dict:
    return {
        "kind": about.kind,
        "title": about.title,
        "period_start": about.period_start,
        "period_end": about.period_end,
    }


# Batches ------------------------------------------------------------------------------


def batch_check(*, actor: User, uploads: list, numbers: str, about: About) -> DocumentBatch:
    """Read an upload (PDFs and ZIPs, named by `numbers`: member or
    contract numbers) into a checked batch with a line per file; files
    that pass are stored, nothing is published. DocumentError when the
    details are incomplete or no file came."""
    if not may_manage(actor):
        raise DocumentNotAllowed(_("You may not upload documents."))
    about = about_check(about)
    if numbers not in (Addressed.MEMBER, Addressed.CONTRACT):
        raise DocumentError(_("Please say whose numbers the file names give."), "numbers")
    if not uploads:
        raise DocumentError(_("Please choose the PDF files or a ZIP archive."), "files")
    written: list[str] = []
    candidates = []
    try:
        candidates = intake.candidates_of(uploads)
        wanted = {c.entry.number for c in candidates if c.entry.ok and c.entry.number}
        intake.numbers_resolve(
            candidates, numbers=numbers, lookup=addressees_lookup(numbers, wanted)
        )
        ids = {c.entry.addressee for c in candidates if c.entry.ok}
        intake.published_refuse(
            candidates, addressees_published(numbers=numbers, ids=ids, **_about_fields(about))
        )
        for candidate in candidates:
            if candidate.entry.ok:
                intake.content_check(candidate, written=written)
        report = [candidate.entry.as_dict() for candidate in candidates]
        with transaction.atomic():
            batch = DocumentBatch.objects.create(
                source=DocumentBatch.Source.BULK,
                numbers=numbers,
                state=BatchState.CHECKED,
                report=report,
                files_total=len(report),
                files_accepted=sum(1 for entry in report if not entry["problem"]),
                uploaded_by=actor,
                **_about_fields(about),
            )
    except BaseException:
        intake.files_delete(written)
        raise
    finally:
        intake.candidates_close(candidates)
    return batch


def _addressee_field(numbers: str) -> str:
    return {Addressed.MEMBER: "member_id", Addressed.CONTRACT: "contract_id"}[numbers]


def batch_publish(
    *, actor: User, batch: DocumentBatch, now: datetime.datetime | None = None
) -> int:
    """Publish every file of a checked batch that passed, in one
    transaction; members see them at once and are e-mailed after commit.
    Returns how many documents were published. Refused (nothing changes)
    when the batch is not waiting, or an addressee is gone or got the
    same document meanwhile."""
    if not may_publish_batch(actor):
        raise DocumentNotAllowed(_("Batches are published by team leads and admins."))
    now = now or timezone.now()
    try:
        with transaction.atomic():
            batch = DocumentBatch.objects.select_for_update().get(pk=batch.pk)
            if batch.state != BatchState.CHECKED:
                raise DocumentError(_("This batch is not waiting to be published."))
            entries = [entry for entry in batch.report if not entry["problem"]]
            if not entries:
                raise DocumentError(
                    _("No file of this batch passed the check: there is nothing to publish.")
                )
            field = _addressee_field(batch.numbers)
            ids = {entry["addressee"] for entry in entries}
            model = Contract if batch.numbers == Addressed.CONTRACT else Member
            if model.objects.filter(pk__in=ids).count() != len(ids):
                raise DocumentError(
                    _(
                        "Some addressees of this batch no longer exist. Discard it and "
                        "upload the files again."
                    )
                )
            about = {
                "kind": batch.kind,
                "title": batch.title,
                "period_start": batch.period_start,
                "period_end": batch.period_end,
            }
            if addressees_published(numbers=batch.numbers, ids=ids, **about):
                raise DocumentError(
                    _(
                        "Some addressees got this document meanwhile (another batch). Discard "
                        "this batch and upload the files again."
                    )
                )
            Document.objects.bulk_create(
                (
                    Document(
                        public_id=uuid.uuid4(),
                        file=entry["path"],
                        size=entry["size"],
                        sha256=entry["sha256"],
                        original_name=entry["name"][:255],
                        batch=batch,
                        published_at=now,
                        created_by_id=batch.uploaded_by_id,
                        **{field: entry["addressee"]},
                        **about,
                    )
                    for entry in entries
                ),
                batch_size=BULK_CREATE_SIZE,
            )
            batch.state = BatchState.PUBLISHED
            batch.published_at = now
            batch.published_by = actor
            batch.save(update_fields=["state", "published_at", "published_by", "updated_at"])
            pk = batch.pk
            transaction.on_commit(lambda: documents_notify.enqueue(pk))
    except IntegrityError as error:
        # Another batch for the same addressees committed between the
        # check above and ours: the unique constraints refused.
        raise DocumentError(
            _(
                "Some addressees got this document meanwhile (another batch). Discard this "
                "batch and upload the files again."
            )
        ) from error
    return len(entries)


def batch_discard(*, actor: User, batch: DocumentBatch) -> DocumentBatch:
    """Drop a checked batch nobody has seen: its stored files are deleted
    once the change is committed; the report stays."""
    if not may_manage(actor):
        raise DocumentNotAllowed(_("You may not discard batches."))
    with transaction.atomic():
        batch = DocumentBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state != BatchState.CHECKED:
            raise DocumentError(_("Only a batch that is not yet published can be discarded."))
        batch.state = BatchState.DISCARDED
        batch.discarded_at = timezone.now()
        batch.save(update_fields=["state", "discarded_at", "updated_at"])
        paths = [entry["path"] for entry in batch.report if entry["path"]]
        transaction.on_commit(lambda: intake.files_delete(paths))
    return batch


def batch_withdraw(
    *, actor: User, batch: DocumentBatch, now: datetime.datetime | None = None
) -> int:
    """Take every document of a published batch back: members no longer
    see them (e-mails sent stay sent). Nothing is deleted. Returns how
    many were still out."""
    if not may_publish_batch(actor):
        raise DocumentNotAllowed(_("Batches are withdrawn by team leads and admins."))
    now = now or timezone.now()
    with transaction.atomic():
        batch = DocumentBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state != BatchState.PUBLISHED:
            raise DocumentError(_("This batch is not published."))
        withdrawn = Document.objects.filter(batch=batch, withdrawn_at__isnull=True).update(
            withdrawn_at=now, withdrawn_by=actor, updated_at=now
        )
        batch.state = BatchState.WITHDRAWN
        batch.withdrawn_at = now
        batch.withdrawn_by = actor
        batch.save(update_fields=["state", "withdrawn_at", "withdrawn_by", "updated_at"])
    return withdrawn


# One document -------------------------------------------------------------------------


def document_publish(
    *,
    actor: User,
    upload,
    addressee: Member | Contract | Unit,
    about: About,
    now: datetime.datetime | None = None,
) -> Document:
    """Check one PDF for one member, contract or flat and publish it at
    once (a batch of one); the members who see it are e-mailed after
    commit. DocumentError for a file that does not pass or a document the
    addressee already has."""
    if not may_manage(actor):
        raise DocumentNotAllowed(_("You may not upload documents."))
    about = about_check(about)
    now = now or timezone.now()
    addressed = {Member: Addressed.MEMBER, Contract: Addressed.CONTRACT, Unit: Addressed.UNIT}[
        type(addressee)
    ]
    already = _("This addressee already has this document (same kind, title and time).")
    if addressees_published(numbers=addressed, ids={addressee.pk}, **_about_fields(about)):
        raise DocumentError(already)
    candidate = intake.single_candidate(upload)
    written: list[str] = []
    if candidate.entry.ok:
        intake.content_check(candidate, written=written)
    entry = candidate.entry
    if not entry.ok:
        raise DocumentError(intake.problem_text(entry.problem, entry.detail), "file")
    try:
        with transaction.atomic():
            batch = DocumentBatch.objects.create(
                source=DocumentBatch.Source.SINGLE,
                numbers=addressed,
                state=BatchState.PUBLISHED,
                report=[entry.as_dict()],
                files_total=1,
                files_accepted=1,
                uploaded_by=actor,
                published_at=now,
                published_by=actor,
                **_about_fields(about),
            )
            document = Document.objects.create(
                file=entry.path,
                size=entry.size,
                sha256=entry.sha256,
                original_name=entry.name[:255],
                batch=batch,
                published_at=now,
                created_by=actor,
                **{addressed: addressee},
                **_about_fields(about),
            )
            pk = batch.pk
            transaction.on_commit(lambda: documents_notify.enqueue(pk))
    except IntegrityError as error:  # the same document, published a moment ago
        intake.files_delete(written)
        raise DocumentError(already) from error
    except BaseException:
        intake.files_delete(written)
        raise
    return document


def document_withdraw(
    *, actor: User, document: Document, now: datetime.datetime | None = None
) -> Document:
    """Take one document back: its members no longer see it. Nothing is deleted."""
    if not may_manage(actor):
        raise DocumentNotAllowed(_("You may not withdraw documents."))
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        if document.withdrawn_at is not None:
            raise DocumentError(_("This document is already withdrawn."))
        document.withdrawn_at = now or timezone.now()
        document.withdrawn_by = actor
        document.save(update_fields=["withdrawn_at", "withdrawn_by", "updated_at"])
    return document


def document_read(*, user: User, document: Document) -> None:
    """The account opened the document: no longer "new" for it. One
    statement; the second download changes nothing."""
    DocumentRead.objects.bulk_create(
        [DocumentRead(user=user, document=document)], ignore_conflicts=True
    )


def file_open(path: str):
    """A stored file, opened for reading (a view streams it)."""
    return private_storage().open(path, "rb")


# E-mail -------------------------------------------------------------------------------


def _chunk_email(batch_id: int, ids: list[int]) -> int:
    """E-mail the accounts `ids` about the batch, in one transaction: the
    batch row is locked first, so a second run of the task (a retry, a
    second worker) waits and then finds the delivery rows this one wrote
    and sends nothing twice. One transaction per chunk rather than per
    account: 5,000 commits were most of the task's time on PostgreSQL."""
    with transaction.atomic():
        batch = DocumentBatch.objects.select_for_update().defer("report").get(pk=batch_id)
        told = set(
            DocumentDelivery.objects.filter(batch=batch, user_id__in=ids).values_list(
                "user_id", flat=True
            )
        )
        users = [
            user
            for user in User.objects.filter(pk__in=ids).select_related("member").order_by("pk")
            if user.pk not in told
        ]
        link = absolute_url("documents:list")
        deliveries = [
            DocumentDelivery(
                batch=batch,
                user=user,
                email=email_queue(
                    to=user.email,
                    template="documents/email/published",
                    context={"member": user.member, "batch": batch, "link": link},
                    language=user.language or settings.LANGUAGE_CODE,
                ),
            )
            for user in users
        ]
        DocumentDelivery.objects.bulk_create(deliveries)
    return len(deliveries)


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def documents_email(*, batch_id: int) -> int:
    """E-mail each member account that sees a document of this published
    batch and has not been told; nothing for a batch withdrawn meanwhile.
    Returns how many e-mails were queued."""
    batch = (
        DocumentBatch.objects.defer("report")
        .filter(pk=batch_id, state=BatchState.PUBLISHED)
        .first()
    )
    if batch is None:
        return 0
    told = set(DocumentDelivery.objects.filter(batch=batch).values_list("user_id", flat=True))
    ids = [pk for pk in recipients(batch) if pk not in told]
    sent = 0
    for chunk in _chunks(ids, DELIVERY_BATCH):
        with email_delivery_batch():
            sent += _chunk_email(batch.pk, chunk)
    return sent


@task()
def documents_notify(batch_id: int) -> int:
    """The task enqueued when a batch (or a single document) is published."""
    return documents_email(batch_id=batch_id)
