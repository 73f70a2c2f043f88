"""Full-text search over requests for the back office.

One function, `ticket_search`, used by the inbox (and any later screen that
searches tickets). What is searched: the reference, the member's name and
member number, the contact person's name, the request type's name, and the
ticket text (the string values of the answers plus every public or
internal event body).

Every word of the query must be found somewhere (in any of those places), so
"Ahrens Wasserhahn" finds Ms Ahrens' tap, not every tap. Words match by
prefix: "Heiz" finds "Heizung".

The ticket text lives in two tables (answers on the ticket, bodies on its
events), so no single index can cover it; the data model has no
denormalised search column. Each database gets its own index instead, made
by migration 0007:

* PostgreSQL: German full-text search. GIN expression indexes on
  to_tsvector('german', answers) (jsonb: string values only, not keys) and
  to_tsvector('german', body) of the events; the query side stems the word
  too, so "Wasserhahn" finds "Wasserhähne". A stop word ("die", "und")
  has nothing to look for and is skipped. Member and request type names
  are matched with ILIKE (short columns, a few thousand rows; German
  stemming mangles names).
* SQLite: an FTS5 table (tickets_ticket_fts, rowid = ticket id) filled by
  triggers on tickets and events, tokenised with unicode61 and
  remove_diacritics, so case and umlauts do not matter ("hahne" finds
  "Hähne") but there is no stemming: prefix matching has to do
  ("Wasserhahn" finds "Wasserhähne", "Wasserhähne" does not find
  "Wasserhahn"). SQLite's LIKE folds only ASCII case, so names are also
  tried with the first letter capitalised ("öztürk" finds "Öztürk").
  Caution: Django drops the triggers when a later migration rebuilds the
  tickets or events table on SQLite (see migration 0007).

On both, each word is the UNION of the ids found in each place, every
branch an index lookup, and the words narrow the tickets one after the
other (ticket_search).
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchVectorExact, SearchVectorField
from django.db import connections
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.db.models.expressions import RawSQL

from members.models import Member
from tickets.models import RequestType, Ticket, TicketEvent

# A reference typed in full: the fastest and most common search.
REFERENCE = re.compile(r"A-\d{4}-\d{6}", re.IGNORECASE)
# Letters and digits only: whatever else the user types never reaches the
# text-search syntax of either database (no operators, quotes or colons).
WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8
FTS_MATCH = "SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s"

# Who got in touch (a partner, or someone who is not a member), for the few
# requests that name one: literal SQL, the condition of the partial index
# ticket_contact_name (Ticket.Meta), so that SQLite can use it.
# The column unqualified: it is read in a subquery, where the ticket table
# has an alias (qualified, it named the outer query's row, once per row).
HAS_CONTACT_NAME = RawSQL("""NOT ("contact_name" = '')""", [], output_field=BooleanField())


class GermanVector(Func):
    """to_tsvector('german', column), written exactly as the GIN indexes of
    migration 0007 are, so that PostgreSQL can use them."""

    template = "to_tsvector('german'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


def ticket_search(queryset: QuerySet, query: str, *, within: Q | None = None) -> QuerySet:
    """The tickets of `queryset` that match `query` (see the module docstring).

    `within` (a condition on the ticket, e.g. the open statuses) is put into
    every lookup as well: a broad word ("Heizung") is found in tens of
    thousands of requests over the years, and collecting them all before
    keeping the few hundred open ones cost 1.4 s at a million requests.

    A complete reference short-circuits to an exact match. An empty query
    changes nothing; a query without any letter or digit finds nothing.

    Each word is a set of ticket ids, the UNION of one lookup per place it
    may be found, each answered by an index (the text indexes, the member,
    request type and contact name indexes); the words narrow the tickets
    one after the other. One OR over all places, joins included, made both
    databases read every ticket for every search."""
    query = (query or "").strip()
    if not query:
        return queryset
    if REFERENCE.fullmatch(query):
        return queryset.filter(reference=query.upper())
    words = WORD.findall(query)[:MAX_WORDS]
    if not words:
        return queryset.none()
    vendor = connections[queryset.db].vendor
    if vendor == "postgresql":
        # A stop word ("die", "und") has no lexeme left and would match
        # nothing; it is skipped instead, as a search engine would.
        words = [word for word in words if word not in _stop_words(words, queryset.db)] or words
    for word in words:
        queryset = queryset.filter(pk__in=_word_ids(word, vendor, within))
    return queryset


def _stop_words(words: list[str], using: str) -> set[str]:
    """The words PostgreSQL's German configuration drops. Asked once per
    word and process (the configuration does not change while it runs),
    the words not known yet in one query."""
    unknown = [word for word in dict.fromkeys(words) if word not in _STOP_WORD]
    if unknown:
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(["numnode(to_tsquery('german', %s))"] * len(unknown)),
                [f"{word}:*" for word in unknown],
            )
            sizes = cursor.fetchone()
        if len(_STOP_WORD) > STOP_WORD_MEMORY:
            _STOP_WORD.clear()  # a bound, for a process that runs for months
        _STOP_WORD.update({word: size == 0 for word, size in zip(unknown, sizes, strict=True)})
    return {word for word in words if _STOP_WORD.get(word)}


STOP_WORD_MEMORY = 10_000
CONTACT = 2  # the contact-name lookup's place in _word_ids' branches
_STOP_WORD: dict[str, bool] = {}


def _word_ids(word: str, vendor: str, within: Q | None = None) -> QuerySet:
    """The ids of the tickets (of those `within`) in which `word` is found
    somewhere."""
    variants = _case_variants(word, vendor)
    names = Q(member_number__istartswith=word)
    for variant in variants:
        names |= Q(first_name__icontains=variant) | Q(last_name__icontains=variant)
    types = Q()
    contact = Q()
    for variant in variants:
        types |= Q(name_de__icontains=variant) | Q(name_en__icontains=variant)
        contact |= Q(contact_name__icontains=variant)
    branches = [
        Ticket.objects.filter(member__in=Member.objects.filter(names).values("pk")),
        Ticket.objects.filter(request_type__in=RequestType.objects.filter(types).values("pk")),
        # Few requests have a contact name: its partial index (Ticket.Meta)
        # holds just those. The condition is literal SQL, written as the
        # index's, so that SQLite, which cannot match a bound parameter
        # against an index condition, uses it too.
        Ticket.objects.filter(HAS_CONTACT_NAME, contact),
    ]
    if any(character.isdigit() for character in word):
        # Part of a reference ("2026", "000123"): only words with a digit.
        branches.append(Ticket.objects.filter(reference__icontains=word))
    if vendor == "postgresql":
        tsquery = SearchQuery(f"{word}:*", config="german", search_type="raw")
        branches.append(
            Ticket.objects.filter(SearchVectorExact(GermanVector(F("answers")), tsquery))
        )
        events = TicketEvent.objects.filter(SearchVectorExact(GermanVector(F("body")), tsquery))
        if within is not None:
            events = events.filter(ticket__in=Ticket.objects.filter(within).values("pk"))
        text = [events.order_by().values("ticket_id")]  # their tickets' ids
    elif vendor == "sqlite":
        # Constant SQL; the word (letters and digits only) is a parameter.
        text = [Ticket.objects.filter(pk__in=RawSQL(FTS_MATCH, [f'"{word}"*']))]  # noqa: S611
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise NotImplementedError(vendor)
    if vendor == "sqlite":
        branches += text
        text = []
    if within is not None:
        # On SQLite not the contact names: their partial index holds few
        # rows, and with a status condition beside it SQLite read the
        # status index instead. PostgreSQL combines both indexes.
        branches = [
            branch if n == CONTACT and vendor == "sqlite" else branch.filter(within)
            for n, branch in enumerate(branches)
        ]
    ids = [branch.order_by().values("pk") for branch in branches]
    return ids[0].union(*ids[1:], *text)


def _case_variants(word: str, vendor: str) -> list[str]:
    """PostgreSQL's ILIKE folds every letter; SQLite's LIKE only A–Z."""
    if vendor != "sqlite" or word.isascii():
        return [word]
    return list(dict.fromkeys([word, word.lower(), word.capitalize(), word.upper()]))
