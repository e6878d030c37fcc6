"""Offline evaluation of recommenders: leave-one-out by time (`ai.recs.split`), full ranking over
every item (`ai.recs.metrics`).

A model that tunes itself (early stopping) is first fitted without the validation and test targets and
watches the validation targets; it reports what it learned through `tuned_params()`, and a fresh model
with those parameters is then refitted on everything but the test targets (or, without a refit, the
tuned model itself ranks). `fit_and_measure` is that procedure; the training kinds call it too, so the
metrics stored with a version are measured exactly as `ai_eval recs` measures.

Every row also reports HR@k and NDCG@k over the test cases whose target item has fewer than
`metrics.RARE_BELOW` (5) interactions in the final fit's data (everything but the test targets), and how
many such cases there are (`hr@10_rare`, `ndcg@10_rare`, `rare_users`): the same cases for every model.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ai.recs.autoconfig import CHOSEN as AUTO_CHOSEN
from ai.recs.base import Interactions, ProgressFn, Recommender
from ai.recs.diversify import Diversifier
from ai.recs.metrics import RankingMetrics, Scorer, evaluate_scores, item_space, rank_metrics, rare_item_mask
from ai.recs.split import LeaveOneOut, NotEnoughData, leave_one_out, subset
from ai.recs.taste import DEFAULT_LONG_TERM, Blend, LongShort, tune_long_term

__all__ = [
    "EvalResult", "LeaveOneOut", "Measured", "NotEnoughData", "evaluate", "evaluate_scores", "fit_and_measure",
    "leave_one_out", "model_factories", "parse_model_options", "rank_metrics", "resolve_models", "run_evaluation", "subset",
]

ModelFactory = Callable[..., Recommender]


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
    diversity: float | None = None
    epoch_s: float | None = None
    hr_rare: float | None = None
    ndcg_rare: float | None = None
    rare_users: int | None = None

    def as_row(self) -> dict[str, Any]:
        k = self.k
        return {
            "model": self.model,
            f"hr@{k}": round(float(self.hr), 4),
            f"ndcg@{k}": round(float(self.ndcg), 4),
            f"hr@{k}_rare": None if self.hr_rare is None else round(float(self.hr_rare), 4),
            f"ndcg@{k}_rare": None if self.ndcg_rare is None else round(float(self.ndcg_rare), 4),
            "rare_users": self.rare_users,
            f"coverage@{k}": round(float(self.coverage), 4),
            f"diversity@{k}": None if self.diversity is None else round(float(self.diversity), 4),
            "fit_s": round(float(self.fit_s), 1),
            "tune_s": round(float(self.tune_s), 1),
            "epoch_s": None if self.epoch_s is None else round(float(self.epoch_s), 2),
            "users": self.users,
            "params": self.params,
        }


@dataclass
class Measured:
    """A fitted model and what it scored on the test targets."""

    model: Recommender
    metrics: RankingMetrics
    tuned: dict[str, Any]
    fit_s: float
    tune_s: float
    # Long-term taste tuned on the validation targets (`taste.tune_long_term`), for models that tune.
    long_term: dict[str, Any] | None = None


def epoch_seconds(model: Recommender) -> float | None:
    """Mean wall seconds per training epoch, for models that train in epochs (None otherwise)."""
    history = getattr(model, "history", None) or []
    epochs = [p for p in history if "epoch_s" in p]
    if not epochs:
        return None
    return float(np.mean([p["epoch_s"] for p in epochs]))


def fit_and_measure(
    factory: ModelFactory,
    split: LeaveOneOut,
    n_items: int,
    *,
    k: int = 10,
    refit: bool = True,
    tune_progress: ProgressFn | None = None,
    fit_progress: ProgressFn | None = None,
    item_vectors: np.ndarray | None = None,
) -> Measured:
    """Tune (if the model tunes itself), refit on everything but the test targets, rank, measure.

    `refit=False` ranks with the tuned model itself (its input histories then include the validation
    item it was not trained on), as the SASRec paper does: half the training time for tuning models.
    """
    tuned: dict[str, Any] = {}
    long_term: dict[str, Any] | None = None
    tune_s = 0.0
    model = factory()
    tunes = getattr(model, "uses_validation", False)
    if tunes:
        started = time.perf_counter()
        model.fit(split.train, valid_targets=split.valid_targets, progress=tune_progress)
        tune_s = time.perf_counter() - started
        tuned = model.tuned_params()  # type: ignore[attr-defined]  # every model that tunes (uses_validation) has it
        long_term = tune_long_term(model, split.train.histories(), split.valid_targets, k=k)
        if refit and tune_progress is not None:
            # The tuned model's own test figures (cheap), reported before the refit starts.
            before = evaluate_scores(model, split.fit_data.histories(), split.test_targets, n_items, k=k)
            tune_progress(1.0, tuned_model_ndcg=float(before.ndcg), tuned_model_hr=float(before.hr), tune_s=tune_s)
        if refit:
            model = factory(**tuned)
    fit_s = tune_s  # without a refit, the tuning fit is the fit
    if refit or not tunes:
        started = time.perf_counter()
        model.fit(split.fit_data, progress=fit_progress)
        fit_s = time.perf_counter() - started
    metrics = evaluate_scores(
        model, split.fit_data.histories(), split.test_targets, n_items, k=k, item_vectors=item_vectors,
        rare_items=rare_item_mask(split.fit_data.items, n_items),
    )
    return Measured(model=model, metrics=metrics, tuned=tuned, fit_s=fit_s, tune_s=tune_s, long_term=long_term)


def evaluate(
    name: str,
    factory: ModelFactory,
    data: Interactions,
    *,
    k: int = 10,
    split: LeaveOneOut | None = None,
    progress: ProgressFn | None = None,
    refit: bool = True,
    item_vectors: np.ndarray | None = None,
) -> EvalResult:
    """`fit_and_measure` on one split, as a result row."""
    split = split or leave_one_out(data)
    measured = fit_and_measure(
        factory, split, data.n_items, k=k, refit=refit, tune_progress=progress, fit_progress=progress,
        item_vectors=item_vectors,
    )
    return _row(name, measured, k)


def _row(name: str, measured: Measured, k: int) -> EvalResult:
    metrics = measured.metrics
    params = dict(measured.tuned)
    summary = getattr(measured.model, "training_summary", None)
    if callable(summary):  # how the final model trained (e.g. SASRec: which loss, why it stopped)
        params.update(summary())
    if measured.long_term is not None:
        params["long_term"] = measured.long_term["weight"]
        params["long_term_ndcg"] = measured.long_term["ndcg"]
    return EvalResult(
        model=name,
        hr=metrics.hr,
        ndcg=metrics.ndcg,
        coverage=metrics.coverage,
        fit_s=measured.fit_s,
        tune_s=measured.tune_s,
        users=metrics.users,
        k=k,
        params=params,
        diversity=metrics.diversity,
        epoch_s=epoch_seconds(measured.model),
        hr_rare=metrics.hr_rare,
        ndcg_rare=metrics.ndcg_rare,
        rare_users=metrics.rare_users,
    )


def _scored_row(
    name: str, scorer: Scorer, split: LeaveOneOut, n_items: int, k: int, vectors: np.ndarray,
    diversifier: Diversifier | None, params: dict[str, Any],
) -> EvalResult:
    """A row for an already fitted scorer (a blend, a re-ranked list): no fitting, only ranking."""
    metrics = evaluate_scores(
        scorer, split.fit_data.histories(), split.test_targets, n_items, k=k, item_vectors=vectors,
        diversifier=diversifier, rare_items=rare_item_mask(split.fit_data.items, n_items),
    )
    return EvalResult(
        model=name, hr=metrics.hr, ndcg=metrics.ndcg, coverage=metrics.coverage, fit_s=0.0, tune_s=0.0,
        users=metrics.users, k=k, params=params, diversity=metrics.diversity,
        hr_rare=metrics.hr_rare, ndcg_rare=metrics.ndcg_rare, rare_users=metrics.rare_users,
    )


def parse_weights(text: str, what: str) -> list[float]:
    """`0.1,0.2` as weights in 0..1 (a readable ValueError otherwise)."""
    try:
        weights = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{what} must be numbers separated by commas, not {text!r}") from None
    if not weights or any(not 0.0 <= w <= 1.0 for w in weights):
        raise ValueError(f"{what} must be numbers from 0 to 1, not {text!r}")
    return weights


def parse_blend(text: str) -> dict[str, float]:
    """`sasrec=0.6,cooccurrence=0.4` as {model: weight} (a readable ValueError otherwise)."""
    blend: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or not name.strip() or weight <= 0:
            raise ValueError(f"--blend must look like sasrec=0.6,cooccurrence=0.4, not {text!r}")
        blend[name.strip()] = weight
    return blend


def parse_model_options(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """`model.name=value` pairs (`--option sasrec.max_len=200`); values parsed as JSON when they can be
    (numbers, true/false), else kept as strings."""
    import json

    options: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        model, dot, name = key.strip().partition(".")
        if not sep or not dot or not model or not name:
            raise ValueError(f"option {pair!r} must look like model.name=value")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        options.setdefault(model, {})[name] = parsed
    return options


def _popularity(**kw) -> Recommender:
    from ai.recs.algorithms.popularity import Popularity

    return Popularity(**kw)


def _cooccurrence(**kw) -> Recommender:
    from ai.recs.algorithms.cooccurrence import CoOccurrence

    return CoOccurrence(**kw)


def _sasrec(device: str | None, **kw) -> Recommender:
    from ai.recs.algorithms.sasrec import SASRec

    return SASRec(device=device, **kw)


def _content(device: str | None, **kw) -> Recommender:
    from ai.recs.algorithms.content import ContentSimilarity

    return ContentSimilarity(device=device, **kw)


def model_factories(
    *,
    device: str | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    extra: dict[str, Callable[..., Recommender]] | None = None,
) -> dict[str, ModelFactory]:
    """Every model `ai_eval recs` knows, by name: the served classes, plus `extra` ones (reference
    models such as bench's ALS). `options[name]` are constructor arguments for that model
    (e.g. {"sasrec": {"max_seconds": 900}}). SASRec chooses its configuration from the data (`auto`)
    unless the options set `auto` or one of the parameters it would choose (max_len, hidden, dropout)."""
    options = dict(options or {})
    sasrec = options.get("sasrec", {})
    if "auto" not in sasrec and not set(sasrec) & set(AUTO_CHOSEN):
        # The sequential model's window, width and dropout follow the data unless one of them is given.
        options["sasrec"] = {"auto": True, **sasrec}

    def bind(name: str, make: Callable[..., Recommender]) -> ModelFactory:
        return lambda **kw: make(**{**options.get(name, {}), **kw})

    makers: dict[str, Callable[..., Recommender]] = {
        "popularity": _popularity,
        "cooccurrence": _cooccurrence,
        "sasrec": lambda **kw: _sasrec(device, **kw),
        "content": lambda **kw: _content(device, **kw),
        **(extra or {}),
    }
    return {name: bind(name, make) for name, make in makers.items()}


def _has_text(data: Interactions) -> bool:
    return bool(data.item_texts and any(data.item_texts))


def resolve_models(
    data: Interactions, names: list[str] | None, *, device: str | None = None, extra: dict | None = None
) -> list[str]:
    """Validate requested model names (None: every model the data supports)."""
    known = model_factories(device=device, extra=extra)
    if not names:
        return [n for n in known if n != "content" or _has_text(data)]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)} (known: {', '.join(known)})")
    if "content" in names and not _has_text(data):
        raise ValueError("the content model needs product text: pass an items file (item_id,text)")
    return list(names)


def default_models(data: Interactions, *, device: str | None = None) -> list[str]:
    """The models this data supports: the content model only when the items have text."""
    return resolve_models(data, None, device=device)


def check_options(options: dict[str, dict[str, Any]], names: list[str], *, device: str | None = None,
                  extra: dict | None = None) -> None:
    """Refuse options for models not evaluated, and option names a model's constructor does not take."""
    for model, values in options.items():
        if model not in names:
            raise ValueError(f"--option names model {model!r}, which is not evaluated (models: {', '.join(names)})")
        probe = model_factories(device=device, extra=extra)[model]
        try:
            probe(**values)
        except TypeError as exc:
            raise ValueError(f"bad option for {model}: {exc}") from None


def run_evaluation(
    data: Interactions,
    names: list[str],
    *,
    k: int = 10,
    device: str | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
    refit: bool = True,
    extra: dict[str, Callable[..., Recommender]] | None = None,
    blend: dict[str, float] | None = None,
    diversity: list[float] | None = None,
):
    """Evaluate each named model on one shared split; yields an EvalResult per model. Diversity@k is
    measured for all of them in one item space (a truncated SVD of the training interactions).

    `blend` ({model: weight}, models among `names`) adds a row for the placement-style blend of the
    fitted models, each mixing recent and long-term taste with the weight it tuned (`taste`).
    `diversity` (MMR weights) adds, for every row, the same lists re-ranked by MMR in that item space
    (`name+mmr0.2`): what serving does with a placement's diversity weight.
    """
    split = leave_one_out(data)
    factories = model_factories(device=device, options=options, extra=extra)
    vectors = item_space(split.fit_data.users, split.fit_data.items, data.n_users, data.n_items)
    diversity = [w for w in (diversity or []) if w > 0]
    fitted: dict[str, Measured] = {}
    for name in names:
        report = None
        if progress is not None:
            report = lambda fraction, _name=name, **numbers: progress(_name, numbers)  # noqa: E731
        measured = fit_and_measure(
            factories[name], split, data.n_items, k=k, refit=refit, tune_progress=report, fit_progress=report,
            item_vectors=vectors,
        )
        fitted[name] = measured
        yield _row(name, measured, k)
        for weight in diversity:
            yield _scored_row(f"{name}+mmr{weight:g}", measured.model, split, data.n_items, k, vectors,
                              Diversifier(vectors, weight), {"diversity": weight})
    if blend:
        missing = [name for name in blend if name not in fitted]
        if missing:
            raise ValueError(f"--blend names model(s) not evaluated: {', '.join(missing)}")
        # Each model's tuned long-term weight, or serving's default when it tuned none.
        long_terms: dict[str, float] = {}
        for name in blend:
            tuned_weight = (fitted[name].long_term or {}).get("weight")
            long_terms[name] = DEFAULT_LONG_TERM if tuned_weight is None else float(tuned_weight)
        parts = [(weight, LongShort(fitted[name].model, long_terms[name])) for name, weight in blend.items()]
        mixed = Blend(parts)
        params: dict[str, Any] = {"blend": blend, "long_term": long_terms}
        yield _scored_row("blend", mixed, split, data.n_items, k, vectors, None, params)
        for weight in diversity:
            yield _scored_row(f"blend+mmr{weight:g}", mixed, split, data.n_items, k, vectors,
                              Diversifier(vectors, weight), {**params, "diversity": weight})


def format_table(rows: list[dict[str, Any]], k: int = 10) -> str:
    columns = ["model", f"hr@{k}", f"ndcg@{k}", f"coverage@{k}", f"diversity@{k}", f"hr@{k}_rare", f"ndcg@{k}_rare",
               "rare_users", "fit_s", "tune_s", "epoch_s"]
    widths = [max(len(c), *(len(str(r.get(c))) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False))]
    lines += ["  ".join(str(r.get(c)).ljust(w) for c, w in zip(columns, widths, strict=False)) for r in rows]
    return "\n".join(lines)
