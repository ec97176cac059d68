"""How well posts are classified, on labelled crisis datasets (``groundspeed eval classify``).

The shipped model scores every post of DIRECTORY; nothing is fitted on it (thresholds and calibration come
with the weights). Each dataset is scored in its own label set: groundspeed's :data:`INFO_TYPES` are
grouped into the dataset's classes (:data:`GROUPS`, one group per class, every groundspeed label in exactly
one group), a post's probability of a class is the sum over its group, and the predicted class is the
most probable one.

crisislex-t26 (``crisislex_t26/labeled.csv``)
    ``informativeness_auc``: P(informative) against "Related and informative" (vs "Related - but not
    informative" and "Not related"; "Not applicable" rows left out). ``eyewitness_f1`` / ``eyewitness_auc``:
    P(eyewitness) against ``info_source == "Eyewitness"`` over every row, F1 at the shipped threshold.
    ``info_type_macro_f1``: macro F1 over the six information types, on the rows that have one, choosing
    among those six; ``info_type_macro_f1_with_not_related`` adds the not related rows as a seventh class.
humaid (``humaid/labeled.csv``)
    ``macro_f1`` and ``weighted_f1`` over the classes present (10 HumAID classes), all splits.
trecis (``trecis/labeled.csv``)
    ``first_party_f1`` (and ``_auc``): P(eyewitness) against the ``FirstPartyObservation`` type.
    ``macro_f1``: TREC-IS types are multi-label and finer than ours; the ones that map onto groundspeed
    labels are grouped (:data:`TRECIS_GROUPS`), other posts form the group ``other``. A prediction is right
    when its group is one of the post's groups (per-group F1 of a single prediction against multi-labels).
kawarith (``kawarith/labeled.csv``)
    ``macro_f1`` over the six Kawarith classes, multi-label gold scored like TREC-IS, on events labelled
    with types (Covid-19 has only relevant/irrelevant: it gets ``relevance_auc`` instead).

Every report has ``n``, ``per_event`` (the same measures per event) and the thresholds used.
"""

from __future__ import annotations

import ast
import csv
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..understand.classify import HEADS, INFO_TYPES, Classifier, ClassifyInput

__all__ = [
    "DATASETS",
    "GROUPS",
    "TRECIS_GROUPS",
    "LabelledPost",
    "auc",
    "evaluate",
    "f1_scores",
    "read_dataset",
    "score",
]

DATASETS = {
    "crisislex-t26": "crisislex_t26/labeled.csv",
    "humaid": "humaid/labeled.csv",
    "trecis": "trecis/labeled.csv",
    "kawarith": "kawarith/labeled.csv",
}
_COLUMNS = {
    "crisislex-t26": ("event", "text", "info_source", "info_type", "informativeness"),
    "humaid": ("event", "text", "class_label"),
    "trecis": ("event", "text_cleaned", "categories"),
    "kawarith": ("event", "text", "kawarith_labels"),
}
# Each dataset's classes as groups of groundspeed labels (a partition of INFO_TYPES).
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "crisislex-t26": {
        "Affected individuals": ("casualties", "missing_found", "displaced_evacuation"),
        "Infrastructure and utilities": ("infrastructure_damage",),
        "Donations and volunteering": ("donations_volunteering", "needs_requests"),
        "Caution and advice": ("caution_advice",),
        "Sympathy and support": ("sympathy_support",),
        "Other Useful Information": ("other_relevant", "opinion_criticism"),
        "Not related": ("not_relevant",),
    },
    "humaid": {
        "injured_or_dead_people": ("casualties",),
        "missing_or_found_people": ("missing_found",),
        "displaced_people_and_evacuations": ("displaced_evacuation",),
        "infrastructure_and_utility_damage": ("infrastructure_damage",),
        "requests_or_urgent_needs": ("needs_requests",),
        "rescue_volunteering_or_donation_effort": ("donations_volunteering",),
        "caution_and_advice": ("caution_advice",),
        "sympathy_and_support": ("sympathy_support",),
        "other_relevant_information": ("other_relevant",),
        "not_humanitarian": ("not_relevant", "opinion_criticism"),
    },
    "kawarith": {
        "affected_individuals_and_help": (
            "casualties",
            "missing_found",
            "displaced_evacuation",
            "needs_requests",
            "donations_volunteering",
        ),
        "infrastructure_and_utilities_damage": ("infrastructure_damage",),
        "caution_advice_and_crisis_updates": ("caution_advice", "other_relevant"),
        "emotional_support_and_prayers": ("sympathy_support",),
        "opinions_and_criticism": ("opinion_criticism",),
        "irrelevant": ("not_relevant",),
    },
    "trecis": {
        "rescue_donations_volunteering": ("donations_volunteering",),
        "needs_information_wanted": ("needs_requests",),
        "move_people": ("displaced_evacuation",),
        "advice_threats": ("caution_advice",),
        "sentiment": ("sympathy_support", "opinion_criticism"),
        "irrelevant": ("not_relevant",),
        "other": ("casualties", "missing_found", "infrastructure_damage", "other_relevant"),
    },
}
TRECIS_GROUPS: dict[str, str] = {
    "SearchAndRescue": "rescue_donations_volunteering",
    "Donations": "rescue_donations_volunteering",
    "Volunteer": "rescue_donations_volunteering",
    "CleanUp": "rescue_donations_volunteering",
    "GoodsServices": "needs_information_wanted",
    "InformationWanted": "needs_information_wanted",
    "MovePeople": "move_people",
    "Advice": "advice_threats",
    "EmergingThreats": "advice_threats",
    "Sentiment": "sentiment",
    "Irrelevant": "irrelevant",
}
_CRISISLEX_TYPES = tuple(k for k in GROUPS["crisislex-t26"] if k != "Not related")
_INFORMATIVE = {"Related and informative": 1.0, "Related - but not informative": 0.0, "Not related": 0.0}


@dataclass(frozen=True, slots=True)
class LabelledPost:
    """A post and its gold labels in the dataset's own terms (None / empty: not labelled)."""

    event: str
    text: str
    tweet_id: str = ""
    classes: tuple[str, ...] = ()  # the dataset's classes (several for multi-label sets)
    informative: float | None = None
    eyewitness: float | None = None


def _rows(path: Path, columns: Sequence[str]) -> Iterator[dict[str, str]]:
    if not path.is_file():
        msg = f"{path}: file not found (expected the layout of the matching folder of the shared data)"
        raise InputError(msg)
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            msg = f"{path}: missing column(s) {', '.join(missing)} (has {', '.join(reader.fieldnames or [])})"
            raise InputError(msg)
        yield from reader


def read_dataset(dataset: str, directory: Path) -> list[LabelledPost]:
    """The labelled posts of ``directory`` laid out like the shared data's folder for ``dataset``."""
    if dataset not in DATASETS:
        msg = f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}"
        raise InputError(msg)
    path = directory / DATASETS[dataset]
    if not path.is_file() and (directory / Path(DATASETS[dataset]).name).is_file():
        path = directory / Path(DATASETS[dataset]).name  # DIR may be the dataset folder itself
    posts: list[LabelledPost] = []
    for row in _rows(path, _COLUMNS[dataset]):
        posts.append(_post(dataset, row, path))
    if not posts:
        msg = f"{path}: no rows"
        raise InputError(msg)
    return posts


def _post(dataset: str, row: Mapping[str, str], path: Path) -> LabelledPost:
    event = row["event"]
    if dataset == "crisislex-t26":
        info_type = row["info_type"]
        informativeness = row["informativeness"]
        if informativeness == "Not related":
            classes: tuple[str, ...] = ("Not related",)
        elif info_type in GROUPS[dataset]:
            classes = (info_type,)
        else:
            classes = ()
        return LabelledPost(
            event,
            row["text"],
            row.get("tweet_id", ""),
            classes,
            _INFORMATIVE.get(informativeness),
            1.0 if row["info_source"] == "Eyewitness" else 0.0,
        )
    if dataset == "humaid":
        label = row["class_label"]
        return LabelledPost(event, row["text"], row.get("tweet_id", ""), (label,) if label in GROUPS[dataset] else ())
    if dataset == "trecis":
        try:
            categories = ast.literal_eval(row["categories"] or "[]")
        except (ValueError, SyntaxError) as error:
            msg = f"{path}: categories {row['categories']!r} is not a list like ['Advice', 'Sentiment']"
            raise InputError(msg) from error
        groups = sorted({TRECIS_GROUPS[c] for c in categories if c in TRECIS_GROUPS}) or ["other"]
        eyewitness = 1.0 if "FirstPartyObservation" in categories else 0.0
        return LabelledPost(event, row["text_cleaned"], row.get("tweet_id", ""), tuple(groups), eyewitness=eyewitness)
    labels = row["kawarith_labels"].replace("\xa0", " ").split()
    informative = None
    if labels == ["relevant"]:
        informative = 1.0
    elif labels == ["irrelevant"]:
        informative = 0.0
    classes = tuple(label for label in labels if label in GROUPS[dataset])
    return LabelledPost(
        event, row["text"], row.get("tweet_id", ""), classes if labels != ["relevant"] else (), informative
    )


# --- measures ---------------------------------------------------------------------------------------------


def auc(scores: npt.NDArray[np.float64], gold: npt.NDArray[np.float64]) -> float | None:
    """Area under the ROC curve (ties count half); None when one class is absent."""
    positives = gold > 0.5
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    # average rank of each distinct score (1-based), so tied scores share their ranks
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _f1(tp: int, fp: int, fn: int) -> float:
    return 0.0 if tp == 0 else 2.0 * tp / (2.0 * tp + fp + fn)


def f1_scores(
    predicted: Sequence[str], gold: Sequence[tuple[str, ...]], classes: Sequence[str]
) -> tuple[dict[str, float], dict[str, int]]:
    """F1 per class of a single prediction per post against gold sets, and the gold support per class.

    A prediction is a true positive when it is in the post's gold set; each gold class the prediction
    missed is a false negative (for single-label gold this is ordinary per-class F1)."""
    tp = dict.fromkeys(classes, 0)
    fp = dict.fromkeys(classes, 0)
    fn = dict.fromkeys(classes, 0)
    for guess, labels in zip(predicted, gold, strict=True):
        if guess in labels:
            tp[guess] += 1
        elif guess in fp:
            fp[guess] += 1
        for label in labels:
            if label != guess and label in fn:
                fn[label] += 1
    support = {c: tp[c] + fn[c] for c in classes}
    return {c: _f1(tp[c], fp[c], fn[c]) for c in classes}, support


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 4)


def _group_probabilities(
    probs: npt.NDArray[np.float64], groups: Mapping[str, Sequence[str]]
) -> npt.NDArray[np.float64]:
    types = probs[:, len(HEADS) :]
    columns = [types[:, [INFO_TYPES.index(label) for label in labels]].sum(axis=1) for labels in groups.values()]
    return np.stack(columns, axis=1)


def _type_scores(
    probs: npt.NDArray[np.float64], posts: Sequence[LabelledPost], groups: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """Macro and weighted F1 over ``groups``, on the posts labelled with at least one of them."""
    names = list(groups)
    rows = [i for i, post in enumerate(posts) if any(c in groups for c in post.classes)]
    if not rows:
        return {"macro_f1": None, "weighted_f1": None, "per_class_f1": {}, "n_typed": 0}
    grouped = _group_probabilities(probs[rows], groups)
    predicted = [names[i] for i in grouped.argmax(axis=1).tolist()]
    gold = [tuple(c for c in posts[i].classes if c in groups) for i in rows]
    per_class, support = f1_scores(predicted, gold, names)
    present = [c for c in names if support[c] > 0]
    total = sum(support[c] for c in present)
    return {
        "macro_f1": _round(float(np.mean([per_class[c] for c in present]))),
        "weighted_f1": _round(sum(per_class[c] * support[c] for c in present) / total),
        "per_class_f1": {c: _round(per_class[c]) for c in present},
        "n_typed": len(rows),
    }


def _binary(
    scores: npt.NDArray[np.float64], posts: Sequence[LabelledPost], attribute: str, threshold: float
) -> tuple[float | None, float | None, int]:
    pairs = [(i, getattr(post, attribute)) for i, post in enumerate(posts) if getattr(post, attribute) is not None]
    if not pairs:
        return None, None, 0
    rows = np.asarray([i for i, _ in pairs])
    gold = np.asarray([g for _, g in pairs], dtype=np.float64)
    predicted = scores[rows] >= threshold
    tp = int((predicted & (gold > 0.5)).sum())
    fp = int((predicted & (gold <= 0.5)).sum())
    fn = int((~predicted & (gold > 0.5)).sum())
    return auc(scores[rows], gold), _f1(tp, fp, fn), int((gold > 0.5).sum())


def usgs_rule(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """The USGS tweet-earthquake-detector heuristic as an eyewitness baseline: 1 for a short post (at most
    10 words) with no link that is not a retweet, else 0."""
    return np.array(
        [float(len(text.split()) <= 10 and "http" not in text and not text.lower().startswith("rt ")) for text in texts]
    )


def _measures(
    dataset: str, probs: npt.NDArray[np.float64], posts: Sequence[LabelledPost], thresholds: Mapping[str, float]
) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(posts)}
    eyewitness = probs[:, HEADS.index("eyewitness")]
    informative = probs[:, HEADS.index("informative")]
    if dataset == "crisislex-t26":
        info_auc, _, _ = _binary(informative, posts, "informative", thresholds["informative"])
        eye_auc, eye_f1, eye_n = _binary(eyewitness, posts, "eyewitness", thresholds["eyewitness"])
        _, usgs_f1, _ = _binary(usgs_rule([post.text for post in posts]), posts, "eyewitness", 0.5)
        six = {k: GROUPS[dataset][k] for k in _CRISISLEX_TYPES}
        types = _type_scores(probs, posts, six)
        seven = _type_scores(probs, posts, GROUPS[dataset])
        out |= {
            "informativeness_auc": _round(info_auc),
            "eyewitness_f1": _round(eye_f1),
            "eyewitness_auc": _round(eye_auc),
            "eyewitness_n": eye_n,
            "eyewitness_f1_usgs_rule": _round(usgs_f1),
            "info_type_macro_f1": types["macro_f1"],
            "info_type_macro_f1_with_not_related": seven["macro_f1"],
            "info_type_per_class_f1": types["per_class_f1"],
        }
    elif dataset == "humaid":
        types = _type_scores(probs, posts, GROUPS[dataset])
        out |= {
            "macro_f1": types["macro_f1"],
            "weighted_f1": types["weighted_f1"],
            "per_class_f1": types["per_class_f1"],
        }
    elif dataset == "trecis":
        eye_auc, eye_f1, eye_n = _binary(eyewitness, posts, "eyewitness", thresholds["eyewitness"])
        _, usgs_f1, _ = _binary(usgs_rule([post.text for post in posts]), posts, "eyewitness", 0.5)
        _, all_f1, _ = _binary(np.ones(len(posts)), posts, "eyewitness", 0.5)
        types = _type_scores(probs, posts, GROUPS[dataset])
        out |= {
            "first_party_f1_usgs_rule": _round(usgs_f1),
            "first_party_f1_all_positive": _round(all_f1),
            "first_party_f1": _round(eye_f1),
            "first_party_auc": _round(eye_auc),
            "first_party_n": eye_n,
            "macro_f1": types["macro_f1"],
            "per_class_f1": types["per_class_f1"],
        }
    else:
        types = _type_scores(probs, posts, GROUPS[dataset])
        relevance_auc, _, _ = _binary(informative, posts, "informative", thresholds["informative"])
        out |= {
            "macro_f1": types["macro_f1"],
            "weighted_f1": types["weighted_f1"],
            "n_typed": types["n_typed"],
            "per_class_f1": types["per_class_f1"],
            "relevance_auc": _round(relevance_auc),
        }
    return out


def score(
    dataset: str, posts: Sequence[LabelledPost], probs: npt.NDArray[np.float64], thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """The report for ``posts`` given the model's probabilities (``Classifier.probabilities`` layout)."""
    report = _measures(dataset, probs, posts, thresholds)
    per_event: dict[str, Any] = {}
    for event in sorted({post.event for post in posts}):
        rows = [i for i, post in enumerate(posts) if post.event == event]
        measures = _measures(dataset, probs[rows], [posts[i] for i in rows], thresholds)
        per_event[event] = {k: v for k, v in measures.items() if not k.startswith("per_class")}
    report["per_event"] = per_event
    return report


def evaluate(dataset: str, directory: Path, classifier: Classifier | None = None) -> dict[str, Any]:
    """Score the shipped classifier (or ``classifier``) on the dataset in ``directory``."""
    posts = read_dataset(dataset, directory)
    model = classifier or Classifier.load()
    probs = np.concatenate(
        [
            model.probabilities([ClassifyInput(post.text) for post in posts[start : start + 2000]])
            for start in range(0, len(posts), 2000)
        ]
    )
    thresholds = {"informative": model.informative_threshold, "eyewitness": model.eyewitness_threshold}
    return {
        "dataset": dataset,
        "directory": str(directory),
        **score(dataset, posts, probs, thresholds),
        "thresholds": thresholds,
    }


def evaluate_persian(path: Path, classifier: Classifier | None = None) -> dict[str, Any]:
    """Scores on the hand-written Persian test set (``tests/fixtures/classify/persian_test.csv``: columns id,
    info_type, eyewitness, informative, text), every post given ``lang="fa"``."""
    rows = list(_rows(path, ("id", "info_type", "eyewitness", "informative", "text")))
    model = classifier or Classifier.load()
    probs = model.probabilities([ClassifyInput(row["text"], lang="fa") for row in rows])
    predicted = [INFO_TYPES[i] for i in probs[:, len(HEADS) :].argmax(axis=1).tolist()]
    gold = [(row["info_type"],) for row in rows]
    per_class, support = f1_scores(predicted, gold, INFO_TYPES)
    present = [label for label in INFO_TYPES if support[label]]
    eyewitness = np.array([float(row["eyewitness"]) for row in rows])
    informative = np.array([float(row["informative"]) for row in rows])
    eye_scores = probs[:, HEADS.index("eyewitness")]
    eye_predicted = eye_scores >= model.eyewitness_threshold
    tp = int((eye_predicted & (eyewitness > 0.5)).sum())
    return {
        "n": len(rows),
        "info_type_accuracy": _round(sum(p == g[0] for p, g in zip(predicted, gold, strict=True)) / len(rows)),
        "info_type_macro_f1": _round(float(np.mean([per_class[label] for label in present]))),
        "per_class_f1": {label: _round(per_class[label]) for label in present},
        "eyewitness_auc": _round(auc(eye_scores, eyewitness)),
        "eyewitness_f1": _round(_f1(tp, int(eye_predicted.sum()) - tp, int((eyewitness > 0.5).sum()) - tp)),
        "informativeness_auc": _round(auc(probs[:, HEADS.index("informative")], informative)),
    }
