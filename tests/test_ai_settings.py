"""ai's typed settings object and its system checks: a bad AI_* value stops start-up with a clear message."""
from __future__ import annotations

import pytest
from django.core.checks import Error
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from ai.checks import check_ai_settings
from ai.conf import AISettings, ai_settings
from ai.kinds import all_kinds, get_kind
from ai.kinds.base import ModelKind


def ids(errors: list[Error]) -> list[str]:
    return [error.id for error in errors]


def test_every_setting_ai_reads_is_declared_with_a_type_and_a_default():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "ai"
    read = {name for path in root.rglob("*.py") if path.name != "conf.py" for name in re.findall(r"ai_settings\.([A-Z][A-Z0-9_]+)", path.read_text())}
    assert read <= set(AISettings.names())
    for name in AISettings.names():
        assert getattr(AISettings, name).fget.__annotations__["return"], name
        assert getattr(AISettings, name).__doc__, name
    assert ai_settings.CURRENCY_SYMBOL == "£"


def test_the_projects_settings_pass_the_checks():
    assert check_ai_settings() == []


def test_tasks_run_in_process_by_default_exactly_when_there_is_no_broker(settings):
    settings.CELERY_BROKER_URL = ""
    assert ai_settings.TASKS_IN_PROCESS is True
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert ai_settings.TASKS_IN_PROCESS is False
    settings.AI_TASKS_IN_PROCESS = True
    assert ai_settings.TASKS_IN_PROCESS is True


@pytest.mark.parametrize(
    "name, value, error_id, message",
    [
        ("BEACON_RATE_LIMIT", "lots", "ai.E002", "AI_BEACON_RATE_LIMIT: 'lots' is not a rate: write COUNT/PERIOD"),
        ("API_THROTTLE_RATE", "100/fortnight", "ai.E002", "AI_API_THROTTLE_RATE: '100/fortnight' is not a rate"),
        ("SHOP_ADAPTER", "myshop.adapters.Nope", "ai.E005", "AI_SHOP_ADAPTER: 'myshop.adapters.Nope' cannot be imported"),
        ("SHOP_ADAPTER", "django.http.HttpRequest", "ai.E006", "is not a subclass of ai.adapter.BaseShopAdapter"),
        ("RETRAIN_CRON", "every night", "ai.E007", "AI_RETRAIN_CRON: 'every night' must have 5 fields"),
        ("RETRAIN_CRON", "99 2 * * *", "ai.E007", "AI_RETRAIN_CRON: '99 2 * * *' is not a valid cron expression"),
        ("HEARTBEAT_TIMEOUT_S", "120", "ai.E001", "AI_HEARTBEAT_TIMEOUT_S: must be float, not str '120'"),
        ("TRACKING_ENABLED", "no", "ai.E001", "AI_TRACKING_ENABLED: must be bool"),
        ("QUEUE_TIMEOUT_S", 0, "ai.E003", "AI_QUEUE_TIMEOUT_S: must be a positive number, not 0"),
        ("TRAIN_DEVICE", "tpu", "ai.E004", "AI_TRAIN_DEVICE: must be one of auto, cpu, cuda, not 'tpu'"),
        ("CONCURRENT_RUNS", "queue", "ai.E004", "AI_CONCURRENT_RUNS: must be one of wait, refuse"),
        ("AB_CANDIDATE_SHARE", 1.5, "ai.E003", "AI_AB_CANDIDATE_SHARE: must be between 0 and 1"),
    ],
)
def test_a_bad_value_is_refused_with_a_clear_message(settings, name, value, error_id, message):
    setattr(settings, f"AI_{name}", value)
    errors = check_ai_settings()
    assert ids(errors) == [error_id]
    assert message in errors[0].msg


def test_manage_py_check_stops_on_a_bad_setting(settings):
    settings.AI_RETRAIN_CRON = "30 2 * *"
    with pytest.raises(SystemCheckError, match="AI_RETRAIN_CRON"):
        call_command("check")


def test_every_registered_kind_declares_a_range_for_each_numeric_option():
    assert {name: kind.option_range_problems() for name, kind in all_kinds().items() if kind.option_range_problems()} == {}


def test_a_kind_without_ranges_fails_the_checks(test_kind_registry):
    class Unbounded(ModelKind):
        name = "test-unbounded"
        default_options = {"epochs": 10, "lr": 0.1, "shuffle": True}
        option_ranges = {"epochs": (1, 5)}

        def train(self, ctx):  # pragma: no cover
            raise AssertionError

        def load(self, tensors, config):  # pragma: no cover
            raise AssertionError

    test_kind_registry(Unbounded)
    messages = [error.msg for error in check_ai_settings() if error.id == "ai.E008"]
    assert messages == [
        "Model kind 'test-unbounded': the default of option 'epochs' (10) is outside 1..5",
        "Model kind 'test-unbounded': option 'lr' has no range in option_ranges",
    ]


@pytest.mark.parametrize(
    "kind, options, message",
    [
        ("sasrec", {"epochs": 10**9}, "Option 'epochs' must be between 1 and 500, not 1e+09"),
        ("sasrec", {"max_seconds": float("inf")}, "Option 'max_seconds' must be a finite number, not inf"),
        ("sasrec", {"max_seconds": "nan"}, "Option 'max_seconds' must be a finite number, not nan"),
        ("sasrec", {"epochs": 2.5}, "Option 'epochs' must be a int, not 2.5"),
        ("sasrec", {"epochs": True}, "Option 'epochs' must be a int, not True"),
        ("sasrec", {"dropout": 0.95}, "Option 'dropout' must be between 0 and 0.9, not 0.95"),
        ("sasrec", {"loss": "hinge"}, "Option 'loss' must be one of auto, softmax, sampled, not 'hinge'"),
        ("sasrec", {"sampling": "zipf"}, "Option 'sampling' must be one of uniform, popularity, not 'zipf'"),
        ("sasrec", {"lr_decay": 0}, "Option 'lr_decay' must be between 0.05 and 1, not 0"),
        ("popularity", {"half_life_days": -1}, "Option 'half_life_days' must be between 0 and 3650, not -1"),
        ("cooccurrence", {"neighbours": 0}, "Option 'neighbours' must be between 1 and 1000, not 0"),
        ("content", {"batch_size": 10**6}, "Option 'batch_size' must be between 1 and 4096, not 1e+06"),
    ],
)
def test_options_out_of_range_are_refused(kind, options, message):
    with pytest.raises(ValueError) as raised:
        get_kind(kind).clean_options(options)
    assert str(raised.value) == message


def test_options_in_range_are_kept_with_their_types():
    cleaned = get_kind("sasrec").clean_options({"epochs": "3", "lr": "0.01", "max_seconds": 60})
    assert (cleaned["epochs"], cleaned["lr"], cleaned["max_seconds"]) == (3, 0.01, 60.0)
    assert isinstance(cleaned["max_seconds"], float)


@pytest.fixture
def test_kind_registry():
    from ai.kinds import base

    added = []

    def register(kind_cls):
        base.register(kind_cls)
        added.append(kind_cls.name)
        return kind_cls

    yield register
    for name in added:
        base._REGISTRY.pop(name, None)
