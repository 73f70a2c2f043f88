"""Reading documents: which a member sees, the one permission-checked
fetch of each kind, who may upload and publish, what staff see, and the
blank forms.

Who sees a document is the household rule of requests
(tickets.models.TicketQuerySet.visible_to_member), applied to the day a
document is about instead of the day a request was filed: a member reads
what is addressed to them personally, always; and the documents of a
contract they hold now, or of the flat they live in, about a time from
the day they are on that contract (its start, or the day a partner was
added to a running contract). So a new tenant never sees the previous
tenant's statements, and a partner added later sees the household's
documents from their own first day. Both rules start from the same rows,
the member's current contracts and their first days
(members.selectors.residences, read once per request)."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, Window
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import User
from documents.models import (
    Addressed,
    BatchState,
    Document,
    DocumentBatch,
    DocumentRead,
    Form,
    FormTopic,
)
from members.models import Contract, ContractMember, Member
from members.selectors import residences

MEMBER_PAGE_SIZE = 20
REPORT_PAGE_SIZE = 50
BATCH_PAGE_SIZE = 20
SINGLES_SHOWN = 20


def visible_condition(member: Member) -> Q:
    """The rule above as one condition over document rows: an OR of plain
    conditions on the member, contract and unit indexes, with the
    member's contracts and days as values (as the requests' rule is
    written, for the same reason: no OR across a subquery)."""
    visible = Q(member=member)
    for residence in residences(member):
        since = residence.since
        visible |= Q(contract_id=residence.contract.pk, period_start__gte=since)
        visible |= Q(unit_id=residence.contract.unit_id, period_start__gte=since)
    return visible


def documents_visible_to_member(member: Member):
    return Document.objects.published().filter(visible_condition(member))


def _is_new(user: User):
    """Not opened by this account yet (DocumentRead), as a column."""
    return ~Exists(DocumentRead.objects.filter(user=user, document=OuterRef("pk")))


def get_document_for_member(user: User, public_id) -> Document:
    """The one way a member reaches a document: their own, or their
    household's by the rule above; else 404 (never 403: a stranger
    learns nothing about other documents)."""
    document = documents_visible_to_member(user.member).filter(public_id=public_id).first()
    if document is None:
        raise Http404
    return document


@dataclass(frozen=True)
class DocumentPage:
    documents: list[Document]
    number: int
    count: int
    pages: int


def documents_for_member_page(member: Member, *, user: User, page: int) -> DocumentPage:
    """The member's documents, the latest published first, a page of
    MEMBER_PAGE_SIZE, in one query: each row carries `is_new`, and the
    window counts give how many there are and how many are new. A page
    past the end is the last page (at most one query more)."""
    rows = (
        documents_visible_to_member(member)
        .only(
            "public_id",
            "kind",
            "title",
            "period_start",
            "period_end",
            "size",
            "published_at",
            "member_id",
            "contract_id",
            "unit_id",
        )
        .annotate(
            is_new=_is_new(user),
            total=Window(Count("pk")),
        )
        .order_by("-published_at", "-pk")
    )
    number = max(page, 1)
    documents = list(rows[(number - 1) * MEMBER_PAGE_SIZE : number * MEMBER_PAGE_SIZE])
    if not documents and number > 1:
        count = documents_visible_to_member(member).count()
        number = max(1, -(-count // MEMBER_PAGE_SIZE))
        documents = list(rows[(number - 1) * MEMBER_PAGE_SIZE : number * MEMBER_PAGE_SIZE])
    count = documents[0].total if documents else 0
    return DocumentPage(
        documents=documents,
        number=number,
        count=count,
        pages=max(1, -(-count // MEMBER_PAGE_SIZE)),
    )


def documents_new_count(member: Member, *, user: User) -> int:
    """How many of the member's documents this account has not opened
    (Mein Bereich's card): one query."""
    return documents_visible_to_member(member).filter(_is_new(user)).count()


# Staff --------------------------------------------------------------------------------
#
# Members' documents are personal data (a statement says what a household
# pays), so not every staff member handles them. The roles of
# accounts.roles decide: staff with the documents role ("Dokumente",
# given to the member-services team, Mitgliederwesen, whose everyday work
# is membership and contracts), team leads and admins upload, check and
# withdraw single documents. A batch reaches thousands of households at
# once: team leads and admins publish and withdraw batches — the roles
# answerable for what the office sends out, who log in with a second
# step. Member services prepares, a lead confirms. All three facts come
# with the user's row (accounts.backends): asking costs no query.


def may_manage(user) -> bool:
    """Upload, check and withdraw single documents; see every document."""
    if not user.is_authenticated or not user.is_staff:
        return False
    return user.is_lead_or_admin or user.has_documents_role


def may_publish_batch(user) -> bool:
    """Publish and withdraw batches."""
    return user.is_authenticated and user.is_staff and user.is_lead_or_admin


def _staff_only(user) -> None:
    if not may_manage(user):
        raise Http404


@dataclass(frozen=True)
class BatchList:
    batches: list[DocumentBatch]
    number: int
    pages: int
    singles: list[Document]


def batches_for_staff(user, *, page: int) -> BatchList:
    """The back office's list: bulk uploads (newest first, paged; their
    reports are not read) and the latest single documents."""
    _staff_only(user)
    batches = (
        DocumentBatch.objects.filter(source=DocumentBatch.Source.BULK)
        .defer("report")
        .select_related("uploaded_by")
        .annotate(total=Window(Count("pk")))
        .order_by("-created_at", "-pk")
    )
    number = max(page, 1)
    rows = list(batches[(number - 1) * BATCH_PAGE_SIZE : number * BATCH_PAGE_SIZE])
    count = rows[0].total if rows else 0
    singles = list(
        Document.objects.filter(batch__source=DocumentBatch.Source.SINGLE)
        .select_related("member", "contract", "unit__building")
        .order_by("-published_at", "-pk")[:SINGLES_SHOWN]
    )
    return BatchList(
        batches=rows,
        number=number,
        pages=max(1, -(-count // BATCH_PAGE_SIZE)),
        singles=singles,
    )


def get_batch_for_staff(user, public_id, *, report: bool = True) -> DocumentBatch:
    _staff_only(user)
    batches = DocumentBatch.objects.select_related("uploaded_by", "published_by", "withdrawn_by")
    if not report:
        batches = batches.defer("report")
    batch = batches.filter(public_id=public_id).first()
    if batch is None:
        raise Http404
    return batch


def get_document_for_staff(user, public_id) -> Document:
    _staff_only(user)
    document = (
        Document.objects.select_related(
            "member", "contract__unit__building", "unit__building", "batch", "created_by"
        )
        .filter(public_id=public_id)
        .first()
    )
    if document is None:
        raise Http404
    return document


def addressee_members(document: Document) -> list[Member]:
    """Whose data a document is (for the access log): the member, the
    members on the contract, or those on the flat's contracts."""
    if document.member_id:
        return [document.member]
    holders = ContractMember.objects.all()
    if document.contract_id:
        holders = holders.filter(contract_id=document.contract_id)
    else:
        holders = holders.filter(contract__unit_id=document.unit_id)
    return list(Member.objects.filter(pk__in=holders.values("member_id")))


def entry_members(batch: DocumentBatch, entry: dict) -> list[Member]:
    """Whose data a file of a batch is: the member, or those on the contract."""
    if batch.numbers == Addressed.CONTRACT:
        holders = ContractMember.objects.filter(contract_id=entry["addressee"])
        return list(Member.objects.filter(pk__in=holders.values("member_id")))
    return list(Member.objects.filter(pk=entry["addressee"]))


@dataclass(frozen=True)
class ReportRow:
    position: int  # 1-based, as the report lists it
    entry: dict
    addressee: object  # Member or Contract, or None


@dataclass(frozen=True)
class ReportPage:
    rows: list[ReportRow]
    number: int
    pages: int
    shown: int  # rows of the chosen view, on all pages
    show: str


REPORT_VIEWS = ("all", "refused", "accepted")


def report_page(batch: DocumentBatch, *, show: str, page: int) -> ReportPage:
    """One page of a batch's report (REPORT_PAGE_SIZE rows), of all files,
    the refused or the accepted ones; the addressees of the page's rows in
    one query."""
    show = show if show in REPORT_VIEWS else "all"
    numbered = [(position, entry) for position, entry in enumerate(batch.report, start=1)]
    if show == "refused":
        numbered = [(p, e) for p, e in numbered if e["problem"]]
    elif show == "accepted":
        numbered = [(p, e) for p, e in numbered if not e["problem"]]
    pages = max(1, -(-len(numbered) // REPORT_PAGE_SIZE))
    number = min(max(page, 1), pages)
    chosen = numbered[(number - 1) * REPORT_PAGE_SIZE : number * REPORT_PAGE_SIZE]
    ids = {entry["addressee"] for _position, entry in chosen if entry.get("addressee")}
    if batch.numbers == Addressed.CONTRACT:
        found = Contract.objects.select_related("unit__building").prefetch_related("members")
    else:
        found = Member.objects.all()
    by_id = {row.pk: row for row in found.filter(pk__in=ids)} if ids else {}
    rows = [
        ReportRow(position=p, entry=e, addressee=by_id.get(e.get("addressee"))) for p, e in chosen
    ]
    return ReportPage(rows=rows, number=number, pages=pages, shown=len(numbered), show=show)


def report_entry(batch: DocumentBatch, position: int) -> dict:
    """An accepted file of a checked batch (to look at before publishing);
    404 for anything else."""
    if batch.state != BatchState.CHECKED or not 1 <= position <= len(batch.report):
        raise Http404
    entry = batch.report[position - 1]
    if entry["problem"] or not entry["path"]:
        raise Http404
    return entry


def addressees_lookup(numbers: str, wanted: set[str]) -> dict[str, int]:
    """Number → id of the members or contracts with these numbers, one query."""
    if not wanted:
        return {}
    if numbers == Addressed.CONTRACT:
        rows = Contract.objects.filter(number__in=wanted).values_list("number", "pk")
    else:
        rows = Member.objects.filter(member_number__in=wanted).values_list("member_number", "pk")
    return dict(rows)


def addressees_published(
    *,
    numbers: str,
    ids: set[int],
    kind: str,
    title: str,
    period_start: datetime.date,
    period_end: datetime.date,
) -> set[int]:
    """Which of these addressees already have this document (not withdrawn)."""
    if not ids:
        return set()
    field = {"contract": "contract_id", "member": "member_id", "unit": "unit_id"}[numbers]
    return set(
        Document.objects.published()
        .filter(
            kind=kind,
            title=title,
            period_start=period_start,
            period_end=period_end,
            **{f"{field}__in": ids},
        )
        .values_list(field, flat=True)
    )


def recipients(batch: DocumentBatch) -> list[int]:
    """The member accounts that see a document of this batch (the rule at
    the top, read from the document's side): the members addressed, and
    those on a current contract that is addressed, or on one for an
    addressed flat, since a day no later than the time the batch is
    about. Active accounts only, in one query."""
    documents = Document.objects.published().filter(batch=batch)
    holders = (
        ContractMember.objects.filter(contract__in=Contract.objects.current())
        .annotate(since=Coalesce("joined", "contract__start"))
        .filter(since__lte=batch.period_start)
    )
    members = (
        Q(member__in=documents.filter(member__isnull=False).values("member_id"))
        | Q(
            member__in=holders.filter(
                contract_id__in=documents.filter(contract__isnull=False).values("contract_id")
            ).values("member_id")
        )
        | Q(
            member__in=holders.filter(
                contract__unit_id__in=documents.filter(unit__isnull=False).values("unit_id")
            ).values("member_id")
        )
    )
    return list(
        User.objects.filter(members, is_active=True, member__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# Forms to download --------------------------------------------------------------------


@dataclass(frozen=True)
class TopicForms:
    topic: str
    label: str
    forms: list[Form]


def forms_by_topic() -> list[TopicForms]:
    """The offered forms, grouped by topic in the topics' order: one query."""
    forms = list(Form.objects.active().order_by("position", "title_de"))
    groups = []
    for value, label in FormTopic.choices:
        chosen = [form for form in forms if form.topic == value]
        if chosen:
            groups.append(TopicForms(topic=value, label=label, forms=chosen))
    return groups


def get_form(slug: str) -> Form:
    form = Form.objects.active().filter(slug=slug).first()
    if form is None:
        raise Http404
    return form


def forms_for_request_type(request_type_id: int) -> list[Form]:
    """The forms that go with a request form (its page lists them)."""
    return list(
        Form.objects.active()
        .filter(request_types=request_type_id)
        .order_by("topic", "position", "title_de")
    )
