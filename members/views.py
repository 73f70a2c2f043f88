from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.decorators import member_required
from members.selectors import member_overview


@member_required
@require_GET
def home(request):
    overview = member_overview(request.user.member)
    return render(request, "members/home.html", {"overview": overview})
