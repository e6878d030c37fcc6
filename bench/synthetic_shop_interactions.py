"""A deterministic synthetic shop with a large catalogue (50k+ products), for `ai_eval recs` at scale.

    python -m bench.synthetic_shop_interactions [--users 40000] [--items 64000] [--seed 0]
        [--out var/bench/synthetic-shop-interactions.csv.gz]

No public file in ../shared/data has 50,000 products (Amazon Beauty: 12,101; Online Retail: 3,657), so
this generator makes one, with a fixed seed (the same file on every machine: `tests/recs_algorithms/
test_synthetic_shop.py`). Its shoppers are built to have the two kinds of structure the real files show,
at the catalogue size the sampled softmax is for:

- **Categories and taste (co-purchase).** Products sit in `categories` categories of equal size; category
  popularity follows a Zipf law (exponent `CATEGORY_ZIPF`), product popularity inside a category another
  (`ITEM_ZIPF`), so there is a head and a long tail as in real shops. Each shopper has 3 favourite
  categories (drawn by popularity, mixed with Dirichlet(1) weights) and visits them in most sessions:
  what item-to-item co-occurrence and matrix factorisation (ALS) learn.
- **Sessions and order (sequence).** A history is a series of sessions. A session starts in a favourite
  category (`TASTE_SESSION`, else any category by popularity) at a product drawn by popularity; it goes
  on with probability `CONTINUE`, each next product being one of the current product's 3 *follow-ups*
  (`FOLLOW`: a directed relation fixed per product, as accessories follow a main product: two in its
  category, one in a "complementary" category fixed per category, chosen with probabilities 0.5/0.3/0.2),
  else another product of the same category by popularity (`SAME_CATEGORY`: browsing, order-free), else a
  product of another favourite category. The follow-up relation is directed (B follows A, A rarely
  follows B): what a sequential model can use and a symmetric co-occurrence count cannot tell apart.
- One interaction per shopper and product (a product already bought is not bought again, as in the
  Beauty and Online Retail files), at least `MIN_HISTORY` per shopper, history lengths log-normal
  (median about 10, a long tail: a few hundred). The timestamp is the position in the shopper's history.

Every constant is fixed here and was fixed before any model was run on the file. The file is not a
substitute for real data: the mix of the two structures is a choice (about half the within-session steps
are follow-ups), and it says nothing of how real shoppers at this scale behave. What it does test fairly
is cost and plumbing at 50k+ items (every model sees the same split of the same file) and whether each
model can learn the structure that is there.
"""
from __future__ import annotations

import argparse
import bisect
import csv
import gzip
import itertools
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

CATEGORY_ZIPF = 0.6
ITEM_ZIPF = 0.9
TASTE_CATEGORIES = 3
TASTE_SESSION = 0.85  # a session starts in one of the shopper's favourite categories
CONTINUE = 0.75  # probability that a session goes on after each product
FOLLOW = 0.55  # next product: one of the current product's follow-ups ...
SAME_CATEGORY = 0.35  # ... else another of its category (by popularity); else another favourite category
FOLLOW_WEIGHTS = (0.5, 0.3, 0.2)  # the three follow-ups: two in the category, one in its complement
MIN_HISTORY = 3
LENGTH_MEDIAN, LENGTH_SIGMA, LENGTH_MAX = 10.0, 0.8, 400
RETRIES = 5  # draws tried before a step that only finds products the shopper already has is skipped


class _Picker:
    """Draw an index in proportion to fixed weights (cumulative sums and bisection)."""

    def __init__(self, weights: list[float]):
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> int:
        return bisect.bisect_right(self.cumulative, rng.random() * self.total)


def _zipf(n: int, exponent: float) -> list[float]:
    return [1.0 / (rank**exponent) for rank in range(1, n + 1)]


@dataclass(frozen=True)
class _Shop:
    size: int  # products per category; product = category * size + rank inside the category
    pick_category: _Picker
    pick_in_category: _Picker
    follow: list[tuple[int, int, int]]  # each product's three follow-ups
    pick_follow: _Picker


def _catalogue(rng: random.Random, items: int, categories: int) -> _Shop:
    """Categories, popularity and each product's follow-ups (fixed for the whole file)."""
    size = items // categories
    if size < 4:
        raise ValueError("need at least 4 products per category")
    pick_in_category = _Picker(_zipf(size, ITEM_ZIPF))
    complement = [rng.randrange(categories) for _ in range(categories)]
    follow: list[tuple[int, int, int]] = []
    for item in range(size * categories):
        category = item // size
        first = second = item
        while first == item:
            first = category * size + pick_in_category(rng)
        while second in (item, first):
            second = category * size + pick_in_category(rng)
        follow.append((first, second, complement[category] * size + pick_in_category(rng)))
    return _Shop(size, _Picker(_zipf(categories, CATEGORY_ZIPF)), pick_in_category, follow,
                 _Picker(list(FOLLOW_WEIGHTS)))


def _next_product(rng: random.Random, shop: _Shop, current: int, taste: list[int], pick_taste: _Picker) -> int:
    """One draw: a new session's first product (current < 0 or the session ends), else the next one."""
    size, pick_in_category = shop.size, shop.pick_in_category
    if current < 0 or rng.random() > CONTINUE:  # a new session
        home = taste[pick_taste(rng)] if rng.random() < TASTE_SESSION else shop.pick_category(rng)
        return home * size + pick_in_category(rng)
    step = rng.random()
    if step < FOLLOW:
        return shop.follow[current][shop.pick_follow(rng)]
    if step < FOLLOW + SAME_CATEGORY:
        return (current // size) * size + pick_in_category(rng)
    return taste[pick_taste(rng)] * size + pick_in_category(rng)


def _shopper(rng: random.Random, shop: _Shop) -> list[int]:
    """One shopper's history: favourite categories, a length, then sessions until it is that long."""
    taste: list[int] = []
    while len(taste) < TASTE_CATEGORIES:
        category = shop.pick_category(rng)
        if category not in taste:
            taste.append(category)
    pick_taste = _Picker([rng.expovariate(1.0) for _ in taste])  # Dirichlet(1) weights
    length = int(min(LENGTH_MAX, max(MIN_HISTORY, round(math.exp(rng.gauss(math.log(LENGTH_MEDIAN), LENGTH_SIGMA))))))
    history: list[int] = []
    bought: set[int] = set()
    current = -1
    attempts = 0
    while len(history) < length and attempts < length * 4:
        attempts += 1
        for _retry in range(RETRIES):
            candidate = _next_product(rng, shop, current, taste, pick_taste)
            if candidate not in bought:
                break
        else:
            current = -1  # nothing new found from here: the session ends
            continue
        history.append(candidate)
        bought.add(candidate)
        current = candidate
    return history


def generate(users: int, items: int, *, categories: int | None = None, seed: int = 0) -> list[list[int]]:
    """Each shopper's history (product indices, oldest first)."""
    rng = random.Random(seed)
    shop = _catalogue(rng, items, categories or max(1, items // 100))
    return [_shopper(rng, shop) for _ in range(users)]


def write(histories: list[list[int]], out: Path, *, seed: int = 0) -> dict[str, int]:
    """The interactions file; product keys are shuffled codes (P000123), so ids carry no category."""
    n_items = 1 + max((item for history in histories for item in history), default=-1)
    codes = list(range(n_items))
    random.Random(seed + 1).shuffle(codes)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "timestamp"])
        for user, history in enumerate(histories):
            for position, item in enumerate(history):
                writer.writerow([f"U{user:06d}", f"P{codes[item]:06d}", position])
                rows += 1
    used = {item for history in histories for item in history}
    return {"users": len(histories), "products with interactions": len(used), "interactions": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=40_000)
    parser.add_argument("--items", type=int, default=64_000, help="catalogue size (products with no buyer are not in the file)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("var/bench/synthetic-shop-interactions.csv.gz"))
    args = parser.parse_args(argv)
    histories = generate(args.users, args.items, seed=args.seed)
    summary = write(histories, args.out, seed=args.seed)
    for key, value in summary.items():
        print(f"{key}: {value:,}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
