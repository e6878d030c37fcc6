"""`ai_eval active-learning`: arguments and the run (see ai.textclf.active_learning)."""
from __future__ import annotations

import json

from django.core.management.base import CommandError

from ai.textclf import STRATEGIES as UNCERTAINTY_MEASURES
from ai.textclf import ClassifierConfig
from ai.textclf.active_learning import read_intents, simulate


def add_active_learning_arguments(parser) -> None:
    parser.add_argument("--data", required=True, help="intents CSV (text,label,split)")
    parser.add_argument("--seed-per-label", type=int, required=True, help="labelled examples per label to start from")
    parser.add_argument("--batch", type=int, required=True, help="texts labelled per round")
    parser.add_argument("--rounds", type=int, required=True, help="rounds after the seed round")
    parser.add_argument("--strategy", choices=["uncertainty", "random", "both"], default="both")
    parser.add_argument("--measure", choices=UNCERTAINTY_MEASURES, default="margin", help="uncertainty measure (default: margin)")
    parser.add_argument(
        "--diverse", type=int, default=10,
        help="pick a diverse batch: cluster the N x batch most uncertain texts into batch groups, one from each "
        "(default 10; 0: the batch most uncertain texts)",
    )
    parser.add_argument("--exclude-labels", default="oos", help="comma-separated labels to leave out (default: oos)")
    parser.add_argument("--train-layers", default="0", help="encoder layers that learn: 0 (head only), 1-6 or all")
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=0, help="0: the classifier's default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-full", action="store_true", help="skip the full-data reference fit")
    parser.add_argument("--json", action="store_true", help="one JSON object per round and strategy")


def run_active_learning(command, options) -> None:
    strategies = ["uncertainty", "random"] if options["strategy"] == "both" else [options["strategy"]]
    exclude = [label.strip() for label in options["exclude_labels"].split(",") if label.strip()]
    layers = options["train_layers"]
    try:
        config = ClassifierConfig(
            train_layers=layers if layers == "all" else int(layers), max_length=options["max_length"], epochs=options["epochs"],
            seed=options["seed"],
        )
        data = read_intents(options["data"], exclude=exclude)
        rows = simulate(
            data.texts, data.labels, data.splits, seed_per_label=options["seed_per_label"], batch=options["batch"],
            rounds=options["rounds"], strategies=strategies, uncertainty_strategy=options["measure"], diverse=options["diverse"], config=config,
            seed=options["seed"], full=not options["no_full"], log=command.stderr.write if options["verbosity"] >= 1 else None,
        )
        results = []
        for row in rows:
            results.append(row)
            if options["json"]:
                command.stdout.write(json.dumps(row))
                command.stdout.flush()
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if not options["json"]:
        command.stdout.write(f"{'strategy':<12} {'round':>5} {'labels':>7} {'accuracy':>9} {'macro_f1':>9} {'fit_s':>7}")
        for row in results:
            round_text = "-" if row["round"] is None else str(row["round"])
            command.stdout.write(
                f"{row['strategy']:<12} {round_text:>5} {row['labels']:>7} {row['accuracy']:>9.4f} {row['macro_f1']:>9.4f} {row['fit_s']:>7.2f}"
            )
