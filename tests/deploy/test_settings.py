"""Production settings: `check --deploy` is clean, servers refuse the development SECRET_KEY, HTTPS settings
come from the environment. Each runs Django in a subprocess with the environment a deployment sets."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "pP7w1kq-9Zr3yXo2mV5tLb8cNd4fGh6jKs0aQe1uIo2yTr4wE3",
    "ALLOWED_HOSTS": "shop.example.com",
    "HTTPS": "1",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}
DEPLOYMENT_VARIABLES = {*PRODUCTION_ENV, "SECURE_COOKIES", "REQUIRE_SECRET_KEY", "SECURE_HSTS_SECONDS",
                        "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "CSP_IMG_SRC"}


def run_django(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {name: value for name, value in os.environ.items() if name not in DEPLOYMENT_VARIABLES}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True,
                          timeout=300)


# One Django process under the production environment for the tests below (loading every app costs
# seconds): it runs `check --deploy` and then prints the HTTPS settings it read from the environment.
PRODUCTION_PROCESS = """
import json, sys, django
django.setup()
from django.conf import settings as s
from django.core.management import call_command
call_command("check", "--deploy", "--fail-level", "WARNING")
sys.stdout.flush()
print("SETTINGS " + json.dumps({name: getattr(s, name, None) for name in [
    "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_REDIRECT_EXEMPT"]}))
"""


@pytest.fixture(scope="module")
def production_process() -> subprocess.CompletedProcess:
    return run_django(["-c", PRODUCTION_PROCESS], DJANGO_SETTINGS_MODULE="config.settings", **PRODUCTION_ENV)


def test_check_deploy_is_clean_under_production_settings(production_process):
    result = production_process
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("System check identified no issues (0 silenced).\n"), result.stdout


def test_check_deploy_flags_a_site_not_marked_https():
    result = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                        **{**PRODUCTION_ENV, "HTTPS": "0"})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_the_wsgi_server_refuses_to_start_without_a_secret_key():
    result = run_django(["-c", "import sys, config.wsgi"], DEBUG="0")
    assert result.returncode == 1
    assert "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is not set: refusing to start with DEBUG off" in result.stderr
    # refused before the apps load (in seconds, not after importing every app and model library)
    assert "get_wsgi_application" not in result.stderr


@pytest.mark.parametrize("debug,secret_key,refused", [
    (False, "dev", True), (True, "dev", False), (False, PRODUCTION_ENV["SECRET_KEY"], False),
])
def test_servers_start_with_a_secret_key_or_in_debug(settings, debug, secret_key, refused):
    from config.checks import require_production_secret_key

    settings.DEBUG = debug
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY if secret_key == "dev" else secret_key
    if refused:
        with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
            require_production_secret_key()
    else:
        require_production_secret_key()


def test_celery_workers_refuse_to_start_without_a_secret_key(settings):
    from config.celery import refuse_without_secret_key

    settings.DEBUG = False
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        refuse_without_secret_key()
    settings.SECRET_KEY = PRODUCTION_ENV["SECRET_KEY"]
    refuse_without_secret_key()


def test_https_settings_come_from_the_environment(production_process):
    line = next(line for line in production_process.stdout.splitlines() if line.startswith("SETTINGS "))
    assert json.loads(line.removeprefix("SETTINGS ")) == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"], "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True, "SECURE_REDIRECT_EXEMPT": ["^healthz$", "^readyz"],
    }


@pytest.mark.django_db
def test_behind_the_proxy_https_requests_get_hsts_and_plain_ones_a_redirect(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/search/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    response = client.get("/search/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/search/"
