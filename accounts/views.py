import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import services, throttle, two_factor
from accounts.forms import (
    TOO_MANY,
    AccountDetailsForm,
    ActivationCodeForm,
    ActivationConfirmForm,
    ChangePasswordForm,
    ContactForm,
    EmailChangeForm,
    IdentityConfirmForm,
    LoginForm,
    NewPasswordForm,
    OutboxPasswordResetForm,
    SecondStepForm,
)
from accounts.models import ActivationCode
from core.decorators import member_required, second_step_missing

SESSION_ACTIVATION = "activation_code_id"
SESSION_SETUP_KEY = "two_factor_setup_key"


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _with_next(view_name: str, target: str) -> str:
    return reverse(view_name) + (f"?{urlencode({'next': target})}" if target else "")


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        if second_step_missing(request.user):
            return redirect(_with_next("accounts:login_code", _safe_next(request, "")))
        return redirect("portal:home")
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.user
        target = _safe_next(request, "")
        if user.two_factor_enabled:
            # Not logged in yet: the code page logs in (accounts.two_factor).
            two_factor.pending_start(request.session, user=user, backend=user.backend)
            response = redirect(_with_next("accounts:login_code", target))
        else:
            login(request, user)
            if user.two_factor_required:
                # An admin or team lead without an app adds one before anything else.
                response = redirect(_with_next("accounts:two_factor_setup", target))
            else:
                # A plain redirect: redirect() would take a `next` like "home" for a view name.
                response = HttpResponseRedirect(target or reverse("portal:home"))
        throttle.login_succeeded(
            request=request, response=response, email=form.user.email, reservation=form.reservation
        )
        return response
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, "")})


def _code_limits(request, user) -> list[tuple[str, str]]:
    return [("otp:account", str(user.pk)), ("otp:ip", throttle.ip_value(request))]


@require_http_methods(["GET", "POST"])
def login_code(request):
    """The second login step: the code from the app, or a recovery code.
    For a password typed a short while ago in this session (then this logs
    in), or for a logged-in session that still owes its code."""
    target = _safe_next(request, reverse("portal:home"))
    backend = None
    if request.user.is_authenticated:
        user = request.user
        if not second_step_missing(user):
            return HttpResponseRedirect(target)
        if not user.two_factor_enabled:
            return redirect(_with_next("accounts:two_factor_setup", target))
    else:
        pending = two_factor.pending_user(request.session)
        if pending is None:
            request.session.pop(two_factor.PENDING_KEY, None)
            messages.info(request, _("Please log in with your e-mail address and password first."))
            return redirect(_with_next("accounts:login", _safe_next(request, "")))
        user, backend = pending
    recovery = (request.POST.get("recovery") or request.GET.get("recovery")) == "1"
    form = SecondStepForm(request.POST or None, recovery=recovery)
    if request.method == "POST" and form.is_valid():
        reservation = throttle.reserve(limits=_code_limits(request, user))
        if reservation is None:
            form.add_error(None, TOO_MANY)
        else:
            try:
                device = two_factor.second_step_verify(user=user, code=form.cleaned_data["code"])
            except two_factor.TwoFactorError as error:
                form.add_error("code", str(error))  # the reserved place counts as a failure
            else:
                reservation.release()
                if backend is not None:
                    request.session.pop(two_factor.PENDING_KEY, None)
                    login(request, user, backend=backend)
                otp_login(request, device)
                if isinstance(device, StaticDevice):
                    left = two_factor.recovery_codes_left(user)
                    messages.warning(
                        request,
                        ngettext(
                            "You logged in with a recovery code. %(count)d code is left: "
                            "make new ones under “Two-step login” if it runs low.",
                            "You logged in with a recovery code. %(count)d codes are left: "
                            "make new ones under “Two-step login” if they run low.",
                            left,
                        )
                        % {"count": left},
                    )
                return HttpResponseRedirect(target)
    return render(
        request,
        "accounts/login_code.html",
        {"form": form, "next": _safe_next(request, ""), "recovery": recovery},
    )


def _identity_confirmed(request, form) -> bool:
    """The password or the app's current code, counted like code guesses."""
    if not form.is_valid():
        return False
    reservation = throttle.reserve(limits=_code_limits(request, request.user))
    if reservation is None:
        form.add_error(None, TOO_MANY)
        return False
    text = form.cleaned_data["confirmation"]
    digits = "".join(text.split())
    confirmed = False
    if len(digits) == 6 and digits.isdigit():
        try:
            confirmed = bool(two_factor.second_step_verify(user=request.user, code=digits))
        except two_factor.TwoFactorError:
            confirmed = False
    else:
        confirmed = request.user.check_password(text)
    if not confirmed:
        form.add_error(
            "confirmation", _("This is neither your password nor the current code from your app.")
        )
        return False
    reservation.release()
    return True


@login_required
@require_GET
def security(request):
    """Two-step login: on or off, recovery codes left."""
    user = request.user
    enabled = user.two_factor_enabled
    return render(
        request,
        "accounts/security.html",
        {
            "enabled": enabled,
            "required": user.two_factor_required,
            "codes_left": two_factor.recovery_codes_left(user) if enabled else 0,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Add an authenticator app: scan the QR code (or type the secret), then
    type the code it shows. Admins and team leads come here right after the
    password and reach nothing else until it is done."""
    user = request.user
    target = _safe_next(request, "")
    if user.two_factor_enabled:
        if second_step_missing(user):
            return redirect(_with_next("accounts:login_code", target))
        return redirect("accounts:security")
    # The secret waits in the session until the app proves it has it, so
    # opening the page writes nothing and a reload shows the same QR code.
    key = request.session.get(SESSION_SETUP_KEY) or two_factor.secret_new()
    request.session[SESSION_SETUP_KEY] = key
    form = SecondStepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reservation = throttle.reserve(limits=_code_limits(request, user))
        if reservation is None:
            form.add_error(None, TOO_MANY)
        else:
            try:
                device, codes = two_factor.two_factor_enable(
                    user=user, key=key, code=form.cleaned_data["code"]
                )
            except two_factor.TwoFactorError as error:
                form.add_error("code", str(error))
            else:
                reservation.release()
                request.session.pop(SESSION_SETUP_KEY, None)
                otp_login(request, device)
                # Shown once, in this answer; nothing stores them readable.
                return render(
                    request,
                    "accounts/recovery_codes.html",
                    {"codes": codes, "next": target, "new_setup": True},
                )
    uri = two_factor.setup_uri(user=user, key=key)
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, omitsize=False)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "key": key,
            "secret": two_factor.secret_for_typing(key),
            "uri": uri,
            # segno writes the SVG from the address alone: no text of ours in it.
            "qr": mark_safe(svg),  # noqa: S308
            "required": user.two_factor_required,
            "next": target,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_off(request):
    """Handlers and members may turn two-step login off again (with the
    password or a current code); admins and team leads may not."""
    user = request.user
    if user.two_factor_required:
        raise Http404
    if not user.two_factor_enabled:
        return redirect("accounts:security")
    form = IdentityConfirmForm(request.POST or None)
    if request.method == "POST" and _identity_confirmed(request, form):
        two_factor.two_factor_disable(user=user)
        messages.success(request, _("Two-step login is off. You log in with your password alone."))
        return redirect("accounts:security")
    return render(request, "accounts/two_factor_off.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """Ten new recovery codes, shown once; the old ones stop working."""
    if not request.user.two_factor_enabled:
        return redirect("accounts:security")
    form = IdentityConfirmForm(request.POST or None)
    if request.method == "POST" and _identity_confirmed(request, form):
        codes = two_factor.recovery_codes_renew(user=request.user)
        return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": ""})
    return render(request, "accounts/recovery_codes_renew.html", {"form": form})


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
                login(request, user, backend="accounts.backends.AccountBackend")
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
        request.POST or None,
        initial={
            "phone": member.phone,
            "language": request.user.language,
            "notices_by_email": request.user.notices_by_email,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.contact_update(
            user=request.user,
            phone=form.cleaned_data["phone"],
            language=form.cleaned_data["language"],
            notices_by_email=form.cleaned_data["notices_by_email"],
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
