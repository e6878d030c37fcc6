"""A request id on every log line, carried from the HTTP request into the Celery tasks it enqueues.

The id comes from an incoming `X-Request-ID` header (a proxy's or a client's, when it is a sane token) or is
generated; the response echoes it. `RequestIdFilter` puts it on every log record (`request_id`), the JSON
formatter writes it out, and Celery's publish signal copies it into the task's headers, from which the worker
restores it while the task runs, so a task's log lines share the id of the request that caused them.
"""
from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that every later log line of the request carries the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if VALID_ID.match(incoming) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]  # the project's own attribute
        # Kept until the response is closed (request_finished): Django logs 4xx/5xx after the middleware.
        current_request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished)
def clear_request_id(**kwargs) -> None:
    current_request_id.set(None)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or "-"
        return True


@before_task_publish.connect
def add_request_id_to_task(headers: dict | None = None, **kwargs) -> None:
    request_id = current_request_id.get()
    if headers is not None and request_id and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


_task_tokens: dict[str, contextvars.Token] = {}


@task_prerun.connect
def restore_request_id(task_id: str | None = None, task=None, **kwargs) -> None:
    request_id = getattr(getattr(task, "request", None), TASK_HEADER, None)
    if task_id and request_id and VALID_ID.match(str(request_id)):
        _task_tokens[task_id] = current_request_id.set(str(request_id))


@task_postrun.connect
def forget_request_id(task_id: str | None = None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        current_request_id.reset(token)
