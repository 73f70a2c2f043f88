import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.shortcuts import render
from django.utils import timezone, translation


class UserLanguageMiddleware:
    """A logged-in user's saved language wins over cookie and browser, so the
    portal speaks the member's language on every device."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


NUL = "\x00"


def _has_nul(request) -> bool:
    # Cookies too: the session key is looked up in the database.
    texts = [request.path, *request.COOKIES.keys(), *request.COOKIES.values()]
    for data in (request.GET, request.POST):
        for key, values in data.lists():
            texts += [key, *values]
    for key, uploads in request.FILES.lists():
        texts += [key, *(upload.name for upload in uploads)]
    return any(NUL in text for text in texts)


class NulCharacterMiddleware:
    """Answer 400 for a NUL character in the address, the query, the form
    data or a cookie. PostgreSQL cannot store or compare text with NUL (the
    query fails: a 500), and nobody types one; it comes from probes or text
    pasted from a broken program.

    One check here rather than a validator on every form: the NUL also
    arrives where no form looks — URL parts (`/anliegen/<reference>/`), the
    admin's search, raw reads such as the reopen reason, the session
    cookie — and future views are covered without remembering it. Forms keep
    Django's own NUL validator on their text fields for code that builds a
    form from other data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            return render(request, "400.html", status=400)
        return self.get_response(request)


STAFF_SEEN_KEY = "staff_seen"
STAFF_SEEN_GRANULARITY = 60  # seconds: the session is written at most once a minute


class StaffIdleMiddleware:
    """Staff sessions end after `STAFF_IDLE_MINUTES` without a request
    (members keep the session's own lifetime, `SESSION_COOKIE_AGE`): a staff
    login opens every member's data, and office computers are left alone.

    The session row is marked expired, exactly as an old session is, so
    everything that handles an expired login works unchanged: the status
    check answers 401 and the page script asks for the password again, and
    without the script a form's text is kept for its owner (core.kept).
    Must run after AuthenticationMiddleware and before django-otp's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            now = int(time.time())
            seen = request.session.get(STAFF_SEEN_KEY)
            if isinstance(seen, int) and now - seen > settings.STAFF_IDLE_MINUTES * 60:
                self._expire(request)
            elif not isinstance(seen, int) or now - seen >= STAFF_SEEN_GRANULARITY:
                request.session[STAFF_SEEN_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _expire(request):
        Session.objects.filter(session_key=request.session.session_key).update(
            expire_date=timezone.now()
        )
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
        request.user = AnonymousUser()
