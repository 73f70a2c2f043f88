"""The member's form for a request type, built from its field definitions."""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cooperative.cache import cooperative_current
from core.dates import date_long
from core.uploads import MultipleFileField, MultipleFileInput
from members.models import Member
from members.selectors import ShareFacts, share_facts
from members.shares import cancellation_dates
from tickets.files import CleanFile, file_clean
from tickets.iban import iban_grouped, iban_strip
from tickets.models import ROOMS, SHARE_KINDS, YES_NO, FieldKind, localized
from tickets.services import attachments_total_max

IBAN_CHARACTERS = re.compile(r"[A-Za-z0-9]+", re.ASCII)


def iban_validate(value: str) -> str:
    """Normalise and check an IBAN (ISO 13616: length per country, mod 97);
    returns it compact, as stored ("DE02120300000000202051"): spaces and
    dashes people type or copy are dropped, letters made capitals.
    Only the ASCII letters and digits an IBAN consists of are accepted:
    str.isalnum() and isdigit() also say yes to "Ä", "²" or full-width
    letters, which int(…, 36) then refuses."""
    iban = iban_strip(value)
    # Checked before the capitals: "ß".upper() is "SS".
    if not IBAN_CHARACTERS.fullmatch(iban):
        raise ValidationError(_("Enter an IBAN like DE02 1203 0000 0000 2020 51."), code="iban")
    iban = iban.upper()
    lengths = {
        "DE": 22,
        "AT": 20,
        "CH": 21,
        "NL": 18,
        "FR": 27,
        "BE": 16,
        "LU": 20,
        "PL": 28,
        "DK": 18,
    }
    if len(iban) < 15 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        raise ValidationError(_("Enter an IBAN like DE02 1203 0000 0000 2020 51."), code="iban")
    if iban[:2] in lengths and len(iban) != lengths[iban[:2]]:
        raise ValidationError(
            _("An IBAN from %(country)s has %(length)d characters; this one has %(found)d.")
            % {"country": iban[:2], "length": lengths[iban[:2]], "found": len(iban)},
            code="iban_length",
        )
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise ValidationError(
            _("This IBAN is not valid. Please check it against your bank card or statement."),
            code="iban_checksum",
        )
    return iban


class IbanField(forms.CharField):
    """An IBAN typed any way ("de02-1203 0000…"), cleaned to the compact
    form that is stored; shown again in groups of four."""

    def clean(self, value):
        value = super().clean(value)
        return iban_validate(value) if value else value

    def prepare_value(self, value):
        # Only a stored (compact) value is regrouped: what the member typed
        # and must correct stays exactly as typed.
        if isinstance(value, str) and IBAN_CHARACTERS.fullmatch(value):
            return iban_grouped(value)
        return value


def date_not_past(value: datetime.date) -> None:
    """For date fields marked "no dates in the past" (RequestField.no_past_dates)."""
    if value < timezone.localdate():
        raise ValidationError(_("Please choose today or a later date."), code="date_past")


# --- fields about the member's shares -------------------------------------------

# A subscription without a limit of the statutes on the field (its
# "maximum"): no member subscribes more at once through a form.
SHARES_SUBSCRIBE_MAX = 1000


@dataclass(frozen=True)
class ShareContext:
    """What the share fields of a form know: the member's shares (None when
    the form is not a member's, e.g. a call from someone unknown) and the
    ends of business years a cancellation received today may take effect
    at, the earliest first (members.shares)."""

    facts: ShareFacts | None
    notice_months: int
    year_ends: list[datetime.date]

    @property
    def effective_on(self) -> datetime.date:
        return self.year_ends[0]


def share_context(member: Member | None, *, today: datetime.date | None = None) -> ShareContext:
    """Two queries at most: the cooperative's statutes (once per request)
    and the member's shares."""
    cooperative = cooperative_current()
    return ShareContext(
        facts=share_facts(member) if member is not None else None,
        notice_months=cooperative.share_notice_months,
        year_ends=cancellation_dates(
            today or timezone.localdate(),
            notice_months=cooperative.share_notice_months,
            end_month=cooperative.business_year_end_month,
        ),
    )


def money(value: Decimal) -> str:
    """An amount in euros as the active language writes it: "1.234,56 €"."""
    return gettext("%(amount)s €") % {
        "amount": formats.number_format(value, 2, use_l10n=True, force_grouping=True)
    }


class SharesSubscribeField(forms.IntegerField):
    """How many shares to subscribe; knows the price of one, so the review
    names the amount to pay."""

    def __init__(self, *, share_value: Decimal | None, **kwargs):
        self.share_value = share_value
        super().__init__(**kwargs)

    def describe(self, value: int) -> str:
        if not self.share_value:
            return str(value)
        return gettext("%(count)d × %(value)s = %(total)s to pay") % {
            "count": value,
            "value": money(self.share_value),
            "total": money(value * self.share_value),
        }


def _shares_subscribe(definition: dict, common: dict, shares: ShareContext | None):
    value = shares.facts.share_value if shares and shares.facts else None
    maximum = int(Decimal(definition["max"])) if definition.get("max") else SHARES_SUBSCRIBE_MAX
    if value:
        price = gettext(
            "One share costs %(value)s. You pay it in once we have admitted the "
            "subscription; it becomes part of your Geschäftsguthaben."
        ) % {"value": money(value)}
        common["help_text"] = " ".join(part for part in (common["help_text"], price) if part)
    return SharesSubscribeField(
        share_value=value,
        min_value=1,
        max_value=maximum,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        **common,
    )


def _voluntary_shares(voluntary: int):
    def check(value: int) -> None:
        if voluntary == 0:
            raise ValidationError(
                _(
                    "You hold no voluntary shares. The compulsory shares end only "
                    "with the membership itself."
                ),
                code="no_voluntary_shares",
            )
        if value > voluntary:
            raise ValidationError(
                ngettext(
                    "You hold %(count)d voluntary share, so you can cancel at most %(count)d.",
                    "You hold %(count)d voluntary shares, so you can cancel at most %(count)d.",
                    voluntary,
                )
                % {"count": voluntary},
                code="too_many_shares",
            )

    return check


def _shares_cancel(definition: dict, common: dict, shares: ShareContext | None):
    validators = []
    facts = shares.facts if shares else None
    if facts is not None:
        validators.append(_voluntary_shares(facts.voluntary))
        held = ngettext(
            "You hold %(voluntary)d voluntary share beyond your %(required)d compulsory ones.",
            "You hold %(voluntary)d voluntary shares beyond your %(required)d compulsory ones.",
            facts.voluntary,
        ) % {"voluntary": facts.voluntary, "required": facts.required}
        common["help_text"] = " ".join(part for part in (common["help_text"], held) if part)
    return forms.IntegerField(
        min_value=1,
        validators=validators,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        **common,
    )


def _year_end(definition: dict, common: dict, shares: ShareContext):
    earliest = date_long(shares.effective_on)
    notice = ngettext(
        "Notice period: %(months)d month to the end of a business year. Sent today, the "
        "cancellation takes effect on %(date)s at the earliest.",
        "Notice period: %(months)d months to the end of a business year. Sent today, the "
        "cancellation takes effect on %(date)s at the earliest.",
        shares.notice_months,
    ) % {"months": shares.notice_months, "date": earliest}
    common["help_text"] = " ".join(part for part in (common["help_text"], notice) if part)
    return forms.ChoiceField(
        choices=[(day.isoformat(), date_long(day)) for day in shares.year_ends],
        initial=shares.effective_on.isoformat(),
        widget=forms.RadioSelect,
        # A draft kept over the deadline (saved on 30 September, checked on
        # 1 October) names a date that is no longer possible: say which is.
        error_messages={
            "invalid_choice": gettext(
                "This date is no longer possible: sent today, the cancellation takes "
                "effect on %(date)s at the earliest."
            )
            % {"date": earliest}
        },
        **common,
    )


def _field_for(definition: dict, language: str, shares: ShareContext | None = None) -> forms.Field:
    kind = definition["kind"]
    common = {
        "label": localized(definition["label"], language),
        "help_text": localized(definition.get("help") or {}, language),
        "required": definition["required"],
    }
    choices = [(c["value"], c.get(language) or c["de"]) for c in definition.get("choices", [])]
    minimum = Decimal(definition["min"]) if definition.get("min") else None
    maximum = Decimal(definition["max"]) if definition.get("max") else None
    if kind == FieldKind.TEXT:
        return forms.CharField(max_length=200, **common)
    if kind == FieldKind.TEXTAREA:
        return forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 6}), **common)
    if kind == FieldKind.CHOICE:
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if kind == FieldKind.MULTICHOICE:
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == FieldKind.DATE:
        attrs = {"type": "date"}
        validators = []
        if definition.get("no_past"):
            # Checked against the day the form is checked, also on the review
            # page: a draft saved yesterday for today is fine, one for
            # yesterday is not (a bank change cannot start in the past).
            attrs["min"] = timezone.localdate().isoformat()
            validators.append(date_not_past)
        return forms.DateField(
            widget=forms.DateInput(attrs=attrs, format="%Y-%m-%d"),
            input_formats=["%Y-%m-%d", "%d.%m.%Y"],
            validators=validators,
            **common,
        )
    if kind == FieldKind.NUMBER:
        return forms.DecimalField(
            min_value=minimum,
            max_value=maximum,
            max_digits=12,
            decimal_places=2,
            localize=True,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            **common,
        )
    if kind == FieldKind.YESNO:
        return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **common)
    if kind == FieldKind.ROOM:
        return forms.ChoiceField(choices=ROOMS, widget=forms.RadioSelect, **common)
    if kind == FieldKind.IBAN:
        return IbanField(
            max_length=42,
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            **common,
        )
    if kind == FieldKind.FILE:
        # Required-ness of files is checked in the form: earlier uploads count.
        common["required"] = False
        return MultipleFileField(
            widget=MultipleFileInput(
                attrs={"accept": "image/*,.pdf,.doc,.docx,.odt,.xls,.xlsx,.ods"}
            ),
            **common,
        )
    if kind == FieldKind.SHARES_SUBSCRIBE:
        return _shares_subscribe(definition, common, shares)
    if kind == FieldKind.SHARES_CANCEL:
        return _shares_cancel(definition, common, shares)
    if kind == FieldKind.YEAR_END:
        return _year_end(definition, common, shares)
    raise ValueError(f"unknown field kind {kind!r}")


def attachments_limit_message(*, count: int) -> str:
    """Why none of the files just chosen was kept, naming the limits of one
    request; `count` files are attached to it already."""
    limits = {
        "limit": settings.TICKET_ATTACHMENT_MAX_COUNT,
        "size": filesizeformat(attachments_total_max()),
        "count": count,
    }
    if not count:
        return (
            gettext(
                "A request can have at most %(limit)d files, together at most %(size)s. "
                "None of the files you chose has been saved: please choose fewer or "
                "smaller ones."
            )
            % limits
        )
    return (
        ngettext(
            "A request can have at most %(limit)d files, together at most %(size)s, and "
            "%(count)d file is attached already. None of the files you chose has been "
            "saved: please choose fewer or smaller ones, or remove an attached file.",
            "A request can have at most %(limit)d files, together at most %(size)s, and "
            "%(count)d files are attached already. None of the files you chose has been "
            "saved: please choose fewer or smaller ones, or remove an attached file.",
            count,
        )
        % limits
    )


class RequestForm(forms.Form):
    """One form per request type; `definitions` is the type's snapshot.
    `kept_files` and `kept_bytes` describe the files attached before (the
    draft's): the limits of one request count them too. `member`: whose
    request it is, for the fields about their shares (read only when the
    form has one)."""

    def __init__(
        self,
        *args,
        definitions: list[dict],
        language: str,
        kept_files: int = 0,
        kept_bytes: int = 0,
        member: Member | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.definitions = definitions
        self.kept_files = kept_files
        self.kept_bytes = kept_bytes
        self.shares = (
            share_context(member) if any(d["kind"] in SHARE_KINDS for d in definitions) else None
        )
        for definition in definitions:
            self.fields[definition["key"]] = _field_for(definition, language, self.shares)

    @property
    def file_keys(self) -> list[str]:
        return [d["key"] for d in self.definitions if d["kind"] == FieldKind.FILE]

    def files_refuse(self, *, kept: int) -> None:
        """Keep none of the files of this post: together with the `kept`
        ones attached before they are more than one request may carry."""
        self.clean_files = []
        chosen = [key for key in self.file_keys if self.files.getlist(key)]
        if chosen:
            self.add_error(chosen[0], attachments_limit_message(count=kept))
        else:  # attached before the limits were lowered
            self.add_error(
                None,
                _(
                    "A request can have at most %(limit)d files, together at most %(size)s. "
                    "Please remove attached files until they fit."
                )
                % {
                    "limit": settings.TICKET_ATTACHMENT_MAX_COUNT,
                    "size": filesizeformat(attachments_total_max()),
                },
            )

    def clean(self):
        cleaned = super().clean()
        self.clean_files: list[CleanFile] = []
        uploads = [(key, upload) for key in self.file_keys for upload in cleaned.get(key) or []]
        # Counted before any file is read: a post with a hundred files costs
        # no more than one with eleven, and none of them is kept.
        if self.kept_files + len(uploads) > settings.TICKET_ATTACHMENT_MAX_COUNT:
            self.files_refuse(kept=self.kept_files)
        else:
            for key, upload in uploads:
                try:
                    self.clean_files.append(file_clean(upload))
                except ValidationError as error:
                    self.add_error(key, error)
            size = self.kept_bytes + sum(len(f.content) for f in self.clean_files)
            if size > attachments_total_max():
                self.files_refuse(kept=self.kept_files)
        for definition in self.definitions:
            key = definition["key"]
            missing = not self.kept_files and not cleaned.get(key) and key not in self.errors
            if definition["kind"] == FieldKind.FILE and definition["required"] and missing:
                self.add_error(key, _("Please attach at least one file."))
        return cleaned

    def answers(self) -> dict:
        """The answers as JSON-safe plain data (files are stored separately)."""
        data = {}
        for key, value in self.cleaned_data.items():
            if key in self.file_keys:
                continue
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            data[key] = value
        return data


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    files = MultipleFileField(
        label=_("Photos or files"),
        required=False,
        help_text=_(
            "Photos (JPEG, PNG, WebP), PDF, Word, Excel or OpenDocument; at most 10 MB each."
        ),
        widget=MultipleFileInput(attrs={"accept": "image/*,.pdf,.doc,.docx,.odt,.xls,.xlsx,.ods"}),
    )

    def clean_files(self):
        uploads = self.cleaned_data.get("files") or []
        if len(uploads) > settings.TICKET_ATTACHMENT_MAX_COUNT:
            raise ValidationError(
                _("Please attach at most %(count)d files.")
                % {"count": settings.TICKET_ATTACHMENT_MAX_COUNT}
            )
        return [file_clean(upload) for upload in uploads]


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with how we handled your request?"),
        coerce=int,
        choices=[
            (5, _("5 stars – very satisfied")),
            (4, _("4 stars – satisfied")),
            (3, _("3 stars – partly satisfied")),
            (2, _("2 stars – dissatisfied")),
            (1, _("1 star – very dissatisfied")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
