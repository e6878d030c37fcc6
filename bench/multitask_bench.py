"""Multi-task against one model per set: two label sets trained on one shared encoder (a head each) or apart.

    .venv/bin/python -m bench.multitask_bench --train-layers 2 --per-label 20

The two sets are the intents files in ../shared/data/intents: CLINC150 (in-scope labels; `--per-label`
training texts per label, the whole test split) and Bitext customer support (its train and test splits).
Both ways use ai.textclf.TextClassifier exactly as the `text_classifier` kind does (`label_sets=a,b` is
the multi-task run): MiniLM with its top `--train-layers` layers fine-tuned, the frozen layers computed
once. Prints, per set, test accuracy and macro F1 both ways, and the fit time and stored size of each.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from ai.textclf import ClassifierConfig, TaskSpec, TextClassifier
from ai.textclf.active_learning import read_intents
from ai.textclf.evaluation import evaluation_report

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "intents"


def load(name: str, path: Path, per_label: int, seed: int) -> dict:
    data = read_intents(path, exclude=["oos"])
    labels = sorted(set(data.labels))
    index = {label: i for i, label in enumerate(labels)}
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, split in enumerate(data.splits):
        if split == "train":
            by_label.setdefault(data.labels[i], []).append(i)
    train = sorted(i for rows in by_label.values() for i in (rng.sample(rows, per_label) if per_label and len(rows) > per_label else rows))
    test = [i for i, split in enumerate(data.splits) if split == "test"]
    return {
        "name": name, "labels": labels,
        "train_texts": [data.texts[i] for i in train], "train_targets": [index[data.labels[i]] for i in train],
        "test_texts": [data.texts[i] for i in test], "test_targets": [index[data.labels[i]] for i in test],
    }


def stored_mb(model: TextClassifier) -> float:
    tensors, _ = model.to_state()
    return sum(t.numel() * t.element_size() for t in tensors.values()) / 1e6


def fit(sets: list[dict], config: ClassifierConfig) -> tuple[TextClassifier, float]:
    model = TextClassifier({s["name"]: TaskSpec(s["labels"]) for s in sets}, config)
    started = time.monotonic()
    features = {s["name"]: model.features(s["train_texts"]) for s in sets}
    model.fit_features(features, {s["name"]: s["train_targets"] for s in sets})
    return model, time.monotonic() - started


def scores(model: TextClassifier, data: dict) -> dict[str, float]:
    report = evaluation_report(data["test_targets"], model.predict_proba(data["test_texts"], data["name"]), data["labels"])
    return {"accuracy": round(report["accuracy"], 4), "macro_f1": round(report["macro_f1"], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-layers", type=int, default=2)
    parser.add_argument("--per-label", type=int, default=20, help="CLINC150 training texts per label (0: all)")
    parser.add_argument("--epochs", type=int, default=0, help="0: the classifier's default")
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config = ClassifierConfig(train_layers=args.train_layers, epochs=args.epochs, max_length=args.max_length, seed=args.seed)
    sets = [load("clinc150", DATA / "clinc150.csv", args.per_label, args.seed), load("bitext", DATA / "bitext-support.csv", 0, args.seed)]
    for s in sets:
        print(f"{s['name']}: {len(s['labels'])} labels, {len(s['train_texts'])} train, {len(s['test_texts'])} test texts", flush=True)
    rows = []
    single_total, single_mb = 0.0, 0.0
    for s in sets:
        model, seconds = fit([s], config)
        single_total += seconds
        single_mb += stored_mb(model)
        rows.append({"way": "one model per set", "set": s["name"], **scores(model, s), "fit_s": round(seconds, 1)})
        print(json.dumps(rows[-1]), flush=True)
    model, seconds = fit(sets, config)
    for s in sets:
        rows.append({"way": "multi-task", "set": s["name"], **scores(model, s), "fit_s": round(seconds, 1)})
        print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({
        "per_set_fit_s": round(single_total, 1), "multi_task_fit_s": round(seconds, 1),
        "per_set_stored_mb": round(single_mb, 1), "multi_task_stored_mb": round(stored_mb(model), 1),
    }), flush=True)
    with open("/proc/loadavg") as handle:
        print("load average:", handle.read().strip())


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    main()
