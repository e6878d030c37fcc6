"""The `text_classifier` kind: MiniLM with a classification head, trained on label sets' gold labels.

One version per label set (registered as `text_classifier:<slug>`, promoted and rolled back per set);
`label_sets=a,b` trains one shared encoder with a head per set (registered as `text_classifier:a+b`).
Each version stores the evaluation report of ai.textclf.evaluation on a held-out split: the set's
`test` items when there are any, else a stratified 20 %.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from .base import ModelKind, TrainedModel, TrainingContext, register

TRAIN_LAYER_CHOICES = ("0", "1", "2", "3", "4", "5", "6", "all")


@register
class TextClassifierKind(ModelKind):
    name = "text_classifier"
    label = "Text classifier (MiniLM + head) on a label set's gold labels"
    primary_metric = "macro_f1"
    default_options = {
        # The label set's slug; or several, comma-separated, for one multi-task model.
        "label_set": "",
        "label_sets": "",
        # Encoder layers that learn: 0 (the head only, fastest), 1-6 (the top layers) or "all".
        "train_layers": "2",
        "epochs": 0,  # 0: 40 for the head only, 4 otherwise
        "max_length": 32,
        "batch_size": 32,
        "lr": 0.0,
        "test_size": 0.2,
        # k-fold cross-validation on the training split (0: none).
        "cv_folds": 0,
        "seed": 0,
    }
    # Checked by ModelKind.clean_options (lr 0 and epochs 0 mean "automatic").
    option_ranges = {
        "epochs": (0, 200), "max_length": (8, 256), "batch_size": (1, 1024), "lr": (0.0, 0.99),
        "test_size": (0.05, 0.5), "cv_folds": (0, 10), "seed": (0, 2**31 - 1),
    }

    def slugs(self, options: dict[str, Any]) -> list[str]:
        raw = ",".join(part for part in (options.get("label_set", ""), options.get("label_sets", "")) if part)
        slugs = [slug.strip() for slug in raw.split(",") if slug.strip()]
        return list(dict.fromkeys(slugs))

    def registry_name(self, options: dict[str, Any]) -> str:
        return f"{self.name}:{'+'.join(self.slugs(options))}"

    def clean_options(self, options: dict[str, Any]) -> dict[str, Any]:
        from ai.annotation.data import gold_data
        from ai.models import LabelSet

        cleaned = super().clean_options(options)
        cleaned["train_layers"] = str(cleaned["train_layers"]).strip().lower()
        if cleaned["train_layers"] not in TRAIN_LAYER_CHOICES:
            raise ValueError("Option 'train_layers' must be 0 to 6 or 'all'")
        for key, low, high in (("epochs", 0, 200), ("max_length", 8, 256), ("batch_size", 1, 1024), ("cv_folds", 0, 10)):
            if not low <= cleaned[key] <= high:
                raise ValueError(f"Option {key!r} must be between {low} and {high}")
        if cleaned["cv_folds"] == 1:
            raise ValueError("Option 'cv_folds' must be 0 (none) or at least 2")
        if not 0.05 <= cleaned["test_size"] <= 0.5:
            raise ValueError("Option 'test_size' must be between 0.05 and 0.5")
        if not 0 <= cleaned["lr"] < 1:
            raise ValueError("Option 'lr' must be 0 (automatic) or a small positive number")
        slugs = self.slugs(cleaned)
        if not slugs:
            raise ValueError("Name the label set to train on (option 'label_set')")
        found = {ls.slug: ls for ls in LabelSet.objects.filter(slug__in=slugs)}
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise ValueError(f"No label set {missing[0]!r}")
        for slug in slugs:
            gold_data(found[slug])  # NotEnoughLabels (a ValueError) says what is missing
        cleaned["label_set"], cleaned["label_sets"] = ("", ",".join(slugs)) if len(slugs) > 1 else (slugs[0], "")
        return cleaned

    def train(self, ctx: TrainingContext) -> TrainedModel:
        from ai.annotation.data import gold_data
        from ai.models import LabelSet
        from ai.textclf import ClassifierConfig, TaskSpec, TextClassifier
        from ai.textclf.evaluation import evaluation_report

        options = ctx.options
        slugs = self.slugs(options)
        sets = {ls.slug: ls for ls in LabelSet.objects.filter(slug__in=slugs)}
        data = {slug: gold_data(sets[slug]) for slug in slugs}
        config = ClassifierConfig(
            train_layers=options["train_layers"] if options["train_layers"] == "all" else int(options["train_layers"]),
            max_length=options["max_length"], epochs=options["epochs"], batch_size=options["batch_size"],
            lr=options["lr"], seed=options["seed"], device=str(ctx.device),
        )
        tasks = {slug: TaskSpec(d.label_names, d.multi_label) for slug, d in data.items()}
        model = TextClassifier(tasks, config)
        features, train_pos, test_pos = {}, {}, {}
        for number, (slug, d) in enumerate(data.items()):
            ctx.log(f"{slug}: {len(d.texts)} gold items, {len(d.label_names)} labels")
            features[slug] = model.features(
                d.texts, progress=lambda f, n=number: ctx.report(progress=20 * (n + f) / len(data))
            )
            train_pos[slug], test_pos[slug] = self._split(d, options)
            ctx.log(f"{slug}: {len(train_pos[slug])} to train, {len(test_pos[slug])} held out")
        cv = {}
        if options["cv_folds"]:
            cv = self._cross_validate(ctx, model, data, features, train_pos, options)

        def progress(fraction: float, **point: Any) -> None:
            if "loss" in point:
                ctx.report(progress=20 + 70 * fraction, **point)

        started = time.monotonic()
        with ctx.autocast():
            model.fit_features(
                {slug: features[slug].subset(train_pos[slug]) for slug in data},
                {slug: [data[slug].targets[i] for i in train_pos[slug]] for slug in data},
                progress=progress,
            )
        fit_s = time.monotonic() - started
        reports, metrics = {}, {}
        for slug, d in data.items():
            proba = model.predict_proba_features(features[slug].subset(test_pos[slug]), slug)
            truth = [d.targets[i] for i in test_pos[slug]]
            if d.multi_label:
                truth = [[1 if j in row else 0 for j in range(len(d.label_names))] for row in truth]
            report = evaluation_report(truth, proba, d.label_names, multi_label=d.multi_label)
            report.update(n_train=len(train_pos[slug]), fit_s=round(fit_s, 2), cv=cv.get(slug))
            reports[slug] = report
            prefix = "" if len(data) == 1 else f"{slug}/"
            for key in ("accuracy", "macro_f1", "macro_precision", "macro_recall", "macro_auc"):
                if report[key] is not None:
                    metrics[prefix + key] = report[key]
            if cv.get(slug):
                metrics[prefix + "cv_macro_f1_mean"] = cv[slug]["macro_f1_mean"]
            ctx.log(f"{slug}: held-out accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}")
        if len(data) > 1:
            metrics["macro_f1"] = float(np.mean([r["macro_f1"] for r in reports.values()]))
            metrics["accuracy"] = float(np.mean([r["accuracy"] for r in reports.values()]))
        metrics["fit_s"] = round(fit_s, 2)
        ctx.report(progress=100)
        tensors, model_config = model.to_state()
        model_config["label_sets"] = {slug: {"id": sets[slug].pk, "label_ids": d.label_ids} for slug, d in data.items()}
        summary = {slug: {"items": len(d.texts), "train": len(train_pos[slug]), "test": len(test_pos[slug])} for slug, d in data.items()}
        return TrainedModel(tensors=tensors, config=model_config, metrics=metrics, data_summary=summary, report={"label_sets": reports})

    @staticmethod
    def _split(d, options: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        from ai.textclf.evaluation import split_indices

        test = np.array([i for i, split in enumerate(d.splits) if split == "test"], dtype=int)
        if len(test) and len(test) < len(d.splits):
            return np.array([i for i, split in enumerate(d.splits) if split != "test"], dtype=int), test
        return split_indices(d.targets, test_size=options["test_size"], seed=options["seed"], multi_label=d.multi_label)

    @staticmethod
    def _cross_validate(ctx, model, data, features, train_pos, options) -> dict[str, Any]:
        from ai.textclf import TextClassifier
        from ai.textclf.evaluation import cross_validate

        results = {}
        for slug, d in data.items():
            positions = train_pos[slug]
            targets = [d.targets[i] for i in positions]
            encoded = [[1 if j in row else 0 for j in range(len(d.label_names))] for row in targets] if d.multi_label else targets

            def fit_and_predict(train, test, slug=slug, positions=positions, targets=targets):
                fold_model = TextClassifier({slug: model.tasks[slug]}, model.config)
                fold_model.fit_features({slug: features[slug].subset(positions[train])}, {slug: [targets[i] for i in train]})
                return fold_model.predict_proba_features(features[slug].subset(positions[test]), slug)

            results[slug] = cross_validate(
                encoded, fit_and_predict, d.label_names, folds=options["cv_folds"], seed=options["seed"], multi_label=d.multi_label
            )
            ctx.log(f"{slug}: {options['cv_folds']}-fold cross-validation done")
        return results

    def load(self, tensors: dict[str, torch.Tensor], config: dict[str, Any]):
        from ai.textclf import TextClassifier

        model = TextClassifier.from_state(tensors, config)
        model.label_sets = config.get("label_sets", {})
        return model
