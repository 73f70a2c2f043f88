from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedAdminMixin
from tickets.models import (
    CannedResponse,
    FieldKind,
    RequestField,
    RequestType,
    Ticket,
    TicketEvent,
)


class RequestFieldForm(forms.ModelForm):
    class Meta:
        model = RequestField
        fields = [
            "position",
            "key",
            "kind",
            "required",
            "label_de",
            "label_en",
            "help_de",
            "help_en",
            "choices",
            "min_value",
            "max_value",
        ]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        field = RequestField(choices=cleaned.get("choices") or "")
        if kind in (FieldKind.CHOICE, FieldKind.MULTICHOICE) and len(field.choice_list()) < 2:
            self.add_error(
                "choices", _("A choice needs at least two lines of the form value|German|English.")
            )
        low, high = cleaned.get("min_value"), cleaned.get("max_value")
        if low is not None and high is not None and low > high:
            self.add_error("max_value", _("The maximum must not be below the minimum."))
        return cleaned


class RequestFieldInline(admin.StackedInline):
    model = RequestField
    form = RequestFieldForm
    extra = 0
    fields = [
        ("position", "key", "kind", "required"),
        ("label_de", "label_en"),
        ("help_de", "help_en"),
        "choices",
        ("min_value", "max_value"),
    ]


@admin.register(RequestType)
class RequestTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name_de",
        "category",
        "audience",
        "default_team",
        "in_portal",
        "active",
        "position",
    ]
    list_filter = ["category", "audience", "in_portal", "active", "default_team"]
    search_fields = ["name_de", "name_en", "slug"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name_de"]}
    inlines = [RequestFieldInline]


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    fields = ["created_at", "kind", "public", "actor", "body"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Read-only until the back-office inbox exists; history is immutable."""

    list_display = [
        "reference",
        "request_type",
        "member",
        "status",
        "team",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "channel", "team", "request_type"]
    search_fields = ["reference", "member__member_number", "member__last_name"]
    list_select_related = ["request_type", "member", "team", "assignee"]
    date_hierarchy = "created_at"
    inlines = [TicketEventInline]
    readonly_fields = [f.name for f in Ticket._meta.fields]

    def audit_members(self, obj):
        return [obj.member]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title", "team"]
    list_filter = ["team"]
    search_fields = ["title", "body_de", "body_en"]

    def get_form(self, request, obj=None, **kwargs):
        help_text = ", ".join(
            f"{{{key}}} = {label}" for key, label in CannedResponse.PLACEHOLDERS.items()
        )
        kwargs["help_texts"] = {"body_de": help_text, "body_en": help_text}
        return super().get_form(request, obj, **kwargs)
