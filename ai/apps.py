from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "ai"
    verbose_name = "AI"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the built-in model kinds (each module calls ai.kinds.register).
        from django.db.models.signals import post_migrate

        from . import checks, kinds  # noqa: F401  (checks registers ai's system checks)
        from .annotation.roles import create_missing_roles_after_migrate

        # After auth's own post_migrate receiver has made the permissions (auth comes first in INSTALLED_APPS).
        post_migrate.connect(create_missing_roles_after_migrate, sender=self)
