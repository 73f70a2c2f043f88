from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils.translation import gettext as _

from core.kept import form_page, post_keep


def _login(request):
    """To the login; a form sent meanwhile is kept and shown again after it."""
    if request.method == "POST":
        page = form_page(request)
        if not post_keep(request, page):
            return redirect_to_login(page)
        messages.info(
            request,
            _(
                "For your security you were logged out after a while. Please log in "
                "again: what you typed has been kept."
            ),
        )
        return redirect_to_login(page)
    return redirect_to_login(request.get_full_path())


def second_step_missing(user) -> bool:
    """The account needs a code after the password (it has an authenticator
    app, or its role requires one) and this session has not given it.

    The account says whether it needs one (`needs_second_step`, on the user
    model, so this base layer imports no app); django-otp's middleware says
    whether the session gave it. Without that middleware nothing counts as
    given: the check fails closed."""
    if not getattr(user, "needs_second_step", False):
        return False
    is_verified = getattr(user, "is_verified", None)
    return not (is_verified is not None and is_verified())


def _second_step(request):
    return redirect_to_login(request.get_full_path(), settings.OTP_LOGIN_URL)


def member_required(view):
    """Logged-in member accounts only. Staff get 404: they have no member area,
    and a staff login must never be mistaken for a member."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _login(request)
        if not request.user.is_member:
            raise Http404
        if second_step_missing(request.user):
            return _second_step(request)
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view):
    """Staff accounts only (handlers, team leads, admins); members get 404.
    Admins and team leads (and anyone with an app) only after the code."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _login(request)
        if not request.user.is_staff:
            raise Http404
        if second_step_missing(request.user):
            return _second_step(request)
        return view(request, *args, **kwargs)

    return wrapper
