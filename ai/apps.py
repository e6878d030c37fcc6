from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "ai"
    verbose_name = "AI"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the built-in model kinds (each module calls ai.kinds.register).
        from . import checks, kinds  # noqa: F401  (checks registers ai's system checks)
