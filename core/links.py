"""Links that leave the site: e-mails and printed letters are read outside
any request, so their links carry the configured site address."""

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse


def absolute_url(
    viewname: str,
    *,
    args: Sequence[object] = (),
    kwargs: Mapping[str, object] | None = None,
    query: Mapping[str, str] | None = None,
) -> str:
    """`reverse()` with GENOPORTAL_SITE_URL in front (never the Host header
    of whatever request is running: a forged one must not end up in mail)."""
    url = settings.SITE_URL + reverse(viewname, args=args, kwargs=kwargs)
    return f"{url}?{urlencode(query)}" if query else url
