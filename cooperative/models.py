"""The cooperative itself and its housing stock: estates, buildings, units."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class FederalState(models.TextChoices):
    # ISO 3166-2:DE subdivision codes, as the `holidays` package expects them.
    BW = "BW", _("Baden-Württemberg")
    BY = "BY", _("Bavaria")
    BE = "BE", _("Berlin")
    BB = "BB", _("Brandenburg")
    HB = "HB", _("Bremen")
    HH = "HH", _("Hamburg")
    HE = "HE", _("Hesse")
    MV = "MV", _("Mecklenburg-Western Pomerania")
    NI = "NI", _("Lower Saxony")
    NW = "NW", _("North Rhine-Westphalia")
    RP = "RP", _("Rhineland-Palatinate")
    SL = "SL", _("Saarland")
    SN = "SN", _("Saxony")
    ST = "ST", _("Saxony-Anhalt")
    SH = "SH", _("Schleswig-Holstein")
    TH = "TH", _("Thuringia")


# GenG § 65 (2), for shares by § 67b (2): a notice of at least three months,
# the statutes may set a longer one of at most five years.
SHARE_NOTICE_MIN_MONTHS = 3
SHARE_NOTICE_MAX_MONTHS = 60


class CooperativeManager(models.Manager):
    def current(self) -> "Cooperative":
        """The one cooperative of this installation (one database per cooperative)."""
        cooperative = self.order_by("pk").first()
        if cooperative is None:
            cooperative = Cooperative(name=str(_("Housing cooperative")))
        return cooperative


class Cooperative(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=5, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    emergency_phone = models.CharField(
        _("emergency phone"),
        max_length=50,
        blank=True,
        help_text=_("Out-of-hours number for emergencies such as burst pipes."),
    )
    utility_emergency_phone = models.CharField(
        _("gas and power fault service"),
        max_length=50,
        blank=True,
        help_text=_("The local utility's fault number for gas smell or a power cut."),
    )
    emergency_words = models.TextField(
        _("further emergency words"),
        blank=True,
        help_text=_(
            "One per line. Besides the built-in ones (gas smell, burst pipe, smoke …), "
            "a request whose text contains one of them asks the member to call first."
        ),
    )
    imprint = models.TextField(
        _("legal notice (Impressum)"),
        blank=True,
        help_text=_("Shown on the page linked in the footer. Blank lines separate paragraphs."),
    )
    privacy_notice = models.TextField(
        _("privacy notice (Datenschutz)"),
        blank=True,
        help_text=_("Shown on the page linked in the footer. Blank lines separate paragraphs."),
    )
    accessibility_statement = models.TextField(
        _("accessibility statement (Barrierefreiheit)"),
        blank=True,
        help_text=_(
            "Empty: the portal's own statement is shown (what was checked and how, the "
            "known limitations, the feedback form, the enforcement procedure). Enter a text "
            "only when you have assessed your installation yourself; it then replaces the "
            "statement. Blank lines separate paragraphs; the feedback form is always linked."
        ),
    )
    business_year_end_month = models.PositiveSmallIntegerField(
        _("the business year ends at the end of"),
        # Django's own month names, translated in every language it knows.
        choices=sorted(MONTHS.items()),
        default=12,
        help_text=_("As the statutes say; December when the business year is the calendar year."),
    )
    share_notice_months = models.PositiveSmallIntegerField(
        _("notice period for shares (months)"),
        default=SHARE_NOTICE_MIN_MONTHS,
        validators=[
            MinValueValidator(SHARE_NOTICE_MIN_MONTHS),
            MaxValueValidator(SHARE_NOTICE_MAX_MONTHS),
        ],
        help_text=_(
            "Voluntary shares are cancelled to the end of a business year with this notice "
            "(GenG § 65, § 67b): at least 3 months, at most 5 years, as the statutes say."
        ),
    )
    federal_state = models.CharField(
        _("federal state"),
        max_length=2,
        choices=FederalState.choices,
        default=FederalState.BE,
        help_text=_("Decides which public holidays count as non-working days."),
    )
    half_days_close_at = models.TimeField(
        _("on 24 and 31 December the office closes at"),
        null=True,
        blank=True,
        help_text=_("Leave empty if those days have the normal hours."),
    )
    # What § 25a GenG requires on the cooperative's business letters (the
    # footer of every letter core.pdf renders: certificates, exports): the
    # register court and number, every board member, the chair of the
    # supervisory board. The bank is what members pay their shares to.
    register_court = models.CharField(
        _("register court"),
        max_length=100,
        blank=True,
        help_text=_(
            "The court keeping the register of cooperatives, e.g. “Amtsgericht Berlin-Charlottenburg”."
        ),
    )
    register_number = models.CharField(
        _("register number"), max_length=30, blank=True, help_text=_("e.g. “GnR 123 B”")
    )
    board_members = models.CharField(
        _("board (Vorstand)"),
        max_length=300,
        blank=True,
        help_text=_("Every member of the board, separated by commas."),
    )
    supervisory_board_chair = models.CharField(
        _("chair of the supervisory board"), max_length=200, blank=True
    )
    bank_details = models.CharField(
        _("bank details"),
        max_length=200,
        blank=True,
        help_text=_("For the letters' footer, e.g. “Berliner Volksbank · IBAN DE… · BIC …”."),
    )
    logo = models.ImageField(_("logo"), upload_to="cooperative/", blank=True)
    brand_colour = models.CharField(
        _("brand colour"),
        max_length=7,
        default="#0b5c3b",
        validators=[
            RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #RRGGBB, e.g. #0b5c3b."))
        ],
        help_text=_(
            "Used for the header bar. Choose a dark colour: white text must stay readable."
        ),
    )

    objects = CooperativeManager()

    class Meta:
        verbose_name = _("cooperative")
        verbose_name_plural = _("cooperative")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.CASCADE, related_name="opening_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")),
                name="opening_hours_closes_after_opens",
                violation_error_message=_("The office must close after it opens."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class ClosingDay(models.Model):
    """A day the office is closed besides public holidays (Betriebsferien,
    bridge days): SLA clocks do not run on it."""

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.CASCADE, related_name="closing_days"
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("closing day")
        verbose_name_plural = _("closing days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["cooperative", "date"],
                name="closing_day_unique",
                violation_error_message=_("This day is already a closing day."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.reason}".strip()


class Estate(TimeStampedModel):
    """Wohnanlage: buildings managed together by one property manager."""

    number = models.CharField(_("estate number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    property_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("property manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_estates",
        limit_choices_to={"is_staff": True},
    )
    caretaker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("caretaker"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cared_estates",
        limit_choices_to={"is_staff": True},
    )

    class Meta:
        verbose_name = _("estate")
        verbose_name_plural = _("estates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Building(TimeStampedModel):
    """Haus: one street address."""

    estate = models.ForeignKey(
        Estate, verbose_name=_("estate"), on_delete=models.PROTECT, related_name="buildings"
    )
    street = models.CharField(_("street"), max_length=200)
    house_number = models.CharField(_("house number"), max_length=10)
    postcode = models.CharField(
        _("postcode"),
        max_length=5,
        validators=[RegexValidator(r"^\d{5}$", _("A German postcode has five digits."))],
    )
    city = models.CharField(_("city"), max_length=100)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["street", "house_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "house_number", "postcode"], name="building_unique_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.street} {self.house_number}, {self.postcode} {self.city}"

    @property
    def address_line(self) -> str:
        return f"{self.street} {self.house_number}"


class Unit(TimeStampedModel):
    """Wohnung: one apartment in a building."""

    building = models.ForeignKey(
        Building, verbose_name=_("building"), on_delete=models.PROTECT, related_name="units"
    )
    number = models.CharField(_("unit number"), max_length=30, unique=True)
    floor = models.SmallIntegerField(_("floor"), help_text=_("0 = ground floor, -1 = basement"))
    position = models.CharField(
        _("position"), max_length=60, blank=True, help_text=_('e.g. "2. OG links"')
    )
    rooms = models.DecimalField(
        _("rooms"), max_digits=3, decimal_places=1, validators=[MinValueValidator(0)]
    )
    living_area = models.DecimalField(
        _("living area (m²)"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} ({self.position or self.floor})"
