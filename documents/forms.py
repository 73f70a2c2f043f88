"""The staff's upload forms (one document; many at once) and the blank
form's file in the administration. The same checks as the services
(documents.services.about_check), shown under each field."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from cooperative.models import Unit
from core.files import file_chunks, pdf_check
from core.uploads import MultipleFileField, MultipleFileInput
from documents.intake import problem_text
from documents.models import Addressed, DocumentKind, Form
from documents.services import TITLE_MAX, About, DocumentError, about_check
from members.models import Contract, Member

DATE_FORMAT = "%Y-%m-%d"  # the browser's own date field sends ISO dates


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT)


class AboutForm(forms.Form):
    """What the document is and the time it is about."""

    kind = forms.ChoiceField(
        label=_("Kind of document"),
        choices=[("", "–"), *DocumentKind.choices],
        error_messages={"required": _("Please choose what kind of document it is.")},
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        help_text=_("As members will read it, e.g. “Betriebskostenabrechnung 2025”."),
        error_messages={"required": _("Please give the document a title members will recognise.")},
    )
    period_start = forms.DateField(
        label=_("About the time from"),
        widget=_date_widget(),
        help_text=_(
            "The first day it is about (a statement for 2025: 1 January 2025), or the "
            "letter's date. A household sees it only if it was on the contract by then."
        ),
        error_messages={
            "required": _("Please give the day or the first day it is about."),
            "invalid": _("Please give a day, e.g. 01.01.2025."),
        },
    )
    period_end = forms.DateField(
        label=_("About the time until"),
        widget=_date_widget(),
        required=False,
        help_text=_("The last day (a statement for 2025: 31 December 2025); empty: one day."),
        error_messages={"invalid": _("Please give a day, e.g. 31.12.2025.")},
    )

    def clean(self):
        cleaned = super().clean()
        if {"kind", "title", "period_start", "period_end"} & set(self.errors):
            return cleaned
        try:
            self.about = about_check(
                About(
                    kind=cleaned["kind"],
                    title=cleaned["title"],
                    period_start=cleaned["period_start"],
                    period_end=cleaned.get("period_end"),
                )
            )
        except DocumentError as error:
            self.add_error(error.field, str(error))
        return cleaned


class DocumentUploadForm(AboutForm):
    """One PDF for one member, contract or flat, found by its number."""

    field_order = ["addressed", "number", "file"]

    addressed = forms.ChoiceField(
        label=_("For"),
        choices=Addressed.choices,
        initial=Addressed.MEMBER,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose whom the document is for.")},
    )
    number = forms.CharField(
        label=_("Member, contract or apartment number"),
        max_length=30,
        help_text=_("e.g. 20001 (member), NV-0101900 (contract), 0101900 (apartment)."),
        error_messages={"required": _("Please give the number.")},
    )
    file = forms.FileField(
        label=_("PDF file"),
        widget=forms.FileInput(attrs={"accept": ".pdf,application/pdf"}),
        error_messages={"required": _("Please choose the PDF file.")},
    )

    def clean(self):
        cleaned = super().clean()
        number = (cleaned.get("number") or "").strip()
        addressed = cleaned.get("addressed")
        if not number or not addressed:
            return cleaned
        if addressed == Addressed.MEMBER:
            self.addressee = Member.objects.filter(member_number=number).first()
            missing = _("No member has the number %(number)s.")
        elif addressed == Addressed.CONTRACT:
            self.addressee = Contract.objects.filter(number=number).first()
            missing = _("No contract has the number %(number)s.")
        else:
            self.addressee = Unit.objects.filter(number=number).first()
            missing = _("No apartment has the number %(number)s.")
        if self.addressee is None:
            self.add_error("number", missing % {"number": number})
        return cleaned


class BatchUploadForm(AboutForm):
    """Many PDFs at once, or ZIP archives of them, named by number."""

    field_order = ["numbers", "files"]

    numbers = forms.ChoiceField(
        label=_("The file names give"),
        choices=[
            (Addressed.CONTRACT, _("contract numbers (a household's document)")),
            (Addressed.MEMBER, _("member numbers (a member's own document)")),
        ],
        initial=Addressed.CONTRACT,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please say whose numbers the file names give.")},
    )
    files = MultipleFileField(
        label=_("PDF files or ZIP archives"),
        widget=MultipleFileInput(attrs={"accept": ".pdf,.zip,application/pdf,application/zip"}),
        error_messages={"required": _("Please choose the PDF files or a ZIP archive.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = _(
            "Each file named “<number>_<anything>.pdf”, e.g. “NV-0101900_Abrechnung.pdf”; or "
            "a ZIP of such files, or with an index.csv (file name;number). At most "
            "%(count)s PDFs at once (more: as a ZIP), %(size)s each, %(total)s in all."
        ) % {
            "count": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
            "size": filesizeformat(settings.DOCUMENT_MAX_BYTES),
            "total": filesizeformat(settings.DOCUMENT_BATCH_MAX_BYTES),
        }


class FormAdminForm(forms.ModelForm):
    """A blank form in the administration: the file must be a PDF a
    member can open (the documents' check), its size and hash are kept."""

    class Meta:
        model = Form
        fields = [
            "slug",
            "topic",
            "title_de",
            "title_en",
            "description_de",
            "description_en",
            "file",
            "request_types",
            "position",
            "active",
        ]
        # No link to the stored file: private files have no URL.
        widgets = {"file": forms.FileInput(attrs={"accept": ".pdf,application/pdf"})}

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None or not hasattr(upload, "content_type"):
            return upload  # unchanged: the file already stored
        checked = pdf_check(file_chunks(upload), limit=settings.DOCUMENT_MAX_BYTES)
        if checked.problem:
            detail = {"size": checked.size, "limit_bytes": settings.DOCUMENT_MAX_BYTES}
            raise forms.ValidationError(problem_text(checked.problem, detail))
        self.instance.size = checked.size
        self.instance.sha256 = checked.sha256
        return upload
