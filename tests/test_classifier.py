"""The request-type classifier: corpus, accuracy, keyword fallback, the
stored model and the two management commands. Real training, no mocks;
full training runs three times in this file (evaluation fixture, train
command), everything else uses small samples."""

import io
import itertools
import pickle
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from routing.classifier import (
    KEYWORDS,
    MODELS_KEPT,
    SOURCE_KEYWORDS,
    SOURCE_MODEL,
    corpus_load,
    evaluate,
    keywords_suggest,
    model_save,
    suggest,
    train,
)
from routing.models import ClassifierModel
from tests.factories import ticket_create
from tickets.selectors import ticket_text, training_samples


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str]]:
    return corpus_load()


@pytest.fixture(scope="module")
def evaluation(corpus):
    return evaluate(corpus)


@pytest.fixture(scope="module")
def small_samples(corpus) -> list[tuple[str, str]]:
    """Ten texts each of three types: enough for a quick, real model."""
    wanted = ("bankverbindung", "schadensmeldung", "schluessel")
    return [
        sample
        for slug in wanted
        for sample in itertools.islice((s for s in corpus if s[0] == slug), 10)
    ]


@pytest.fixture(scope="module")
def tiny_pipeline(small_samples):
    return train(small_samples)


# --- corpus and accuracy ---------------------------------------------------


def test_the_corpus_has_enough_rows_of_13_types(corpus):
    assert len(corpus) >= 600
    assert len({slug for slug, _text in corpus}) == 13
    assert {slug for slug, _text in corpus} == set(KEYWORDS)
    assert all(text for _slug, text in corpus)


def test_the_corpus_reaches_the_target_accuracy(evaluation):
    assert evaluation.accuracy >= 0.85
    assert len(evaluation.labels) == 13
    assert sum(map(sum, evaluation.confusion)) == evaluation.test_count
    assert evaluation.correct == round(evaluation.accuracy * evaluation.test_count)
    # Stratified: every type is in the test part.
    assert all(sum(row) > 0 for row in evaluation.confusion)


def test_evaluate_copes_with_a_type_of_a_single_sample(small_samples):
    samples = [*small_samples, ("parkplatz", "Ich suche einen Stellplatz für mein Auto.")]
    result = evaluate(samples, test_size=0.3, seed=1)
    assert sum(map(sum, result.confusion)) == result.test_count
    assert "parkplatz" in result.labels


def test_training_needs_two_types():
    with pytest.raises(ValueError):
        train([("schluessel", "Schlüssel verloren"), ("schluessel", "Chip kaputt")])


# --- keyword fallback -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Bei uns tropft der Wasserhahn in der Küche.", "schadensmeldung"),
        ("Ich habe meinen Schlüssel verloren.", "schluessel"),
        ("Ich habe meinen Schluessel verloren.", "schluessel"),
        ("SCHLÜSSELBUND WEG", "schluessel"),
        ("Meine neue IBAN lautet DE02 1203 0000 0000 2020 51.", "bankverbindung"),
        ("Wir möchten die Gästewohnung im Mai reservieren.", "gaestewohnung"),
        ("Wir moechten die Gaestewohnung im Mai reservieren.", "gaestewohnung"),
        ("Hiermit kündige ich meine Wohnung zum 31.7.", "kuendigung"),
        ("Zählerstand Kaltwasser: 123,4 m³", "zaehlerstand"),
        ("Frage zur Nebenkostenabrechnung: die Nachzahlung ist zu hoch.", "nebenkosten"),
    ],
)
def test_keywords_suggest_a_type_without_a_model(text, slug):
    suggestion = suggest(text)
    assert suggestion is not None
    assert suggestion.slug == slug
    assert suggestion.source == SOURCE_KEYWORDS
    assert 0 < suggestion.confidence <= 1


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["", "   ", "xyzzy qwertz 4711", "Hallo!"])
def test_keywords_suggest_nothing_without_a_hit(text):
    assert suggest(text) is None


def test_keyword_confidence_one_hit_tie_and_more_hits():
    one = keywords_suggest("Der Transponder geht nicht.")
    assert one is not None and one.slug == "schluessel" and one.confidence == 0.6
    # One hit each for two types: a weak suggestion, the first listed wins.
    tie = keywords_suggest("Heizung und Transponder")
    assert tie is not None and tie.confidence <= 0.5
    assert tie.slug == "schadensmeldung"
    more = keywords_suggest("Heizung defekt, Heizkörper undicht")
    assert more is not None and more.slug == "schadensmeldung" and more.confidence > 0.8


def test_umlaut_spellings_score_the_same():
    with_umlauts = keywords_suggest("Gästewohnung für Übernachtung")
    without = keywords_suggest("Gaestewohnung fuer Uebernachtung")
    assert with_umlauts == without
    assert with_umlauts is not None and with_umlauts.slug == "gaestewohnung"


# --- stored model and commands ----------------------------------------------


@pytest.mark.django_db
def test_routing_train_stores_a_model_that_suggest_then_uses():
    out = io.StringIO()
    call_command("routing_train", "--corpus", stdout=out)
    output = out.getvalue()
    assert "678 samples" in output
    assert "accuracy 0." in output
    model = ClassifierModel.objects.get()
    assert model.samples == 678
    assert model.accuracy is not None and model.accuracy >= 0.85

    suggestion = suggest("Die Heizung im Wohnzimmer bleibt kalt")
    assert suggestion is not None
    assert suggestion.source == SOURCE_MODEL
    assert suggestion.slug == "schadensmeldung"
    assert suggestion.confidence > 0.5
    # A model always has an answer, even for gibberish; the caller's
    # confidence threshold decides whether to use it.
    assert suggest("xyzzy") is not None
    assert suggest("  ") is None


@pytest.mark.django_db
def test_routing_train_without_enough_samples_stores_nothing():
    out = io.StringIO()
    call_command("routing_train", stdout=out)
    assert "Only 0 samples" in out.getvalue()
    assert "No model was trained" in out.getvalue()
    assert not ClassifierModel.objects.exists()
    assert suggest("Schlüssel verloren").source == SOURCE_KEYWORDS


@pytest.mark.django_db
def test_routing_train_honours_min_samples(small_samples, cast):
    _resolved(small_samples)
    out = io.StringIO()
    call_command("routing_train", "--min-samples", "31", stdout=out)
    assert "Only 30 samples (30 from requests)" in out.getvalue()
    assert not ClassifierModel.objects.exists()


@pytest.mark.django_db
def test_model_save_keeps_the_newest_three_and_suggest_uses_the_latest(tiny_pipeline):
    saved = [
        model_save(pipeline=tiny_pipeline, samples=30 + i, accuracy=None)
        for i in range(MODELS_KEPT + 2)
    ]
    kept = list(ClassifierModel.objects.order_by("pk").values_list("pk", flat=True))
    assert kept == [m.pk for m in saved[-MODELS_KEPT:]]
    assert pickle.loads(bytes(ClassifierModel.objects.latest().blob)).classes_.tolist() == [
        "bankverbindung",
        "schadensmeldung",
        "schluessel",
    ]
    suggestion = suggest("Meine IBAN hat sich geändert, bitte neues Konto verwenden.")
    assert suggestion is not None
    assert suggestion.source == SOURCE_MODEL
    assert suggestion.slug == "bankverbindung"


# --- samples from the database ----------------------------------------------


def _request_type(slug: str):
    from tickets.models import RequestType

    request_type, _created = RequestType.objects.get_or_create(
        slug=slug,
        defaults={"name_de": slug.title(), "name_en": slug.title(), "category": "general"},
    )
    return request_type


def _resolved(samples):
    """One resolved request per (slug, text), filed through the factory; the
    text is its "what" answer."""
    from tickets.models import Status

    return [
        ticket_create(
            request_type=_request_type(slug), answers={"what": text}, status=Status.RESOLVED
        )
        for slug, text in samples
    ]


def test_training_samples_read_finished_unmerged_tickets(cast):
    from tickets.models import Status, Ticket, TicketEvent

    schaden = _request_type("schadensmeldung")
    frage = _request_type("allgemein")

    def ticket(request_type, status, answers, body=None, merged_into=None):
        created = ticket_create(
            request_type=request_type, answers=answers, status=status, merged_into=merged_into
        )
        if body is not None:
            # What the member wrote with the request: the body of its opened event.
            created.events.filter(kind="opened").update(body=body)
            TicketEvent.objects.create(
                ticket=created, kind="reply", public=True, actor=cast.hanna, body="Erledigt."
            )
        return created

    resolved = ticket(
        schaden,
        Status.RESOLVED,
        {"room": "kitchen", "what": "Wasserhahn tropft", "photos": ["x.jpg"], "urgent": True},
        body="Bitte schnell.",
    )
    ticket(frage, Status.CLOSED, {"question": "Wann ist das Sommerfest?", "count": 3})
    ticket(schaden, Status.IN_PROGRESS, {"what": "Heizung kalt"})
    ticket(schaden, Status.RESOLVED, {"what": "Doppelt gemeldet"}, merged_into=resolved)
    ticket(frage, Status.RESOLVED, {"confirmed": True})  # no text at all

    samples = dict(training_samples())
    assert set(samples) == {"allgemein", "schadensmeldung"}
    assert samples["allgemein"] == "Wann ist das Sommerfest?"
    # String answers (PostgreSQL's jsonb does not keep key order) and the
    # first event's body; not the reply, not booleans or numbers.
    text = samples["schadensmeldung"]
    assert text.endswith(" Bitte schnell.")
    words = ["kitchen", "Wasserhahn", "tropft", "x.jpg", "Bitte", "schnell."]
    assert sorted(text.split()) == sorted(words)
    # Outside training_samples the first event is looked up directly.
    assert ticket_text(Ticket.objects.get(pk=resolved.pk)) == text


def test_training_samples_need_no_query_per_ticket(cast, django_assert_max_num_queries):
    from tickets.models import TicketEvent

    tickets = _resolved([("schluessel", f"Schlüssel Nr. {i} verloren") for i in range(8)])
    TicketEvent.objects.filter(ticket__in=tickets, kind="opened").update(body="Danke")
    with django_assert_max_num_queries(3):
        samples = training_samples()
    assert len(samples) == 8
    assert all(text.endswith("verloren Danke") for _slug, text in samples)


@pytest.mark.django_db
def test_routing_eval_prints_accuracy_and_a_confusion_table(small_samples, cast):
    _resolved(random.Random(3).sample(small_samples, len(small_samples)))
    out = io.StringIO()
    call_command("routing_eval", "--test-size", "0.3", stdout=out)
    output = out.getvalue()
    assert "top-1 accuracy: " in output
    assert " of 9)" in output
    lines = output.splitlines()
    header = next(line for line in lines if "bankve" in line)
    assert header.split() == ["bankve", "schade", "schlue"]
    rows = [line for line in lines if line.startswith(("bankverbindung", "schadens", "schluessel"))]
    assert len(rows) == 3
    assert len({len(line) for line in [header, *rows]}) == 1  # aligned
    assert not ClassifierModel.objects.exists()


@pytest.mark.django_db
def test_routing_eval_refuses_too_few_samples():
    with pytest.raises(CommandError, match="at least 20"):
        call_command("routing_eval", stdout=io.StringIO())


@pytest.mark.django_db
def test_a_model_that_cannot_be_loaded_leaves_the_keywords_in_charge(caplog):
    ClassifierModel.objects.create(samples=1, accuracy=None, blob=b"not a pickle")
    suggestion = suggest("Ich habe meinen Schlüssel verloren.")
    assert suggestion is not None
    assert suggestion.source == SOURCE_KEYWORDS
    assert "cannot be loaded" in caplog.text
