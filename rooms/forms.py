import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from rooms import services
from rooms.models import Room
from rooms.services import NOTE_MAX, PURPOSE_MAX

KIND_SLUGS = {"gaestewohnung": "guest_flat", "gemeinschaftsraum": "common_room"}


def _hour_choices(room: Room, *, ends: bool) -> list[tuple[str, str]]:
    first = room.opens.hour + bool(room.opens.minute) + (1 if ends else 0)
    last = room.closes.hour if ends else room.closes.hour - 1
    return [("", "–")] + [(f"{hour:02d}:00", f"{hour:02d}:00") for hour in range(first, last + 1)]


class WhenForm(forms.Form):
    """The stay or the hours asked for (the room page's form, sent by GET
    to the confirmation page, and carried along there)."""

    anreise = forms.DateField(
        label=_("Arrival"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    abreise = forms.DateField(
        label=_("Departure"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    tag = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    von = forms.ChoiceField(label=_("From"), required=False)
    bis = forms.ChoiceField(label=_("Until"), required=False)
    personen = forms.IntegerField(label=_("Persons"), min_value=1, initial=1)

    def __init__(self, *args, room: Room, **kwargs):
        super().__init__(*args, **kwargs)
        self.room = room
        self.fields["personen"].widget.attrs.update({"min": 1, "max": room.capacity})
        if room.by_night:
            for name in ("tag", "von", "bis"):
                del self.fields[name]
            for name in ("anreise", "abreise"):
                self.fields[name].required = True
        else:
            for name in ("anreise", "abreise"):
                del self.fields[name]
            self.fields["tag"].required = True
            self.fields["von"].required = True
            self.fields["bis"].required = True
            self.fields["von"].choices = _hour_choices(room, ends=False)
            self.fields["bis"].choices = _hour_choices(room, ends=True)

    def clean_personen(self):
        persons = self.cleaned_data["personen"]
        if persons > self.room.capacity:
            raise ValidationError(
                ngettext(
                    "This room is for at most %(count)s person.",
                    "This room is for at most %(count)s persons.",
                    self.room.capacity,
                )
                % {"count": self.room.capacity}
            )
        return persons

    @staticmethod
    def _time(value: str) -> datetime.time | None:
        return datetime.time.fromisoformat(value) if value else None

    def when(self) -> dict:
        """The keyword arguments of rooms.services.room_span."""
        data = self.cleaned_data
        if self.room.by_night:
            return {"arrival": data["anreise"], "departure": data["abreise"]}
        return {
            "day": data["tag"],
            "start": self._time(data["von"]),
            "end": self._time(data["bis"]),
        }

    def quote(self, *, notice: bool = True) -> tuple[services.Quote | None, int]:
        """The stay or hours asked for, checked and priced; None (with the
        reason on the form) and the answer's status otherwise: 409 when the
        time is taken, 400 for anything else. `notice` off for staff."""
        if not self.is_valid():
            return None, 400
        try:
            span = services.room_span(room=self.room, **self.when())
            return services.room_quote(room=self.room, span=span, notice=notice), 200
        except services.RoomBookingError as error:
            self.add_error(None, str(error))
            return None, 409 if isinstance(error, services.RoomTaken) else 400

    def query(self) -> dict:
        """What the confirmation page carries back (hidden fields)."""
        return {name: self.data.get(name, "") for name in self.fields}


class ConfirmForm(forms.Form):
    anlass = forms.CharField(
        label=_("Occasion or who your guests are"),
        required=False,
        max_length=PURPOSE_MAX,
    )
    notiz = forms.CharField(
        label=_("Note for us"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (the member reads this)"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Please tell the member why."))
        return reason
