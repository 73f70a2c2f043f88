"""The Django admin at /verwaltung/, asking for the second login step.

`accounts.admin_apps.AdminConfig` installs it in place of
django.contrib.admin's site, so `admin.site` everywhere is this site."""

from django.contrib import admin

from core.decorators import second_step_missing


class SecondStepAdminSite(admin.AdminSite):
    def has_permission(self, request):
        # Admins and team leads (and anyone with an app) only after the code;
        # the login link leads to the rate-limited login (config.urls), which
        # sends to the code page.
        return super().has_permission(request) and not second_step_missing(request.user)
