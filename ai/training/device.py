"""Which device a training run uses (AI_TRAIN_DEVICE = auto | cpu | cuda)."""
from __future__ import annotations

import os

import torch

from ai.conf import TRAIN_DEVICE_CHOICES as CHOICES
from ai.conf import ai_settings
from ai.device import DeviceUnavailable, resolve_device

__all__ = ["CHOICES", "DeviceUnavailable", "choose_device", "describe"]


def choose_device(requested: str | None = None) -> tuple[torch.device, str]:
    """The torch device for training and a short label to record on the run ("cuda:0", "cpu/2 threads").

    The device comes from `ai.device.resolve_device` (auto: CUDA when this worker has it); on the CPU
    torch gets one thread per core (or AI_TRAIN_CPU_THREADS). Asking for `cuda` on a machine without it
    is an error, not a silent CPU run.
    """
    requested = (requested or ai_settings.TRAIN_DEVICE or "auto").strip().lower()
    if requested not in CHOICES:
        raise DeviceUnavailable(f"AI_TRAIN_DEVICE must be one of {', '.join(CHOICES)}, not {requested!r}")
    try:
        device = resolve_device(requested)
    except DeviceUnavailable as exc:
        raise DeviceUnavailable(f"AI_TRAIN_DEVICE={requested}: {exc}") from None
    if device.type == "cuda":
        return device, f"cuda:{device.index}"
    threads = int(ai_settings.TRAIN_CPU_THREADS or 0) or os.cpu_count() or 1
    torch.set_num_threads(threads)
    return device, f"cpu/{threads} threads"


def describe(device: torch.device) -> str:
    """A line for the run's log: the GPU's name or the CPU thread count."""
    if device.type == "cuda":
        return f"device {device}: {torch.cuda.get_device_name(device)}"
    return f"device cpu: {torch.get_num_threads()} threads"
