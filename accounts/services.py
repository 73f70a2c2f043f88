"""Account writes: activation by letter code, e-mail confirmation and change,
contact data. Each runs in one transaction; e-mails leave through the outbox."""

import datetime
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ActivationCode, User, hash_code
from core.links import absolute_url
from mail.services import email_queue
from members.models import Member

# No 0/O, 1/I/L: codes are typed from paper, often by older members.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 4
CODE_GROUP_LENGTH = 4  # 16 symbols of 31 ≈ 79 bits: guessing is hopeless.

ACTIVATION_SALT = "genoportal.accounts.activation"
EMAIL_CHANGE_SALT = "genoportal.accounts.email-change"


EMAIL_TAKEN = gettext_lazy(
    "This e-mail address is already used by another account. Please choose another."
)


class ActivationError(Exception):
    """A code that cannot be used; the message is safe to show the member."""


class ActivationLinkUsed(ActivationError):
    """The address is confirmed already: the member should log in."""


class WrongPassword(ActivationError):
    """The password given to confirm the address is not the account's."""


def generate_code(*, groups: int = CODE_GROUPS, length: int = CODE_GROUP_LENGTH) -> str:
    """A random code to type from paper (activation letters, recovery codes)."""
    parts = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(length)) for _ in range(groups))
    return "-".join(parts)


def activation_codes_create(
    *, members: Iterable[Member], created_by: User | None
) -> list[tuple[Member, str, datetime.datetime]]:
    """New codes for members who have no usable account yet.

    Returns (member, plain code, expiry) for printing: the plain code exists
    only in this return value. Older unused codes of these members are revoked,
    so only the newest letter works."""
    now = timezone.now()
    expires_at = now + datetime.timedelta(days=settings.ACTIVATION_CODE_VALID_DAYS)
    created = []
    with transaction.atomic():
        for member in members:
            ActivationCode.objects.filter(
                member=member, used_at__isnull=True, revoked_at__isnull=True
            ).update(revoked_at=now)
            code = generate_code()
            ActivationCode.objects.create(
                member=member,
                code_hash=hash_code(code),
                created_by=created_by,
                created_at=now,
                expires_at=expires_at,
            )
            created.append((member, code, expires_at))
    return created


def activation_check(*, member_number: str, code: str) -> ActivationCode:
    """The usable code for this member number, or ActivationError."""
    wrong = ActivationError(
        _(
            "The member number or the activation code is not correct. "
            "Please check both against your letter."
        )
    )
    member = Member.objects.filter(member_number=member_number.strip()).first()
    if member is None:
        raise wrong
    candidate = ActivationCode.objects.filter(member=member, code_hash=hash_code(code)).first()
    if candidate is None:
        raise wrong
    if User.objects.filter(member=member, is_active=True).exists():
        raise ActivationError(
            _(
                "There is already an account for this member number. Please log in, "
                "or reset your password if you have forgotten it."
            )
        )
    if candidate.used_at or candidate.revoked_at:
        raise ActivationError(
            _(
                "This activation code has already been used or replaced by a newer letter. "
                "Please use the newest letter or ask the office for a new code."
            )
        )
    if candidate.expires_at <= timezone.now():
        raise ActivationError(
            _("This activation code has expired. Please ask the office for a new code.")
        )
    return candidate


def account_activate(*, code_id: int, email: str, password: str, language: str) -> User:
    """Create (or, on a second try, update) the member's pending account and
    send the confirmation link. The account stays unusable until confirmed."""
    email = User.objects.normalize_email(email).strip().lower()
    with transaction.atomic():
        code = ActivationCode.objects.select_for_update().select_related("member").get(pk=code_id)
        if not ActivationCode.objects.usable().filter(pk=code.pk).exists():
            raise ActivationError(_("This activation code can no longer be used."))
        member = code.member
        if User.objects.email_taken(email, exclude=Q(member=member)):
            raise ActivationError(EMAIL_TAKEN)
        user = User.objects.filter(member=member).first()
        if user is not None and user.is_active:
            raise ActivationError(_("There is already an account for this member number."))
        if user is None:
            user = User(member=member, date_joined=timezone.now())
        user.email = email
        user.is_active = False
        user.language = language
        user.set_password(password)
        user.save()
        token = signing.dumps(
            {"u": user.pk, "c": code.pk, "s": _activation_state(user)}, salt=ACTIVATION_SALT
        )
        email_queue(
            to=email,
            template="accounts/email/activation",
            context={
                "member": member,
                "link": absolute_url("accounts:activation_confirm", args=[token]),
                "valid_days": settings.EMAIL_CONFIRMATION_MAX_AGE // 86400,
            },
            language=language,
        )
    return user


def _activation_state(user: User) -> str:
    """What the confirmation link was made for, as Django's password reset
    tokens do it: the link dies when the account becomes active (it was
    used), or when the password or address changes (a newer activation)."""
    state = f"{user.pk}|{user.password}|{user.email}|{user.is_active}"
    return salted_hmac(ACTIVATION_SALT, state, algorithm="sha256").hexdigest()[:32]


def _activation_link(token: str, *, for_update: bool = False) -> tuple[User, int]:
    """The pending account the link was made for and its letter's code, or
    ActivationError saying what to do instead."""
    invalid = ActivationError(
        _(
            "This confirmation link is not valid or has expired. "
            "Please start the activation again with your letter."
        )
    )
    try:
        data = signing.loads(
            token, salt=ACTIVATION_SALT, max_age=settings.EMAIL_CONFIRMATION_MAX_AGE
        )
    except signing.BadSignature:
        raise invalid from None
    users = User.objects.select_for_update() if for_update else User.objects
    user = users.filter(pk=data.get("u")).first() if isinstance(data, dict) else None
    if user is None:
        raise invalid
    if user.is_active:
        raise ActivationLinkUsed(
            _(
                "Your e-mail address is already confirmed, so this link is no longer needed. "
                "Please log in with your e-mail address and password."
            )
        )
    if not constant_time_compare(str(data.get("s", "")), _activation_state(user)):
        raise invalid
    code = ActivationCode.objects.usable().filter(pk=data.get("c"), member_id=user.member_id)
    if not code.exists():
        raise invalid
    return user, data["c"]


def account_confirmation_check(*, token: str) -> User:
    """The pending account behind a confirmation link; changes nothing, so
    opening the link (or a mail scanner opening it) confirms nothing."""
    user, _code_id = _activation_link(token)
    return user


def account_confirm(*, token: str, password: str) -> User:
    """Confirm the e-mail address from the activation link with the password
    the member chose; the account becomes usable and the link is spent.

    The link alone is no login: whoever reads the e-mail (a shared inbox, a
    forwarded message) still needs the password."""
    user, _code_id = _activation_link(token)
    # Checked before the lock (hashing is slow); the state compared under the
    # lock includes the password hash, so it is still the same password.
    # hashers.check_password never re-hashes, which would change the state.
    if not check_password(password, user.password):
        raise WrongPassword(
            _(
                "The password is not correct. Please enter the password you chose when you "
                "activated your account."
            )
        )
    with transaction.atomic():
        user, code_id = _activation_link(token, for_update=True)
        ActivationCode.objects.filter(pk=code_id).update(used_at=timezone.now())
        user.is_active = True
        user.save(update_fields=["is_active"])
        member = user.member
        member.email = user.email
        member.save(update_fields=["email", "updated_at"])
    return user


def email_change_request(*, user: User, new_email: str) -> None:
    """Send a confirmation link to the new address; nothing changes until it is clicked.

    When another account uses the address, its owner gets a short notice
    instead of the link. Either way one e-mail goes to the typed address and
    the member sees the same answer, so the form cannot be used to find out
    which addresses have accounts."""
    new_email = User.objects.normalize_email(new_email).strip().lower()
    with transaction.atomic():
        owner = User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).first()
        if owner is not None:
            # Says nothing about who tried: the owner may be a stranger to them.
            email_queue(
                to=owner.email,
                template="accounts/email/email_in_use",
                context={"user": owner},
                language=owner.language,
            )
            return
        token = signing.dumps(
            {"u": user.pk, "o": user.email, "n": new_email}, salt=EMAIL_CHANGE_SALT
        )
        email_queue(
            to=new_email,
            template="accounts/email/email_change",
            context={
                "user": user,
                "link": absolute_url("accounts:email_change_confirm", args=[token]),
                "valid_days": settings.EMAIL_CONFIRMATION_MAX_AGE // 86400,
            },
            language=user.language,
        )


def email_change_confirm(*, user: User, token: str) -> str:
    """Switch login and contact address to the confirmed one; tell the old address."""
    invalid = ActivationError(
        _("This confirmation link is not valid or has expired. Please request the change again.")
    )
    try:
        data = signing.loads(
            token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CONFIRMATION_MAX_AGE
        )
    except signing.BadSignature:
        raise invalid from None
    if data["u"] != user.pk:
        raise invalid
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.email == data["n"]:
            return user.email
        if user.email != data["o"]:
            raise invalid  # the address changed meanwhile: the link is spent
        if User.objects.email_taken(data["n"], exclude=Q(pk=user.pk)):
            raise ActivationError(EMAIL_TAKEN)
        old_email = user.email
        user.email = data["n"]
        user.save(update_fields=["email"])
        if user.member_id:
            Member.objects.filter(pk=user.member_id).update(
                email=user.email, updated_at=timezone.now()
            )
        # The old address learns of the change, in case it was not the member.
        email_queue(
            to=old_email,
            template="accounts/email/email_changed",
            context={"user": user, "new_email": user.email},
            language=user.language,
        )
    return user.email


def contact_update(
    *, user: User, phone: str, language: str, notices_by_email: bool | None = None
) -> None:
    """Phone, language and notices by e-mail take effect at once (no
    confirmation needed)."""
    with transaction.atomic():
        if notices_by_email is not None and notices_by_email != user.notices_by_email:
            user.notices_by_email = notices_by_email
            user.save(update_fields=["notices_by_email"])
        if user.member_id:
            Member.objects.filter(pk=user.member_id).update(
                phone=phone.strip(), updated_at=timezone.now()
            )
        language_set(user=user, language=language)


def language_set(*, user: User, language: str) -> None:
    """Remember the portal language on the account and as the member's
    preference for letters and e-mails."""
    with transaction.atomic():
        user.language = language
        user.save(update_fields=["language"])
        if user.member_id:
            Member.objects.filter(pk=user.member_id).update(
                preferred_language=language, updated_at=timezone.now()
            )
