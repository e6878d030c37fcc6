"""The contract between the training pipeline and a model family."""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from ai.device import autocast


class RunCancelled(Exception):
    """Raised inside training by `TrainingContext.report` when the run was cancelled."""


@dataclass
class TrainedModel:
    """What a kind's `train` returns; the pipeline stores it as a ModelVersion.

    tensors: saved as safetensors (weights.safetensors). config: JSON (config.json), everything `load`
    needs besides the tensors. metrics: held-out metrics; `ModelKind.primary_metric` names the one used
    for promotion (higher is better). data_summary: what data the model saw (counts, time window).
    """

    tensors: dict[str, torch.Tensor]
    config: dict[str, Any]
    metrics: dict[str, float]
    data_summary: dict[str, Any] = field(default_factory=dict)
    # How training ended, for the run's status detail ("stopped at max_seconds after 19 of 40 epochs").
    detail: str = ""
    # The full held-out evaluation (per-label figures, confusion matrix, ROC curves…), shown in the admin.
    report: dict[str, Any] = field(default_factory=dict)


class TrainingContext(abc.ABC):
    """What the pipeline gives a kind while it trains. The concrete class lives in ai.training."""

    options: dict[str, Any]
    device: torch.device
    run_id: int | None

    @abc.abstractmethod
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
        """Record progress (0..100) and a loss-curve point; beats the heartbeat; raises RunCancelled."""

    @abc.abstractmethod
    def log(self, message: str) -> None:
        """Append a line to the run's log tail."""

    def autocast(self):
        """bf16 autocast on CUDA, a no-op elsewhere."""
        return autocast(self.device)


class ModelKind(abc.ABC):
    name: ClassVar[str]
    label: ClassVar[str] = ""
    primary_metric: ClassVar[str] = "ndcg@10"
    default_options: ClassVar[dict[str, Any]] = {}
    # (min, max), both inclusive, of every numeric option: what the API, the admin and the CLI accept.
    # A kind must declare one for each int or float option (system check ai.E008), e.g.
    #     option_ranges = {"epochs": (1, 200), "lr": (1e-5, 1.0)}
    option_ranges: ClassVar[dict[str, tuple[float, float]]] = {}

    @classmethod
    def numeric_options(cls) -> list[str]:
        return [
            name for name, value in cls.default_options.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        ]

    @classmethod
    def option_range_problems(cls) -> list[str]:
        """What is wrong with the declared ranges (a numeric option without one, a default outside it…)."""
        problems = []
        for name in cls.numeric_options():
            if name not in cls.option_ranges:
                problems.append(f"option {name!r} has no range in option_ranges")
                continue
            low, high = cls.option_ranges[name]
            if not low <= cls.default_options[name] <= high:
                problems.append(f"the default of option {name!r} ({cls.default_options[name]}) is outside {low}..{high}")
        problems += [f"option_ranges names {name!r}, which is not a numeric option" for name in cls.option_ranges if name not in cls.numeric_options()]
        return problems

    def _check_range(self, key: str, value: float) -> None:
        if not math.isfinite(value):
            raise ValueError(f"Option {key!r} must be a finite number, not {value!r}")
        if key in self.option_ranges:
            low, high = self.option_ranges[key]
            if not low <= value <= high:
                raise ValueError(f"Option {key!r} must be between {low:g} and {high:g}, not {value:g}")

    def clean_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Validate options against `default_options` and `option_ranges`: unknown names, wrong types and
        values out of range raise ValueError (nothing is stored)."""
        cleaned = dict(self.default_options)
        for key, value in (options or {}).items():
            if key not in self.default_options:
                known = ", ".join(sorted(self.default_options)) or "none"
                raise ValueError(f"Unknown option {key!r} for {self.name} (known: {known})")
            default = self.default_options[key]
            if default is not None and not isinstance(default, bool) and isinstance(default, (int, float)):
                if isinstance(value, bool):
                    raise ValueError(f"Option {key!r} must be a {type(default).__name__}, not {value!r}")
                try:
                    value = _to_number(type(default), value)
                except (TypeError, ValueError, OverflowError):
                    raise ValueError(f"Option {key!r} must be a {type(default).__name__}, not {value!r}") from None
                self._check_range(key, value)
            elif isinstance(default, bool) and not isinstance(value, bool):
                if str(value).lower() in {"1", "true", "yes"}:
                    value = True
                elif str(value).lower() in {"0", "false", "no"}:
                    value = False
                else:
                    raise ValueError(f"Option {key!r} must be true or false, not {value!r}")
            cleaned[key] = value
        return cleaned

    def registry_name(self, options: dict[str, Any]) -> str:
        """The name its versions are registered, promoted and served under: the kind's own name, or
        `<kind>:<data set>` for a kind that keeps one live model per data set (text_classifier)."""
        return self.name

    @abc.abstractmethod
    def train(self, ctx: TrainingContext) -> TrainedModel:
        """Read the stored data (through the shop adapter and ai's Event table), train, evaluate."""

    @abc.abstractmethod
    def load(self, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> Any:
        """Build the serving object from a stored version."""


def _to_number(kind: type, value: Any) -> float:
    """int("3") or float("1e-3"); an int option refuses 2.5 (instead of silently truncating it)."""
    if kind is int:
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError(value)
            return int(value)
        return int(str(value).strip()) if isinstance(value, str) else int(value)
    number = float(value)
    return number


_REGISTRY: dict[str, type[ModelKind]] = {}


def register(kind_cls: type[ModelKind]) -> type[ModelKind]:
    """Class decorator: make a kind known to the pipeline by its `name`."""
    _REGISTRY[kind_cls.name] = kind_cls
    return kind_cls


def get_kind(name: str) -> ModelKind:
    """The kind of this name, or of a registry name `<kind>:<data set>`."""
    try:
        return _REGISTRY[name.split(":", 1)[0]]()
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ValueError(f"Unknown model kind {name!r} (known: {known})") from None


def all_kinds() -> dict[str, type[ModelKind]]:
    return dict(_REGISTRY)
