from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from accounts.models import ActivationCode, User
from audit.admin import AuditedAdminMixin


def grantable_groups(user: User):
    """The roles this person may give: those whose every permission they
    hold themselves (a superuser holds all)."""
    if user.is_superuser:
        return Group.objects.all()
    held = user.get_all_permissions()
    ids = [
        group.pk
        for group in Group.objects.prefetch_related("permissions__content_type")
        if all(f"{p.content_type.app_label}.{p.codename}" in held for p in group.permissions.all())
    ]
    return Group.objects.filter(pk__in=ids)


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

    def clean(self):
        cleaned = super().clean()
        # `member` is read-only in this admin, so Django skips the check
        # constraint user_staff_is_not_member (it names a field the form
        # lacks) and the database would refuse the save with a 500.
        if cleaned.get("is_staff") and self.instance.member_id:
            self.add_error(
                "is_staff",
                _(
                    "A member's account cannot be a staff account. Staff need an "
                    "account of their own with another e-mail address."
                ),
            )
        return cleaned


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

    # Rights: nobody gives more than they hold. Only a superuser makes
    # superusers or hands out single permissions; the Administration role
    # gives roles (groups) whose permissions it holds itself, and never
    # changes its own rights (no raising them, and no losing them by a save
    # that leaves the roles out: the fields are not in the form then).

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        fields += ["is_superuser", "user_permissions"]
        if obj is not None and obj.pk == request.user.pk:
            fields += ["is_staff", "is_active", "groups"]
        return fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = grantable_groups(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        # Roles the editor cannot give are not offered, so the form cannot
        # name them: keep them rather than take them away unseen.
        kept = []
        if change and "groups" in form.cleaned_data and not request.user.is_superuser:
            grantable = grantable_groups(request.user)
            kept = list(form.instance.groups.exclude(pk__in=grantable.values("pk")))
        super().save_related(request, form, formsets, change)
        if kept:
            form.instance.groups.add(*kept)

    def has_change_permission(self, request, obj=None):
        # A superuser's account (its e-mail, its password) is a superuser's
        # business: changing it would be a way to become one.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

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
