"""Offline evaluations.

`manage.py ai_eval recs --interactions FILE [--items FILE] [--models LIST] [--option model.name=value]
[--blend sasrec=0.6,cooccurrence=0.4] [--diversity 0.1,0.2] [--k 10] [--json]`: the
recommenders on any interactions file (leave-one-out by time, full ranking; see ai.recs.evaluation),
a placement-style blend of them and their lists re-ranked for diversity (MMR).
Evaluates the same classes the training kinds train and serve.

`manage.py ai_eval forecast --sales FILE [--horizon 28] [--cutoff YYYY-MM-DD] [--top N] [--lead-time 7]
[--service-level 0.95] [--json]`: demand forecasts on a sales file (date,item_id,quantity; see
ai.forecast.evaluation).

`manage.py ai_eval active-learning --data FILE --seed-per-label N --batch B --rounds R
[--strategy uncertainty|random|both] [--json]`: the annotation workbench's active learning, simulated on
an intents-format file with the text_classifier's model (ai.textclf.active_learning).

`manage.py ai_eval intents --data FILE [--json] [--threshold auto|FLOAT] [--cv K]`: the support chat's
intent model against frozen MiniLM + logistic regression on an intents file (see ai.chat.evaluation).
"""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from ai.chat.evaluation import add_intents_arguments, run_intents
from ai.forecast.command import add_forecast_arguments, handle_forecast
from ai.recs.evaluation import (
    NotEnoughData,
    check_options,
    format_table,
    parse_blend,
    parse_model_options,
    parse_weights,
    resolve_models,
    run_evaluation,
)
from ai.recs.io import InteractionsFileError, read_interactions
from ai.recs.split import thin_items

from ._active_learning import add_active_learning_arguments, run_active_learning


class Command(BaseCommand):
    help = "Evaluate recommendation models offline on an interactions file (user_id,item_id,timestamp)."

    def add_arguments(self, parser):
        tasks = parser.add_subparsers(dest="task", required=True, metavar="task", parser_class=type(parser))
        parser = tasks.add_parser("recs", help="recommendations", called_from_command_line=getattr(parser, "called_from_command_line", None))
        active = tasks.add_parser(
            "active-learning", help="active learning on an intents file", called_from_command_line=getattr(parser, "called_from_command_line", None)
        )
        add_active_learning_arguments(active)
        intents = tasks.add_parser(
            "intents", help="the support chat's intent model on an intents file", called_from_command_line=getattr(parser, "called_from_command_line", None)
        )
        add_intents_arguments(intents)
        forecast = tasks.add_parser(
            "forecast", help="demand forecasts on a sales file", called_from_command_line=getattr(parser, "called_from_command_line", None)
        )
        add_forecast_arguments(forecast)
        parser.add_argument("--interactions", required=True, help="CSV or .csv.gz with user_id,item_id,timestamp")
        parser.add_argument("--items", help="CSV with item_id,text: product text for the content model")
        parser.add_argument("--models", help="comma-separated model names (default: all the data supports)")
        parser.add_argument(
            "--option", action="append", default=[], metavar="MODEL.NAME=VALUE",
            help="a model's constructor argument, e.g. sasrec.loss=sampled (repeatable)",
        )
        parser.add_argument(
            "--blend", metavar="MODEL=WEIGHT,...",
            help="also measure this blend of the evaluated models, as a placement mixes them "
                 "(e.g. sasrec=0.6,cooccurrence=0.4: \"Recommended for you\")",
        )
        parser.add_argument(
            "--diversity", metavar="W,...",
            help="also measure every list re-ranked by MMR with these diversity weights (0..1), e.g. 0.1,0.2,0.3",
        )
        parser.add_argument(
            "--thin-items", type=float, metavar="FRACTION",
            help="make a long tail from the file: this share of the items (seeded) keeps only its 2 earliest "
                 "training interactions, every test and validation target kept (measures ndcg@10_rare)",
        )
        parser.add_argument("--k", type=int, default=10, help="list length for HR/NDCG/coverage (default 10)")
        parser.add_argument("--json", action="store_true", help="one JSON object per model per line")
        parser.add_argument(
            "--no-refit", action="store_true", help="rank with the tuned model instead of refitting (faster)"
        )
        parser.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")

    def handle(self, *args, **options):
        if options["task"] == "active-learning":
            return run_active_learning(self, options)
        if options["task"] == "intents":
            return run_intents(self, options)
        if options["task"] == "forecast":
            return handle_forecast(self, options)
        return self.handle_recs(options)

    def _recs_inputs(self, options):
        """The interactions (thinned with --thin-items), the models, their options, the blend and the
        diversity weights; ValueError or InteractionsFileError on bad input."""
        requested = [m.strip() for m in options["models"].split(",") if m.strip()] if options["models"] else None
        data = read_interactions(options["interactions"], items_path=options["items"])
        if options["thin_items"] is not None:
            rows = len(data.users)
            data = thin_items(data, options["thin_items"])
            self.stderr.write(f"thinned {options['thin_items']:g} of the items: {rows - len(data.users)} interactions dropped")
        names = resolve_models(data, requested, device=options["device"])
        model_options = parse_model_options(options["option"])
        check_options(model_options, names, device=options["device"])
        blend = parse_blend(options["blend"]) if options["blend"] else None
        missing = [name for name in blend or {} if name not in names]
        if missing:
            raise ValueError(f"--blend names model(s) not evaluated: {', '.join(missing)} (models: {', '.join(names)})")
        diversity = parse_weights(options["diversity"], "--diversity") if options["diversity"] else None
        return data, names, model_options, blend, diversity

    def handle_recs(self, options):
        k = options["k"]
        if k < 1:
            raise CommandError("--k must be at least 1")
        try:
            data, names, model_options, blend, diversity = self._recs_inputs(options)
        except (InteractionsFileError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        verbose = options["verbosity"] >= 2 or not options["json"]

        def progress(name: str, numbers: dict) -> None:
            if verbose and ("epoch" in numbers or "trial" in numbers or "tuned_model_ndcg" in numbers):
                shown = " ".join(f"{key}={value}" for key, value in numbers.items())
                self.stderr.write(f"[{name}] {shown}")

        if verbose:
            self.stderr.write(f"{data.n_users} users, {data.n_items} items, {len(data.users)} interactions")
        rows = []
        try:
            for result in run_evaluation(
                data, names, k=k, device=options["device"], options=model_options, progress=progress,
                refit=not options["no_refit"], blend=blend, diversity=diversity,
            ):
                row = result.as_row()
                rows.append(row)
                if options["json"]:
                    self.stdout.write(json.dumps(row))
                    self.stdout.flush()
                elif verbose:
                    self.stderr.write(f"[{row['model']}] done in {row['fit_s']} s")
        except NotEnoughData as exc:
            raise CommandError(str(exc)) from None
        if not options["json"]:
            self.stdout.write(format_table(rows, k))
