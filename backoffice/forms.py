import re

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.uploads import MultipleFileField, MultipleFileInput
from core.widgets import Select
from members.models import Member
from routing.models import Team
from tickets.files import file_clean
from tickets.models import RequestType, Status


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
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices, widget=Select)


class AssignForm(VersionedForm):
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.all(), required=False, widget=Select
    )
    assignee = forms.ModelChoiceField(
        widget=Select,
        label=_("Handler"),
        queryset=User.objects.filter(is_staff=True, is_active=True).order_by("first_name"),
        required=False,
        help_text=_("Leave empty to put the request into the team's queue."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].label_from_instance = lambda user: user.get_full_name()


class RerouteForm(VersionedForm):
    request_type = forms.ModelChoiceField(
        widget=Select,
        label=_("Correct the request type (optional)"),
        queryset=RequestType.objects.filter(active=True).order_by("name_de"),
        required=False,
        help_text=_(
            "The rules decide team, handler, priority and deadlines again, e.g. after the "
            "type was corrected. The member's answers stay as they were filed."
        ),
        error_messages={"invalid_choice": _("Choose a request type from the list.")},
    )


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


class MemberForm(VersionedForm):
    """Whose request it is: a suggested member with one click, or any
    member by their number."""

    member_number = forms.CharField(
        label=_("Member number"),
        max_length=20,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        error_messages={"required": _("Enter the member number.")},
    )

    def clean_member_number(self):
        number = self.cleaned_data["member_number"].strip()
        member = Member.objects.filter(member_number=number).first()
        if member is None:
            raise forms.ValidationError(_("There is no member with this number."))
        return member


SELECTED = re.compile(r"^(\d{1,18}):(\d{1,9})$")


class BulkForm(forms.Form):
    """Act on the requests ticked in the inbox. Each box ("bulk-selected")
    carries the ticket's id and the version the list showed ("17:3"), so a
    request a colleague changed meanwhile is left alone, not overwritten."""

    NOT_AVAILABLE = _(
        "At least one selected request is no longer available to you. Nothing has been "
        "changed; please select again."
    )

    action = forms.ChoiceField(choices=[("assign", "assign"), ("status", "status")])
    team = forms.ModelChoiceField(
        widget=Select,
        label=_("Team"),
        queryset=Team.objects.all(),
        required=False,
        error_messages={"invalid_choice": _("Choose a team from the list.")},
    )
    assignee = forms.ModelChoiceField(
        widget=Select,
        label=_("Handler"),
        queryset=User.objects.filter(is_staff=True, is_active=True).order_by(
            "first_name", "last_name", "pk"
        ),
        required=False,
        help_text=_("Leave empty to put the requests into the team's queue."),
        error_messages={"invalid_choice": _("Choose a handler from the list.")},
    )
    status = forms.ChoiceField(
        widget=Select,
        label=_("New status"),
        choices=[
            ("", _("Choose a status")),
            (Status.RESOLVED, Status.RESOLVED.label),
            (Status.CLOSED, Status.CLOSED.label),
        ],
        required=False,
        help_text=_("On “resolved” each member is told by e-mail, as with a single request."),
        error_messages={"invalid_choice": _("Choose a status from the list.")},
    )

    def __init__(self, *args, tickets, **kwargs):
        super().__init__(*args, prefix="bulk", **kwargs)
        self.tickets = tickets  # the ticks may only name requests these contain
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.email
        what = _("Choose what to do.")
        self.fields["action"].error_messages.update(required=what, invalid_choice=what)

    def checked(self) -> set[str]:
        """The ticked boxes, to tick them again when the page is shown again."""
        return set(self.data.getlist("bulk-selected")) if self.is_bound else set()

    def _selection(self) -> list[tuple]:
        pairs = {}
        for value in self.checked():
            match = SELECTED.match(value)
            if match is None:
                raise forms.ValidationError(self.NOT_AVAILABLE)
            pairs[int(match[1])] = int(match[2])
        if not pairs:
            raise forms.ValidationError(_("Select at least one request in the list."))
        found = {t.pk: t for t in self.tickets.filter(pk__in=pairs)}
        if len(found) != len(pairs):
            raise forms.ValidationError(self.NOT_AVAILABLE)
        return [(found[pk], version) for pk, version in pairs.items()]

    def clean(self):
        data = super().clean()
        try:
            data["selection"] = self._selection()
        except forms.ValidationError as error:
            self.add_error(None, error)
        action = data.get("action")
        if action == "assign":
            team, assignee = data.get("team"), data.get("assignee")
            if team is None:
                if "team" not in self.errors:
                    self.add_error("team", _("Choose the team that takes over the requests."))
            elif assignee is not None and not team.has_member(assignee):
                self.add_error(
                    "assignee",
                    _("%(name)s is not in the team %(team)s.")
                    % {"name": assignee.get_full_name(), "team": team.name},
                )
        elif action == "status" and not data.get("status") and "status" not in self.errors:
            self.add_error("status", _("Choose the new status."))
        return data


class IbanRevealForm(forms.Form):
    """Why a staff member needs a member's full IBAN: the access log keeps it."""

    reason = forms.CharField(
        label=_("Why do you need the full IBAN?"),
        max_length=150,
        help_text=_("For example “set up the direct debit”. It is recorded in the access log."),
        error_messages={"required": _("Please give a short reason: it goes into the access log.")},
    )
