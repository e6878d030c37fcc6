"""The `chat_intent` kind: the support chat's intent model, trained on the chat intents label set.

It reuses the `text_classifier` machinery (ai.textclf on all-MiniLM-L6-v2, the label set's gold labels,
the evaluation report) and adds what the chat needs: a threshold on an in-scope score (see
ai.chat.intent_model) chosen on the validation split (the set's `val` items, else a stratified 15 % of the training items) below which the bot asks
instead of answering. Registered under the one name `chat_intent`, promoted and rolled back like every kind.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .base import ModelKind, TrainedModel, TrainingContext, register
from .text_classifier import TRAIN_LAYER_CHOICES, TextClassifierKind

VAL_SHARE = 0.15


@register
class ChatIntentKind(TextClassifierKind):
    name = "chat_intent"
    label = "Support chat intents (MiniLM + head, with a threshold for hand-off)"
    primary_metric = "macro_f1"
    default_options = {
        "label_set": "",  # empty: AI_CHAT_INTENTS_LABEL_SET
        "train_layers": "all",  # the whole encoder fine-tunes; see ai.chat.intent_model
        "epochs": 0,
        "max_length": 32,
        "batch_size": 32,
        "lr": 0.0,
        "warmup": 0.06,  # share of the steps with a rising learning rate
        # What the threshold applies to: "energy" (log-sum-exp of the in-scope logits) or "max_prob".
        "oos_score": "energy",
        # The threshold meets both targets on the val split with the largest weaker margin (see
        # ai.chat.intent_model.choose_threshold); in_scope_accuracy 0: out-of-scope recall alone.
        "oos_recall": 0.9,
        "in_scope_accuracy": 0.95,
        "test_size": 0.2,
        "seed": 0,
    }
    option_ranges = {
        "epochs": (0, 200), "max_length": (8, 256), "batch_size": (1, 1024), "lr": (0.0, 0.99),
        "warmup": (0.0, 0.5), "oos_recall": (0.0, 1.0), "in_scope_accuracy": (0.0, 1.0), "test_size": (0.05, 0.5), "seed": (0, 2**31 - 1),
    }

    def slugs(self, options: dict[str, Any]) -> list[str]:
        from ai.conf import ai_settings

        return [options.get("label_set") or ai_settings.CHAT_INTENTS_LABEL_SET]

    def registry_name(self, options: dict[str, Any]) -> str:
        return self.name

    def clean_options(self, options: dict[str, Any]) -> dict[str, Any]:
        from ai.annotation.data import gold_data
        from ai.chat import intent_model
        from ai.models import LabelSet

        cleaned = ModelKind.clean_options(self, options)
        cleaned["train_layers"] = str(cleaned["train_layers"]).strip().lower()
        if cleaned["train_layers"] not in TRAIN_LAYER_CHOICES:
            raise ValueError("Option 'train_layers' must be 0 to 6 or 'all'")
        cleaned["oos_score"] = str(cleaned["oos_score"]).strip().lower()
        if cleaned["oos_score"] not in intent_model.OOS_SCORES:
            raise ValueError(f"Option 'oos_score' must be one of {', '.join(intent_model.OOS_SCORES)}")
        slug = self.slugs(cleaned)[0]
        label_set = LabelSet.objects.filter(slug=slug).first()
        if label_set is None:
            raise ValueError(f"No label set {slug!r}: run `manage.py ai_seed_intents` or create it in the admin")
        gold_data(label_set)  # NotEnoughLabels (a ValueError) says what is missing
        cleaned["label_set"] = slug
        return cleaned

    def _splits(self, data, options) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from ai.textclf.evaluation import split_indices

        train, test = self._split(data, options)
        val = np.array([i for i in train if data.splits[i] == "val"], dtype=int)
        oos = data.label_names.index("oos") if "oos" in data.label_names else -1
        # The set's own val items, when they hold in-scope examples (seeded out-of-scope rows alone cannot
        # choose a threshold); else a stratified share of the training items as well.
        if len(val) and any(data.targets[i] != oos for i in val):
            return np.array([i for i in train if data.splits[i] != "val"], dtype=int), val, test
        inner_train, inner_val = split_indices([data.targets[i] for i in train], test_size=VAL_SHARE, seed=options["seed"])
        return train[inner_train], train[inner_val], test

    def train(self, ctx: TrainingContext) -> TrainedModel:
        from ai.annotation.data import gold_data
        from ai.chat import intent_model
        from ai.models import LabelSet
        from ai.textclf.evaluation import evaluation_report

        options = ctx.options
        slug = self.slugs(options)[0]
        label_set = LabelSet.objects.get(slug=slug)
        data = gold_data(label_set)
        train, val, test = self._splits(data, options)
        ctx.log(f"{slug}: {len(data.texts)} gold items, {len(data.label_names)} intents; "
                f"{len(train)} train, {len(val)} val, {len(test)} test")
        ctx.report(progress=2.0)
        texts = data.texts

        def progress(fraction: float, **point: Any) -> None:
            if "loss" in point:
                ctx.report(progress=5 + 85 * fraction, **point)

        with ctx.autocast():
            model = intent_model.fit(
                [texts[i] for i in train], [data.targets[i] for i in train], data.label_names,
                val_texts=[texts[i] for i in val], val_targets=[data.targets[i] for i in val],
                options=options, device=str(ctx.device), progress=progress,
            )
        proba, scores = model.proba_and_scores([texts[i] for i in test])
        truth = [data.targets[i] for i in test]
        report = evaluation_report(truth, proba, data.label_names)
        at_threshold = intent_model.threshold_metrics(proba, truth, data.label_names, model.threshold, scores)
        p50, p95 = intent_model.latency_ms(model, [texts[i] for i in test], repeat=30)
        report.update(n_train=len(train), n_val=len(val), fit_s=model.info["fit_s"], at_threshold=at_threshold,
                      p50_ms=round(p50, 2), p95_ms=round(p95, 2))
        metrics = {key: report[key] for key in ("accuracy", "macro_f1", "macro_precision", "macro_recall", "macro_auc")
                   if report[key] is not None}
        metrics.update({f"{key}@threshold": value for key, value in at_threshold.items()
                        if value is not None and key != "threshold"})
        metrics.update(threshold=model.threshold, fit_s=model.info["fit_s"], p95_ms=round(p95, 2))
        ctx.log(f"held-out accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}, "
                f"threshold {model.threshold:.2f} on {model.score}")
        ctx.report(progress=100)
        tensors, config = model.classifier.to_state()
        config.update(threshold=model.threshold, oos_score=model.score, label_set={"id": label_set.pk, "slug": slug, "label_ids": data.label_ids})
        summary = {"items": len(texts), "train": len(train), "val": len(val), "test": len(test), "label_set": slug}
        return TrainedModel(tensors=tensors, config=config, metrics=metrics, data_summary=summary,
                            report={"label_sets": {slug: report}})

    def load(self, tensors: dict[str, torch.Tensor], config: dict[str, Any]):
        from ai.chat.intent_model import ServedIntentModel
        from ai.textclf import TextClassifier

        classifier = TextClassifier.from_state(tensors, config)
        task = config["tasks"][0]
        # Versions trained before the energy score have no "oos_score": their threshold is on the top probability.
        return ServedIntentModel(classifier, list(task["labels"]), float(config.get("threshold", 0.5)), task["name"],
                                 score=str(config.get("oos_score", "max_prob")))
