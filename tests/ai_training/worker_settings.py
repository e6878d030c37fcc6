"""Settings of the Celery workers that the integration tests start: the project's, with automatic
promotion off, so that the test promotes the new version itself through the API."""
from config.settings import *  # noqa: F401,F403

AI_AUTO_PROMOTE_MARGIN = None
