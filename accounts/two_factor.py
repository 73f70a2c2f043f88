"""The second login step: an authenticator app (TOTP, RFC 6238) and
single-use recovery codes, kept as django-otp devices.

Required for admins and team leads (`User.two_factor_required`), available
to everyone else. After the password, an account with an app waits in the
session (`PENDING_KEY`) without being logged in: nothing behind the login
opens until the code is right (`accounts.views.login_code`).

Recovery codes are stored as keyed hashes, as activation codes are:
django-otp's static tokens would otherwise lie readable in the table. The
app's secret cannot be hashed (the server computes the codes from it).

Throttling: django-otp's own delays are switched off in the settings; code
checks count in `accounts.throttle` like every other guess (atomic, per
account and per IP, with the same message)."""

import time
from base64 import b32encode
from binascii import unhexlify

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.models import User, hash_code
from accounts.services import generate_code

RECOVERY_CODE_COUNT = 10
# Two groups of five symbols of 31 ≈ 50 bits each, typed from paper.
RECOVERY_CODE_GROUPS = 2
RECOVERY_CODE_GROUP_LENGTH = 5

# The password step waiting for its code (user id, session hash, backend, time).
PENDING_KEY = "second_step"
PENDING_SECONDS = 10 * 60


class TwoFactorError(Exception):
    """A code or change that cannot be accepted; the message is safe to show."""


def wrong_code() -> TwoFactorError:
    return TwoFactorError(_("The code is not correct. Please enter the code your app shows now."))


def secret_new() -> str:
    """A new app secret (hex, 160 bits as RFC 4226 recommends)."""
    return random_hex(20)


def secret_for_typing(key: str) -> str:
    """The secret as an app wants it typed: base32 in groups of four."""
    text = b32encode(unhexlify(key)).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def setup_uri(*, user: User, key: str) -> str:
    """The otpauth:// address an app reads from the QR code."""
    return TOTPDevice(user=user, key=key).config_url


def _recovery_hash(code: str) -> str:
    # hash_code ignores case, spaces and hyphens; 64 bits are plenty to tell
    # ten codes apart, and the column holds 16 characters.
    return hash_code(code)[:16]


def _recovery_codes_make(device: StaticDevice) -> list[str]:
    device.token_set.all().delete()
    codes = [
        generate_code(groups=RECOVERY_CODE_GROUPS, length=RECOVERY_CODE_GROUP_LENGTH)
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=_recovery_hash(code)) for code in codes
    )
    return codes


def two_factor_enable(*, user: User, key: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Add the app whose secret the person was shown, if the code it shows
    now matches; returns the device and ten new recovery codes (the plain
    codes exist only in this return value)."""
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise TwoFactorError(_("Two-step login is already on for this account."))
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(
            user=user, name="authenticator", key=key, confirmed=False
        )
        if not device.verify_token(_digits(code)):
            raise wrong_code()  # rolls the new device back
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
        codes = _recovery_codes_make(static)
    return device, codes


def two_factor_disable(*, user: User) -> None:
    """Remove the app and the recovery codes. Admins and team leads must keep them."""
    if user.two_factor_required:
        raise TwoFactorError(_("Two-step login is required for your role."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


def recovery_codes_renew(*, user: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, defaults={"name": "recovery", "confirmed": True}
        )
        return _recovery_codes_make(device)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _digits(code: str) -> str:
    return "".join(code.split())


def second_step_verify(*, user: User, code: str) -> TOTPDevice | StaticDevice:
    """The device that accepts this code: the app's current code (each works
    once), or an unused recovery code (used up by this). TwoFactorError else.
    The devices are locked, so one code cannot log in twice at once."""
    text = _digits(code)
    with transaction.atomic():
        if len(text) == 6 and text.isdigit():
            for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if device.verify_token(text):
                    return device
        elif text:
            hashed = _recovery_hash(text)
            for device in StaticDevice.objects.select_for_update().filter(
                user=user, confirmed=True
            ):
                if device.verify_token(hashed):
                    return device
    raise wrong_code()


def pending_start(session, *, user: User, backend: str) -> None:
    """Remember a right password until the code is typed (not a login yet)."""
    session.cycle_key()  # a new session id for the new state, as a login does
    session[PENDING_KEY] = {
        "u": user.pk,
        "h": user.get_session_auth_hash(),
        "b": backend,
        "t": int(time.time()),
    }


def pending_user(session) -> tuple[User, str] | None:
    """The account whose password was typed in this session a short while
    ago and is unchanged since, with its auth backend; else None."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict) or time.time() - data.get("t", 0) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.get_session_auth_hash() != data.get("h"):
        return None
    return user, data["b"]
