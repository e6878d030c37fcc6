"""The recommendation kinds train end-to-end through the pipeline (eager Celery) and serve."""
from __future__ import annotations

import numpy as np
import pytest

from ai import registry
from ai.kinds import get_kind
from ai.kinds.recs import ServedRecommender
from ai.models import ModelVersion, TrainingRun
from ai.recs.service import recommend
from ai.training import start_run

from .conftest import add_events


@pytest.fixture
def baskets(products):
    """40 shoppers who buy in pairs: products 2k and 2k+1 always together, then the next two products."""
    for shopper in range(40):
        pair = shopper % 6
        bought = [products[(2 * pair + n) % 12].pk for n in range(4)]
        add_events(f"s{shopper}", bought, event_type="purchase")


def train(kind: str, options: dict, capture) -> TrainingRun:
    with capture(execute=True):
        run = start_run(kind, options, via="test")
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + run.traceback
    return run


def test_cooccurrence_trains_measures_registers_and_serves_also_bought(
    settings, products, baskets, django_capture_on_commit_callbacks
):
    settings.AI_MAX_PER_CATEGORY = 0
    run = train("cooccurrence", {}, django_capture_on_commit_callbacks)
    assert run.progress == 100
    # Each shopper's held-out item is the partner of one they bought: always in the top 10, mostly first.
    assert run.metrics["hr@10"] == 1.0
    assert run.metrics["ndcg@10"] == pytest.approx(0.75088, abs=1e-5)
    assert run.metrics["eval_users"] == 40
    assert run.data_summary["interactions"] == 160
    version = ModelVersion.objects.get(training_run=run)
    assert version.status == ModelVersion.Status.LIVE  # the first version of a kind goes live

    model = registry.live_model("cooccurrence")
    assert isinstance(model, ServedRecommender)
    assert sorted(model.item_keys.tolist()) == sorted(p.pk for p in products)
    # The diversity item space (ai.recs.diversify): unit vectors, one per item (12 items: an 11-d SVD).
    assert model.item_vectors is not None and model.item_vectors.shape == (12, 11)
    assert np.allclose(np.linalg.norm(model.item_vectors, axis=1), 1.0, atol=1e-5)
    # Baskets of 4: no history outgrows the serving window, so no long-term weight was tuned or stored.
    assert model.long_term is None and "serving" not in model.config

    recs = recommend(placement="product_also_bought", product_id=products[0].pk, visitor_id="new", limit=3)
    assert recs.model_version_id == version.pk
    assert recs.sources == ["cooccurrence"]
    assert [item.id for item in recs.items][0] == products[1].pk  # always bought together


@pytest.mark.slow
def test_sasrec_trains_with_progress_per_epoch_and_serves_home(products, baskets, django_capture_on_commit_callbacks):
    options = {"epochs": 4, "patience": 2, "hidden": 16, "layers": 1, "max_len": 10, "dropout": 0.0, "lr": 0.01}
    run = train("sasrec", options, django_capture_on_commit_callbacks)
    epochs = [point.get("epoch") for point in run.loss_curve if point.get("epoch")]
    assert epochs and max(epochs) >= 1 and all(point["loss"] > 0 for point in run.loss_curve if "loss" in point)
    assert "ndcg@10" in run.metrics and "hr@10" in run.metrics
    version = ModelVersion.objects.get(training_run=run)
    _, config = registry.read_artifacts(version)
    assert len(config["item_keys"]) == 12
    assert set(config) == {"algorithm", "item_keys", "options"}  # no shopper histories: read at serve time

    add_events("me", [products[0].pk], event_type="purchase")
    recs = recommend(placement="home", visitor_id="me", limit=4)
    assert recs.model_version_id == version.pk and recs.title == "Recommended for you"
    assert recs.sources[0] == "sasrec"
    assert len(recs.items) == 4 and products[0].pk not in [item.id for item in recs.items]


@pytest.mark.slow
def test_content_trains_from_product_text_and_serves_similar(categories, django_capture_on_commit_callbacks):
    from tests.factories import ProductFactory

    texts = [
        ("Beeswax pillar candle", "A tall candle of pure beeswax, honey scent."),
        ("Soy tealight candles", "Twelve small soy wax candles for lanterns."),
        ("Ceramic coffee mug", "A stoneware mug for coffee or tea."),
        ("Enamel camping mug", "A light enamel cup for coffee outdoors."),
        ("Jute shopping bag", "A sturdy bag of jute for the market."),
        ("Canvas tote bag", "A cotton canvas tote bag with long handles."),
    ]
    made = [ProductFactory(title=t, description=d, category=categories[i // 2]) for i, (t, d) in enumerate(texts)]
    run = train("content", {}, django_capture_on_commit_callbacks)  # no shoppers yet: trained, unmeasured
    assert run.metrics == {}  # nothing to measure without shoppers: no made-up score
    served = registry.live_model("content")
    assert served.neighbours.shape == (6, 5)  # every product's neighbours, precomputed at training time
    recs = recommend(placement="product_similar", product_id=made[0].pk, visitor_id="v", limit=2)
    assert recs.sources == ["content"]
    assert recs.items[0].id == made[1].pk  # the other candle


@pytest.mark.parametrize(
    "kind, options, message",
    [
        ("sasrec", {"epochs": "many"}, "must be a int"),
        ("cooccurrence", {"layers": 2}, "Unknown option 'layers'"),
        ("content", {"refit_all": "maybe"}, "true or false"),
    ],
)
def test_bad_options_are_refused_before_anything_is_stored(db, kind, options, message):
    with pytest.raises(ValueError, match=message):
        start_run(kind, options)
    assert not TrainingRun.objects.exists()


def test_too_little_behaviour_fails_the_run_with_a_reason(products, django_capture_on_commit_callbacks):
    add_events("only-one", [products[0].pk, products[1].pk])
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run("cooccurrence", {})
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert "Not enough behaviour" in run.error
    assert not ModelVersion.objects.exists()


@pytest.mark.slow
def test_a_run_stopped_by_its_time_cap_says_so_in_its_status_detail_and_in_ai_train(products, baskets):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "ai_train", "sasrec", "--wait", *[f"--option={o}" for o in (
            "epochs=5", "patience=5", "max_seconds=0.001", "hidden=8", "layers=1", "max_len=5", "dropout=0")],
        stdout=out, stderr=StringIO(),
    )
    run = TrainingRun.objects.get(kind="sasrec")
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.status_detail == "stopped at max_seconds after 1 of 5 epochs"
    assert "  stopped at max_seconds after 1 of 5 epochs\n" in out.getvalue()


def test_kind_defaults_train_sasrec_until_validation_stops_improving():
    defaults = get_kind("sasrec").default_options
    assert defaults["max_seconds"] == 0  # no time cap: early stopping decides
    assert defaults["epochs"] >= 100 and 1 <= defaults["patience"] <= 5
    assert defaults["refit_tuned"] is False  # one fit only
    assert get_kind("cooccurrence").default_options["refit_all"] is True


@pytest.mark.slow
def test_sasrec_kind_chooses_its_configuration_from_the_data_and_stores_it(products, baskets, django_capture_on_commit_callbacks):
    from ai.recs import autoconfig

    run = train("sasrec", {"epochs": 3, "patience": 1, "layers": 1, "search_epochs": 1}, django_capture_on_commit_callbacks)
    version = ModelVersion.objects.get(training_run=run)
    _, config = registry.read_artifacts(version)
    search = config["algorithm"]["config_search"]
    assert search["decided_by"] == "validation search"
    assert len(search["trials"]) >= 2 and all(trial["epochs"] == 1 for trial in search["trials"])
    # 40 shoppers with 4 purchases each (3 in the tuning data): the shortest window, strong dropout.
    assert search["rule"] == {"max_len": 20, "hidden": 64, "dropout": 0.5}
    chosen = search["chosen"]
    assert {key: config["algorithm"][key] for key in autoconfig.CHOSEN} == chosen
    assert {key: config["options"][key] for key in autoconfig.CHOSEN} == chosen  # the version's options say so
    assert "sasrec: configuration {" in run.log_tail

    by_hand = train("sasrec", {"epochs": 1, "layers": 1, "max_len": 10}, django_capture_on_commit_callbacks)
    _, config = registry.read_artifacts(ModelVersion.objects.get(training_run=by_hand))
    assert config["algorithm"]["config_search"] is None and config["algorithm"]["max_len"] == 10
    assert config["options"]["auto"] is False
