"""CPU time of SASRec training steps, full softmax against the softmax over sampled negatives, by
catalogue size: where sampling starts to pay (`SAMPLED_ABOVE` in ai/recs/algorithms/sasrec.py).

    OMP_NUM_THREADS=1 python -m bench.sasrec_step_bench [--items 12000,54000] [--steps 20]

Batches of 128 histories of 50 items, 2 layers, 64 wide (the kind's defaults); CPU seconds per step
(process time, which a busy machine inflates less than wall time).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ai.recs.algorithms.sasrec import SASRec


def step_seconds(n_items: int, loss: str, steps: int, negatives: int = 256) -> float:
    model = SASRec(loss=loss, negatives=negatives, device="cpu", seed=0)
    model.n_items = n_items
    model.net = model._new_net()
    model.net.train()
    optimiser = torch.optim.Adam(model.net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.integers(1, n_items + 1, size=(128, 50)))
    y = torch.from_numpy(rng.integers(1, n_items + 1, size=(128, 50)))
    real = y > 0
    started = time.process_time()
    for _ in range(steps):
        batch_loss = model._batch_loss(x, y, real, generator)
        optimiser.zero_grad(set_to_none=True)
        batch_loss.backward()
        optimiser.step()
    return (time.process_time() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", default="3000,12000,54000")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for n_items in (int(n) for n in args.items.split(",")):
        full = step_seconds(n_items, "softmax", args.steps)
        sampled = step_seconds(n_items, "sampled", args.steps)
        print(f"{n_items} items: full {full:.3f} CPU s/step, sampled (256) {sampled:.3f} CPU s/step, "
              f"ratio {sampled / full:.2f}", flush=True)


if __name__ == "__main__":
    main()
