from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.services import activation_codes_create
from audit.admin import AuditedAdminMixin
from audit.services import access_record
from core.links import absolute_url
from members.models import Contract, ContractMember, Member, Shareholding, ShareMovement


class ShareholdingInline(admin.TabularInline):
    model = Shareholding
    extra = 0


class ShareMovementInline(admin.TabularInline):
    """The bookings on the member's shares, as the ERP delivered them
    (import_master_data --share-ledger): read here, corrected in the ERP —
    the next import would undo a change made here."""

    model = ShareMovement
    extra = 0
    fields = ["booked_on", "kind", "shares", "amount", "business_year", "text", "reference"]
    readonly_fields = fields
    ordering = ["booked_on", "pk"]
    can_delete = False
    verbose_name_plural = _("bookings on the shares (from the ERP)")

    def has_add_permission(self, request, obj=None):
        return False


class HasAccountFilter(admin.SimpleListFilter):
    title = _("portal account")
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [("yes", _("active account")), ("no", _("no active account"))]

    def queryset(self, request, queryset):
        active = Exists(User.objects.filter(member=OuterRef("pk"), is_active=True))
        if self.value() == "yes":
            return queryset.filter(active)
        if self.value() == "no":
            return queryset.exclude(active)
        return queryset


class ContractInline(admin.TabularInline):
    model = ContractMember
    extra = 0
    verbose_name = _("contract")
    verbose_name_plural = _("contracts")
    fields = ["contract", "joined"]
    autocomplete_fields = ["contract"]


class ContractMemberInline(admin.TabularInline):
    """The household on the contract. The import sets `joined` to the day it
    adds someone to a running contract; staff correct it when the partner
    really moved in earlier or later (it decides which of the household's
    requests they see)."""

    model = ContractMember
    extra = 0
    fields = ["member", "joined"]
    autocomplete_fields = ["member"]


@admin.register(Member)
class MemberAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["member_number", "last_name", "first_name", "city", "joined_on", "left_on"]
    list_filter = [HasAccountFilter, "preferred_language", "joined_on", "left_on"]
    search_fields = ["member_number", "last_name", "first_name", "email"]
    date_hierarchy = "joined_on"
    inlines = [ShareholdingInline, ShareMovementInline, ContractInline]
    actions = ["print_activation_letters"]

    @admin.action(
        description=_("Create activation letters for the selected members"),
        permissions=["add_activation_code"],
    )
    def print_activation_letters(self, request, queryset):
        with_account = set(
            User.objects.filter(member__in=queryset, is_active=True).values_list(
                "member_id", flat=True
            )
        )
        eligible = [m for m in queryset.order_by("member_number") if m.pk not in with_account]
        if with_account:
            self.message_user(
                request,
                ngettext(
                    "%(count)d member already has an active account and got no letter.",
                    "%(count)d members already have an active account and got no letter.",
                    len(with_account),
                )
                % {"count": len(with_account)},
                messages.WARNING,
            )
        if not eligible:
            return None
        letters = activation_codes_create(members=eligible, created_by=request.user)
        access_record(
            request=request,
            action="export",
            subject=str(_("Activation letters")),
            members=eligible,
        )
        return TemplateResponse(
            request,
            "admin/members/activation_letters.html",
            {
                "letters": letters,
                "today": timezone.localdate(),
                "activation_url": absolute_url("accounts:activation_start"),
                "opts": self.model._meta,
            },
        )

    def audit_members(self, obj):
        return [obj]

    def has_add_activation_code_permission(self, request):
        return request.user.has_perm("accounts.add_activationcode")


@admin.register(Contract)
class ContractAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["number", "unit", "start", "end", "monthly_fee"]
    list_filter = ["unit__building__estate", "start", "end"]
    search_fields = ["number", "unit__number", "members__member_number", "members__last_name"]
    list_select_related = ["unit"]
    autocomplete_fields = ["unit"]
    date_hierarchy = "start"
    inlines = [ContractMemberInline]

    def audit_members(self, obj):
        return obj.members.all()
