"""Statistics in SQL on both databases: percentiles and durations.

PostgreSQL has `percentile_cont(f) WITHIN GROUP (ORDER BY x)`; SQLite has
none, so it gets the same function as an aggregate of its own
(`gp_percentile(x, f)`, registered on every connection by core.apps) —
computed inside the database while it scans the rows, never by loading
the rows into Python objects first. Both interpolate linearly between the
two nearest values (PostgreSQL's definition) and ignore NULLs."""

import math

from django.db.models import Aggregate, FloatField, Func

SQLITE_PERCENTILE = "gp_percentile"


class Percentile(Aggregate):
    """The `fraction` percentile (0.5: the median) of an expression."""

    name = "Percentile"
    output_field = FloatField()
    template = "percentile_cont(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must lie between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template=f"{SQLITE_PERCENTILE}(%(expressions)s, %(fraction)s)",
            **extra_context,
        )


class Seconds(Func):
    """end − start in seconds (NULL when either is NULL)."""

    output_field = FloatField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra_context):
        # date_part, not EXTRACT: since PostgreSQL 14 EXTRACT answers in
        # numeric, computed for every row and each percentile and then cast
        # to the double precision percentile_cont sorts; date_part answers
        # in double precision directly (the overview's times at 1,000,000
        # requests, bench/insights.py).
        return self.as_sql(
            compiler,
            connection,
            template="date_part('epoch', %(expressions)s)",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def percentile(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont on a list (None for an empty one): the
    SQLite aggregate, and the tests' independent recomputation."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _SqlitePercentile:
    """gp_percentile(value, fraction) for SQLite."""

    def __init__(self):
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction):
        if value is not None:
            self.values.append(value)
        self.fraction = fraction

    def finalize(self):
        return percentile(self.values, self.fraction)


def sqlite_aggregates_register(sender, connection, **kwargs) -> None:
    """connection_created receiver: gp_percentile() on SQLite."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_PERCENTILE, 2, _SqlitePercentile)
