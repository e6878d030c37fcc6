"""Draw `ai_eval active-learning --json` output as an SVG: test accuracy against labels used, per strategy.

    .venv/bin/python manage.py ai_eval active-learning --data ../shared/data/intents/clinc150.csv \\
        --seed-per-label 5 --batch 750 --rounds 4 --json > al.jsonl
    .venv/bin/python -m bench.active_learning_chart al.jsonl docs/active_learning_clinc150.svg
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ai.charts import line_chart_svg


def main(source: str, target: str) -> None:
    rows = [json.loads(line) for line in Path(source).read_text().splitlines() if line.startswith("{")]
    series = []
    for strategy in ("uncertainty", "random"):
        points = [(row["labels"], row["accuracy"]) for row in rows if row["strategy"] == strategy]
        if points:
            series.append((strategy, points))
    full = [row for row in rows if row["strategy"] == "full"]
    if full and series:
        xs = [x for _, points in series for x, _ in points]
        series.append((f"all {full[0]['labels']} labels", [(min(xs), full[0]["accuracy"]), (max(xs), full[0]["accuracy"])]))
    svg = line_chart_svg(series, width=640, height=300, title="Active learning: test accuracy against labels used",
                         x_label="labelled training texts", y_label="test accuracy")
    Path(target).write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + str(svg) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
