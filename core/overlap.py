"""The database's own refusal of two overlapping bookings of one thing
(an advisor's appointments, a room's bookings): an exclusion constraint
on PostgreSQL, triggers before INSERT and UPDATE on SQLite — so no form,
race, second process or admin edit can double-book. Migrations build
their statements here; the benchmarks reuse them to drop and remake the
triggers around bulk loads.

Half-open ranges [start, end): back-to-back bookings fit. Only rows
that `holding` takes count: an SQL condition with `{row}` before each
column (`"{row}status <> 'cancelled'"`). SQLite compares datetimes as it
stores them (UTC text of one format), which orders like time."""

from dataclasses import dataclass

from django.db import migrations


@dataclass(frozen=True)
class NoOverlap:
    postgresql: list[str]
    postgresql_back: list[str]
    sqlite: list[str]
    sqlite_back: list[str]

    def operation(self) -> migrations.RunPython:
        return migrations.RunPython(
            _run({"postgresql": self.postgresql, "sqlite": self.sqlite}),
            _run({"postgresql": self.postgresql_back, "sqlite": self.sqlite_back}),
        )


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


def no_overlap(*, table: str, name: str, key: str, start: str, end: str, holding: str,
               watched: str = "") -> NoOverlap:  # fmt: skip
    """The statements for `name`: rows of `table` with the same `key`
    whose [start, end) overlap, both held, are refused. `watched`: the
    columns whose UPDATE the SQLite trigger checks — key, start, end and
    those `holding` reads (default: the first three)."""
    # Names from the migrations' own constants, never from input.
    check = f"""SELECT RAISE(ABORT, '{name}') WHERE EXISTS (
    SELECT 1 FROM {table} other
    WHERE other.{key} = NEW.{key} AND {holding.format(row="other.")}
      AND other.{start} < NEW.{end} AND NEW.{start} < other.{end}
      {{self}})"""  # noqa: S608
    watched = watched or f"{key}, {start}, {end}"
    return NoOverlap(
        postgresql=[
            "CREATE EXTENSION IF NOT EXISTS btree_gist",
            f"""ALTER TABLE {table} ADD CONSTRAINT {name}
       EXCLUDE USING gist ({key} WITH =, tstzrange({start}, {end}, '[)') WITH &&)
       WHERE ({holding.format(row="")})""",
        ],
        postgresql_back=[f"ALTER TABLE {table} DROP CONSTRAINT {name}"],
        sqlite=[
            f"""CREATE TRIGGER {name}_insert
        BEFORE INSERT ON {table}
        WHEN {holding.format(row="NEW.")}
        BEGIN {check.format(self="")}; END""",
            f"""CREATE TRIGGER {name}_update
        BEFORE UPDATE OF {watched} ON {table}
        WHEN {holding.format(row="NEW.")}
        BEGIN {check.format(self="AND other.id <> NEW.id")}; END""",
        ],
        sqlite_back=[f"DROP TRIGGER {name}_insert", f"DROP TRIGGER {name}_update"],
    )
