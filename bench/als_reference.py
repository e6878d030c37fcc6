"""ALS from `implicit`, the reference row of `python -m bench.recs_eval` (never served, so not in ai/).

    python -m bench.recs_eval FILE --models sasrec,cooccurrence,als
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from ai.recs.base import Recommender


class ImplicitALS(Recommender):
    """Reference only (not served): `implicit`'s ALS on the binarised user-item matrix.

    Defaults chosen on the amazon-beauty validation targets (factors 64..256, regularization 0.05..1,
    alpha 1..40; see docs/benchmarks.md). Users are folded in from their history at scoring time.
    """

    name: ClassVar[str] = "als"

    def __init__(
        self,
        *,
        factors: int = 256,
        regularization: float = 0.1,
        alpha: float = 20.0,
        iterations: int = 15,
        num_threads: int = 1,
        seed: int = 0,
    ):
        self.params = {"factors": factors, "regularization": regularization, "alpha": alpha, "iterations": iterations}
        self.num_threads = num_threads
        self.seed = seed
        self.user_factors = self.item_factors = None

    def fit(self, data, *, valid_targets=None, progress=None):
        import scipy.sparse as sp
        from implicit.cpu.als import AlternatingLeastSquares

        matrix = sp.csr_matrix(
            (np.ones(len(data.users), dtype=np.float32), (data.users, data.items)), shape=(data.n_users, data.n_items)
        )
        matrix.data[:] = 1.0  # duplicates summed by scipy: binarise
        from threadpoolctl import threadpool_limits

        params = {**self.params, "factors": min(self.params["factors"], max(data.n_items, 1))}  # no more than items
        with threadpool_limits(1, "blas"):  # implicit's own advice: its threads and BLAS's fight otherwise
            model = AlternatingLeastSquares(
                **params, num_threads=self.num_threads, random_state=self.seed, calculate_training_loss=False
            )
            model.fit(matrix, show_progress=False)
        self.item_factors = np.asarray(model.item_factors)
        self.regularization = self.params["regularization"]
        return self

    def score(self, histories):
        # Fold-in: the least-squares user vector for each history (as implicit's recalculate_user does).
        items = self.item_factors
        gram = items.T @ items + self.regularization * np.eye(items.shape[1], dtype=items.dtype)
        out = np.zeros((len(histories), items.shape[0]), dtype=np.float32)
        for row, history in enumerate(histories):
            if len(history):
                y = items[np.unique(history)]
                a = gram + (self.params["alpha"]) * (y.T @ y)
                b = (1.0 + self.params["alpha"]) * y.sum(axis=0)
                out[row] = items @ np.linalg.solve(a, b)
        return out

    def to_state(self):
        raise TypeError("the ALS reference row is not stored")

    @classmethod
    def from_state(cls, tensors, config):
        raise TypeError("the ALS reference row is not stored")


