"""The `chat_intent` kind trains through a real Celery worker on the `gpu` queue, against PostgreSQL, and
its version carries the evaluation report (the worker fixtures of tests/ai_training)."""
from __future__ import annotations

import math
from io import StringIO

import pytest
from django.core.management import call_command

from ai.models import ModelVersion, TrainingRun
from tests.ai_training.test_worker_integration import (  # noqa: F401
    api,
    broker,  # noqa: F401
    run_state,
    start_worker,
    wait_for,
)

from .test_intent_model import DATA

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_chat_intent_trains_in_a_worker_and_stores_its_report(api, start_worker, settings):  # noqa: F811
    call_command("ai_seed_intents", "--file", str(DATA), "--oos-file", "none", stdout=StringIO())
    start_worker()
    response = api.post("/api/v1/training-runs/", {"kind": "chat_intent", "options": {"train_layers": "0", "epochs": 60}},
                        format="json")
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    done = wait_for(lambda: (s := run_state(api, run_id))["status"] in TrainingRun.FINISHED and s, 240,
                    interval=0.5, what="the chat_intent run to finish")
    assert done["status"] == TrainingRun.Status.SUCCEEDED, done["error"] + done["log_tail"]
    assert done["worker"].startswith("test-gpu-") and done["device"].startswith("cpu")
    version = ModelVersion.objects.get(training_run_id=run_id)
    assert version.kind == "chat_intent"
    report = version.report["label_sets"]["chat-intents"]
    assert set(report) >= {"accuracy", "per_label", "confusion_matrix", "roc", "macro_f1", "at_threshold"}
    assert report["per_label"]["track_order"]["support"] == 2
    # The threshold is on the energy score (log-sum-exp of the in-scope logits), not a probability.
    assert version.config["oos_score"] == "energy" and math.isfinite(version.metrics["threshold"])
    assert version.metrics["accuracy"] > 0.5
