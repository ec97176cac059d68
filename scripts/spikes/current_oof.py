"""Spike: leave-events-out logits of the *current* approach (hashed features, ``train_classifier.train``),
trained on all the development data, exactly as ``scripts/train_classifier.py --loeo`` (full model only).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/spikes/current_oof.py --out /tmp/spike

Writes ``OUT/oof_current.npy`` (n_examples x 13 held-out logits) and prints the held-out numbers after the
script's own calibration, as a check that they reproduce the shipped ones. Writes no text.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import train_classifier as tc  # noqa: E402

from groundspeed.evaluation.classify import score  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--out", type=Path, default=Path("/tmp/spike"))
    args = parser.parse_args()
    examples, posts = tc.load(args.data)
    featuriser = tc.Featuriser()
    full = tc.design(featuriser, [e.as_input() for e in examples])
    targets = tc.Targets.of(examples)
    datasets = np.array([e.dataset for e in examples])
    folds = tc.folds_of(examples)
    oof = np.zeros((len(examples), tc.K))
    for fold in range(tc.FOLDS):
        train_rows, test_rows = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        weights, bias = tc.train(full.rows(train_rows), targets.rows(train_rows))
        oof[test_rows] = tc.logits_of(full.rows(test_rows), weights, bias)
        tc.log(f"fold {fold}")
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "oof_current.npy", oof)
    cal = tc.fit_calibration(oof, targets, datasets)
    tc.fit_type_offset(oof, cal, posts)
    probs = tc.calibrated(oof, cal)
    offset, out = 0, {}
    for dataset, items in posts.items():
        rows = np.arange(offset, offset + len(items))
        offset += len(items)
        report = score(dataset, items, probs[rows], cal["thresholds"])
        out[dataset] = {k: v for k, v in report.items() if not isinstance(v, dict)}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
