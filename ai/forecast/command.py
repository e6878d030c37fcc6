"""The `forecast` task of `manage.py ai_eval` (arguments and output)."""
from __future__ import annotations

import json
import time
from datetime import date

from django.core.management.base import CommandError

from .evaluation import DEFAULT_MODELS, EvalSettings, format_table, run_evaluation
from .io import read_sales
from .models import parse_models
from .reorder import ReorderInputError
from .series import SeriesError

JSON_KEYS = ("model", "rmsse", "mase", "bias", "fit_s", "service_level")


def add_forecast_arguments(parser) -> None:
    group = parser.add_argument_group("forecast")
    group.add_argument("--sales", help="CSV or .csv.gz with date,item_id,quantity (and optionally price)")
    group.add_argument("--horizon", type=int, default=28, help="days to forecast and score (default 28)")
    group.add_argument("--cutoff", help="last day of training, YYYY-MM-DD (default: horizon days before the last date)")
    group.add_argument("--top", type=int, help="keep the N products with most revenue (units without prices) before the cutoff")
    group.add_argument("--lead-time", type=int, default=7, help="supplier lead time in days for the service level (default 7)")
    group.add_argument("--service-level", type=float, default=0.95, help="target service level of reorder points (default 0.95)")
    group.add_argument("--n-jobs", type=int, default=1, help="processes for per-product fits (default 1)")
    group.add_argument("--models", help="comma-separated models (default: every model but autoarima)")
    group.add_argument("--json", action="store_true", help="one JSON object per model per line")


def handle_forecast(command, options) -> None:
    if not options.get("sales"):
        raise CommandError("ai_eval forecast needs --sales FILE")
    cutoff = None
    if options.get("cutoff"):
        try:
            cutoff = date.fromisoformat(options["cutoff"])
        except ValueError:
            raise CommandError(f"--cutoff {options['cutoff']!r} is not a date (YYYY-MM-DD)") from None
    try:
        settings = EvalSettings(
            horizon_days=options["horizon"],
            cutoff=cutoff,
            top=options.get("top"),
            lead_time_days=options["lead_time"],
            service_level=options["service_level"],
            models=parse_models(options.get("models"), DEFAULT_MODELS),
            n_jobs=max(1, options.get("n_jobs") or 1),
        )
        settings.check()
        started = time.perf_counter()
        sales = read_sales(options["sales"])
        verbose = options["verbosity"] >= 2 or not options["json"]

        def progress(fraction: float, message: str) -> None:
            if verbose:
                command.stderr.write(f"[{fraction:4.0%}] {message}")

        result = run_evaluation(sales, settings, progress=progress)
    except (SeriesError, ReorderInputError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    if options["json"]:
        for row in result.rows:
            command.stdout.write(json.dumps({key: row[key] for key in JSON_KEYS} | {k: v for k, v in row.items() if k not in JSON_KEYS}))
    else:
        command.stdout.write(format_table(result))
        command.stdout.write(f"whole command: {time.perf_counter() - started:.1f} s")
