from __future__ import annotations

import os

import pytest

from tests import services


def pytest_configure(config):
    """Under pytest-xdist (`make test` runs one worker per core) each worker keeps torch to one thread, so
    the workers share the cores instead of fighting over them."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


@pytest.fixture(scope="session", autouse=True)
def _media_root_outside_the_checkout(tmp_path_factory):
    """Files a test stores (model artifacts, imports, charts) go to this run's temporary folder, never to the
    developer's var/media, and never to another xdist worker's."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield


@pytest.fixture
def require_postgres(db):
    services.need(services.uses_postgres(), "needs PostgreSQL: run with DATABASE_URL=postgres://…")


@pytest.fixture
def redis_url() -> str:
    services.need(services.redis_reachable(), f"needs Redis at {services.REDIS_URL}")
    return services.REDIS_URL


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = services.chromium_path()
    services.need(path is not None, "needs Debian's chromium (apt-get install chromium)")
    services.need(services.playwright_importable(), "needs the playwright Python package (pip install -e '.[dev]')")
    return path


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page(chromium_executable, live_server):
    """A Playwright page in Debian's chromium, with `page.base_url` pointing at the live server."""
    import tempfile

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.base_url = live_server.url
        try:
            yield page
        finally:
            context.close()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty Django cache and no loaded model versions: a version promoted in an
    earlier test (whose row was rolled back, its primary key free to be reused) must not be served."""
    from django.core.cache import cache

    from ai import registry

    cache.clear()
    registry.clear_cache()
    yield


@pytest.fixture(scope="session", autouse=True)
def _close_leaked_connections(django_db_setup, django_db_blocker):
    """Playwright's sync API runs the test body beside an event loop, where Django keys connections by
    context: ORM calls there open connections that the test's teardown never sees. On PostgreSQL they
    would keep the test database from being dropped, so end them once the session is over."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
