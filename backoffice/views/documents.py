"""Documents for members in the back office (issue 15, point 1): the
list of batches and single documents; one document for a member, a
contract or a flat (published at once); many at once — PDFs or ZIPs —
checked into a report before anything is published; publishing (one
confirmed step), discarding and withdrawing a batch; a document's page,
its file and its withdrawal.

Who: staff with the documents role (member services), team leads and
admins; batches are published and withdrawn by team leads and admins only
(documents.selectors.may_manage / may_publish_batch, checked again by the
services). Everyone else on the staff gets 404, as for any page that is
not theirs. Opening a document's file is recorded in the access log."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import access_record
from core.decorators import staff_required
from core.downloads import file_response
from core.uploads import upload_limit
from documents import selectors, services
from documents.forms import BatchUploadForm, DocumentUploadForm
from documents.intake import problem_text
from documents.models import BatchState


def _manager(request) -> None:
    if not selectors.may_manage(request.user):
        raise Http404


def _number(request, name: str) -> int:
    try:
        return min(max(int(request.GET.get(name, "1")), 1), 100_000)
    except ValueError:
        return 1


@staff_required
@require_GET
def document_overview(request):
    listing = selectors.batches_for_staff(request.user, page=_number(request, "seite"))
    return render(
        request,
        "backoffice/documents/list.html",
        {"listing": listing, "may_publish": selectors.may_publish_batch(request.user)},
    )


@staff_required
@require_http_methods(["GET", "POST"])
@upload_limit(lambda: settings.DOCUMENT_MAX_BYTES + 1024 * 1024)
def document_new(request):
    """One PDF for one addressee, published when sent (the form is the
    confirmation: it names the addressee and the time)."""
    _manager(request)
    form = DocumentUploadForm(request.POST or None, request.FILES or None)
    refused = getattr(request, "upload_refused", None)
    if request.method == "POST" and refused:
        form.is_valid()
        form.errors["file"] = form.error_class([_too_large(refused)])
    elif request.method == "POST" and form.is_valid():
        try:
            document = services.document_publish(
                actor=request.user,
                upload=form.cleaned_data["file"],
                addressee=form.addressee,
                about=form.about,
            )
        except services.DocumentError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, _("Published. The members who see it get an e-mail."))
            return redirect("backoffice:document", public_id=document.public_id)
    status = 413 if refused else 400 if request.method == "POST" else 200
    return render(request, "backoffice/documents/new.html", {"form": form}, status=status)


def _too_large(refused: tuple[int, int]) -> str:
    size, limit = refused
    return _("The upload was %(size)s; at most %(limit)s can be sent at once.") % {
        "size": filesizeformat(size),
        "limit": filesizeformat(limit),
    }


@staff_required
@require_http_methods(["GET", "POST"])
@upload_limit(lambda: settings.DOCUMENT_BATCH_MAX_BYTES)
def batch_new(request):
    """Many PDFs, or ZIPs of them: checked into a report; nothing is
    published yet."""
    _manager(request)
    form = BatchUploadForm(request.POST or None, request.FILES or None)
    refused = getattr(request, "upload_refused", None)
    if request.method == "POST" and refused:
        form.is_valid()
        form.errors["files"] = form.error_class(
            [_too_large(refused) + " " + _("Please split it into several ZIP archives.")]
        )
    elif request.method == "POST" and form.is_valid():
        try:
            batch = services.batch_check(
                actor=request.user,
                uploads=form.cleaned_data["files"],
                numbers=form.cleaned_data["numbers"],
                about=form.about,
            )
        except services.DocumentError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(
                request,
                _("Checked. Nothing is published yet: look through the report below."),
            )
            return redirect("backoffice:document_batch", public_id=batch.public_id)
    status = 413 if refused else 400 if request.method == "POST" else 200
    return render(request, "backoffice/documents/batch_new.html", {"form": form}, status=status)


def _batch_context(request, batch) -> dict:
    return {
        "batch": batch,
        "may_publish": selectors.may_publish_batch(request.user),
        "checked": batch.state == BatchState.CHECKED,
        "published": batch.state == BatchState.PUBLISHED,
    }


@staff_required
@require_GET
def batch_detail(request, public_id):
    """The report, 50 files a page: all, the refused or those to publish."""
    batch = selectors.get_batch_for_staff(request.user, public_id)
    page = selectors.report_page(
        batch, show=request.GET.get("zeigen", "all"), page=_number(request, "seite")
    )
    rows = [
        (
            row,
            problem_text(row.entry["problem"], row.entry["detail"]) if row.entry["problem"] else "",
        )
        for row in page.rows
    ]
    tabs = [
        ("all", _("All files"), batch.files_total),
        ("refused", _("Refused"), batch.files_refused),
        ("accepted", _("To publish"), batch.files_accepted),
    ]
    context = _batch_context(request, batch)
    context.update({"page": page, "rows": rows, "tabs": tabs})
    return render(request, "backoffice/documents/batch.html", context)


@staff_required
@require_GET
def batch_file(request, public_id, position):
    """A file of a checked batch, to look at before publishing."""
    batch = selectors.get_batch_for_staff(request.user, public_id)
    entry = selectors.report_entry(batch, position)
    access_record(
        request=request,
        action="view",
        subject=f"{batch.title}: {entry['name']}",
        members=selectors.entry_members(batch, entry),
    )
    return file_response(services.file_open(entry["path"]), filename=f"{entry['number']}.pdf")


@staff_required
@require_http_methods(["GET", "POST"])
def batch_publish(request, public_id):
    batch = selectors.get_batch_for_staff(request.user, public_id, report=False)
    context = _batch_context(request, batch)
    if not context["checked"]:
        messages.error(request, _("This batch is not waiting to be published."))
        return redirect("backoffice:document_batch", public_id=public_id)
    if not context["may_publish"]:
        messages.error(
            request,
            _("Batches are published by a team lead or an admin. Please ask one of them."),
        )
        return redirect("backoffice:document_batch", public_id=public_id)
    if request.method == "POST":
        try:
            count = services.batch_publish(actor=request.user, batch=batch)
        except services.DocumentError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Published: %(count)s documents. Members see them now; each gets one e-mail.")
                % {"count": count},
            )
        return redirect("backoffice:document_batch", public_id=public_id)
    return render(request, "backoffice/documents/batch_publish.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def batch_discard(request, public_id):
    batch = selectors.get_batch_for_staff(request.user, public_id, report=False)
    context = _batch_context(request, batch)
    if not context["checked"]:
        messages.error(request, _("Only a batch that is not yet published can be discarded."))
        return redirect("backoffice:document_batch", public_id=public_id)
    if request.method == "POST":
        try:
            services.batch_discard(actor=request.user, batch=batch)
        except services.DocumentError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Discarded. Its files are deleted; nobody saw them."))
        return redirect("backoffice:document_batch", public_id=public_id)
    return render(request, "backoffice/documents/batch_discard.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def batch_withdraw(request, public_id):
    batch = selectors.get_batch_for_staff(request.user, public_id, report=False)
    context = _batch_context(request, batch)
    if not context["published"]:
        messages.error(request, _("This batch is not published."))
        return redirect("backoffice:document_batch", public_id=public_id)
    if not context["may_publish"]:
        messages.error(
            request,
            _("Batches are withdrawn by a team lead or an admin. Please ask one of them."),
        )
        return redirect("backoffice:document_batch", public_id=public_id)
    if request.method == "POST":
        try:
            count = services.batch_withdraw(actor=request.user, batch=batch)
        except services.DocumentError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Withdrawn: members no longer see its %(count)s documents.") % {"count": count},
            )
        return redirect("backoffice:document_batch", public_id=public_id)
    return render(request, "backoffice/documents/batch_withdraw.html", context)


@staff_required
@require_GET
def document_detail(request, public_id):
    document = selectors.get_document_for_staff(request.user, public_id)
    members = selectors.addressee_members(document)
    access_record(request=request, action="view", subject=document.title, members=members)
    return render(
        request,
        "backoffice/documents/document.html",
        {"document": document, "members": members},
    )


@staff_required
@require_GET
def document_file(request, public_id):
    document = selectors.get_document_for_staff(request.user, public_id)
    access_record(
        request=request,
        action="view",
        subject=f"{document.title} (PDF)",
        members=selectors.addressee_members(document),
    )
    return file_response(services.file_open(document.file.name), filename=document.download_name())


@staff_required
@require_http_methods(["GET", "POST"])
def document_withdraw(request, public_id):
    document = selectors.get_document_for_staff(request.user, public_id)
    if document.is_withdrawn():
        messages.error(request, _("This document is already withdrawn."))
        return redirect("backoffice:document", public_id=public_id)
    if request.method == "POST":
        try:
            services.document_withdraw(actor=request.user, document=document)
        except services.DocumentError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Withdrawn. Members no longer see the document."))
        return redirect("backoffice:document", public_id=public_id)
    return render(request, "backoffice/documents/document_withdraw.html", {"document": document})
