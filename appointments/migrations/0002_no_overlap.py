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

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE appointments_appointment ADD CONSTRAINT appointment_no_overlap
       EXCLUDE USING gist (advisor_id WITH =, tstzrange(busy_from, busy_until, '[)') WITH &&)
       WHERE (status <> 'cancelled')""",
]
POSTGRESQL_BACK = [
    "ALTER TABLE appointments_appointment DROP CONSTRAINT appointment_no_overlap",
]

_OVERLAP = """SELECT RAISE(ABORT, 'appointment_no_overlap') WHERE EXISTS (
    SELECT 1 FROM appointments_appointment other
    WHERE other.advisor_id = NEW.advisor_id AND other.status <> 'cancelled'
      AND other.busy_from < NEW.busy_until AND NEW.busy_from < other.busy_until
      {self})"""
SQLITE = [
    f"""CREATE TRIGGER appointment_no_overlap_insert
        BEFORE INSERT ON appointments_appointment
        WHEN NEW.status <> 'cancelled'
        BEGIN {_OVERLAP.format(self="")}; END""",
    f"""CREATE TRIGGER appointment_no_overlap_update
        BEFORE UPDATE OF advisor_id, busy_from, busy_until, status ON appointments_appointment
        WHEN NEW.status <> 'cancelled'
        BEGIN {_OVERLAP.format(self="AND other.id <> NEW.id")}; END""",
]
SQLITE_BACK = [
    "DROP TRIGGER appointment_no_overlap_insert",
    "DROP TRIGGER appointment_no_overlap_update",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_BACK, "sqlite": SQLITE_BACK}),
        ),
    ]
