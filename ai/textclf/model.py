"""TextClassifier: all-MiniLM-L6-v2 with one classification head per task.

Speed on a CPU: texts are cut to `max_length` tokens; what does not learn is computed once. With
train_layers=0 the frozen encoder's mean-pooled sentence embedding is cached and only the heads train;
with train_layers=k the output of the lower (6 - k) layers is cached (float16) and each step runs only
the top k layers; train_layers="all" runs the whole encoder every step.
"""
from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ai.device import resolve_device
from ai.encoder import ENCODER_NAME, load_encoder

ProgressFn = Callable[..., None]


@dataclass
class TaskSpec:
    labels: list[str]
    multi_label: bool = False

    def __post_init__(self) -> None:
        if len(self.labels) < 2 and not self.multi_label:
            raise ValueError("a classification task needs at least 2 labels")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("label names must be unique")


@dataclass
class TaskData:
    """Texts and their targets: a label index each (single-label) or a list of indices (multi-label)."""

    texts: list[str]
    targets: list[Any]

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.targets):
            raise ValueError(f"{len(self.texts)} texts but {len(self.targets)} targets")


@dataclass
class ClassifierConfig:
    # 0: the heads only, on cached embeddings; 1..6: also the top k layers; "all": the whole encoder.
    train_layers: int | str = 0
    max_length: int = 32
    epochs: int = 0  # 0: 40 for the heads only, 4 when encoder layers train
    batch_size: int = 32
    # The heads' learning rate; 0: 3e-3 (heads only) or 1e-2. The head reads a unit-length sentence vector,
    # so its weights must grow large for confident answers: with 1e-3 it still underfit after 4 epochs.
    lr: float = 0.0
    encoder_lr: float = 1e-4
    # Share of the steps over which the learning rates rise linearly from 0 before decaying linearly to 0;
    # 0: no warm-up, and the decay stops at 5 % of the rate.
    warmup: float = 0.0
    weight_decay: float = 0.01
    dropout: float = 0.1
    seed: int = 0
    device: str = "cpu"
    extra: dict[str, Any] = field(default_factory=dict)

    def layers_to_train(self, n_layers: int) -> int:
        if self.train_layers == "all":
            return n_layers
        try:
            layers = int(self.train_layers)
        except (TypeError, ValueError):
            raise ValueError(f"train_layers must be 0..{n_layers} or 'all', not {self.train_layers!r}") from None
        if not 0 <= layers <= n_layers:
            raise ValueError(f"train_layers must be 0..{n_layers} or 'all', not {layers}")
        return layers

    def resolved_epochs(self, head_only: bool) -> int:
        return self.epochs or (40 if head_only else 4)

    def resolved_lr(self, head_only: bool) -> float:
        return self.lr or (3e-3 if head_only else 1e-2)


def _mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return nn.functional.normalize(pooled.float(), dim=1)


def _present(value: torch.Tensor | None, what: str) -> torch.Tensor:
    """A part of the encoded features that this training mode needs (absent: encoded for another mode)."""
    if value is None:
        raise ValueError(f"These features have no {what}: they were encoded for another training mode.")
    return value


def _additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def _lower_layers(base: Any, input_ids: torch.Tensor, mask: torch.Tensor, upto: int) -> torch.Tensor:
    """The hidden states after the first `upto` layers of the frozen encoder (the layers above, which the
    classifier trains its own copies of, are not run)."""
    hidden = base.embeddings(input_ids=input_ids)
    additive = _additive_mask(mask, hidden.dtype)
    for layer in base.encoder.layer[:upto]:
        out = layer(hidden, additive)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


@dataclass
class Features:
    """What the frozen part of the encoder gives for some texts (computed once, reused every epoch)."""

    pooled: torch.Tensor | None = None  # (N, hidden) when only heads train
    hidden: torch.Tensor | None = None  # (N, L, hidden) float16, the input of the first trained layer
    mask: torch.Tensor | None = None  # (N, L)
    input_ids: torch.Tensor | None = None  # (N, L) when the whole encoder trains

    def __len__(self) -> int:
        for value in (self.pooled, self.hidden, self.input_ids):
            if value is not None:
                return len(value)
        return 0

    def subset(self, index: torch.Tensor | np.ndarray | Sequence[int]) -> Features:
        index = torch.as_tensor(np.asarray(index), dtype=torch.long)
        return Features(*(value[index] if value is not None else None for value in (self.pooled, self.hidden, self.mask, self.input_ids)))


@dataclass
class MessageEncoding:
    """One message through the frozen part of the encoder, once: what the classifier's trained layers read,
    and what the frozen encoder's sentence embedding is finished from (`TextClassifier.sentence_embedding`),
    so a message that needs both (a product question: intent, then retrieval) runs the shared layers once."""

    input_ids: torch.Tensor  # (1, L) unpadded, cut to the classifier's max_length
    mask: torch.Tensor  # (1, L)
    layer: int  # how many frozen layers `hidden` has been through (0: none, the full encoder trains)
    hidden: torch.Tensor | None  # (1, L, hidden) float32 after `layer` frozen layers (the pooled output if 6)
    truncated: bool  # the text had more tokens than max_length

    def features(self) -> Features:
        """The classifier's features for this message, exactly as `TextClassifier.features` makes them
        (the cached hidden states are stored in float16 there, so they are rounded the same way here)."""
        if self.layer == 0:
            return Features(mask=self.mask, input_ids=self.input_ids)
        hidden = _present(self.hidden, "hidden states")
        if hidden.dim() == 2:  # head only: the frozen encoder's pooled sentence embedding
            return Features(pooled=hidden)
        return Features(hidden=hidden.to(torch.float16), mask=self.mask)


def _schedule(total: int, warmup: float) -> Callable[[int], float]:
    """The learning-rate factor per step (see ClassifierConfig.warmup)."""
    warm = int(round(max(0.0, min(warmup, 1.0)) * total))
    if warm == 0:
        return lambda step: max(0.05, 1.0 - step / max(total, 1))
    return lambda step: (step + 1) / warm if step < warm else max(0.0, (total - step) / max(total - warm, 1))


# Batches are made of texts of similar length (within a random pool of this many batches), so that each
# batch's padding, which every trained layer computes for nothing, stays small.
LENGTH_POOL_BATCHES = 50


def _batches(n: int, batch_size: int, lengths: torch.Tensor | None) -> list[list[int]]:
    """One epoch's batches of row positions: a random order, then, when the texts' token counts are known,
    each pool of LENGTH_POOL_BATCHES batches sorted by length before it is cut (the caller shuffles the
    batches, so the lengths do not come in order)."""
    order = torch.randperm(n)
    if lengths is None:
        return [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]
    batches = []
    pool = batch_size * LENGTH_POOL_BATCHES
    for start in range(0, n, pool):
        rows = order[start : start + pool]
        rows = rows[torch.argsort(lengths[rows], stable=True)]
        batches += [rows[i : i + batch_size].tolist() for i in range(0, len(rows), batch_size)]
    return batches


class TextClassifier(nn.Module):
    def __init__(self, tasks: Mapping[str, TaskSpec | Sequence[str]], config: ClassifierConfig | None = None) -> None:
        super().__init__()
        if not tasks:
            raise ValueError("give at least one task")
        self.config = config or ClassifierConfig()
        self.tasks = {name: spec if isinstance(spec, TaskSpec) else TaskSpec(list(spec)) for name, spec in tasks.items()}
        self.device_ = resolve_device(self.config.device)
        self.tokenizer, base = load_encoder(self.device_)
        self.n_layers = base.config.num_hidden_layers
        self.hidden_size = base.config.hidden_size
        self.trained_layers = self.config.layers_to_train(self.n_layers)
        self.full = self.trained_layers == self.n_layers
        if self.full:
            self.encoder = copy.deepcopy(base).train()
            for parameter in self.encoder.parameters():
                parameter.requires_grad_(True)
            self.top = nn.ModuleList()
        else:
            self.encoder = None
            self.top = nn.ModuleList(copy.deepcopy(layer) for layer in base.encoder.layer[self.n_layers - self.trained_layers :])
            for parameter in self.top.parameters():
                parameter.requires_grad_(True)
        self.dropout = nn.Dropout(self.config.dropout)
        self.heads = nn.ModuleList(nn.Linear(self.hidden_size, len(spec.labels)) for spec in self.tasks.values())
        self.task_index = {name: index for index, name in enumerate(self.tasks)}
        self._class_weights: dict[str, torch.Tensor] = {}
        self.to(self.device_)

    # Encoding -----------------------------------------------------------------------------------
    @property
    def head_only(self) -> bool:
        return self.trained_layers == 0

    def _tokenize(self, texts: Sequence[str]):
        return self.tokenizer(
            [text or "" for text in texts], padding="max_length", truncation=True,
            max_length=self.config.max_length, return_tensors="pt",
        )

    @torch.no_grad()
    def features(self, texts: Sequence[str], *, batch_size: int = 128, progress: ProgressFn | None = None) -> Features:
        """The frozen part's output for these texts: the cache that training and prediction reuse.

        Texts are encoded in batches of similar length (padding only to the longest in the batch);
        the stored tensors are padded to `max_length`.
        """
        encoded = self._tokenize(texts)
        ids, mask = encoded["input_ids"], encoded["attention_mask"]
        if self.full:
            return Features(mask=mask, input_ids=ids)
        _, base = load_encoder(self.device_)
        start_layer = self.n_layers - self.trained_layers
        pooled = torch.zeros((len(texts), self.hidden_size)) if self.head_only else None
        hidden = None if self.head_only else torch.zeros((len(texts), ids.shape[1], self.hidden_size), dtype=torch.float16)
        lengths = mask.sum(1)
        order = torch.argsort(lengths, stable=True)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            width = max(int(lengths[rows].max()), 1)
            batch_ids = ids[rows, :width].to(self.device_)
            batch_mask = mask[rows, :width].to(self.device_)
            if pooled is not None:  # head_only
                out = base(input_ids=batch_ids, attention_mask=batch_mask).last_hidden_state
                pooled[rows] = _mean_pool(out, batch_mask).cpu()
            elif hidden is not None:
                hidden[rows, :width] = _lower_layers(base, batch_ids, batch_mask, start_layer).to(torch.float16).cpu()
            if progress is not None:
                progress(min(start + batch_size, len(texts)) / max(len(texts), 1))
        return Features(pooled=pooled, hidden=hidden, mask=mask if not self.head_only else None)

    @torch.no_grad()
    def encode_message(self, text: str) -> MessageEncoding:
        """One message through the frozen layers below the trained ones (float32, no padding)."""
        encoded = self.tokenizer([text or ""], truncation=True, max_length=self.config.max_length + 1, return_tensors="pt")
        truncated = encoded["input_ids"].shape[1] > self.config.max_length
        if truncated:
            encoded = self.tokenizer([text or ""], truncation=True, max_length=self.config.max_length, return_tensors="pt")
        ids, mask = encoded["input_ids"].to(self.device_), encoded["attention_mask"].to(self.device_)
        if self.full:
            return MessageEncoding(ids, mask, 0, None, truncated)
        _, base = load_encoder(self.device_)
        if self.head_only:
            pooled = _mean_pool(base(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
            return MessageEncoding(ids, mask, self.n_layers, pooled, truncated)
        start_layer = self.n_layers - self.trained_layers
        return MessageEncoding(ids, mask, start_layer, _lower_layers(base, ids, mask, start_layer).float(), truncated)

    @torch.no_grad()
    def sentence_embedding(self, encoding: MessageEncoding) -> torch.Tensor:
        """The frozen encoder's unit-length mean-pooled sentence embedding (384,) of the encoded message,
        finished from the shared layers: only the frozen layers above `encoding.layer` run."""
        _, base = load_encoder(self.device_)
        hidden = encoding.hidden
        if hidden is None:
            hidden = base.embeddings(input_ids=encoding.input_ids)
        elif hidden.dim() == 2:
            return hidden[0].float().cpu()
        additive = _additive_mask(encoding.mask, hidden.dtype)
        for layer in base.encoder.layer[encoding.layer :]:
            out = layer(hidden, additive)
            hidden = out[0] if isinstance(out, tuple) else out
        return _mean_pool(hidden, encoding.mask)[0].cpu()

    def _pooled(self, features: Features) -> torch.Tensor:
        if self.head_only:
            return _present(features.pooled, "pooled embeddings").to(self.device_)
        mask = _present(features.mask, "attention mask").to(self.device_)
        length = max(int(mask.sum(1).max()), 1)  # drop the padding columns of this batch
        mask = mask[:, :length]
        if self.full:
            input_ids = _present(features.input_ids, "token ids")
            hidden = self.encoder(input_ids=input_ids[:, :length].to(self.device_), attention_mask=mask).last_hidden_state
        else:
            hidden = _present(features.hidden, "hidden states")[:, :length].to(self.device_, dtype=torch.float32)
            additive = _additive_mask(mask, hidden.dtype)
            for layer in self.top:
                out = layer(hidden, additive)
                hidden = out[0] if isinstance(out, tuple) else out
        return _mean_pool(hidden, mask)

    def logits(self, features: Features, task: str) -> torch.Tensor:
        return self.heads[self.task_index[task]](self.dropout(self._pooled(features)))

    # Training -----------------------------------------------------------------------------------
    def _target_tensor(self, task: str, targets: Sequence[Any]) -> torch.Tensor:
        spec = self.tasks[task]
        k = len(spec.labels)
        if spec.multi_label:
            matrix = torch.zeros((len(targets), k))
            for row, indices in enumerate(targets):
                for index in indices:
                    if not 0 <= int(index) < k:
                        raise ValueError(f"task {task}: target {index} out of range 0..{k - 1}")
                    matrix[row, int(index)] = 1.0
            return matrix
        values = torch.as_tensor([int(t) for t in targets], dtype=torch.long)
        if len(values) and (values.min() < 0 or values.max() >= k):
            raise ValueError(f"task {task}: targets must be label indices 0..{k - 1}")
        return values

    def fit(self, data: dict[str, TaskData], *, progress: ProgressFn | None = None) -> TextClassifier:
        """Train the heads (and the chosen encoder layers) on each task's texts."""
        features = {task: self.features(task_data.texts) for task, task_data in data.items()}
        return self.fit_features(features, {task: task_data.targets for task, task_data in data.items()}, progress=progress)

    def fit_features(
        self, features: dict[str, Features], targets: dict[str, Sequence[Any]], *, progress: ProgressFn | None = None,
        class_weights: dict[str, Sequence[float]] | None = None,
    ) -> TextClassifier:
        """Train on cached features. `class_weights`: per single-label task, a loss weight per label."""
        unknown = set(features) - set(self.tasks)
        if unknown:
            raise ValueError(f"unknown task(s): {', '.join(sorted(unknown))}")
        for task, task_features in features.items():
            if len(task_features) == 0:
                raise ValueError(f"task {task}: no training texts")
        config = self.config
        torch.manual_seed(config.seed)
        rng = random.Random(config.seed)
        target_tensors = {task: self._target_tensor(task, targets[task]) for task in features}
        self._class_weights = {
            task: torch.as_tensor(list(weights), dtype=torch.float32, device=self.device_)
            for task, weights in (class_weights or {}).items()
        }
        epochs = config.resolved_epochs(self.head_only)
        head_lr = config.resolved_lr(self.head_only)
        groups = [{"params": list(self.heads.parameters()), "lr": head_lr}]
        encoder_params = list(self.encoder.parameters()) if self.full else list(self.top.parameters())
        if encoder_params:
            groups.append({"params": encoder_params, "lr": config.encoder_lr})
        optimizer = torch.optim.AdamW(groups, weight_decay=config.weight_decay)
        batches_per_epoch = sum(math.ceil(len(f) / config.batch_size) for f in features.values())
        total = epochs * batches_per_epoch
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(total, config.warmup))
        self.train()
        step = 0
        lengths = {task: f.mask.sum(1) if f.mask is not None else None for task, f in features.items()}
        for epoch in range(1, epochs + 1):
            plan = []
            for task, task_features in features.items():
                plan += [(task, batch) for batch in _batches(len(task_features), config.batch_size, lengths[task])]
            rng.shuffle(plan)
            epoch_loss = 0.0
            for task, index in plan:
                loss = self._loss(task, features[task].subset(index), target_tensors[task][index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step()
                step += 1
                loss_value = float(loss.detach())
                epoch_loss += loss_value
                if progress is not None:
                    progress(step / total, step=step, total_steps=total, epoch=epoch, loss=loss_value)
            if progress is not None:
                progress(step / total, step=step, total_steps=total, epoch=epoch, epoch_loss=epoch_loss / max(len(plan), 1))
        self.eval()
        return self

    def _loss(self, task: str, features: Features, targets: torch.Tensor) -> torch.Tensor:
        logits = self.logits(features, task)
        if self.tasks[task].multi_label:
            return nn.functional.binary_cross_entropy_with_logits(logits, targets.to(self.device_))
        return nn.functional.cross_entropy(logits, targets.to(self.device_), weight=self._class_weights.get(task))

    # Prediction ---------------------------------------------------------------------------------
    def _task(self, task: str | None) -> str:
        if task is None:
            if len(self.tasks) != 1:
                raise ValueError("this model has several tasks: name one")
            return next(iter(self.tasks))
        if task not in self.tasks:
            raise ValueError(f"unknown task {task!r}")
        return task

    @torch.no_grad()
    def predict_proba_features(self, features: Features, task: str | None = None, *, batch_size: int = 256) -> np.ndarray:
        task = self._task(task)
        if self.training:  # (eval() walks every submodule: not on every served message)
            self.eval()
        parts = []
        for start in range(0, len(features), batch_size):
            logits = self.logits(features.subset(range(start, min(start + batch_size, len(features)))), task).float()
            probs = torch.sigmoid(logits) if self.tasks[task].multi_label else torch.softmax(logits, dim=1)
            parts.append(probs.cpu().numpy())
        k = len(self.tasks[task].labels)
        return np.concatenate(parts) if parts else np.zeros((0, k))

    @torch.no_grad()
    def predict_logits_features(self, features: Features, task: str | None = None, *, batch_size: int = 256) -> np.ndarray:
        """The task's logits (before the softmax or sigmoids), one row per item."""
        task = self._task(task)
        if self.training:
            self.eval()
        parts = [self.logits(features.subset(range(start, min(start + batch_size, len(features)))), task).float().cpu().numpy()
                 for start in range(0, len(features), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.tasks[task].labels)), dtype=np.float32)

    def predict_proba(self, texts: Sequence[str], task: str | None = None) -> np.ndarray:
        """Class probabilities, one row per text (softmax; independent sigmoids for multi-label)."""
        return self.predict_proba_features(self.features(texts), task)

    def predict(self, texts: Sequence[str], task: str | None = None) -> list[Any]:
        """Label names: one per text, or a list per text for a multi-label task (p >= 0.5)."""
        task = self._task(task)
        spec = self.tasks[task]
        proba = self.predict_proba(texts, task)
        if spec.multi_label:
            return [[spec.labels[i] for i in np.flatnonzero(row >= 0.5)] for row in proba]
        return [spec.labels[i] for i in proba.argmax(axis=1)]

    # Saving -------------------------------------------------------------------------------------
    def to_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The learnt tensors (heads and trained layers: the frozen encoder ships with its package)."""
        tensors = {f"heads.{k}": v.detach().cpu().clone() for k, v in self.heads.state_dict().items()}
        trained = self.encoder if self.full else self.top
        tensors.update({f"encoder.{k}": v.detach().cpu().clone() for k, v in trained.state_dict().items()})
        config = asdict(self.config)
        config["device"] = "cpu"
        return tensors, {
            "encoder": ENCODER_NAME,
            "tasks": [{"name": name, "labels": spec.labels, "multi_label": spec.multi_label} for name, spec in self.tasks.items()],
            "classifier": config,
        }

    @classmethod
    def from_state(cls, tensors: dict[str, torch.Tensor], config: dict[str, Any], *, device: str = "cpu") -> TextClassifier:
        classifier_config = ClassifierConfig(**{**config["classifier"], "device": device})
        tasks = {task["name"]: TaskSpec(task["labels"], task["multi_label"]) for task in config["tasks"]}
        model = cls(tasks, classifier_config)
        model.heads.load_state_dict({k[len("heads.") :]: v for k, v in tensors.items() if k.startswith("heads.")})
        trained = model.encoder if model.full else model.top
        trained.load_state_dict({k[len("encoder.") :]: v for k, v in tensors.items() if k.startswith("encoder.")})
        model.eval()
        return model
