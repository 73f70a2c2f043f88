from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The member's face of the portal: home, Mein Bereich, language, logo,
    health check and the context every page shares. No models."""

    name = "portal"
