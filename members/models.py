"""Members, their shares and their contracts (Nutzungsverträge)."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cooperative.models import Unit
from core.models import TimeStampedModel


class Salutation(models.TextChoices):
    MS = "frau", _("Ms")
    MR = "herr", _("Mr")
    NONE = "", _("no salutation")


class Member(TimeStampedModel):
    """Mitglied: owner of shares and (usually) user of a unit at once."""

    member_number = models.CharField(_("member number"), max_length=20, unique=True)
    salutation = models.CharField(
        _("salutation"), max_length=10, choices=Salutation.choices, blank=True
    )
    title = models.CharField(_("title"), max_length=30, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["last_name", "first_name", "member_number"]
        indexes = [
            models.Index(fields=["last_name", "first_name"]),
            # Who sent an e-mail (mailroom): the address in any case.
            models.Index(Lower("email"), name="member_email_lower"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="member_left_after_joined",
            )
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.member_number})"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.title, self.first_name, self.last_name) if part)

    @property
    def formal_name(self) -> str:
        """For greetings: "Frau Dr. Ahrens"; the full name when no salutation is known."""
        if not self.salutation:
            return self.full_name
        return " ".join(
            part
            for part in (str(self.get_salutation_display()), self.title, self.last_name)
            if part
        )

    def is_active_member(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.joined_on <= on and (self.left_on is None or self.left_on >= on)


class Shareholding(TimeStampedModel):
    """Geschäftsanteile of one kind held by a member (count × nominal value)."""

    class Kind(models.TextChoices):
        REQUIRED = "required", _("required shares")
        VOLUNTARY = "voluntary", _("voluntary shares")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="shareholdings")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    count = models.PositiveIntegerField(_("number of shares"))
    nominal_value = models.DecimalField(
        _("nominal value per share (€)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        verbose_name = _("shareholding")
        verbose_name_plural = _("shareholdings")
        ordering = ["member", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["member", "kind"], name="shareholding_unique_kind")
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.nominal_value} € ({self.get_kind_display()})"

    @property
    def total(self) -> Decimal:
        return self.count * self.nominal_value


class ContractQuerySet(models.QuerySet):
    def current(self, on: datetime.date | None = None) -> "ContractQuerySet":
        on = on or timezone.localdate()
        return self.filter(Q(end__isnull=True) | Q(end__gte=on), start__lte=on)


class Contract(TimeStampedModel):
    """Nutzungsvertrag: one or more members (a household) ↔ one unit."""

    number = models.CharField(_("contract number"), max_length=30, unique=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="contracts"
    )
    members = models.ManyToManyField(
        Member, verbose_name=_("members"), related_name="contracts", through="ContractMember"
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)
    monthly_fee = models.DecimalField(
        _("monthly fee (€)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Nutzungsgebühr including advance payments."),
    )

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-start", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="contract_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} – {self.unit.number}"

    def is_current(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.start <= on and (self.end is None or self.end >= on)


class ContractMember(models.Model):
    """A member on a contract, and since when: a partner added to a running
    contract joins it later than it began, and sees the household's
    requests only from that day (tickets.models.TicketQuerySet)."""

    # The table of the former plain many-to-many field (migration 0002).
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE)
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE)
    joined = models.DateField(
        _("on the contract since"),
        null=True,
        blank=True,
        help_text=_("Empty: since the contract began."),
    )

    class Meta:
        db_table = "members_contract_members"
        verbose_name = _("member on the contract")
        verbose_name_plural = _("members on the contract")
        # As the former automatic table had it (the same index, unchanged).
        unique_together = [("contract", "member")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.member_id}"
