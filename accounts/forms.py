from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.hashers import check_password
from django.contrib.auth.tokens import default_token_generator
from django.db.models import Q
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from accounts import throttle
from accounts.models import User
from accounts.services import EMAIL_TAKEN
from core.links import absolute_url
from mail.services import email_queue

TOO_MANY = _(
    "Too many unsuccessful attempts. For your security, please wait 15 minutes "
    "and try again, or call the office."
)
TOO_MANY_MAILS = _(
    "We have sent this e-mail several times in a short while. To protect the mailbox, "
    "we send no more for now. Please look for the e-mails already sent (also in the "
    "spam folder), or try again in an hour."
)


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        self.reservation = None  # the view gives it back after logging in
        super().__init__(*args, **kwargs)

    def clean(self):
        email = (self.cleaned_data.get("email") or "").lower()
        password = self.cleaned_data.get("password")
        if not email or not password:
            return self.cleaned_data
        # A place under the limits first, then the password: see accounts.throttle.
        self.reservation = throttle.reserve(limits=throttle.login_limits(self.request, email))
        if self.reservation is None:
            raise forms.ValidationError(TOO_MANY, code="rate_limited")
        self.user = authenticate(self.request, email=email, password=password)
        if self.user is None:
            pending = User.objects.filter(email__iexact=email, is_active=False).first()
            # hashers.check_password never re-hashes: a new hash would make the
            # pending confirmation link stale (accounts.services._activation_state).
            if (
                pending is not None
                and pending.member_id
                and check_password(password, pending.password)
            ):
                raise forms.ValidationError(
                    _(
                        "Please confirm your e-mail address first: click the link in the "
                        "e-mail we sent you when you activated your account."
                    ),
                    code="inactive",
                )
            raise forms.ValidationError(
                _("The e-mail address or the password is not correct."), code="invalid_login"
            )
        return self.cleaned_data


class _CodeInput(forms.TextInput):
    # A wrong or old code is never shown back: the next try needs the new one.
    def format_value(self, value):
        return None


class SecondStepForm(forms.Form):
    """The code after the password, or when an app is set up: six digits
    from the app, or (recovery=True) one of the recovery codes."""

    code = forms.CharField(
        label=_("Code from your app"),
        max_length=40,
        help_text=_("The 6 digits your authenticator app shows for this account."),
        widget=_CodeInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, recovery: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if recovery:
            field = self.fields["code"]
            field.label = _("Recovery code")
            field.help_text = _(
                "One of the ten codes you kept when you set up two-step login, "
                "e.g. ABCDE-FGHJK. Each code works once."
            )
            # Letters too: no number pad on phones.
            field.widget.attrs = {
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }


class IdentityConfirmForm(forms.Form):
    """Before two-step login is turned off or new recovery codes replace the
    old ones: the password, or the code the app shows now."""

    confirmation = forms.CharField(
        label=_("Your password or the current code from your app"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ActivationConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        help_text=_("The password you chose when you activated your account."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ActivationCodeForm(forms.Form):
    member_number = forms.CharField(
        label=_("Member number"),
        max_length=20,
        help_text=_("You find it at the top right of your letter."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    code = forms.CharField(
        label=_("Activation code"),
        max_length=40,
        help_text=_("16 letters and digits, e.g. ABCD-EFGH-JKLM-NPQR. Upper or lower case."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class AccountDetailsForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("We will send a link to this address to confirm it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        help_text=_("At least 10 characters. A short sentence is easy to remember."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Repeat the password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, member=None, **kwargs):
        self.member = member
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        exclude = Q(member=self.member) if self.member is not None else None
        if User.objects.email_taken(email, exclude=exclude):
            raise forms.ValidationError(EMAIL_TAKEN)
        return email

    def clean(self):
        p1 = self.cleaned_data.get("password1")
        p2 = self.cleaned_data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
        elif p1:
            probe = User(email=self.cleaned_data.get("email", ""), member=self.member)
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return self.cleaned_data


class ContactForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=50,
        required=False,
        help_text=_("So that we can call you back about your requests."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    language = forms.ChoiceField(
        label=_("Language of the portal and our e-mails"),
        choices=settings.LANGUAGES,
        widget=forms.RadioSelect,
    )
    notices_by_email = forms.BooleanField(
        label=_("Send me notices for my building by e-mail too"),
        required=False,
        help_text=_(
            "e.g. a heating outage or a water shut-off; you always find them in the portal."
        ),
    )

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        allowed = set("0123456789+ /-()")
        if phone and (not set(phone) <= allowed or sum(ch.isdigit() for ch in phone) < 5):
            raise forms.ValidationError(
                _(
                    "Enter a phone number using digits, spaces and + / - ( ) only, "
                    "e.g. 030 1234567 or +49 30 1234567."
                )
            )
        return phone


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        label=_("New e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, user, request, **kwargs):
        self.user = user
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_email(self):
        # Whether another account uses the address is not said here: the
        # service answers both cases alike (accounts.services.email_change_request).
        email = self.cleaned_data["email"].lower()
        if email == self.user.email:
            raise forms.ValidationError(_("This is already your e-mail address."))
        return email

    def clean(self):
        email = self.cleaned_data.get("email")
        if email and not self.errors:
            # Each request sends an e-mail: every one counts, per account, per
            # receiving address (several accounts at one inbox) and per IP.
            limits = [
                ("email_change:account", str(self.user.pk)),
                ("email_change:address", email),
                ("email_change:ip", throttle.ip_value(self.request)),
            ]
            if throttle.reserve(limits=limits) is None:
                raise forms.ValidationError(TOO_MANY_MAILS, code="rate_limited")
        return self.cleaned_data


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form (same user lookup, same tokens), but the e-mail goes
    through the outbox and task queue in the account's language, like every
    other message, and only a few times per address and IP an hour."""

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self):
        email = self.cleaned_data.get("email")
        if email and not self.errors:
            # Counted for every address, with an account or without, so the
            # limit tells nobody which addresses have accounts.
            limits = [
                ("password_reset:address", email),
                ("password_reset:ip", throttle.ip_value(self.request)),
            ]
            if throttle.reserve(limits=limits) is None:
                raise forms.ValidationError(TOO_MANY_MAILS, code="rate_limited")
        return self.cleaned_data

    def save(self, **kwargs):
        for user in self.get_users(self.cleaned_data["email"]):
            link = absolute_url(
                "accounts:password_reset_confirm",
                kwargs={
                    "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                    "token": default_token_generator.make_token(user),
                },
            )
            email_queue(
                to=user.email,
                template="accounts/email/password_reset",
                context={
                    "user": user,
                    "link": link,
                    "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
                },
                language=user.language,
            )


class _RulesOnNewPassword:
    """Django puts the password-rule errors on the confirmation field, away
    from the rules hint under the new password; members look for them there."""

    def clean(self):
        self.validate_passwords("new_password1", "new_password2")
        if "new_password2" not in self.errors:
            self.validate_password_for_user(self.user, "new_password1")
        return forms.Form.clean(self)


class NewPasswordForm(_RulesOnNewPassword, SetPasswordForm):
    def save(self, commit=True):
        user = super().save(commit=commit)
        # Whoever opened the link owns the inbox: strangers' failed guesses no
        # longer keep the account locked for devices it never used.
        throttle.clear(scope="login:account", value=user.email)
        return user


class ChangePasswordForm(_RulesOnNewPassword, PasswordChangeForm):
    pass
