"""Closed requests keep the moment the office finished them.

Until now every status but "resolved" cleared `resolved_at`, so a request
resolved and later closed, or closed at once (solved on the phone), had
none: the overview left it out of resolution times and the finished count.
This fills it for closed requests that were not merged into another (a
duplicate is not a resolution): the first change to "resolved" or "closed"
after the last change back to an open status (a reopening), from the
request's own history; one UPDATE."""

from django.db import migrations
from django.db.models import DateTimeField, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

OPEN = ["received", "in_progress", "waiting"]
DONE = ["resolved", "closed"]
DAWN = "1970-01-01T00:00:00+00:00"


def forwards(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    status = TicketEvent.objects.filter(kind="status")
    reopened_last = Coalesce(
        Subquery(
            status.filter(ticket_id=OuterRef("ticket_id"), data__to__in=OPEN)
            .order_by("-created_at")
            .values("created_at")[:1]
        ),
        Value(DAWN, output_field=DateTimeField()),
    )
    finished_first = (
        status.filter(ticket_id=OuterRef("pk"), data__to__in=DONE)
        .annotate(reopened=reopened_last)
        .filter(created_at__gt=F("reopened"))
        .order_by("created_at")
        .values("created_at")[:1]
    )
    Ticket.objects.filter(
        status="closed", resolved_at__isnull=True, merged_into__isnull=True
    ).update(resolved_at=Coalesce(Subquery(finished_first), "closed_at", "updated_at"))


class Migration(migrations.Migration):
    dependencies = [("tickets", "0021_request_type_certificate")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
