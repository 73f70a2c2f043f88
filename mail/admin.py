from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mail.models import OutboundEmail
from mail.tasks import email_deliver


@admin.action(
    description=_("Send again (after checking it did not arrive)"), permissions=["change"]
)
def send_again(modeladmin, request, queryset):
    """Staff decide for rows in doubt (or failed ones) after checking with
    the recipient; the same Message-ID lets mail programs drop a copy."""
    ids = list(
        queryset.filter(
            status__in=[OutboundEmail.Status.IN_DOUBT, OutboundEmail.Status.FAILED]
        ).values_list("pk", flat=True)
    )
    OutboundEmail.objects.filter(pk__in=ids).update(status=OutboundEmail.Status.FAILED)
    for email_id in ids:
        email_deliver.enqueue(email_id)
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d e-mail queued to be sent again.",
            "%(count)d e-mails queued to be sent again.",
            len(ids),
        )
        % {"count": len(ids)},
        messages.SUCCESS,
    )


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["to", "subject"]
    date_hierarchy = "created_at"
    # Bodies may hold one-time links: readable for admins, never editable.
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    actions = [send_again]

    def has_add_permission(self, request):
        return False
