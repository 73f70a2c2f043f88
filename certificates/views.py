"""The member's certificates (ask, get, download) and the public check of a
certificate's code."""

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import throttle
from accounts.forms import TOO_MANY
from certificates import services
from certificates.codes import code_grouped, code_normal
from certificates.facts import shown
from certificates.selectors import certificate_by_code, get_certificate_for_member
from core.decorators import member_required
from core.kept import initial, kept_notice, post_take
from tickets.forms import RequestForm
from tickets.models import CertificateKind, Channel
from tickets.selectors import get_request_type_for_member


def _request_type(request, slug):
    request_type = get_request_type_for_member(request.user, slug)
    if not request_type.certificate:
        raise Http404
    return request_type


def _issued(request, certificate):
    """To the certificate's page, or for one by post to the request."""
    if certificate.by_post:
        messages.success(
            request,
            _("Thank you. We will post your certificate to you. Your reference is %(reference)s.")
            % {"reference": certificate.ticket.reference},
        )
        return redirect("tickets:detail", reference=certificate.ticket.reference)
    return redirect("certificates:detail", certificate_id=certificate.pk)


@member_required
@require_http_methods(["GET", "POST"])
def certificate_request(request, slug):
    """The form of a request type that issues a certificate (purpose,
    delivery): sent, the certificate is there at once. No review step:
    nothing is promised that could not be taken back by a new request."""
    request_type = _request_type(request, slug)
    definitions = request_type.snapshot()
    if request.method == "POST":
        form = RequestForm(request.POST, definitions=definitions, language=get_language())
        if form.is_valid():
            certificate = services.certificate_request(
                request_type=request_type,
                member=request.user.member,
                answers=form.answers(),
                channel=Channel.PORTAL,
                created_by=request.user,
            )
            return _issued(request, certificate)
    else:
        returned = post_take(request)
        data = None
        if returned is not None:
            # Sent while logged out: filled in again, to send once more.
            kept_notice(request, returned)
            data = initial(returned.data, (d["key"] for d in definitions))
        form = RequestForm(initial=data, definitions=definitions, language=get_language())
    return render(
        request,
        "certificates/request.html",
        {"form": form, "request_type": request_type},
    )


@member_required
@require_POST
def certificate_issue(request, slug):
    """Mein Bereich's button: the certificate at once, to download."""
    request_type = _request_type(request, slug)
    certificate = services.certificate_request(
        request_type=request_type,
        member=request.user.member,
        answers={},
        channel=Channel.PORTAL,
        created_by=request.user,
    )
    return _issued(request, certificate)


@member_required
@require_GET
def certificate_detail(request, certificate_id):
    certificate = get_certificate_for_member(request.user, certificate_id)
    return render(
        request,
        "certificates/detail.html",
        {"certificate": certificate, "facts": shown(certificate.facts)},
    )


@member_required
@require_GET
def certificate_download(request, certificate_id):
    certificate = get_certificate_for_member(request.user, certificate_id)
    attachment = certificate.attachment
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Verification code"),
        max_length=80,
        help_text=gettext_lazy(
            "The 28 letters and digits under “Verification” on the certificate, "
            "e.g. 7K3M-Q9TD-…; dashes and spaces do not matter."
        ),
    )

    def clean_code(self):
        code = code_normal(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _(
                    "This is not a verification code. It has 28 letters and digits; "
                    "please check what you typed against the certificate."
                )
            )
        return code


def _no_store(response):
    # The code is a key: no cache or search engine keeps the page or its address.
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "POST"])
def verify(request):
    """/pruefen/: the form for a code typed from paper."""
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return redirect("certificates:verify_code", code=code_grouped(form.cleaned_data["code"]))
    return _no_store(render(request, "certificates/verify.html", {"form": form}))


@require_GET
def verify_code(request, code):
    """/pruefen/<code>/ (the QR code's address): what the certificate
    confirms, and nothing more: cooperative, name, member since, kind and
    date of issue; never the member number, the address or the shares.
    A code that names no certificate is a neutral "not found" (404),
    whether made up, mistyped or changed; such tries are limited per
    address like the login's."""
    reservation = throttle.reserve(limits=[("certificate_verify:ip", throttle.ip_value(request))])
    if reservation is None:
        return _no_store(
            render(
                request,
                "certificates/verify.html",
                {"form": VerifyForm(), "refused": TOO_MANY},
                status=429,
            )
        )
    certificate = certificate_by_code(code)
    if certificate is None:
        return _no_store(render(request, "certificates/not_found.html", status=404))
    reservation.release()
    facts = certificate.facts
    context = {
        "cooperative": facts["cooperative"]["name"],
        "name": facts["member"]["full_name"],
        "member_since": shown(facts)["joined"],
        "kind": CertificateKind(certificate.kind).label,
        "issued_at": certificate.issued_at,
    }
    return _no_store(render(request, "certificates/verified.html", {"verified": context}))
