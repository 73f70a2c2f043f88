from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        post_migrate.connect(_roles_ensure, dispatch_uid="accounts.roles_ensure")


def _roles_ensure(sender, app_config, **kwargs):
    # post_migrate fires once per app, and each app's permissions appear with
    # its own signal: wait for the last app, when all permissions exist. This
    # keeps the roles in production in step with the code without a manual step.
    from django.apps import apps

    from accounts.roles import roles_ensure

    # Apps without models get no post_migrate signal, so look for the last with.
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if app_config is with_models[-1]:
        roles_ensure()
