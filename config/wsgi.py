import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.checks import require_production_secret_key  # noqa: E402  (needs the settings)

require_production_secret_key()

# Build the OpenAPI schema while the server starts, so that the API docs page is usable at once.
from shop.api.schema_view import warm_in_background  # noqa: E402  (needs the app registry)

warm_in_background()
