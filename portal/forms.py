"""Forms of the public pages: the contact part of an accessibility report.

The report's own questions are the request type's fields
(tickets.feedback, shown through tickets.forms.RequestForm), so the office
edits them like any other form; what is asked here is how to reach someone
who is not logged in, and the trap for robots."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ReportContactForm(forms.Form):
    """Who to answer, for a report without a login. Everything optional but
    what the chosen way of answering needs (contact_check)."""

    name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    email = forms.EmailField(
        label=_("Your e-mail address"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Your phone number"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    # A field people never see (its block is hidden, so neither the screen
    # nor a screen reader shows it); robots that fill every field do.
    website = forms.CharField(label=_("Website"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "contact")
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})

    def is_robot(self) -> bool:
        return bool(self.data.get(self.add_prefix("website"), "").strip())

    def contact_check(self, *, reply: str) -> None:
        """The way of answering the person chose needs its address or number."""
        if reply == "email" and not self.cleaned_data.get("email"):
            self.add_error(
                "email", _("Please give your e-mail address, so that we can answer you.")
            )
        if reply == "phone" and not self.cleaned_data.get("phone"):
            self.add_error("phone", _("Please give your phone number, so that we can call you."))
