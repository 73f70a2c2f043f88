"""The database refuses two active bookings of one advisor whose buffered
times overlap — not only the form, so no race, second process or admin
edit can double-book (issue 13).

PostgreSQL: an exclusion constraint over the advisor and the half-open
range [busy_from, busy_until) of every booking not cancelled (btree_gist
for the equality on the advisor in the same GiST index); back-to-back
bookings fit because "[)" ranges that only touch do not overlap.
SQLite has no exclusion constraints: triggers before INSERT and UPDATE
refuse the same overlap (writers are serialised there anyway: IMMEDIATE
transactions, see config/settings.py). Either way a violation is an
IntegrityError that appointments.services turns into "this time was just
taken". Datetimes are compared as SQLite stores them (UTC text of one
format), which orders like time."""

from django.db import migrations

from core.overlap import no_overlap

NO_OVERLAP = no_overlap(
    table="appointments_appointment",
    name="appointment_no_overlap",
    key="advisor_id",
    start="busy_from",
    end="busy_until",
    holding="{row}status <> 'cancelled'",
    watched="advisor_id, busy_from, busy_until, status",
)
# By these names for bench/appointments_db.py (it remakes the triggers).
POSTGRESQL, POSTGRESQL_BACK = NO_OVERLAP.postgresql, NO_OVERLAP.postgresql_back
SQLITE, SQLITE_BACK = NO_OVERLAP.sqlite, NO_OVERLAP.sqlite_back


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [NO_OVERLAP.operation()]
