"""What the API reads and answers, as typed schemas (they make the OpenAPI
document), and the plain functions that turn the use cases' objects into
them. Times go out as ISO 8601 in the cooperative's zone, with its offset
(`2027-03-02T08:30:00+01:00`): what the member sees on the pages."""

import datetime
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator

from appointments.models import Advisor, Appointment, AppointmentType
from appointments.services import NOTE_MAX
from appointments.slots import Slot

ANY = "any"


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store or compare text with a NUL (a 500); the pages
    # refuse it in core.middleware, which never sees a JSON body.
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


# Answers ----------------------------------------------------------------------------------


class Error(Schema):
    detail: str = Field(description="What went wrong, in the member's language.")


class Invalid(Error):
    errors: list[dict[str, Any]] = Field(
        default_factory=list, description="The fields that did not validate (input checks only)."
    )


class AdvisorOut(Schema):
    id: int
    name: str


class TopicOut(Schema):
    slug: str
    name: str
    description: str
    duration_minutes: int
    where: str = Field(description="office, phone, video or home")
    where_label: str


class TopicRef(Schema):
    slug: str
    name: str


class SlotOut(Schema):
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    advisor: AdvisorOut


class SlotsOut(Schema):
    topic: str
    first_day: datetime.date
    last_day: datetime.date
    advisors: list[AdvisorOut] = Field(description="Everyone who offers the topic.")
    slots: list[SlotOut] = Field(
        description='Free times, one per advisor: with advisor "any" a time may appear once '
        "for each advisor who is free then."
    )


class Taken(Error):
    nearest: list[SlotOut] = Field(description="The nearest free times around the one asked for.")


class AppointmentOut(Schema):
    id: uuid.UUID
    status: str = Field(description="booked, cancelled, attended or no_show")
    status_label: str
    topic: TopicRef
    advisor: AdvisorOut
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    where: str
    where_label: str
    location: str
    note: str
    request: str | None = Field(description="The reference of the request it is about, if any.")
    may_change: bool = Field(description="Whether the member may still cancel it online.")
    changeable_until: datetime.datetime


# Requests ---------------------------------------------------------------------------------


class BookIn(Schema):
    topic: Text = Field(max_length=60, description="The topic's slug.")
    advisor: int | Literal["any"] = Field(
        ANY, description='An advisor\'s id, or "any": whoever is free, in fair turns.'
    )
    starts_at: datetime.datetime = Field(description="One of the free times, with its offset.")
    note: Text = Field("", max_length=NOTE_MAX)
    request_key: Text = Field(
        min_length=8,
        max_length=64,
        description="A random key the client makes once per booking: sent again (a retry, "
        "a double tap) it returns the same booking instead of a second one.",
    )


# From the use cases' objects ----------------------------------------------------------------


def _local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment)


def advisor_out(advisor: Advisor) -> dict:
    return {"id": advisor.pk, "name": str(advisor)}


def topic_out(topic: AppointmentType) -> dict:
    return {
        "slug": topic.slug,
        "name": topic.name,
        "description": topic.description,
        "duration_minutes": topic.duration_minutes,
        "where": topic.location_kind,
        "where_label": topic.get_location_kind_display(),
    }


def slot_out(slot: Slot, advisors: Mapping[int, Advisor]) -> dict:
    return {
        "starts_at": _local(slot.starts),
        "ends_at": _local(slot.ends),
        "advisor": advisor_out(advisors[slot.advisor_id]),
    }


def appointment_out(appointment: Appointment) -> dict:
    topic = appointment.appointment_type
    return {
        "id": appointment.public_id,
        "status": appointment.status,
        "status_label": appointment.get_status_display(),
        "topic": {"slug": topic.slug, "name": topic.name},
        "advisor": advisor_out(appointment.advisor),
        "starts_at": _local(appointment.starts_at),
        "ends_at": _local(appointment.ends_at),
        "where": appointment.location_kind,
        "where_label": appointment.get_location_kind_display(),
        "location": appointment.location,
        "note": appointment.note,
        "request": appointment.ticket.reference if appointment.ticket_id else None,
        "may_change": appointment.member_may_change(),
        "changeable_until": _local(appointment.changeable_until()),
    }
