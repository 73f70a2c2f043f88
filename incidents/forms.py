import re

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.services import TEXT_MAX, TITLE_MAX

_REFERENCE = re.compile(r"\bA-\d{4}-\d{6}\b")


class IncidentForm(forms.Form):
    """Title and the text members read, when accepting a proposal."""

    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        help_text=_('Members read: "Known incident: <title> — being worked on".'),
        error_messages={"required": _("Please give the incident a title.")},
    )
    public_text = forms.CharField(
        label=_("Text for members"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What happened and what you are doing about it; shown on their requests."),
    )


class IncidentNewForm(IncidentForm):
    """An incident by hand: the requests it groups, by reference."""

    references = forms.CharField(
        label=_("Requests"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Their references (A-2026-000123), separated by spaces or lines."),
        error_messages={"required": _("Please name at least one request.")},
    )

    def clean_references(self) -> list[str]:
        found = list(dict.fromkeys(_REFERENCE.findall(self.cleaned_data["references"].upper())))
        if not found:
            raise forms.ValidationError(_("Please name at least one request by its reference."))
        return found
