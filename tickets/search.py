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
  too, so "Wasserhahn" finds "Wasserhähne". Each word becomes an
  `id IN (SELECT … WHERE vector @@ query)` subquery, which the planner
  answers from the index. A stop word ("die", "und") has nothing to look
  for and is skipped. Member and request type names are matched with ILIKE
  (short columns, a few thousand rows; German stemming mangles names).
* SQLite: an FTS5 table (tickets_ticket_fts, rowid = ticket id) filled by
  triggers on tickets and events, tokenised with unicode61 and
  remove_diacritics, so case and umlauts do not matter ("hahne" finds
  "Hähne") but there is no stemming: prefix matching has to do
  ("Wasserhahn" finds "Wasserhähne", "Wasserhähne" does not find
  "Wasserhahn"). SQLite's LIKE folds only ASCII case, so names are also
  tried with the first letter capitalised ("öztürk" finds "Öztürk").
  Caution: Django drops the triggers when a later migration rebuilds the
  tickets or events table on SQLite (see migration 0007).
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchVectorExact, SearchVectorField
from django.db import connections
from django.db.models import F, Func, IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Exact

from tickets.models import Ticket, TicketEvent

# A reference typed in full: the fastest and most common search.
REFERENCE = re.compile(r"A-\d{4}-\d{6}", re.IGNORECASE)
# Letters and digits only: whatever else the user types never reaches the
# text-search syntax of either database (no operators, quotes or colons).
WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8
FTS_MATCH = "SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s"

NAME_FIELDS = (
    "member__first_name",
    "member__last_name",
    "contact_name",  # who got in touch: a partner, or someone who is not a member
    "request_type__name_de",
    "request_type__name_en",
)


class GermanVector(Func):
    """to_tsvector('german', column), written exactly as the GIN indexes of
    migration 0007 are, so that PostgreSQL can use them."""

    template = "to_tsvector('german'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


def ticket_search(queryset: QuerySet, query: str) -> QuerySet:
    """The tickets of `queryset` that match `query` (see the module docstring).

    A complete reference short-circuits to an exact match. An empty query
    changes nothing; a query without any letter or digit finds nothing."""
    query = (query or "").strip()
    if not query:
        return queryset
    if REFERENCE.fullmatch(query):
        return queryset.filter(reference=query.upper())
    words = WORD.findall(query)[:MAX_WORDS]
    if not words:
        return queryset.none()
    vendor = connections[queryset.db].vendor
    condition = Q()
    for word in words:
        condition &= _word_matches(word, vendor)
    # A partial reference with its dashes ("2026-0001") also matches as a whole.
    return queryset.filter(Q(reference__icontains=query) | condition)


def _word_matches(word: str, vendor: str) -> Q:
    found = Q(reference__icontains=word) | Q(member__member_number__istartswith=word)
    for variant in _case_variants(word, vendor):
        for field in NAME_FIELDS:
            found |= Q(**{f"{field}__icontains": variant})
    if vendor == "postgresql":
        tsquery = SearchQuery(f"{word}:*", config="german", search_type="raw")
        found |= Q(
            pk__in=Ticket.objects.filter(SearchVectorExact(GermanVector(F("answers")), tsquery))
        )
        found |= Q(
            pk__in=TicketEvent.objects.filter(
                SearchVectorExact(GermanVector(F("body")), tsquery)
            ).values("ticket_id")
        )
        # A stop word has no lexeme left and would match nothing; it is
        # skipped instead, as a search engine would.
        found |= Q(Exact(Func(tsquery, function="numnode", output_field=IntegerField()), 0))
    elif vendor == "sqlite":
        # Constant SQL; the word (letters and digits only) is a parameter.
        found |= Q(pk__in=RawSQL(FTS_MATCH, [f'"{word}"*']))  # noqa: S611
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise NotImplementedError(vendor)
    return found


def _case_variants(word: str, vendor: str) -> list[str]:
    """PostgreSQL's ILIKE folds every letter; SQLite's LIKE only A–Z."""
    if vendor != "sqlite" or word.isascii():
        return [word]
    return list(dict.fromkeys([word, word.lower(), word.capitalize(), word.upper()]))
