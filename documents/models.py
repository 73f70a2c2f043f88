"""Documents for members and blank forms to download.

A Document is one PDF for exactly one addressee — a member, a contract
(the household on it) or a unit (whoever lives there) — about a day or a
period (a yearly statement: 1 January to 31 December). Who reads it
follows the household rule of requests (documents.selectors). Every
document comes out through a DocumentBatch: the bulk upload of the
yearly statements, or a single upload (a batch of one), so who uploaded
and who published, the e-mail to each member and the withdrawal are
kept in one place. Nothing is deleted: a withdrawn document stays, unseen
by members. A Form is a blank form or leaflet anyone may download."""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from documents.storage import private_storage


class DocumentKind(models.TextChoices):
    STATEMENT = "statement", _("service-charge statement")
    LETTER = "letter", _("letter")
    CONTRACT = "contract", _("copy of the contract")
    INVITATION = "invitation", _("invitation to an assembly")
    OTHER = "other", _("other document")


class Addressed(models.TextChoices):
    """Whom a document is for; a batch names its files by member or
    contract number."""

    MEMBER = "member", _("a member")
    CONTRACT = "contract", _("a contract (the household)")
    UNIT = "unit", _("an apartment (whoever lives there)")


def document_path(instance: "Document", filename: str) -> str:
    # Random names: titles and numbers stay in the row, never in the path.
    # Spread over 256 folders by the name's first two characters: one
    # batch writes thousands at once, and a month of them in one folder
    # makes every new file slower to create and the folder slow to list.
    name = uuid.uuid4().hex
    return f"documents/{timezone.now():%Y/%m}/{name[:2]}/{name}.pdf"


def form_path(instance: "Form", filename: str) -> str:
    return f"forms/{uuid.uuid4().hex}.pdf"


class BatchState(models.TextChoices):
    CHECKED = "checked", _("checked, not yet published")
    PUBLISHED = "published", _("published")
    WITHDRAWN = "withdrawn", _("withdrawn")
    DISCARDED = "discarded", _("discarded without publishing")


class DocumentBatch(TimeStampedModel):
    """One upload: the files, what the check found for each (`report`,
    kept as it was: it is what staff confirmed), and how far it got.
    Checked files wait in the private storage until the batch is
    published (then they become Documents) or discarded (then they are
    deleted: nobody ever saw them)."""

    class Source(models.TextChoices):
        BULK = "bulk", _("many at once")
        SINGLE = "single", _("one document")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.CharField(_("uploaded as"), max_length=6, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("about the time from"))
    period_end = models.DateField(_("about the time until"))
    # Whose numbers a bulk upload's file names (or index.csv) give.
    numbers = models.CharField(
        _("numbers are"), max_length=8, choices=Addressed.choices, blank=True
    )
    state = models.CharField(_("state"), max_length=10, choices=BatchState.choices)
    # One entry per file, in upload order (documents.intake.Entry as a dict):
    # its name, the number, whether it passed and why not, and for a file
    # that passed where it is stored, its size, hash and addressee.
    report = models.JSONField(_("check report"), default=list, editable=False)
    files_total = models.PositiveIntegerField(_("files"), default=0)
    files_accepted = models.PositiveIntegerField(_("files to publish"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    discarded_at = models.DateTimeField(_("discarded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("document batch")
        verbose_name_plural = _("document batches")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["source", "-created_at"], name="docbatch_source_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="docbatch_period_order"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def files_refused(self) -> int:
        return self.files_total - self.files_accepted

    def is_checked(self) -> bool:
        return self.state == BatchState.CHECKED


class DocumentQuerySet(models.QuerySet):
    def published(self) -> "DocumentQuerySet":
        """Out and not withdrawn: what members may see (whose: selectors)."""
        return self.filter(withdrawn_at__isnull=True)


class Document(TimeStampedModel):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    # Exactly one of the three (a check constraint).
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    contract = models.ForeignKey(
        "members.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    unit = models.ForeignKey(
        "cooperative.Unit",
        verbose_name=_("apartment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    # The time it is about; a letter's is one day. A household sees a
    # contract's or a flat's documents only about the time from the day it
    # is on the contract (documents.selectors).
    period_start = models.DateField(_("about the time from"))
    period_end = models.DateField(_("about the time until"))
    file = models.FileField(storage=private_storage, upload_to=document_path, max_length=200)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    original_name = models.CharField(_("file name as uploaded"), max_length=255, blank=True)
    batch = models.ForeignKey(
        DocumentBatch,
        verbose_name=_("batch"),
        on_delete=models.PROTECT,
        related_name="documents",
    )
    published_at = models.DateTimeField(_("published at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )

    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-published_at", "-pk"]
        indexes = [
            # The three parts of a member's visibility (selectors): their
            # own, their contracts' and their flats' from a day on.
            models.Index(fields=["member", "-published_at"], name="document_member"),
            models.Index(fields=["contract", "period_start"], name="document_contract"),
            models.Index(fields=["unit", "period_start"], name="document_unit"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(member__isnull=False, contract__isnull=True, unit__isnull=True)
                    | Q(member__isnull=True, contract__isnull=False, unit__isnull=True)
                    | Q(member__isnull=True, contract__isnull=True, unit__isnull=False)
                ),
                name="document_one_addressee",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="document_period_order"
            ),
            # The same document twice for one addressee (a batch uploaded
            # again): the check refuses it first; these are the backstop.
            # A withdrawn one does not count, so a corrected one can follow.
            *(
                models.UniqueConstraint(
                    fields=[field, "kind", "period_start", "period_end", "title"],
                    condition=Q(withdrawn_at__isnull=True, **{f"{field}__isnull": False}),
                    name=f"document_once_per_{field}",
                )
                for field in ("member", "contract", "unit")
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def addressed(self) -> str:
        if self.member_id:
            return Addressed.MEMBER
        return Addressed.CONTRACT if self.contract_id else Addressed.UNIT

    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def is_one_day(self) -> bool:
        return self.period_start == self.period_end

    def download_name(self) -> str:
        """The file name a member's browser saves: the title, readable."""
        safe = "".join(ch if ch.isalnum() or ch in " -_.()" else " " for ch in self.title)
        return " ".join(safe.split())[:120] + ".pdf"


class DocumentRead(models.Model):
    """A member account opened the document: it is no longer "new" for
    that account (a partner's download does not count for the other)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("document read")
        verbose_name_plural = _("documents read")
        constraints = [
            models.UniqueConstraint(fields=["user", "document"], name="document_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.document_id}"


class DocumentDelivery(models.Model):
    """The e-mail about a batch to one account: the unique pair is the
    claim, so a retried task tells nobody twice."""

    batch = models.ForeignKey(DocumentBatch, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.ForeignKey(
        "mail.OutboundEmail", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document e-mail")
        verbose_name_plural = _("document e-mails")
        constraints = [
            models.UniqueConstraint(fields=["batch", "user"], name="document_delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.user_id}"


class FormTopic(models.TextChoices):
    MEMBERSHIP = "membership", _("Membership")
    APARTMENT = "apartment", _("Apartment and contract")
    PAYMENT = "payment", _("Payments")
    LIVING = "living", _("Living together")
    OTHER = "other", _("Other")


class FormQuerySet(models.QuerySet):
    def active(self) -> "FormQuerySet":
        return self.filter(active=True)


class Form(TimeStampedModel):
    """A blank form or leaflet the office hands out (SEPA mandate, notice
    of termination, house rules): public, nothing personal in it."""

    slug = models.SlugField(_("address"), max_length=80, unique=True)
    topic = models.CharField(_("topic"), max_length=12, choices=FormTopic.choices)
    title_de = models.CharField(_("title (German)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    description_de = models.TextField(_("description (German)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    file = models.FileField(
        _("PDF file"), storage=private_storage, upload_to=form_path, max_length=200
    )
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    request_types = models.ManyToManyField(
        "tickets.RequestType",
        verbose_name=_("shown with the request forms"),
        blank=True,
        related_name="blank_forms",
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("offered"), default=True)

    objects = FormQuerySet.as_manager()

    class Meta:
        verbose_name = _("form to download")
        verbose_name_plural = _("forms to download")
        ordering = ["topic", "position", "title_de"]

    def __str__(self) -> str:
        return self.title_de

    @property
    def title(self) -> str:
        english = (get_language() or "de").startswith("en")
        return self.title_en if english and self.title_en else self.title_de

    @property
    def description(self) -> str:
        english = (get_language() or "de").startswith("en")
        return self.description_en if english and self.description_en else self.description_de


def period_is_year(start: datetime.date, end: datetime.date) -> bool:
    """A whole calendar year (shown as "2025")."""
    return (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and (
        start.year == end.year
    )
