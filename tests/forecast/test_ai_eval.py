"""`manage.py ai_eval forecast` on a tiny generated sales file."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from .conftest import generated_sales

MODELS = "autoets,seasonal_naive,window_average,croston_sba"


@pytest.fixture
def sales_file(tmp_path):
    path = tmp_path / "sales.csv"
    rows = ["date,item_id,quantity"] + [f"{day.isoformat()},{item},{qty:g}" for day, item, qty in generated_sales(weeks=14)]
    path.write_text("\n".join(rows) + "\n")
    return path


def run(*args) -> str:
    out = io.StringIO()
    call_command("ai_eval", "forecast", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.slow
def test_json_rows_per_model_with_the_documented_keys(sales_file):
    lines = run("--sales", str(sales_file), "--horizon", "7", "--models", MODELS, "--top", "2", "--json").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["model"] for row in rows] == [*MODELS.split(","), "auto"]
    for row in rows:
        assert {"model", "rmsse", "mase", "bias", "fit_s", "service_level"} <= set(row)
        assert row["products"] == 2  # --top 2: 'weekly' and 'lumpy' sold most units
    by_model = {row["model"]: row for row in rows}
    assert by_model["seasonal_naive"]["service_level"] is None
    # 'weekly' repeats exactly: the seasonal naive and the choice both score it perfectly.
    assert by_model["auto"]["rmsse"] <= by_model["autoets"]["rmsse"]
    assert 0.0 <= by_model["auto"]["service_level"] <= 1.0
    assert by_model["auto"]["lead_time_open_days"] == 6  # 7 days hold one Saturday


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cutoff", "1st of May"], "is not a date"),
        (["--lead-time", "-1"], "lead time"),
        (["--service-level", "1.5"], "strictly between 0 and 1"),
        (["--service-level", "0"], "strictly between 0 and 1"),
        (["--horizon", "60"], "needs at least"),
        (["--horizon", "0"], "at least 1 day"),
        (["--cutoff", "2030-01-01"], "must fall inside the data"),
        (["--models", "prophet"], "Unknown forecasting model"),
        (["--models", "window_average"], "baselines need the model"),
        (["--top", "0"], "--top must be at least 1"),
    ],
)
def test_bad_arguments_are_clear_errors(sales_file, args, message):
    with pytest.raises(CommandError, match=message):
        run("--sales", str(sales_file), *args)


def test_a_file_with_one_day_of_data_is_refused(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("date,item_id,quantity\n2024-01-01,A,3\n2024-01-01,B,1\n")
    with pytest.raises(CommandError, match="Only one day of data"):
        run("--sales", str(path))


def test_missing_sales_argument_and_file(tmp_path):
    with pytest.raises(CommandError, match="needs --sales"):
        run()
    with pytest.raises(CommandError, match="No such sales file"):
        run("--sales", str(tmp_path / "absent.csv"))
