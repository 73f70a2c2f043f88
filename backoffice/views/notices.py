"""Notices (Aushänge) in the back office (issue 14, point 5): the list
(drafts, current, announced, past), writing and changing a draft with its
preview, publishing (one confirmed step) and withdrawing. Every staff
member writes drafts; team leads, admins and the estate's property
manager or caretaker publish and withdraw (notices.selectors.may_publish,
checked again by the services)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.decorators import staff_required
from notices import selectors, services
from notices.forms import NoticeForm
from notices.models import NoticeState


@staff_required
@require_GET
def notice_list(request):
    return render(
        request,
        "backoffice/notices/list.html",
        {"notices": selectors.notices_for_staff(request.user, page=request.GET.get("seite"))},
    )


def _form_page(request, form: NoticeForm, notice=None):
    status = 400 if request.method == "POST" else 200
    return render(
        request, "backoffice/notices/form.html", {"form": form, "notice": notice}, status=status
    )


@staff_required
@require_http_methods(["GET", "POST"])
def notice_new(request):
    form = NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            notice = services.notice_draft_save(actor=request.user, content=form.content)
        except services.NoticeError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, _("The draft is saved. Check it and publish it."))
            return redirect("backoffice:notice", public_id=notice.public_id)
    return _form_page(request, form)


@staff_required
@require_http_methods(["GET", "POST"])
def notice_edit(request, public_id):
    notice = selectors.get_notice_for_staff(request.user, public_id)
    if not notice.is_draft():
        messages.error(
            request,
            _(
                "This notice is published and can no longer be changed. Withdraw it and publish "
                "a corrected one."
            ),
        )
        return redirect("backoffice:notice", public_id=public_id)
    form = NoticeForm(request.POST or None, initial=NoticeForm.initial_of(notice))
    if request.method == "POST" and form.is_valid():
        try:
            services.notice_draft_save(actor=request.user, content=form.content, notice=notice)
        except services.NoticeError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("backoffice:notice", public_id=public_id)
    return _form_page(request, form, notice)


def _context(request, notice) -> dict:
    return {
        "notice": notice,
        "state": notice.state(),
        "may_publish": selectors.may_publish(request.user, notice.estate),
        "buildings": list(notice.buildings.all()),
    }


@staff_required
@require_GET
def notice_detail(request, public_id):
    """The notice as residents will read it (German and English), who it
    is for, and what may be done with it."""
    notice = selectors.get_notice_for_staff(request.user, public_id)
    return render(request, "backoffice/notices/detail.html", _context(request, notice))


@staff_required
@require_http_methods(["GET", "POST"])
def notice_publish(request, public_id):
    notice = selectors.get_notice_for_staff(request.user, public_id)
    context = _context(request, notice)
    if not notice.is_draft():
        messages.error(request, _("This notice is already published."))
        return redirect("backoffice:notice", public_id=public_id)
    if not context["may_publish"]:
        messages.error(
            request,
            _(
                "Notices for this estate are published by its property manager, its caretaker, "
                "a team lead or an admin. Please ask one of them."
            ),
        )
        return redirect("backoffice:notice", public_id=public_id)
    if request.method == "POST":
        try:
            services.notice_publish(actor=request.user, notice=notice)
        except services.NoticeError as error:
            messages.error(request, str(error))
            return redirect("backoffice:notice", public_id=public_id)
        messages.success(
            request,
            _("Published. Residents see the notice now; those who asked for it get an e-mail."),
        )
        return redirect("backoffice:notice", public_id=public_id)
    context["over"] = notice.valid_until is not None and notice.valid_until <= timezone.now()
    return render(request, "backoffice/notices/publish.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def notice_withdraw(request, public_id):
    notice = selectors.get_notice_for_staff(request.user, public_id)
    context = _context(request, notice)
    if context["state"] in (NoticeState.DRAFT, NoticeState.WITHDRAWN):
        messages.error(request, _("This notice is not published."))
        return redirect("backoffice:notice", public_id=public_id)
    if not context["may_publish"]:
        messages.error(
            request,
            _(
                "Notices for this estate are withdrawn by its property manager, its caretaker, "
                "a team lead or an admin. Please ask one of them."
            ),
        )
        return redirect("backoffice:notice", public_id=public_id)
    if request.method == "POST":
        try:
            services.notice_withdraw(actor=request.user, notice=notice)
        except services.NoticeError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Withdrawn. Residents no longer see the notice."))
        return redirect("backoffice:notice", public_id=public_id)
    return render(request, "backoffice/notices/withdraw.html", context)
