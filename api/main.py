"""The JSON API face, `/api/v1/` (Django Ninja; the OpenAPI document at
`/api/v1/openapi.json`).

Who: the logged-in member, by the portal's own session, so the API knows
nobody the pages do not and a logout ends both. Staff get 404, as on the
member pages (a staff login must never be mistaken for a member);
without a login, 401. CSRF: the session is a cookie a browser sends by
itself, so every POST needs the CSRF token (`X-CSRFToken` header) — Ninja
checks it for cookie-based auth; any GET of the API sets the cookie.

No interactive docs page: Ninja's renders Swagger UI from a CDN unless its
files are served here, and a third-party script on our origin is what the
Content-Security-Policy keeps out (and would tell the CDN who uses the
portal). The OpenAPI document is enough for a client or a local viewer.

Messages are in the language the pages would speak (the account's saved
language, else the cookie or the browser's Accept-Language)."""

from django.http import Http404
from django.middleware.csrf import get_token
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import SessionAuth

from api import appointments
from core.decorators import second_step_missing


class MemberSession(SessionAuth):
    """The portal's session, for member accounts only."""

    def _get_key(self, request):
        try:
            return super()._get_key(request)  # checks CSRF on POST
        except HttpError as error:
            raise HttpError(
                403,
                _(
                    "The security token (CSRF) is missing or wrong. Please load the page "
                    "again and repeat what you did."
                ),
            ) from error

    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated or second_step_missing(user):
            return None
        if not user.is_member:
            raise Http404
        # A client that never loaded a page gets the CSRF cookie for its
        # first POST here.
        get_token(request)
        return user


api = NinjaAPI(
    title="genoportal",
    version="1",
    description="The member's appointments (issue 13). Log in on the portal; send the "
    "session cookie, and the CSRF token as X-CSRFToken on every POST.",
    urls_namespace="api",
    auth=MemberSession(),
    docs_url=None,
)
api.add_router("/appointments", appointments.router)


@api.exception_handler(AuthenticationError)
def not_logged_in(request, exc):
    return api.create_response(request, {"detail": _("Please log in.")}, status=401)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(HttpError)
def refused(request, exc):
    # Ninja's own 400 is the one for a body that is not JSON, in English;
    # the API's other refusals (the CSRF check) carry their message.
    detail = _("The data sent is not valid JSON.") if exc.status_code == 400 else str(exc)
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(ValidationError)
def invalid(request, exc):
    return api.create_response(
        request,
        {
            "detail": _("Some of the data sent is not valid; “errors” names the fields."),
            "errors": exc.errors,
        },
        status=422,
    )
