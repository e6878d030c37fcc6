from __future__ import annotations

import pytest

from tests import services


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
    from django.core.cache import cache

    cache.clear()
    yield
