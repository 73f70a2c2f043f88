"""The member's notices page (/aushaenge/): the notices for the buildings
they live in, in force or announced, and those ended lately. Read-only."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.decorators import member_required
from notices.selectors import RECENT_DAYS, notices_for_member


@member_required
@require_GET
def notice_list(request):
    found = notices_for_member(request.user.member)
    return render(
        request,
        "notices/list.html",
        {"current": found.current, "recent": found.recent, "recent_days": RECENT_DAYS},
    )
