from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The JSON face (`/api/v1/`, Django Ninja): the same services and
    selectors as the member pages, answered as JSON. No models."""

    name = "api"
