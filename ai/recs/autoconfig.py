"""Configuration that follows the data, for the sequential model (SASRec).

One set of defaults fitted one data shape only: a 50-item window and dropout 0.5 suit short, sparse
histories (Amazon Beauty: 8.9 interactions per shopper, 16 per item), not long, dense ones (Online
Retail's purchases: 61 per shopper, 73 per item; MovieLens-1M: 165 per shopper, 290 per item, where a
200-item window and dropout 0.2 do better). So:

- `profile(data)`: what the rules look at: shoppers, items, interactions, the distribution of history
  lengths, density (interactions / (shoppers x items)) and interactions per item.
- `rule_config(profile)`: the starting point. The history window covers `WINDOW_QUANTILE` of the
  histories (rounded up to a multiple of 10, within `WINDOW_RANGE`): a longer window only pads most
  batches, a shorter one cuts off most of a long history. Dropout falls from `DROPOUT_SPARSE` to
  `DROPOUT_DENSE` as the interactions per item (how many training examples each item vector gets) go
  from `SPARSE_PER_ITEM` to `DENSE_PER_ITEM` (log scale): sparse data needs the regularisation, dense
  data pays for it in underfitting. Width: `WIDTH_SMALL` below `WIDE_ABOVE` interactions, else
  `WIDTH_LARGE` (more data carries more parameters).
- `candidates(rule)`: the rule and a few neighbours (less and more dropout, the median history as the
  window). `SASRec(auto=True)` trains each for a few epochs on the training data, early-stopped on
  the validation targets within its share of the time budget, keeps the best by validation NDCG@10,
  and goes on training that one; what was tried and chosen is stored with the version.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ai.recs.base import Interactions

WINDOW_QUANTILE = 0.9
WINDOW_RANGE = (20, 200)
DROPOUT_SPARSE, DROPOUT_DENSE = 0.5, 0.2
SPARSE_PER_ITEM, DENSE_PER_ITEM = 20.0, 200.0
WIDTH_SMALL, WIDTH_LARGE = 64, 128
WIDE_ABOVE = 1_000_000
# The parameters the search chooses (everything else stays as given).
CHOSEN = ("max_len", "hidden", "dropout")


@dataclass(frozen=True)
class Profile:
    users: int  # shoppers with at least one interaction
    items: int
    interactions: int
    length_mean: float
    length_p50: float
    length_p90: float
    length_max: int
    density: float  # interactions / (users x items)
    per_item: float  # interactions per item

    def as_dict(self) -> dict[str, Any]:
        return {key: (round(value, 6) if isinstance(value, float) else value) for key, value in asdict(self).items()}


def profile(data: Interactions) -> Profile:
    lengths = np.bincount(data.users, minlength=data.n_users)
    lengths = lengths[lengths > 0]
    if len(lengths) == 0:
        lengths = np.zeros(1, dtype=np.int64)
    users, items, total = int((lengths > 0).sum()), int(data.n_items), int(len(data.items))
    return Profile(
        users=users,
        items=items,
        interactions=total,
        length_mean=float(lengths.mean()),
        length_p50=float(np.quantile(lengths, 0.5)),
        length_p90=float(np.quantile(lengths, WINDOW_QUANTILE)),
        length_max=int(lengths.max()),
        density=total / max(users * items, 1),
        per_item=total / max(items, 1),
    )


def _window(length: float) -> int:
    low, high = WINDOW_RANGE
    return int(min(high, max(low, 10 * math.ceil(length / 10))))


def rule_dropout(per_item: float) -> float:
    """DROPOUT_SPARSE at or below SPARSE_PER_ITEM interactions per item, DROPOUT_DENSE at or above
    DENSE_PER_ITEM, log-linear in between; rounded to 0.05."""
    if per_item <= SPARSE_PER_ITEM:
        return DROPOUT_SPARSE
    if per_item >= DENSE_PER_ITEM:
        return DROPOUT_DENSE
    share = math.log(per_item / SPARSE_PER_ITEM) / math.log(DENSE_PER_ITEM / SPARSE_PER_ITEM)
    return round(round((DROPOUT_SPARSE + share * (DROPOUT_DENSE - DROPOUT_SPARSE)) / 0.05) * 0.05, 2)


def rule_config(p: Profile) -> dict[str, Any]:
    """The configuration the rules give for data of this profile."""
    return {
        "max_len": _window(p.length_p90),
        "hidden": WIDTH_LARGE if p.interactions > WIDE_ABOVE else WIDTH_SMALL,
        "dropout": rule_dropout(p.per_item),
    }


def candidates(p: Profile, rule: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rule's configuration first, then its neighbours that differ from it: dropout 0.2 lower and
    0.2 higher (within 0.1..0.6), and the window of the median history."""
    rule = dict(rule or rule_config(p))
    out = [rule]

    def add(change: dict[str, Any]) -> None:
        candidate = {**rule, **change}
        if candidate not in out:
            out.append(candidate)

    add({"dropout": round(max(0.1, rule["dropout"] - 0.2), 2)})
    add({"dropout": round(min(0.6, rule["dropout"] + 0.2), 2)})
    add({"max_len": _window(p.length_p50)})
    return out
