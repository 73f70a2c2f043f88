from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import ActivationCode, User
from audit.admin import AuditedAdminMixin


class StaffCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")

    def save(self, commit=True):
        # Accounts created here are staff accounts; members activate by letter.
        user = super().save(commit=False)
        user.is_staff = True
        if commit:
            user.save()
        return user


class AccountChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    form = AccountChangeForm
    add_form = StaffCreationForm
    ordering = ["email"]
    list_display = ["email", "get_full_name", "is_staff", "is_active", "member", "last_login"]
    list_filter = ["is_staff", "is_active", "groups", "language"]
    search_fields = [
        "email",
        "first_name",
        "last_name",
        "member__member_number",
        "member__last_name",
    ]
    list_select_related = ["member"]
    readonly_fields = ["member", "last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "language", "member")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )

    def audit_members(self, obj):
        return [obj.member] if obj.member_id else []

    add_fieldsets = (
        (
            _("New staff account"),
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "password1", "password2"),
            },
        ),
    )


@admin.register(ActivationCode)
class ActivationCodeAdmin(admin.ModelAdmin):
    list_display = ["member", "created_at", "expires_at", "used_at", "revoked_at", "created_by"]
    list_filter = ["created_at", "used_at"]
    search_fields = ["member__member_number", "member__last_name"]
    list_select_related = ["member", "created_by"]
    # Codes are created only through the letter action; the hash is useless to read.
    exclude = ["code_hash"]
    readonly_fields = ["member", "created_at", "created_by", "expires_at", "used_at"]

    def has_add_permission(self, request):
        return False
