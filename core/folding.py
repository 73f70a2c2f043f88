"""Text folded in the database as core.text.fold folds it in Python, so a
search compares "Müller", "MUELLER" and "mueller" alike on PostgreSQL and
SQLite, without a stored search column.

`SearchText(*expressions)` joins the expressions' texts with spaces and
folds them: " mueller luedenscheidt jose 2 og links " (with a space before
and after, so that " 1 " finds a whole word). `Digits(expression)` keeps
only the digits of a phone number ("+49 (30) 555-0001" → "49305550001").

* PostgreSQL: only for text with a letter beyond ASCII and the German
  umlauts, translate() and replace() with a table computed from fold()
  itself (é → e, É → e, İ → i; Ł stays, as NFKD and so fold() leave it);
  then replace() for the German letters (ä → ae, ß → ss), then lower(). Both sides agree
  on every letter from À to ɏ; lower() does the rest as the database's
  locale does. translate() with the whole table costs a search of the table
  for every character, hence only for the few texts that need it.
* SQLite: its lower() and LIKE fold only A–Z, and a chain of a hundred
  replace() calls overflows its parser, so `quick_fold()` (fold() with a
  fast path) is registered as a deterministic SQL function on every new
  connection (CoreConfig.ready), as Django registers its own there.

Measured with 5,000 members (the order of a large cooperative): one folded
scan of the members takes about 0.1 s on PostgreSQL and 0.05 s on SQLite."""

from django.db.models import CharField, Func

from core.text import fold

SQLITE_FOLD = "genoportal_fold"
# What people put between the digits of a phone number.
PHONE_SEPARATORS = " -/()+.\u00a0"


def quick_fold(text: str | None) -> str | None:
    """fold(text), faster for the usual name or address. None stays None
    (SQL NULL)."""
    if text is None:
        return None
    # Plain letters and umlauts: fold() is just these two steps (its
    # normalisations change nothing), and a search runs this once per member.
    quick = text.casefold()
    for umlaut, spelt in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        quick = quick.replace(umlaut, spelt)
    return quick if quick.isascii() else fold(text)


# The German letters beyond ASCII: replace() alone folds them.
_GERMAN = ("ä", "ö", "ü", "ß", "Ä", "Ö", "Ü", "ẞ")
# A character that is neither ASCII nor one of those (a PostgreSQL regex).
_NOT_PLAIN = "[^\\x01-\\x7f" + "".join(_GERMAN) + "]"


def _fold_table() -> tuple[str, str, list[tuple[str, str]]]:
    """(from, to) for translate() and (letter, text) pairs for replace():
    every other letter from À to ɏ whose fold differs."""
    single_from, single_to, longer = [], [], []
    for letter in map(chr, range(0xC0, 0x250)):
        if not letter.isalpha() or letter in _GERMAN:
            continue
        folded = fold(letter)
        if folded == letter:
            continue
        if len(folded) == 1:
            single_from.append(letter)
            single_to.append(folded)
        else:
            longer.append((letter, folded))
    return "".join(single_from), "".join(single_to), longer


_FROM, _TO, _LONGER = _fold_table()


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class SearchText(Func):
    """The expressions' texts joined by spaces and folded, with one space
    before and after (see the module docstring).

    Joined with a flat `||` chain rather than Concat, whose nested pairs
    overflow SQLite's parser in a long search expression."""

    output_field = CharField()

    def _joined(self, compiler) -> tuple[str, list]:
        parts, params = [], []
        for expression in self.source_expressions:
            sql, part_params = compiler.compile(expression)
            parts.append(f"COALESCE({sql}, '')")
            params.extend(part_params)
        return "(" + " || ' ' || ".join(parts) + ")", params

    def as_postgresql(self, compiler, connection, **extra_context):
        text, params = self._joined(compiler)
        rare = f"translate({text}, {_quoted(_FROM)}, {_quoted(_TO)})"
        for letter, folded in _LONGER:
            rare = f"replace({rare}, {_quoted(letter)}, {_quoted(folded)})"
        # The joined text is written thrice but is cheap; the table only
        # runs where the test finds a letter it has.
        sql = f"(CASE WHEN {text} ~ {_quoted(_NOT_PLAIN)} THEN {rare} ELSE {text} END)"
        for letter in _GERMAN:
            sql = f"replace({sql}, {_quoted(letter)}, {_quoted(fold(letter))})"
        return f"(' ' || lower({sql}) || ' ')", [*params, *params, *params]

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = self._joined(compiler)
        return f"(' ' || {SQLITE_FOLD}({sql}) || ' ')", params


class Digits(Func):
    """The expression's text without the usual phone number separators."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        # Few enough for nested replace() on both databases.
        for separator in PHONE_SEPARATORS:
            sql = f"replace({sql}, {_quoted(separator)}, '')"
        return sql, params


def sqlite_functions_register(sender, connection, **kwargs) -> None:
    """connection_created receiver: quick_fold() as SQL on SQLite."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FOLD, 1, quick_fold, deterministic=True)
