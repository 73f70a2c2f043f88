"""Nothing typed is lost when the login expires mid-form.

A form sent after the login expired cannot be acted on (nobody is logged in),
but its text must not vanish. The decorators keep it in the (new, anonymous)
session and send the person to the login; the login keeps the session's data
(Django only rotates its key), and the page the form was on takes the text
back and shows it again. Files cannot be kept without an owner: their names
are kept, so the page can say which to attach again; with JavaScript the
form is not sent at all while logged out (static/js/site.js), so even the
files stay in it."""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.sessions.models import Session
from django.http import HttpRequest, QueryDict
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

SESSION_KEY = "kept_post"
MAX_CHARS = 100_000  # more than any of our forms accepts; a bound for the session row


@dataclass
class KeptPost:
    data: QueryDict
    files: list[str] = field(default_factory=list)


def form_page(request: HttpRequest) -> str:
    """Where the form was: the page it was sent from (a form may post to an
    address that only accepts POST), else the address it was sent to."""
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.get_full_path()


def _expired_owner(request: HttpRequest) -> str | None:
    """Whose login the browser's (expired) session cookie was. Expired
    sessions stay in the table until `clearsessions` runs."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    row = Session.objects.filter(session_key=key).first()
    return row.get_decoded().get(auth.SESSION_KEY) if row else None


def post_keep(request: HttpRequest, page: str) -> bool:
    """Keep the text of a POST sent after the login expired, for `page`.
    Kept only for the person whose login it was: on a shared computer the
    next person to log in never sees it. False if nothing was kept (no
    expired login, e.g. after logging out on purpose)."""
    owner = _expired_owner(request)
    if owner is None:
        return False
    data, size = {}, 0
    for key in request.POST:
        if key == "csrfmiddlewaretoken":
            continue
        values = request.POST.getlist(key)
        size += sum(len(value) for value in values)
        data[key] = values
    if size > MAX_CHARS:
        return False
    names = [upload.name for uploads in request.FILES.lists() for upload in uploads[1]]
    request.session[SESSION_KEY] = {
        "owner": owner,
        "page": page,
        "data": data,
        "files": names[:20],
    }
    return True


def post_take(request: HttpRequest) -> KeptPost | None:
    """The text kept for this page, once (it is removed from the session)."""
    kept = request.session.get(SESSION_KEY)
    if not kept:
        return None
    if kept.get("owner") != str(request.user.pk):
        del request.session[SESSION_KEY]  # someone else logged in: never shown
        return None
    if kept.get("page") != request.get_full_path():
        return None
    del request.session[SESSION_KEY]
    data = QueryDict(mutable=True)
    for key, values in kept["data"].items():
        data.setlist(key, values)
    return KeptPost(data=data, files=list(kept.get("files", [])))


def initial(data: QueryDict, names) -> dict:
    """The sent values of these fields, as a form's `initial` (one value, or
    a list where several were ticked)."""
    values = {}
    for name in names:
        if name in data:
            listed = data.getlist(name)
            values[name] = listed if len(listed) > 1 else listed[0]
    return values


def kept_notice(request: HttpRequest, kept: KeptPost) -> None:
    """Tell the person that the text is back, and which files to add again."""
    messages.info(
        request,
        _("Welcome back. What you typed before the login expired is filled in again below."),
    )
    if kept.files:
        messages.warning(
            request,
            _("Please attach these files again: %(names)s.") % {"names": ", ".join(kept.files)},
        )


def forget_for_others(sender, request, user, **kwargs) -> None:
    """At login: text kept for someone else (a shared computer) is dropped
    at once, not merely hidden."""
    session = getattr(request, "session", None)
    if session is None:
        return
    kept = session.get(SESSION_KEY)
    if kept and kept.get("owner") != str(user.pk):
        del session[SESSION_KEY]
