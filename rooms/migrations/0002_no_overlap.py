"""The database refuses two active bookings of one room whose busy times
(the stay or the hours, and the cleaning after) overlap — the advisors'
guarantee (appointments/0002) for guest apartments and common rooms.

PostgreSQL: an exclusion constraint over the room and the half-open range
[starts_at, busy_until) of every booking that holds the room (confirmed,
or awaiting staff confirmation); a departure at 10:00 and the next arrival
at 15:00 fit. SQLite: triggers before INSERT and UPDATE refuse the same
overlap. A violation is an IntegrityError that rooms.services turns into
"this time is already booked"."""

from django.db import migrations

from core.overlap import no_overlap

NO_OVERLAP = no_overlap(
    table="rooms_roombooking",
    name="room_booking_no_overlap",
    key="room_id",
    start="starts_at",
    end="busy_until",
    holding="{row}status IN ('requested', 'confirmed')",
    watched="room_id, starts_at, busy_until, status",
)
POSTGRESQL, POSTGRESQL_BACK = NO_OVERLAP.postgresql, NO_OVERLAP.postgresql_back
SQLITE, SQLITE_BACK = NO_OVERLAP.sqlite, NO_OVERLAP.sqlite_back


class Migration(migrations.Migration):
    dependencies = [("rooms", "0001_initial")]

    operations = [NO_OVERLAP.operation()]
