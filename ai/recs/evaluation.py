"""Offline evaluation of recommenders: leave-one-out by time, full ranking over every item.

Each user's last interaction is the test target and the one before it the validation target. A model
that tunes itself (early stopping) is first fitted without both and watches the validation targets;
it reports what it learned through `tuned_params()`, and a fresh model with those parameters is then
refitted on everything but the test targets. Items already in a user's history are excluded from the
ranking. Metrics: HR@k (= Recall@k with one target), NDCG@k, catalogue coverage@k, fit seconds.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from ai.recs.base import Interactions, ProgressFn, Recommender

MIN_USERS = 2


class NotEnoughData(ValueError):
    """Too few users or interactions to hold any target out."""


@dataclass
class LeaveOneOut:
    train: Interactions  # without validation and test targets: for tuning
    valid_targets: np.ndarray  # item index per user, -1 for none
    fit_data: Interactions  # everything but the test targets: for the final fit
    test_targets: np.ndarray  # item index per user, -1 for none


@dataclass
class EvalResult:
    model: str
    hr: float
    ndcg: float
    coverage: float
    fit_s: float
    tune_s: float
    users: int
    k: int
    params: dict[str, Any]

    def as_row(self) -> dict[str, Any]:
        k = self.k
        return {
            "model": self.model,
            f"hr@{k}": round(float(self.hr), 4),
            f"ndcg@{k}": round(float(self.ndcg), 4),
            f"coverage@{k}": round(float(self.coverage), 4),
            "fit_s": round(float(self.fit_s), 1),
            "tune_s": round(float(self.tune_s), 1),
            "users": self.users,
            "params": self.params,
        }


def subset(data: Interactions, keep: np.ndarray) -> Interactions:
    """The same users and items (indices unchanged), only the rows where `keep` is true."""
    return Interactions(
        users=data.users[keep],
        items=data.items[keep],
        timestamps=data.timestamps[keep],
        n_users=data.n_users,
        n_items=data.n_items,
        item_keys=data.item_keys,
        user_keys=data.user_keys,
        weights=None if data.weights is None else data.weights[keep],
        item_categories=data.item_categories,
        item_texts=data.item_texts,
    )


def leave_one_out(data: Interactions) -> LeaveOneOut:
    """Hold out each user's last interaction (test) and the one before it (validation).

    A user needs 2 interactions to have a test target and 3 to also have a validation target; users
    with fewer stay in the training data only. Rows must be sorted by (user, timestamp).
    """
    n_rows = len(data.users)
    bounds = np.searchsorted(data.users, np.arange(data.n_users + 1))
    lengths = np.diff(bounds)
    test_targets = np.full(data.n_users, -1, dtype=np.int64)
    valid_targets = np.full(data.n_users, -1, dtype=np.int64)
    has_test = lengths >= 2
    has_valid = lengths >= 3
    last = bounds[1:] - 1
    test_targets[has_test] = data.items[last[has_test]]
    valid_targets[has_valid] = data.items[last[has_valid] - 1]
    if has_test.sum() < MIN_USERS:
        raise NotEnoughData(
            f"too little data: {int(has_test.sum())} user(s) with 2 or more interactions "
            f"(need at least {MIN_USERS} to hold out their last interaction)"
        )
    keep_fit = np.ones(n_rows, dtype=bool)
    keep_fit[last[has_test]] = False
    keep_train = keep_fit.copy()
    keep_train[last[has_valid] - 1] = False
    return LeaveOneOut(
        train=subset(data, keep_train),
        valid_targets=valid_targets,
        fit_data=subset(data, keep_fit),
        test_targets=test_targets,
    )


@dataclass
class RankingMetrics:
    hr: float
    ndcg: float
    coverage: float
    users: int


def rank_metrics(
    scores: np.ndarray | torch.Tensor,
    histories: list[np.ndarray],
    targets: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k lists (seen items excluded) and the rank of each target within them (-1 if absent)."""
    scores = torch.as_tensor(scores, dtype=torch.float32).clone()
    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    if len(rows):
        cols = np.concatenate(histories).astype(np.int64)
        scores[torch.from_numpy(rows), torch.from_numpy(cols)] = -math.inf
    top = torch.topk(scores, min(k, scores.shape[1]), dim=1).indices.numpy()
    hit = top == np.asarray(targets)[:, None]
    ranks = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    return top, ranks


def evaluate_scores(
    model: Recommender,
    histories: list[np.ndarray],
    targets: np.ndarray,
    n_items: int,
    *,
    k: int = 10,
    batch_size: int = 1024,
) -> RankingMetrics:
    """HR@k, NDCG@k and coverage@k of `model` for the users whose target is >= 0."""
    users = np.flatnonzero(targets >= 0)
    hits = 0.0
    dcg = 0.0
    shown = np.zeros(n_items, dtype=bool)
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        batch_histories = [histories[u] for u in batch]
        top, ranks = rank_metrics(model.score(batch_histories), batch_histories, targets[batch], k)
        shown[top.ravel()] = True
        found = ranks >= 0
        hits += found.sum()
        dcg += (1.0 / np.log2(ranks[found] + 2.0)).sum()
    n = max(len(users), 1)
    return RankingMetrics(hr=hits / n, ndcg=dcg / n, coverage=shown.sum() / n_items, users=len(users))


ModelFactory = Callable[..., Recommender]


def evaluate(
    name: str,
    factory: ModelFactory,
    data: Interactions,
    *,
    k: int = 10,
    split: LeaveOneOut | None = None,
    progress: ProgressFn | None = None,
    refit: bool = True,
) -> EvalResult:
    """Tune (if the model tunes itself), refit on everything but the test targets, rank, measure.

    `refit=False` ranks with the tuned model itself (its input histories then include the validation
    item it was not trained on), as the SASRec paper does: half the training time for tuning models.
    """
    split = split or leave_one_out(data)
    tuned: dict[str, Any] = {}
    tune_s = 0.0
    model = factory()
    if getattr(model, "uses_validation", False):
        started = time.perf_counter()
        model.fit(split.train, valid_targets=split.valid_targets, progress=progress)
        tune_s = time.perf_counter() - started
        tuned = model.tuned_params()
        if refit and progress is not None:
            # The tuned model's own test figures (cheap), reported before the refit starts.
            before = evaluate_scores(model, split.fit_data.histories(), split.test_targets, data.n_items, k=k)
            progress(1.0, tuned_model_ndcg=float(before.ndcg), tuned_model_hr=float(before.hr), tune_s=tune_s)
        if refit:
            model = factory(**tuned)
    fit_s = tune_s  # without a refit, the tuning fit is the fit
    if refit or not getattr(model, "uses_validation", False):
        started = time.perf_counter()
        model.fit(split.fit_data, progress=progress)
        fit_s = time.perf_counter() - started
    metrics = evaluate_scores(model, split.fit_data.histories(), split.test_targets, data.n_items, k=k)
    return EvalResult(
        model=name,
        hr=metrics.hr,
        ndcg=metrics.ndcg,
        coverage=metrics.coverage,
        fit_s=fit_s,
        tune_s=tune_s,
        users=metrics.users,
        k=k,
        params=tuned,
    )


class ImplicitALS(Recommender):
    """Reference only (not served): `implicit`'s ALS on the binarised user-item matrix.

    Defaults chosen on the amazon-beauty validation targets (factors 64..256, regularization 0.05..1,
    alpha 1..40; see docs/benchmarks.md). Users are folded in from their history at scoring time.
    """

    name: ClassVar[str] = "als"

    def __init__(
        self,
        *,
        factors: int = 256,
        regularization: float = 0.1,
        alpha: float = 20.0,
        iterations: int = 15,
        num_threads: int = 1,
        seed: int = 0,
    ):
        self.params = {"factors": factors, "regularization": regularization, "alpha": alpha, "iterations": iterations}
        self.num_threads = num_threads
        self.seed = seed
        self.user_factors = self.item_factors = None

    def fit(self, data, *, valid_targets=None, progress=None):
        import scipy.sparse as sp
        from implicit.cpu.als import AlternatingLeastSquares

        matrix = sp.csr_matrix(
            (np.ones(len(data.users), dtype=np.float32), (data.users, data.items)), shape=(data.n_users, data.n_items)
        )
        matrix.data[:] = 1.0  # duplicates summed by scipy: binarise
        from threadpoolctl import threadpool_limits

        params = {**self.params, "factors": min(self.params["factors"], max(data.n_items, 1))}  # no more than items
        with threadpool_limits(1, "blas"):  # implicit's own advice: its threads and BLAS's fight otherwise
            model = AlternatingLeastSquares(
                **params, num_threads=self.num_threads, random_state=self.seed, calculate_training_loss=False
            )
            model.fit(matrix, show_progress=False)
        self.item_factors = np.asarray(model.item_factors)
        self.regularization = self.params["regularization"]
        return self

    def score(self, histories):
        # Fold-in: the least-squares user vector for each history (as implicit's recalculate_user does).
        items = self.item_factors
        gram = items.T @ items + self.regularization * np.eye(items.shape[1], dtype=items.dtype)
        out = np.zeros((len(histories), items.shape[0]), dtype=np.float32)
        for row, history in enumerate(histories):
            if len(history):
                y = items[np.unique(history)]
                a = gram + (self.params["alpha"]) * (y.T @ y)
                b = (1.0 + self.params["alpha"]) * y.sum(axis=0)
                out[row] = items @ np.linalg.solve(a, b)
        return out

    def to_state(self):
        raise TypeError("the ALS reference row is not stored")

    @classmethod
    def from_state(cls, tensors, config):
        raise TypeError("the ALS reference row is not stored")


def _implicit_installed() -> bool:
    try:
        import implicit  # noqa: F401
    except ImportError:
        return False
    return True


def _popularity_class():
    try:
        from ai.recs.algorithms.popularity import Popularity
    except ImportError:
        return None
    return Popularity


def _cooccurrence(**kw) -> Recommender:
    from ai.recs.algorithms.cooccurrence import CoOccurrence

    return CoOccurrence(**kw)


def _sasrec(device: str | None, **kw) -> Recommender:
    from ai.recs.algorithms.sasrec import SASRec

    return SASRec(device=device, **kw)


def _content(device: str | None, **kw) -> Recommender:
    from ai.recs.algorithms.content import ContentSimilarity

    return ContentSimilarity(device=device, **kw)


def model_factories(*, device: str | None = None, options: dict[str, dict[str, Any]] | None = None) -> dict[str, ModelFactory]:
    """Every model `ai_eval recs` knows, by name (the served classes, plus ALS as a reference).

    `options[name]` are constructor arguments for that model (e.g. {"sasrec": {"max_seconds": 900}}).
    """
    options = options or {}

    def bind(name: str, make: Callable[..., Recommender]) -> ModelFactory:
        return lambda **kw: make(**{**options.get(name, {}), **kw})

    factories: dict[str, ModelFactory] = {}
    popularity = _popularity_class()
    if popularity is not None:
        factories["popularity"] = bind("popularity", popularity)
    factories["cooccurrence"] = bind("cooccurrence", _cooccurrence)
    factories["sasrec"] = bind("sasrec", lambda **kw: _sasrec(device, **kw))
    factories["content"] = bind("content", lambda **kw: _content(device, **kw))
    if _implicit_installed():
        factories["als"] = bind("als", ImplicitALS)
    return factories


def default_models(data: Interactions, *, device: str | None = None) -> list[str]:
    """The models this data supports: the content model only when the items have text."""
    names = list(model_factories(device=device))
    if not data.item_texts or not any(data.item_texts):
        names.remove("content")
    return names


def resolve_models(data: Interactions, names: list[str] | None, *, device: str | None = None) -> list[str]:
    """Validate requested model names (None: every model the data supports)."""
    if not names:
        return default_models(data, device=device)
    known = model_factories(device=device)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)} (known: {', '.join(known)})")
    if "content" in names and (not data.item_texts or not any(data.item_texts)):
        raise ValueError("the content model needs product text: pass an items file (item_id,text)")
    return list(names)


def run_evaluation(
    data: Interactions,
    names: list[str],
    *,
    k: int = 10,
    device: str | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
    refit: bool = True,
):
    """Evaluate each named model on one shared split; yields an EvalResult per model."""
    split = leave_one_out(data)
    factories = model_factories(device=device, options=options)
    for name in names:
        report = None
        if progress is not None:
            report = lambda fraction, _name=name, **numbers: progress(_name, numbers)  # noqa: E731
        yield evaluate(name, factories[name], data, k=k, split=split, progress=report, refit=refit)


def format_table(rows: list[dict[str, Any]], k: int = 10) -> str:
    columns = ["model", f"hr@{k}", f"ndcg@{k}", f"coverage@{k}", "fit_s", "tune_s"]
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False))]
    lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths, strict=False)) for r in rows]
    return "\n".join(lines)
