"""The contract between the training pipeline and a model family."""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch


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
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        import contextlib

        return contextlib.nullcontext()


class ModelKind(abc.ABC):
    name: ClassVar[str]
    label: ClassVar[str] = ""
    primary_metric: ClassVar[str] = "ndcg@10"
    default_options: ClassVar[dict[str, Any]] = {}

    def clean_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Validate options against `default_options`: unknown names and wrong types raise ValueError."""
        cleaned = dict(self.default_options)
        for key, value in (options or {}).items():
            if key not in self.default_options:
                known = ", ".join(sorted(self.default_options)) or "none"
                raise ValueError(f"Unknown option {key!r} for {self.name} (known: {known})")
            default = self.default_options[key]
            if default is not None and not isinstance(default, bool) and isinstance(default, (int, float)):
                try:
                    value = type(default)(value)
                except (TypeError, ValueError):
                    raise ValueError(f"Option {key!r} must be a {type(default).__name__}, not {value!r}") from None
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
