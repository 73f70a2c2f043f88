"""Rows written straight to a table, for data made in bulk: the demo's
request history (demo.history) and the benchmark's millions (bench/seed.py).
Model.save() and bulk_create() would stamp created_at/updated_at with the
moment of seeding (auto_now); history needs the moments it happened."""

import datetime
import json
import operator

from django.core.management.color import no_style
from django.db import connection, models


class Json(str):
    """JSON text already serialised (a form snapshot, shared by many rows)."""


class Table:
    """Rows of one model written straight to the database: executemany on
    SQLite, COPY on PostgreSQL. Rows are dicts by attribute name (…_id for
    foreign keys); a missing one gets the field's default. Values are
    adapted as Django would store them (datetimes in UTC, JSON as text)."""

    def __init__(self, model, *, explicit_pk: bool = False):
        self.model, self.connection = model, connection
        self.sqlite = connection.vendor == "sqlite"
        fields = [f for f in model._meta.concrete_fields if explicit_pk or not f.primary_key]
        self.columns = [f.column for f in fields]
        names = [f.attname for f in fields]
        self.defaults = {f.attname: None if f.primary_key else f.get_default() for f in fields}
        self.values = operator.itemgetter(*names)
        self.adapt = []
        for index, f in enumerate(fields):
            if isinstance(f, models.JSONField):
                self.adapt.append((index, _json_text))
            elif isinstance(f, models.DateTimeField) and self.sqlite:
                self.adapt.append((index, _sqlite_datetime))
            elif isinstance(f, models.UUIDField) and self.sqlite:
                self.adapt.append((index, _sqlite_uuid))
        self.rows: list[dict] = []
        self.written = 0

    def flush(self) -> None:
        if not self.rows:
            return
        defaults, values, adapt = self.defaults, self.values, self.adapt
        rows = []
        for row in self.rows:
            value = list(values({**defaults, **row}))
            for index, function in adapt:
                value[index] = function(value[index])
            rows.append(value)
        table = self.connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(self.connection.ops.quote_name(c) for c in self.columns)
        self.connection.ensure_connection()
        raw = self.connection.connection
        if self.sqlite:
            marks = ", ".join("?" * len(self.columns))
            # Table and column names from the model, every value a parameter.
            insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
            raw.executemany(insert, rows)
        else:
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        self.written += len(self.rows)
        self.rows = []

    def sequence_reset(self) -> None:
        """After explicit ids: the next id the database hands out follows them."""
        statements = self.connection.ops.sequence_reset_sql(no_style(), [self.model])
        with self.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _json_text(value):
    if value is None or isinstance(value, Json):
        return value
    return json.dumps(value)


def _sqlite_datetime(value):
    # As Django's SQLite backend stores them: naive UTC, ISO with a space.
    if value is None:
        return None
    return str(value.astimezone(datetime.UTC).replace(tzinfo=None))


def _sqlite_uuid(value):
    # As Django's SQLite backend stores them: 32 hex digits.
    return None if value is None else value.hex
