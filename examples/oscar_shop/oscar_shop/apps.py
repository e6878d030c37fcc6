from django.apps import AppConfig


class OscarShopConfig(AppConfig):
    """This shop's glue to ai: the signal receivers that turn Oscar's own signals into ai events."""

    name = "oscar_shop"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the receivers
