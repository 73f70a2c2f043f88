"""Suggest a request type for free text: a small text classifier trained on
resolved requests (and a demo corpus), with hand-written keywords as the
fallback while no model has been trained.

scikit-learn is imported only where a model is trained or evaluated, so web
processes that merely suggest pay for it on the first unpickling at most."""

from __future__ import annotations

import csv
import logging
import pickle
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction

from core.request_cache import request_cached
from core.text import fold
from routing.models import ClassifierModel

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

CORPUS = Path(__file__).parent / "data" / "corpus_de.csv"
MIN_SAMPLES = 100  # below this a model is not trained; the keywords stay in charge
MODELS_KEPT = 3  # older models are deleted when a new one is saved

SOURCE_MODEL = "model"
SOURCE_KEYWORDS = "keywords"

# Lowercase stems, matched as substrings after folding (core.text.fold), so
# "Schlüssel", "Schluessel" and "SCHLÜSSELBUND" all hit "schlüssel". Stems
# are kept specific enough not to fire on everyday words of other types.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "schadensmeldung": (
        "kaputt",
        "defekt",
        "tropft",
        "heizung",
        "heizkörper",
        "schimmel",
        "undicht",
        "verstopft",
        "wasserschaden",
        "rohrbruch",
        "aufzug",
        "klemmt",
        "funktioniert nicht",
        "reparatur",
        "feucht",
    ),
    "mitgliedsbescheinigung": (
        "mitgliedsbescheinigung",
        "bescheinigung",
        "mitgliedschaft bestätig",
        "nachweis",
        "bestätigen, dass",
        "genossenschaftsmitglied",
        "anteile",
        "eintrittsdatum",
    ),
    "bankverbindung": (
        "bankverbindung",
        "iban",
        "konto",
        "lastschrift",
        "sepa",
        "abbuch",
        "dauerauftrag",
        "einzugsermächtigung",
        "neue bank",
    ),
    "namensaenderung": (
        "namensänderung",
        "nachname",
        "vorname",
        "heirat",
        "geheiratet",
        "scheidung",
        "geburtsname",
        "schreibweise",
        "name falsch",
        "heiße",
        "doppelname",
        "eheurkunde",
    ),
    "parkplatz": (
        "parkplatz",
        "stellplatz",
        "garage",
        "tiefgarage",
        "parken",
        "parkt",
        "fahrzeug",
        "pkw",
        "carport",
        "fahrradkeller",
        "wallbox",
        "ladestation",
    ),
    "gaestewohnung": (
        "gästewohnung",
        "gästezimmer",
        "gastwohnung",
        "übernachtung",
        "besuch",
        "reservier",
        "buchung",
        "bettwäsche",
    ),
    "wohnungswechsel": (
        "wohnungswechsel",
        "wohnungstausch",
        "tauschen",
        "tauschbörse",
        "kleinere wohnung",
        "größere wohnung",
        "andere wohnung",
        "umziehen innerhalb",
        "barrierefrei",
        "zimmer mehr",
        "zimmer weniger",
    ),
    "kuendigung": (
        "kündig",
        "kuendig",
        "auszug",
        "ausziehen",
        "nachmieter",
        "kündigungsfrist",
        "wohnungsübergabe",
        "mitgliedschaft beenden",
    ),
    "genehmigung": (
        "genehmigung",
        "erlaubnis",
        "erlaubt",
        "zustimmung",
        "antrag auf",
        "tierhaltung",
        "hundehaltung",
        "haustier",
        "katze",
        "untervermiet",
        "satellitenschüssel",
        "umbau",
        "darf ich",
        "dürfen wir",
    ),
    "schluessel": (
        "schlüssel",
        "transponder",
        "chip",
        "schließanlage",
        "schließzylinder",
        "ausgesperrt",
        "schlüsseldienst",
        "zylinder",
    ),
    "zaehlerstand": (
        "zählerstand",
        "zähler",
        "ablesung",
        "ablesen",
        "abgelesen",
        "kwh",
        "m³",
        "kubikmeter",
        "wasseruhr",
        "stromzähler",
    ),
    "nebenkosten": (
        "nebenkosten",
        "betriebskosten",
        "abrechnung",
        "nachzahlung",
        "vorauszahlung",
        "guthaben",
        "heizkosten",
        "abschlag",
        "gutschrift",
    ),
    "allgemein": (
        "sommerfest",
        "satzung",
        "mitgliederversammlung",
        "vertreterversammlung",
        "nachbar",
        "lärm",
        "ruhezeit",
        "mittagsruhe",
        "müll",
        "treppenhausreinigung",
        "hausordnung",
        "öffnungszeiten",
        "sprechzeiten",
    ),
}

_FOLDED_KEYWORDS: dict[str, frozenset[str]] = {
    slug: frozenset(fold(stem) for stem in stems) for slug, stems in KEYWORDS.items()
}


@dataclass(frozen=True)
class Suggestion:
    slug: str
    confidence: float
    source: str  # SOURCE_MODEL or SOURCE_KEYWORDS


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    labels: list[str]
    confusion: list[list[int]]  # rows: true label, columns: predicted, both in `labels` order
    test_count: int

    @property
    def correct(self) -> int:
        return sum(self.confusion[i][i] for i in range(len(self.labels)))


# --- samples ---------------------------------------------------------------


def corpus_load() -> list[tuple[str, str]]:
    """(slug, text) pairs of the demo corpus shipped with the project."""
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        return [
            (row["request_type"].strip(), row["text"].strip())
            for row in csv.DictReader(handle)
            if row["text"].strip()
        ]


# --- model -----------------------------------------------------------------


def train(samples: list[tuple[str, str]]) -> Pipeline:
    """A fitted pipeline: character n-grams (robust to typos, compounds and
    inflection in short German texts) and a logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from threadpoolctl import threadpool_limits

    labels = [slug for slug, _text in samples]
    if len(set(labels)) < 2:
        raise ValueError("Training needs samples of at least two request types.")
    pipeline = Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            ),
            ("clf", LogisticRegression(max_iter=2000, C=10)),
        ]
    )
    # One BLAS/OpenMP thread: the problem is small and sparse, so extra
    # threads cost more than they save (twice as fast measured on 2 cores),
    # and the web and worker processes keep their share of the CPU.
    with threadpool_limits(limits=1):
        pipeline.fit([text for _slug, text in samples], labels)
    return pipeline


def evaluate(
    samples: list[tuple[str, str]], *, test_size: float = 0.2, seed: int = 42
) -> Evaluation:
    """Train on a part of the samples and measure top-1 accuracy on the rest."""
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import train_test_split

    texts = [text for _slug, text in samples]
    labels = [slug for slug, _text in samples]
    # Stratify so every type is in the test part; impossible if a type has a
    # single sample or the test part is smaller than the number of types.
    stratify = labels if min(Counter(labels).values()) >= 2 else None
    try:
        x_train, x_test, y_train, y_test = train_test_split(
            texts, labels, test_size=test_size, random_state=seed, stratify=stratify
        )
    except ValueError:
        if stratify is None:
            raise
        x_train, x_test, y_train, y_test = train_test_split(
            texts, labels, test_size=test_size, random_state=seed
        )
    pipeline = train(list(zip(y_train, x_train, strict=True)))
    predicted = list(pipeline.predict(x_test))
    names = sorted(set(labels))
    matrix = confusion_matrix(y_test, predicted, labels=names)
    correct = sum(1 for want, got in zip(y_test, predicted, strict=True) if want == got)
    return Evaluation(
        accuracy=correct / len(y_test),
        labels=names,
        confusion=[[int(cell) for cell in row] for row in matrix],
        test_count=len(y_test),
    )


# Pickle is acceptable here: the blob is written only by this project's own
# routing_train command into this project's own database, so unpickling it
# trusts nothing the database does not already control. Never load a blob
# that came from anywhere else (an upload, another installation's dump).
def model_save(*, pipeline: Any, samples: int, accuracy: float | None) -> ClassifierModel:
    """Store a trained pipeline as the current model; keep the newest few."""
    with transaction.atomic():
        model = ClassifierModel.objects.create(
            samples=samples, accuracy=accuracy, blob=pickle.dumps(pipeline)
        )
        kept = ClassifierModel.objects.order_by("-created_at", "-pk").values_list("pk", flat=True)[
            :MODELS_KEPT
        ]
        ClassifierModel.objects.exclude(pk__in=list(kept)).delete()
    return model


# The unpickled pipeline of the current model, so each process loads it once
# (None: the blob could not be loaded, the keywords stand in). Keyed by pk and
# created_at: test databases roll back and may hand out a pk again.
_loaded: dict[tuple[int, Any], Any] = {}


def _pipeline_current() -> Any | None:
    # Which model is the newest: asked once per web request or batch of the
    # mail intake (a model trained meanwhile counts from the next).
    latest = request_cached(
        "classifier_latest",
        ClassifierModel.objects.order_by("-created_at", "-pk")
        .values_list("pk", "created_at")
        .first,
    )
    if latest is None:
        return None
    if latest in _loaded:
        return _loaded[latest]
    # Pruned by a concurrent routing_train in between: a newer model exists,
    # the next call finds it; this one uses the keywords.
    blob = ClassifierModel.objects.filter(pk=latest[0]).values_list("blob", flat=True).first()
    if blob is None:
        return None
    try:
        pipeline = pickle.loads(bytes(blob))  # noqa: S301 (see model_save)
    except Exception:
        # E.g. pickled by another scikit-learn version: filing a request must
        # not fail over a suggestion. Retraining fixes it.
        logger.exception("Classifier model %s cannot be loaded; using keywords.", latest[0])
        pipeline = None
    _loaded.clear()  # only the current model is worth its memory
    _loaded[latest] = pipeline
    return pipeline


# --- suggestion ------------------------------------------------------------


def suggest(text: str) -> Suggestion | None:
    """The most likely request type for a text, or None if there is nothing
    to go on. Uses the latest trained model, else the keywords."""
    if not text or not text.strip():
        return None
    pipeline = _pipeline_current()
    if pipeline is None:
        return keywords_suggest(text)
    probabilities = pipeline.predict_proba([text])[0]
    best = int(probabilities.argmax())
    return Suggestion(
        slug=str(pipeline.classes_[best]),
        confidence=float(probabilities[best]),
        source=SOURCE_MODEL,
    )


def suggestions_top(text: str, *, limit: int = 3) -> list[Suggestion]:
    """Up to `limit` likely request types for a text, most likely first (the
    form finder ranks several forms, routing needs only `suggest`'s best).

    With a model: its probabilities, ties in the model's (alphabetical) class
    order. Without: every type with a keyword hit, its confidence computed
    as in keywords_suggest (so the first equals keywords_suggest's answer),
    ties in KEYWORDS order. Empty text, or no keyword hit: []."""
    if limit < 1 or not text or not text.strip():
        return []
    pipeline = _pipeline_current()
    if pipeline is None:
        return _keywords_ranked(text)[:limit]
    probabilities = pipeline.predict_proba([text])[0]
    # A stable sort on the negated probability keeps the class order on ties.
    order = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])
    return [
        Suggestion(
            slug=str(pipeline.classes_[i]),
            confidence=float(probabilities[i]),
            source=SOURCE_MODEL,
        )
        for i in order[:limit]
    ]


def _keywords_ranked(text: str) -> list[Suggestion]:
    folded = fold(text)
    hits = {
        slug: sum(1 for stem in stems if stem in folded) for slug, stems in _FOLDED_KEYWORDS.items()
    }
    total = sum(hits.values())
    ranked = sorted((slug for slug in hits if hits[slug]), key=lambda s: -hits[s])
    return [
        Suggestion(
            slug=slug,
            confidence=round(hits[slug] / total * (1 - 0.4 ** hits[slug]), 3),
            source=SOURCE_KEYWORDS,
        )
        for slug in ranked
    ]


def keywords_suggest(text: str) -> Suggestion | None:
    """The type with the most distinct keyword hits.

    confidence = share * (1 - 0.4 ** best), where best is the winner's
    number of hits and share = best / all hits of all types. One clear hit
    gives 0.6, two 0.84; a tie halves the share at least, so it stays at or
    below 0.5 (one hit each for two types: 0.3). On a tie the type listed
    first in KEYWORDS wins."""
    folded = fold(text)
    hits = {
        slug: sum(1 for stem in stems if stem in folded) for slug, stems in _FOLDED_KEYWORDS.items()
    }
    total = sum(hits.values())
    if total == 0:
        return None
    slug = max(hits, key=lambda s: hits[s])  # first maximum in KEYWORDS order
    best = hits[slug]
    confidence = best / total * (1 - 0.4**best)
    return Suggestion(slug=slug, confidence=round(confidence, 3), source=SOURCE_KEYWORDS)
