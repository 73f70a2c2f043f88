"""The member's documents (/dokumente/: the list, with a "new" mark, and
each document as a download, which marks it read) and the blank forms
anyone may download (/formulare/). Read-only; the documents through the
one permission-checked fetch (documents.selectors)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.decorators import member_required
from core.downloads import file_response
from documents import services
from documents.selectors import (
    documents_for_member_page,
    forms_by_topic,
    get_document_for_member,
    get_form,
)


def _page_number(request) -> int:
    try:
        return min(max(int(request.GET.get("seite", "1")), 1), 100_000)
    except ValueError:
        return 1  # "?seite=zwei" from a hand-edited address: the first page


@member_required
@require_GET
def document_list(request):
    page = documents_for_member_page(
        request.user.member, user=request.user, page=_page_number(request)
    )
    return render(request, "documents/list.html", {"page": page, "documents": page.documents})


@member_required
@require_GET
def document_download(request, public_id):
    document = get_document_for_member(request.user, public_id)
    services.document_read(user=request.user, document=document)
    return file_response(services.file_open(document.file.name), filename=document.download_name())


@require_GET
def form_list(request):
    """Public: blank forms and leaflets, nothing personal."""
    return render(request, "documents/forms.html", {"topics": forms_by_topic()})


@require_GET
def form_download(request, slug):
    form = get_form(slug)
    return file_response(services.file_open(form.file.name), filename=f"{form.slug}.pdf")
