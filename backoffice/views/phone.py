"""“Anruf erfassen”: staff log a request on behalf of a member who phoned or
came to the counter. The ticket is the same as one filed in the portal."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.services import access_record
from core.decorators import staff_required
from core.kept import initial, kept_notice, post_take
from members.models import Member
from tickets import services
from tickets.forms import RequestForm
from tickets.models import Channel, RequestType


class StartForm(forms.Form):
    member_number = forms.CharField(label=gettext_lazy("Member number"), max_length=20)
    request_type = forms.ModelChoiceField(
        label=gettext_lazy("Request type"),
        queryset=RequestType.objects.filter(active=True),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("How did the member get in touch?"),
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.COUNTER, Channel.COUNTER.label)],
        widget=forms.RadioSelect,
        initial=Channel.PHONE,
    )

    def clean_member_number(self):
        number = self.cleaned_data["member_number"].strip()
        if not Member.objects.filter(member_number=number).exists():
            raise forms.ValidationError(_("There is no member with this number."))
        return number


@staff_required
@require_http_methods(["GET", "POST"])
def phone_start(request):
    form = StartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return redirect(
            "backoffice:phone_form",
            member_number=form.cleaned_data["member_number"],
            slug=form.cleaned_data["request_type"].slug,
            channel=form.cleaned_data["channel"],
        )
    return render(request, "backoffice/phone_start.html", {"form": form})


@staff_required
@require_http_methods(["GET", "POST"])
def phone_form(request, member_number, slug, channel):
    member = Member.objects.filter(member_number=member_number).first()
    request_type = RequestType.objects.filter(slug=slug, active=True).first()
    if member is None or request_type is None or channel not in (Channel.PHONE, Channel.COUNTER):
        raise Http404
    definitions = request_type.snapshot()
    returned = post_take(request) if request.method == "GET" else None
    if returned is not None:
        kept_notice(request, returned)  # the call notes sent while logged out
    form = RequestForm(
        request.POST or None,
        request.FILES or None,
        initial=initial(returned.data, (d["key"] for d in definitions)) if returned else None,
        definitions=definitions,
        language=get_language(),
    )
    if request.method == "POST" and form.is_valid():
        ticket = services.ticket_open(
            request_type=request_type,
            member=member,
            answers=form.answers(),
            channel=channel,
            created_by=request.user,
            files=form.clean_files,
        )
        messages.success(
            request,
            _("Request %(reference)s logged for %(name)s.")
            % {"reference": ticket.reference, "name": member.full_name},
        )
        return redirect("backoffice:ticket", reference=ticket.reference)
    if request.method == "GET":
        access_record(request=request, action="view", subject=_("Phone log"), members=[member])
    return render(
        request,
        "backoffice/phone_form.html",
        {"form": form, "member": member, "request_type": request_type, "kept": []},
    )
