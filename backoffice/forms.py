from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from routing.models import Team
from tickets.files import file_clean
from tickets.forms import MultipleFileField, MultipleFileInput
from tickets.models import Status


class VersionedForm(forms.Form):
    # The ticket version the page showed; a newer one means a colleague acted.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ReplyForm(VersionedForm):
    visibility = forms.ChoiceField(
        label=_("Who may read it?"),
        choices=[
            ("public", _("Reply to the member (visible in the portal, sent by e-mail)")),
            ("internal", _("Internal note (staff only)")),
        ],
        initial="public",
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Text"), max_length=10000, widget=forms.Textarea(attrs={"rows": 8})
    )
    ask_member = forms.BooleanField(
        label=_("This is a question to the member (status “question to you”)"), required=False
    )
    files = MultipleFileField(label=_("Attachments"), required=False, widget=MultipleFileInput)

    def clean_files(self):
        return [file_clean(upload) for upload in self.cleaned_data.get("files") or []]


class StatusForm(VersionedForm):
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)


class AssignForm(VersionedForm):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    assignee = forms.ModelChoiceField(
        label=_("Handler"),
        queryset=User.objects.filter(is_staff=True, is_active=True).order_by("first_name"),
        required=False,
        help_text=_("Leave empty to put the request into the team's queue."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].label_from_instance = lambda user: user.get_full_name()


class ReferenceForm(VersionedForm):
    """Merge into, or link with, another request given by its reference."""

    reference = forms.RegexField(
        label=_("Reference of the other request"),
        regex=r"^\s*A-\d{4}-\d{6}\s*$",
        error_messages={"invalid": _("Enter a reference like A-2026-000123.")},
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )

    def clean_reference(self):
        return self.cleaned_data["reference"].strip()
