"""Member portal: file a request, follow it, answer the office."""

import datetime

from django.contrib import messages
from django.db.models import Prefetch
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cooperative.cache import cooperative_cached
from core.dates import date_long
from core.decorators import member_required
from core.kept import initial, kept_notice, post_take
from tickets import finder, services
from tickets.emergency import emergency_reasons, needs_fire_brigade, needs_utility
from tickets.forms import IbanField, RatingForm, ReplyForm, RequestForm, SharesSubscribeField
from tickets.iban import iban_grouped
from tickets.models import Attachment, Category, Channel, Status, TicketDraft, TicketEvent
from tickets.selectors import (
    get_request_type_for_member,
    get_ticket_for_member,
    household_partners,
    request_types_for_member,
    tickets_for_member_page,
)


@member_required
@require_GET
def request_new(request):
    """Choose a form: the forms that fit the search first (tickets.finder),
    the general question always offered with the search text, then every
    form grouped by category."""
    query = finder.query_clean(request.GET.get("q", ""))
    types = sorted(request_types_for_member(request.user), key=finder.display_order)
    found = finder.forms_find(query=query, request_types=types) if query else []
    groups = []
    for value, label in Category.choices:
        members_types = [t for t in types if t.category == value]
        if members_types:
            groups.append((label, members_types))
    return render(
        request,
        "tickets/new.html",
        {
            "groups": groups,
            "query": query,
            "found": found,
            "general": finder.general_form(types),
            "appointment_offer": bool(query) and finder.appointment_wanted(query),
            "room_offer": bool(query) and finder.room_wanted(query),
            "query_max": finder.QUERY_MAX,
        },
    )


# The review page sends a draft that no longer passes back to the form with
# this flag, so the form shows why.
RECHECK = "pruefen"


def _draft(request, request_type):
    return (
        TicketDraft.objects.filter(user=request.user, request_type=request_type)
        .prefetch_related("attachments")
        .first()
    )


@member_required
@require_http_methods(["GET", "POST"])
def request_form(request, slug):
    request_type = get_request_type_for_member(request.user, slug)
    if request_type.books_online or request_type.certificate:
        return redirect(request_type.portal_url())
    draft = _draft(request, request_type)
    kept = list(draft.attachments.all()) if draft else []
    definitions = request_type.snapshot()
    if request.method == "POST":
        form = RequestForm(
            request.POST,
            request.FILES,
            definitions=definitions,
            language=get_language(),
            member=request.user.member,
            kept_files=len(kept),
            kept_bytes=sum(attachment.size for attachment in kept),
        )
        valid = form.is_valid()
        # Whatever passed its own checks is kept, even when other fields
        # have errors: the member never uploads the same photo twice.
        try:
            draft = services.draft_save(
                user=request.user,
                request_type=request_type,
                answers=form.answers() if valid else initial(request.POST, form.fields),
                files=getattr(form, "clean_files", []),
            )
        except services.AttachmentLimitExceeded as error:
            # Another post to this draft (a second tab) added files meanwhile.
            form.files_refuse(kept=error.kept)
            valid, draft = False, _draft(request, request_type)
        if valid:
            return redirect("tickets:review", slug=slug)
        kept = list(draft.attachments.all())
    else:
        returned = post_take(request)
        if returned is not None:
            # Sent while logged out: the text becomes the draft, shown below.
            draft = services.draft_save(
                user=request.user,
                request_type=request_type,
                answers=initial(returned.data, (d["key"] for d in definitions)),
                files=[],
            )
            kept_notice(request, returned)
        # Text typed into the form search comes along (?text=, from the
        # "general question" offer) unless the draft already says something.
        form = RequestForm(
            initial=finder.text_carry(
                definitions, draft.answers if draft else {}, request.GET.get("text", "")
            ),
            definitions=definitions,
            language=get_language(),
            member=request.user.member,
            kept_files=len(kept),
        )
        if draft is not None and request.GET.get(RECHECK):
            # Sent back by the review page: the draft as it is, with its errors.
            form = RequestForm(
                draft.answers,
                definitions=definitions,
                language=get_language(),
                member=request.user.member,
                kept_files=len(kept),
                kept_bytes=sum(attachment.size for attachment in kept),
            )
            form.is_valid()
    return render(
        request,
        "tickets/form.html",
        {"form": form, "request_type": request_type, "kept": kept},
    )


@member_required
@require_http_methods(["GET", "POST"])
def request_review(request, slug):
    request_type = get_request_type_for_member(request.user, slug)
    draft = _draft(request, request_type)
    if draft is None:
        return redirect("tickets:form", slug=slug)
    definitions = request_type.snapshot()
    # The draft must still satisfy the form (the admin may have changed it).
    kept = list(draft.attachments.all())
    check = RequestForm(
        draft.answers,
        definitions=definitions,
        language=get_language(),
        member=request.user.member,
        kept_files=len(kept),
        kept_bytes=sum(attachment.size for attachment in kept),
    )
    if not check.is_valid():
        # Back to the form with the reasons: the admin changed the form, or a
        # date that was fine when the draft was saved has passed meanwhile.
        return redirect(reverse("tickets:form", args=[slug]) + f"?{RECHECK}=1")
    # An emergency stops the member before sending: "please call now", and
    # only "I have called – send anyway" files it. The draft stays meanwhile.
    emergency = emergency_reasons(
        answers=check.answers(),
        definitions=definitions,
        words=cooperative_cached().emergency_words,
    )
    called = request.POST.get("emergency_called") == "1"
    if request.method == "POST" and (called or not emergency):
        ticket = services.ticket_open(
            request_type=request_type,
            member=request.user.member,
            answers=check.answers(),
            channel=Channel.PORTAL,
            created_by=request.user,
            draft=draft,
        )
        messages.success(
            request,
            _("Thank you. We have received your request. Your reference is %(reference)s.")
            % {"reference": ticket.reference},
        )
        return redirect("tickets:detail", reference=ticket.reference)
    rows = [
        (field.label, _display(check, key))
        for key, field in check.fields.items()
        if key not in check.file_keys
    ]
    if emergency:
        return render(
            request,
            "tickets/emergency.html",
            {
                "request_type": request_type,
                "rows": rows,
                "kept": kept,
                "fire": needs_fire_brigade(emergency),
                "utility": needs_utility(emergency),
            },
        )
    return render(
        request,
        "tickets/review.html",
        {"request_type": request_type, "rows": rows, "kept": kept},
    )


def _display(form, key):
    value = form.cleaned_data.get(key)
    field = form.fields[key]
    choices = dict(getattr(field, "choices", []) or [])
    if isinstance(value, list):
        return ", ".join(str(choices.get(v, v)) for v in value) or "–"
    if value in (None, ""):
        return "–"
    if isinstance(value, datetime.date):
        return date_long(value)  # "25. November 2026", never the ISO form
    if isinstance(field, IbanField):
        return iban_grouped(value)  # the member's own: in full, in groups of four
    if isinstance(field, SharesSubscribeField):
        return field.describe(value)  # the amount to pay, before sending
    if choices:
        return choices.get(value, value)
    return value


@member_required
@require_POST
def draft_attachment_remove(request, slug, attachment_id):
    request_type = get_request_type_for_member(request.user, slug)
    attachment = get_object_or_404(
        Attachment, pk=attachment_id, draft__user=request.user, draft__request_type=request_type
    )
    attachment.file.delete(save=False)
    attachment.delete()
    return redirect("tickets:form", slug=slug)


@member_required
@require_GET
def request_list(request):
    try:
        number = min(max(int(request.GET.get("seite", "1")), 1), 100_000)
    except ValueError:
        number = 1  # "?seite=zwei" from a hand-edited address: the first page
    page = tickets_for_member_page(request.user.member, user=request.user, page=number)
    return render(request, "tickets/list.html", {"page": page, "tickets": page.tickets})


def _detail(
    request,
    ticket,
    *,
    form=None,
    reopen_text="",
    rating_form=None,
    withdraw_text="",
    unsent=None,
):
    """The request page. `unsent` ({"why", "text"}) shows text that could
    not be sent (the request is closed, withdrawn, ...), so nothing typed is
    lost."""
    services.ticket_visit(ticket=ticket, user=request.user)
    events = (
        ticket.events.filter(public=True)
        .select_related("actor")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
    )
    if not ticket.can_be_rated():
        rating_form = None
    elif rating_form is None:
        rating_form = RatingForm()
    return render(
        request,
        "tickets/detail.html",
        {
            "ticket": ticket,
            "events": events,
            "answers": ticket.answer_rows(full_iban=ticket.is_filed_by(request.user)),
            "share": _share_offer(request, ticket),
            "form": form or ReplyForm(),
            "can_reply": ticket.status not in services.NO_MESSAGES,
            "rating_form": rating_form,
            "reopen_text": reopen_text,
            # Only the filer takes a request back, never the household.
            "can_withdraw": not ticket.is_finished() and ticket.member_id == request.user.member_id,
            "withdraw_text": withdraw_text,
            "unsent": unsent,
            "Kind": TicketEvent.Kind,
        },
    )


def _share_offer(request, ticket) -> dict | None:
    """The share control, for the filer of a personal request only: who
    would see it, and whether they do now. None when there is nobody to
    share it with (and it is not shared)."""
    if ticket.request_type.shared_with_household or not ticket.is_filed_by(request.user):
        return None
    partners = household_partners(ticket)
    if not partners and not ticket.shared_with_household:
        return None
    return {
        "shared": ticket.shared_with_household,
        "names": ", ".join(partner.full_name for partner in partners),
    }


def _closed_reason(ticket) -> str | None:
    """Why nothing can be written into this request any more, if so."""
    if ticket.merged_into_id:
        return _(
            "This request has been merged with %(reference)s, where we continue. "
            "Please write there."
        ) % {"reference": ticket.merged_into.reference}
    if ticket.status == Status.WITHDRAWN:
        return _("This request has been withdrawn, so nothing more can be sent to it.")
    if ticket.status == Status.CLOSED:
        return _("This request is closed, so nothing more can be sent to it.")
    return None


def _refused(request, reference, *, text, why=None, closed_first=True):
    """The request page as it is now, saying why the member's text was not
    sent (that the request is closed, withdrawn or merged, unless
    `closed_first` is off: then `why`), with the text to copy."""
    ticket = get_ticket_for_member(request.user, reference)
    if closed_first or not why:
        why = _closed_reason(ticket) or why
    return _detail(request, ticket, unsent={"why": why, "text": text.strip()})


@member_required
@require_http_methods(["GET", "POST"])
def request_detail(request, reference):
    ticket = get_ticket_for_member(request.user, reference)
    if request.method == "POST":
        form = ReplyForm(request.POST, request.FILES)
        if ticket.status in services.NO_MESSAGES:
            return _refused(request, reference, text=request.POST.get("body", ""))
        if form.is_valid():
            try:
                services.ticket_member_reply(
                    ticket=ticket,
                    user=request.user,
                    body=form.cleaned_data["body"],
                    files=form.cleaned_data["files"],
                )
            except services.TicketError:  # closed or withdrawn meanwhile
                return _refused(request, reference, text=form.cleaned_data["body"])
            messages.success(request, _("Your message has been sent."))
            return redirect("tickets:detail", reference=reference)
        return _detail(request, ticket, form=form)
    returned = post_take(request)
    if returned is None:
        return _detail(request, ticket)
    # A reply, reopen reason, rating or withdrawal sent while logged out comes back.
    kept_notice(request, returned)
    if ticket.status in services.NO_MESSAGES:
        texts = [returned.data.get(key, "").strip() for key in ("body", "reason", "comment")]
        return _detail(
            request,
            ticket,
            unsent={"why": _closed_reason(ticket), "text": "\n\n".join(t for t in texts if t)},
        )
    return _detail(
        request,
        ticket,
        form=ReplyForm(initial=initial(returned.data, ["body"])),
        reopen_text=returned.data.get("reason", ""),
        rating_form=RatingForm(initial=initial(returned.data, ["rating", "comment"])),
        withdraw_text=returned.data.get("withdraw_reason", ""),
    )


@member_required
@require_POST
def request_reopen(request, reference):
    ticket = get_ticket_for_member(request.user, reference)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Please tell us briefly why the request is not settled."))
        return redirect("tickets:detail", reference=reference)
    try:
        services.ticket_reopen(ticket=ticket, user=request.user, reason=reason[:5000])
    except services.TicketError:
        return _refused(
            request,
            reference,
            text=reason,
            why=_("This request can no longer be reopened. Please start a new one."),
        )
    messages.success(request, _("The request is open again. We will get back to you."))
    return redirect("tickets:detail", reference=reference)


@member_required
@require_POST
def request_withdraw(request, reference):
    """The filer takes an open request back (the form on the request page
    is the confirmation step: it says what withdrawing means)."""
    ticket = get_ticket_for_member(request.user, reference)
    reason = request.POST.get("withdraw_reason", "").strip()[:5000]
    try:
        services.ticket_withdraw(ticket=ticket, user=request.user, reason=reason)
    except services.TicketError:
        return _refused(
            request,
            reference,
            text=reason,
            why=_("This request is already settled, so it can no longer be withdrawn."),
        )
    messages.success(
        request, _("You have withdrawn the request. We will not work on it any further.")
    )
    return redirect("tickets:detail", reference=reference)


@member_required
@require_POST
def request_share(request, reference):
    """The filer shares a personal request with the household (shared=1)
    or stops sharing it (shared=0)."""
    ticket = get_ticket_for_member(request.user, reference)
    choice = request.POST.get("shared")
    if choice not in ("0", "1"):
        messages.error(request, _("Please use the buttons on the request page to share it."))
        return redirect("tickets:detail", reference=reference)
    shared = choice == "1"
    try:
        services.ticket_share(ticket=ticket, user=request.user, shared=shared)
    except services.TicketError:
        if ticket.is_filed_by(request.user):
            why = _("This request is about your apartment: your household sees it anyway.")
        else:
            why = _("Only the person who sent this request can decide who else sees it.")
        messages.error(request, why)
    else:
        if shared:
            messages.success(request, _("Your household can now see this request."))
        else:
            messages.success(request, _("Only you can see this request now."))
    return redirect("tickets:detail", reference=reference)


@member_required
@require_GET
def attachment_download(request, reference, attachment_id):
    ticket = get_ticket_for_member(request.user, reference)
    # Only files of public events (or the opening) are the member's to see.
    attachment = get_object_or_404(Attachment, pk=attachment_id, ticket=ticket, event__public=True)
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=not attachment.content_type.startswith("image/"),
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@member_required
@require_GET
def draft_attachment_download(request, slug, attachment_id):
    attachment = get_object_or_404(Attachment, pk=attachment_id, draft__user=request.user)
    # Served like a ticket's files: documents are saved, never shown in the
    # portal's origin, and no shared cache keeps a copy.
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=not attachment.content_type.startswith("image/"),
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@member_required
@require_POST
def request_rate(request, reference):
    ticket = get_ticket_for_member(request.user, reference)
    form = RatingForm(request.POST)
    refused = _("This request cannot be rated (again).")
    comment = request.POST.get("comment", "")
    # A closed request may be rated, a withdrawn one not (nothing was done).
    closed_first = ticket.status == Status.WITHDRAWN
    if not ticket.can_be_rated():
        return _refused(request, reference, text=comment, why=refused, closed_first=closed_first)
    if not form.is_valid():
        messages.error(request, _("Please choose between 1 and 5 stars."))
        return _detail(request, ticket, rating_form=form)
    try:
        services.ticket_rate(
            ticket=ticket,
            user=request.user,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
        )
    except services.TicketError:  # rated in another tab meanwhile
        return _refused(request, reference, text=comment, why=refused, closed_first=False)
    messages.success(request, _("Thank you for your rating."))
    return redirect("tickets:detail", reference=reference)
