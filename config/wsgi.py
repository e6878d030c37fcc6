import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Build the OpenAPI schema while the server starts, so that the API docs page is usable at once.
from shop.api.schema_view import warm_in_background  # noqa: E402  (needs the app registry)

warm_in_background()
