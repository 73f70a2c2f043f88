from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and the fixed test cast (Alice, Bob, Dave, Hanna, Tom, Ada):
    built through the same services as real data. No models."""

    name = "demo"
