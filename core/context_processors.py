from django.core.cache import cache

from cooperative.models import Cooperative

CACHE_KEY = "genoportal:cooperative"
CACHE_SECONDS = 60


def cooperative_cached() -> Cooperative:
    """Name, address and opening hours for every page, cached briefly: they
    change a few times a year, and admin edits show within a minute."""
    coop = cache.get(CACHE_KEY)
    if coop is None:
        coop = Cooperative.objects.current()
        coop.cached_hours = list(coop.opening_hours.all()) if coop.pk else []
        cache.set(CACHE_KEY, coop, CACHE_SECONDS)
    return coop


def cooperative_cache_clear() -> None:
    cache.delete(CACHE_KEY)


def cooperative(request):
    return {"cooperative": cooperative_cached()}


def unread_requests(request):
    """The badge next to "My requests": tickets with news for this member."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_member:
        return {}
    from tickets.models import Ticket

    return {"unread_requests": Ticket.objects.unread_for(user).count()}
