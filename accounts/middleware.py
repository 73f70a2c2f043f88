from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from core.decorators import second_step_missing

# What a session that still owes its code may open: the code page, the setup
# of an app, logging out, the status check of the page script, the language,
# and the legal notice, privacy notice and accessibility statement its footer
# links (public pages). Not the barrier report: logged in, it is filed as the
# account's request, which needs the whole login.
SECOND_STEP_OPEN = {
    "accounts:login_code",
    "accounts:two_factor_setup",
    "accounts:logout",
    "accounts:session_status",
    "portal:language_set",
    "portal:imprint",
    "portal:privacy",
    "portal:accessibility",
}


class SecondStepMiddleware:
    """A logged-in account that owes its code reaches nothing but the code
    page, or, for an admin or team lead without an app, the setup page.

    The login itself never gets there (the password step logs in only after
    the code, accounts.views.login_code); this catches sessions from before
    an app was added or a role was given, on every page at once, including
    pages that only ask for a login. The staff decorators and the admin check
    again on their own. Runs after django-otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or not second_step_missing(user):
            return None
        if request.resolver_match.view_name in SECOND_STEP_OPEN:
            return None
        target = "accounts:login_code" if user.two_factor_enabled else "accounts:two_factor_setup"
        next_url = request.get_full_path() if request.method == "GET" else ""
        query = f"?{urlencode({'next': next_url})}" if next_url else ""
        return redirect(reverse(target) + query)
