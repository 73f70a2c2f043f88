from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404


def member_required(view):
    """Logged-in member accounts only. Staff get 404: they have no member area,
    and a staff login must never be mistaken for a member."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_member:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view):
    """Staff accounts only (handlers, team leads, admins); members get 404."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
