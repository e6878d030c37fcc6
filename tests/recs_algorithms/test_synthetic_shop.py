"""The 50k-item benchmark file's generator (bench/synthetic_shop_interactions.py): deterministic, and in
the interactions format `ai_eval recs` reads."""
from __future__ import annotations

from collections import Counter

from ai.recs.io import read_interactions
from bench.synthetic_shop_interactions import MIN_HISTORY, generate, write


def test_the_same_seed_gives_the_same_shoppers_and_another_seed_others():
    first = generate(300, 800, seed=0)
    assert first == generate(300, 800, seed=0)
    assert first != generate(300, 800, seed=1)


def test_histories_have_no_repeats_and_at_least_the_minimum_length():
    histories = generate(300, 800, seed=0)
    assert len(histories) == 300
    assert all(len(h) >= MIN_HISTORY and len(set(h)) == len(h) for h in histories)
    assert all(0 <= item < 800 for h in histories for item in h)


def test_shoppers_return_to_their_favourite_categories():
    # 100 products per category with 800 items: most of a shopper's products come from 3 categories.
    histories = generate(300, 800, seed=0)
    shares = [sum(c for _, c in Counter(i // 100 for i in h).most_common(3)) / len(h) for h in histories]
    assert sum(shares) / len(shares) > 0.8


def test_the_written_file_reads_back_as_the_same_histories(tmp_path):
    histories = generate(50, 400, seed=0)
    summary = write(histories, tmp_path / "shop.csv.gz", seed=0)
    data = read_interactions(tmp_path / "shop.csv.gz")
    assert summary["interactions"] == sum(len(h) for h in histories) == len(data.users)
    assert data.n_users == 50 and data.n_items == summary["products with interactions"]
    read_back = {data.user_keys[u]: [data.item_keys[i] for i in h] for u, h in enumerate(data.histories())}
    assert [len(read_back[f"U{u:06d}"]) for u in range(50)] == [len(h) for h in histories]
