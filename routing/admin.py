from django.contrib import admin

from routing.models import Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "lead"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    autocomplete_fields = ["lead"]
