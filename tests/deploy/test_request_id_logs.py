"""JSON log lines carry the request id: from X-Request-ID or generated, echoed, and carried into Celery tasks."""
from __future__ import annotations

import io
import json
import logging
import re
import uuid

import pytest
from celery import shared_task

from config.request_id import (
    add_request_id_to_task,
    current_request_id,
    forget_request_id,
    restore_request_id,
)


@pytest.fixture
def log_lines(settings):
    """What the configured console handler writes, as parsed JSON lines."""
    assert settings.LOG_FORMAT == "json"
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    handler.setStream(previous)


@pytest.mark.django_db
def test_an_incoming_request_id_is_echoed_and_on_the_log_lines(client, log_lines):
    response = client.get("/api/v1/no-such-thing/", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "lb-7f3a.42"
    lines = [line for line in log_lines() if line["logger"] == "django.request"]
    assert lines and lines[-1]["request_id"] == "lb-7f3a.42"
    assert lines[-1]["level"] == "WARNING" and "Not Found" in lines[-1]["message"] and lines[-1]["time"]


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", [None, "", "x" * 129, "bad id\nwith newline", "<script>"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_generated_one(client, log_lines, incoming):
    headers = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}
    response = client.get("/api/v1/no-such-thing/", **headers)
    generated = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated) and uuid.UUID(generated).version == 4
    assert [line["request_id"] for line in log_lines() if line["logger"] == "django.request"][-1] == generated
    assert client.get("/api/v1/no-such-thing/", **headers)["X-Request-ID"] != generated  # a new one per request


@shared_task(name="tests.deploy.log_something")
def log_something() -> str:
    logging.getLogger("tests.task").warning("inside the task")
    return current_request_id.get() or ""


def test_the_request_id_travels_in_the_task_headers_to_the_worker(log_lines):
    # The web process: publishing a task while a request is being handled adds the header.
    token = current_request_id.set("req-123")
    headers: dict = {}
    add_request_id_to_task(headers=headers)
    current_request_id.reset(token)
    assert headers == {"request_id": "req-123"}

    # The worker: the task runs with the header as its request context, and its log lines carry the id.
    log_something.push_request(id="task-1", request_id=headers["request_id"])
    try:
        restore_request_id(task_id="task-1", task=log_something)
        assert log_something.run() == "req-123"
        forget_request_id(task_id="task-1")
    finally:
        log_something.pop_request()
    assert current_request_id.get() is None
    task_lines = [line for line in log_lines() if line["logger"] == "tests.task"]
    assert task_lines == [{**task_lines[0], "message": "inside the task", "request_id": "req-123"}]


def test_a_task_without_the_header_logs_without_an_id(log_lines):
    add_request_id_to_task(headers=(headers := {}))
    assert headers == {}
    logging.getLogger("tests.task").warning("no request")
    assert log_lines()[-1]["request_id"] == "-"
