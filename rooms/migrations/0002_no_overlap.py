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

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE rooms_roombooking ADD CONSTRAINT room_booking_no_overlap
       EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, busy_until, '[)') WITH &&)
       WHERE (status IN ('requested', 'confirmed'))""",
]
POSTGRESQL_BACK = [
    "ALTER TABLE rooms_roombooking DROP CONSTRAINT room_booking_no_overlap",
]

_OVERLAP = """SELECT RAISE(ABORT, 'room_booking_no_overlap') WHERE EXISTS (
    SELECT 1 FROM rooms_roombooking other
    WHERE other.room_id = NEW.room_id AND other.status IN ('requested', 'confirmed')
      AND other.starts_at < NEW.busy_until AND NEW.starts_at < other.busy_until
      {self})"""
SQLITE = [
    f"""CREATE TRIGGER room_booking_no_overlap_insert
        BEFORE INSERT ON rooms_roombooking
        WHEN NEW.status IN ('requested', 'confirmed')
        BEGIN {_OVERLAP.format(self="")}; END""",
    f"""CREATE TRIGGER room_booking_no_overlap_update
        BEFORE UPDATE OF room_id, starts_at, busy_until, status ON rooms_roombooking
        WHEN NEW.status IN ('requested', 'confirmed')
        BEGIN {_OVERLAP.format(self="AND other.id <> NEW.id")}; END""",
]
SQLITE_BACK = [
    "DROP TRIGGER room_booking_no_overlap_insert",
    "DROP TRIGGER room_booking_no_overlap_update",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("rooms", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_BACK, "sqlite": SQLITE_BACK}),
        ),
    ]
