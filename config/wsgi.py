import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Refuse the development SECRET_KEY before loading the apps (it needs only the settings): the server
# says why at once instead of after importing every app and model library.
from config.checks import require_production_secret_key  # noqa: E402

require_production_secret_key()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

# Build the OpenAPI schema while the server starts, so that the API docs page is usable at once.
from shop.api.schema_view import warm_in_background  # noqa: E402  (needs the app registry)

warm_in_background()
