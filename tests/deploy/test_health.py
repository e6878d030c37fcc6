"""/healthz, /readyz (database, cache, broker, artifact storage) and /readyz/workers, with a dependency down."""
from __future__ import annotations

import socket

import pytest

from tests import services

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_answers_without_touching_dependencies(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency_with_its_latency(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "storage"}
    for check in body["checks"].values():
        assert check["status"] == "ok" and check["latency_ms"] >= 0
    assert body["checks"]["broker"]["detail"] == "in-process (no CELERY_BROKER_URL)"
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_is_503_when_the_cache_is_down(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{closed_port()}/0"}}
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["cache"]["status"] == "error" and checks["database"]["status"] == "ok"


def test_readyz_is_503_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {
        "status": "error", "latency_ms": response.json()["checks"]["broker"]["latency_ms"],
        "error": "Unavailable: The broker refused the connection",
    }


def test_readyz_is_503_when_the_artifact_storage_is_not_writable(client, settings, tmp_path):
    blocker = tmp_path / "media"
    blocker.write_text("a file where the directory should be")
    settings.MEDIA_ROOT = blocker / "inside"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["status"] == "error"


def test_readyz_is_503_when_the_database_is_down(client, monkeypatch):
    from django.db.backends.base.base import BaseDatabaseWrapper

    def refuse(self, *args, **kwargs):
        raise self.Database.OperationalError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["status"] == "error"


def test_the_worker_check_needs_a_worker(client, settings, redis_url):
    settings.CELERY_BROKER_URL = redis_url
    response = client.get("/readyz/workers")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"]["error"] == "Unavailable: Celery workers unavailable"


def test_the_worker_check_reports_in_process_tasks(client):
    response = client.get("/readyz/workers")
    assert response.status_code == 200
    assert response.json()["checks"]["workers"]["detail"] == "in-process (no CELERY_BROKER_URL)"


def test_health_endpoints_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/search/").status_code == 301
    assert services.REDIS_URL  # the module is used by the fixture above
