"""Login accounts: members (activated by letter) and staff, strictly apart."""

import functools
import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import ADMIN, DOCUMENTS, TEAM_LEAD
from core.request_cache import request_cached
from members.models import Member


class UserQuerySet(models.QuerySet):
    def email_taken(self, email: str, *, exclude: "models.Q | None" = None) -> bool:
        """Whether another account uses this address (compared case-insensitively)."""
        others = self.filter(email__iexact=email.strip())
        if exclude is not None:
            others = others.exclude(exclude)
        return others.exists()

    def members(self):
        return self.filter(member__isnull=False)

    def staff(self):
        return self.filter(is_staff=True)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # E-mail addresses are compared case-insensitively everywhere.
        return self.get(email__iexact=username)

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail"), unique=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    member = models.OneToOneField(
        Member,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="user",
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # Notices (Aushänge) for the member's building by e-mail too: asked for
    # on the contact details page, off until then.
    notices_by_email = models.BooleanField(_("notices for my building by e-mail"), default=False)
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("Office staff: may use the back office.")
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Member accounts become active once the e-mail address is confirmed."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            # Staff accounts are never member accounts: a member code must not
            # open the back office, and staff never log in as a member.
            models.CheckConstraint(
                condition=Q(member__isnull=True) | Q(is_staff=False),
                name="user_staff_is_not_member",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        if self.member_id:
            return self.member.full_name
        return f"{self.first_name} {self.last_name}".strip() or self.email

    @property
    def formal_name(self) -> str:
        return self.member.formal_name if self.member_id else self.get_full_name()

    def get_short_name(self) -> str:
        if self.member_id:
            return self.member.first_name
        return self.first_name or self.email

    @functools.cached_property
    def is_admin_role(self) -> bool:
        """Superuser or in the Administration group; cached for the request."""
        return self.is_staff and (self.is_superuser or self.groups.filter(name=ADMIN).exists())

    @property
    def is_member(self) -> bool:
        return self.member_id is not None

    @functools.cached_property
    def is_lead_or_admin(self) -> bool:
        """A team lead or an admin (asked once per request): they plan the
        office's work (the overview) and must log in with a second step."""
        if not self.is_staff:
            return False
        loaded = getattr(self, "lead_or_admin_row", None)  # accounts.backends
        if loaded is not None:
            return self.is_superuser or loaded
        # Cached per request too (core.request_cache): other instances of
        # the same account (a ticket's assignee, say) ask the same question.
        return self.is_staff and (
            self.is_superuser
            or request_cached(
                ("lead_or_admin", self.pk),
                lambda: self.groups.filter(name__in=[ADMIN, TEAM_LEAD]).exists(),
            )
        )

    @functools.cached_property
    def has_documents_role(self) -> bool:
        """Staff with the documents role (accounts.roles.DOCUMENTS): they
        upload and check members' documents. Loaded with the user
        (accounts.backends), else asked once per request."""
        if not self.is_staff:
            return False
        loaded = getattr(self, "documents_row", None)
        if loaded is not None:
            return loaded
        return request_cached(
            ("documents_role", self.pk),
            lambda: self.groups.filter(name=DOCUMENTS).exists(),
        )

    @property
    def two_factor_required(self) -> bool:
        """Admins and team leads must log in with a second step: their
        accounts reach every member's data and hand out rights."""
        return self.is_lead_or_admin

    @property
    def two_factor_enabled(self) -> bool:
        """An authenticator app is set up (django-otp's TOTP device)."""
        return self.totpdevice_set.filter(confirmed=True).exists()

    @functools.cached_property
    def needs_second_step(self) -> bool:
        """A login of this account counts only with a code: it has an app,
        or its role requires one. Asked on every request: the auth backend
        loads it with the user (accounts.backends), else one query."""
        if self.pk is None:
            return False
        loaded = getattr(self, "second_step_row", None)  # accounts.backends
        if loaded is not None:
            return loaded
        required = Q(is_staff=True) & (
            Q(is_superuser=True) | Q(groups__name__in=[ADMIN, TEAM_LEAD])
        )
        return (
            type(self)
            .objects.filter(Q(pk=self.pk) & (required | Q(totpdevice__confirmed=True)))
            .exists()
        )


def hash_code(code: str) -> str:
    """Activation codes are random and long, so a keyed SHA-256 is enough;
    the key keeps a stolen database table from being checked offline."""
    normalized = "".join(ch for ch in code.upper() if ch.isalnum())
    return hmac.new(settings.SECRET_KEY.encode(), normalized.encode(), hashlib.sha256).hexdigest()


class ActivationCodeQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class ActivationCode(models.Model):
    """A one-time code printed on a letter; only its hash is stored."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="activation_codes"
    )
    code_hash = models.CharField(_("code (stored as a hash)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = ActivationCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("activation code")
        verbose_name_plural = _("activation codes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.member.member_number} ({self.created_at:%Y-%m-%d})"

    def matches(self, code: str) -> bool:
        return hmac.compare_digest(self.code_hash, hash_code(code))


class Attempt(models.Model):
    """One failed attempt (login, activation) for rate limiting.

    Kept in the database so every web process sees the same counts."""

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "created_at"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
