from django import forms
from django.contrib import admin
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedAdminMixin
from routing.models import Priority, Team
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
            "no_past_dates",
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
        # The fourth part raises the request's priority (tickets.route): a
        # typo there ("notfall" for "emergency") would silently do nothing.
        for option in field.choice_list():
            if option.get("priority", "") not in ("", *Priority.values):
                self.add_error(
                    "choices",
                    _(
                        "“%(priority)s” (the fourth part of the line “%(value)s”) is not a "
                        "priority. Use one of: %(priorities)s."
                    )
                    % {
                        "priority": option["priority"],
                        "value": option["value"],
                        "priorities": ", ".join(Priority.values),
                    },
                )
                break
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
        "no_past_dates",
        ("min_value", "max_value"),
    ]


@admin.register(RequestType)
class RequestTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name_de",
        "category",
        "audience",
        "default_team",
        "shared_with_household",
        "in_portal",
        "active",
        "position",
    ]
    list_filter = [
        "category",
        "audience",
        "shared_with_household",
        "in_portal",
        "active",
        "default_team",
    ]
    # The everyday words are searchable too: "which form did we give 'Schimmel'?"
    search_fields = ["name_de", "name_en", "slug", "synonyms"]
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


class NotFoundOutsideMixin:
    """A row outside get_queryset() answers 404, as in the back office,
    not the admin's "does not exist" redirect: every view that opens one
    object (change, history, delete) goes through get_object."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj


@admin.register(Ticket)
class TicketAdmin(NotFoundOutsideMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Read-only; history is immutable. Requests are worked in the back
    office; here admins look things up. Whoever else holds the right to read
    requests here sees exactly what the back office shows them
    (Ticket.objects.visible_to_staff): the list, its search and filters, one
    request, its history and events all start from get_queryset."""

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
    search_fields = ["reference", "member__member_number", "member__last_name", "contact_name"]
    list_select_related = ["request_type", "member", "team", "assignee"]
    date_hierarchy = "created_at"
    inlines = [TicketEventInline]
    readonly_fields = [f.name for f in Ticket._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to_staff(request.user)

    def audit_members(self, obj):
        return [obj.member] if obj.member_id else []

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CannedResponse)
class CannedResponseAdmin(NotFoundOutsideMixin, admin.ModelAdmin):
    """Admins manage every text block; a team lead those of the teams they
    lead and the shared ones (no team), which every team offers."""

    list_display = ["title", "team"]
    list_filter = ["team"]
    search_fields = ["title", "body_de", "body_en"]

    def get_queryset(self, request):
        blocks = super().get_queryset(request)
        if request.user.is_admin_role:
            return blocks
        return blocks.filter(Q(team__isnull=True) | Q(team__lead=request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "team" and not request.user.is_admin_role:
            kwargs["queryset"] = Team.objects.filter(lead=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        help_text = ", ".join(
            f"{{{key}}} = {label}" for key, label in CannedResponse.PLACEHOLDERS.items()
        )
        kwargs["help_texts"] = {"body_de": help_text, "body_en": help_text}
        return super().get_form(request, obj, **kwargs)
