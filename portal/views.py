import datetime
import logging
import mimetypes

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import throttle
from accounts.services import language_set as save_language
from appointments.selectors import appointments_of_member
from certificates.selectors import certificate_offers
from cooperative.cache import cooperative_cached
from cooperative.models import Cooperative
from core.decorators import member_required
from documents.selectors import documents_new_count
from insights import charts
from members.selectors import member_overview, share_history
from notices.selectors import notices_for_member
from portal.forms import ReportContactForm
from rooms.selectors import bookings_of_member
from tickets.feedback import (
    accessibility_report_open,
    accessibility_request_type,
    public_definitions,
)
from tickets.forms import RequestForm
from tickets.models import FieldKind
from tickets.selectors import share_request_types, tickets_open_for_member

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
    """Mein Bereich: the notices for the member's building first, how many
    documents are new, then membership, shares, contracts and household
    from the member records, and the latest open requests."""
    member = request.user.member
    tickets = tickets_open_for_member(member, limit=5, user=request.user)
    context = {
        "notices": notices_for_member(member, recent=False).current,
        "documents_new": documents_new_count(member, user=request.user),
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


# --- Meine Mitgliedschaft ------------------------------------------------------


@member_required
@require_GET
def membership(request):
    """Meine Mitgliedschaft: member number and since when, the compulsory
    and voluntary shares, the Geschäftsguthaben at the end of every business
    year (a chart, and the same figures as a table), the dividends by year,
    every booking, and the forms to subscribe or cancel shares. The
    member's own only: the page takes no member from the address."""
    member = request.user.member
    cooperative = cooperative_cached()
    history = share_history(
        member, end_month=cooperative.business_year_end_month, today=timezone.localdate()
    )
    forms = share_request_types(request.user)
    return render(
        request,
        "portal/membership.html",
        {
            "member": member,
            "history": history,
            "facts": history.facts,
            "chart": _balance_chart(history.year_ends),
            "subscribe": forms.get(FieldKind.SHARES_SUBSCRIBE),
            "cancel": forms.get(FieldKind.SHARES_CANCEL),
        },
    )


def _balance_chart(year_ends) -> charts.Chart | None:
    """The balance at each year end as bars (whole euros: the table beside
    it has the cents); none for fewer than two points."""
    if len(year_ends) < 2:
        return None
    today = gettext("today")
    series = [
        (today if row.is_today else str(row.day.year), int(row.balance.to_integral_value()))
        for row in year_ends
    ]
    # A label under every bar while they fit, else under every second one.
    return charts.bars(series, every=1 if len(series) <= 16 else 2)


# --- Erklärung zur Barrierefreiheit ----------------------------------------------

# When the portal's pages were last assessed (axe-core on every page at 1280
# and 360 px, by the test suite, and by hand with the keyboard): the date
# the built-in statement gives. Moved on when the pages are assessed again.
ACCESSIBILITY_ASSESSED_ON = datetime.date(2026, 11, 29)
REPORT_SESSION_KEY = "accessibility_report"


@require_GET
def accessibility(request):
    """Erklärung zur Barrierefreiheit, for everyone: the portal's own
    statement, or the cooperative's text when the office entered one; the
    way to report a barrier in both."""
    return render(
        request,
        "portal/accessibility.html",
        {
            "text": cooperative_cached().accessibility_statement.strip(),
            "assessed_on": ACCESSIBILITY_ASSESSED_ON,
        },
    )


def _reporter(request):
    """The member account a report is linked to; None for anyone else
    (staff trying the form give their contact details like a visitor)."""
    user = request.user
    return user if user.is_authenticated and user.is_member else None


@require_http_methods(["GET", "POST"])
def accessibility_report(request):
    """Report a barrier, with a login or without: it becomes a request in
    the inbox (tickets.feedback). Without a login the person says how to
    answer them; robots are kept out by a hidden field and a limit per
    address, and the form's token (CSRF) as everywhere."""
    member_user = _reporter(request)
    request_type = accessibility_request_type()
    definitions = public_definitions(request_type)
    if request.method == "POST":
        form = RequestForm(request.POST, definitions=definitions, language=get_language())
        contact = ReportContactForm(request.POST) if member_user is None else None
        valid = form.is_valid() & (contact is None or contact.is_valid())
        if contact is not None and contact.is_robot():
            form.add_error(None, _("Please leave the field “Website” empty."))
            valid = False
        if valid and contact is not None:
            contact.contact_check(reply=form.cleaned_data.get("reply", ""))
            valid = contact.is_valid()
        if valid and not _report_allowed(request, contact):
            form.add_error(
                None,
                _(
                    "Several reports have been sent from here within the last hour. Please "
                    "try again later, or call or write to us."
                ),
            )
            valid = False
        if valid:
            details = contact.cleaned_data if contact is not None else {}
            ticket = accessibility_report_open(
                user=member_user or (request.user if request.user.is_authenticated else None),
                answers=form.answers(),
                contact_name=details.get("name", ""),
                contact_email=details.get("email", ""),
                contact_phone=details.get("phone", ""),
            )
            request.session[REPORT_SESSION_KEY] = ticket.reference
            return redirect("portal:accessibility_report_sent")
    else:
        page = request.GET.get("seite", "")[:200]
        form = RequestForm(
            initial={"page": page} if page else None,
            definitions=definitions,
            language=get_language(),
        )
        contact = ReportContactForm() if member_user is None else None
    return render(
        request,
        "portal/accessibility_report.html",
        {"form": form, "contact": contact, "request_type": request_type},
    )


def _report_allowed(request, contact) -> bool:
    """A place under the limits: per client address, and per e-mail
    address given (each report e-mails a confirmation to it)."""
    limits = [("accessibility_report:ip", throttle.ip_value(request))]
    if contact is not None:
        limits.append(("accessibility_report:address", contact.cleaned_data.get("email", "")))
    else:
        limits.append(("accessibility_report:account", str(request.user.pk)))
    return throttle.reserve(limits=limits) is not None


@require_GET
def accessibility_report_sent(request):
    """The confirmation with the reference, from the session (never from
    the address: nobody reads another's reference by guessing)."""
    reference = request.session.get(REPORT_SESSION_KEY)
    if not reference:
        return redirect("portal:accessibility_report")
    return render(
        request,
        "portal/accessibility_report_sent.html",
        {"reference": reference, "member": _reporter(request) is not None},
    )


def csrf_failure(request, reason=""):
    # Django's default page is English developer text; members get a plain
    # explanation in their language (usually an expired form or no cookies).
    return render(request, "403_csrf.html", status=403)
