"""The concrete TrainingContext: what a kind sees of its run while it trains."""
from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import torch
from django.utils import timezone

from ai.kinds.base import RunCancelled, TrainingContext
from ai.models import TrainingRun

logger = logging.getLogger("ai.training")

# Progress is written to the database at most this often (seconds); the last report is always written.
WRITE_INTERVAL_S = 0.5
# Whether the run was cancelled is read at most this often, so that a kind may report every batch.
CANCEL_CHECK_S = 0.05
LOG_TAIL_LINES = 200
# The kind's own progress (0..100) fills this share of the run's bar; saving and registering the rest.
TRAIN_SHARE = 95.0
# Loss-curve points kept on the run (older points are thinned out, every other one dropped).
MAX_CURVE_POINTS = 2000

ProgressListener = Callable[[TrainingRun], None]


class RunContext(TrainingContext):
    """Writes progress, loss-curve points and log lines to the TrainingRun, throttled.

    Reports also check whether the run was cancelled (one indexed read, at most every CANCEL_CHECK_S),
    so that a cancelled run stops at its next step by raising RunCancelled.
    """

    def __init__(
        self,
        run: TrainingRun,
        device: torch.device,
        *,
        listener: ProgressListener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run = run
        self.run_id = run.pk
        self.options = dict(run.options)
        self.device = device
        self._listener = listener
        self._clock = clock
        self._last_write = float("-inf")
        self._last_cancel_check = float("-inf")
        self._dirty = False
        self._log: deque[str] = deque(run.log_tail.splitlines()[-LOG_TAIL_LINES:], maxlen=LOG_TAIL_LINES)

    # The contract ------------------------------------------------------------------------------
    def report(
        self,
        *,
        progress: float | None = None,
        step: int | None = None,
        total_steps: int | None = None,
        epoch: int | None = None,
        loss: float | None = None,
        metrics: dict[str, float] | None = None,
    ) -> None:
        run = self.run
        if progress is not None:
            run.progress = round(max(0.0, min(100.0, float(progress))) * TRAIN_SHARE / 100.0, 2)
        if step is not None:
            run.step = max(0, int(step))
        if total_steps is not None:
            run.total_steps = max(0, int(total_steps))
        if epoch is not None:
            run.epoch = max(0, int(epoch))
        if loss is not None or metrics:
            point: dict[str, Any] = {"step": run.step, "epoch": run.epoch}
            if loss is not None:
                point["loss"] = float(loss)
            for name, value in (metrics or {}).items():
                point[name] = float(value)
            run.loss_curve.append(point)
            if len(run.loss_curve) > MAX_CURVE_POINTS:
                run.loss_curve = run.loss_curve[::2]
        self._dirty = True
        now = self._clock()
        if now - self._last_write >= WRITE_INTERVAL_S:
            self.flush()
        if now - self._last_cancel_check >= CANCEL_CHECK_S:
            self._last_cancel_check = now
            if TrainingRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
                self.flush()
                raise RunCancelled(f"run #{run.pk} was cancelled")

    def log(self, message: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        for line in str(message).splitlines() or [""]:
            self._log.append(f"{stamp} {line}")
        logger.info("run #%s: %s", self.run.pk, message)
        self._dirty = True
        if self._clock() - self._last_write >= WRITE_INTERVAL_S:
            self.flush()

    # The pipeline's side -----------------------------------------------------------------------
    @property
    def log_tail(self) -> str:
        return "\n".join(self._log)

    def flush(self) -> None:
        """Write what changed since the last write (and beat the heartbeat)."""
        run = self.run
        run.log_tail = self.log_tail
        run.heartbeat_at = timezone.now()
        TrainingRun.objects.filter(pk=run.pk).update(
            progress=run.progress,
            step=run.step,
            total_steps=run.total_steps,
            epoch=run.epoch,
            loss_curve=run.loss_curve,
            log_tail=run.log_tail,
            heartbeat_at=run.heartbeat_at,
        )
        self._last_write = self._clock()
        self._dirty = False
        if self._listener is not None:
            self._listener(run)
