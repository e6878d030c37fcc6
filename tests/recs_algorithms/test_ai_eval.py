from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from ai.recs.evaluation import default_models, resolve_models

from .conftest import make_interactions


@pytest.fixture
def interactions_file(tmp_path, planted_baskets):
    path = tmp_path / "interactions.csv"
    lines = ["user_id,item_id,timestamp"]
    lines += [f"u{u},i{i},{t:g}" for u, i, t in zip(planted_baskets.users, planted_baskets.items, planted_baskets.timestamps, strict=False)]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args) -> str:
    out = io.StringIO()
    call_command("ai_eval", "recs", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_json_output_has_one_line_per_model_with_the_documented_keys(interactions_file):
    lines = run("--interactions", str(interactions_file), "--models", "cooccurrence,popularity", "--json").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["model"] for r in rows] == ["cooccurrence", "popularity"]
    for row in rows:
        assert {"model", "hr@10", "ndcg@10", "coverage@10", "diversity@10", "fit_s", "epoch_s"} <= set(row)
        assert 0.0 < row["diversity@10"] <= 2.0
    assert rows[0]["hr@10"] == 1.0  # planted groups are found
    assert rows[0]["ndcg@10"] > rows[1]["ndcg@10"]
    assert rows[0]["epoch_s"] is None  # co-occurrence does not train in epochs


def test_option_reaches_the_models_constructor_and_epoch_seconds_are_reported(interactions_file):
    lines = run(
        "--interactions", str(interactions_file), "--models", "sasrec", "--json", "--no-refit",
        "--option", "sasrec.epochs=2", "--option", "sasrec.hidden=8", "--option", "sasrec.heads=1",
    ).splitlines()
    row = json.loads(lines[0])
    assert row["epoch_s"] > 0
    assert row["params"]["epochs"] == 2


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("sasrec.epochs", "must look like model.name=value"),
        ("cooccurrence.nope=1", "bad option for cooccurrence"),
        ("sasrec.epochs=2", "not evaluated"),
    ],
)
def test_bad_options_are_readable_command_errors(interactions_file, option, message):
    with pytest.raises(CommandError, match=message):
        run("--interactions", str(interactions_file), "--models", "cooccurrence", "--option", option)


def test_the_als_reference_row_comes_from_bench(interactions_file, capsys):
    from bench.recs_eval import main

    assert main([str(interactions_file), "--models", "cooccurrence,als", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["model"] for r in rows] == ["cooccurrence", "als"]
    assert rows[1]["hr@10"] > 0.5  # ALS finds the planted groups too


def test_table_output_and_k(interactions_file):
    out = run("--interactions", str(interactions_file), "--models", "cooccurrence", "--k", "5")
    header, row = out.strip().splitlines()
    assert header.split()[:4] == ["model", "hr@5", "ndcg@5", "coverage@5"]
    assert row.startswith("cooccurrence")


def test_default_models_leave_content_out_without_text_and_serve_no_reference_model(planted_baskets):
    names = default_models(planted_baskets)
    assert names == ["popularity", "cooccurrence", "sasrec"]
    with_text = make_interactions([[0, 1], [1, 0]], n_items=2, texts=["a", "b"])
    assert "content" in default_models(with_text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interactions", "/nonexistent/file.csv"], "no such file"),
        (["--models", "nope"], "unknown model(s) nope"),
        (["--models", "content"], "needs product text"),
        (["--k", "0"], "--k must be at least 1"),
        (["--thin-items", "1.5"], "must be between 0 and 1, not 1.5"),
    ],
)
def test_bad_input_is_a_readable_command_error(interactions_file, args, message):
    if "--interactions" not in args:
        args = ["--interactions", str(interactions_file), *args]
    with pytest.raises(CommandError) as info:
        run(*args)
    assert message in str(info.value)


def test_too_little_data_is_a_readable_command_error(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("user_id,item_id,timestamp\na,x,1\nb,y,1\n")
    with pytest.raises(CommandError, match="too little data"):
        run("--interactions", str(path), "--models", "cooccurrence")


def test_resolve_models_keeps_the_requested_order(planted_baskets):
    assert resolve_models(planted_baskets, ["sasrec", "cooccurrence"]) == ["sasrec", "cooccurrence"]


def test_thinned_items_make_rare_test_cases(tmp_path):
    """A third of the items thinned to 2 training interactions: their test targets become rare cases."""
    import numpy as np

    rng = np.random.default_rng(0)
    path = tmp_path / "interactions.csv"
    rows = [f"u{u},i{i},{t}" for u in range(150) for t, i in enumerate(rng.integers(0, 100, size=12))]
    path.write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    plain = json.loads(run("--interactions", str(path), "--models", "cooccurrence", "--json"))
    thinned = json.loads(run("--interactions", str(path), "--models", "cooccurrence", "--json", "--thin-items", "0.33"))
    assert thinned["users"] == plain["users"]  # every test target kept
    assert plain["rare_users"] == 0 and thinned["rare_users"] >= 20
