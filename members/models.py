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


class LeavingReason(models.TextChoices):
    """Why a membership ended, as the Genossenschaftsgesetz names the ways."""

    CANCELLATION = "cancellation", _("notice of cancellation (GenG § 65)")
    TRANSFER = "transfer", _("transfer of the share balance (GenG § 76)")
    EXCLUSION = "exclusion", _("exclusion (GenG § 68)")
    DEATH = "death", _("death (GenG § 77)")
    DISSOLUTION = "dissolution", _("dissolution of a legal entity (GenG § 77a)")


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
    # The members' list keeps the date *and the reason* of leaving (GenG
    # § 30 (2)); the ERP delivers it with the date. Blank while a member.
    left_reason = models.CharField(
        _("reason for leaving"), max_length=20, choices=LeavingReason.choices, blank=True
    )

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


class ShareMovementQuerySet(models.QuerySet):
    def balance_change(self) -> models.Case:
        """ShareMovement.balance_change as an SQL expression, to sum in a query."""
        return models.Case(
            models.When(kind__in=sorted(ShareMovement.BALANCE_UP), then=models.F("amount")),
            models.When(kind__in=sorted(ShareMovement.BALANCE_DOWN), then=-models.F("amount")),
            default=models.Value(0),
            output_field=models.DecimalField(max_digits=14, decimal_places=2),
        )


class ShareMovement(TimeStampedModel):
    """One booking of the ERP on a member's shares or their Geschäftsguthaben
    (the paid-in balance of the shares, GenG § 19): shares subscribed or
    cancelled, money paid in or out, a dividend, a transfer (GenG § 76).

    Counts and amounts are stored as booked, never negative; the kind says
    which way they move the number of shares and the balance (SHARES_UP …).
    A dividend paid out is listed with the dividends but leaves the balance
    as it is; one credited raises it (GenG § 19 (1): profit is credited
    until the shares are paid up). Unique by the ERP's reference, so a second import of the same
    export changes nothing."""

    class Kind(models.TextChoices):
        # An export that starts later than the membership opens with the
        # shares and balance carried forward (Saldovortrag).
        CARRIED_FORWARD = "carried_forward", _("carried forward")
        SUBSCRIPTION = "subscription", _("shares subscribed")
        CANCELLATION = "cancellation", _("shares cancelled")
        PAYMENT = "payment", _("payment in")
        PAYOUT = "payout", _("payout")
        DIVIDEND_CREDITED = "dividend_credited", _("dividend credited")
        DIVIDEND_PAID = "dividend_paid", _("dividend paid out")
        TRANSFER_IN = "transfer_in", _("transferred to you")
        TRANSFER_OUT = "transfer_out", _("transferred by you")

    SHARES_UP = frozenset({Kind.CARRIED_FORWARD, Kind.SUBSCRIPTION, Kind.TRANSFER_IN})
    SHARES_DOWN = frozenset({Kind.CANCELLATION, Kind.TRANSFER_OUT})
    BALANCE_UP = frozenset(
        {Kind.CARRIED_FORWARD, Kind.PAYMENT, Kind.DIVIDEND_CREDITED, Kind.TRANSFER_IN}
    )
    BALANCE_DOWN = frozenset({Kind.PAYOUT, Kind.TRANSFER_OUT})
    DIVIDENDS = frozenset({Kind.DIVIDEND_CREDITED, Kind.DIVIDEND_PAID})

    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="share_movements",
    )
    reference = models.CharField(_("ERP reference"), max_length=40, unique=True)
    booked_on = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    shares = models.PositiveIntegerField(_("number of shares"), default=0)
    amount = models.DecimalField(
        _("amount (€)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    # As the ERP names it; for a dividend the year it is paid for (booked
    # in the next one, after the members' assembly).
    business_year = models.PositiveSmallIntegerField(_("business year"))
    text = models.CharField(_("booking text"), max_length=200, blank=True)

    objects = ShareMovementQuerySet.as_manager()

    class Meta:
        verbose_name = _("share movement")
        verbose_name_plural = _("share movements")
        ordering = ["member", "booked_on", "pk"]
        indexes = [models.Index(fields=["member", "booked_on"], name="share_movement_member")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="share_movement_amount_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.get_kind_display()}"

    @property
    def shares_change(self) -> int:
        """How this booking moves the member's number of shares."""
        if self.kind in self.SHARES_UP:
            return self.shares
        if self.kind in self.SHARES_DOWN:
            return -self.shares
        return 0

    @property
    def balance_change(self) -> Decimal:
        """How this booking moves the Geschäftsguthaben."""
        if self.kind in self.BALANCE_UP:
            return self.amount
        if self.kind in self.BALANCE_DOWN:
            return -self.amount
        return Decimal("0")

    @property
    def is_dividend(self) -> bool:
        return self.kind in self.DIVIDENDS
