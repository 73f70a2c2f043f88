from django import forms
from django.utils.translation import gettext_lazy as _

from cooperative.models import Building, Estate
from notices.models import Notice, NoticeKind
from notices.services import TEXT_MAX, TITLE_MAX, NoticeContent, NoticeError, notice_check

# The browser's own date-and-time field; Django reads its ISO value.
MOMENT_FORMAT = "%Y-%m-%dT%H:%M"


def _moment_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=MOMENT_FORMAT)


class BuildingChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Building) -> str:
        return f"{obj.street} {obj.house_number} ({obj.estate.name})"


class NoticeForm(forms.Form):
    """A notice as staff write it: what, for whom, when. The same checks as
    the service (notices.services.notice_check), shown under each field."""

    kind = forms.ChoiceField(
        label=_("What is it about?"),
        choices=[("", "–"), *NoticeKind.choices],
        error_messages={"required": _("Please choose what the notice is about.")},
    )
    estate = forms.ModelChoiceField(
        label=_("Estate"),
        queryset=Estate.objects.order_by("name"),
        required=False,
        empty_label="–",
        help_text=_("For the whole estate; or choose some of its buildings below."),
    )
    buildings = BuildingChoices(
        label=_("Only these buildings"),
        queryset=Building.objects.select_related("estate").order_by(
            "estate__name", "street", "house_number"
        ),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every building of the estate."),
    )
    valid_from = forms.DateTimeField(
        label=_("Valid from"),
        widget=_moment_widget(),
        help_text=_("e.g. when the water is shut off. Residents see the notice at once."),
        error_messages={
            "required": _("Please give the day and time from which the notice holds."),
            "invalid": _("Please give a day and a time, e.g. 14.03.2026 08:00."),
        },
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until"),
        widget=_moment_widget(),
        required=False,
        help_text=_("Empty: until you withdraw it."),
        error_messages={"invalid": _("Please give a day and a time, e.g. 14.03.2026 12:00.")},
    )
    title_de = forms.CharField(
        label=_("Title (German)"),
        max_length=TITLE_MAX,
        error_messages={"required": _("Please give the notice a title.")},
    )
    text_de = forms.CharField(
        label=_("Text (German)"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Please write what the residents should know.")},
    )
    title_en = forms.CharField(
        label=_("Title (English)"),
        max_length=TITLE_MAX,
        required=False,
        help_text=_("Members who read the portal in English; empty: they read the German."),
    )
    text_en = forms.CharField(
        label=_("Text (English)"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    @classmethod
    def initial_of(cls, notice: Notice) -> dict:
        return {
            "kind": notice.kind,
            "estate": notice.estate_id if not notice.buildings.all() else None,
            "buildings": [building.pk for building in notice.buildings.all()],
            "valid_from": notice.valid_from,
            "valid_until": notice.valid_until,
            "title_de": notice.title_de,
            "text_de": notice.text_de,
            "title_en": notice.title_en,
            "text_en": notice.text_en,
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.content = notice_check(
                NoticeContent(
                    kind=cleaned["kind"],
                    title_de=cleaned["title_de"],
                    text_de=cleaned["text_de"],
                    title_en=cleaned.get("title_en", ""),
                    text_en=cleaned.get("text_en", ""),
                    estate=cleaned.get("estate"),
                    buildings=list(cleaned.get("buildings") or []),
                    valid_from=cleaned["valid_from"],
                    valid_until=cleaned.get("valid_until"),
                )
            )
        except NoticeError as error:
            self.add_error(error.field, str(error))
        return cleaned
