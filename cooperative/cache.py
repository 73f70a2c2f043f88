"""The cooperative's row as every page shows it (name, address, opening
hours), cached briefly: it changes a few times a year, and admin edits show
within a minute."""

from django.core.cache import cache

from cooperative.models import Cooperative

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
