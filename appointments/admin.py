from django.contrib import admin
from django.db import models

from appointments.models import Advisor, AppointmentType, AvailabilityOverride, WeeklyHours


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = ["name_de", "location_kind", "duration_minutes", "min_notice_hours", "active"]
    list_filter = ["active", "location_kind"]
    search_fields = ["name_de", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name_de"]}


class WeeklyHoursInline(admin.TabularInline):
    model = WeeklyHours
    extra = 1


class AvailabilityOverrideInline(admin.TabularInline):
    model = AvailabilityOverride
    extra = 1


@admin.register(Advisor)
class AdvisorAdmin(admin.ModelAdmin):
    list_display = ["__str__", "room", "active"]
    list_filter = ["active", "types"]
    search_fields = ["user__first_name", "user__last_name", "user__email"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["types"]
    # The feed token and the round-robin turn are the portal's business.
    exclude = ["last_booked_at"]
    inlines = [WeeklyHoursInline, AvailabilityOverrideInline]
    # Video links are typed without a scheme; they are https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
