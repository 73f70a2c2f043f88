"""The member's page for a copy of their data (/meine-daten/) and its
download. Thin: the services decide, the selectors fetch."""

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import access_record
from core.decorators import member_required
from privacy import services
from privacy.models import DataExport
from privacy.selectors import export_latest_for_member, get_export_for_member


@member_required
@require_http_methods(["GET", "POST"])
def export_page(request):
    if request.method == "POST":
        export = services.data_export_request(user=request.user)
        # Without a queue (GENOPORTAL_TASKS_IMMEDIATE) it was built on commit.
        export.refresh_from_db(fields=["status"])
        if export.status == DataExport.Status.READY:
            # The worker ran within the request (no queue in between).
            messages.success(request, _("Your data is ready to download."))
        else:
            messages.success(
                request,
                _(
                    "We are preparing your data. We will send you an e-mail as soon as "
                    "you can download it."
                ),
            )
        return redirect("privacy:export")
    export = export_latest_for_member(request.user.member)
    return render(
        request,
        "privacy/export.html",
        {
            "export": export,
            "downloadable": export is not None and export.is_downloadable(),
            "Status": DataExport.Status,
        },
    )


@member_required
@require_GET
def export_download(request, public_id):
    export = get_export_for_member(request.user, public_id)
    with transaction.atomic():
        services.data_export_downloaded(export=export)
        access_record(
            request=request,
            action="export",
            subject=_("Copy of the member's data, downloaded by the member"),
            members=[request.user.member],
        )
    day = timezone.localdate(export.ready_at)
    response = FileResponse(
        export.file.open("rb"),
        content_type="application/zip",
        as_attachment=True,
        filename=f"meine-daten-{day:%Y-%m-%d}.zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
