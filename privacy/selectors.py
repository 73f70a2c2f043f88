"""What the data export holds about a member, read as plain data, and the
one permission-checked fetch of an export.

Each reader returns JSON-ready dicts in the shape of
privacy/schema/export-v1.json; docs/privacy-export.md says for every field
what it is and, for what is left out, why. The rule throughout: the member
gets what they may see in the portal, and more where it is data about them
that the portal does not show (their account, the staff access log), never
other people's private data (a household partner's personal requests, who
called in for them), internal notes or the office's work planning
(priorities, deadlines, routing, who handles a request)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.files.storage import Storage
from django.db.models import OuterRef, Prefetch, Subquery
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.roles import ADMIN, HANDLER, TEAM_LEAD
from appointments.models import Appointment
from audit.models import AccessLog
from certificates.models import Certificate
from cooperative.models import Cooperative
from documents.models import DocumentRead
from documents.selectors import documents_visible_to_member
from mail.models import OutboundEmail
from members.models import ContractMember, Member, ShareMovement
from notices.models import NoticeDelivery
from privacy.models import DataExport
from rooms.models import RoomBooking
from tickets.models import Attachment, FieldKind, Ticket, TicketEvent

# --- the export as the member reaches it ------------------------------------


def export_latest_for_member(member: Member) -> DataExport | None:
    """The member's newest export, whatever its state (the page shows it)."""
    return DataExport.objects.filter(member=member).order_by("-created_at", "-pk").first()


def get_export_for_member(user: User, public_id) -> DataExport:
    """The member's own export, ready and not expired; else 404 — for
    everyone else, and for a copy that is not (or no longer) complete."""
    export = DataExport.objects.filter(member_id=user.member_id, public_id=public_id).first()
    if export is None or not export.is_downloadable():
        raise Http404
    return export


# --- plain values -------------------------------------------------------------


def moment(value: datetime.datetime | None) -> str | None:
    """An instant as ISO 8601 with Berlin's offset (as the API writes them)."""
    return timezone.localtime(value).isoformat() if value is not None else None


def day(value: datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def money(value: Decimal | None) -> str | None:
    """Amounts as decimal strings ("1234.50"): a float would round them."""
    return f"{value:.2f}" if value is not None else None


# --- the files that go into the ZIP -----------------------------------------


@dataclass(frozen=True)
class ExportFile:
    """One stored file and where it goes in the ZIP."""

    path: str  # inside the ZIP
    storage: Storage  # where it is kept (attachments, documents: each their own)
    storage_name: str
    size: int
    content_type: str


def _safe(name: str) -> str:
    """A file name as a ZIP member: no folders, no control characters, not
    empty (the original name is what the member uploaded)."""
    kept = "".join(ch for ch in name if ch.isprintable() and ch not in '/\\:*?"<>|')
    return kept.strip(" .")[:120] or "datei"


def _attachment(attachment: Attachment, folder: str, files: list[ExportFile]) -> dict:
    path = f"{folder}/{attachment.pk}-{_safe(attachment.original_name)}"
    files.append(
        ExportFile(
            path=path,
            storage=attachment.file.storage,
            storage_name=attachment.file.name,
            size=attachment.size,
            content_type=attachment.content_type,
        )
    )
    return {
        "file_name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "uploaded_at": moment(attachment.created_at),
        "path": path,
    }


# --- the sections -------------------------------------------------------------


def controller_section() -> dict:
    """Who holds the data (the cooperative), as the letterhead names it."""
    cooperative = Cooperative.objects.current()
    return {
        "name": cooperative.name,
        "street": cooperative.street,
        "postcode": cooperative.postcode,
        "city": cooperative.city,
        "email": cooperative.email,
        "phone": cooperative.phone,
    }


def member_section(member: Member) -> dict:
    """The member's entry as the ERP delivers it (also what the members'
    list keeps under GenG § 30)."""
    return {
        "member_number": member.member_number,
        "salutation": member.salutation,
        "title": member.title,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "street": member.street,
        "postcode": member.postcode,
        "city": member.city,
        "email": member.email,
        "phone": member.phone,
        "preferred_language": member.preferred_language,
        "joined_on": day(member.joined_on),
        "left_on": day(member.left_on),
        "left_reason": member.left_reason,
        "shareholdings": [
            {
                "kind": holding.kind,
                "count": holding.count,
                "nominal_value": money(holding.nominal_value),
                "total": money(holding.total),
            }
            for holding in member.shareholdings.order_by("kind")
        ],
    }


def share_movements_section(member: Member) -> list[dict]:
    """The bookings on the member's shares and Geschäftsguthaben as the ERP
    delivers them (subscriptions, cancellations, payments, dividends,
    transfers), oldest first: the history Meine Mitgliedschaft shows."""
    rows = ShareMovement.objects.filter(member=member).order_by("booked_on", "pk")
    return [
        {
            "booked_on": day(row.booked_on),
            "kind": row.kind,
            "shares": row.shares,
            "amount": money(row.amount),
            "business_year": row.business_year,
            "text": row.text,
            "reference": row.reference,
        }
        for row in rows
    ]


def contracts_section(member: Member) -> list[dict]:
    """Every contract the member is or was on, with the flat and the names
    of the others on it (the household the member sees on Mein Bereich)."""
    rows = (
        ContractMember.objects.filter(member=member)
        .select_related("contract__unit__building__estate")
        .prefetch_related(
            Prefetch(
                "contract__members",
                queryset=Member.objects.exclude(pk=member.pk).order_by("last_name", "first_name"),
                to_attr="others",
            )
        )
        .order_by("contract__start", "contract__number")
    )
    result = []
    for row in rows:
        contract = row.contract
        unit = contract.unit
        building = unit.building
        result.append(
            {
                "number": contract.number,
                "start": day(contract.start),
                "end": day(contract.end),
                "on_contract_since": day(row.joined or contract.start),
                "monthly_fee": money(contract.monthly_fee),
                "unit": {
                    "number": unit.number,
                    "floor": unit.floor,
                    "position": unit.position,
                    "rooms": str(unit.rooms) if unit.rooms is not None else None,
                    "living_area": str(unit.living_area) if unit.living_area is not None else None,
                    "street": f"{building.street} {building.house_number}".strip(),
                    "postcode": building.postcode,
                    "city": building.city,
                    "estate": building.estate.name,
                },
                "household": [other.full_name for other in contract.others],
            }
        )
    return result


def account_section(user: User) -> dict:
    """The login account: what it is set to and when it was used. Never the
    password's hash, the authenticator's secret or the recovery codes."""
    return {
        "email": user.email,
        "active": user.is_active,
        "created_at": moment(user.date_joined),
        "last_login": moment(user.last_login),
        "language": user.language,
        "notices_by_email": user.notices_by_email,
        "two_step_login": user.two_factor_enabled,
    }


def _author(actor_id: int | None, actor: User | None, user: User) -> str:
    """Who wrote or did it, as the member's request page says it: the
    member, someone of their household, or the office (never which staff
    member: the page does not name them either)."""
    if actor_id is None:
        return "office"
    if actor_id == user.pk:
        return "member"
    if actor is not None and actor.is_staff:
        return "office"
    return "household"


def _event(event: TicketEvent, user: User, folder: str, files: list[ExportFile]) -> dict:
    data = event.data or {}
    row = {
        "at": moment(event.created_at),
        "kind": event.kind,
        "author": _author(event.actor_id, event.actor, user),
        "text": event.body,
    }
    if event.kind == TicketEvent.Kind.STATUS:
        row["status"] = data.get("to", "")
    if event.kind == TicketEvent.Kind.OPENED:
        row["team"] = data.get("team", "")
    if event.kind == TicketEvent.Kind.ASSIGNED:
        row["team"] = (data.get("to") or {}).get("team", "")
    if event.kind == TicketEvent.Kind.MERGED:
        row["reference"] = data.get("into") or data.get("from") or ""
    if event.kind == TicketEvent.Kind.SHARED:
        row["shared"] = bool(data.get("shared"))
    row["attachments"] = [_attachment(a, folder, files) for a in event.attachments.all()]
    return row


def _answers(ticket: Ticket) -> list[dict]:
    """Each answer by its key, with the label and the text as the form
    shows them; the IBAN in full (the member entered it)."""
    given = [
        definition
        for definition in ticket.fields_snapshot
        if ticket.answers.get(definition["key"]) not in (None, "", [])
    ]
    rows = ticket.answer_rows(full_iban=True)
    return [
        {
            "key": definition["key"],
            "kind": definition["kind"],
            "label": label,
            "value": ticket.answers[definition["key"]],
            "text": text,
        }
        for definition, (label, text) in zip(given, rows, strict=True)
        if definition["kind"] != FieldKind.FILE
    ]


PUBLIC_EVENTS = Prefetch(
    "events",
    queryset=TicketEvent.objects.filter(public=True)
    .select_related("actor")
    .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
    .order_by("created_at", "pk"),
    to_attr="public_events",
)


def requests_section(member: Member, user: User, files: list[ExportFile]) -> list[dict]:
    """The member's own requests (filed by them or for them), with what
    their request page shows: the answers, the public history with its
    messages and files, status, team, rating. Internal notes and their
    files, the handler, priority, deadlines and the routing reason are the
    office's work, not shown. The contact fields (who called or wrote in
    for the member) are left out: they name someone else.

    Read in chunks of 100 with their events, so 5,000 requests do not sit
    in memory at once."""
    tickets = (
        Ticket.objects.filter(member=member)
        .select_related("request_type", "team")
        .prefetch_related(PUBLIC_EVENTS)
        .order_by("created_at", "pk")
    )
    result = []
    for ticket in tickets.iterator(chunk_size=100):
        folder = f"anliegen/{ticket.reference}"
        result.append(
            {
                "reference": ticket.reference,
                "type": ticket.request_type.slug,
                "type_name": ticket.request_type.name,
                "category": ticket.request_type.category,
                "channel": ticket.channel,
                "status": ticket.status,
                "filed_at": moment(ticket.created_at),
                "resolved_at": moment(ticket.resolved_at),
                "closed_at": moment(ticket.closed_at),
                "shared_with_household": ticket.shared_with_household,
                "team": ticket.team.name if ticket.team else "",
                "answers": _answers(ticket),
                "rating": ticket.rating,
                "rating_comment": ticket.rating_comment,
                "history": [_event(e, user, folder, files) for e in ticket.public_events],
            }
        )
    return result


def household_messages_section(member: Member, user: User, files: list[ExportFile]) -> list[dict]:
    """What the member wrote into requests of their household filed by
    someone else: their own words and files, with the request's reference
    and type only (the rest of it is the filer's)."""
    events = (
        TicketEvent.objects.filter(actor=user, kind=TicketEvent.Kind.MEMBER_REPLY, public=True)
        .exclude(ticket__member=member)
        .select_related("ticket__request_type")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )
    result = []
    for event in events.iterator(chunk_size=100):
        folder = f"haushalt/{event.ticket.reference}"
        result.append(
            {
                "reference": event.ticket.reference,
                "type_name": event.ticket.request_type.name,
                "at": moment(event.created_at),
                "text": event.body,
                "attachments": [_attachment(a, folder, files) for a in event.attachments.all()],
            }
        )
    return result


def documents_section(member: Member, user: User, files: list[ExportFile]) -> list[dict]:
    """The documents the member reads in the portal (documents.selectors:
    their own, and their household's about the time they are on the
    contract; none of a previous tenant's), each with its PDF and when
    this account first opened it."""
    read = DocumentRead.objects.filter(user=user, document=OuterRef("pk")).values("read_at")
    rows = (
        documents_visible_to_member(member)
        .annotate(read_at=Subquery(read[:1]))
        .order_by("period_start", "published_at", "pk")
    )
    result = []
    for document in rows.iterator(chunk_size=500):
        name = _safe(document.original_name or document.title)
        path = f"dokumente/{document.pk}-{name.removesuffix('.pdf')}.pdf"
        files.append(
            ExportFile(
                path=path,
                storage=document.file.storage,
                storage_name=document.file.name,
                size=document.size,
                content_type="application/pdf",
            )
        )
        addressed = (
            "member" if document.member_id else "contract" if document.contract_id else "unit"
        )
        result.append(
            {
                "kind": document.kind,
                "title": document.title,
                "addressed_to": addressed,
                "period_start": day(document.period_start),
                "period_end": day(document.period_end),
                "published_at": moment(document.published_at),
                "read_at": moment(document.read_at),
                "size": document.size,
                "sha256": document.sha256,
                "path": path,
            }
        )
    return result


def certificates_section(member: Member) -> list[dict]:
    """The certificates the portal issued: what each certified (the facts
    the PDF was made from), when, and the PDF's place in the ZIP (it is a
    file of the request it answered). Never the verification code: only
    its hash is kept, and the member has it on the certificate."""
    rows = (
        Certificate.objects.filter(member=member)
        .select_related("ticket", "attachment__event")
        .order_by("issued_at", "pk")
    )
    result = []
    for row in rows:
        attachment = row.attachment
        # In the ZIP with the request's files when the request page offers
        # it; one sent by post sits in the office's note (the letter went out).
        offered = (
            attachment is not None and attachment.event is not None and attachment.event.public
        )
        path = (
            f"anliegen/{row.ticket.reference}/{attachment.pk}-{_safe(attachment.original_name)}"
            if offered
            else ""
        )
        result.append(
            {
                "kind": row.kind,
                "issued_at": moment(row.issued_at),
                "request": row.ticket.reference,
                "by_post": row.by_post,
                "language": row.language,
                "facts": row.facts,
                "path": path,
            }
        )
    return result


def _booked_by(booked_by_id: int | None, user: User) -> str:
    if booked_by_id is None:
        return "office"
    return "member" if booked_by_id == user.pk else "office"


def appointments_section(member: Member, user: User) -> list[dict]:
    """Consultations booked by or for the member, past and to come, as the
    member's appointment page shows them (the advisor by name: the booking
    names them)."""
    rows = (
        Appointment.objects.filter(member=member, kind=Appointment.Kind.APPOINTMENT)
        .select_related("appointment_type", "advisor__user", "ticket")
        .order_by("starts_at", "pk")
    )
    return [
        {
            "id": str(row.public_id),
            "topic": row.appointment_type.name if row.appointment_type else "",
            "advisor": str(row.advisor),
            "starts_at": moment(row.starts_at),
            "ends_at": moment(row.ends_at),
            "status": row.status,
            "where": row.location_kind,
            "place": row.location,
            "note": row.note,
            "request": row.ticket.reference if row.ticket else "",
            "booked_at": moment(row.created_at),
            "booked_by": _booked_by(row.booked_by_id, user),
            "cancelled_at": moment(row.cancelled_at),
        }
        for row in rows
    ]


def room_bookings_section(member: Member, user: User) -> list[dict]:
    """Guest apartment and common room bookings, with the price agreed and
    the office's reason when it declined."""
    rows = RoomBooking.objects.filter(member=member).select_related("room").order_by("starts_at")
    return [
        {
            "id": str(row.public_id),
            "room": row.room.name,
            "starts_at": moment(row.starts_at),
            "ends_at": moment(row.ends_at),
            "units": row.units,
            "price": money(row.price),
            "persons": row.persons,
            "purpose": row.purpose,
            "note": row.note,
            "status": row.status,
            "decided_at": moment(row.decided_at),
            "decline_reason": row.decline_reason,
            "cancelled_at": moment(row.cancelled_at),
            "booked_at": moment(row.created_at),
            "booked_by": _booked_by(row.booked_by_id, user),
        }
        for row in rows
    ]


def notice_emails_section(user: User) -> list[dict]:
    """Which notices were e-mailed to the member (they asked for it)."""
    rows = NoticeDelivery.objects.filter(user=user).select_related("notice").order_by("created_at")
    return [
        {
            "title": row.notice.title,
            "kind": row.notice.kind,
            "valid_from": moment(row.notice.valid_from),
            "valid_until": moment(row.notice.valid_until),
            "emailed_at": moment(row.created_at),
        }
        for row in rows
    ]


def emails_section(member: Member, user: User) -> list[dict]:
    """The e-mails the portal wrote to the member's addresses: when, the
    subject and whether it went out. Not the texts: some held one-time
    links (activation, password reset) that must not live on in a file."""
    addresses = {address.lower() for address in (user.email, member.email) if address}
    rows = (
        OutboundEmail.objects.annotate(address=Lower("to"))
        .filter(address__in=addresses)
        .only("created_at", "subject", "status", "sent_at")
        .order_by("created_at", "pk")
    )
    return [
        {
            "at": moment(row.created_at),
            "subject": row.subject,
            "status": row.status,
            "sent_at": moment(row.sent_at),
        }
        for row in rows.iterator(chunk_size=500)
    ]


def _roles(actor_ids: set[int]) -> dict[int, str]:
    """Each staff member's role today: Administration, Teamleitung or
    Bearbeitung (the role, not the name: see access_log_section)."""
    rank = {ADMIN: 0, TEAM_LEAD: 1, HANDLER: 2}
    roles: dict[int, str] = {}
    for user_id, name in Group.objects.filter(
        user__pk__in=actor_ids, name__in=list(rank)
    ).values_list("user__pk", "name"):
        if user_id not in roles or rank[name] < rank[roles[user_id]]:
            roles[user_id] = name
    for user_id in User.objects.filter(pk__in=actor_ids, is_superuser=True).values_list(
        "pk", flat=True
    ):
        roles[user_id] = ADMIN
    return {user_id: roles.get(user_id, HANDLER) for user_id in actor_ids}


def access_log_section(member: Member) -> list[dict]:
    """When staff looked at, searched for or printed the member's data, and
    what. Staff members are named by role, not by name: the data subject's
    right is to the log's facts (when, what, why), while the identity of
    employees acting under the cooperative's authority is given only where
    the member needs it to exercise a right (CJEU C-579/21, 22 June 2023);
    the member can ask the office for it then. Rows of the member's own
    downloads of their data are left out here (the exports list them)."""
    rows = list(
        AccessLog.objects.filter(member=member, actor__is_staff=True)
        .only("created_at", "action", "subject", "actor_id")
        .order_by("created_at", "pk")
    )
    roles = _roles({row.actor_id for row in rows})
    return [
        {
            "at": moment(row.created_at),
            "action": row.action,
            "role": roles[row.actor_id],
            "subject": row.subject,
        }
        for row in rows
    ]


def exports_section(member: Member) -> list[dict]:
    """The member's earlier requests for their data, and their downloads."""
    rows = DataExport.objects.filter(member=member).order_by("created_at", "pk")
    return [
        {
            "requested_at": moment(row.created_at),
            "status": row.status,
            "ready_at": moment(row.ready_at),
            "downloaded_at": moment(row.downloaded_at),
        }
        for row in rows
    ]


def export_data(
    *, member: Member, user: User, generated_at: datetime.datetime, language: str
) -> tuple[dict, list[ExportFile]]:
    """data.json as a dict, and the files it names. Call inside the
    member's language: labels and type names are written in it."""
    files: list[ExportFile] = []
    data = {
        "format": "genoportal-data-export",
        "version": 1,
        "generated_at": moment(generated_at),
        "language": language,
        "controller": controller_section(),
        "member": member_section(member),
        "share_movements": share_movements_section(member),
        "contracts": contracts_section(member),
        "account": account_section(user),
        "requests": requests_section(member, user, files),
        "household_messages": household_messages_section(member, user, files),
        "documents": documents_section(member, user, files),
        "certificates": certificates_section(member),
        "appointments": appointments_section(member, user),
        "room_bookings": room_bookings_section(member, user),
        "notice_emails": notice_emails_section(user),
        "emails": emails_section(member, user),
        "access_log": access_log_section(member),
        "data_exports": exports_section(member),
    }
    return data, files
