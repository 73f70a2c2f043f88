from django.contrib import admin

from audit.models import AccessLog
from audit.services import access_record


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "subject", "member"]
    list_filter = ["action", "created_at"]
    search_fields = ["member__member_number", "member__last_name", "actor__email", "subject"]
    list_select_related = ["actor", "member"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdminMixin:
    """Log every opened record and every search of member data in the admin.

    `audit_members(obj)` returns the members whose data the record shows."""

    def audit_members(self, obj):
        raise NotImplementedError

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, object_id)
        if request.method == "GET" and obj is not None and response.status_code == 200:
            access_record(
                request=request,
                action="view",
                subject=f"{obj._meta.verbose_name}: {obj}",
                members=list(self.audit_members(obj)),
            )
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        query = request.GET.get("q", "").strip()
        if query and response.status_code == 200:
            access_record(
                request=request,
                action="search",
                subject=f"{self.model._meta.verbose_name_plural}: {query}",
            )
        return response
