"""The cooperative's row as every page shows it (name, address, opening
hours), cached briefly: it changes a few times a year, and admin edits show
within a minute."""

from django.core.cache import cache

from cooperative.models import Cooperative
from core.request_cache import request_cached

CACHE_KEY = "genoportal:cooperative"
CACHE_SECONDS = 60


def cooperative_cached() -> Cooperative:
    coop = cache.get(CACHE_KEY)
    if coop is None:
        coop = Cooperative.objects.current()
        coop.cached_hours = list(coop.opening_hours.all()) if coop.pk else []
        cache.set(CACHE_KEY, coop, CACHE_SECONDS)
    return coop


def cooperative_cache_clear() -> None:
    cache.delete(CACHE_KEY)


def cooperative_current() -> Cooperative:
    """The row as it is now, read once per request (core.request_cache):
    for what decides something — deadlines, emergency words, the sender of
    an e-mail — where a minute-old copy will not do, but one filing need
    not read it four times."""
    return request_cached("cooperative", Cooperative.objects.current)
