from django import template

register = template.Library()


@register.simple_tag
def widget(field, **attrs):
    """Render a field's widget wired to its hint and error for screen readers
    (aria-describedby, aria-invalid), as the GOV.UK patterns do."""
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
        attrs["aria-invalid"] = "true"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.field.required:
        attrs.setdefault("required", True)
    css = attrs.pop("class", "input")
    if field.errors:
        css += " input--error"
    attrs["class"] = css
    return field.as_widget(attrs=attrs)
