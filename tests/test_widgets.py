"""core.widgets.Select renders in Python what Django's select templates
render (issue 11: the inbox's filters spent a fifth of the page in them):
the same elements, attributes and escaping, whitespace aside."""

import re

import pytest
from django import forms

from core.widgets import Select, SelectMultiple
from routing.models import Team

CHOICES = [
    ("", "beliebig"),
    ("1", 'Müller & Söhne <"Hof">'),
    ("Gruppe <A>", [("2", "Zwei"), ("3", "Drei")]),
    (4, "Vier"),
]


def tight(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("value", [None, "", "1", "3", 4, "nicht da"])
@pytest.mark.parametrize(
    "attrs",
    [None, {"class": "input", "required": True, "aria-invalid": "true", "disabled": False}],
)
def test_select_renders_what_django_renders(value, attrs):
    ours = Select(choices=CHOICES).render("feld", value, attrs=attrs)
    django = forms.Select(choices=CHOICES).render("feld", value, attrs=attrs)
    assert tight(ours) == tight(django)
    assert "&lt;&quot;Hof&quot;&gt;" in ours and 'label="Gruppe &lt;A&gt;"' in ours


def test_select_multiple_renders_what_django_renders():
    ours = SelectMultiple(choices=CHOICES).render("feld", ["1", "3"], attrs={"id": "x"})
    django = forms.SelectMultiple(choices=CHOICES).render("feld", ["1", "3"], attrs={"id": "x"})
    assert tight(ours) == tight(django)
    assert ours.count(" selected") == 2 and " multiple" in ours


def test_a_model_choice_field_with_the_widget_renders_like_django(db):
    Team.objects.create(name="Technik & Bau")
    Team.objects.create(name="Vermietung")
    ours = forms.ModelChoiceField(Team.objects.order_by("name"), widget=Select)
    django = forms.ModelChoiceField(Team.objects.order_by("name"))
    first = Team.objects.order_by("name").first().pk
    assert tight(ours.widget.render("team", first)) == tight(django.widget.render("team", first))
