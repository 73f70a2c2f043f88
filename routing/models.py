"""Teams, routing rules, SLA policies and absences: who gets a request, how
fast it must be answered, and who stands in for whom."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.models import TimeStampedModel
from routing import decide


class TeamQuerySet(models.QuerySet):
    def with_member(self, user: User) -> "TeamQuerySet":
        """The teams whose tickets this person works: as a member or as the
        lead (a lead need not be listed as a member): Team.has_member as a
        query."""
        # A subquery, not a join over members: no duplicate rows and no
        # DISTINCT when the lead is listed as a member too.
        listed = Team.members.through.objects.filter(user=user).values("team_id")
        return self.filter(Q(lead=user) | Q(pk__in=listed))


class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        related_name="teams",
        blank=True,
        limit_choices_to={"is_staff": True},
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team lead"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
        limit_choices_to={"is_staff": True},
    )
    on_call_email = models.EmailField(
        _("on-call e-mail address"),
        blank=True,
        help_text=_(
            "Alerted at once about every emergency for this team when no on-call "
            "shift covers the moment (e.g. the emergency service's address)."
        ),
    )
    # Round robin: who got the team's last ticket. Locked while routing, so
    # tickets filed at the same moment still go round in turn.
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def has_member(self, user: User) -> bool:
        """Whether the person may be given this team's tickets: a member or
        the lead (a lead need not be listed as a member). The lead is
        checked first, which costs no query."""
        return user.pk == self.lead_id or self.members.filter(pk=user.pk).exists()


class Priority(models.TextChoices):
    LOW = "low", _("low")
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")
    URGENT = "urgent", _("urgent")
    # Danger to people or the building: the on-call person is alerted at
    # once and the deadlines may run around the clock (SlaPolicy.clock).
    EMERGENCY = "emergency", _("emergency")


class Strategy(models.TextChoices):
    # The codes live in routing.decide (pure, no Django); here their labels.
    ESTATE_MANAGER = decide.ESTATE_MANAGER, _("the estate's property manager")
    ESTATE_CARETAKER = decide.ESTATE_CARETAKER, _("the estate's caretaker")
    ROUND_ROBIN = decide.ROUND_ROBIN, _("in turn within the team (round robin)")
    LEAST_OPEN = decide.LEAST_OPEN, _("the team member with the least open requests")
    TEAM_QUEUE = decide.TEAM_QUEUE, _("nobody yet: the team's queue")


class Clock(models.TextChoices):
    WORKING = "working", _("in working time (office hours)")
    CALENDAR = "calendar", _("around the clock (calendar time)")


class SlaPolicy(TimeStampedModel):
    """Targets in working time: office hours of the cooperative, without
    public holidays of its federal state and closing days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    first_response_hours = models.PositiveSmallIntegerField(
        _("first response within (working hours)"),
        validators=[MinValueValidator(1), MaxValueValidator(2000)],
    )
    resolution_days = models.PositiveSmallIntegerField(
        _("resolution within (working days)"),
        validators=[MinValueValidator(1), MaxValueValidator(250)],
    )
    warn_percent = models.PositiveSmallIntegerField(
        _("warn the handler at (% of the time)"),
        default=80,
        validators=[MinValueValidator(10), MaxValueValidator(99)],
    )
    # A form option can raise a request's priority (RequestField.choices);
    # the policy marked for that priority then sets its deadlines.
    for_priority = models.CharField(
        _("for requests of priority"),
        max_length=10,
        choices=Priority.choices,
        blank=True,
        help_text=_(
            "When the member's answer raises a request to this priority (e.g. “urgent” for "
            "“today/tomorrow”), this policy's deadlines apply instead of the rule's."
        ),
    )
    clock = models.CharField(
        _("the clock runs"),
        max_length=10,
        choices=Clock.choices,
        default=Clock.WORKING,
        help_text=_(
            "Around the clock: hours and days are counted in calendar time, nights, "
            "weekends and holidays included (for emergencies)."
        ),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["for_priority"],
                condition=~Q(for_priority=""),
                name="sla_policy_one_per_priority",
                violation_error_message=_("Another policy is already set for this priority."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class RoutingRule(TimeStampedModel):
    """If all given conditions hold (an empty condition holds always), the
    request goes to `team` and is assigned by `strategy`. Rules are tried
    by position; the first that matches decides."""

    position = models.PositiveIntegerField(_("position"), default=0, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    # A draft only takes part in the preview ("what would go elsewhere");
    # publishing it makes it live and switches off the rule it replaces.
    draft = models.BooleanField(
        _("draft"),
        default=False,
        help_text=_("Drafts do not route anything yet; the preview shows what they would change."),
    )
    replaces = models.ForeignKey(
        "self",
        verbose_name=_("replaces"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"draft": False},
        help_text=_("For a draft: the live rule it takes the place of when published."),
    )
    request_types = models.ManyToManyField(
        "tickets.RequestType", verbose_name=_("request types"), blank=True, related_name="+"
    )
    categories = models.JSONField(_("categories"), default=list, blank=True)
    estates = models.ManyToManyField(
        "cooperative.Estate", verbose_name=_("estates"), blank=True, related_name="+"
    )
    buildings = models.ManyToManyField(
        "cooperative.Building", verbose_name=_("buildings"), blank=True, related_name="+"
    )
    channels = models.JSONField(_("channels"), default=list, blank=True)
    field_key = models.CharField(
        _("form field"),
        max_length=50,
        blank=True,
        help_text=_("The key of a form field, e.g. “urgency”."),
    )
    field_value = models.CharField(
        _("has the value"),
        max_length=200,
        blank=True,
        help_text=_("e.g. “notfall”. For yes/no fields: “yes” or “no”."),
    )
    keywords = models.CharField(
        _("keywords in the text"),
        max_length=500,
        blank=True,
        help_text=_("Separated by commas; one of them is enough (upper/lower case ignored)."),
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="rules"
    )
    strategy = models.CharField(
        _("assign to"), max_length=20, choices=Strategy.choices, default=Strategy.TEAM_QUEUE
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    sla_policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("SLA policy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
    )

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class Absence(TimeStampedModel):
    class Kind(models.TextChoices):
        VACATION = "vacation", _("vacation")
        SICK = "sick", _("sick leave")
        TRAINING = "training", _("training")
        OTHER = "other", _("other")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="absences",
        limit_choices_to={"is_staff": True},
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    starts = models.DateField(_("first day"))
    ends = models.DateField(_("last day"))
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("substitute"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="substitutions",
        limit_choices_to={"is_staff": True},
        help_text=_("Leave empty to let the team's queue take the requests."),
    )
    handed_over_at = models.DateTimeField(_("open requests handed over"), null=True, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-starts", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gte=F("starts")),
                name="absence_ends_after_start",
                violation_error_message=_("The last day cannot be before the first day."),
            ),
            models.CheckConstraint(
                condition=~Q(substitute=F("user")),
                name="absence_substitute_is_someone_else",
                violation_error_message=_("Nobody can stand in for themselves."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts}–{self.ends}"

    @staticmethod
    def people_recorded_by(actor: User) -> "models.QuerySet[User]":
        """Whose absences this person records: an admin anyone's on the
        staff; a team lead their own and those of the members of the teams
        they lead; everyone else only their own (a colleague who calls in
        sick tells the team lead). Otherwise anyone could name themselves a
        colleague's substitute and take over that colleague's requests."""
        staff = User.objects.filter(is_staff=True)
        if actor.is_admin_role:
            return staff
        led = Team.members.through.objects.filter(team__lead=actor).values("user_id")
        return staff.filter(Q(pk=actor.pk) | Q(pk__in=led))

    def may_be_recorded_by(self, actor: User) -> bool:
        return self.people_recorded_by(actor).filter(pk=self.user_id).exists()

    def substitute_shares_a_team(self) -> bool:
        """Whether the substitute works in (or leads) one of the absent
        person's teams: only then do they see that person's requests and may
        be given them (as tickets.services.ticket_assign demands). No
        substitute: the teams' queues take the requests."""
        if self.substitute_id is None:
            return True
        theirs = Team.objects.with_member(self.substitute).values("pk")
        return Team.objects.with_member(self.user).filter(pk__in=theirs).exists()


class ClassifierModel(models.Model):
    """A trained request-type classifier (routing.classifier). Stored in the
    database so every web and worker process uses the same one."""

    created_at = models.DateTimeField(auto_now_add=True)
    samples = models.PositiveIntegerField()
    accuracy = models.FloatField(null=True, blank=True)
    blob = models.BinaryField()

    class Meta:
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} ({self.samples})"


class OnCallShift(TimeStampedModel):
    """Rufbereitschaft: who of a team is alerted about emergencies from
    `starts` to `ends` (nights, weekends, holidays)."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="on_call_shifts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("on call"),
        on_delete=models.CASCADE,
        related_name="on_call_shifts",
        limit_choices_to={"is_staff": True},
    )
    starts = models.DateTimeField(_("from"))
    ends = models.DateTimeField(_("until"))

    class Meta:
        verbose_name = _("on-call shift")
        verbose_name_plural = _("on-call rota")
        ordering = ["-starts", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=F("starts")),
                name="on_call_shift_ends_after_start",
                violation_error_message=_("A shift must end after it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.user} {self.starts:%Y-%m-%d %H:%M}"
