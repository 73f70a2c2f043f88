"""Rate limits for login and activation, counted in the database.

Only failed attempts count, so a member who types the password right the
first time is never slowed down. Limits are per account and per IP address
at once: a per-account limit alone lets one machine try many accounts, a
per-IP limit alone lets a botnet try one account."""

import datetime
import hashlib

from django.conf import settings
from django.utils import timezone

from accounts.models import Attempt


def _key(value: str) -> str:
    # Hashed so the table holds no plain IP addresses or e-mail addresses.
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def _window(scope: str) -> tuple[int, datetime.timedelta]:
    limit, seconds = settings.RATE_LIMITS[scope]
    return limit, datetime.timedelta(seconds=seconds)


def is_blocked(*, scope: str, value: str) -> bool:
    if not value:
        return False
    limit, window = _window(scope)
    since = timezone.now() - window
    return (
        Attempt.objects.filter(scope=scope, key=_key(value), created_at__gte=since).count() >= limit
    )


def record_failure(*, scope: str, value: str) -> None:
    if not value:
        return
    _limit, window = _window(scope)
    now = timezone.now()
    Attempt.objects.create(scope=scope, key=_key(value), created_at=now)
    # Keep the table small: attempts older than the window mean nothing.
    Attempt.objects.filter(scope=scope, created_at__lt=now - window).delete()


def clear(*, scope: str, value: str) -> None:
    Attempt.objects.filter(scope=scope, key=_key(value)).delete()


def client_ip(request) -> str:
    # Behind the production proxy REMOTE_ADDR is the proxy; the proxy is
    # configured to overwrite (not append to) X-Real-IP.
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        real_ip = request.META.get("HTTP_X_REAL_IP", "")
        if real_ip:
            return real_ip
    return request.META.get("REMOTE_ADDR", "")
