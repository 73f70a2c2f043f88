"""Hotspot detection as a pure function: plain reports in, clusters out.

Two reports belong together when they come from the same building within
the time window and either are of one request type that by itself names a
fault (a cooperative's "heating failed" form: `same_type_ids`), or say
similar things: TF-IDF cosine of their folded text at or above
`threshold`. The text is folded as routing folds it (core.text.fold: case, umlauts,
accents), and each word stands for its beginnings (4 to 6 letters), so
inflections and compounds meet ("Heizung kalt", "Heizkörper bleibt
kalt"); sublinear term frequency and L2 norm as in the routing
classifier's TF-IDF (`routing.classifier.train`). The classifier's
character n-grams made every two German sentences look a little alike
(shared endings like "-en", "-ung"), which is what a detector that must
not merge unrelated reports cannot afford. The document frequencies come from all reports
looked at together, so words every request uses ("bitte", "Wohnung")
weigh little.

A cluster never spans buildings: two buildings of one estate rarely share
a cause the detector could tell from words, and grouping them wrongly
would tell members of one house that the other's fault is theirs. A report
joins a cluster only when it is related to most of its reports, so one
report similar to two different faults does not chain them together.

No database, no Django models: tested exhaustively without either
(tests/test_incidents.py)."""

from __future__ import annotations

import datetime
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.text import fold

# Word beginnings of these lengths stand for a word: "heizung" and
# "heizkoerper" share "heiz", "klemmt" and "klemmen" "klem" and "klemm".
# German compounds put the thing first ("Heizkörper", "Heizungsraum"), so
# beginnings catch more than endings.
PREFIXES = (4, 5, 6)
_WORD = re.compile(r"[a-z0-9]+")
# Folded (core.text.fold) words every request uses that say nothing about
# the cause: left out, or they would make unrelated reports look alike.
STOPWORDS = frozenset(
    """
    aber alle alles als also am an auch auf aus bei beim bin bis bitte da dann das dass
    dem den der des die dies diese dieser doch dort du durch ein eine einem einen einer
    eines er es etwas fuer gar geht gehen gestern haben habe hat heute hier ich ihnen ihr
    ihre im immer in ist ja jetzt kann kein keine keinen koennen leider mal man mehr mein
    meine meinem meinen meiner mich mir mit morgen nach nicht noch nun nur ob oder schon
    sehr seit sich sie sind so uber ueber um und uns unser unsere vom von vor war waere
    warum was weil wenn wer werden wie wieder wir wird wo wurde zu zum zur guten tag hallo
    danke gruessen freundlichen vielen dank herr frau kommen kommt vorbei schnell dringend
    moeglich bald gerne melden bescheid schauen ansehen wuerde koennten koennte muss
    muessen soll sollte worden gibt geben machen macht sein ganz voll sonst eigentlich
    total einfach wirklich bereits inzwischen uhr tage tagen woche wochen
    """.split()  # noqa: SIM905 - a word list reads best as words
)


@dataclass(frozen=True)
class Report:
    """One open request as the detector sees it."""

    id: int
    building_id: int | None
    request_type_id: int
    team_id: int | None
    text: str
    created_at: datetime.datetime


@dataclass(frozen=True)
class Cluster:
    """Reports the detector would group into one incident."""

    building_id: int
    report_ids: tuple[int, ...]
    request_type_id: int  # the most frequent type among them
    team_id: int | None  # the most frequent team (the one whose lead decides)
    first_at: datetime.datetime
    last_at: datetime.datetime
    by_type: bool  # held together by a fault type rather than by the words
    texts: tuple[str, ...] = ()  # the reports' texts, oldest first


@dataclass(frozen=True)
class Profile:
    """An incident proposed or open, as new reports are matched against it."""

    id: int
    building_ids: frozenset[int]
    request_type_id: int | None
    texts: tuple[str, ...]  # its reports' texts (and its title)


# Vectors ----------------------------------------------------------------------------


def terms(text: str) -> Counter[str]:
    """The folded words' beginnings (PREFIXES; a shorter word as it is),
    common words left out."""
    counts: Counter[str] = Counter()
    for word in _WORD.findall(fold(text)):
        if word in STOPWORDS or len(word) < 3:
            continue
        if len(word) <= PREFIXES[0]:
            counts[word] += 1
            continue
        counts.update(word[:size] for size in PREFIXES if len(word) >= size)
    return counts


@dataclass
class Vectoriser:
    """TF-IDF over a set of texts (smooth idf, sublinear tf, L2 norm, as
    scikit-learn's TfidfVectorizer with sublinear_tf=True)."""

    idf: dict[str, float] = field(default_factory=dict)
    default_idf: float = 1.0

    @classmethod
    def fitted(cls, texts: Iterable[str]) -> Vectoriser:
        documents = 0
        frequency: Counter[str] = Counter()
        for text in texts:
            documents += 1
            frequency.update(set(terms(text)))
        idf = {
            term: math.log((1 + documents) / (1 + count)) + 1 for term, count in frequency.items()
        }
        return cls(idf=idf, default_idf=math.log(1 + documents) + 1)

    def vector(self, text: str) -> dict[str, float]:
        weights = {
            term: (1 + math.log(count)) * self.idf.get(term, self.default_idf)
            for term, count in terms(text).items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {term: w / norm for term, w in weights.items()} if norm else {}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(weight * b.get(term, 0.0) for term, weight in a.items())


def centroid(vectors: Sequence[dict[str, float]]) -> dict[str, float]:
    """The normalised mean of some vectors."""
    total: Counter[str] = Counter()
    for vector in vectors:
        total.update(vector)
    norm = math.sqrt(sum(w * w for w in total.values()))
    return {term: w / norm for term, w in total.items()} if norm else {}


# Clusters ---------------------------------------------------------------------------


def _most_common(values: Iterable) -> object:
    counts = Counter(values)
    # Ties go to the smaller value: the same reports give the same answer.
    return min(counts, key=lambda value: (-counts[value], value is None, value or 0))


def clusters_find(
    reports: Sequence[Report],
    *,
    window: datetime.timedelta,
    min_size: int,
    threshold: float,
    same_type_ids: frozenset[int] = frozenset(),
    corpus: Sequence[str] = (),
) -> list[Cluster]:
    """The clusters of at least `min_size` reports of one building whose
    first and last report lie within `window`. Reports without a building
    are left out (a request from someone without a flat names no place).

    Within a building, clusters grow by average linkage: the two clusters
    whose reports are most similar on average are merged, as long as that
    average is at least `threshold` and the merged cluster stays within the
    window. Similarity: 1 for two reports of one fault type
    (`same_type_ids`), else the cosine of their TF-IDF vectors. The
    average (not the best pair) keeps a report similar to two faults from
    chaining them together. `corpus`: more texts for the
    document frequencies (typical requests), so that the words of a
    cluster, frequent among a few reports, still count."""
    placed = [r for r in reports if r.building_id is not None]
    vectoriser = Vectoriser.fitted([*(r.text for r in placed), *corpus])
    vectors = {r.id: vectoriser.vector(r.text) for r in placed}

    def similarity(a: Report, b: Report) -> float:
        if a.request_type_id == b.request_type_id and a.request_type_id in same_type_ids:
            return 1.0
        return cosine(vectors[a.id], vectors[b.id])

    by_building: dict[int, list[Report]] = {}
    for report in sorted(placed, key=lambda r: (r.created_at, r.id)):
        by_building.setdefault(report.building_id, []).append(report)
    groups = {
        building_id: _average_linkage(
            building_reports, similarity=similarity, window=window, threshold=threshold
        )
        for building_id, building_reports in by_building.items()
    }

    found = []
    for building_id, building_groups in groups.items():
        for group in building_groups:
            if len(group) < min_size:
                continue
            type_id = _most_common(r.request_type_id for r in group)
            found.append(
                Cluster(
                    building_id=building_id,
                    report_ids=tuple(sorted(r.id for r in group)),
                    request_type_id=type_id,
                    team_id=_most_common(r.team_id for r in group),
                    first_at=group[0].created_at,
                    last_at=group[-1].created_at,
                    by_type=type_id in same_type_ids
                    and all(r.request_type_id == type_id for r in group),
                    texts=tuple(r.text for r in group),
                )
            )
    return sorted(found, key=lambda c: (c.first_at, c.building_id))


def _average_linkage(reports, *, similarity, window, threshold) -> list[list[Report]]:
    pair = {}
    for i, a in enumerate(reports):
        for b in reports[i + 1 :]:
            pair[a.id, b.id] = pair[b.id, a.id] = similarity(a, b)
    groups = [[report] for report in reports]
    while True:
        best, best_score = None, threshold
        for i, first in enumerate(groups):
            for j in range(i + 1, len(groups)):
                second = groups[j]
                moments = [r.created_at for r in (*first, *second)]
                if max(moments) - min(moments) > window:
                    continue
                score = sum(pair[a.id, b.id] for a in first for b in second) / (
                    len(first) * len(second)
                )
                if score >= best_score and (best is None or score > best_score):
                    best, best_score = (i, j), score
        if best is None:
            return [sorted(g, key=lambda r: (r.created_at, r.id)) for g in groups]
        i, j = best
        groups[i] = groups[i] + groups[j]
        del groups[j]


def matches_find(
    profiles: Sequence[Profile],
    reports: Sequence[Report],
    *,
    threshold: float,
    same_type_ids: frozenset[int] = frozenset(),
    corpus: Sequence[str] = (),
) -> dict[int, int]:
    """Which new reports belong to which incident: {report id: incident
    id}. A report matches an incident of its building when it is of the
    incident's fault type (`same_type_ids`) or its text is similar to the
    incident's reports taken together (cosine to their centroid at least
    `threshold`); the most similar incident wins. `corpus`: more texts for
    the document frequencies (typical requests)."""
    texts = [text for profile in profiles for text in profile.texts]
    vectoriser = Vectoriser.fitted([*texts, *(r.text for r in reports), *corpus])
    centres = {
        profile.id: centroid([vectoriser.vector(text) for text in profile.texts])
        for profile in profiles
    }
    found = {}
    for report in reports:
        vector = vectoriser.vector(report.text)
        best, best_score = None, -1.0
        for profile in profiles:
            if report.building_id not in profile.building_ids:
                continue
            by_type = (
                report.request_type_id == profile.request_type_id
                and report.request_type_id in same_type_ids
            )
            score = 2.0 if by_type else cosine(vector, centres[profile.id])
            if score >= threshold and score > best_score:
                best, best_score = profile.id, score
        if best is not None:
            found[report.id] = best
    return found


def topic_word(texts: Sequence[str]) -> str | None:
    """The word most of the texts use (as first written), for a proposal's
    title ("Heizung in Nordring 3"); None when no word is in half of them."""
    seen: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for text in texts:
        words = {}
        for word in re.findall(r"\w+", text):
            folded = fold(word)
            if folded in STOPWORDS or len(folded) < 4 or folded.isdigit():
                continue
            words.setdefault(folded, word)
        for folded, word in words.items():
            seen[folded] += 1
            spelling.setdefault(folded, word)
    # Nouns first (written with a capital): "Heizung" says more than "kalt".
    common = [folded for folded in seen if seen[folded] * 2 >= len(texts)]
    if not common:
        return None
    best = max(common, key=lambda folded: (spelling[folded][:1].isupper(), seen[folded]))
    word = spelling[best]
    return word[:1].upper() + word[1:]


def precision_recall(
    found: Iterable[Iterable[int]], planted: Iterable[Iterable[int]]
) -> tuple[float, float]:
    """Pairwise precision and recall of found clusters against planted
    ones: of the pairs of reports put together, how many belong together,
    and of the pairs that belong together, how many were put together."""

    def pairs(groups: Iterable[Iterable[int]]) -> set[tuple[int, int]]:
        result = set()
        for group in groups:
            members = sorted(group)
            result.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
        return result

    got, wanted = pairs(found), pairs(planted)
    precision = len(got & wanted) / len(got) if got else 1.0
    recall = len(got & wanted) / len(wanted) if wanted else 1.0
    return precision, recall
