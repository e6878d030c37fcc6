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
    lines = run("--interactions", str(interactions_file), "--models", "cooccurrence,als", "--json").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["model"] for r in rows] == ["cooccurrence", "als"]
    for row in rows:
        assert {"model", "hr@10", "ndcg@10", "coverage@10", "fit_s"} <= set(row)
        assert 0.0 <= row["ndcg@10"] <= row["hr@10"] <= 1.0
    assert rows[0]["hr@10"] == 1.0  # planted groups are found


def test_table_output_and_k(interactions_file):
    out = run("--interactions", str(interactions_file), "--models", "cooccurrence", "--k", "5")
    header, row = out.strip().splitlines()
    assert header.split()[:4] == ["model", "hr@5", "ndcg@5", "coverage@5"]
    assert row.startswith("cooccurrence")


def test_default_models_leave_content_out_without_text_and_add_the_als_reference(planted_baskets):
    names = default_models(planted_baskets)
    assert "content" not in names
    assert {"popularity", "cooccurrence", "sasrec", "als"} <= set(names)
    with_text = make_interactions([[0, 1], [1, 0]], n_items=2, texts=["a", "b"])
    assert "content" in default_models(with_text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interactions", "/nonexistent/file.csv"], "no such file"),
        (["--models", "nope"], "unknown model(s) nope"),
        (["--models", "content"], "needs product text"),
        (["--k", "0"], "--k must be at least 1"),
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
