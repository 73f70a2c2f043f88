"""Incidents (Störungen): many requests with one cause, e.g. the heating
of one building failed. The detector proposes one (status "proposed") to
the team lead of the requests' team, who accepts it (open) or dismisses
it; open incidents are resolved (which resolves their open requests).
IncidentTicket links requests to an incident: a request belongs to one
incident at most, ever, so a cluster once proposed — accepted or
dismissed — is never proposed again (the unique ticket is the claim)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class IncidentStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    OPEN = "open", _("being worked on")
    RESOLVED = "resolved", _("resolved")
    DISMISSED = "dismissed", _("dismissed")


# The detector still adds matching new requests to these.
ACTIVE = (IncidentStatus.PROPOSED, IncidentStatus.OPEN)


class Incident(TimeStampedModel):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    public_text = models.TextField(
        _("text for members"),
        blank=True,
        help_text=_("Shown on the linked requests' pages and in the e-mail when it is resolved."),
    )
    estate = models.ForeignKey(
        "cooperative.Estate",
        verbose_name=_("estate"),
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    buildings = models.ManyToManyField(
        "cooperative.Building", verbose_name=_("buildings"), related_name="incidents"
    )
    request_type = models.ForeignKey(
        "tickets.RequestType",
        verbose_name=_("request type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "routing.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=IncidentStatus.choices, db_index=True
    )
    # Proposed by the detector (no one), or created by hand (the person).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dismissed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    notice = models.ForeignKey(
        "notices.Notice",
        verbose_name=_("notice"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"], name="incident_status_created")]

    def __str__(self) -> str:
        return self.title

    def is_proposed(self) -> bool:
        return self.status == IncidentStatus.PROPOSED

    def is_open(self) -> bool:
        return self.status == IncidentStatus.OPEN


class IncidentTicket(models.Model):
    """A request of an incident: proposed with it, added later by the
    detector, or by hand."""

    class How(models.TextChoices):
        DETECTED = "detected", _("found by the detector")
        MATCHED = "matched", _("added as a matching new report")
        BY_HAND = "by_hand", _("added by hand")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="incident_link"
    )
    how = models.CharField(_("how"), max_length=10, choices=How.choices)
    linked_at = models.DateTimeField(_("linked at"))

    class Meta:
        verbose_name = _("request of an incident")
        verbose_name_plural = _("requests of an incident")
        ordering = ["linked_at", "pk"]
        indexes = [models.Index(fields=["incident", "linked_at"], name="incident_link_order")]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.ticket_id}"
