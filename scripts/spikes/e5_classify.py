"""Spike: leave-events-out classification with e5 embeddings vs the current approach, on one subsample.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/spikes/e5_classify.py --emb /tmp/spike > /tmp/spike/classify.json

Needs ``e5_embed.py`` (embeddings of a prefix of a fixed random order of the training posts) and
``current_oof.py`` (held-out logits of the current approach trained on all the data). Every approach is
scored on the same rows -- the embedded subsample -- with the protocol of ``train_classifier.py --loeo``:
the events split in ``FOLDS`` folds (``folds_of``: an event shared by datasets is held out of all of them),
each fold predicted by a model trained on the others, then Platt scaling / temperature / F1 thresholds /
type offsets fitted on the held-out predictions (``fit_calibration``, ``fit_type_offset``), then
``groundspeed.evaluation.classify.score``. Approaches:

* ``current_full``: the current hashed-feature model trained on *all* the data of the other folds (its
  held-out logits restricted to the subsample) -- what the shipped approach does;
* ``current_sub``: the same model trained on the subsample only (the like-for-like comparison);
* ``e5_lr``: a plain (multinomial / partial-label) logistic regression on the 384-d e5 vectors, numpy only,
  same three heads and loss as ``train_classifier.gradient``, full-batch Adam, L2 ``--l2``;
* ``e5_plus_current``: the same regression on [e5 vector, the current model's held-out outputs (two head
  logits, log-softmax of the 11 type logits)] (stacking on out-of-fold outputs: the current model that
  produced a training row's outputs saw the test events, a mild optimism usual for OOF stacking).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import train_classifier as tc  # noqa: E402

from groundspeed.evaluation.classify import score  # noqa: E402

KEYS = {
    "crisislex-t26": ("informativeness_auc", "eyewitness_auc", "eyewitness_f1", "info_type_macro_f1"),
    "humaid": ("macro_f1",),
    "kawarith": ("macro_f1",),
    "trecis": ("first_party_auc", "first_party_f1"),
}


def train_dense(
    x: np.ndarray, targets: tc.Targets, l2: float, steps: int = 400, lr: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression (2 sigmoid heads + partial-label softmax over the types), full-batch Adam."""
    n, d = x.shape
    w = np.zeros((d, tc.K))
    b = np.zeros(tc.K)
    m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    total_weight = float(targets.weight.sum())
    for step in range(1, steps + 1):
        grad, _ = tc.gradient((x @ w + b).astype(np.float64), targets)
        g_w = x.T @ grad / total_weight + l2 * w
        g_b = grad.sum(axis=0) / total_weight
        for g, m, v, p in ((g_w, m_w, v_w, w), (g_b, m_b, v_b, b)):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w, b


def current_features(logits: np.ndarray) -> np.ndarray:
    heads = len(tc.HEADS)
    z = logits[:, heads:]
    z = z - z.max(axis=1, keepdims=True)
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return np.concatenate([logits[:, :heads], log_softmax], axis=1)


def evaluate(
    oof: np.ndarray, rows: np.ndarray, examples: list, posts: dict, targets: tc.Targets
) -> dict[str, dict[str, float | None]]:
    datasets = np.array([examples[i].dataset for i in rows])
    cal = tc.fit_calibration(oof, targets, datasets)
    sub_posts: dict[str, list] = {}
    offsets, offset = {}, 0
    for dataset, items in posts.items():
        offsets[dataset] = offset
        offset += len(items)
    for dataset in posts:
        sub_posts[dataset] = [posts[dataset][i - offsets[dataset]] for i in rows if examples[i].dataset == dataset]
    tc.fit_type_offset(oof, cal, sub_posts)
    probs = tc.calibrated(oof, cal)
    out: dict[str, dict[str, float | None]] = {}
    start = 0
    for dataset, items in sub_posts.items():
        block = np.arange(start, start + len(items))
        start += len(items)
        report = score(dataset, items, probs[block], cal["thresholds"])
        out[dataset] = {"n": report["n"], **{k: report.get(k) for k in KEYS[dataset]}}
    out["_calibration"] = {"thresholds": cal["thresholds"], "type_tau": cal.get("type_tau")}  # type: ignore[dict-item]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--emb", type=Path, default=Path("/tmp/spike"))
    parser.add_argument("--l2", default="0.0001,0.001,0.01")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N embedded posts")
    args = parser.parse_args()
    examples, posts = tc.load(args.data)
    order = np.load(args.emb / "order.npy")
    chunks = sorted(args.emb.glob("emb_*.npy"))
    emb = np.concatenate([np.load(p) for p in chunks]).astype(np.float64)
    if args.limit:
        emb = emb[: args.limit]
    prefix = order[: len(emb)]
    sort = np.argsort(prefix)  # example order = dataset order (needed by fit_type_offset)
    rows, emb = prefix[sort], emb[sort]
    targets_all = tc.Targets.of(examples)
    targets = targets_all.rows(rows)
    folds = tc.folds_of(examples)[rows]
    sub = [examples[i] for i in rows]
    report: dict[str, object] = {
        "n": len(rows),
        "per_dataset": {d: int(sum(e.dataset == d for e in sub)) for d in tc.DATASET_WEIGHT},
        "events": len({e.event for e in sub}),
    }
    results: dict[str, object] = {}

    oof_path = args.emb / "oof_current.npy"
    current = np.load(oof_path)[rows] if oof_path.is_file() else None
    if current is not None:
        results["current_full"] = evaluate(current, rows, examples, posts, targets)

    featuriser = tc.Featuriser()
    matrix = tc.design(featuriser, [e.as_input() for e in sub])
    oof = np.zeros((len(rows), tc.K))
    for fold in range(tc.FOLDS):
        tr, te = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        weights, bias = tc.train(matrix.rows(tr), targets.rows(tr))
        oof[te] = tc.logits_of(matrix.rows(te), weights, bias)
    results["current_sub"] = evaluate(oof, rows, examples, posts, targets)
    tc.log("current_sub done")

    variants = {"e5_lr": emb}
    if current is not None:
        variants["e5_plus_current"] = np.concatenate([emb, current_features(current)], axis=1)
    for name, x in variants.items():
        for l2 in [float(v) for v in args.l2.split(",")]:
            t0 = time.perf_counter()
            oof = np.zeros((len(rows), tc.K))
            for fold in range(tc.FOLDS):
                tr, te = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
                mean, std = x[tr].mean(axis=0), x[tr].std(axis=0) + 1e-6
                w, b = train_dense((x[tr] - mean) / std, targets.rows(tr), l2)
                oof[te] = ((x[te] - mean) / std) @ w + b
            results[f"{name}_l2={l2:g}"] = evaluate(oof, rows, examples, posts, targets)
            tc.log(f"{name} l2={l2:g} done in {time.perf_counter() - t0:.1f}s")
    report["results"] = results
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
