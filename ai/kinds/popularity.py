"""The `popularity` kind: recency-decayed popularity overall and per category, from stored events."""
from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
import torch
from django.utils import timezone

from ai.recs.algorithms.popularity import Popularity

from .base import ModelKind, TrainedModel, TrainingContext, register

EVAL_K = 10
# Users per evaluation batch: about 20 batches (points of the loss curve), within these bounds.
EVAL_BATCH_MIN, EVAL_BATCH_MAX = 16, 1024


@register
class PopularityKind(ModelKind):
    name = "popularity"
    label = "Popularity (recency-decayed, overall and per category)"
    primary_metric = "ndcg@10"
    default_options = {
        # Each event's weight halves with every `half_life_days` of age; 0 turns decay off.
        "half_life_days": 30.0,
        # Only events of the last `days` days (0: all of them).
        "days": 0,
    }
    option_ranges = {"half_life_days": (0, 3650), "days": (0, 36500)}

    def train(self, ctx: TrainingContext) -> TrainedModel:
        from ai.recs.data import build_interactions, order_line_interactions, summarize
        from ai.recs.split import NotEnoughData, leave_one_out

        options = ctx.options
        since = timezone.now() - timedelta(days=options["days"]) if options["days"] else None
        ctx.log(f"reading events since {since:%Y-%m-%d %H:%M}" if since else "reading all events")
        data = build_interactions(since=since, progress=lambda f: ctx.report(progress=40 * f))
        summary = summarize(data)
        ctx.log(f"{summary['interactions']} interactions, {data.n_users} shoppers, {data.n_items} products")
        if len(data.items) == 0:
            # A shop that has just installed the plug-in: its order history says what sells.
            data = order_line_interactions(since=since)
            summary = {**summarize(data), "source": "order lines"}
            ctx.log(f"no events yet: {summary['interactions']} order lines of {data.n_items} products instead")
        if len(data.items) == 0:
            raise ValueError("No product events or orders to learn from yet: record views, basket additions or purchases first")

        metrics: dict[str, float] = {}
        try:
            split = leave_one_out(data)
        except NotEnoughData as exc:
            ctx.log(f"no held-out evaluation: {exc}")
        else:
            held_out = Popularity(half_life_days=options["half_life_days"]).fit(split.fit_data)
            metrics = self._evaluate(ctx, held_out, split.fit_data.histories(), split.test_targets)
            ctx.log(", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))

        model = Popularity(half_life_days=options["half_life_days"]).fit(data)
        ctx.report(progress=100)
        tensors, config = model.to_state()
        return TrainedModel(tensors=tensors, config=config, metrics=metrics, data_summary=summary)

    def _evaluate(
        self, ctx: TrainingContext, model: Popularity, histories: list[np.ndarray], targets: np.ndarray
    ) -> dict[str, float]:
        """Leave-last-out HR@10, NDCG@10, coverage@10, and the held-out cross-entropy as the loss curve.

        The loss is the mean negative log-likelihood of each shopper's held-out next product under the
        popularity distribution (add-one smoothed), accumulated batch by batch.
        """
        from ai.recs.metrics import rank_metrics

        users = np.flatnonzero(targets >= 0)
        batch_size = min(EVAL_BATCH_MAX, max(EVAL_BATCH_MIN, math.ceil(len(users) / 20)))
        probabilities = (model.scores_.astype(np.float64) + 1.0) / (model.scores_.sum() + model.n_items)
        total_batches = max(1, math.ceil(len(users) / batch_size))
        hits = dcg = nll = 0.0
        shown = np.zeros(model.n_items, dtype=bool)
        seen = 0
        for step, start in enumerate(range(0, len(users), batch_size), start=1):
            batch = users[start : start + batch_size]
            batch_histories = [histories[u] for u in batch]
            top, ranks = rank_metrics(model.score(batch_histories), batch_histories, targets[batch], EVAL_K)
            shown[top.ravel()] = True
            found = ranks >= 0
            hits += float(found.sum())
            dcg += float((1.0 / np.log2(ranks[found] + 2.0)).sum())
            nll += float(-np.log(probabilities[targets[batch]]).sum())
            seen += len(batch)
            ctx.report(
                progress=40 + 55 * step / total_batches,
                step=step,
                total_steps=total_batches,
                loss=nll / seen,
            )
        n = max(len(users), 1)
        return {
            "hr@10": hits / n,
            "ndcg@10": dcg / n,
            "coverage@10": float(shown.sum()) / max(model.n_items, 1),
            "heldout_nll": nll / n,
            "users_evaluated": float(len(users)),
        }

    def load(self, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> Popularity:
        return Popularity.from_state(tensors, config)
