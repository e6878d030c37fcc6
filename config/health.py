"""Health endpoints for load balancers and orchestrators (django-health-check's checks).

- `/healthz`: the process is alive (no dependency is touched), always 200.
- `/readyz`: the database, the cache, the Celery broker and the artifact storage (MEDIA_ROOT, where model
  versions live), each with its status and latency; 503 when any is down.
- `/readyz/workers`: at least one Celery worker answers a ping and every queue has a worker (503 if not).

With no CELERY_BROKER_URL (tasks run in the calling process) the broker and worker checks report "in-process".
"""
from __future__ import annotations

import dataclasses
import datetime

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from health_check.base import HealthCheck
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

IN_PROCESS = "in-process (no CELERY_BROKER_URL)"


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection."""

    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=2), repr=False)

    def run(self) -> None:
        if not settings.CELERY_BROKER_URL:
            return
        from kombu import Connection

        try:
            with Connection(settings.CELERY_BROKER_URL, connect_timeout=self.timeout.total_seconds()) as connection:
                connection.ensure_connection(max_retries=1)
        except Exception as exc:  # kombu raises the transport's own errors
            raise ServiceUnavailable("The broker refused the connection") from exc

    def pretty_status(self) -> str:
        return "OK" if settings.CELERY_BROKER_URL else IN_PROCESS


@dataclasses.dataclass
class Workers(Ping):
    """At least one Celery worker answers, and every queue has one."""

    def run(self) -> None:
        if settings.CELERY_BROKER_URL:
            super().run()

    def pretty_status(self) -> str:
        return "OK" if settings.CELERY_BROKER_URL else IN_PROCESS


CHECK_NAMES = {"Database": "database", "Cache": "cache", "Storage": "storage", "Broker": "broker",
               "Workers": "workers"}


class ReadinessView(HealthCheckView):
    """Runs the checks and answers JSON: {"status": "ok"|"unavailable", "checks": {name: {status, latency_ms}}}."""

    checks = (
        "health_check.checks.Database",
        "health_check.checks.Cache",
        "config.health.Broker",
        ("health_check.checks.Storage", {"alias": "default"}),
    )

    async def get(self, request, *args, **kwargs):
        await super().get(request, *args, **kwargs)  # runs the checks into self.results
        checks = {}
        for result in self.results:
            name = CHECK_NAMES.get(type(result.check).__name__, type(result.check).__name__.lower())
            checks[name] = {
                "status": "error" if result.error else "ok",
                "latency_ms": round(result.time_taken * 1000, 1),
            } | ({"error": str(result.error)} if result.error else {"detail": result.check.pretty_status()})
        failed = any(result.error for result in self.results)
        return JsonResponse({"status": "unavailable" if failed else "ok", "checks": checks}, status=503 if failed else 200)


class WorkersView(ReadinessView):
    checks = ("config.health.Workers",)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
