import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.services import NOTE_MAX


def moment_parse(value: str) -> datetime.datetime | None:
    """A slot's start as the pages carry it (ISO 8601 with its offset);
    None for anything else (a hand-edited address)."""
    try:
        moment = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    return timezone.localtime(moment)


class ConfirmForm(forms.Form):
    note = forms.CharField(
        label=_("What would you like to talk about?"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    ticket = forms.ChoiceField(label=_("About one of your requests"), required=False)
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, tickets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.tickets = {ticket.reference: ticket for ticket in tickets}
        self.fields["ticket"].choices = [("", _("No request"))] + [
            (ticket.reference, f"{ticket.reference} – {ticket.request_type.name}")
            for ticket in tickets
        ]
        if not tickets:
            del self.fields["ticket"]

    def ticket_chosen(self):
        return self.tickets.get(self.cleaned_data.get("ticket") or "")
