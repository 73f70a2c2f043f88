from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from rooms.models import Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name_de", "kind", "estate", "team", "price", "needs_confirmation", "active"]
    list_filter = ["kind", "active", "needs_confirmation"]
    search_fields = ["name_de", "name_en", "slug", "address"]
    prepopulated_fields = {"slug": ["name_de"]}
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "kind",
                    "name_de",
                    "name_en",
                    "slug",
                    "description_de",
                    "description_en",
                    "address",
                    "estate",
                    "residents_only",
                    "team",
                    "capacity",
                    "active",
                    "position",
                ]
            },
        ),
        (_("Price"), {"fields": ["price", "fee"]}),
        (
            _("Times and rules"),
            {
                "fields": [
                    "check_in",
                    "check_out",
                    "opens",
                    "closes",
                    "cleaning_minutes",
                    "min_units",
                    "max_units",
                    "min_notice_hours",
                    "horizon_days",
                    "cancel_cutoff_hours",
                    "needs_confirmation",
                ]
            },
        ),
    ]
