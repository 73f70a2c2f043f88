from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with a site that asks for the second login step
    (settings.INSTALLED_APPS names this instead of django.contrib.admin).
    A module of its own: app configs load before any model may be imported."""

    default_site = "accounts.admin_site.SecondStepAdminSite"
