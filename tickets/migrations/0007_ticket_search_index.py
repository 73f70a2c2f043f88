"""Indexes for the back-office search (tickets/search.py explains the choice).

PostgreSQL: GIN expression indexes for German full-text search over the
answers (jsonb: string values only) and the event bodies.

SQLite: an FTS5 table with one row per ticket (rowid = ticket id) holding the
answers' string values and all event bodies, kept up to date by triggers, so
every write path (services, admin, bulk updates, raw SQL) stays searchable.

Caution for later migrations on SQLite: when Django has to rebuild the
tickets_ticket or tickets_ticketevent table (most AlterField operations, a
NOT NULL AddField), the triggers break the rebuild or are lost with the old
table. Such a migration drops the triggers first and runs SQLITE_FORWARDS
after (idempotent), as 0008 does;
tests/test_backoffice_inbox.py fails if a trigger is missing.
"""

from django.db import migrations

FTS = "tickets_ticket_fts"


def _sync(where: str) -> list[str]:
    """Rewrite the FTS rows of the tickets chosen by `where` (alias t): their
    answers' string values and every non-empty event body."""
    return [
        f"DELETE FROM {FTS} WHERE rowid IN (SELECT t.id FROM tickets_ticket AS t WHERE {where})",
        f"""INSERT INTO {FTS}(rowid, body)
        SELECT t.id,
            coalesce((SELECT group_concat(j.value, ' ') FROM json_tree(t.answers) AS j
                      WHERE j.type = 'text'), '')
            || ' ' ||
            coalesce((SELECT group_concat(e.body, ' ') FROM tickets_ticketevent AS e
                      WHERE e.ticket_id = t.id AND e.body != ''), '')
        FROM tickets_ticket AS t WHERE {where}""",
    ]


def _trigger(name: str, event: str, where: str, when: str = "") -> str:
    body = "; ".join(_sync(where))
    return f"CREATE TRIGGER IF NOT EXISTS {name} {event} {when} BEGIN {body}; END"


SQLITE_FORWARDS = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} "
    "USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')",
    _trigger("tickets_ticket_fts_insert", "AFTER INSERT ON tickets_ticket", "t.id = NEW.id"),
    _trigger(
        "tickets_ticket_fts_update",
        "AFTER UPDATE OF answers ON tickets_ticket",
        "t.id = NEW.id",
        when="WHEN OLD.answers IS NOT NEW.answers",
    ),
    f"CREATE TRIGGER IF NOT EXISTS tickets_ticket_fts_delete AFTER DELETE ON tickets_ticket "
    f"BEGIN DELETE FROM {FTS} WHERE rowid = OLD.id; END",
    _trigger(
        "tickets_ticketevent_fts_insert",
        "AFTER INSERT ON tickets_ticketevent",
        "t.id = NEW.ticket_id",
        when="WHEN NEW.body != ''",
    ),
    _trigger(
        "tickets_ticketevent_fts_update",
        "AFTER UPDATE OF body, ticket_id ON tickets_ticketevent",
        "t.id IN (OLD.ticket_id, NEW.ticket_id)",
    ),
    _trigger(
        "tickets_ticketevent_fts_delete",
        "AFTER DELETE ON tickets_ticketevent",
        "t.id = OLD.ticket_id",
        when="WHEN OLD.body != ''",
    ),
    # Tickets filed before this migration.
    *_sync("1 = 1"),
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_insert",
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_update",
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_delete",
    "DROP TRIGGER IF EXISTS tickets_ticketevent_fts_insert",
    "DROP TRIGGER IF EXISTS tickets_ticketevent_fts_update",
    "DROP TRIGGER IF EXISTS tickets_ticketevent_fts_delete",
    f"DROP TABLE IF EXISTS {FTS}",
]

POSTGRESQL_FORWARDS = [
    "CREATE INDEX IF NOT EXISTS tickets_ticket_answers_fts ON tickets_ticket "
    "USING gin (to_tsvector('german'::regconfig, answers))",
    "CREATE INDEX IF NOT EXISTS tickets_ticketevent_body_fts ON tickets_ticketevent "
    "USING gin (to_tsvector('german'::regconfig, body))",
]
POSTGRESQL_BACKWARDS = [
    "DROP INDEX IF EXISTS tickets_ticket_answers_fts",
    "DROP INDEX IF EXISTS tickets_ticketevent_body_fts",
]


def _run(schema_editor, statements_by_vendor):
    vendor = schema_editor.connection.vendor
    for statement in statements_by_vendor.get(vendor, []):
        schema_editor.execute(statement)


def forwards(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_FORWARDS, "postgresql": POSTGRESQL_FORWARDS})


def backwards(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_BACKWARDS, "postgresql": POSTGRESQL_BACKWARDS})


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0006_merge_and_related_tickets"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
