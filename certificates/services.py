"""Issuing certificates: the request is filed like any other (so the
overview counts it by its type), the PDF made from the member records, and
the request settled at once, all in one transaction."""

import datetime

import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from certificates.codes import code_grouped, code_hash, code_new
from certificates.facts import certificate_facts, shown
from certificates.models import Certificate
from cooperative.cache import cooperative_current
from cooperative.letterhead import logo_data_uri
from core.links import absolute_url
from core.pdf import render_pdf
from members.models import Member
from tickets import events
from tickets.files import CleanFile
from tickets.models import Attachment, CertificateKind, RequestType, TicketDraft
from tickets.services import ticket_answer_by_portal, ticket_open

# A second click, a reload or the back button within this time gives the
# same certificate again, as long as it would say the same: no second
# request in the member's list and the overview for one need, and no
# second valid code for one paper. Later, or with anything changed (an
# address, the shares, the purpose), it is a new request and certificate.
REUSE_MINUTES = 30

# The choice field of the form that asks how the member wants it
# (demo/request_types.py): this option keeps the request for the office.
DELIVERY_FIELD = "delivery"
BY_POST = "post"

TEMPLATES = {
    CertificateKind.MEMBERSHIP: "certificates/pdf/membership.html",
    CertificateKind.REGISTER_EXTRACT: "certificates/pdf/register_extract.html",
}


class CertificateError(Exception):
    """The request type issues no certificate."""


def member_language(member: Member) -> str:
    """The language the member reads the portal in, else the one on file."""
    user = getattr(member, "user", None)
    language = user.language if user is not None else member.preferred_language
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def certificate_request(
    *,
    request_type: RequestType,
    member: Member,
    answers: dict,
    channel: str,
    created_by: User,
    draft: TicketDraft | None = None,
    now: datetime.datetime | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    note: str = "",
) -> Certificate:
    """File a certificate request and answer it: the request is opened
    (nobody e-mailed), the certificate made from the records as they are
    now, its PDF attached to the request and the request closed. When the
    member wants it by post (the form's "delivery" answer), the PDF goes
    into an internal note instead and the request stays open, routed to
    its team, who print and post it; the member gets the usual
    confirmation.

    Staff issue one for a caller the same way (backoffice's phone log):
    who got in touch goes into the contact fields, their notes on the call
    (`note`) into an internal note, as for any logged call.

    Within REUSE_MINUTES of one that would say the same, that one is
    returned and nothing is filed (`reused` is set on it)."""
    kind = request_type.certificate
    if kind not in TEMPLATES:
        raise CertificateError(request_type.slug)
    now = now or timezone.now()
    by_post = answers.get(DELIVERY_FIELD) == BY_POST
    purpose = str(answers.get("purpose") or "").strip()
    with transaction.atomic():
        # One at a time per member: two clicks at once make one certificate.
        member = Member.objects.select_for_update().get(pk=member.pk)
        facts = certificate_facts(
            member=member,
            cooperative=cooperative_current(),
            purpose=purpose,
            on=timezone.localdate(now),
        )
        recent = (
            Certificate.objects.filter(
                member=member,
                kind=kind,
                by_post=by_post,
                issued_at__gt=now - datetime.timedelta(minutes=REUSE_MINUTES),
            )
            .order_by("-issued_at")
            .first()
        )
        if recent is not None and recent.facts == facts:
            recent.reused = True
            return recent
        ticket = ticket_open(
            request_type=request_type,
            member=member,
            answers=answers,
            channel=channel,
            created_by=created_by,
            draft=draft,
            now=now,
            notify=by_post,
            contact_name=contact_name,
            contact_phone=contact_phone,
            contact_email=contact_email,
        )
        if note.strip():
            # As tickets.services.ticket_log_call keeps a call's notes.
            events.event_note(ticket=ticket, actor=created_by, body=note.strip())
        code = code_new()
        certificate = Certificate.objects.create(
            kind=kind,
            member=member,
            ticket=ticket,
            issued_at=now,
            issued_by=created_by,
            language=member_language(member),
            by_post=by_post,
            facts=facts,
            code_hash=code_hash(code),
        )
        pdf = certificate_pdf(certificate=certificate, code=code)
        with translation.override(certificate.language):
            title = str(CertificateKind(kind).label)
            name = f"{slugify(title)}-{timezone.localdate(now):%Y-%m-%d}.pdf"
            body = _("Attached: your %(title)s as a PDF file.") % {"title": title}
        if by_post:
            # For the office, in the office's language.
            with translation.override(settings.LANGUAGE_CODE):
                body = _(
                    "The member asked for this certificate by post. Please print the "
                    "attached letter (its address field fits a window envelope) and post it."
                )
        event = ticket_answer_by_portal(
            ticket=ticket,
            body=body,
            files=[CleanFile(pdf, "application/pdf", name)],
            close=not by_post,
        )
        certificate.attachment = Attachment.objects.get(event=event)
        certificate.save(update_fields=["attachment"])
    certificate.reused = False
    return certificate


def verify_url(code: str) -> str:
    return absolute_url("certificates:verify_code", args=[code_grouped(code)])


def certificate_pdf(*, certificate: Certificate, code: str) -> bytes:
    """The letter for this certificate, in its language, from its facts."""
    facts = certificate.facts
    url = verify_url(code)
    qr = segno.make(url, error="m").svg_data_uri(scale=4, border=0)
    with translation.override(certificate.language):
        info = [
            (_("Member number"), facts["member"]["number"]),
            (_("Our reference"), certificate.ticket.reference),
            (_("Date"), shown(facts)["as_of"]),
        ]
        context = {
            "letterhead": facts["cooperative"],
            "logo": logo_data_uri(cooperative_current()),
            "recipient": [facts["member"]["full_name"], *facts["member"]["address"]],
            "info": info,
            "facts": shown(facts),
            "code": code_grouped(code),
            "verify_url": url,
            "verify_page": absolute_url("certificates:verify"),
            "qr": qr,
        }
    return render_pdf(
        template_name=TEMPLATES[certificate.kind], context=context, language=certificate.language
    )
