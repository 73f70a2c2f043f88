"""Finding the right form for everyday words ("Heizung kalt", "kündigen").

`forms_find` ranks the forms a member may use; `forms_rank` is the pure
part and gets everything as plain data, so the ranking is tested and
explained without a database.

Score of a form (higher first; shown forms need at least MIN_SCORE and at
least RELATIVE_CUT of the best score; MAX_RESULTS at most):

    score = sum over the query's words of the best match among the form's
            words  (quality × weight of where the word stands)
          + PHRASE_BONUS once, if every word of one of the form's
            multi-word everyday phrases ("Heizung kalt") is in the query
          + CLASSIFIER_WEIGHT × (confidence − CLASSIFIER_FLOOR) for the
            routing classifier's confidence in this form, when above the
            floor (below it the model is guessing: gibberish gets ~0.2)

Weights: an everyday word (RequestType.synonyms) 3, a word of an everyday
phrase on its own 1.5 ("Heizung ablesen" must not make "Heizung" a meter
reading), the name 2, the help text 1 (both languages each). Quality of a match between a query word and
a form word, both folded (core.text.fold) and with umlauts dropped
("Schlussel", "Schlüssel" and "Schluessel" are the same word):

    1.0  the same word
    0.8  the same stem ("tropft" ~ "tropfen", "kündigen" ~ "Kündigung")
    0.6  one begins or ends with the other, at least 5 letters ("Garage" ~
         "Tiefgarage", "Küchenwasserhahn" ~ "Wasserhahn"), as compounds do
    0.6  a typo: one letter wrong, missing, extra or swapped (two from 9
         letters), words of 5 letters or more with the same first letter

Ties keep the order the forms came in (the order of the form list:
category, position), so a specific form comes before the general question.

"Termin", "Beratung", "Sprechstunde": the member most likely wants a
consultation; the page offers booking one first (`appointment_wanted`),
the forms still below it. "Handwerkertermin" or "Termin Handwerker" lead
to the repair report, where a tradesperson's visit is arranged; the
demo's everyday words carry this, so a cooperative can change it in the
admin."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.text import fold
from routing.classifier import suggestions_top
from tickets.models import Category, FieldKind, RequestType

QUERY_MAX = 500  # characters searched and carried over; the input allows as many
TOKENS_MAX = 30  # distinct words of a query that count (bounds the work per search)

WEIGHT_SYNONYM = 3.0
WEIGHT_PHRASE_WORD = 1.5
WEIGHT_NAME = 2.0
WEIGHT_HELP = 1.0
QUALITY_EXACT = 1.0
QUALITY_STEM = 0.8
QUALITY_PART = 0.6
QUALITY_TYPO = 0.6
PHRASE_BONUS = 2.0
CLASSIFIER_WEIGHT = 4.0
CLASSIFIER_FLOOR = 0.3
CLASSIFIER_LIMIT = 5
MIN_SCORE = 1.0
RELATIVE_CUT = 0.34
MAX_RESULTS = 5

# Words that say nothing about the form (German and English), folded.
_STOPWORD_LINES = (
    "a ab alle als am an and are auch auf aus bei beim bin bis bitte da das dass dem den der",
    "des die do does doch dort du ein eine einem einen einer eines er es for from für gibt",
    "hallo habe haben hat have help hier how i ich ihr ihre im in is ist it ja kann keine kein",
    "können mal me mehr mein meine meinem meinen meiner mich mir mit möchte my",
    "nicht noch nur ob oder of on or our please schon sehr sein seit sie sind so the to uns",
    "und unser unsere vom von war was we wie will wir wo zu zum zur",
)
STOPWORDS = frozenset(fold(word) for line in _STOPWORD_LINES for word in line.split())

_WORD = re.compile(r"\w+")
_SYNONYM_SPLIT = re.compile(r"[,;\n]+")
_SUFFIXES = ("ungen", "ung", "ern", "en", "er", "es", "em", "st", "et", "e", "n", "s", "t")


@dataclass(frozen=True)
class FormText:
    """What the finder reads of one form, as plain data."""

    slug: str
    names: tuple[str, ...]
    helps: tuple[str, ...]
    synonyms: str


@dataclass(frozen=True)
class Ranked:
    slug: str
    score: float


@dataclass(frozen=True)
class Found:
    request_type: RequestType
    score: float


# --- words ------------------------------------------------------------------


def _plain(word: str) -> str:
    """Folded, and the spelt-out umlauts dropped as well: people type
    "Schlussel" as often as "Schlüssel"."""
    return fold(word).replace("ae", "a").replace("oe", "o").replace("ue", "u")


def words(text: str) -> list[str]:
    """The words of a text that can say something: plain, no stopwords, no
    single letters, each once, in order."""
    seen: dict[str, None] = {}
    for raw in _WORD.findall(fold(text)):
        if raw in STOPWORDS or len(raw) < 2 or raw.isdigit():
            continue
        seen.setdefault(_plain(raw), None)
    return list(seen)


def stem(word: str) -> str:
    """A cheap German/English stem: the longest common ending cut off when at
    least four letters remain ("tropfen" → "tropf", "kündigung" → "kundig")."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _typo_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Levenshtein plus swapped
    neighbours), giving up early above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def match_quality(query_word: str, form_word: str) -> float:
    """How well a query word matches a form word (both from `words`)."""
    if query_word == form_word:
        return QUALITY_EXACT
    query_stem, form_stem = stem(query_word), stem(form_word)
    if query_stem == form_stem:
        return QUALITY_STEM
    for pair in ((query_word, form_word), (query_stem, form_stem)):
        shorter, longer = sorted(pair, key=len)
        # Compound parts stand at the start or the end ("Tiefgarage",
        # "Heizungsausfall"); inside a word it is chance ("Termin" in
        # "Untermieter").
        if len(shorter) >= 5 and (longer.startswith(shorter) or longer.endswith(shorter)):
            return QUALITY_PART
    shortest = min(len(query_word), len(form_word))
    if shortest >= 5 and query_word[0] == form_word[0]:
        limit = 2 if shortest >= 9 else 1
        if _typo_distance(query_word, form_word, limit) <= limit:
            return QUALITY_TYPO
    return 0.0


# --- ranking (pure) ---------------------------------------------------------


def synonym_phrases(synonyms: str) -> list[str]:
    """The everyday words of a form: separated by commas, semicolons or lines."""
    return [part.strip() for part in _SYNONYM_SPLIT.split(synonyms) if part.strip()]


def _form_words(form: FormText) -> tuple[dict[str, float], list[tuple[str, ...]]]:
    weights: dict[str, float] = {}

    def add(found: Iterable[str], weight: float) -> None:
        for word in found:
            weights[word] = max(weights.get(word, 0.0), weight)

    phrases = [tuple(words(phrase)) for phrase in synonym_phrases(form.synonyms)]
    for phrase in phrases:
        add(phrase, WEIGHT_SYNONYM if len(phrase) == 1 else WEIGHT_PHRASE_WORD)
    for name in form.names:
        add(words(name), WEIGHT_NAME)
    for text in form.helps:
        add(words(text), WEIGHT_HELP)
    return weights, [phrase for phrase in phrases if len(phrase) > 1]


def forms_rank(
    *, query: str, forms: Sequence[FormText], classifier: Mapping[str, float]
) -> list[Ranked]:
    """The forms that fit the query, best first, scored as the module
    docstring says. `classifier` maps slugs to the routing classifier's
    confidence for this query (missing: no opinion). Deterministic: the
    same input gives the same list; ties keep the order of `forms`."""
    query_words = words(query[:QUERY_MAX])[:TOKENS_MAX]
    if not query_words:
        return []
    quality_cache: dict[tuple[str, str], float] = {}

    def quality(query_word: str, form_word: str) -> float:
        key = (query_word, form_word)
        if key not in quality_cache:
            quality_cache[key] = match_quality(query_word, form_word)
        return quality_cache[key]

    ranked = []
    for form in forms:
        weights, phrases = _form_words(form)
        score = 0.0
        for query_word in query_words:
            score += max(
                (quality(query_word, word) * weight for word, weight in weights.items()),
                default=0.0,
            )
        if any(
            all(any(quality(q, word) >= QUALITY_STEM for q in query_words) for word in phrase)
            for phrase in phrases
        ):
            score += PHRASE_BONUS
        confidence = classifier.get(form.slug, 0.0)
        if confidence > CLASSIFIER_FLOOR:
            score += CLASSIFIER_WEIGHT * (confidence - CLASSIFIER_FLOOR)
        ranked.append(Ranked(slug=form.slug, score=round(score, 3)))
    if not ranked:
        return []
    best = max(r.score for r in ranked)
    shown = [r for r in ranked if r.score >= MIN_SCORE and r.score >= RELATIVE_CUT * best]
    # sorted() is stable: equal scores keep the order of `forms`.
    return sorted(shown, key=lambda r: -r.score)[:MAX_RESULTS]


# --- with the database --------------------------------------------------------


_CATEGORY_ORDER = {value: index for index, value in enumerate(Category.values)}


def display_order(request_type: RequestType) -> tuple:
    """The order of the form list: category as the page shows them, then position."""
    return (
        _CATEGORY_ORDER.get(request_type.category, len(_CATEGORY_ORDER)),
        request_type.position,
        request_type.name_de,
        request_type.slug,
    )


# Words of someone who wants to talk to a person at a set time (folded,
# without umlauts). A tradesperson's visit is the repair report's, not a
# consultation: "Handwerkertermin" is one word and does not count.
APPOINTMENT_WORDS = frozenset(
    {"termin", "termine", "terminvereinbarung", "beratung", "beratungstermin", "berater",
     "beraterin", "sprechstunde", "sprechzeit", "sprechzeiten", "gesprach", "personlich",
     "appointment", "consultation", "advice"}
)  # fmt: skip
NOT_A_CONSULTATION = frozenset({"handwerker", "monteur", "techniker", "klempner", "elektriker"})


def appointment_wanted(query: str) -> bool:
    """Whether the search reads like wanting a consultation appointment."""
    # fold() spells umlauts out ("gespraech"); the list has them dropped.
    plain = fold(query).replace("ae", "a").replace("oe", "o").replace("ue", "u")
    words = set(re.findall(r"\w+", plain))
    return bool(words & APPOINTMENT_WORDS) and not words & NOT_A_CONSULTATION


# Words of someone who wants to book a room for a gathering (folded, as
# above): the common rooms are booked online (rooms), not by a request.
# The guest apartment has its own form, which leads to online booking.
ROOM_WORDS = frozenset(
    {"gemeinschaftsraum", "gemeinschaftsraume", "partyraum", "festraum", "feier", "feiern",
     "geburtstagsfeier", "raum", "raume", "saal", "mieten", "treffen", "versammlungsraum",
     "room", "rooms", "party", "celebration", "hall"}
)  # fmt: skip


def room_wanted(query: str) -> bool:
    """Whether the search reads like wanting to book a common room."""
    plain = fold(query).replace("ae", "a").replace("oe", "o").replace("ue", "u")
    words = set(re.findall(r"\w+", plain))
    # "Raum" alone is a repair's room too ("Raum feucht"): only with a
    # word of gathering, or a common room's own name.
    gathering = words & (ROOM_WORDS - {"raum", "raume", "room", "rooms", "mieten"})
    return bool(gathering) or bool(words & {"raum", "raume", "room", "rooms"} and "mieten" in words)


def query_clean(raw: str) -> str:
    """The search text as it is searched and carried over: spaces collapsed,
    at most QUERY_MAX characters."""
    return " ".join(raw.split())[:QUERY_MAX]


def forms_find(*, query: str, request_types: Iterable[RequestType]) -> list[Found]:
    """The member's forms that fit `query`, best first (see forms_rank).
    One query for the classifier's current model at most; the forms come
    in already loaded."""
    query = query_clean(query)
    types = sorted(request_types, key=display_order)
    if not types or not words(query):
        return []
    by_slug = {t.slug: t for t in types}
    classifier = {s.slug: s.confidence for s in suggestions_top(query, limit=CLASSIFIER_LIMIT)}
    forms = [
        FormText(
            slug=t.slug,
            names=(t.name_de, t.name_en),
            helps=(t.help_de, t.help_en),
            synonyms=t.synonyms,
        )
        for t in types
    ]
    return [
        Found(request_type=by_slug[r.slug], score=r.score)
        for r in forms_rank(query=query, forms=forms, classifier=classifier)
    ]


def general_form(request_types: Iterable[RequestType]) -> RequestType | None:
    """The general question: the first form of category GENERAL, the one
    that is always offered so a search never ends in a dead end."""
    general = [t for t in request_types if t.category == Category.GENERAL]
    return min(general, key=display_order) if general else None


def text_carry(definitions: Sequence[dict], answers: Mapping, text: str) -> dict:
    """The answers with `text` (typed into the form search) put into the
    form's first long-text field, unless that field already holds something:
    a draft's own text is never overwritten."""
    result = dict(answers)
    text = query_clean(text)
    if not text:
        return result
    for definition in definitions:
        if definition["kind"] == FieldKind.TEXTAREA:
            if not str(result.get(definition["key"]) or "").strip():
                result[definition["key"]] = text
            break
    return result
