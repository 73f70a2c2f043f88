"""Requests (Anliegen): the pre-made forms members fill in, the tickets they
create, and the immutable history of every ticket."""

import copy
import datetime
import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.roles import ADMIN
from core.dates import date_long
from core.models import TimeStampedModel
from core.request_cache import request_cached
from members.selectors import residences
from routing.models import Priority, Team
from tickets.iban import iban_grouped, iban_masked

REOPEN_DAYS = 14  # a member may reopen a resolved request for 14 days


def localized(values: dict, language: str | None = None) -> str:
    """Pick the text for the active language from {"de": …, "en": …}."""
    language = (language or get_language() or settings.LANGUAGE_CODE)[:2]
    return values.get(language) or values.get(settings.LANGUAGE_CODE) or ""


ROOMS = [
    ("kitchen", _("Kitchen")),
    ("bathroom", _("Bathroom")),
    ("toilet", _("Separate toilet")),
    ("living_room", _("Living room")),
    ("bedroom", _("Bedroom")),
    ("childrens_room", _("Children's room")),
    ("hallway", _("Hallway")),
    ("balcony", _("Balcony or loggia")),
    ("cellar", _("Cellar")),
    ("common_area", _("Staircase or common area")),
    ("other", _("Other")),
]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class Category(models.TextChoices):
    REPAIR = "repair", _("Repairs and damage")
    MEMBERSHIP = "membership", _("Membership and shares")
    APARTMENT = "apartment", _("Apartment and contract")
    PAYMENTS = "payments", _("Payments and statements")
    GENERAL = "general", _("General questions")
    # Feedback on the portal itself, e.g. an accessibility problem: not a
    # general question, so the e-mail intake never files mail under it.
    PORTAL = "portal", _("This portal and its accessibility")


class CertificateKind(models.TextChoices):
    """What the portal issues at once for a request type (the certificates
    app, above this one, makes the document and settles the request)."""

    MEMBERSHIP = "membership", _("membership certificate")
    # GenG § 31: a member may read and have a copy of their own entries in
    # the members' list (§ 30: name, address, joining, shares, leaving).
    REGISTER_EXTRACT = "register_extract", _("extract from the members' list")


class RequestType(TimeStampedModel):
    """Anliegenart: a pre-made form. Admins edit it; tickets keep a snapshot."""

    class Audience(models.TextChoices):
        MEMBERS = "members", _("all members")
        CONTRACT_HOLDERS = "contract", _("members with a current contract")
        # Also people without a login (the accessibility feedback): their
        # requests are routed by the rules like a member's, not held in
        # triage until staff know whose they are.
        EVERYONE = "everyone", _("everyone, also without a login")

    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    name_de = models.CharField(_("name (German)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    help_de = models.TextField(_("help text (German)"), blank=True)
    help_en = models.TextField(_("help text (English)"), blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    audience = models.CharField(
        _("who may use it"), max_length=10, choices=Audience.choices, default=Audience.MEMBERS
    )
    default_team = models.ForeignKey(
        "routing.Team",
        verbose_name=_("default team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Requests about the apartment (damage, keys, meter readings, parking …)
    # belong to the household; personal ones (bank details, certificates,
    # name change, termination) stay with the person who filed them.
    shared_with_household = models.BooleanField(
        _("about the apartment (the household sees it)"),
        default=True,
        help_text=_(
            "On: members on the same contract see requests of this type about their "
            "apartment. Off for personal requests such as bank details, certificates, "
            "a change of name or a termination."
        ),
    )
    synonyms = models.TextField(
        _("everyday words"),
        blank=True,
        help_text=_(
            "Words members might type to find this form, separated by commas or lines, "
            "e.g. “Heizung kalt, tropft, Schimmel”."
        ),
    )
    in_portal = models.BooleanField(
        _("offered in the portal"),
        default=True,
        help_text=_("Off: only staff can log requests of this type (e.g. from a phone call)."),
    )
    # Instead of filing a request, members book online (the value is the
    # kind the room booking pages show, rooms.forms.KIND_SLUGS): the form
    # list and the form's address lead there.
    books_online = models.CharField(
        _("booked online instead"),
        max_length=20,
        blank=True,
        choices=[
            ("gaestewohnung", _("guest apartments")),
            ("gemeinschaftsraum", _("common rooms")),
        ],
        help_text=_("Members are led to online booking instead of this form."),
    )
    # The portal answers the request itself the moment it is filed, from
    # the member records (certificates): the form's page is the
    # certificate's, which files and settles the request.
    certificate = models.CharField(
        _("issued at once"),
        max_length=20,
        blank=True,
        choices=CertificateKind.choices,
        help_text=_(
            "The portal produces this document from the member records as soon as the "
            "member sends the form, and closes the request. A choice field “delivery” with "
            "the option “post” keeps the request open for the office to post it."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("request type")
        verbose_name_plural = _("request types")
        ordering = ["category", "position", "name_de"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized({"de": self.name_de, "en": self.name_en})

    @property
    def help(self) -> str:
        return localized({"de": self.help_de, "en": self.help_en})

    def portal_url(self) -> str:
        """Where the member's form list leads: the form, online booking, or
        the form of a certificate issued at once."""
        if self.books_online:
            return f"{reverse('rooms:list')}?art={self.books_online}"
        if self.certificate:
            return reverse("certificates:request", args=[self.slug])
        return reverse("tickets:form", args=[self.slug])

    def snapshot(self) -> list[dict]:
        """The field definitions as plain data, stored on each ticket. Read
        once per request (the review checks the answers against them, then
        the ticket stores them); a copy each time, so no caller changes
        another's."""

        def read() -> list[dict]:
            return [field.as_definition() for field in self.fields.all()]

        if self.pk is None:
            return read()
        return copy.deepcopy(request_cached(("request_type_snapshot", self.pk), read))


class FieldKind(models.TextChoices):
    TEXT = "text", _("short text")
    TEXTAREA = "textarea", _("long text")
    CHOICE = "choice", _("choice")
    MULTICHOICE = "multichoice", _("multiple choice")
    DATE = "date", _("date")
    NUMBER = "number", _("number")
    YESNO = "yesno", _("yes/no")
    ROOM = "room", _("room of the apartment")
    IBAN = "iban", _("IBAN")
    FILE = "file", _("photos or files")
    # Fields that know the member's shares and the cooperative's statutes
    # (tickets.forms.ShareContext): the share price and the amount to pay,
    # at most the voluntary shares, the ends of business years a
    # cancellation may take effect at (GenG § 65, § 67b).
    SHARES_SUBSCRIBE = "shares_subscribe", _("number of shares to subscribe")
    SHARES_CANCEL = "shares_cancel", _("number of voluntary shares to cancel")
    YEAR_END = "year_end", _("end of a business year, with the notice period")


# The kinds whose field needs the member's shares or the statutes' dates.
SHARE_KINDS = (FieldKind.SHARES_SUBSCRIBE, FieldKind.SHARES_CANCEL, FieldKind.YEAR_END)


class RequestField(models.Model):
    request_type = models.ForeignKey(RequestType, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    key = models.SlugField(_("key"), max_length=40, help_text=_("Stable name in data exports."))
    kind = models.CharField(_("kind"), max_length=20, choices=FieldKind.choices)
    label_de = models.CharField(_("label (German)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    help_de = models.CharField(_("hint (German)"), max_length=300, blank=True)
    help_en = models.CharField(_("hint (English)"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=True)
    choices = models.TextField(
        _("choices"),
        blank=True,
        help_text=_(
            'One per line: value|German|English, e.g. "kitchen|Küche|Kitchen". '
            "An optional fourth part sets the request's priority when the option is "
            'chosen: low, normal, high, urgent or emergency, e.g. "burst|Rohrbruch|Burst '
            'pipe|emergency".'
        ),
    )
    no_past_dates = models.BooleanField(
        _("no dates in the past"),
        default=False,
        help_text=_("For date fields: the date must be today or later (e.g. “valid from”)."),
    )
    min_value = models.DecimalField(
        _("minimum"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("maximum"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["request_type", "key"], name="request_field_unique_key")
        ]

    def __str__(self) -> str:
        return self.label_de

    def choice_list(self) -> list[dict]:
        result = []
        for line in self.choices.splitlines():
            if not line.strip():
                continue
            value, de, en, priority = ([*line.split("|", 3), "", "", ""])[:4]
            option = {
                "value": value.strip(),
                "de": de.strip() or value.strip(),
                "en": en.strip() or de.strip() or value.strip(),
            }
            if priority.strip():
                option["priority"] = priority.strip()
            result.append(option)
        return result

    def as_definition(self) -> dict:
        return {
            "key": self.key,
            "kind": self.kind,
            "label": {"de": self.label_de, "en": self.label_en},
            "help": {"de": self.help_de, "en": self.help_en},
            "required": self.required,
            "choices": self.choice_list(),
            "min": str(self.min_value) if self.min_value is not None else None,
            "max": str(self.max_value) if self.max_value is not None else None,
            "no_past": self.no_past_dates,
        }


class Status(models.TextChoices):
    RECEIVED = "received", _("received")
    IN_PROGRESS = "in_progress", _("in progress")
    WAITING = "waiting", _("question to you")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    WITHDRAWN = "withdrawn", _("withdrawn")


# The office is done with a request: it no longer counts as open work, can
# no longer be overdue, and the member may rate it. "Resolved" still lets
# the member reopen it for a while (Ticket.can_be_reopened). A request the
# member withdrew is finished too, but there is nothing to rate.
FINISHED = (Status.RESOLVED, Status.CLOSED, Status.WITHDRAWN)
# Every other status: what open_condition() asks for by name. A list to
# look up, not "not finished": both databases seek a few values in an
# index; a NOT IN reads past every finished request.
OPEN = tuple(status for status in Status if status not in FINISHED)


def open_condition() -> Q:
    """Not finished, as a Q to combine with others in one query;
    Ticket.objects.open() and Ticket.is_finished() say the same."""
    return Q(status__in=OPEN)


def overdue_condition(now: datetime.datetime) -> Q:
    """Open, and past its resolution deadline or still without a first
    response past that deadline. As a Q so the inbox counts it in the one
    query that counts every tab; Ticket.is_overdue is the same rule for a
    loaded row."""
    return open_condition() & late_condition(now)


def late_condition(now: datetime.datetime) -> Q:
    """The deadline part of overdue_condition, for queries that already
    keep to open requests."""
    return Q(due_at__lt=now) | Q(first_response_at__isnull=True, first_response_due_at__lt=now)


class Channel(models.TextChoices):
    PORTAL = "portal", _("member portal")
    # "e-mail" alone is also the label of address fields ("E-Mail-Adresse");
    # the channel is the medium ("E-Mail"), so it has a context of its own.
    EMAIL = "email", pgettext_lazy("channel", "e-mail")
    PHONE = "phone", _("phone")
    COUNTER = "counter", _("at the office")
    LETTER = "letter", _("letter")
    API = "api", _("interface")


def household_places(member) -> list[tuple[int, datetime.datetime]]:
    """The flats whose household requests `member` sees — those of the
    contracts the member holds today — each with the moment from which on:
    local midnight of the contract's start, or of the day the member joined
    a running contract (a request filed at 00:30 on moving day is the new
    tenant's). Read once per request (core.request_cache): the badge, the
    list and the request page all filter by the same few rows."""
    return request_cached(("household_places", member.pk), lambda: _household_places(member))


def _household_places(member) -> list[tuple[int, datetime.datetime]]:
    first: dict[int, datetime.date] = {}
    for residence in residences(member):
        unit_id = residence.contract.unit_id
        first[unit_id] = min(first.get(unit_id, residence.since), residence.since)
    return [
        (unit_id, timezone.make_aware(datetime.datetime.combine(since, datetime.time.min)))
        for unit_id, since in sorted(first.items())
    ]


def unread_condition(user) -> Q:
    """News for the member account `user`: the office did something the
    member can see after the account last looked (TicketVisit). A Q over a
    ticket row, for a count (the badge) or a column (is_new) alike."""
    seen = TicketVisit.objects.filter(
        user=user, ticket=models.OuterRef("pk"), seen_at__gte=models.OuterRef("office_activity_at")
    )
    return Q(office_activity_at__isnull=False) & ~Q(models.Exists(seen))


class TicketQuerySet(models.QuerySet):
    def visible_to_member(self, member) -> "TicketQuerySet":
        """A member's own tickets, and the household's tickets about the flat
        (or personal ones the filer shared) filed under a contract the member
        holds now, from the day the member is on it: the contract's start,
        or the day a partner was added to a running contract. A new tenant
        or a new partner starts with a clean slate; nothing personal of the
        partner's unless shared.

        The flats and their first days are read first (household_places, a
        few rows, once per request) and go into the query as values: an OR
        of plain conditions, which both databases answer from the member
        and the unit index (PostgreSQL: a BitmapOr; SQLite: its OR
        optimisation). A correlated subquery in the OR made PostgreSQL read
        every ticket, and the UNION that replaced it made SQLite do so."""
        visible = Q(member=member)
        for unit_id, since in household_places(member):
            visible |= Q(unit_id=unit_id, shared_with_household=True, created_at__gte=since)
        return self.filter(visible)

    def visible_to_staff(self, user) -> "TicketQuerySet":
        """Handlers see their teams' tickets, those assigned to them and the
        triage queue (no team yet); admins see everything."""
        if not user.is_staff:
            return self.none()
        if user.is_superuser:
            return self
        # Subqueries, not joins: no duplicate rows, and the admin check costs
        # no extra query. None of them refers to the ticket row, so each is
        # answered once per query, not once per ticket, and the conditions
        # on the ticket's own columns stay open to its indexes.
        is_admin = models.Exists(Group.objects.filter(name=ADMIN, user=user))
        my_teams = Team.objects.with_member(user).values("pk")
        return self.filter(
            is_admin | Q(team__in=my_teams) | Q(assignee=user) | Q(team__isnull=True)
        )

    def unread_for(self, user) -> "TicketQuerySet":
        """Tickets where the office did something the member has not seen yet."""
        return self.visible_to_member(user.member).filter(unread_condition(user))

    def open(self) -> "TicketQuerySet":
        return self.filter(open_condition())

    def finished(self) -> "TicketQuerySet":
        return self.filter(status__in=FINISHED)

    def overdue(self, now: datetime.datetime) -> "TicketQuerySet":
        return self.filter(overdue_condition(now))


def protect_open_tickets(collector, field, sub_objs, using):
    """on_delete for a ticket's team: refused while the team has open
    tickets (they must be moved first); closed ones just lose the team (the
    history still names it)."""
    still_open = [t for t in sub_objs if not t.is_finished()]
    if still_open:
        raise models.ProtectedError(
            "The team still has open requests; move them to another team first.", still_open
        )
    models.SET_NULL(collector, field, sub_objs, using)


class Ticket(TimeStampedModel):
    reference = models.CharField(_("reference"), max_length=16, unique=True, editable=False)
    request_type = models.ForeignKey(
        RequestType,
        verbose_name=_("request type"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    fields_snapshot = models.JSONField(_("form as filed"), default=list, editable=False)
    answers = models.JSONField(_("answers"), default=dict)
    # Empty for a caller or writer who is not a member (triage finds out
    # who it is); the contact fields then say how to reach them.
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    # Who called, wrote or came in, when it was not the member themselves
    # (a partner, a relative, a neighbour, someone who is not a member).
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=50, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    unit = models.ForeignKey(
        "cooperative.Unit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    shared_with_household = models.BooleanField(
        _("visible to the household"),
        default=True,
        help_text=_("Household members on the same contract see requests about their apartment."),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    team = models.ForeignKey(
        "routing.Team",
        verbose_name=_("team"),
        on_delete=protect_open_tickets,
        null=True,
        blank=True,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Optimistic locking: every change bumps it; a form sent with an older
    # version is refused instead of overwriting a colleague's work.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # Set by the SLA policy (routing); the inbox sorts and flags by it.
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    # Routing (decided by routing, applied by tickets.route): why the ticket
    # went where it went, as data so staff read it in their language;
    # priority and SLA from the rule.
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    routing_reason = models.JSONField(_("routing reason"), default=dict, blank=True)
    suggested_type = models.ForeignKey(
        RequestType,
        verbose_name=_("suggested request type"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sla_policy = models.ForeignKey(
        "routing.SlaPolicy",
        verbose_name=_("SLA policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    # When the handler is warned (warn_percent of the working time used).
    first_response_warn_at = models.DateTimeField(
        _("first response: warning due"), null=True, blank=True, editable=False
    )
    warn_at = models.DateTimeField(
        _("resolution: warning due"), null=True, blank=True, editable=False
    )
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    # While the office waits for the member the SLA clock stands still; the
    # due times move on by the working time that passed (routing.sla).
    sla_paused_at = models.DateTimeField(
        _("deadlines paused since"), null=True, blank=True, editable=False
    )
    # Escalation steps done, so running the escalation twice changes nothing.
    first_response_warned_at = models.DateTimeField(
        _("first response: warned at"), null=True, blank=True, editable=False
    )
    first_response_breached_at = models.DateTimeField(
        _("first response: overdue since"), null=True, blank=True, editable=False
    )
    warned_at = models.DateTimeField(
        _("resolution: warned at"), null=True, blank=True, editable=False
    )
    breached_at = models.DateTimeField(
        _("resolution: overdue since"), null=True, blank=True, editable=False
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
    )
    related = models.ManyToManyField("self", verbose_name=_("related requests"), blank=True)
    # When the office last did something the member can see (reply, question,
    # status): the portal badge counts tickets changed since the member's visit.
    office_activity_at = models.DateTimeField(
        _("last activity of the office"), null=True, blank=True, editable=False
    )
    # When the member last did something the office has to look at (filed,
    # replied, reopened): the inbox marks tickets with news since the
    # handler's last visit (TicketVisit) and sorts by the latest activity.
    member_activity_at = models.DateTimeField(
        _("last activity of the member"), null=True, blank=True, editable=False
    )
    # When the on-call person was alerted about this emergency: set in the
    # same transaction as the alert is queued, so it goes out exactly once.
    on_call_alerted_at = models.DateTimeField(
        _("on-call service alerted at"), null=True, blank=True, editable=False
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    rating_comment = models.TextField(_("comment on the rating"), blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["assignee", "status"]),
            # Open requests are a few percent of all and what the inbox
            # counts and lists; status first, so a lookup of the open
            # statuses (open_condition) skips years of finished requests.
            # A handler's open work, by deadline:
            models.Index(fields=["status", "assignee", "due_at"], name="ticket_status_assignee"),
            # Every column the inbox counts and the overview's backlog
            # (insights.selectors.backlog: age by created_at, COUNT(id)) read:
            # they are answered from the index alone. Without created_at and
            # id PostgreSQL read 44,000 table pages for the 70,000 open of
            # 1,000,000 requests, 250 ms a backlog table (bench/insights.py).
            models.Index(
                fields=[
                    "status",
                    "team",
                    "assignee",
                    "due_at",
                    "first_response_due_at",
                    "first_response_at",
                    "created_at",
                    "id",
                ],
                name="ticket_status_team",
            ),
            models.Index(fields=["status", "due_at"], name="ticket_status_due"),
            # The overview's backlog per team (insights.selectors.backlog):
            # SQLite's planner, without histograms, takes the open statuses
            # for half of all requests and walked the team index reading
            # every request (100k: 230 ms); with the status beside the team
            # it reads only the open ones (bench/insights.py), as
            # (assignee, status) does for the backlog per handler.
            models.Index(fields=["team", "status"], name="ticket_team_status"),
            # The inbox filtered by status and type (the most frequent
            # filter pair): SQLite's planner, without histograms, took the
            # type's index alone (40 % of all requests) over the status.
            models.Index(fields=["status", "request_type"], name="ticket_status_type"),
            # "Newest first" and the "received" filter over all requests:
            # walked from the newest end until a page is full, instead of
            # sorting years of requests (SQLite 125 ms -> see the note).
            models.Index(fields=["-created_at"], name="ticket_created"),
            # The overview's figures of the requests received in a period
            # (insights.selectors: incoming_by, incoming_per_day, rising,
            # heat) grouped by type, channel, team or estate (through the
            # unit), answered from the index alone: at 1,000,000 requests a
            # year's 134,000 otherwise read 37,000 table pages a query
            # (PostgreSQL 130-300 ms -> 30-75 ms; bench/insights.py).
            models.Index(
                fields=["created_at", "request_type", "channel", "team", "unit", "id"],
                name="ticket_received",
            ),
            # The few requests that name who got in touch, for the search
            # (tickets.search.HAS_CONTACT_NAME says the same condition).
            models.Index(
                fields=["contact_name"], condition=~Q(contact_name=""), name="ticket_contact_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.request_type.name}"

    def can_be_reopened(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.status == Status.RESOLVED
            and self.resolved_at is not None
            and now - self.resolved_at <= datetime.timedelta(days=REOPEN_DAYS)
        )

    def can_be_rated(self) -> bool:
        return self.is_finished() and self.status != Status.WITHDRAWN and self.rating is None

    def is_finished(self) -> bool:
        return self.status in FINISHED

    # The overdue rule for one loaded row; overdue_condition() is the same
    # rule as a query. A ticket the office is done with is never overdue.
    def is_first_response_overdue(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            not self.is_finished()
            and self.first_response_at is None
            and self.first_response_due_at is not None
            and self.first_response_due_at < now
        )

    def is_resolution_overdue(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return not self.is_finished() and self.due_at is not None and self.due_at < now

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.is_resolution_overdue(now) or self.is_first_response_overdue(now)

    def answers_text(self) -> str:
        """The string answers (lists included) as one text, for routing
        keywords and the classifier; a request is routed before its first
        event exists."""
        parts = []
        for value in (self.answers or {}).values():
            values = value if isinstance(value, list) else [value]
            parts.extend(v.strip() for v in values if isinstance(v, str) and v.strip())
        return " ".join(parts)

    def answer_rows(self, *, full_iban: bool = False) -> list[tuple[str, str]]:
        """(label, text) of each answer, in the words of the form as filed.
        IBANs are masked unless `full_iban`: only the member who entered it
        (Ticket.is_filed_by) and staff who gave a reason read it in full."""
        fixed = {FieldKind.ROOM: dict(ROOMS), FieldKind.YESNO: dict(YES_NO)}
        rows = []
        for definition in self.fields_snapshot:
            value = self.answers.get(definition["key"])
            if value in (None, "", []):
                continue
            labels = fixed.get(definition["kind"]) or {
                c["value"]: localized(c) for c in definition.get("choices", [])
            }
            values = value if isinstance(value, list) else [value]
            if definition["kind"] in (FieldKind.DATE, FieldKind.YEAR_END):
                values = [date_long(datetime.date.fromisoformat(v)) for v in values]
            if definition["kind"] == FieldKind.IBAN:
                values = [iban_grouped(v) if full_iban else iban_masked(v) for v in values]
            text = ", ".join(str(labels.get(v, v)) for v in values)
            rows.append((localized(definition["label"]), text))
        return rows

    def has_iban(self) -> bool:
        """An IBAN among the answers (staff then see a "show IBAN" button)."""
        return any(
            d["kind"] == FieldKind.IBAN and self.answers.get(d["key"]) for d in self.fields_snapshot
        )

    def is_filed_by(self, user) -> bool:
        """The member account of the person the request is from: the one who
        reads their IBAN in full and may share a personal request."""
        member_id = getattr(user, "member_id", None)
        return member_id is not None and member_id == self.member_id


class TicketEvent(models.Model):
    """One immutable line of a ticket's history. Never updated or deleted."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("request received")
        REPLY = "reply", _("reply")
        MEMBER_REPLY = "member_reply", _("message from the member")
        NOTE = "note", _("internal note")
        STATUS = "status", _("status changed")
        ASSIGNED = "assigned", _("responsibility changed")
        MERGED = "merged", _("merged")
        LINKED = "linked", _("linked")
        ESCALATED = "escalated", _("deadline warning")
        SHARED = "shared", _("shared with the household")
        MEMBER = "member", _("assigned to a member")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    public = models.BooleanField(_("visible to the member"))
    # Empty for what the system did by itself (deadline warnings).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    # The e-mail it came in by (the original stays there for staff).
    email = models.ForeignKey(
        "mail.InboundEmail",
        verbose_name=_("e-mail"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class ReferenceCounter(models.Model):
    """The last reference number handed out per year.

    A row lock serialises concurrent ticket creation; a rolled-back
    transaction gives its number back, a crash after commit may leave a gap,
    which is fine (gap-tolerant, never duplicated)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class TicketDraft(TimeStampedModel):
    """A request being filled in: saved on every step, so that what a member
    typed or uploaded survives errors, a closed tab or an expired login."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    request_type = models.ForeignKey(RequestType, on_delete=models.CASCADE, related_name="+")
    answers = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "request_type"], name="draft_one_per_type")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.request_type_id}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Random names: the original name is kept in the row, never in the path.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"tickets/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{suffix}"


class Attachment(models.Model):
    """A file a member or handler attached. Served only through a checked view."""

    # A file belongs to a draft while the member is still filling in the
    # form (so nothing uploaded is lost when the form has errors), then to
    # the ticket.
    draft = models.ForeignKey(
        "TicketDraft", on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    event = models.ForeignKey(
        TicketEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(draft__isnull=False) | Q(ticket__isnull=False),
                name="attachment_has_owner",
            )
        ]

    def __str__(self) -> str:
        return self.original_name


class TicketVisit(models.Model):
    """When a member account last looked at a ticket (for the unread badge)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="visits")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "ticket"], name="ticket_visit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.ticket_id}"


class CannedResponse(TimeStampedModel):
    """Textbaustein: a prepared reply with placeholders, in both languages."""

    PLACEHOLDERS = {
        "anrede": _("salutation and name, e.g. “Frau Ahrens”"),
        "vorname": _("first name"),
        "nachname": _("last name"),
        "vorgang": _("reference, e.g. A-2026-000123"),
        "bearbeiter": _("your name"),
    }

    title = models.CharField(_("title"), max_length=120)
    body_de = models.TextField(_("text (German)"))
    body_en = models.TextField(_("text (English)"), blank=True)
    team = models.ForeignKey(
        "routing.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("Empty: offered to everyone."),
    )

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def render(self, *, ticket: "Ticket", handler, language: str) -> str:
        """The text for this ticket in the member's language; unknown
        placeholders stay visible so the handler notices them."""
        member = ticket.member
        # Someone who is not a member: the name they gave, as it was typed.
        values = {
            "anrede": member.formal_name if member else ticket.contact_name,
            "vorname": member.first_name if member else "",
            "nachname": member.last_name if member else ticket.contact_name,
            "vorgang": ticket.reference,
            "bearbeiter": handler.get_full_name(),
        }
        text = self.body_en if language == "en" and self.body_en else self.body_de
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text
