"""Train the post classifier (informative, eyewitness, information type) from the development data.

    .venv/bin/python scripts/train_classifier.py [--data ../shared/data] [--out src/groundspeed/understand/data/classify.npz]
    .venv/bin/python scripts/train_classifier.py --loeo > loeo.json    # development numbers only, no weights
    .venv/bin/python scripts/train_classifier.py --report loeo.json    # weights, and the numbers to a file

About 3 minutes on one core (five held-out folds, then the final model on everything).

Training data (only weights are written, never text):

* information type (:data:`INFO_TYPES`, partial labels: a dataset class that covers several groundspeed
  labels teaches "one of these", see ``groundspeed.evaluation.classify.GROUPS``): CrisisLexT26, HumAID,
  Kawarith;
* informative: CrisisLexT26 informativeness; HumAID and Kawarith (not humanitarian / irrelevant, sympathy
  and prayers, opinions -> not informative; other classes -> informative); Joplin (personal -> not);
* eyewitness: CrisisLexT26 ``info_source == Eyewitness``, TREC-IS ``FirstPartyObservation``, Joplin
  "Informative (Direct)" (vs indirect, personal, other; "direct or indirect" left out);
* geotags: the CrisisLexT26 labelled CSV has none, so the tweet ids of the rehydrated streams
  (``crisislex_t26_streams/streams_slim.csv``) that carry a point geotag mark those posts as geotagged.
  No dataset records attached photos or videos, so that input keeps a zero weight.

Model: one linear layer over hashed features (``Featuriser``), three heads trained together (binary
cross-entropy for the two scores, the negative log of the probability of the gold group for the types)
with mini-batch Adam, sparse ("lazy") updates, the weights averaged over the later epochs. A second layer
over the structural and cue-concept features only (not the script, which would stand for the Kawarith
set) is trained the same way; it scores Persian posts.

Calibration and thresholds come from *leave-events-out* predictions: the real-world events are split in
``FOLDS`` folds (an event in several datasets, such as the 2013 Alberta floods in CrisisLexT26 and TREC-IS,
is held out from all of them at once); each fold is predicted by a model trained on the others. Platt
scaling (informative, eyewitness) and a softmax temperature (types) are fitted on those predictions,
the thresholds maximise F1 on them (eyewitness: mean F1 of CrisisLexT26 and TREC-IS), and a per-type
offset (logit adjustment, ``-tau * log(mean probability)``) is chosen to maximise the mean held-out
macro-F1 of CrisisLexT26, HumAID and Kawarith. ``--loeo`` prints those held-out numbers per dataset and
event. Deterministic: fixed seed, fixed input order (two runs give the same numbers).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from groundspeed.evaluation.classify import GROUPS, LabelledPost, read_dataset, score
from groundspeed.understand.classify import HEADS, INFO_TYPES, STRUCTURE, ClassifyInput, Featuriser

SEED = 20261125
FOLDS = 5
EPOCHS = 4
BATCH = 256
LEARNING_RATE = 0.01
DECAY = 0.0
AVERAGE = True
SGD = False  # tried: plain SGD instead of Adam (see the docs)
K = len(HEADS) + len(INFO_TYPES)
ROOT = Path(__file__).resolve().parents[1]
DATASET_WEIGHT = {"crisislex-t26": 1.0, "humaid": 0.5, "trecis": 1.0, "kawarith": 1.5, "joplin": 1.0, "lrec2016": 0.7}
USE_LREC = False  # tried: no better on held-out events (see docs/classification.md)
_NOT_INFORMATIVE = {
    "humaid": {"not_humanitarian", "sympathy_and_support"},
    "kawarith": {"irrelevant", "emotional_support_and_prayers", "opinions_and_criticism"},
}


@dataclass(frozen=True, slots=True)
class Example:
    dataset: str
    event: str  # the real-world event (shared across datasets)
    text: str
    informative: float  # nan: not labelled
    eyewitness: float
    types: tuple[str, ...]  # groundspeed labels the gold allows (empty: not labelled)
    geotagged: bool = False
    tweet_id: str = ""

    def as_input(self) -> ClassifyInput:
        return ClassifyInput(self.text, geotagged=self.geotagged)


def canonical_event(event: str) -> str:
    """One key per real-world event, whatever the dataset calls it (2013_Alberta_floods = albertaFloods2013)."""
    words = re.sub(r"([a-z])([A-Z])", r"\1_\2", event).lower().replace("-", "_")
    year = re.search(r"(19|20)\d\d", words)
    place = next(
        (
            p
            for p in (
                "alberta",
                "queensland",
                "boston",
                "philipinnes",
                "guatemala",
                "italy",
                "joplin",
                "texas",
                "hagupit",
                "chile",
            )
            if p in words
        ),
        None,
    )
    if place is not None and year is not None:
        return f"{year.group(0)}_{place}"
    if place == "joplin":
        return "2011_joplin"
    return words


def _from_posts(dataset: str, posts: Sequence[LabelledPost]) -> list[Example]:
    groups = GROUPS[dataset]
    out: list[Example] = []
    for post in posts:
        types = tuple(sorted({label for c in post.classes if c in groups for label in groups[c]}))
        if dataset == "kawarith" and not post.classes and post.informative == 1.0:
            types = tuple(t for t in INFO_TYPES if t != "not_relevant")  # Covid-19 "relevant": any type
        if dataset == "trecis":
            types = ()  # TREC-IS types are too coarse a match to teach types; used for eyewitness only
        informative = math.nan if post.informative is None else post.informative
        if dataset in _NOT_INFORMATIVE and post.classes:
            informative = 0.0 if set(post.classes) <= _NOT_INFORMATIVE[dataset] else 1.0
        eyewitness = math.nan if post.eyewitness is None else post.eyewitness
        out.append(
            Example(
                dataset, canonical_event(post.event), post.text, informative, eyewitness, types, tweet_id=post.tweet_id
            )
        )
    return out


def _geotagged(data: Path) -> set[str]:
    """Tweet ids of the rehydrated CrisisLexT26 streams that carry a point geotag (the labelled CSV has none)."""
    path = data / "crisislex_t26_streams/streams_slim.csv"
    if not path.is_file():
        return set()
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["tweet_id"] for row in csv.DictReader(handle) if row["lat"] and row["lon"]}


def _joplin(data: Path) -> list[Example]:
    labels = {
        "Informative (Direct)": (1.0, 1.0),
        "Informative (Indirect)": (1.0, 0.0),
        "Informative (Direct or Indirect)": (1.0, math.nan),
        "Personal only": (0.0, 0.0),
        "Other": (math.nan, 0.0),
    }
    out: list[Example] = []
    with (data / "crisisnlp/iscram2013_joplin_eyewitness.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            informative, eyewitness = labels.get(row["label"], (math.nan, math.nan))
            out.append(Example("joplin", "2011_joplin", row["text"], informative, eyewitness, ()))
    return out


_LREC = {
    "other_useful_information": ("other_relevant", "opinion_criticism"),
    "injured_or_dead_people": ("casualties",),
    "deaths_reports": ("casualties",),
    "not_related_or_irrelevant": ("not_relevant",),
    "donation_needs_or_offers_or_volunteering_services": ("donations_volunteering", "needs_requests"),
    "sympathy_and_emotional_support": ("sympathy_support",),
    "infrastructure_and_utilities_damage": ("infrastructure_damage",),
    "caution_and_advice": ("caution_advice",),
    "prevention": ("caution_advice",),
    "affected_people": ("casualties", "missing_found", "displaced_evacuation", "needs_requests"),
    "displaced_people_and_evacuations": ("displaced_evacuation",),
    "missing_trapped_or_found_people": ("missing_found",),
}


def _lrec2016(data: Path) -> list[Example]:
    """CrisisNLP LREC 2016 (CrowdFlower) information types: 8 crises of 2013-14 (disease classes left out)."""
    out: list[Example] = []
    with (data / "crisisnlp/lrec2016.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            types = _LREC.get(row["label"])
            if types is None:
                continue
            informative = (
                0.0 if row["label"] in ("not_related_or_irrelevant", "sympathy_and_emotional_support") else 1.0
            )
            out.append(Example("lrec2016", canonical_event(row["event"]), row["text"], informative, math.nan, types))
    return out


def load(data: Path) -> tuple[list[Example], dict[str, list[LabelledPost]]]:
    examples: list[Example] = []
    posts: dict[str, list[LabelledPost]] = {}
    for dataset in ("crisislex-t26", "humaid", "trecis", "kawarith"):
        posts[dataset] = read_dataset(dataset, data)
        examples.extend(_from_posts(dataset, posts[dataset]))
    geotagged = _geotagged(data)
    examples = [replace(e, geotagged=e.tweet_id in geotagged) if e.tweet_id else e for e in examples]
    examples.extend(_joplin(data))
    if USE_LREC:
        examples.extend(_lrec2016(data))
    return examples, posts


# --- sparse design matrix -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matrix:
    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int64]
    values: npt.NDArray[np.float32]
    columns: int

    def rows(self, rows: npt.NDArray[np.int64]) -> Matrix:
        starts, stops = self.indptr[rows], self.indptr[rows + 1]
        lengths = stops - starts
        take = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(lengths.sum())
        return Matrix(np.concatenate([[0], np.cumsum(lengths)]), self.indices[take], self.values[take], self.columns)


def design(featuriser: Featuriser, items: Sequence[ClassifyInput], concept_only: bool = False) -> Matrix:
    """The features of ``items`` as CSR (all, or only the reserved columns, renumbered from 0)."""
    indptr_parts: list[npt.NDArray[np.int64]] = []
    index_parts: list[npt.NDArray[np.int64]] = []
    value_parts: list[npt.NDArray[np.float32]] = []
    start = 1 << featuriser.bits
    total = 0
    for chunk in range(0, len(items), 4000):
        batch = items[chunk : chunk + 4000]
        features = featuriser.featurise(batch)
        owners = [features.reserved_owner]
        indices = [features.reserved_index - (start if concept_only else 0)]
        values = [np.ones(len(features.reserved_owner), dtype=np.float32)]
        if concept_only:
            # The language-independent model must not see the script: in the training data Arabic script
            # means Kawarith, so the script would teach it Kawarith's mix of labels, wrong for Persian.
            values[0][indices[0] == STRUCTURE.index("arabic_script")] = 0.0
        if not concept_only:
            for index, owner in features.hashed:
                owners.append(owner)
                indices.append(index)
                values.append(features.scale[owner])
        owner = np.concatenate(owners)
        order = np.argsort(owner, kind="stable")
        counts = np.bincount(owner, minlength=len(batch))
        indptr_parts.append(total + np.cumsum(counts))
        total += int(counts.sum())
        index_parts.append(np.concatenate(indices)[order])
        value_parts.append(np.concatenate(values)[order])
    columns = featuriser.n_reserved if concept_only else featuriser.n_columns
    indptr = np.concatenate([np.zeros(1, dtype=np.int64), *indptr_parts])
    return Matrix(indptr, np.concatenate(index_parts), np.concatenate(value_parts), columns)


@dataclass(frozen=True)
class Targets:
    binary: npt.NDArray[np.float32]  # (n, heads), nan: not labelled
    types: npt.NDArray[np.bool_]  # (n, types) allowed labels
    weight: npt.NDArray[np.float32]  # (n,)

    @classmethod
    def of(cls, examples: Sequence[Example]) -> Targets:
        binary = np.array([[e.informative, e.eyewitness] for e in examples], dtype=np.float32)
        types = np.zeros((len(examples), len(INFO_TYPES)), dtype=np.bool_)
        for row, example in enumerate(examples):
            for label in example.types:
                types[row, INFO_TYPES.index(label)] = True
        weight = np.array([DATASET_WEIGHT[e.dataset] for e in examples], dtype=np.float32)
        return cls(binary, types, weight)

    def rows(self, rows: npt.NDArray[np.int64]) -> Targets:
        return Targets(self.binary[rows], self.types[rows], self.weight[rows])


def logits_of(
    matrix: Matrix, weights: npt.NDArray[np.float32], bias: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    out = np.empty((len(matrix.indptr) - 1, weights.shape[1]), dtype=np.float32)
    for start in range(0, len(out), 8192):
        stop = min(start + 8192, len(out))
        lo, hi = matrix.indptr[start], matrix.indptr[stop]
        contrib = np.take(weights, matrix.indices[lo:hi], axis=0) * matrix.values[lo:hi, None]
        out[start:stop] = np.add.reduceat(contrib, matrix.indptr[start:stop] - lo, axis=0)
    return out + bias


def gradient(logits: npt.NDArray[np.float32], targets: Targets) -> tuple[npt.NDArray[np.float32], float]:
    """d loss / d logits per row (weighted), and the loss."""
    grad = np.zeros_like(logits)
    loss = 0.0
    heads = len(HEADS)
    labelled = ~np.isnan(targets.binary)
    p = 1.0 / (1.0 + np.exp(-logits[:, :heads]))
    y = np.nan_to_num(targets.binary)
    grad[:, :heads] = np.where(labelled, p - y, 0.0)
    loss -= float(np.sum(np.where(labelled, y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9), 0.0)))
    has: npt.NDArray[np.bool_] = np.asarray(targets.types.any(axis=1))
    z = logits[:, heads:]
    z = z - z.max(axis=1, keepdims=True)
    q = np.exp(z)
    q /= q.sum(axis=1, keepdims=True)
    allowed = np.where(targets.types, q, 0.0)
    mass = allowed.sum(axis=1, keepdims=True)
    grad[:, heads:] = np.where(has[:, None], q - allowed / np.maximum(mass, 1e-12), 0.0)
    loss -= float(np.sum(np.log(mass[has] + 1e-12)))
    return grad * targets.weight[:, None], loss


def train(
    matrix: Matrix,
    targets: Targets,
    epochs: int = EPOCHS,
    seed: int = SEED,
    lr: float = LEARNING_RATE,
    decay: float = DECAY,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Mini-batch Adam with lazy (touched rows only) updates of weights and moments."""
    rng = np.random.default_rng(seed)
    n = len(matrix.indptr) - 1
    weights = np.zeros((matrix.columns, K), dtype=np.float32)
    first = np.zeros_like(weights)
    second = np.zeros_like(weights)
    bias = np.zeros(K, dtype=np.float32)
    bias_first, bias_second = np.zeros(K, dtype=np.float32), np.zeros(K, dtype=np.float32)
    beta1, beta2, step = 0.9, 0.999, 0
    average = np.zeros_like(weights)
    average_bias = np.zeros_like(bias)
    averaged = 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, BATCH):
            rows = order[start : start + BATCH]
            batch = matrix.rows(rows)
            logits = logits_of(batch, weights, bias)
            grad, _ = gradient(logits, targets.rows(rows))
            grad /= len(rows)
            owner = np.repeat(np.arange(len(rows)), np.diff(batch.indptr))
            touched, inverse = np.unique(batch.indices, return_inverse=True)
            contrib = grad[owner] * batch.values[:, None]
            g = np.stack([np.bincount(inverse, contrib[:, k], len(touched)) for k in range(K)], axis=1)
            g = g.astype(np.float32)
            step += 1
            correction = math.sqrt(1 - beta2**step) / (1 - beta1**step)
            first[touched] = beta1 * first[touched] + (1 - beta1) * g
            second[touched] = beta2 * second[touched] + (1 - beta2) * g * g
            if SGD:
                weights[touched] -= lr * g
                bias -= lr * grad.sum(axis=0)
                continue
            # decoupled weight decay (AdamW) on the rows this batch touched
            weights[touched] -= lr * (
                correction * first[touched] / (np.sqrt(second[touched]) + 1e-8) + decay * weights[touched]
            )
            gb = grad.sum(axis=0)
            bias_first = beta1 * bias_first + (1 - beta1) * gb
            bias_second = beta2 * bias_second + (1 - beta2) * gb * gb
            bias -= lr * correction * bias_first / (np.sqrt(bias_second) + 1e-8)
        if AVERAGE and epoch >= epochs // 2:  # average the weights of the later epochs (smoother, generalises)
            average += weights
            average_bias += bias
            averaged += 1
    if averaged:
        return (average / averaged).astype(np.float32), (average_bias / averaged).astype(np.float32)
    return weights, bias


# --- calibration ----------------------------------------------------------------------------------------


def platt(logits: npt.NDArray[np.float64], gold: npt.NDArray[np.float64]) -> tuple[float, float]:
    """a, b minimising the log-loss of sigmoid(a * logit + b) (Newton's method, a little ridge)."""
    a, b = 1.0, 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(a * logits + b)))
        r = p - gold
        w = p * (1 - p)
        grad = np.array([np.sum(r * logits) + 1e-3 * (a - 1), np.sum(r)])
        hess = np.array(
            [[np.sum(w * logits * logits) + 1e-3, np.sum(w * logits)], [np.sum(w * logits), np.sum(w) + 1e-9]]
        )
        delta = np.linalg.solve(hess, grad)
        a, b = a - float(delta[0]), b - float(delta[1])
        if np.abs(delta).max() < 1e-7:
            break
    return a, b


def temperature(logits: npt.NDArray[np.float64], allowed: npt.NDArray[np.bool_]) -> float:
    """The softmax temperature that maximises the probability of the gold groups."""
    best, best_loss = 1.0, math.inf
    for t in np.exp(np.linspace(math.log(0.3), math.log(3.0), 61)):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        q = np.exp(z)
        q /= q.sum(axis=1, keepdims=True)
        loss = -float(np.log((q * allowed).sum(axis=1) + 1e-12).mean())
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


def best_f1_threshold(probs: Sequence[npt.NDArray[np.float64]], golds: Sequence[npt.NDArray[np.float64]]) -> float:
    """The threshold maximising the mean F1 over the given (probabilities, gold) sets."""
    grid = np.linspace(0.05, 0.95, 91)
    scores = np.zeros(len(grid))
    for p, g in zip(probs, golds, strict=True):
        for i, t in enumerate(grid):
            predicted = p >= t
            tp = float((predicted & (g > 0.5)).sum())
            scores[i] += 0.0 if tp == 0 else 2 * tp / (predicted.sum() + (g > 0.5).sum())
    return float(grid[int(scores.argmax())])


def calibrated(logits: npt.NDArray[np.float64], cal: dict[str, Any]) -> npt.NDArray[np.float64]:
    out = np.empty_like(logits)
    logits = logits.copy()
    logits[:, len(HEADS) :] += np.asarray(cal.get("type_offset", 0.0))
    heads = len(HEADS)
    for h in range(heads):
        a, b = cal["platt"][h]
        out[:, h] = 1.0 / (1.0 + np.exp(-(a * logits[:, h] + b)))
    z = logits[:, heads:] / cal["temperature"]
    z = np.exp(z - z.max(axis=1, keepdims=True))
    out[:, heads:] = z / z.sum(axis=1, keepdims=True)
    return out


def fit_calibration(
    logits: npt.NDArray[np.float64], targets: Targets, datasets: npt.NDArray[np.str_]
) -> dict[str, Any]:
    cal: dict[str, Any] = {"platt": [], "temperature": 1.0}
    for h in range(len(HEADS)):
        rows = ~np.isnan(targets.binary[:, h])
        cal["platt"].append(platt(logits[rows, h], targets.binary[rows, h].astype(np.float64)))
    typed = targets.types.any(axis=1)
    cal["temperature"] = temperature(logits[typed, len(HEADS) :], targets.types[typed])
    probs = calibrated(logits, cal)
    thresholds = {}
    for h, name in enumerate(HEADS):
        sets = ("crisislex-t26", "trecis") if name == "eyewitness" else ("crisislex-t26",)
        ps, gs = [], []
        for dataset in sets:
            rows = (datasets == dataset) & ~np.isnan(targets.binary[:, h])
            ps.append(probs[rows, h])
            gs.append(targets.binary[rows, h].astype(np.float64))
        thresholds[name] = best_f1_threshold(ps, gs)
    cal["thresholds"] = thresholds
    return cal


def fit_type_offset(logits: npt.NDArray[np.float64], cal: dict[str, Any], posts: dict[str, list[LabelledPost]]) -> None:
    """Logit adjustment: subtract tau * log(mean predicted probability) from each type's logit, so that
    rare types are chosen more often; tau maximises the mean macro F1 of the typed datasets (held out)."""
    heads = len(HEADS)
    prior = calibrated(logits, cal)[:, heads:].mean(axis=0)
    best_tau, best = 0.0, -1.0
    for tau in (0.0, 0.25, 0.5, 0.75, 1.0):
        trial = dict(cal, type_offset=(-tau * np.log(prior) * cal["temperature"]).tolist())
        probs = calibrated(logits, trial)
        scores, offset = [], 0
        for dataset, items in posts.items():
            rows = np.arange(offset, offset + len(items))
            offset += len(items)
            if dataset != "trecis":
                report = score(dataset, items, probs[rows], cal["thresholds"])
                scores.append(report.get("info_type_macro_f1", report.get("macro_f1")) or 0.0)
        if float(np.mean(scores)) > best:
            best_tau, best = tau, float(np.mean(scores))
    cal["type_tau"] = best_tau
    cal["type_offset"] = (-best_tau * np.log(prior) * cal["temperature"]).tolist()


# --- main -------------------------------------------------------------------------------------------------


def folds_of(examples: Sequence[Example]) -> npt.NDArray[np.int64]:
    """Fold of each example: events dealt round-robin per dataset, an event shared by datasets kept whole."""
    fold_of: dict[str, int] = {}
    for dataset in ("crisislex-t26", "trecis", "humaid", "kawarith", "joplin", "lrec2016"):
        events = sorted({e.event for e in examples if e.dataset == dataset})
        counter = 0
        for event in events:
            if event not in fold_of:
                fold_of[event] = counter % FOLDS
                counter += 1
    return np.array([fold_of[e.event] for e in examples], dtype=np.int64)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--out", type=Path, default=ROOT / "src/groundspeed/understand/data/classify.npz")
    parser.add_argument("--loeo", action="store_true", help="print leave-events-out numbers as JSON, write nothing")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--report", type=Path, help="also write the leave-events-out report (JSON) here")
    args = parser.parse_args(argv)

    examples, posts = load(args.data)
    log(f"{len(examples):,d} labelled posts")
    featuriser = Featuriser()
    inputs = [e.as_input() for e in examples]
    full = design(featuriser, inputs)
    concept = design(featuriser, inputs, concept_only=True)
    log(f"features: {len(full.indices):,d} non-zeros")
    targets = Targets.of(examples)
    datasets = np.array([e.dataset for e in examples])
    folds = folds_of(examples)
    oof = [np.zeros((len(examples), K)), np.zeros((len(examples), K))]
    for fold in range(FOLDS):
        train_rows = np.flatnonzero(folds != fold)
        test_rows = np.flatnonzero(folds == fold)
        for model, matrix in enumerate((full, concept)):
            weights, bias = train(matrix.rows(train_rows), targets.rows(train_rows), args.epochs)
            oof[model][test_rows] = logits_of(matrix.rows(test_rows), weights, bias)
        log(f"fold {fold}: {len(test_rows):,d} held out")
    cals = [fit_calibration(logits, targets, datasets) for logits in oof]
    for logits, cal in zip(oof, cals, strict=True):
        fit_type_offset(logits, cal, posts)
    if args.loeo or args.report:
        report: dict[str, Any] = {"folds": FOLDS, "calibration": cals}
        for model, name in enumerate(("full", "concept_only")):
            probs = calibrated(oof[model], cals[model])
            section: dict[str, Any] = {}
            offset = 0
            for dataset, items in posts.items():
                rows = np.arange(offset, offset + len(items))
                offset += len(items)
                section[dataset] = score(dataset, items, probs[rows], cals[model]["thresholds"])
            report[name] = section
        if args.report:
            args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
        if args.loeo:
            print(json.dumps(report, indent=1))
            return 0
    log("training on everything")
    everything = np.arange(len(examples))
    weights, bias = train(full, targets, args.epochs)
    concept_weights, concept_bias = train(concept.rows(everything), targets, args.epochs)
    np.savez_compressed(
        args.out,
        labels=np.array(HEADS + INFO_TYPES),
        weights=weights.astype(np.float16),
        bias=bias,
        concept_weights=concept_weights.astype(np.float16),
        concept_bias=concept_bias,
        platt=np.array([c["platt"] for c in cals], dtype=np.float64),
        temperature=np.array([c["temperature"] for c in cals], dtype=np.float64),
        type_offset=np.array([c["type_offset"] for c in cals], dtype=np.float64),
        threshold_names=np.array(list(HEADS)),
        thresholds=np.array([cals[0]["thresholds"][h] for h in HEADS], dtype=np.float64),
        bits=np.int64(featuriser.bits),
        char_orders=np.array(featuriser.char_orders, dtype=np.int64),
    )
    log(f"wrote {args.out} ({args.out.stat().st_size:,d} bytes); calibration {json.dumps(cals)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
