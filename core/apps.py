from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from core.kept import forget_for_others

        user_logged_in.connect(forget_for_others, dispatch_uid="core.kept.forget_for_others")
