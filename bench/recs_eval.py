"""Offline evaluation of the recommenders on an interactions file (same as `manage.py ai_eval recs`).

    python -m bench.recs_eval /work/shared/data/amazon-beauty/interactions.csv.gz [--models sasrec,als]
        [--items items.csv] [--k 10] [--json] [--device cpu] [--option sasrec.max_seconds=900]

Progress (per epoch of SASRec: loss, validation NDCG@10, elapsed seconds) goes to stderr, results to stdout.
"""
from __future__ import annotations

import argparse
import json
import sys

from ai.recs.evaluation import (
    NotEnoughData,
    check_options,
    format_table,
    parse_model_options,
    resolve_models,
    run_evaluation,
)
from ai.recs.io import InteractionsFileError, read_interactions
from bench.als_reference import ImplicitALS

# Reference models evaluated beside the served ones (never served themselves).
EXTRA = {"als": ImplicitALS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("interactions")
    parser.add_argument("--items", help="item_id,text CSV: product text for the content model")
    parser.add_argument("--models", help="comma-separated; default: every model the data supports")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--device", default=None)
    parser.add_argument("--no-refit", action="store_true", help="rank with the tuned model (no refit)")
    parser.add_argument("--option", action="append", default=[], help="model.name=value, repeatable")
    args = parser.parse_args(argv)
    try:
        data = read_interactions(args.interactions, items_path=args.items)
        names = resolve_models(data, args.models.split(",") if args.models else None, device=args.device, extra=EXTRA)
        options = parse_model_options(args.option)
        check_options(options, names, device=args.device, extra=EXTRA)
    except (InteractionsFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def progress(name: str, numbers: dict) -> None:
        print(f"[{name}] " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in numbers.items()),
              file=sys.stderr, flush=True)

    print(f"{data.n_users} users, {data.n_items} items, {len(data.users)} interactions", file=sys.stderr)
    rows = []
    try:
        for result in run_evaluation(
            data, names, k=args.k, device=args.device, options=options, progress=progress, refit=not args.no_refit,
            extra=EXTRA,
        ):
            row = result.as_row()
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                print(f"[{row['model']}] done: {row}", file=sys.stderr, flush=True)
    except NotEnoughData as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.json:
        print(format_table(rows, args.k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
