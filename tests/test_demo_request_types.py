"""Every demo form can be filed by a member, in German and in English."""

import pytest
from django.utils.html import escape

from demo.request_types import TYPES, tickets_demo_ensure
from tests.factories import field_answer
from tickets.models import FieldKind, RequestField, RequestType, Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_has_17_complete_types_and_reruns_cleanly(cast):
    tickets_demo_ensure()
    assert RequestType.objects.filter(slug__in=[t["slug"] for t in TYPES]).count() == 17
    for request_type in RequestType.objects.filter(slug__in=[t["slug"] for t in TYPES]):
        assert request_type.name_de and request_type.name_en and request_type.default_team
        assert request_type.fields.filter(required=True).exists()
        for field in request_type.fields.filter(kind__in=[FieldKind.CHOICE, FieldKind.MULTICHOICE]):
            choices = field.choice_list()
            assert len(choices) >= 2 and all(c["de"] and c["en"] for c in choices)
    field = RequestField.objects.get(request_type__slug="allgemein", key="subject")
    field.label_de = "verändert"
    field.save()
    RequestField.objects.create(
        request_type=field.request_type,
        key="extra",
        kind=FieldKind.TEXT,
        label_de="x",
        label_en="x",
    )
    tickets_demo_ensure()
    assert RequestField.objects.get(pk=field.pk).label_de == "Betreff"
    assert not RequestField.objects.filter(key="extra").exists()


@pytest.mark.parametrize("language", ["de", "en"])
# The guest apartment is booked online (tests/test_rooms.py: its form
# leads to the booking pages); staff still log a caller's wish with it.
# Certificates have a form of their own (below).
@pytest.mark.parametrize(
    "slug", [t["slug"] for t in TYPES if not t.get("books") and not t.get("certificate")]
)
def test_a_member_files_each_demo_form(client, cast, slug, language):
    client.force_login(cast.alice)
    client.post("/sprache/", {"language": language, "next": "/"})
    request_type = RequestType.objects.get(slug=slug)
    page = client.get(f"/anliegen/neu/{slug}/")
    assert page.status_code == 200
    name = request_type.name_en if language == "en" else request_type.name_de
    assert name in page.content.decode()
    data = {field.key: field_answer(field, language) for field in request_type.fields.all()}
    response = client.post(f"/anliegen/neu/{slug}/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    response = client.post(f"/anliegen/neu/{slug}/pruefen/")
    ticket = Ticket.objects.get(request_type=request_type)
    assert response["Location"] == f"/anliegen/{ticket.reference}/"
    assert ticket.team == request_type.default_team
    detail = client.get(response["Location"]).content.decode()
    assert name in detail


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("slug", [t["slug"] for t in TYPES if t.get("certificate")])
def test_a_member_gets_each_demo_certificate(client, cast, slug, language, settings, tmp_path):
    """The certificate forms lead to their own page, which issues the
    certificate at once (tests/test_certificates.py has the rest)."""
    settings.MEDIA_ROOT = tmp_path
    client.force_login(cast.alice)
    client.post("/sprache/", {"language": language, "next": "/"})
    request_type = RequestType.objects.get(slug=slug)
    form = client.get(f"/anliegen/neu/{slug}/")["Location"]
    assert form == f"/bescheinigungen/neu/{slug}/"
    page = client.get(form)
    name = request_type.name_en if language == "en" else request_type.name_de
    assert escape(name) in page.content.decode()
    data = {field.key: field_answer(field, language) for field in request_type.fields.all()}
    response = client.post(form, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    ticket = Ticket.objects.get(request_type=request_type)
    assert ticket.team == request_type.default_team
    assert ticket.certificate.language == language
    detail = client.get(response["Location"]).content.decode()
    assert ticket.reference in detail
