"""Training kinds for the recommendation algorithms: `cooccurrence`, `sasrec` and `content`.

Each kind reads the stored behaviour (`ai.recs.data.build_interactions`), holds out every shopper's
last interaction (leave-one-out by time, `ai.recs.evaluation`), fits the algorithm on the rest, and
measures NDCG@10 / HR@10 on the held-out items: the stored metrics describe exactly the weights that
are served. The version stores the algorithm's tensors and, in its config, the product id of every
item index. Shoppers' histories are not stored: serving reads them from the events.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import numpy as np
import torch

from ai.recs.base import Interactions, Recommender

from .base import ModelKind, TrainedModel, TrainingContext, register

EVAL_K = 10


@dataclass
class ServedRecommender:
    """What `load()` returns: the algorithm plus the map between its item indices and product ids."""

    kind: str
    algorithm: Recommender
    item_keys: np.ndarray  # int64: product id of item index i
    config: dict[str, Any] = field(default_factory=dict)
    # Item-to-item neighbour lists precomputed at training time (content), else None.
    neighbours: np.ndarray | None = None
    neighbour_scores: np.ndarray | None = None
    # Unit item vectors of the shared diversity space (`ai.recs.metrics.item_space`), else None.
    item_vectors: np.ndarray | None = None
    _index: dict[int, int] | None = field(default=None, repr=False)

    @property
    def n_items(self) -> int:
        return len(self.item_keys)

    @property
    def long_term(self) -> float | None:
        """The long-term taste weight tuned on validation data at training (None: not tuned)."""
        value = (self.config.get("serving") or {}).get("long_term")
        return None if value is None else float(value)

    def vectors_of(self, product_ids) -> np.ndarray | None:
        """The item vectors of these products, in order (zeros for products the model does not know)."""
        if self.item_vectors is None:
            return None
        if self._index is None:
            self.index_of([])
        index = self._index or {}
        out = np.zeros((len(product_ids), self.item_vectors.shape[1]), dtype=np.float32)
        for row, product_id in enumerate(product_ids):
            item = index.get(int(product_id))
            if item is not None:
                out[row] = self.item_vectors[item]
        return out

    def index_of(self, product_ids) -> np.ndarray:
        """Item indices of those of these products that the model knows, in the given order."""
        if self._index is None:
            self._index = {int(key): i for i, key in enumerate(self.item_keys)}
        index = self._index
        return np.array([index[int(p)] for p in product_ids if int(p) in index], dtype=np.int64)

    def score_history(self, product_ids) -> np.ndarray | None:
        """Scores of every item for a shopper whose history (oldest first) is these products."""
        history = self.index_of(product_ids)
        if len(history) == 0:
            return None
        return np.asarray(self.algorithm.score([history])[0], dtype=np.float32)

    def affinity(self, seed_ids: list[int], product_id: int) -> np.ndarray | None:
        """Per seed product, how strongly it points at `product_id` in this model (0 for seeds the
        model does not know); None when the model cannot say (unknown product, no affinity)."""
        if self._index is None:
            self.index_of([])
        index = self._index or {}
        item = index.get(int(product_id))
        if item is None:
            return None
        positions = [index.get(int(p), -1) for p in seed_ids]
        known = np.array([p >= 0 for p in positions], dtype=bool)
        out = np.zeros(len(seed_ids), dtype=np.float32)
        if not known.any():
            return out
        try:
            out[known] = self.algorithm.affinity(np.array([p for p in positions if p >= 0], dtype=np.int64), item)
        except TypeError:
            return None
        return out

    def score_histories(self, histories: list[list[int]]) -> list[np.ndarray | None]:
        """`score_history` for several histories of one shopper (the recent sequence, the purchases) in one
        call of the algorithm: one forward pass of a sequence model instead of one per history."""
        indexed = [self.index_of(products) for products in histories]
        known = [n for n, history in enumerate(indexed) if len(history)]
        out: list[np.ndarray | None] = [None] * len(histories)
        if known:
            scores = np.asarray(self.algorithm.score([indexed[n] for n in known]), dtype=np.float32)
            for row, n in enumerate(known):
                out[n] = scores[row]
        return out

    def affinities(self, seed_ids: list[int], product_ids: list[int]) -> np.ndarray | None:
        """`affinity` for several products at once: a len(seed_ids) x len(product_ids) array, zero for seeds
        or products the model does not know; None when the model has no affinity."""
        if self._index is None:
            self.index_of([])
        index = self._index or {}
        seeds = np.array([index.get(int(p), -1) for p in seed_ids], dtype=np.int64)
        items = np.array([index.get(int(p), -1) for p in product_ids], dtype=np.int64)
        out = np.zeros((len(seeds), len(items)), dtype=np.float32)
        rows, cols = np.flatnonzero(seeds >= 0), np.flatnonzero(items >= 0)
        if len(rows) == 0 or len(cols) == 0:
            return out
        try:
            values = self.algorithm.affinities(seeds[rows], items[cols])
        except TypeError:
            return None
        out[np.ix_(rows, cols)] = values
        return out

    def similar_items(self, product_id: int, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The product's k nearest items (indices, positive scores), best first: from the neighbour
        lists precomputed at training time when the version has them, else from the algorithm."""
        index = self.index_of([product_id])
        if len(index) == 0:
            return None
        item = int(index[0])
        if self.neighbours is not None and self.neighbour_scores is not None:
            neighbours, values = self.neighbours[item, :k], self.neighbour_scores[item, :k]
        else:
            try:
                neighbours, values = self.algorithm.similar(item, k)
            except TypeError:  # an algorithm without item-to-item similarity
                return None
        neighbours = np.asarray(neighbours, dtype=np.int64)
        values = np.asarray(values, dtype=np.float32)
        keep = np.isfinite(values) & (values > 0) & (neighbours >= 0)
        if not keep.any():
            return None
        return neighbours[keep], values[keep]


NEIGHBOURS_KEY = "serving.neighbours"
NEIGHBOUR_SCORES_KEY = "serving.neighbour_scores"
ITEM_VECTORS_KEY = "serving.item_vectors"


def embedding_neighbours(
    embeddings: torch.Tensor, k: int, *, device: torch.device | str = "cpu", block_rows: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k cosine neighbours of every row of L2-normalised embeddings (itself excluded), in blocks of
    rows so that memory stays at block_rows x n floats. Serving then reads k numbers per product instead
    of the whole embedding table (153 MB for 100,000 products)."""
    n = embeddings.shape[0]
    k = max(0, min(k, n - 1))
    table = embeddings.to(device=device, dtype=torch.float32)
    indices = torch.zeros((n, k), dtype=torch.int32)
    scores = torch.zeros((n, k), dtype=torch.float32)
    if k == 0:
        return indices, scores
    with torch.no_grad():
        for start in range(0, n, block_rows):
            stop = min(start + block_rows, n)
            sims = table[start:stop] @ table.T
            sims[torch.arange(stop - start), torch.arange(start, stop)] = -torch.inf
            top = torch.topk(sims, k, dim=1)
            indices[start:stop] = top.indices.to("cpu", torch.int32)
            scores[start:stop] = top.values.to("cpu", torch.float32)
    return indices, scores


def _construct(cls: type[Recommender], options: dict[str, Any], **extra: Any) -> Recommender:
    """The algorithm built from those options that are parameters of its constructor."""
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in {**options, **extra}.items() if k in accepted}
    return cls(**kwargs)


class RecsKind(ModelKind):
    """Shared train/load for the recommendation algorithms; subclasses name the algorithm."""

    algorithm_path: ClassVar[str]
    # Options consumed by the kind itself; every other option goes to the algorithm's constructor.
    kind_options: ClassVar[dict[str, Any]] = {"since_days": 0, "refit_all": False, "refit_tuned": True}
    # May a model be served unmeasured when there are too few shoppers to hold any out?
    measure_optional: ClassVar[bool] = False
    # Neighbours per product to precompute from the model's embeddings at training time (0: none).
    precompute_neighbours: ClassVar[int] = 0
    # Dimensions of the diversity item space stored with the version (0: none); see ai.recs.diversify.
    item_space_dims: ClassVar[int] = 0
    # Every product as an item (not only those with events), with its text: for the content model.
    all_products: ClassVar[bool] = False
    with_texts: ClassVar[bool] = False

    def algorithm_class(self) -> type[Recommender]:
        module_name, _, class_name = self.algorithm_path.rpartition(".")
        module = __import__(module_name, fromlist=[class_name])
        return getattr(module, class_name)

    def read_data(self, ctx: TrainingContext) -> Interactions:
        from ai.recs.data import build_interactions

        since = None
        if ctx.options.get("since_days"):
            since = datetime.now(UTC) - timedelta(days=int(ctx.options["since_days"]))
        text_init = bool(ctx.options.get("text_init"))  # text-aware items: every product, with its text
        return build_interactions(
            since=since, all_products=self.all_products or text_init, with_texts=self.with_texts or text_init
        )

    def algorithm_options(self, ctx: TrainingContext) -> dict[str, Any]:
        return {k: v for k, v in ctx.options.items() if k not in self.kind_options}

    def algorithm_extras(self, ctx: TrainingContext) -> dict[str, Any]:
        """Constructor arguments that are not options (a warm start's weights)."""
        return {}

    def train(self, ctx: TrainingContext) -> TrainedModel:
        from ai.recs.data import summarize
        from ai.recs.evaluation import fit_and_measure
        from ai.recs.split import NotEnoughData, leave_one_out

        ctx.report(progress=1.0, step=0)
        data = self.read_data(ctx)
        summary = summarize(data)
        ctx.log(f"{self.name}: {summary['interactions']} interactions, {summary['users']} shoppers, "
                f"{summary['items']} products")
        cls = self.algorithm_class()
        options = self.algorithm_options(ctx)
        extra = {"device": ctx.device, **self.algorithm_extras(ctx)}
        try:
            split = leave_one_out(data)
        except NotEnoughData as exc:
            if not self.measure_optional:
                raise ValueError(f"Not enough behaviour to train {self.name} yet: {exc}") from None
            # Content needs only product text: without shoppers to measure on it is served unmeasured.
            ctx.log(f"{self.name}: not measured ({exc})")
            model = _construct(cls, options, **extra)
            model.fit(data, progress=self._progress(ctx, start=5.0, span=90.0))
            return self._trained(model, data, options, {}, summary, ctx.device, serving={})
        # Tune on the data without validation and test targets (early stopping on validation), then fit
        # with the tuned parameters on everything but the test targets; or, with refit_tuned off (the slow
        # sequential model), keep the tuned model itself: it is measured on the test targets all the
        # same, with the validation item as part of the history. The same procedure as `ai_eval recs`.
        refit = bool(ctx.options.get("refit_tuned", True)) or not getattr(cls, "uses_validation", False)
        measured = fit_and_measure(
            lambda **tuned: _construct(cls, {**options, **tuned}, **extra),
            split,
            data.n_items,
            k=EVAL_K,
            refit=refit,
            tune_progress=self._progress(ctx, 5.0, 45.0 if refit else 85.0),
            fit_progress=self._progress(ctx, 50.0, 40.0),
        )
        model, result = measured.model, measured.metrics
        options = {**options, **measured.tuned}
        serving: dict[str, Any] = {}
        if measured.long_term is not None and measured.long_term["weight"] is not None:
            # "Recommended for you" mixes this model's recent and long-term scores with this weight.
            serving["long_term"] = measured.long_term["weight"]
            ctx.log(f"{self.name}: long-term weight {serving['long_term']} (validation NDCG@10 per weight: "
                    f"{measured.long_term['ndcg']})")
        metrics = {
            f"ndcg@{EVAL_K}": round(float(result.ndcg), 5),
            f"hr@{EVAL_K}": round(float(result.hr), 5),
            f"coverage@{EVAL_K}": round(float(result.coverage), 5),
            "eval_users": int(result.users),
            "fit_s": round(measured.fit_s, 2),
        }
        ctx.report(progress=99.0, metrics=metrics)
        ctx.log(f"{self.name}: ndcg@10={metrics['ndcg@10']} hr@10={metrics['hr@10']} on {result.users} shoppers")
        search = getattr(model, "config_search", None)
        if search:
            ctx.log(f"{self.name}: configuration {search.get('chosen')} ({search.get('decided_by')}; rules gave "
                    f"{search.get('rule')}; tried: {search.get('trials')})")
        warm_note = getattr(model, "warm_started", "")
        if warm_note:
            ctx.log(f"{self.name}: {warm_note}")
        if ctx.options.get("refit_all"):
            # Serve a model that also learnt from the held-out interactions (same tuned parameters).
            ctx.log(f"{self.name}: refitting on all {summary['interactions']} interactions for serving")
            model = _construct(cls, options, **extra)
            model.fit(data)
            metrics["refit_all"] = 1.0
        return self._trained(model, data, options, metrics, summary, ctx.device, serving=serving)

    def _trained(self, model, data, options, metrics, summary, device="cpu", *, serving: dict[str, Any]) -> TrainedModel:
        tensors, config = model.to_state()
        if self.precompute_neighbours and getattr(model, "embeddings", None) is not None:
            neighbours, scores = embedding_neighbours(model.embeddings, self.precompute_neighbours, device=device)
            tensors = {**tensors, NEIGHBOURS_KEY: neighbours, NEIGHBOUR_SCORES_KEY: scores}
        if self.item_space_dims and len(data.users):
            from ai.recs.metrics import item_space

            vectors = item_space(data.users, data.items, data.n_users, data.n_items, dims=self.item_space_dims)
            tensors = {**tensors, ITEM_VECTORS_KEY: torch.from_numpy(np.ascontiguousarray(vectors))}
        config = {
            "algorithm": config,
            "item_keys": [int(k) for k in data.item_keys],
            "options": {k: v for k, v in options.items() if isinstance(v, (int, float, str, bool, type(None)))},
        }
        if serving:
            config["serving"] = serving
        algorithm = config["algorithm"] if isinstance(config["algorithm"], dict) else {}
        detail = "; ".join(str(algorithm[key]) for key in ("stopped", "warm_started") if algorithm.get(key))
        return TrainedModel(tensors=tensors, config=config, metrics=metrics, data_summary=summary, detail=detail)

    def load(self, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> ServedRecommender:
        cls = self.algorithm_class()
        params = inspect.signature(cls.from_state).parameters
        extra = {"device": "cpu"} if "device" in params else {}
        tensors = dict(tensors)
        neighbours = tensors.pop(NEIGHBOURS_KEY, None)
        scores = tensors.pop(NEIGHBOUR_SCORES_KEY, None)
        vectors = tensors.pop(ITEM_VECTORS_KEY, None)
        algorithm = cls.from_state(tensors, config["algorithm"], **extra)
        keys = np.asarray(config["item_keys"], dtype=np.int64)
        return ServedRecommender(
            kind=self.name,
            algorithm=algorithm,
            item_keys=keys,
            config=config,
            neighbours=None if neighbours is None else neighbours.numpy().astype(np.int64),
            neighbour_scores=None if scores is None else scores.numpy().astype(np.float32),
            item_vectors=None if vectors is None else vectors.numpy().astype(np.float32),
        )

    @staticmethod
    def _progress(ctx: TrainingContext, start: float, span: float):
        """The algorithm's progress(fraction, **point) as the run's progress, epoch, loss and metrics."""

        def report(fraction: float, **point: Any) -> None:
            metrics = {k: float(v) for k, v in point.items() if k.startswith("val_")}
            ctx.report(
                progress=start + span * max(0.0, min(1.0, float(fraction))),
                epoch=int(point["epoch"]) if "epoch" in point else None,
                step=int(point["step"]) if "step" in point else None,
                total_steps=int(point["total_steps"]) if "total_steps" in point else None,
                loss=float(point["loss"]) if point.get("loss") is not None else None,
                metrics=metrics or None,
            )

        return report


@register
class CoOccurrenceKind(RecsKind):
    name = "cooccurrence"
    label = "Co-occurrence (customers also bought)"
    algorithm_path = "ai.recs.algorithms.cooccurrence.CoOccurrence"
    # Measured on held-out purchases, then refitted on all of them (cheap): every basket counts.
    default_options = {"since_days": 0, "refit_all": True, "neighbours": 100}
    # The shared item space in which serving re-ranks lists for diversity (ai.recs.diversify).
    item_space_dims = 32
    option_ranges = {"since_days": (0, 36500), "neighbours": (1, 1000)}


@register
class SASRecKind(RecsKind):
    name = "sasrec"
    label = "Sequential transformer (SASRec)"
    algorithm_path = "ai.recs.algorithms.sasrec.SASRec"
    kind_options = {**RecsKind.kind_options, "warm_start": True}
    # One fit, until validation NDCG stops improving (patience epochs without a better one), no refit;
    # `make demo` trains it in the background. max_seconds > 0 caps the fit (the run says so).
    # warm_start: start from the live version's weights where they fit (shared products by id, new ones
    # fresh), so that a nightly retrain on a little more data takes a few epochs.
    default_options = {
        "warm_start": True,
        "since_days": 0,
        "refit_all": False,
        "refit_tuned": False,
        "epochs": 200,
        "patience": 3,
        "max_len": 50,
        "hidden": 64,
        "layers": 2,
        "heads": 1,
        "dropout": 0.5,
        "lr": 0.003,  # faster than the algorithm's 0.001 within the demo's few epochs (measured: docs/benchmarks.md)
        "lr_decay": 0.5,  # the learning rate's factor after an epoch that does not improve validation
        "batch_size": 128,
        "max_seconds": 0.0,
        "seed": 0,
        "loss": "auto",
        "negatives": 1024,
        "sampling": "popularity",
        "text_init": False,
        "every_window": True,  # long histories train on every window, not only the latest
        # max_len, hidden and dropout chosen from the data (ai.recs.autoconfig: rules, then a validation
        # search over a few candidates within search_share of max_seconds, or search_epochs each without
        # a cap); the choice is stored with the version. Naming one of the three turns it off.
        "auto": True,
        "search_share": 0.34,
        "search_epochs": 4,
    }
    option_ranges = {
        "since_days": (0, 36500), "epochs": (1, 500), "patience": (1, 100), "max_len": (2, 500), "hidden": (8, 1024),
        "layers": (1, 12), "heads": (1, 16), "dropout": (0.0, 0.9), "lr": (1e-6, 1.0), "lr_decay": (0.05, 1.0), "batch_size": (1, 4096),
        "max_seconds": (0.0, 24 * 3600.0), "seed": (0, 2**31 - 1), "negatives": (1, 100_000),
        "search_share": (0.05, 0.9), "search_epochs": (1, 50),
    }

    def algorithm_extras(self, ctx: TrainingContext) -> dict[str, Any]:
        """The live version as a warm start (with the option on and a live version to read)."""
        from ai.recs.algorithms.sasrec import WarmStart
        from ai.registry import ArtifactError, live_version, read_artifacts

        if not ctx.options.get("warm_start", True):
            return {}
        version = live_version(self.name)
        if version is None:
            return {}
        try:
            tensors, config = read_artifacts(version)
        except ArtifactError as exc:
            ctx.log(f"{self.name}: cold start, the live version cannot be read ({exc})")
            return {}
        if not isinstance(config.get("algorithm"), dict) or "item_keys" not in config:
            return {}
        if (version.metrics or {}).get("refit_all"):
            # Its weights have seen the held-out purchases: the new version's measurement would flatter it.
            ctx.log(f"{self.name}: cold start, the live version was refitted on the held-out purchases")
            return {}
        label = f"live v{version.version}"
        return {"warm_start": WarmStart(tensors=tensors, config=config["algorithm"], item_keys=config["item_keys"], label=label)}

    def clean_options(self, options: dict[str, Any]) -> dict[str, Any]:
        from ai.recs.algorithms.sasrec import LOSSES, SAMPLINGS
        from ai.recs.autoconfig import CHOSEN

        cleaned = super().clean_options(options)
        if "auto" not in (options or {}) and set(options or {}) & set(CHOSEN):
            cleaned["auto"] = False  # a window, width or dropout given by hand is used as given
        if cleaned["loss"] not in LOSSES:
            raise ValueError(f"Option 'loss' must be one of {', '.join(LOSSES)}, not {cleaned['loss']!r}")
        if cleaned["sampling"] not in SAMPLINGS:
            raise ValueError(f"Option 'sampling' must be one of {', '.join(SAMPLINGS)}, not {cleaned['sampling']!r}")
        return cleaned


@register
class ContentKind(RecsKind):
    name = "content"
    label = "Content similarity (product text)"
    algorithm_path = "ai.recs.algorithms.content.ContentSimilarity"
    measure_optional = True
    precompute_neighbours = 64
    # The embeddings do not depend on behaviour: no refit needed.
    default_options = {"since_days": 0, "refit_all": False, "recent": 5, "batch_size": 128}
    option_ranges = {"since_days": (0, 36500), "recent": (1, 100), "batch_size": (1, 4096)}
    all_products = True
    with_texts = True
