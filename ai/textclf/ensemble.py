"""ClassifierEnsemble: several TextClassifiers of one configuration whose logits are averaged.

The members differ only in their seed (initialisation of the head, dropout, batch order). They share
the frozen part of the encoder: its features are computed once, for training and for every message, and
only each member's trained layers and head run per member. Averaging the logits of independently trained
networks (a "deep ensemble") makes fewer mistakes than one and, more to the point for the support chat,
separates questions it was never trained on from those it knows better: measured in docs/benchmarks.md.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from .model import ClassifierConfig, Features, MessageEncoding, ProgressFn, TaskSpec, TextClassifier


class ClassifierEnsemble:
    def __init__(self, members: Sequence[TextClassifier]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)

    @classmethod
    def build(cls, tasks: Mapping[str, TaskSpec | Sequence[str]], config: ClassifierConfig, size: int) -> ClassifierEnsemble:
        """`size` untrained members; member i has the seed config.seed + i."""
        if size < 1:
            raise ValueError("an ensemble needs at least one member")
        return cls([TextClassifier(tasks, replace(config, seed=config.seed + i)) for i in range(size)])

    @property
    def config(self) -> ClassifierConfig:
        return self.members[0].config

    @property
    def tasks(self) -> dict[str, TaskSpec]:
        return self.members[0].tasks

    # What the members share: the frozen layers' output. -------------------------------------------
    def features(self, texts: Sequence[str], **kwargs: Any) -> Features:
        return self.members[0].features(texts, **kwargs)

    def encode_message(self, text: str) -> MessageEncoding:
        return self.members[0].encode_message(text)

    def sentence_embedding(self, encoding: MessageEncoding) -> torch.Tensor:
        return self.members[0].sentence_embedding(encoding)

    # Training and prediction --------------------------------------------------------------------------
    def fit_features(
        self, features: dict[str, Features], targets: dict[str, Sequence[Any]], *, progress: ProgressFn | None = None,
        class_weights: dict[str, Sequence[float]] | None = None,
    ) -> ClassifierEnsemble:
        """Train each member in turn on the same cached features. Progress counts steps and epochs over all
        of them (member 2's first step follows member 1's last), with `member` (1-based) and `members`."""
        size = len(self.members)
        for index, member in enumerate(self.members):
            epochs = member.config.resolved_epochs(member.head_only)

            def member_progress(fraction: float, _index: int = index, _epochs: int = epochs, **point: Any) -> None:
                if progress is None:
                    return
                if "step" in point:
                    point["step"] += _index * point["total_steps"]
                    point["total_steps"] *= size
                if "epoch" in point:
                    point["epoch"] += _index * _epochs
                progress((_index + fraction) / size, member=_index + 1, members=size, **point)

            member.fit_features(features, targets, progress=member_progress, class_weights=class_weights)
        return self

    def predict_logits_features(self, features: Features, task: str | None = None) -> np.ndarray:
        """The members' mean logits, one row per item."""
        return np.mean([member.predict_logits_features(features, task) for member in self.members], axis=0)

    def predict_proba(self, texts: Sequence[str], task: str | None = None) -> np.ndarray:
        task = self.members[0]._task(task)
        if self.tasks[task].multi_label:
            raise ValueError("an ensemble averages single-label logits; this task is multi-label")
        logits = self.predict_logits_features(self.features(texts), task).astype(np.float64)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    # Saving ------------------------------------------------------------------------------------------
    def to_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Each member's tensors under "member<i>."; the first member's config, with "members": their count."""
        tensors: dict[str, torch.Tensor] = {}
        for index, member in enumerate(self.members):
            member_tensors, config = member.to_state()
            tensors.update({f"member{index}.{key}": value for key, value in member_tensors.items()})
            if index == 0:
                first = config
        return tensors, {**first, "members": len(self.members)}

    @classmethod
    def from_state(cls, tensors: dict[str, torch.Tensor], config: dict[str, Any], *, device: str = "cpu") -> ClassifierEnsemble:
        members = []
        for index in range(int(config["members"])):
            prefix = f"member{index}."
            member_tensors = {key[len(prefix):]: value for key, value in tensors.items() if key.startswith(prefix)}
            members.append(TextClassifier.from_state(member_tensors, config, device=device))
        return cls(members)


def load_classifier(tensors: dict[str, torch.Tensor], config: dict[str, Any], *, device: str = "cpu") -> TextClassifier | ClassifierEnsemble:
    """A stored classifier: an ensemble when its config counts members, else one TextClassifier."""
    if config.get("members"):
        return ClassifierEnsemble.from_state(tensors, config, device=device)
    return TextClassifier.from_state(tensors, config, device=device)
