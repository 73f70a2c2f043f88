"""Rate limits for password checks, codes and e-mails sent on request,
counted in the database so every web process sees the same counts.

Limits are per account (or address) and per IP address at once: a
per-account limit alone lets one machine try many accounts, a per-IP limit
alone lets a botnet try one account.

Every attempt first reserves a place (`reserve`): one transaction, under a
lock per key, counts the attempts in the window and writes its own. Only
then is the password checked, so however many requests arrive at the same
moment, at most the limit of them reach the password check. (Counting first
and writing the failure after the slow password hash let 40 parallel
requests check 17 passwords where 5 were allowed.) Where only failures
should count, a success gives its place back (`Reservation.release`), so a
member who types the password right is never slowed down.

Lock-outs and strangers: a per-account lock would let anyone who knows an
address lock its member or an admin out by typing wrong passwords. We chose
device cookies (as OWASP describes them) over growing delays: delays still
let a stranger keep an account slow for ever and make older members wait in
front of a countdown. A successful login leaves a signed cookie on that
device naming the account; attempts from such a device count against that
device alone ("login:device"), not against the account or the network, so
the member's own browser keeps working while strangers' guesses for the
account stop after a few ("login:account"). A member on a new device while
someone guesses waits 15 minutes or chooses a new password by e-mail, which
lifts the lock (only the inbox's owner can do that). The cookie is strictly
necessary for the security of the login the member asked for, so it needs
no consent (§ 25 (2) TDDDG)."""

import dataclasses
import datetime
import hashlib
import ipaddress
import secrets

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import Attempt
from core.client_ip import client_ip

DEVICE_COOKIE = "genoportal_device"
DEVICE_SALT = "genoportal.accounts.device"
DEVICE_MAX_AGE = 60 * 60 * 24 * 365
DEVICE_MAX_ACCOUNTS = 5  # a household shares a computer; a few accounts per device


def _key(value: str) -> str:
    # Hashed so the table holds no plain IP addresses or e-mail addresses.
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def _window(scope: str) -> tuple[int, datetime.timedelta]:
    limit, seconds = settings.RATE_LIMITS[scope]
    return limit, datetime.timedelta(seconds=seconds)


def _lock(keys: list[tuple[str, str]]) -> None:
    """Serialise counting per key until the transaction ends.

    PostgreSQL: a transaction-level advisory lock per key, taken in sorted
    order so two attempts sharing some keys cannot deadlock. SQLite: every
    transaction begins IMMEDIATE (settings), i.e. holds the one write lock
    from its start, so there is nothing more to take."""
    if connection.vendor != "postgresql":
        return
    lock_ids = sorted(
        {
            int.from_bytes(hashlib.sha256(f"{scope}:{key}".encode()).digest()[:8], signed=True)
            for scope, key in keys
        }
    )
    with connection.cursor() as cursor:
        for lock_id in lock_ids:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


@dataclasses.dataclass(frozen=True)
class Reservation:
    """The attempts written for one try; they stay unless given back."""

    limits: tuple[tuple[str, str], ...]
    ids: tuple[int, ...]

    def release(self) -> None:
        """The try succeeded and should not count (password and code checks)."""
        Attempt.objects.filter(pk__in=self.ids).delete()


def reserve(*, limits: list[tuple[str, str]]) -> Reservation | None:
    """A place for one attempt under every (scope, value) limit, or None when
    one of them is used up (then nothing is written: a refused try checks no
    password and sends no e-mail). Empty values are not limited."""
    limits = [(scope, value) for scope, value in limits if value]
    keys = [(scope, _key(value)) for scope, value in limits]
    now = timezone.now()
    with transaction.atomic():
        _lock(keys)
        for scope, key in keys:
            limit, window = _window(scope)
            recent = Attempt.objects.filter(scope=scope, key=key, created_at__gte=now - window)
            if recent.count() >= limit:
                return None
        ids = tuple(
            Attempt.objects.create(scope=scope, key=key, created_at=now).pk for scope, key in keys
        )
    # Keep the table small: attempts older than their window mean nothing.
    # After the commit, so no lock is held while other keys' rows go.
    for scope in {scope for scope, _key_ in keys}:
        _limit, window = _window(scope)
        Attempt.objects.filter(scope=scope, created_at__lt=now - window).delete()
    return Reservation(limits=tuple(limits), ids=ids)


def clear(*, scope: str, value: str) -> None:
    Attempt.objects.filter(scope=scope, key=_key(value)).delete()


def ip_value(request) -> str:
    """The client address as one rate-limit key. IPv6 by /64: one household
    or server gets a whole /64 and could take a new address for every try."""
    ip = client_ip(request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return ip


# Known devices ------------------------------------------------------------------------


def _account_tag(email: str) -> str:
    # Keyed, so the cookie (signed, not encrypted) does not carry a hash of
    # the address that anyone could compare with a list of addresses.
    return salted_hmac(DEVICE_SALT, email.strip().lower(), algorithm="sha256").hexdigest()[:24]


def _device(request) -> dict:
    """The signed cookie of a device an account logged in on: a random
    device id and the (hashed) accounts. Anything else counts as unknown."""
    try:
        data = signing.loads(
            request.COOKIES.get(DEVICE_COOKIE, ""), salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE
        )
    except signing.BadSignature:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("a"), list) or not data.get("n"):
        return {}
    return data


def login_limits(request, email: str) -> list[tuple[str, str]]:
    """The limits one password check for this account falls under: the
    device's own when the account logged in on it before, else the
    account's and the network's."""
    device = _device(request)
    account = _account_tag(email)
    if account in device.get("a", []):
        return [("login:device", f"{device['n']}:{account}")]
    return [("login:account", email), ("login:ip", ip_value(request))]


def login_succeeded(*, request, response, email: str, reservation: Reservation) -> None:
    """The password was right: give the place back, forget this account's
    failures (on this device, or from unknown ones when that is where the
    member logged in) and remember the device for the account."""
    reservation.release()
    for scope, value in reservation.limits:
        if scope != "login:ip":
            clear(scope=scope, value=value)
    device = _device(request) or {"n": secrets.token_urlsafe(16), "a": []}
    account = _account_tag(email)
    device["a"] = ([a for a in device["a"] if a != account] + [account])[-DEVICE_MAX_ACCOUNTS:]
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(device, salt=DEVICE_SALT, compress=True),
        max_age=DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
