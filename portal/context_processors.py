from cooperative.cache import cooperative_cached
from tickets.models import Ticket


def cooperative(request):
    return {"cooperative": cooperative_cached()}


def unread_requests(request):
    """The badge next to "My requests": tickets with news for this member."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_member:
        return {}
    return {"unread_requests": Ticket.objects.unread_for(user).count()}
