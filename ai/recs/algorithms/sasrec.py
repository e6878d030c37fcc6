"""SASRec-style next-item prediction: causal self-attention over a shopper's ordered history.

The encoder is `transformers`' GPT2Model built from a GPT2Config (causal self-attention, learned
positions) and fed `inputs_embeds`; item embeddings (index 0 = padding) are shared with the output layer.
Training: at every position of every history predict the next item, computed only at real (non-padding)
positions, with one of two losses: the full softmax cross-entropy over the whole catalogue, or, for large
catalogues, a sampled softmax: each batch scores every position's next item against `negatives` items
drawn for the batch (uniformly, or by popularity with the logQ correction), so that an epoch costs
O(positions x negatives) in the output layer instead of O(positions x items). `loss="auto"` samples above
SAMPLED_ABOVE items (measured: docs/benchmarks.md). (gBCE, the gSASRec loss, was tried and dropped: with
the input and output item embeddings shared, as here, it collapsed every item onto one direction and
ranked no better than chance on a planted test; the softmax over sampled items is shift-invariant.)
Training cuts a history longer than `max_len` + 1 items into
windows (`every_window`: each transition trains once; off: only the latest window), right-padded, so the
causal mask alone keeps real positions from seeing padding; serving reads the latest `max_len` items.
Early stopping on validation NDCG@10 keeps the best weights. A `WarmStart` (a trained model's tensors,
config and item keys: the live version's, for a nightly retrain) starts training from those weights where
the architecture matches: the encoder as it was, the item vectors of every product the two item sets share
(by key), freshly initialised vectors for new products; validation then starts from the loaded model
(epoch 0), so a retrain on little new data stops after `patience` epochs.
`auto=True` chooses the history window, width and dropout from the data (`ai.recs.autoconfig`: rules from
the history-length distribution and the data's size and density, then a small validation search over a
few candidates, each early-stopped within its share of the time budget); training goes on from the best
candidate's weights, and what was tried and chosen is stored in the model's config (`config_search`).
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from transformers import GPT2Config, GPT2Model

from ai.device import autocast, resolve_device
from ai.encoder import EMBEDDING_DIM
from ai.recs import autoconfig
from ai.recs.base import Interactions, ProgressFn, Recommender

# With loss="auto", catalogues with more items than this train with a softmax over sampled negatives:
# on Amazon Beauty (12,101 items) 1,024 popularity-sampled negatives with the logQ correction came within
# 2.5 % of the full softmax's NDCG@10 in 31 % of its time (docs/benchmarks.md).
SAMPLED_ABOVE = 10_000
LOSSES = ("auto", "softmax", "sampled")
SAMPLINGS = ("uniform", "popularity")
TEXT_DIM = EMBEDDING_DIM  # all-MiniLM-L6-v2
# What must match between a warm start's model and the new one for its weights to fit.
ARCHITECTURE = ("hidden", "layers", "heads", "max_len", "text_dim")


@dataclass
class WarmStart:
    """A trained SASRec to start from: `tensors` and `config` as `to_state()` gives them, and `item_keys`,
    the external key (product id) of each of its item indices."""

    tensors: dict[str, torch.Tensor]
    config: dict[str, Any]
    item_keys: Sequence[Any]
    label: str = "the live model"


class SASRecNet(nn.Module):
    """`text_dim` > 0 makes the item table text-aware: each item's vector is its learned id embedding
    (kept only for items seen in training: `id_mask`) plus a learned projection of its frozen product
    text embedding (`text_emb`), so that new and rare products get a place from their description."""

    def __init__(
        self, n_items: int, *, max_len: int, hidden: int, layers: int, heads: int, dropout: float, text_dim: int = 0
    ):
        super().__init__()
        self.hidden = hidden
        self.item_emb = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        nn.init.normal_(self.item_emb.weight, std=0.02)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()
        self.text_proj: nn.Linear | None = None
        if text_dim:
            self.register_buffer("text_emb", torch.zeros(n_items + 1, text_dim))
            self.register_buffer("id_mask", torch.ones(n_items + 1, 1))
            self.text_proj = nn.Linear(text_dim, hidden, bias=False)
        self._frozen_table: torch.Tensor | None = None
        config = GPT2Config(
            vocab_size=1,  # items come in as inputs_embeds; GPT2's own token table is unused
            n_positions=max_len,
            n_embd=hidden,
            n_layer=layers,
            n_head=heads,
            n_inner=hidden * 4,
            resid_pdrop=dropout,
            embd_pdrop=dropout,
            attn_pdrop=dropout,
            activation_function="gelu_new",
            use_cache=False,
            bos_token_id=None,
            eos_token_id=None,
        )
        self.encoder = GPT2Model(config)

    def train(self, mode: bool = True) -> SASRecNet:
        self._frozen_table = None
        return super().train(mode)

    def table(self) -> torch.Tensor:
        """The item vectors (row 0: padding); computed once while the model is not training."""
        if self.text_proj is None:
            return self.item_emb.weight
        if self._frozen_table is not None and not self.training:
            return self._frozen_table
        table = self.item_emb.weight * self.id_mask + self.text_proj(self.text_emb)
        if not self.training:
            self._frozen_table = table.detach()
        return table

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        """Hidden states (batch, length, hidden) for right-padded item sequences (0 = padding)."""
        embeds = nn.functional.embedding(items, self.table()) * math.sqrt(self.hidden)
        return self.encoder(inputs_embeds=embeds).last_hidden_state

    def serve_forward(self, items: torch.Tensor) -> torch.Tensor:
        """`forward` in eval mode, computed with the encoder's own weights in plain torch calls: GPT-2's
        pre-norm blocks (learned positions, causal attention scaled by 1/sqrt(head width), tanh GELU).
        `transformers`' per-call wrappers cost three times the arithmetic for one short serving history
        (docs/benchmarks.md); a test holds this equal to `forward`."""
        encoder, width = self.encoder, self.hidden
        batch, length = items.shape
        x = nn.functional.embedding(items, self.table()) * math.sqrt(width) + encoder.wpe.weight[:length]
        for block in encoder.h:
            attn, mlp = block.attn, block.mlp
            h = nn.functional.layer_norm(x, (width,), block.ln_1.weight, block.ln_1.bias, block.ln_1.eps)
            qkv = torch.addmm(attn.c_attn.bias, h.reshape(-1, width), attn.c_attn.weight)
            q, k, v = qkv.view(batch, length, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
            mixed = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            mixed = mixed.transpose(1, 2).reshape(-1, width)
            x = x + torch.addmm(attn.c_proj.bias, mixed, attn.c_proj.weight).view(batch, length, width)
            h = nn.functional.layer_norm(x, (width,), block.ln_2.weight, block.ln_2.bias, block.ln_2.eps)
            h = nn.functional.gelu(torch.addmm(mlp.c_fc.bias, h.reshape(-1, width), mlp.c_fc.weight), approximate="tanh")
            x = x + torch.addmm(mlp.c_proj.bias, h, mlp.c_proj.weight).view(batch, length, width)
        return nn.functional.layer_norm(x, (width,), encoder.ln_f.weight, encoder.ln_f.bias, encoder.ln_f.eps)

    def item_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores of every real item (padding index dropped): column j is item index j."""
        return hidden @ self.table()[1:].T


def _pad_right(sequences: list[np.ndarray], length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Most recent `length` items of each sequence, shifted by +1 (0 = padding), right-padded."""
    out = np.zeros((len(sequences), max(length, 1)), dtype=np.int64)
    lengths = np.zeros(len(sequences), dtype=np.int64)
    for row, seq in enumerate(sequences):
        seq = np.asarray(seq)[-length:]
        out[row, : len(seq)] = seq + 1
        lengths[row] = len(seq)
    return torch.from_numpy(out), torch.from_numpy(lengths)


def _training_windows(histories: list[np.ndarray], max_len: int, every: bool) -> list[np.ndarray]:
    """The sequences training reads (each gives inputs w[:-1] and targets w[1:]). `every`: a history longer
    than the window is cut into windows of max_len + 1 items, the latest first, each overlapping the next
    by one item, so that every transition of the history trains exactly once (else only the latest window
    does: 15 % of Online Retail's transitions were never trained on with a 150-item window)."""
    windows = []
    for history in histories:
        if len(history) < 2:
            continue
        end = len(history)
        while True:
            start = max(0, end - (max_len + 1))
            windows.append(history[start:end])
            if start == 0 or not every:
                break
            end = start + 1
    return windows


class SASRec(Recommender):
    name: ClassVar[str] = "sasrec"
    uses_validation: ClassVar[bool] = True

    def __init__(
        self,
        *,
        max_len: int = 50,
        hidden: int = 64,
        layers: int = 2,
        heads: int = 1,
        dropout: float = 0.5,
        lr: float = 1e-3,
        lr_decay: float = 0.5,
        lr_schedule: Sequence[float] | None = None,
        weight_decay: float = 0.0,
        batch_size: int = 128,
        epochs: int = 200,
        patience: int = 5,
        val_users: int = 10_000,
        max_seconds: float | None = None,
        seed: int = 0,
        device: str | torch.device | None = None,
        loss: str = "auto",
        negatives: int = 1024,
        sampling: str = "popularity",
        text_init: bool = False,
        every_window: bool = True,
        warm_start: WarmStart | None = None,
        auto: bool = False,
        search_share: float = 0.34,
        search_epochs: int = 4,
        config_search: dict[str, Any] | None = None,
    ):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {loss!r}")
        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {', '.join(SAMPLINGS)}, not {sampling!r}")
        if not 0.0 < lr_decay <= 1.0:
            raise ValueError("lr_decay must be in (0, 1]")
        if negatives < 1:
            raise ValueError("negatives must be at least 1")
        self.max_len = max_len
        self.hidden = hidden
        self.layers = layers
        self.heads = heads
        self.dropout = dropout
        self.lr = lr
        # After an epoch that does not beat the best validation NDCG, the learning rate is multiplied by
        # lr_decay (1.0: constant). The refit, which has no validation, replays the tuning's rates.
        self.lr_decay = lr_decay
        self.lr_schedule = list(lr_schedule) if lr_schedule else None
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.patience = patience
        self.val_users = val_users  # validate on a fixed random sample of this many users (0: all)
        self.max_seconds = max_seconds
        self.seed = seed
        self.device = resolve_device(device)
        self.loss = loss
        self.negatives = negatives
        self.sampling = sampling
        self.text_init = text_init  # item vectors from product text too (new and rare products)
        self.every_window = every_window  # train on every window of a long history, not only its latest
        self.text_dim = 0
        self.warm_start = warm_start  # start from these weights where they fit (see _warm_start)
        # auto: choose max_len, hidden and dropout from the data (see _fit_auto); the search may use
        # `search_share` of max_seconds (without a cap: `search_epochs` epochs per candidate).
        if not 0.0 < search_share < 1.0:
            raise ValueError("search_share must be between 0 and 1")
        if search_epochs < 1:
            raise ValueError("search_epochs must be at least 1")
        self.auto = auto
        self.search_share = search_share
        self.search_epochs = search_epochs
        self.config_search = config_search  # what the search tried and chose (kept through a refit)
        self._continue_from: SASRecNet | None = None
        self.warm_started = ""  # what the warm start did: "3,600 of 3,788 items from the live model", or why not
        self.warm_loaded = False  # whether this fit started from the warm start's weights
        self._sampling_weights: torch.Tensor | None = None
        self._log_q: torch.Tensor | None = None
        self.net: SASRecNet | None = None
        self.n_items = 0
        self.best_epoch = 0
        self.history: list[dict[str, float]] = []  # per epoch: epoch, seconds, cpu_s, loss, val_ndcg
        self.stopped = ""  # why training ended: "early stopping", "max_seconds", "epochs"

    # -- training ---------------------------------------------------------------------------------
    def _autocast(self):
        return autocast(self.device)

    def _new_net(self) -> SASRecNet:
        return SASRecNet(
            self.n_items,
            max_len=self.max_len,
            hidden=self.hidden,
            layers=self.layers,
            heads=self.heads,
            dropout=self.dropout,
            text_dim=self.text_dim,
        )

    def _attach_texts(self, data: Interactions) -> None:
        """text_init: the items' MiniLM text embeddings, and which items training has seen."""
        from ai.recs.algorithms.content import embed_texts

        if not data.item_texts or len(data.item_texts) != data.n_items:
            raise ValueError("text_init needs a text per item (item_texts)")
        assert self.net is not None
        texts = embed_texts(list(data.item_texts), device=self.device)
        seen = np.bincount(data.items, minlength=data.n_items) > 0
        with torch.no_grad():
            self.net.text_emb[1:] = texts.to(self.device)
            self.net.id_mask[1:, 0] = torch.as_tensor(seen, dtype=torch.float32, device=self.device)

    def _setup(self, data: Interactions) -> None:
        """A fresh network for this data's items (text-aware with text_init)."""
        self.n_items = data.n_items
        self.text_dim = TEXT_DIM if self.text_init else 0
        self.warm_started, self.warm_loaded = "", False
        if self._continue_from is not None:  # the configuration search's best candidate, trained on
            self.net, self._continue_from = self._continue_from, None
            self.warm_loaded, self.warm_started = True, "continued from the configuration search's best candidate"
            return
        self.net = self._new_net().to(self.device)
        if self.text_init:
            self._attach_texts(data)
        if self.warm_start is not None:
            self.warm_loaded, self.warm_started = self._warm_start(self.warm_start, data)

    def _warm_start(self, warm: WarmStart, data: Interactions) -> tuple[bool, str]:
        """Load the warm start's weights into the fresh network: the encoder (and text projection) whole,
        the item vectors of the items both item sets share, matched by key; items new to this data keep
        their fresh initialisation. Returns whether it loaded them and what it did; an architecture that
        differs, or no shared item, leaves the network cold and says why."""
        assert self.net is not None
        mine = {"hidden": self.hidden, "layers": self.layers, "heads": self.heads, "max_len": self.max_len,
                "text_dim": self.text_dim}
        theirs = {"text_dim": 0, **warm.config}  # versions from before text-aware items have no text_dim
        differs = [name for name in ARCHITECTURE if int(theirs.get(name, -1)) != mine[name]]
        if differs:
            return False, f"cold start: {warm.label} differs in {', '.join(differs)}"
        if len(data.item_keys) != data.n_items:
            return False, "cold start: the data has no item keys to match"
        old_index = {key: i for i, key in enumerate(warm.item_keys)}
        new_rows, old_rows = [], []
        for i, key in enumerate(data.item_keys):
            old = old_index.get(key)
            if old is not None:
                new_rows.append(i + 1)  # row 0 is padding
                old_rows.append(old + 1)
        if not new_rows:
            return False, f"cold start: no item shared with {warm.label}"
        state = self.net.state_dict()
        for name, tensor in warm.tensors.items():
            if name in ("text_emb", "id_mask"):  # this data's texts and seen items, set by _attach_texts
                continue
            if name == "item_emb.weight":
                rows_new, rows_old = torch.tensor(new_rows), torch.tensor(old_rows)
                state[name][rows_new.to(state[name].device)] = tensor[rows_old].to(state[name])
            elif name in state and state[name].shape == tensor.shape:
                state[name].copy_(tensor.to(state[name]))
            else:
                return False, f"cold start: {warm.label} has no fitting {name}"
        self.net.load_state_dict(state)
        return True, f"warm start: {len(new_rows):,} of {data.n_items:,} items from {warm.label}"

    def _built_net(self) -> SASRecNet:
        if self.net is None:
            raise RuntimeError("SASRec: the network is built before training")
        return self.net

    def fit(
        self,
        data: Interactions,
        *,
        valid_targets: np.ndarray | None = None,
        progress: ProgressFn | None = None,
    ) -> SASRec:
        if self.auto:
            return self._fit_auto(data, valid_targets, progress)
        return self._fit(data, valid_targets=valid_targets, progress=progress)

    # -- configuration that follows the data -------------------------------------------------------
    def _fit_auto(self, data: Interactions, valid_targets: np.ndarray | None, progress: ProgressFn | None) -> SASRec:
        """Choose max_len, hidden and dropout for this data, then train.

        The rules' configuration and its neighbours (`autoconfig.candidates`) are each trained on `data`
        for at most `search_epochs` epochs and `search_share` / candidates of max_seconds, early-stopped on
        the validation targets; the one with the best validation NDCG@10 is trained on (from its weights)
        with the time left. Without validation targets the rules alone decide; with a warm start (a
        retrain of the live version) its configuration is kept, so its weights fit.
        """
        started = time.perf_counter()
        prof = autoconfig.profile(data)
        rule = autoconfig.rule_config(prof)
        record: dict[str, Any] = {"profile": prof.as_dict(), "rule": rule, "trials": []}
        validate = valid_targets is not None and bool((np.asarray(valid_targets) >= 0).any())
        if self.warm_start is not None and all(name in self.warm_start.config for name in autoconfig.CHOSEN):
            chosen = {name: self.warm_start.config[name] for name in autoconfig.CHOSEN}
            record["decided_by"] = f"kept from {self.warm_start.label} (warm start)"
        elif not validate:
            chosen = rule
            record["decided_by"] = "rules (no validation targets to search with)"
        else:
            chosen = self._search(data, valid_targets, prof, rule, record, progress)
            record["decided_by"] = "validation search"
        record["chosen"] = {name: chosen[name] for name in autoconfig.CHOSEN}
        self.max_len, self.hidden, self.dropout = int(chosen["max_len"]), int(chosen["hidden"]), float(chosen["dropout"])
        self.config_search = record
        budget = float(self.max_seconds or 0)
        saved = self.max_seconds
        if budget > 0:  # the time the search left (spent: one epoch, as any fit gets)
            self.max_seconds = max(budget - (time.perf_counter() - started), 1e-6)
        try:
            self._fit(data, valid_targets=valid_targets, progress=progress)
        finally:
            self.max_seconds = saved
        record["seconds"] = round(time.perf_counter() - started, 1)
        return self

    def _search(self, data: Interactions, valid_targets: np.ndarray | None, prof: autoconfig.Profile,
                rule: dict[str, Any], record: dict[str, Any], progress: ProgressFn | None) -> dict[str, Any]:
        """Train each candidate briefly, keep the best (its network is continued by `_fit`)."""
        options = autoconfig.candidates(prof, rule)
        budget = float(self.max_seconds or 0) * self.search_share
        trials: list[SASRec] = []
        for number, option in enumerate(options, start=1):
            trial = copy.copy(self)
            trial.auto, trial.warm_start, trial._continue_from = False, None, None
            trial.max_len, trial.hidden, trial.dropout = int(option["max_len"]), int(option["hidden"]), float(option["dropout"])
            trial.epochs = min(self.search_epochs, self.epochs)
            trial.max_seconds = budget / len(options) if budget > 0 else None

            def report(fraction: float, _n: int = number, _option: dict[str, Any] = option, **point: Any) -> None:
                if progress is not None:
                    progress(0.0, trial=_n, trial_of=len(options), trial_epoch=point.get("epoch"),
                             trial_val_ndcg=point.get("val_ndcg"), trial_config=str(_option))

            trial._fit(data, valid_targets=valid_targets, progress=report)
            trials.append(trial)
        # Compared after the same number of epochs (the fewest any candidate finished in its time share):
        # what a configuration learns per epoch, not how fast this machine ran it while others were busy.
        at = min(len(trial.history) for trial in trials)
        scores = [max(p.get("val_ndcg", -1.0) for p in trial.history[:at]) for trial in trials]
        best = int(np.argmax(scores))  # ties: the earlier candidate (the rules' first)
        for option, trial, score in zip(options, trials, scores, strict=True):
            record["trials"].append({**option, "val_ndcg": round(float(score), 5), "epochs": len(trial.history),
                                     "best_val_ndcg": round(float(max(p.get("val_ndcg", -1.0) for p in trial.history)), 5),
                                     "stopped": trial.stopped})
        record["compared_at_epoch"] = at
        winner = trials[best]
        self._continue_from = winner.net  # the weights of its best epoch (possibly after `at`)
        record["search_epochs"] = winner.best_epoch  # epochs the chosen network had before training went on
        record["search_rates"] = winner._rates()  # their learning rates, for the refit to replay
        return options[best]

    def _fit(
        self,
        data: Interactions,
        *,
        valid_targets: np.ndarray | None = None,
        progress: ProgressFn | None = None,
    ) -> SASRec:
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self._setup(data)
        histories = data.histories()
        # Each window of n items gives inputs w[:-1] and targets w[1:] (the next item at every position).
        trainable = _training_windows(histories, self.max_len, self.every_window)
        if not trainable:
            raise ValueError("SASRec needs at least one history with two or more interactions")
        inputs, lengths = _pad_right([h[:-1] for h in trainable], self.max_len)
        targets, _ = _pad_right([h[1:] for h in trainable], self.max_len)
        inputs, targets = inputs.to(self.device), targets.to(self.device)
        order_key = lengths.numpy()

        valid_targets = self._validation_sample(valid_targets, rng)
        validate = valid_targets is not None
        net = self._built_net()
        optimiser = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        generator = torch.Generator(device=self.device).manual_seed(self.seed)
        self._prepare_sampling(data)
        started, cpu_started = time.perf_counter(), time.process_time()
        self.history, self.best_epoch, since_best = [], 0, 0
        best_ndcg, best_state = self._warm_baseline(histories, valid_targets if validate else None, started)
        lr = self.lr
        for epoch in range(1, self.epochs + 1):
            if self.lr_schedule:
                lr = self.lr_schedule[min(epoch, len(self.lr_schedule)) - 1]
            for group in optimiser.param_groups:
                group["lr"] = lr
            net.train()
            epoch_started = time.perf_counter()
            loss = self._train_epoch(optimiser, inputs, targets, order_key, rng, generator)
            point: dict[str, float] = {
                "epoch": epoch,
                "epoch_s": round(time.perf_counter() - epoch_started, 2),  # training only, not validation
                "seconds": round(time.perf_counter() - started, 1),
                "loss": loss,
                "lr": lr,
            }
            if valid_targets is not None:
                point["val_ndcg"] = self._val_ndcg(histories, valid_targets)
                point["seconds"] = round(time.perf_counter() - started, 1)
                if point["val_ndcg"] > best_ndcg:
                    best_ndcg, since_best, self.best_epoch = point["val_ndcg"], 0, epoch
                    best_state = copy.deepcopy(net.state_dict())
                else:
                    since_best += 1
                    if not self.lr_schedule:
                        lr *= self.lr_decay
            else:
                self.best_epoch = epoch
            point["cpu_s"] = round(time.process_time() - cpu_started, 1)  # all threads: shows contention
            self.history.append(point)
            if progress is not None:
                progress(epoch / self.epochs, **point)
            max_seconds = self.max_seconds or 0
            out_of_time = max_seconds > 0 and time.perf_counter() - started > max_seconds
            if validate and since_best >= self.patience:
                self.stopped = f"early stopping after {epoch} of {self.epochs} epochs (best {self.best_epoch})"
                break
            if out_of_time and epoch < self.epochs:
                self.stopped = f"stopped at max_seconds after {epoch} of {self.epochs} epochs"
                break
        else:
            self.stopped = f"ran all {self.epochs} epochs"
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        return self

    def _validation_sample(self, valid_targets: np.ndarray | None, rng: np.random.Generator) -> np.ndarray | None:
        """The validation targets on a fixed random sample of `val_users` users (None: nothing to validate)."""
        if valid_targets is None or not (valid_targets >= 0).any():
            return None
        valid_targets = np.asarray(valid_targets).copy()
        candidates = np.flatnonzero(valid_targets >= 0)
        if self.val_users and len(candidates) > self.val_users:
            dropped = np.setdiff1d(candidates, rng.choice(candidates, self.val_users, replace=False))
            valid_targets[dropped] = -1
        return valid_targets

    def _train_epoch(self, optimiser: torch.optim.Optimizer, inputs: torch.Tensor, targets: torch.Tensor,
                     order_key: np.ndarray, rng: np.random.Generator, generator: torch.Generator) -> float:
        """One pass over the windows; the mean loss per trained position."""
        # Batches of similar length (little padding), in random order; ties shuffled each epoch.
        order = np.lexsort((rng.random(len(order_key)), order_key))
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        rng.shuffle(batches)
        total_loss, total_count = 0.0, 0
        for batch in batches:
            index = torch.from_numpy(batch).to(self.device)
            width = int(order_key[batch].max())
            x, y = inputs[index, :width], targets[index, :width]
            real = y > 0
            loss = self._batch_loss(x, y, real, generator)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            count = int(real.sum())
            total_loss += loss.item() * count
            total_count += count
        return total_loss / max(total_count, 1)

    def _val_ndcg(self, histories: list[np.ndarray], valid_targets: np.ndarray) -> float:
        from ai.recs.metrics import evaluate_scores

        return float(evaluate_scores(self, histories, valid_targets, self.n_items).ndcg)

    def _warm_baseline(
        self, histories: list[np.ndarray], valid_targets: np.ndarray | None, started: float
    ) -> tuple[float, dict[str, Any] | None]:
        """Epoch 0 of a warm start: the loaded model's validation NDCG and weights, so that training keeps
        them unless an epoch does better. (-1, None) for a cold start or without validation."""
        if valid_targets is None or not self.warm_loaded:
            return -1.0, None
        net = self._built_net()
        net.eval()
        ndcg = self._val_ndcg(histories, valid_targets)
        self.history.append({"epoch": 0, "seconds": round(time.perf_counter() - started, 1), "val_ndcg": ndcg})
        return ndcg, copy.deepcopy(net.state_dict())

    def _prepare_sampling(self, data: Interactions) -> None:
        """Popularity sampling: each item drawn in proportion to its interactions (+1), with log Q kept
        for the correction. Uniform sampling needs neither (its log Q is one constant)."""
        self._sampling_weights = self._log_q = None
        if self.sampled() and self.sampling == "popularity":
            counts = np.bincount(data.items, minlength=self.n_items).astype(np.float64) + 1.0
            q = torch.as_tensor(counts / counts.sum(), dtype=torch.float32, device=self.device)
            self._sampling_weights = q
            self._log_q = torch.log(q * min(self.negatives, self.n_items))

    def sampled(self) -> bool:
        """Whether training uses the softmax over sampled negatives (else the full softmax)."""
        if self.loss == "auto":
            return self.n_items > SAMPLED_ABOVE
        return self.loss == "sampled"

    def _batch_loss(self, x: torch.Tensor, y: torch.Tensor, real: torch.Tensor, generator: torch.Generator):
        """Mean loss of one batch at its real positions (targets y are item index + 1)."""
        assert self.net is not None
        targets = y[real] - 1
        if not self.sampled():
            with self._autocast():
                logits = self.net.item_logits(self.net(x)[real]).float()
            return nn.functional.cross_entropy(logits, targets)
        count = min(self.negatives, max(self.n_items - 1, 1))
        if self._sampling_weights is None:
            negatives = torch.randint(0, self.n_items, (count,), device=self.device, generator=generator)
        else:
            negatives = torch.multinomial(self._sampling_weights, count, replacement=True, generator=generator)
        table = self.net.table()[1:]
        with self._autocast():
            hidden = self.net(x)[real]
            positive = (hidden * table[targets]).sum(-1).float()
            negative = (hidden @ table[negatives].T).float()
        if self._log_q is not None:  # logQ correction: popular items are sampled more, so count less each
            positive = positive - self._log_q[targets]
            negative = negative - self._log_q[negatives].unsqueeze(0)
        # A sampled "negative" that is the position's own target is not a negative.
        negative = negative.masked_fill(negatives.unsqueeze(0) == targets.unsqueeze(1), -1e4)
        logits = torch.cat([positive.unsqueeze(1), negative], dim=1)
        return nn.functional.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))

    def tuned_params(self) -> dict[str, Any]:
        """For the refit on all data: train as many epochs as validation found best, no early stopping;
        after a configuration search, the chosen configuration (and the search's epochs counted too)."""
        if not self.auto or self.config_search is None:
            return {"epochs": max(self.best_epoch, 1), "max_seconds": None, **self._replayed(self._rates())}
        search_epochs = int(self.config_search.get("search_epochs", 0))
        search_rates = list(self.config_search.get("search_rates") or [self.lr] * search_epochs)
        epochs = search_epochs + self.best_epoch
        return {"epochs": max(epochs, 1), "max_seconds": None, "auto": False, "max_len": self.max_len,
                "hidden": self.hidden, "dropout": self.dropout, "config_search": self.config_search,
                **self._replayed(search_rates + self._rates())}

    def _rates(self) -> list[float]:
        """The learning rate of each epoch up to the best one."""
        return [float(p.get("lr", self.lr)) for p in self.history if p.get("epoch", 0) >= 1][: self.best_epoch]

    def _replayed(self, rates: list[float]) -> dict[str, Any]:
        """The refit's learning rate per epoch, when it was not constant."""
        return {"lr_schedule": rates} if rates and any(rate != self.lr for rate in rates) else {}

    def training_summary(self) -> dict[str, Any]:
        """How this fit trained, for an evaluation row: the loss actually used (loss="auto" samples above
        SAMPLED_ABOVE items), the catalogue size, the epochs and why training stopped."""
        return {"loss_used": "sampled" if self.sampled() else "softmax", "n_items": self.n_items,
                "epochs_run": len(self.history), "stopped": self.stopped}

    # -- serving ----------------------------------------------------------------------------------
    @torch.inference_mode()
    def _user_vectors(self, histories: list[np.ndarray]) -> torch.Tensor:
        assert self.net is not None, "fit or load the model first"
        if self.net.training:  # eval() walks every module (a quarter of a serving call's forward pass) and
            self.net.eval()  # drops the text-aware item table computed for evaluation: only when needed
        x, lengths = _pad_right(histories, self.max_len)
        x, lengths = x.to(self.device), lengths.to(self.device)
        width = max(int(lengths.max()), 1)
        with self._autocast():
            hidden = self.net.serve_forward(x[:, :width]).float()
        last = (lengths - 1).clamp(min=0)
        vectors = hidden[torch.arange(len(histories), device=self.device), last]
        return vectors * (lengths > 0).unsqueeze(1)  # no history: all-zero scores

    @torch.inference_mode()
    def score(self, histories: list[np.ndarray]) -> np.ndarray:
        if self.net is None:
            raise RuntimeError("SASRec.score() before fit() or load")
        vectors = self._user_vectors(histories)
        return self.net.item_logits(vectors).float().cpu().numpy()

    @torch.inference_mode()
    def similar(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Nearest items by cosine of the learned item embeddings."""
        assert self.net is not None, "fit or load the model first"
        table = nn.functional.normalize(self.net.table()[1:].float(), dim=1)
        sims = table @ table[item]
        sims[item] = -math.inf
        top = torch.topk(sims, min(k, len(sims) - 1))
        return top.indices.cpu().numpy(), top.values.cpu().numpy()

    @torch.inference_mode()
    def affinity(self, seeds: np.ndarray, item: int) -> np.ndarray:
        """Cosine of the learned item embeddings between each seed and `item` (negatives as 0)."""
        assert self.net is not None, "fit or load the model first"
        table = self.net.table()[1:].float()
        seeds_t = torch.as_tensor(np.asarray(seeds, dtype=np.int64))
        sims = nn.functional.normalize(table[seeds_t], dim=1) @ nn.functional.normalize(table[int(item)], dim=0)
        return sims.clamp(min=0).cpu().numpy()

    @torch.inference_mode()
    def affinities(self, seeds: np.ndarray, items: np.ndarray) -> np.ndarray:
        """`affinity` for several items at once (seeds x items): one product of normalised vectors."""
        assert self.net is not None, "fit or load the model first"
        table = self.net.table()[1:].float()
        seeds_t = torch.as_tensor(np.asarray(seeds, dtype=np.int64))
        items_t = torch.as_tensor(np.asarray(items, dtype=np.int64))
        left = nn.functional.normalize(table[seeds_t], dim=1)
        right = nn.functional.normalize(table[items_t], dim=1)
        return (left @ right.T).clamp(min=0).cpu().numpy()

    # -- persistence ------------------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return {
            "n_items": self.n_items,
            "max_len": self.max_len,
            "hidden": self.hidden,
            "layers": self.layers,
            "heads": self.heads,
            "dropout": self.dropout,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "loss": self.loss,
            "sampled": self.sampled(),
            "negatives": self.negatives,
            "sampling": self.sampling,
            "text_dim": self.text_dim,
            "every_window": self.every_window,
            "stopped": self.stopped,
            "warm_started": self.warm_started,
            "config_search": self.config_search,
        }

    def to_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        assert self.net is not None, "fit the model first"
        tensors = {name: t.detach().cpu().contiguous().clone() for name, t in self.net.state_dict().items()}
        return tensors, self._config()

    @classmethod
    def from_state(
        cls, tensors: dict[str, torch.Tensor], config: dict[str, Any], *, device: str | torch.device | None = "cpu"
    ) -> SASRec:
        model = cls(
            max_len=config["max_len"],
            hidden=config["hidden"],
            layers=config["layers"],
            heads=config["heads"],
            dropout=config["dropout"],
            device=device,
        )
        model.n_items = int(config["n_items"])
        model.best_epoch = int(config.get("best_epoch", 0))
        model.history = list(config.get("history", []))
        model.stopped = str(config.get("stopped", ""))
        model.warm_started = str(config.get("warm_started", ""))
        model.config_search = config.get("config_search")
        model.text_dim = int(config.get("text_dim", 0))
        model.text_init = bool(model.text_dim)
        model.net = model._new_net()
        model.net.load_state_dict(tensors)
        model.net.to(model.device).eval()
        return model
