"""The demo teams and the 17 pre-made request forms: complete, bilingual and
idempotent (re-running restores the demo instead of duplicating it)."""

import re
from decimal import Decimal

import pytest

from demo.request_types import TEAMS, TYPES, teams_ensure, tickets_demo_ensure
from routing.models import Priority, Team
from tickets.models import Category, FieldKind, RequestField, RequestType

pytestmark = pytest.mark.django_db

SLUGS = [spec["slug"] for spec in TYPES]
# The keys of RequestField.as_definition(): what every ticket stores as its form.
DEFINITION_KEYS = {"key", "kind", "label", "help", "required", "choices", "min", "max", "no_past"}


def _demo_types():
    return RequestType.objects.filter(slug__in=SLUGS).prefetch_related("fields")


def test_running_twice_gives_17_types_5_teams_and_no_duplicate_fields():
    first = tickets_demo_ensure()
    field_ids = set(RequestField.objects.values_list("pk", flat=True))
    second = tickets_demo_ensure()

    assert len(first) == len(second) == 17
    assert [t.pk for t in first] == [t.pk for t in second]
    assert RequestType.objects.count() == 17
    assert sorted(RequestType.objects.values_list("slug", flat=True)) == sorted(SLUGS)
    assert Team.objects.count() == 5
    assert set(Team.objects.values_list("name", flat=True)) == set(TEAMS)
    # Fields are updated in place, not recreated.
    assert set(RequestField.objects.values_list("pk", flat=True)) == field_ids
    for spec in TYPES:
        keys = list(
            RequestField.objects.filter(request_type__slug=spec["slug"]).values_list(
                "key", flat=True
            )
        )
        assert keys == [field["key"] for field in spec["fields"]]
        assert len(keys) == len(set(keys))


def test_teams_and_their_people(cast):
    teams = teams_ensure()
    assert set(teams) == {
        "Vermietung",
        "Technik",
        "Mitgliederwesen",
        "Rechnungswesen",
        "Hausverwaltung",
    }
    assert set(teams["Technik"].members.all()) == {cast.hanna, cast.tom}
    assert teams["Technik"].lead == cast.tom
    assert list(teams["Hausverwaltung"].members.all()) == [cast.hanna]
    assert not teams["Vermietung"].members.exists()


def test_teams_without_the_staff_cast():
    teams = teams_ensure()
    assert len(teams) == 5
    assert teams["Technik"].lead is None
    assert not teams["Technik"].members.exists()


def test_every_type_is_bilingual_active_routed_and_has_a_required_field():
    tickets_demo_ensure()
    for request_type in _demo_types():
        assert request_type.name_de and request_type.name_en, request_type.slug
        assert request_type.name_de != request_type.name_en, request_type.slug
        assert request_type.help_de and request_type.help_en, request_type.slug
        assert request_type.active and request_type.in_portal
        assert request_type.default_team is not None
        assert request_type.category in Category.values
        assert request_type.audience in RequestType.Audience.values
        assert any(field.required for field in request_type.fields.all()), request_type.slug
        for field in request_type.fields.all():
            assert re.fullmatch(r"[a-z][a-z0-9_]*", field.key), field.key
            assert field.label_de and field.label_en, (request_type.slug, field.key)
            assert field.kind in FieldKind.values


def test_every_choice_field_offers_at_least_two_bilingual_choices():
    tickets_demo_ensure()
    fields = RequestField.objects.filter(
        request_type__slug__in=SLUGS, kind__in=[FieldKind.CHOICE, FieldKind.MULTICHOICE]
    )
    assert fields.count() >= 8
    for field in fields:
        choices = field.choice_list()
        assert len(choices) >= 2, field.key
        values = [choice["value"] for choice in choices]
        assert len(values) == len(set(values))
        for line in field.choices.splitlines():
            # value|German|English, and optionally the priority it gives.
            assert line.count("|") in (2, 3), line
        for choice in choices:
            assert choice.get("priority", "normal") in Priority.values, choice
        for choice in choices:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", choice["value"])
            assert choice["de"] and choice["en"]


def test_number_fields_have_decimal_bounds():
    tickets_demo_ensure()
    guests = RequestField.objects.get(request_type__slug="gaestewohnung", key="guests")
    assert (guests.min_value, guests.max_value) == (Decimal(1), Decimal(6))
    year = RequestField.objects.get(request_type__slug="nebenkosten", key="year")
    assert (year.min_value, year.max_value) == (Decimal(2000), Decimal(2100))
    reading = RequestField.objects.get(request_type__slug="zaehlerstand", key="reading")
    assert (reading.min_value, reading.max_value) == (Decimal(0), None)


def test_the_repair_report_is_routed_to_technik_for_contract_holders():
    tickets_demo_ensure()
    repair = RequestType.objects.get(slug="schadensmeldung")
    assert repair.default_team.name == "Technik"
    assert repair.audience == RequestType.Audience.CONTRACT_HOLDERS
    assert repair.category == Category.REPAIR
    fields = {field.key: field for field in repair.fields.all()}
    assert list(fields) == ["room", "what", "since", "urgency", "photos", "master_key"]
    assert fields["room"].kind == FieldKind.ROOM and fields["room"].required
    assert fields["since"].kind == FieldKind.DATE and not fields["since"].required
    assert fields["photos"].kind == FieldKind.FILE and not fields["photos"].required
    assert fields["master_key"].kind == FieldKind.YESNO and fields["master_key"].required
    urgency = fields["urgency"]
    assert [c["value"] for c in urgency.choice_list()] == ["normal", "dringend", "notfall"]
    assert "Notrufnummer" in urgency.help_de and "emergency number" in urgency.help_en


def test_rerunning_restores_edited_fields_and_types():
    tickets_demo_ensure()
    field = RequestField.objects.get(request_type__slug="allgemein", key="subject")
    field.label_de = "verändert"
    field.required = False
    field.save()
    request_type = field.request_type
    request_type.name_en = "changed"
    request_type.active = False
    request_type.default_team = Team.objects.get(name="Technik")
    request_type.save()
    RequestField.objects.create(
        request_type=request_type, key="extra", kind=FieldKind.TEXT, label_de="x", label_en="x"
    )
    RequestField.objects.filter(request_type__slug="schadensmeldung", key="urgency").delete()

    tickets_demo_ensure()

    field.refresh_from_db()
    assert (field.label_de, field.required) == ("Betreff", True)
    request_type.refresh_from_db()
    assert request_type.name_en == "General question"
    assert request_type.active
    assert request_type.default_team.name == "Mitgliederwesen"
    assert not RequestField.objects.filter(request_type__slug="allgemein", key="extra").exists()
    assert RequestField.objects.filter(request_type__slug="schadensmeldung", key="urgency").exists()


def test_other_request_types_are_left_alone():
    other = RequestType.objects.create(
        slug="eigenes-formular", name_de="Eigenes", name_en="Own", category=Category.GENERAL
    )
    RequestField.objects.create(
        request_type=other, key="extra", kind=FieldKind.TEXT, label_de="x", label_en="x"
    )
    tickets_demo_ensure()
    assert other.fields.filter(key="extra").exists()
    assert RequestType.objects.count() == 18


def test_snapshot_returns_complete_definitions():
    tickets_demo_ensure()
    for request_type in _demo_types():
        snapshot = request_type.snapshot()
        assert [d["key"] for d in snapshot] == [f.key for f in request_type.fields.all()]
        for definition in snapshot:
            assert set(definition) == DEFINITION_KEYS
            assert set(definition["label"]) == {"de", "en"}
            assert set(definition["help"]) == {"de", "en"}
    guests = RequestType.objects.get(slug="gaestewohnung").snapshot()[2]
    assert (guests["key"], guests["min"], guests["max"]) == ("guests", "1.00", "6.00")
    delivery = RequestType.objects.get(slug="mitgliedsbescheinigung").snapshot()[1]
    assert delivery["choices"] == [
        {"value": "download", "de": "Sofort als PDF herunterladen", "en": "Download as PDF now"},
        {"value": "post", "de": "Per Post", "en": "By post"},
    ]
