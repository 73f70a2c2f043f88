from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services, throttle
from accounts.forms import (
    TOO_MANY,
    AccountDetailsForm,
    ActivationCodeForm,
    ActivationConfirmForm,
    ChangePasswordForm,
    ContactForm,
    EmailChangeForm,
    LoginForm,
    NewPasswordForm,
    OutboxPasswordResetForm,
)
from accounts.models import ActivationCode
from core.decorators import member_required

SESSION_ACTIVATION = "activation_code_id"


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return redirect("portal:home")
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        # A plain redirect: redirect() would take a `next` like "home" for a view name.
        response = HttpResponseRedirect(_safe_next(request, reverse("portal:home")))
        throttle.login_succeeded(
            request=request, response=response, email=form.user.email, reservation=form.reservation
        )
        return response
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, "")})


@require_GET
def session_status(request):
    """204 while logged in, 401 after the login expired. The form script asks
    before sending, so an expired login never swallows a form (core.kept)."""
    response = HttpResponse(status=204 if request.user.is_authenticated else 401)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def admin_login_redirect(request):
    target = _safe_next(request, reverse("admin:index"))
    return redirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")


@require_POST
def logout_view(request):
    logout(request)
    messages.success(request, _("You have been logged out."))
    return redirect("accounts:login")


@require_http_methods(["GET", "POST"])
def activation_start(request):
    """Step 1 of 2: member number and the code from the letter."""
    form = ActivationCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["member_number"].strip()
        reservation = throttle.reserve(
            limits=[
                ("activation:account", number),
                ("activation:ip", throttle.ip_value(request)),
            ]
        )
        if reservation is None:
            form.add_error(None, TOO_MANY)
        else:
            try:
                code = services.activation_check(
                    member_number=number, code=form.cleaned_data["code"]
                )
            except services.ActivationError as error:
                form.add_error(None, str(error))  # the reserved place counts as a failure
            else:
                reservation.release()
                request.session[SESSION_ACTIVATION] = code.pk
                return redirect("accounts:activation_details")
    return render(request, "accounts/activation_start.html", {"form": form})


@require_http_methods(["GET", "POST"])
def activation_details(request):
    """Step 2 of 2: e-mail address and password."""
    code = (
        ActivationCode.objects.usable()
        .select_related("member")
        .filter(pk=request.session.get(SESSION_ACTIVATION))
        .first()
    )
    if code is None:
        messages.error(request, _("Please enter your member number and activation code first."))
        return redirect("accounts:activation_start")
    form = AccountDetailsForm(request.POST or None, member=code.member)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.account_activate(
                code_id=code.pk,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                language=get_language(),
            )
        except services.ActivationError as error:
            form.add_error(None, str(error))
        else:
            request.session.pop(SESSION_ACTIVATION, None)
            request.session["activation_email"] = user.email
            return redirect("accounts:activation_sent")
    return render(
        request, "accounts/activation_details.html", {"form": form, "member": code.member}
    )


@require_http_methods(["GET"])
def activation_sent(request):
    email = request.session.get("activation_email")
    if not email:
        return redirect("accounts:activation_start")
    return render(request, "accounts/activation_sent.html", {"email": email})


def _link_invalid(request, error: services.ActivationError):
    """A used or stale link says what to do: log in, or start again."""
    used = isinstance(error, services.ActivationLinkUsed)
    return render(
        request,
        "accounts/activation_invalid.html",
        {"error": str(error), "log_in": used, "start_again": not used},
        status=400,
    )


@require_http_methods(["GET", "POST"])
def activation_confirm(request, token):
    """The link from the activation e-mail. Opening it changes nothing (mail
    scanners open links, and a foreign page could make a browser open it);
    the member confirms with the password she chose, in a CSRF-protected
    POST, and is logged in. The link works once and dies with a new password."""
    try:
        user = services.account_confirmation_check(token=token)
    except services.ActivationError as error:
        return _link_invalid(request, error)
    form = ActivationConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The password is checked at the login's rate (same limits, same places).
        reservation = throttle.reserve(limits=throttle.login_limits(request, user.email))
        if reservation is None:
            form.add_error(None, TOO_MANY)
        else:
            try:
                user = services.account_confirm(token=token, password=form.cleaned_data["password"])
            except services.WrongPassword as error:
                form.add_error("password", str(error))
            except services.ActivationError as error:
                return _link_invalid(request, error)
            else:
                request.session.pop("activation_email", None)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(
                    request,
                    _("Thank you! Your e-mail address is confirmed and your account is ready."),
                )
                response = redirect("portal:member_home")
                throttle.login_succeeded(
                    request=request, response=response, email=user.email, reservation=reservation
                )
                return response
    return render(request, "accounts/activation_confirm.html", {"form": form, "pending": user})


@member_required
@require_http_methods(["GET", "POST"])
def contact_edit(request):
    member = request.user.member
    form = ContactForm(
        request.POST or None, initial={"phone": member.phone, "language": request.user.language}
    )
    if request.method == "POST" and form.is_valid():
        services.contact_update(
            user=request.user,
            phone=form.cleaned_data["phone"],
            language=form.cleaned_data["language"],
        )
        messages.success(request, _("Your contact details have been saved."))
        return redirect("portal:member_home")
    return render(request, "accounts/contact_edit.html", {"form": form})


@member_required
@require_http_methods(["GET", "POST"])
def email_change(request):
    form = EmailChangeForm(request.POST or None, user=request.user, request=request)
    if request.method == "POST" and form.is_valid():
        services.email_change_request(user=request.user, new_email=form.cleaned_data["email"])
        # The same answer whether or not another account uses the address.
        messages.success(
            request,
            _("We have sent a link to %(email)s. Your e-mail address changes once you click it.")
            % {"email": form.cleaned_data["email"]},
        )
        return redirect("portal:member_home")
    return render(request, "accounts/email_change.html", {"form": form})


@login_required
@require_http_methods(["GET"])
def email_change_confirm(request, token):
    try:
        email = services.email_change_confirm(user=request.user, token=token)
    except services.ActivationError as error:
        return render(
            request, "accounts/activation_invalid.html", {"error": str(error)}, status=400
        )
    messages.success(request, _("Your e-mail address is now %(email)s.") % {"email": email})
    return redirect("portal:member_home")


class _PasswordResetView(auth_views.PasswordResetView):
    def get_form_kwargs(self):
        # The form limits requests per IP, so it needs the request.
        return {**super().get_form_kwargs(), "request": self.request}


password_reset = require_http_methods(["GET", "POST"])(
    _PasswordResetView.as_view(
        form_class=OutboxPasswordResetForm,
        template_name="accounts/password_reset.html",
        success_url=reverse_lazy("accounts:password_reset_done"),
    )
)
password_reset_done = require_http_methods(["GET"])(
    auth_views.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_done.html",
        extra_context={"valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
    )
)
password_reset_confirm = require_http_methods(["GET", "POST"])(
    auth_views.PasswordResetConfirmView.as_view(
        form_class=NewPasswordForm,
        template_name="accounts/password_reset_confirm.html",
        success_url=reverse_lazy("accounts:password_reset_complete"),
    )
)
password_reset_complete = require_http_methods(["GET"])(
    auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html"
    )
)
password_change = require_http_methods(["GET", "POST"])(
    auth_views.PasswordChangeView.as_view(
        form_class=ChangePasswordForm,
        template_name="accounts/password_change.html",
        success_url=reverse_lazy("accounts:password_change_done"),
    )
)
password_change_done = require_http_methods(["GET"])(
    auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html")
)
