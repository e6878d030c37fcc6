"""The training pipeline: runs of model kinds on Celery workers (or in-process without a broker)."""
from .context import RunContext
from .device import DeviceUnavailable, choose_device
from .services import cancel_run, execute_run, retrain_scheduled, start_run, sweep_stale_runs

__all__ = [
    "DeviceUnavailable",
    "RunContext",
    "cancel_run",
    "choose_device",
    "execute_run",
    "retrain_scheduled",
    "start_run",
    "sweep_stale_runs",
]
