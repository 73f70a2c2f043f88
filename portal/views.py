import logging
import mimetypes

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.services import language_set as save_language
from appointments.selectors import appointments_of_member
from certificates.selectors import certificate_offers
from cooperative.cache import cooperative_cached
from cooperative.models import Cooperative
from core.decorators import member_required
from members.selectors import member_overview
from notices.selectors import notices_for_member
from rooms.selectors import bookings_of_member
from tickets.selectors import tickets_open_for_member

logger = logging.getLogger(__name__)


@require_GET
def home(request):
    if request.user.is_authenticated:
        if request.user.is_member:
            return redirect("portal:member_home")
        if request.user.is_staff:
            return redirect("backoffice:inbox")
    return render(request, "portal/home.html")


@member_required
@require_GET
def member_home(request):
    """Mein Bereich: the notices for the member's building first, then
    membership, shares, contracts and household from the member records,
    and the latest open requests."""
    member = request.user.member
    tickets = tickets_open_for_member(member, limit=5, user=request.user)
    context = {
        "notices": notices_for_member(member, recent=False).current,
        "overview": member_overview(member),
        # After the overview: it read the member's flats, which say whether
        # forms kept for contract holders are offered.
        "certificate_offers": certificate_offers(member),
        "open_tickets": tickets,
        # The card names how many more there are, so none stays unnoticed.
        "more_tickets": tickets[0].card_total - len(tickets) if tickets else 0,
        "appointments": list(appointments_of_member(member)[:3]),
        "room_bookings": list(bookings_of_member(member)[:3]),
    }
    return render(request, "portal/member_home.html", context)


@require_POST
def language_set(request):
    language = request.POST.get("language", "")
    target = request.POST.get("next", "/")
    # Only a path of this site: redirect() takes a bare word for the name of
    # a view ("next=Ä" was a NoReverseMatch, a 500).
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        target = "/"
    response = redirect(target)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        save_language(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )
    return response


@never_cache
@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("health check: database unreachable")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def logo(request):
    cooperative = Cooperative.objects.current()
    if not cooperative.logo:
        raise Http404
    with cooperative.logo.open("rb") as fh:
        data = fh.read()
    content_type = mimetypes.guess_type(cooperative.logo.name)[0] or "application/octet-stream"
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def imprint(request):
    """Impressum: the text from the cooperative's settings, for everyone."""
    return _legal_page(
        request,
        title=_("Legal notice"),
        text=cooperative_cached().imprint,
        holder=_("Provider"),
        pending=_("The complete legal notice will follow here shortly."),
    )


@require_GET
def privacy(request):
    """Datenschutz: the privacy notice from the cooperative's settings."""
    return _legal_page(
        request,
        title=_("Privacy"),
        text=cooperative_cached().privacy_notice,
        holder=_("Responsible for your data"),
        pending=_(
            "The complete privacy notice will follow here shortly. Until then the office "
            "will gladly answer your questions about how we handle your data."
        ),
    )


def _legal_page(request, *, title, text: str, holder, pending):
    # Until the office has entered its text, the page still names who is
    # responsible and how to reach them, and says that the text follows.
    context = {"title": title, "text": text.strip(), "holder": holder, "pending": pending}
    return render(request, "portal/legal_page.html", context)


def csrf_failure(request, reason=""):
    # Django's default page is English developer text; members get a plain
    # explanation in their language (usually an expired form or no cookies).
    return render(request, "403_csrf.html", status=403)
