from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mail.models import OutboundEmail
from mail.services import email_send_again


@admin.action(
    description=_("Send again (after checking it did not arrive)"), permissions=["change"]
)
def send_again(modeladmin, request, queryset):
    """Staff decide for rows in doubt (or failed ones) after checking with
    the recipient; the same Message-ID lets mail programs drop a copy."""
    count = sum(
        email_send_again(email=email, actor=request.user)
        for email in queryset.filter(
            status__in=[OutboundEmail.Status.IN_DOUBT, OutboundEmail.Status.FAILED]
        )
    )
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d e-mail queued to be sent again.",
            "%(count)d e-mails queued to be sent again.",
            count,
        )
        % {"count": count},
        messages.SUCCESS,
    )


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "subject", "status", "attempts", "sent_at", "thread"]
    list_filter = ["status"]
    search_fields = ["to", "subject"]
    date_hierarchy = "created_at"
    # Bodies may hold one-time links: readable for admins, never editable.
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    actions = [send_again]

    def has_add_permission(self, request):
        return False
