"""“Anruf erfassen”: staff log a request for someone who phoned, came to
the counter or wrote (an e-mail forwarded by hand). The ticket is the same
as one filed in the portal.

1. Find the member (`phone_start`): by name, address, unit, phone or member
   number (members.selectors.members_search). As-you-type through htmx,
   which swaps in the result list from `phone_members`; without script the
   same search is a plain GET form. The results are a list of links, so
   Tab reaches each and Enter picks it. Or: "not a member".
2. Choose the form (grouped and ordered as members see them) and the
   channel.
3. Fill in the form (`phone_form`): who got in touch (the member, someone
   of the household, someone else with their relation), the form's fields
   and notes on the call; "Log request" or "Solved on the phone" (closed at
   once with the note: tickets.services.ticket_log_call).

What the staff form leaves out: the form's help text and the fields' hints
are written to the member ("Bitte rufen Sie …", "Beschreiben Sie kurz …");
staff ask the questions (the labels) and know the formats, and a wrong
answer still gets the field's error message. So the type's help text is
never shown here and every field hint is dropped.

Someone who is not a member has the reserved member number NOT_MEMBER in
the form's address: no member link, the contact fields instead, and the
request goes to triage (tickets.route)."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import access_record
from certificates.services import certificate_request
from core.decorators import staff_required
from core.kept import initial, kept_notice, post_take
from members.models import Member
from members.selectors import MemberHit, member_for_call, members_search
from tickets import services
from tickets.forms import RequestForm
from tickets.models import Category, Channel, RequestType

# In the address of the form instead of a member number: no member number
# is a word (the ERP's are digits).
NOT_MEMBER = "kein-mitglied"
# The ways a request reaches the office by hand (e-mail: forwarded by a
# person until the mail intake takes it in by itself).
CHANNELS = (Channel.PHONE, Channel.COUNTER, Channel.LETTER, Channel.EMAIL)
CALLER_MEMBER = "member"
CALLER_OTHER = "other"
HOUSEHOLD = "household-"


def request_type_groups() -> list[tuple[str, list[tuple[int, str]]]]:
    """Every active form, grouped by category in the order of the member's
    "new request" page (tickets.views.request_new), then by position."""
    types = list(RequestType.objects.filter(active=True))
    groups = []
    for value, label in Category.choices:
        in_group = [(t.pk, t.name) for t in types if t.category == value]
        if in_group:
            groups.append((str(label), in_group))
    return groups


class StartForm(forms.Form):
    # Filled in by picking a search result (hidden); a number that is not a
    # member's is refused. Empty with not_member: someone who is not a member.
    member_number = forms.CharField(
        label=gettext_lazy("Member number"), max_length=20, required=False
    )
    not_member = forms.BooleanField(required=False, widget=forms.HiddenInput)
    request_type = forms.ModelChoiceField(
        label=gettext_lazy("Request type"),
        queryset=RequestType.objects.filter(active=True),
        error_messages={"required": gettext_lazy("Choose the request type.")},
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("How did they get in touch?"),
        choices=[(channel.value, capfirst(channel.label)) for channel in CHANNELS],
        widget=forms.RadioSelect,
        initial=Channel.PHONE,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member_number"].widget = forms.HiddenInput()
        self.fields["request_type"].choices = [
            ("", _("Choose the request type")),
            *request_type_groups(),
        ]

    def clean_member_number(self):
        number = self.cleaned_data["member_number"].strip()
        if number and not Member.objects.filter(member_number=number).exists():
            raise forms.ValidationError(_("There is no member with this number."))
        return number

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("member_number") or cleaned.get("not_member")
        if not chosen and "member_number" not in self.errors:
            self.add_error(None, _("Please find the member first, or choose “not a member”."))
        return cleaned


def _chosen(request) -> tuple[MemberHit | None, bool, str]:
    """Who the call is about, from the address (GET) or the form (POST):
    (the member, not a member?, an error for an unknown number)."""
    data = request.POST if request.method == "POST" else request.GET
    number = (data.get("member_number") or data.get("mitglied") or "").strip()
    # As forms.BooleanField reads a hidden field: "False" is no.
    flag = data.get("not_member") or data.get("kein_mitglied") or ""
    not_member = flag.lower() not in ("", "false", "0")
    if number:
        hit = member_for_call(number[:20])
        if hit is None:
            return None, False, _("There is no member with this number.")
        return hit, False, ""
    return None, not_member, ""


def _search(request, query: str):
    search = members_search(query=query)
    if search.searched:
        # Whom a search lists is member data shown to staff (as the admin's).
        access_record(request=request, action="search", subject=f"{_('Phone log')}: {query}")
    return search


@staff_required
@require_http_methods(["GET", "POST"])
def phone_start(request):
    hit, not_member, unknown = _chosen(request)
    query = request.GET.get("q", "")
    form = StartForm(
        request.POST or None,
        initial={
            "member_number": hit.member.member_number if hit else "",
            "not_member": not_member,
        },
    )
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["member_number"] or NOT_MEMBER
        return redirect(
            "backoffice:phone_form",
            member_number=number,
            slug=form.cleaned_data["request_type"].slug,
            channel=form.cleaned_data["channel"],
        )
    if hit is not None and request.method == "GET":
        access_record(request=request, action="view", subject=_("Phone log"), members=[hit.member])
    return render(
        request,
        "backoffice/phone_start.html",
        {
            "form": form,
            "hit": hit,
            "not_member": not_member and hit is None,
            "unknown": unknown,
            "query": query,
            "search": _search(request, query) if hit is None and not not_member else None,
            "back": reverse("backoffice:phone_start")
            + (f"?{urlencode({'q': query})}" if query else ""),
        },
    )


@staff_required
@require_GET
def phone_members(request):
    """The result list alone, for the as-you-type search (htmx). Opened
    without htmx, the whole page with the same results."""
    query = request.GET.get("q", "")
    page = reverse("backoffice:phone_start") + (f"?{urlencode({'q': query})}" if query else "")
    if request.headers.get("HX-Request") != "true":
        return redirect(page)
    response = render(
        request,
        "backoffice/_member_results.html",
        {"search": _search(request, query), "query": query, "oob": True},
    )
    # The address bar follows the search, so a reload shows the same list.
    response["HX-Replace-Url"] = page
    return response


class CallForm(forms.Form):
    """Who got in touch, and the staff member's notes on the call."""

    # Not required: nothing chosen means the member themself.
    caller = forms.ChoiceField(
        label=gettext_lazy("Who got in touch?"), widget=forms.RadioSelect, required=False
    )
    contact_name = forms.CharField(
        label=gettext_lazy("Name of the person"), max_length=120, required=False
    )
    relation = forms.CharField(
        label=gettext_lazy("Relation to the member"),
        help_text=gettext_lazy("For example partner, daughter, neighbour, legal guardian."),
        max_length=60,
        required=False,
    )
    contact_phone = forms.CharField(
        label=gettext_lazy("Phone number for questions"), max_length=50, required=False
    )
    contact_email = forms.EmailField(
        label=gettext_lazy("E-mail address for questions"), required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Notes on the call (internal)"),
        help_text=gettext_lazy(
            "Only staff see these notes. Needed when the request was solved at once."
        ),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, hit: MemberHit | None, solved: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.hit = hit
        self.solved = solved
        if hit is None:
            # Not a member: they speak for themselves; their name is needed.
            del self.fields["caller"], self.fields["relation"]
            self.fields["contact_name"].required = True
            self.fields["contact_name"].error_messages["required"] = _(
                "Please enter the name of the person who got in touch."
            )
            self.fields["contact_email"].help_text = _(
                "The confirmation and our answers go to this address."
            )
            return
        choices = [(CALLER_MEMBER, _("%(name)s (the member)") % {"name": hit.member.full_name})]
        choices += [
            (f"{HOUSEHOLD}{m.member_number}", _("%(name)s (household)") % {"name": m.full_name})
            for m in hit.household
        ]
        choices.append((CALLER_OTHER, _("Someone else")))
        self.fields["caller"].choices = choices
        self.fields["caller"].initial = CALLER_MEMBER
        self.fields["contact_name"].help_text = _("Only when someone else got in touch.")

    def clean(self):
        cleaned = super().clean()
        someone_else = self.hit is not None and cleaned.get("caller") == CALLER_OTHER
        nameless = not cleaned.get("contact_name", "").strip() and "contact_name" not in self.errors
        if someone_else and nameless:
            self.add_error(
                "contact_name", _("Please enter the name of the person who got in touch.")
            )
        if self.solved and not cleaned.get("note", "").strip() and "note" not in self.errors:
            self.add_error("note", _("Please note briefly how the request was solved."))
        return cleaned

    def contact(self) -> dict:
        """contact_name/phone/email for the ticket: empty when the member
        called, the household member or the other person otherwise."""
        data = self.cleaned_data
        name, relation = data["contact_name"].strip(), data.get("relation", "").strip()
        phone, email = data["contact_phone"].strip(), data["contact_email"]
        caller = data.get("caller") or (CALLER_MEMBER if self.hit else CALLER_OTHER)
        if caller.startswith(HOUSEHOLD):
            person = next(
                m for m in self.hit.household if m.member_number == caller[len(HOUSEHOLD) :]
            )
            name, relation = person.full_name, relation or _("household")
            phone = phone or person.phone
        elif caller == CALLER_MEMBER:
            name = relation = ""
        if name and relation:
            name = f"{name} ({relation})"
        return {"contact_name": name[:200], "contact_phone": phone, "contact_email": email}


@staff_required
@require_http_methods(["GET", "POST"])
def phone_form(request, member_number, slug, channel):
    hit = None
    if member_number != NOT_MEMBER:
        hit = member_for_call(member_number[:20])
        if hit is None:
            raise Http404
    request_type = RequestType.objects.filter(slug=slug, active=True).first()
    if request_type is None or channel not in CHANNELS:
        raise Http404
    member = hit.member if hit else None
    definitions = request_type.snapshot()
    returned = post_take(request) if request.method == "GET" else None
    if returned is not None:
        kept_notice(request, returned)  # the call notes sent while logged out
    solved = request.method == "POST" and "solved" in request.POST
    keys = [d["key"] for d in definitions]
    form = RequestForm(
        request.POST or None,
        request.FILES or None,
        initial=initial(returned.data, keys) if returned else None,
        definitions=definitions,
        language=get_language(),
        member=member,
    )
    for field in form.fields.values():
        field.help_text = ""  # written to the member (see the module docstring)
    call_keys = list(CallForm.base_fields)
    call_form = CallForm(
        request.POST or None,
        initial=initial(returned.data, call_keys) if returned else None,
        hit=hit,
        solved=solved,
    )
    if (
        request.method == "POST"
        and request_type.certificate
        and member is not None
        and form.is_valid()
        and call_form.is_valid()
    ):
        return _certificate_issue(request, request_type, member, channel, form, call_form)
    if request.method == "POST" and form.is_valid() and call_form.is_valid():
        ticket = services.ticket_log_call(
            request_type=request_type,
            member=member,
            answers=form.answers(),
            channel=channel,
            created_by=request.user,
            files=form.clean_files,
            note=call_form.cleaned_data["note"],
            solved=solved,
            **call_form.contact(),
        )
        name = member.full_name if member else ticket.contact_name
        if solved:
            text = _("Request %(reference)s logged for %(name)s and closed.")
        else:
            text = _("Request %(reference)s logged for %(name)s.")
        messages.success(request, text % {"reference": ticket.reference, "name": name})
        return redirect("backoffice:ticket", reference=ticket.reference)
    if request.method == "GET" and member is not None:
        access_record(request=request, action="view", subject=_("Phone log"), members=[member])
    return render(
        request,
        "backoffice/phone_form.html",
        {
            "form": form,
            "call_form": call_form,
            "hit": hit,
            "member": member,
            "request_type": request_type,
            "channel": Channel(channel),
            "kept": [],
        },
    )


def _certificate_issue(request, request_type, member, channel, form, call_form):
    """A caller asks for a certificate: issued at once from the records, as
    in the portal (certificates.services.certificate_request), with the
    call's contact and notes. The PDF is on the request's page: in the
    member's portal too when it was not wanted by post, else the request
    stays open for the team that posts it."""
    certificate = certificate_request(
        request_type=request_type,
        member=member,
        answers=form.answers(),
        channel=channel,
        created_by=request.user,
        note=call_form.cleaned_data["note"],
        **call_form.contact(),
    )
    reference = certificate.ticket.reference
    if certificate.reused:
        text = _(
            "%(name)s's certificate was issued a moment ago (request %(reference)s): "
            "here it is again."
        )
    else:
        text = _("Certificate issued for %(name)s: request %(reference)s, with the PDF.")
    messages.success(request, text % {"reference": reference, "name": member.full_name})
    return redirect("backoffice:ticket", reference=reference)
