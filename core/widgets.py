"""Widgets that render their HTML in Python.

Django renders a <select> through a template per option (and one more for
each option's attributes): for the inbox's filters, with every handler,
type and estate as an option, that was a fifth of the page's time. These
produce exactly the markup of Django's templates (same attributes, same
escaping), from the same context, without the template engine."""

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    """Django's attrs.html: in the given order, False leaves the attribute
    out, True writes it bare."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


class Select(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], _attrs(widget["attrs"]))]
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(format_html('<optgroup label="{}">', group))
            parts.append(
                format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    ((str(o["value"]), _attrs(o["attrs"]), o["label"]) for o in options),
                )
            )
            if group:
                parts.append("</optgroup>")
        parts.append("</select>")
        # Every part is format_html output (escaped) or a fixed tag above.
        return mark_safe("".join(parts))  # noqa: S308


class SelectMultiple(Select, forms.SelectMultiple):
    pass
