"""Finding the right form: everyday words lead to a sensible first form,
the general question is always offered with the typed text, odd input
never breaks the page (tickets.finder, the page /anliegen/neu/).

The table runs through the test client on the demo forms, once as a fresh
installation has it (no trained model: the classifier's keywords) and once
with the model `make demo` trains from the shipped corpus."""

import datetime
import re
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from routing.classifier import (
    SOURCE_KEYWORDS,
    SOURCE_MODEL,
    corpus_load,
    keywords_suggest,
    model_save,
    suggestions_top,
    train,
)
from tests.helpers import de, otp_verify
from tickets.finder import (
    CLASSIFIER_FLOOR,
    CLASSIFIER_WEIGHT,
    PHRASE_BONUS,
    QUALITY_EXACT,
    QUALITY_PART,
    QUALITY_STEM,
    QUALITY_TYPO,
    QUERY_MAX,
    RELATIVE_CUT,
    WEIGHT_HELP,
    WEIGHT_NAME,
    WEIGHT_SYNONYM,
    FormText,
    forms_rank,
    match_quality,
    text_carry,
    words,
)
from tickets.models import Category, FieldKind, RequestField, RequestType, TicketDraft

pytestmark = pytest.mark.django_db

URL = "/anliegen/neu/"

# (what a member types, the slug of the form that must come first). The
# first seven are the issue's; the rest are ours: German, English, misspelt,
# without umlauts, shouting.
TABLE = [
    ("Heizung kalt", "schadensmeldung"),
    ("Wasserhahn tropft", "schadensmeldung"),
    ("kündigen", "kuendigung"),
    ("Schimmel", "schadensmeldung"),
    ("Umzug", "wohnungswechsel"),
    ("Lärm Nachbar", "allgemein"),
    # No appointment booking yet: a bare "Termin" is a general question, the
    # office arranges it; a tradesperson's visit belongs to the repair report.
    ("Termin", "allgemein"),
    ("Termin mit dem Handwerker", "schadensmeldung"),
    ("Handwerkertermin", "schadensmeldung"),
    ("Schlüssel verloren", "schluessel"),
    ("Darf ich einen Hund halten?", "genehmigung"),
    ("Untermieter aufnehmen", "genehmigung"),
    ("Markise anbringen", "genehmigung"),
    ("neue IBAN", "bankverbindung"),
    ("Kontonummer geändert", "bankverbindung"),
    ("Bescheinigung fürs Jobcenter", "mitgliedsbescheinigung"),
    ("Ich habe geheiratet", "namensaenderung"),
    ("Besuch übernachtet bei uns", "gaestewohnung"),
    ("Stellplatz fürs Auto", "parkplatz"),
    ("Zählerstand Wasser", "zaehlerstand"),
    ("Heizung ablesen", "zaehlerstand"),
    ("Nebenkostenabrechnung zu hoch", "nebenkosten"),
    ("Aufzug kaputt", "schadensmeldung"),
    ("Toilette verstopft", "schadensmeldung"),
    ("größere Wohnung", "wohnungswechsel"),
    ("Wohnung kündigen", "kuendigung"),
    ("Sperrmüll", "allgemein"),
    ("heating broken", "schadensmeldung"),
    ("lost my key", "schluessel"),
    ("change bank details", "bankverbindung"),
    ("guest apartment", "gaestewohnung"),
    ("noisy neighbours", "allgemein"),
    ("Heitzung kaputt", "schadensmeldung"),
    ("Kündigunng", "kuendigung"),
    ("Schlusel verlohren", "schluessel"),
    ("Shimmel im Bad", "schadensmeldung"),
    ("Nebenkostenabrechnug", "nebenkosten"),
    ("Zahler ablesen", "zaehlerstand"),
    ("Schluessel weg", "schluessel"),
    ("WASSERHAHN TROPFT!!!", "schadensmeldung"),
]

FOUND = re.compile(r'<ol class="choice-list" id="found">(.*?)</ol>', re.S)
# A form's link; the guest apartment's leads to online booking (issue 13),
# a certificate's to its own form (issue 15).
LINK = re.compile(
    r'<a href="(?:/anliegen/neu/([\w-]+)/|/bescheinigungen/neu/([\w-]+)/'
    r'|/raeume/\?art=(gaestewohnung))">'
)


def _found(response) -> list[str]:
    """The slugs of the "matching forms" list, in the order shown."""
    assert response.status_code == 200
    match = FOUND.search(response.content.decode())
    links = LINK.findall(match.group(1)) if match else []
    return [form or certificate or booked for form, certificate, booked in links]


def _general_link(response) -> str:
    body = response.content.decode()
    match = re.search(r'<section class="card" id="general-offer".*?href="([^"]+)"', body, re.S)
    assert match, "the general question is not offered"
    return match.group(1).replace("&amp;", "&")


@pytest.fixture(scope="module")
def pipeline():
    """The model `make demo` trains (routing_train --corpus), trained once."""
    return train(corpus_load())


# --- the table ----------------------------------------------------------------


@pytest.mark.parametrize(("phrase", "slug"), TABLE)
def test_it_puts_the_right_form_first(client, cast, phrase, slug):
    client.force_login(cast.alice)
    response = client.get(URL, {"q": phrase})
    found = _found(response)
    assert found and found[0] == slug, f"{phrase!r}: {found}"
    # Never a dead end: the general question is offered with the text.
    assert _general_link(response) == f"/anliegen/neu/allgemein/?text={quote(phrase)}"


def test_the_table_holds_with_the_trained_classifier_too(client, cast, pipeline):
    model_save(pipeline=pipeline, samples=678, accuracy=None)
    assert suggestions_top("Heizung kalt")[0].source == SOURCE_MODEL
    client.force_login(cast.alice)
    wrong = {}
    for phrase, slug in TABLE:
        found = _found(client.get(URL, {"q": phrase}))
        if not found or found[0] != slug:
            wrong[phrase] = found
    assert wrong == {}


def test_termin_offers_the_general_question_first_and_the_repair_report_too(client, cast):
    client.force_login(cast.alice)
    found = _found(client.get(URL, {"q": "Termin"}))
    assert found[0] == "allgemein"
    assert "schadensmeldung" in found


def test_umzug_also_offers_the_termination(client, cast):
    client.force_login(cast.alice)
    assert _found(client.get(URL, {"q": "Umzug"}))[:2] == ["wohnungswechsel", "kuendigung"]


def test_the_page_shows_results_first_then_the_offer_then_all_forms(client, cast):
    client.force_login(cast.alice)
    body = client.get(URL, {"q": "Heizung kalt"}).content.decode()
    order = [
        body.index(de("Matching forms")),
        body.index('id="general-offer"'),
        body.index(de("All forms")),
        body.index(de("Repairs and damage")),
    ]
    assert order == sorted(order)
    assert de("Ask a general question") in body
    # All forms are still listed below the results (one form found above).
    forms = RequestType.objects.filter(active=True, in_portal=True).count()
    assert forms >= 13
    assert len(LINK.findall(body)) == forms + 1


def test_english_members_read_english_names_and_find_by_english_words(client, cast):
    client.force_login(cast.alice)
    client.post("/sprache/", {"language": "en", "next": "/"})
    response = client.get(URL, {"q": "mould in the bathroom"})
    assert _found(response)[0] == "schadensmeldung"
    body = response.content.decode()
    assert "Matching forms" in body and "Repair report" in body


def test_forms_a_member_may_not_use_are_never_found(client, cast):
    # Dave's contract has ended: the contract holders' forms are not his.
    contract = cast.dave.member.contracts.get()
    contract.end = timezone.localdate() - datetime.timedelta(days=1)
    contract.save(update_fields=["end"])
    client.force_login(cast.dave)
    response = client.get(URL, {"q": "Heizung kalt"})
    assert "schadensmeldung" not in _found(response)
    assert "schadensmeldung" not in response.content.decode()
    assert _general_link(response).startswith("/anliegen/neu/allgemein/?text=")


def test_inactive_and_staff_only_forms_are_never_found(client, cast):
    RequestType.objects.filter(slug="schadensmeldung").update(in_portal=False)
    RequestType.objects.filter(slug="schluessel").update(active=False)
    client.force_login(cast.alice)
    assert "schadensmeldung" not in _found(client.get(URL, {"q": "Heizung kalt"}))
    assert "schluessel" not in _found(client.get(URL, {"q": "Schlüssel verloren"}))


def test_everyday_words_edited_in_the_admin_count_at_once(client, cast):
    client.force_login(cast.alice)
    assert "allgemein" not in _found(client.get(URL, {"q": "Grillfest"}))
    general = RequestType.objects.get(slug="allgemein")
    general.synonyms += "\nGrillfest, Grillen im Hof"
    general.save(update_fields=["synonyms"])
    assert _found(client.get(URL, {"q": "Grillfest"}))[0] == "allgemein"


def test_the_admin_shows_and_searches_the_everyday_words(client, cast):
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    general = RequestType.objects.get(slug="allgemein")
    page = client.get(f"/verwaltung/tickets/requesttype/{general.pk}/change/").content.decode()
    assert 'name="synonyms"' in page and "Sperrmüll" in page
    listing = client.get("/verwaltung/tickets/requesttype/", {"q": "Sperrmüll"}).content.decode()
    assert f"/verwaltung/tickets/requesttype/{general.pk}/change/" in listing
    assert "/schadensmeldung/" not in listing


# --- the general question and the carried text --------------------------------


def test_the_general_question_is_offered_without_a_search_and_without_a_hit(client, cast):
    client.force_login(cast.alice)
    assert _general_link(client.get(URL)) == "/anliegen/neu/allgemein/"
    response = client.get(URL, {"q": "xyzzy plugh"})
    assert _found(response) == []
    assert de("No form matches your search.") in response.content.decode()
    assert _general_link(response) == "/anliegen/neu/allgemein/?text=xyzzy%20plugh"


def test_the_general_question_is_found_by_category_not_by_slug(client, cast):
    RequestType.objects.filter(slug="allgemein").update(slug="frage")
    client.force_login(cast.alice)
    assert _general_link(client.get(URL, {"q": "Lärm"})) == "/anliegen/neu/frage/?text=L%C3%A4rm"


def test_the_typed_text_arrives_in_the_message_of_the_general_question(client, cast):
    client.force_login(cast.alice)
    link = _general_link(client.get(URL, {"q": 'Wer mäht den Rasen? "Bitte" <b>'}))
    body = client.get(link).content.decode()
    textarea = re.search(r'<textarea name="message"[^>]*>(.*?)</textarea>', body, re.S)
    assert textarea.group(1).strip() == "Wer mäht den Rasen? &quot;Bitte&quot; &lt;b&gt;"
    # The subject stays for the member to write.
    assert re.search(r'<input type="text" name="subject"(?![^>]*value=)', body)


def test_the_carried_text_never_overwrites_a_draft(client, cast):
    client.force_login(cast.alice)
    general = RequestType.objects.get(slug="allgemein")
    TicketDraft.objects.create(
        user=cast.alice, request_type=general, answers={"subject": "S", "message": "Mein Text"}
    )
    body = client.get("/anliegen/neu/allgemein/", {"text": "anderes"}).content.decode()
    assert re.search(r'<textarea name="message"[^>]*>\s*Mein Text</textarea>', body)


def test_a_draft_without_a_message_takes_the_text(client, cast):
    client.force_login(cast.alice)
    general = RequestType.objects.get(slug="allgemein")
    TicketDraft.objects.create(user=cast.alice, request_type=general, answers={"subject": "S"})
    body = client.get("/anliegen/neu/allgemein/", {"text": "Lärm"}).content.decode()
    assert re.search(r'name="subject"[^>]*value="S"', body)
    assert re.search(r'<textarea name="message"[^>]*>\s*Lärm</textarea>', body)


def test_the_carried_text_goes_into_the_first_long_text_field_only():
    definitions = [
        {"key": "subject", "kind": FieldKind.TEXT},
        {"key": "what", "kind": FieldKind.TEXTAREA},
        {"key": "more", "kind": FieldKind.TEXTAREA},
    ]
    assert text_carry(definitions, {}, "  Heizung   kalt ") == {"what": "Heizung kalt"}
    assert text_carry(definitions, {"what": "eigener"}, "x") == {"what": "eigener"}
    assert text_carry(definitions, {"what": "  "}, "x") == {"what": "x"}
    assert text_carry(definitions, {"subject": "S"}, "") == {"subject": "S"}
    assert text_carry(definitions[:1], {}, "x") == {}
    assert text_carry(definitions, {}, "y" * 5000) == {"what": "y" * QUERY_MAX}


# --- odd input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        '"',
        "'; DROP TABLE tickets_ticket; --",
        '<script>alert("x")</script>',
        "äöüß ÄÖÜ",
        "?!.,;:-_()[]{}",
        "%",
        "🙂🔥💧",
        "שלום",
        "a" * 500,
        "Heizung " * 100,
        "x" * 5000,
    ],
)
def test_odd_input_gives_results_or_a_friendly_empty_state(client, cast, query):
    client.force_login(cast.alice)
    response = client.get(URL, {"q": query})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert" not in body
    # Every form is still listed and the general question offered.
    forms = body.count('<a href="/anliegen/neu/') + body.count('<a href="/bescheinigungen/neu/')
    assert forms >= 14
    assert "/anliegen/neu/allgemein/" in body
    shown = re.search(r'<input class="input" type="search" id="q" name="q" value="([^"]*)"', body)
    assert len(shown.group(1)) <= QUERY_MAX * 6  # escaped, never more than 500 characters
    if query.strip() and not _found(response):
        assert de("No form matches your search.") in body


def test_a_long_query_is_cut_to_500_characters_and_still_finds(client, cast):
    client.force_login(cast.alice)
    response = client.get(URL, {"q": "Heizung kalt " + "x" * 5000})
    assert _found(response)[0] == "schadensmeldung"
    assert response.context["query"] == ("Heizung kalt " + "x" * 5000)[:QUERY_MAX]
    assert f'maxlength="{QUERY_MAX}"' in response.content.decode()


def test_a_nul_in_the_search_is_refused_by_the_middleware(client, cast):
    client.force_login(cast.alice)
    assert client.get(URL, {"q": "Hei\x00zung"}).status_code == 400


def test_the_page_wants_a_member_and_get(client, cast):
    assert client.get(URL, {"q": "Heizung"}).status_code == 302
    client.force_login(cast.alice)
    assert client.post(URL, {"q": "Heizung"}).status_code == 405


# --- queries ------------------------------------------------------------------


def _count_queries(client, query) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, {"q": query}).status_code == 200
    return len(captured)


def test_the_search_page_needs_a_fixed_number_of_queries(
    client, cast, pipeline, django_assert_max_num_queries
):
    model_save(pipeline=pipeline, samples=678, accuracy=None)
    client.force_login(cast.alice)
    client.get(URL, {"q": "warm up"})  # the model is unpickled once per process
    with django_assert_max_num_queries(8):
        client.get(URL, {"q": "Heizung kalt"})
    before = _count_queries(client, "Heizung kalt")
    for number in range(20):
        RequestType.objects.create(
            slug=f"extra-{number}",
            name_de=f"Heizung Formular {number}",
            name_en=f"Extra {number}",
            category=Category.REPAIR,
            synonyms="Heizung kalt, Heizkörper",
        )
    assert _count_queries(client, "Heizung kalt") == before
    assert _count_queries(client, "") <= before


# --- the ranking itself (pure) ------------------------------------------------


def _form(slug, names=("",), helps=("",), synonyms=""):
    return FormText(slug=slug, names=tuple(names), helps=tuple(helps), synonyms=synonyms)


def test_words_fold_umlauts_case_and_drop_stopwords():
    assert words("Ich möchte meine SCHLÜSSEL, bitte!") == ["schlussel"]
    assert words("Schlüssel Schluessel Schlussel") == ["schlussel"]
    assert words("2024 a Heizung heizung") == ["heizung"]
    assert words("\"'<>") == []


@pytest.mark.parametrize(
    ("query_word", "form_word", "quality"),
    [
        ("heizung", "heizung", QUALITY_EXACT),
        ("tropft", "tropfen", QUALITY_STEM),
        ("kundigen", "kundigung", QUALITY_STEM),
        ("nachbarn", "nachbar", QUALITY_STEM),
        ("garage", "tiefgarage", QUALITY_PART),
        ("kuchenwasserhahn", "wasserhahn", QUALITY_PART),
        ("heitzung", "heizung", QUALITY_TYPO),
        ("shimmel", "schimmel", QUALITY_TYPO),
        ("nebenkostenabrechnug", "nebenkostenabrechnung", QUALITY_TYPO),
        ("kalt", "kalk", 0.0),  # too short for a typo
        ("himmel", "schimmel", QUALITY_PART),  # the end of it, 5+ letters
        ("aimmel", "schimmel", 0.0),  # a typo must keep the first letter
        ("haus", "hausordnung", 0.0),  # too short to be a part
        ("termin", "untermieter", 0.0),  # inside a word is chance, not a compound
        ("heizung", "heizungsausfall", QUALITY_PART),
    ],
)
def test_match_quality(query_word, form_word, quality):
    assert match_quality(query_word, form_word) == quality


def test_the_score_is_the_documented_sum():
    forms = [
        _form("a", names=("Schaden",), helps=("Wohnung",), synonyms="Heizung kalt, Heizung"),
        _form("b", names=("Wohnung",)),
    ]
    ranked = forms_rank(query="Heizung kalt Wohnung", forms=forms, classifier={"a": 0.8})
    expected_a = (
        WEIGHT_SYNONYM  # "heizung", an everyday word
        + 1.5  # "kalt", a word of the phrase "Heizung kalt" on its own
        + WEIGHT_HELP  # "wohnung" in the help text
        + PHRASE_BONUS  # the whole phrase "Heizung kalt"
        + CLASSIFIER_WEIGHT * (0.8 - CLASSIFIER_FLOOR)
    )
    assert [(r.slug, r.score) for r in ranked] == [("a", round(expected_a, 3))]
    # b's name hit (2.0) is below a third of a's score: not shown.
    assert expected_a * RELATIVE_CUT > WEIGHT_NAME


def test_the_classifier_below_its_floor_adds_nothing_and_alone_can_lift_a_form():
    forms = [_form("a"), _form("b")]
    assert forms_rank(query="xyzzy", forms=forms, classifier={"a": CLASSIFIER_FLOOR}) == []
    ranked = forms_rank(query="xyzzy", forms=forms, classifier={"b": 0.9})
    assert [(r.slug, r.score) for r in ranked] == [("b", 2.4)]


def test_ties_keep_the_order_of_the_forms_and_the_ranking_is_deterministic():
    forms = [_form(slug, synonyms="Termin") for slug in ("c", "a", "b")]
    first = forms_rank(query="Termin", forms=forms, classifier={})
    assert [r.slug for r in first] == ["c", "a", "b"]
    assert forms_rank(query="Termin", forms=forms, classifier={}) == first


def test_at_most_five_forms_are_shown():
    forms = [_form(f"f{i}", synonyms="Heizung") for i in range(9)]
    assert len(forms_rank(query="Heizung", forms=forms, classifier={})) == 5


# --- the classifier's top k -------------------------------------------------------


def test_suggestions_top_without_a_model_uses_the_keywords():
    top = suggestions_top("Schlüssel verloren, Heizung kaputt und defekt", limit=5)
    assert [s.slug for s in top] == ["schadensmeldung", "schluessel"]
    assert all(s.source == SOURCE_KEYWORDS for s in top)
    best = keywords_suggest("Schlüssel verloren, Heizung kaputt und defekt")
    assert (top[0].slug, top[0].confidence) == (best.slug, best.confidence)
    assert suggestions_top("Heizung kaputt", limit=0) == []
    assert suggestions_top("   ") == []
    assert suggestions_top("xyzzy") == []


def test_suggestions_top_with_a_model_gives_k_types_best_first(pipeline):
    model_save(pipeline=pipeline, samples=678, accuracy=None)
    top = suggestions_top("Die Heizung ist kalt", limit=3)
    assert len(top) == 3 and top[0].slug == "schadensmeldung"
    assert [s.confidence for s in top] == sorted((s.confidence for s in top), reverse=True)
    assert all(s.source == SOURCE_MODEL for s in top)


def test_every_demo_form_has_everyday_words(cast):
    for request_type in RequestType.objects.filter(in_portal=True, active=True):
        assert len(request_type.synonyms.split(",")) >= 10, request_type.slug
    assert RequestField.objects.filter(request_type__slug="allgemein", key="message").exists()
