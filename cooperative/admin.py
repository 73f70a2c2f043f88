from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cooperative.cache import cooperative_cache_clear
from cooperative.models import Building, ClosingDay, Cooperative, Estate, OpeningHours, Unit


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosingDayInline(admin.TabularInline):
    model = ClosingDay
    extra = 0


@admin.register(Cooperative)
class CooperativeAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "federal_state"]
    inlines = [OpeningHoursInline, ClosingDayInline]
    # Every field of the model, grouped as the office thinks of them
    # (tests/test_pages.py checks that none is left out).
    fieldsets = [
        (None, {"fields": ["name", "street", "postcode", "city", "phone", "email"]}),
        (
            _("Emergencies"),
            {"fields": ["emergency_phone", "utility_emergency_phone", "emergency_words"]},
        ),
        (
            _("Legal notice and privacy"),
            {"fields": ["imprint", "privacy_notice", "accessibility_statement"]},
        ),
        (
            _("Letters (footer of certificates and other PDF letters)"),
            {
                "fields": [
                    "register_court",
                    "register_number",
                    "board_members",
                    "supervisory_board_chair",
                    "bank_details",
                ]
            },
        ),
        (_("Shares"), {"fields": ["business_year_end_month", "share_notice_months"]}),
        (_("Working time"), {"fields": ["federal_state", "half_days_close_at"]}),
        (_("Appearance"), {"fields": ["logo", "brand_colour"]}),
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        cooperative_cache_clear()  # every page shows name and hours

    def has_add_permission(self, request):
        # One cooperative per installation (one database per cooperative).
        return not Cooperative.objects.exists() and super().has_add_permission(request)


class BuildingInline(admin.TabularInline):
    model = Building
    extra = 0
    show_change_link = True
    fields = ["street", "house_number", "postcode", "city"]


@admin.register(Estate)
class EstateAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "property_manager", "caretaker"]
    search_fields = ["number", "name"]
    list_select_related = ["property_manager", "caretaker"]
    autocomplete_fields = ["property_manager", "caretaker"]
    inlines = [BuildingInline]


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ["street", "house_number", "postcode", "city", "estate"]
    list_filter = ["estate", "city"]
    search_fields = ["street", "postcode", "city"]
    list_select_related = ["estate"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["number", "building", "position", "floor", "rooms", "living_area"]
    list_filter = ["building__estate", "rooms", "floor"]
    search_fields = ["number", "building__street", "position"]
    list_select_related = ["building"]
    autocomplete_fields = ["building"]
