"""Member portal: file a request, follow it, answer the office."""

from django.contrib import messages
from django.db.models import Max, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.decorators import member_required
from core.kept import initial, kept_notice, post_take
from tickets import services
from tickets.forms import RatingForm, ReplyForm, RequestForm
from tickets.models import Attachment, Category, Channel, Status, Ticket, TicketDraft, TicketEvent
from tickets.selectors import (
    get_request_type_for_member,
    get_ticket_for_member,
    request_types_for_member,
)


@member_required
@require_GET
def request_new(request):
    """Choose a form: grouped by category, with a simple search."""
    query = request.GET.get("q", "").strip()
    types = list(request_types_for_member(request.user))
    if query:
        needle = query.casefold()
        types = [t for t in types if needle in f"{t.name} {t.help}".casefold()]
    groups = []
    for value, label in Category.choices:
        members_types = [t for t in types if t.category == value]
        if members_types:
            groups.append((label, members_types))
    return render(request, "tickets/new.html", {"groups": groups, "query": query})


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
    draft = _draft(request, request_type)
    kept = list(draft.attachments.all()) if draft else []
    definitions = request_type.snapshot()
    if request.method == "POST":
        form = RequestForm(
            request.POST,
            request.FILES,
            definitions=definitions,
            language=get_language(),
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
        form = RequestForm(
            initial=draft.answers if draft else None,
            definitions=definitions,
            language=get_language(),
            kept_files=len(kept),
        )
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
        kept_files=len(kept),
        kept_bytes=sum(attachment.size for attachment in kept),
    )
    if not check.is_valid():
        return redirect("tickets:form", slug=slug)
    if request.method == "POST":
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
    tickets = (
        Ticket.objects.visible_to_member(request.user.member)
        .select_related("request_type", "team")
        .annotate(last_change=Max("events__created_at"))
        .order_by("-last_change")
    )
    return render(request, "tickets/list.html", {"tickets": tickets})


@member_required
@require_http_methods(["GET", "POST"])
def request_detail(request, reference):
    ticket = get_ticket_for_member(request.user, reference)
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if ticket.status == Status.CLOSED:
            raise Http404
        if form.is_valid():
            services.ticket_member_reply(
                ticket=ticket,
                user=request.user,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["files"],
            )
            messages.success(request, _("Your message has been sent."))
            return redirect("tickets:detail", reference=reference)
    reopen_text = ""
    returned = post_take(request) if request.method == "GET" else None
    if returned is not None:
        # A reply, reopen reason or rating sent while logged out comes back.
        form = ReplyForm(initial=initial(returned.data, ["body"]))
        reopen_text = returned.data.get("reason", "")
        rating_initial = initial(returned.data, ["rating", "comment"])
        kept_notice(request, returned)
    else:
        rating_initial = {}
    services.ticket_visit(ticket=ticket, user=request.user)
    events = (
        ticket.events.filter(public=True)
        .select_related("actor")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
    )
    answers = ticket.answer_rows()
    return render(
        request,
        "tickets/detail.html",
        {
            "ticket": ticket,
            "events": events,
            "answers": answers,
            "form": form,
            "can_reply": ticket.status != Status.CLOSED,
            "rating_form": RatingForm(initial=rating_initial) if ticket.can_be_rated() else None,
            "reopen_text": reopen_text,
            "Kind": TicketEvent.Kind,
        },
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
        messages.error(
            request, _("This request can no longer be reopened. Please start a new one.")
        )
    else:
        messages.success(request, _("The request is open again. We will get back to you."))
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
    if not form.is_valid():
        messages.error(request, _("Please choose between 1 and 5 stars."))
        return redirect("tickets:detail", reference=reference)
    try:
        services.ticket_rate(
            ticket=ticket,
            user=request.user,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
        )
    except services.TicketError:
        messages.error(request, _("This request cannot be rated (again)."))
    else:
        messages.success(request, _("Thank you for your rating."))
    return redirect("tickets:detail", reference=reference)
