"""The e-mail intake as staff see it: the messages that made no request
(unreadable ones in quarantine, automatic replies, undeliverable notices,
those held back from a sender writing too often), and any message's
original — headers, the full text with its quoted history, attachments,
what the intake noticed — with the raw file to download."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from audit.services import access_record
from core.decorators import staff_required
from mail.models import InboundEmail
from mail.parse import UnreadableMessage, parse
from mail.selectors import emails_failing, inbound_unfiled
from tickets.models import Ticket

PAGE = 50
Outcome = InboundEmail.Status
TABS = {
    Outcome.QUARANTINE: gettext_lazy("Could not be read"),
    Outcome.IGNORED: gettext_lazy("Held back"),
    Outcome.BOUNCE: gettext_lazy("Undeliverable notices"),
    Outcome.AUTO_REPLY: gettext_lazy("Automatic replies"),
    "outbound": gettext_lazy("Our e-mails that did not go out"),
}
NOTE_LABELS = {
    "unreadable": gettext_lazy("Could not be read"),
    "defects": gettext_lazy("Faults in the message's structure"),
    "refused": gettext_lazy("Attachments not taken over"),
    "spam": gettext_lazy("Marked as spam by the mail server"),
    "too_large": gettext_lazy("Too large to take in; the original is still in the mailbox"),
}


@staff_required
@require_GET
def mail_list(request):
    status = request.GET.get("status", Outcome.QUARANTINE)
    if status not in TABS:
        status = Outcome.QUARANTINE
    before = request.GET.get("vor", "")
    before = int(before) if before.isascii() and before.isdigit() else None
    if status == "outbound":
        # Given up on, or in doubt: each is sent again from its request's
        # page (account e-mails, without a request, from the administration's
        # outbox).
        # Only about requests this person may see (an address is member data).
        visible = Ticket.objects.visible_to_staff(request.user).values("reference")
        failing = emails_failing().filter(thread__in=visible)
        if before is not None:
            failing = failing.filter(pk__lt=before)
        rows = list(failing.defer("body").order_by("-pk")[: PAGE + 1])
    else:
        rows = list(inbound_unfiled(status, before=before)[: PAGE + 1])
    return render(
        request,
        "backoffice/mail_list.html",
        {
            "tabs": [(key, label, key == status) for key, label in TABS.items()],
            "status": status,
            "emails": rows[:PAGE],
            "outbound": status == "outbound",
            "older": rows[PAGE - 1].pk if len(rows) > PAGE else None,
        },
    )


def get_email_for_staff(user, email_id: int) -> tuple[InboundEmail, Ticket | None]:
    """A message a staff member may read: one that made no request, or one
    of a request they may see; 404 otherwise (as for the request)."""
    email = get_object_or_404(InboundEmail, pk=email_id)
    if not email.ticket_reference:
        return email, None
    ticket = (
        Ticket.objects.visible_to_staff(user)
        .select_related("member")
        .filter(reference=email.ticket_reference)
        .first()
    )
    if ticket is None:
        raise Http404
    return email, ticket


@staff_required
@require_GET
def mail_detail(request, email_id):
    email, ticket = get_email_for_staff(request.user, email_id)
    access_record(
        request=request,
        action="view",
        subject=f"E-Mail {email.pk}" + (f" {ticket.reference}" if ticket else ""),
        members=[ticket.member] if ticket and ticket.member else None,
    )
    try:
        parsed, error = parse(bytes(email.raw)), ""
    except UnreadableMessage as exc:
        parsed, error = None, str(exc)
    # Plain values for the template: a note is a dict, and the template
    # language would take `note.items` for the dict's items() method when
    # the note has no "items" key.
    notes = [
        {
            "label": NOTE_LABELS.get(note.get("kind"), note.get("kind")),
            "error": note.get("error", ""),
            "faults": note.get("items") or [],
            "size": note.get("size"),
            "where": note.get("where", ""),
            "files": note.get("files") or [],
        }
        for note in email.notes
    ]
    return render(
        request,
        "backoffice/mail_detail.html",
        {"email": email, "ticket": ticket, "parsed": parsed, "error": error, "notes": notes},
    )


@staff_required
@require_GET
def mail_original(request, email_id):
    """The message file as it came, to open in a mail program: always a
    download, never shown in the browser (its HTML is the sender's)."""
    email, ticket = get_email_for_staff(request.user, email_id)
    access_record(
        request=request,
        action="export",
        subject=f"E-Mail {email.pk}" + (f" {ticket.reference}" if ticket else ""),
        members=[ticket.member] if ticket and ticket.member else None,
    )
    response = HttpResponse(bytes(email.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="e-mail-{email.pk}.eml"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
