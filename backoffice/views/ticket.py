"""Working on one request: read, reply, note, change status, assign."""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import access_record
from backoffice.forms import (
    AssignForm,
    IbanRevealForm,
    MemberForm,
    ReferenceForm,
    ReplyForm,
    RerouteForm,
    StatusForm,
)
from core.decorators import staff_required
from core.kept import kept_notice, post_take
from incidents.selectors import ticket_incident_annotations, ticket_incident_for_staff
from mail.models import OutboundEmail
from mail.selectors import bouncing, outbound_failing
from mail.services import email_send_again
from members.selectors import contract_with_household, members_mentioned
from tickets import services
from tickets.models import Attachment, CannedResponse, Ticket, open_condition
from tickets.selectors import get_ticket_for_staff

CONFLICT = gettext_lazy(
    "A colleague changed this request while you were working on it. Your input "
    "has not been saved and is still in the form below: please look at the "
    "latest history and send it again."
)


def _forms(ticket, data=None, files=None, action=None, reply_text=""):
    initial = {"version": ticket.version}
    return {
        "reply_form": ReplyForm(
            data if action == "reply" else None,
            files if action == "reply" else None,
            initial={**initial, "body": reply_text},
        ),
        "status_form": StatusForm(
            data if action == "status" else None, initial={**initial, "status": ticket.status}
        ),
        "merge_form": ReferenceForm(
            data if action == "merge" else None, initial=initial, prefix="merge"
        ),
        "link_form": ReferenceForm(
            data if action == "link" else None, initial=initial, prefix="link"
        ),
        "reroute_form": RerouteForm(
            data if action == "reroute" else None,
            initial={**initial, "request_type": ticket.suggested_type_id},
        ),
        "assign_form": AssignForm(
            data if action == "assign" else None,
            initial={**initial, "team": ticket.team_id, "assignee": ticket.assignee_id},
        ),
        "member_form": MemberForm(
            data if action == "member" else None, initial=initial, prefix="member"
        ),
    }


def _canned(ticket):
    return CannedResponse.objects.filter(Q(team__isnull=True) | Q(team=ticket.team_id))


def _member_language(ticket) -> str:
    if ticket.member is None:
        return settings.LANGUAGE_CODE  # not a member: the office's language
    user = getattr(ticket.member, "user", None)
    return user.language if user is not None else ticket.member.preferred_language


@staff_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request, reference):
    ticket = get_ticket_for_staff(
        request.user, reference, mail_facts=True, annotations=ticket_incident_annotations()
    )
    action = request.POST.get("action") if request.method == "POST" else None
    canned = _canned(ticket)
    reply_text = ""
    chosen = request.GET.get("baustein", "")
    if chosen.isascii() and chosen.isdigit():  # "²".isdigit() is true; int("²") fails
        response = canned.filter(pk=int(chosen)).first()
        if response is not None:
            reply_text = response.render(
                ticket=ticket, handler=request.user, language=_member_language(ticket)
            )
    returned = post_take(request) if request.method == "GET" else None
    if returned is not None and returned.data.get("body"):
        reply_text = returned.data["body"]  # a reply or note sent while logged out
        kept_notice(request, returned)
    forms = _forms(ticket, request.POST, request.FILES, action, reply_text)
    if action == "resend":
        # Staff have a failed or in-doubt e-mail about this request sent again.
        email_id = request.POST.get("email", "")
        email = (
            OutboundEmail.objects.filter(pk=int(email_id), thread=ticket.reference).first()
            if email_id.isascii() and email_id.isdigit()
            else None
        )
        if email is not None and email_send_again(email=email, actor=request.user):
            messages.success(request, _("The e-mail is being sent again."))
        else:
            messages.error(
                request, _("This e-mail cannot be sent again (it is sent or on its way).")
            )
        return redirect("backoffice:ticket", reference=reference)
    if action in ("reply", "status", "assign", "merge", "link", "reroute", "member"):
        form = forms[f"{action}_form"]
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "reply":
                    services.ticket_reply(
                        ticket=ticket,
                        actor=request.user,
                        body=data["body"],
                        expected_version=data["version"],
                        public=data["visibility"] == "public",
                        ask_member=data["ask_member"],
                        files=data["files"],
                    )
                    messages.success(request, _("Saved."))
                elif action == "status":
                    services.ticket_status_change(
                        ticket=ticket,
                        actor=request.user,
                        status=data["status"],
                        expected_version=data["version"],
                    )
                    messages.success(request, _("The status has been changed."))
                elif action == "member":
                    services.ticket_member_set(
                        ticket=ticket,
                        actor=request.user,
                        member=data["member_number"],
                        expected_version=data["version"],
                    )
                    messages.success(
                        request,
                        _("The request now belongs to %(name)s.")
                        % {"name": data["member_number"].full_name},
                    )
                elif action == "reroute":
                    services.ticket_reroute(
                        ticket=ticket,
                        actor=request.user,
                        expected_version=data["version"],
                        request_type=data["request_type"],
                    )
                    messages.success(request, _("Routed again by the rules."))
                elif action in ("merge", "link"):
                    other = (
                        Ticket.objects.visible_to_staff(request.user)
                        .filter(reference=data["reference"])
                        .first()
                    )
                    if other is None:
                        raise services.TicketError("unknown reference")
                    if action == "merge":
                        services.ticket_merge(
                            source=ticket,
                            target=other,
                            actor=request.user,
                            expected_version=data["version"],
                        )
                        messages.success(
                            request,
                            _("Merged into %(reference)s.") % {"reference": other.reference},
                        )
                        return redirect("backoffice:ticket", reference=other.reference)
                    services.ticket_link(ticket=ticket, other=other, actor=request.user)
                    messages.success(request, _("The requests are now linked."))
                else:
                    services.ticket_assign(
                        ticket=ticket,
                        actor=request.user,
                        team=data["team"],
                        assignee=data["assignee"],
                        expected_version=data["version"],
                    )
                    messages.success(request, _("The responsibility has been changed."))
            except services.TicketConflict:
                form.add_error(None, CONFLICT)
            except services.TicketWithdrawn:
                form.add_error(
                    None,
                    _(
                        "The member has withdrawn this request, so it takes no more replies. "
                        "Your text is still in the form: you can save it as an internal note."
                    ),
                )
            except services.TicketError:
                form.add_error(None, _("This change is not possible for this request."))
            else:
                return redirect("backoffice:ticket", reference=reference)
    else:
        # Both records of the look in one transaction: one commit, not two
        # (no savepoint: nothing here is retried on its own).
        with transaction.atomic(savepoint=False):
            access_record(
                request=request,
                action="view",
                subject=f"{ticket.reference}",
                members=[ticket.member] if ticket.member else None,
            )
            # The inbox marks what the member did after this look (per handler).
            services.ticket_visit(ticket=ticket, user=request.user)
    if request.method == "POST":
        # Show the latest state (a conflict means it moved on), input kept.
        ticket = get_ticket_for_staff(
            request.user, reference, mail_facts=True, annotations=ticket_incident_annotations()
        )
    for form in forms.values():
        if form.is_bound:
            data = form.data.copy()
            data["version"] = ticket.version
            form.data = data
    events = ticket.events.select_related("actor__member").prefetch_related("attachments")
    contract = contract_with_household(ticket.member) if ticket.member else None
    # Other open requests of the member and linked requests in one query:
    # the two id sets as a UNION (each an index scan), not an OR with a
    # subquery, which would make the database test every ticket.
    links = Ticket.related.through.objects.filter(from_ticket_id=ticket.pk)
    linked = links.filter(to_ticket_id=OuterRef("pk"))
    ids = links.order_by().values("to_ticket_id")
    if ticket.member_id:  # without a member there are no "other requests of the member"
        own = Ticket.objects.filter(open_condition(), member_id=ticket.member_id)
        ids = own.order_by().values("pk").union(ids)
    nearby = list(
        Ticket.objects.visible_to_staff(request.user)
        .exclude(pk=ticket.pk)
        .filter(pk__in=ids)
        .annotate(is_related=Exists(linked))
        .select_related("request_type")
        .order_by("-created_at")[:30]
    )
    other_open = [
        t
        for t in nearby
        if ticket.member_id and t.member_id == ticket.member_id and not t.is_finished()
    ]
    related = [t for t in nearby if t.is_related]
    # Whose it may be, for a request that came without a member (an
    # address not on file): suggestions for staff to confirm, never applied.
    suggestions = []
    if ticket.member_id is None and not ticket.is_finished():
        text = " ".join(str(value) for _label, value in ticket.answer_rows())
        suggestions = members_mentioned(text=text, name=ticket.contact_name)
    addresses = [ticket.contact_email]
    if ticket.member is not None:
        user = getattr(ticket.member, "user", None)
        addresses += [ticket.member.email, user.email if user is not None else ""]
    # Asked only when the ticket's own query said there is something to show.
    bounces = bouncing(addresses) if ticket.mail_bouncing else []
    failing = outbound_failing(ticket.reference) if ticket.mail_failing else []
    return render(
        request,
        "backoffice/ticket.html",
        {
            "ticket": ticket,
            "events": events,
            "contract": contract,
            "other_open": other_open,
            "answers": ticket.answer_rows(),
            "canned": canned,
            "related": related,
            "suggestions": suggestions,
            "bouncing": bounces,
            "failing": failing,
            # The incident it belongs to, or creating one from it (leads, admins).
            "incident": ticket_incident_for_staff(request.user, ticket),
            **forms,
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def ticket_retype(request, reference):
    """Correct the request type (e.g. a general question that is a repair)
    and let the rules route the ticket again."""
    ticket = get_ticket_for_staff(request.user, reference)
    form = RerouteForm(
        request.POST or None,
        initial={"version": ticket.version, "request_type": ticket.suggested_type_id},
    )
    form.fields["request_type"].required = True
    form.fields["request_type"].label = _("Request type")
    form.fields["request_type"].error_messages["required"] = _("Choose the right request type.")
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_reroute(
                ticket=ticket,
                actor=request.user,
                expected_version=form.cleaned_data["version"],
                request_type=form.cleaned_data["request_type"],
            )
        except services.TicketConflict:
            form.add_error(None, CONFLICT)
        else:
            messages.success(request, _("The request type has been changed and routed again."))
            return redirect("backoffice:ticket", reference=reference)
    return render(request, "backoffice/ticket_retype.html", {"ticket": ticket, "form": form})


@staff_required
@require_http_methods(["GET"])
def attachment_download(request, reference, attachment_id):
    ticket = get_ticket_for_staff(request.user, reference)
    attachment = get_object_or_404(Attachment, pk=attachment_id, ticket=ticket)
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=not attachment.content_type.startswith("image/"),
        filename=attachment.original_name,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
@require_POST
def ticket_iban(request, reference):
    """The request's answers with the IBAN in full, for this one response:
    the work page shows it masked. Only with a reason, which the access log
    keeps with who asked (DSGVO accountability); without one, the form
    again, with what was typed."""
    ticket = get_ticket_for_staff(request.user, reference)
    form = IbanRevealForm(request.POST)
    revealed = form.is_valid() and ticket.has_iban()
    if revealed:
        access_record(
            request=request,
            action="view",
            subject=f"{ticket.reference} IBAN: {form.cleaned_data['reason']}",
            members=[ticket.member] if ticket.member else None,
        )
    return render(
        request,
        "backoffice/ticket_iban.html",
        {
            "ticket": ticket,
            "form": form,
            "revealed": revealed,
            "answers": ticket.answer_rows(full_iban=revealed),
        },
    )
