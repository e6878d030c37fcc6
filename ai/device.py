"""The one place that picks a torch device: training runs, `ai_eval`, the models' own defaults.

Plain torch, no Django settings: the algorithms and `bench/` call it outside a configured project too.
`ai.training.device.choose_device` adds the run's setting (AI_TRAIN_DEVICE) and the CPU thread count.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch


class DeviceUnavailable(RuntimeError):
    """The requested device cannot be used on this machine."""


def resolve_device(requested: str | torch.device | None = None) -> torch.device:
    """`None` or "auto": the current CUDA device when there is one, else the CPU; "cpu", "cuda",
    "cuda:1", a torch.device: that device. Asking for CUDA where there is none raises DeviceUnavailable
    (a clear error, not a silent CPU run)."""
    if isinstance(requested, str):
        requested = requested.strip().lower() or None
    if requested is None or requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError) as exc:
        raise DeviceUnavailable(f"{requested!r} is not a torch device (auto, cpu, cuda or cuda:N)") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailable(
            f"{str(requested)!r} asked for, but this machine has no usable CUDA device (torch.cuda.is_available() is False)"
        )
    return device


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with `count` CPU threads in torch's intra-op pool, then put the previous count back.

    Answering one short request (a shopper's list, one chat message) is a few small matrix products:
    one thread is faster than several, and a web server's parallelism comes from its processes."""
    previous = torch.get_num_threads()
    if previous != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if previous != count:
            torch.set_num_threads(previous)


def autocast(device: torch.device) -> Any:
    """bf16 autocast on CUDA, a no-op context elsewhere (the training loops' one mixed-precision rule)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
