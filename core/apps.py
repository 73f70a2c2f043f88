from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.backends.signals import connection_created

        from core.folding import sqlite_functions_register
        from core.kept import forget_for_others
        from core.stats import sqlite_aggregates_register

        user_logged_in.connect(forget_for_others, dispatch_uid="core.kept.forget_for_others")
        # Searches fold text in SQL (core.folding); SQLite needs it as a function.
        connection_created.connect(
            sqlite_functions_register, dispatch_uid="core.folding.sqlite_functions_register"
        )
        # Percentiles in SQL (core.stats); SQLite needs the aggregate.
        connection_created.connect(
            sqlite_aggregates_register, dispatch_uid="core.stats.sqlite_aggregates_register"
        )
