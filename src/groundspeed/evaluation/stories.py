"""How well posts are grouped into stories, on labelled crisis events (``groundspeed eval stories``).

Each folder is read by the layout it has (the file names of ``shared/data``):

* ``streams_slim.csv`` (CrisisLexT26 rehydrated streams): ``event``, ``tweet_id``, ``created_at``,
  ``lang``, ``text``, ``is_retweet``;
* ``labeled.csv`` (CrisisLexT6, HumAID and the like): ``event``, ``tweet_id``, ``created_at_utc`` (or
  ``created_at``), ``text``, optional ``lang``; a ``label`` column of ``on-topic``/``off-topic``
  (CrisisLexT6) keeps only on-topic posts, since off-topic ones are not part of the event.

Retweets (``is_retweet`` = 1, or text starting ``RT @``) and repeated tweet ids are dropped; the rest is
normalised with :func:`groundspeed.text.normalise`. The events are interleaved into one stream: each is
shifted so that its first post falls at a seeded random time within one 7-day window, order and gaps
within an event kept, so that time alone cannot separate them. Posts go to the detector in batches.

Figures, for the stories against the event labels:

``bcubed_precision`` / ``bcubed_recall`` / ``bcubed_f1``
    B-cubed (Bagga and Baldwin 1998): per post, the share of its story that is of its event, and the
    share of its event that is in its story, averaged over posts; F1 of the two averages.
``nmi``
    normalised mutual information of stories and events (arithmetic mean of the entropies).
``first_story_recall``
    the share of events where one of the event's first 10 posts is flagged new and starts a story
    that grows to at least 10 posts of that event.
``posts_per_second``
    posts through the detector per second of its own time (reading and normalising not counted).
``peak_rss_mb``
    the process's peak resident memory after that detector ran (the process's high-water mark:
    it includes reading the data, and earlier detectors of the same run).

The ``baselines`` are the plain Petrović detector and k-means on the same hashed TF-IDF vectors told
the true number of events (spherical k-means, k-means++ seeding, seeded; it sees the whole stream at
once, so its ``first_story_recall`` is not defined).
"""

from __future__ import annotations

import csv
import json
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..text import normalise
from ..track.stories import Assignment, PetrovicDetector, StoryDetector, Vectoriser

IntArray = npt.NDArray[np.int64]
WINDOW_SECONDS = 7 * 24 * 3600
FIRST_POSTS = 10
MIN_STORY_POSTS = 10
BATCH = 1000


class DatasetError(InputError):
    """The folder is not laid out like any known dataset."""


@dataclass(frozen=True)
class Post:
    uid: str
    event: str
    time: float
    text: str
    lang: str | None
    dataset: str


def _seconds(value: str) -> float:
    return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).timestamp()


def read_folder(root: Path) -> list[Post]:
    """The labelled posts of one folder, retweets and repeated ids left out."""
    for name in ("streams_slim.csv", "labeled.csv"):
        path = root / name
        if path.is_file():
            break
    else:
        msg = f"{root}: no streams_slim.csv or labeled.csv (the layouts of shared/data)"
        raise DatasetError(msg)
    csv.field_size_limit(sys.maxsize)
    posts: list[Post] = []
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        time_col = "created_at_utc" if "created_at_utc" in columns else "created_at"
        missing = {"event", "text", time_col} - columns
        if missing:
            msg = f"{path}: missing column(s) {', '.join(sorted(missing))}"
            raise DatasetError(msg)
        for number, row in enumerate(reader):
            text = row["text"] or ""
            if row.get("is_retweet") in ("1", "true", "True") or text.startswith("RT @"):
                continue
            if row.get("label") == "off-topic":
                continue
            uid = row.get("tweet_id") or f"{path.name}:{number}"
            if uid in seen or not row[time_col]:
                continue
            seen.add(uid)
            posts.append(Post(uid, row["event"], _seconds(row[time_col]), text, row.get("lang") or None, root.name))
    return posts


def interleave(posts: Sequence[Post], seed: int) -> list[Post]:
    """One stream: each event shifted to a seeded random start within a 7-day window, in time order."""
    rng = np.random.default_rng(seed)
    firsts: dict[str, float] = {}
    for post in posts:
        firsts[post.event] = min(firsts.get(post.event, post.time), post.time)
    origin = 1_700_000_000.0
    starts = {event: origin + float(rng.uniform(0, WINDOW_SECONDS)) for event in sorted(firsts)}
    shifted = [
        Post(p.uid, p.event, p.time - firsts[p.event] + starts[p.event], p.text, p.lang, p.dataset) for p in posts
    ]
    order = sorted(range(len(shifted)), key=lambda i: (shifted[i].time, i))
    return [shifted[i] for i in order]


# -- scores ----------------------------------------------------------------------------------


def _codes(labels: Sequence[Any]) -> IntArray:
    _, codes = np.unique(np.asarray([str(label) for label in labels]), return_inverse=True)
    return codes.astype(np.int64)


def cluster_scores(clusters: Sequence[Any], classes: Sequence[Any]) -> dict[str, float]:
    """B-cubed precision, recall and F1, and NMI, of a clustering against the classes."""
    if not clusters:
        return {"bcubed_precision": 0.0, "bcubed_recall": 0.0, "bcubed_f1": 0.0, "nmi": 0.0}
    k = _codes(clusters)
    c = _codes(classes)
    pair = k * (int(c.max()) + 1) + c
    _, pair_code, pair_count = np.unique(pair, return_inverse=True, return_counts=True)
    both = pair_count[pair_code].astype(np.float64)
    k_size = np.bincount(k)[k].astype(np.float64)
    c_size = np.bincount(c)[c].astype(np.float64)
    precision = float((both / k_size).mean())
    recall = float((both / c_size).mean())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    n = float(len(k))
    joint = pair_count / n
    pair_k = np.unique(pair) // (int(c.max()) + 1)
    pair_c = np.unique(pair) % (int(c.max()) + 1)
    pk = np.bincount(k) / n
    pc = np.bincount(c) / n
    mi = float((joint * np.log(joint / (pk[pair_k] * pc[pair_c]))).sum())
    hk = float(-(pk[pk > 0] * np.log(pk[pk > 0])).sum())
    hc = float(-(pc[pc > 0] * np.log(pc[pc > 0])).sum())
    nmi = mi / ((hk + hc) / 2) if hk + hc > 0 else 1.0
    return {
        "bcubed_precision": round(precision, 4),
        "bcubed_recall": round(recall, 4),
        "bcubed_f1": round(f1, 4),
        "nmi": round(nmi, 4),
    }


def first_story_recall(stream: Sequence[Post], assignments: Sequence[Assignment]) -> tuple[float, dict[str, bool]]:
    """Share of events whose first posts include a flagged first story that grows to 10 posts of the event."""
    of_event: dict[tuple[int, str], int] = {}
    for post, assigned in zip(stream, assignments, strict=True):
        key = (assigned.story, post.event)
        of_event[key] = of_event.get(key, 0) + 1
    seen: dict[str, int] = {}
    found: dict[str, bool] = {}
    for post, assigned in zip(stream, assignments, strict=True):
        count = seen.get(post.event, 0)
        seen[post.event] = count + 1
        found.setdefault(post.event, False)
        if count < FIRST_POSTS and assigned.new and of_event[(assigned.story, post.event)] >= MIN_STORY_POSTS:
            found[post.event] = True
    return (sum(found.values()) / len(found) if found else 0.0), found


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def language_group(lang: str | None) -> str:
    if lang in ("en", "es", "pt", "fa", "ar"):
        return lang
    return "unknown" if lang in (None, "", "und") else "other"


class Detector(Protocol):
    def add(
        self,
        uids: Sequence[str],
        texts: Sequence[str],
        times: Sequence[float],
        langs: Sequence[str | None] | None = None,
    ) -> list[Assignment]: ...


def run_detector(detector: Detector, stream: Sequence[Post], batch: int = BATCH) -> tuple[list[Assignment], float]:
    """Assignments of the whole stream, and the seconds the detector itself took."""
    out: list[Assignment] = []
    spent = 0.0
    for start in range(0, len(stream), batch):
        part = stream[start : start + batch]
        uids = [p.uid for p in part]
        texts = [p.text for p in part]
        times = [p.time for p in part]
        langs = [p.lang for p in part]
        began = time.perf_counter()
        out.extend(detector.add(uids, texts, times, langs))
        spent += time.perf_counter() - began
    resolve = getattr(detector, "resolve", None)
    if resolve is not None:  # stories merged later: score the story each post ended in
        out = [a._replace(story=resolve(a.story)) for a in out]
    return out, spent


def kmeans(stream: Sequence[Post], k: int, seed: int, iterations: int = 15) -> tuple[list[int], float]:
    """Spherical k-means on the hashed TF-IDF vectors (k-means++ seeding): labels and seconds taken."""
    began = time.perf_counter()
    vectoriser = Vectoriser()
    vectoriser.transform([p.text for p in stream])  # document frequencies of the whole stream
    cols, vals, _ = vectoriser.transform([p.text for p in stream], learn=False)
    n = len(stream)
    rng = np.random.default_rng(seed)
    dims = 1 << 16  # centroids kept dense in a folded space
    cols = cols & (dims - 1)

    def sims_to(centroids: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        out = np.empty((n, centroids.shape[0]), dtype=np.float32)
        for lo in range(0, n, 4096):
            hi = min(lo + 4096, n)
            out[lo:hi] = np.einsum("blk,bl->bk", centroids.T[cols[lo:hi]], vals[lo:hi])
        return out

    def centre(rows: IntArray) -> npt.NDArray[np.float32]:
        vec = np.zeros(dims, dtype=np.float32)
        np.add.at(vec, cols[rows].ravel(), vals[rows].ravel())
        return vec / max(float(np.linalg.norm(vec)), 1e-12)

    centroids = np.zeros((k, dims), dtype=np.float32)
    centroids[0] = centre(np.array([rng.integers(n)]))
    closest = 1.0 - sims_to(centroids[:1])[:, 0]
    for j in range(1, k):
        weights = np.maximum(closest, 0) ** 2
        pick = int(rng.choice(n, p=weights / weights.sum())) if weights.sum() > 0 else int(rng.integers(n))
        centroids[j] = centre(np.array([pick]))
        closest = np.minimum(closest, 1.0 - sims_to(centroids[j : j + 1])[:, 0])
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iterations):
        new = sims_to(centroids).argmax(axis=1)
        if _ and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            rows = np.nonzero(labels == j)[0]
            if rows.size:
                centroids[j] = centre(rows)
    return labels.tolist(), time.perf_counter() - began


# -- the report ------------------------------------------------------------------------------


def _detector_report(
    stream: Sequence[Post], assignments: Sequence[Assignment], seconds: float, detail: bool
) -> dict[str, Any]:
    stories = [a.story for a in assignments]
    events = [p.event for p in stream]
    recall, found = first_story_recall(stream, assignments)
    report: dict[str, Any] = {
        **cluster_scores(stories, events),
        "first_story_recall": round(recall, 4),
        "stories": len(set(stories)),
        "first_stories_flagged": sum(a.new for a in assignments),
        "posts_per_second": round(len(stream) / max(seconds, 1e-9)),
        "peak_rss_mb": peak_rss_mb(),
    }
    report.update(_breakdowns(stream, stories, found if detail else None))
    return report


def _breakdowns(stream: Sequence[Post], stories: Sequence[int], found: dict[str, bool] | None) -> dict[str, Any]:
    groups: dict[str, dict[str, list[int]]] = {"per_dataset": {}, "per_language_group": {}}
    for i, post in enumerate(stream):
        groups["per_dataset"].setdefault(post.dataset, []).append(i)
        groups["per_language_group"].setdefault(language_group(post.lang), []).append(i)
    out: dict[str, Any] = {}
    for name, members in groups.items():
        out[name] = {
            key: {"posts": len(rows), **cluster_scores([stories[i] for i in rows], [stream[i].event for i in rows])}
            for key, rows in sorted(members.items())
        }
    if found is not None:
        per_event: dict[str, dict[str, Any]] = {}
        by_event: dict[str, list[int]] = {}
        for i, post in enumerate(stream):
            by_event.setdefault(post.event, []).append(i)
        for event, rows in sorted(by_event.items()):
            mine = [stories[i] for i in rows]
            counts: dict[int, int] = {}
            for story in mine:
                counts[story] = counts.get(story, 0) + 1
            biggest = max(counts.values())
            # purity of this event's biggest story: how much of it is of this event
            biggest_story = max(counts, key=lambda story: counts[story])
            total = sum(1 for story in stories if story == biggest_story)
            per_event[event] = {
                "posts": len(rows),
                "stories": len(counts),
                "largest_story_share": round(biggest / len(rows), 4),
                "largest_story_purity": round(biggest / total, 4),
                "first_story_found": found[event],
            }
        out["per_event"] = per_event
    return out


def evaluate(
    folders: Sequence[Path],
    seed: int = 0,
    baselines: bool = True,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    posts: list[Post] = []
    for folder in folders:
        read = read_folder(folder)
        progress(f"{folder}: {len(read)} posts, {len({p.event for p in read})} events")
        posts.extend(read)
    if not posts:
        msg = "no labelled posts in " + ", ".join(str(folder) for folder in folders)
        raise DatasetError(msg)
    stream = [Post(p.uid, p.event, p.time, normalise(p.text), p.lang, p.dataset) for p in interleave(posts, seed)]
    n_events = len({p.event for p in stream})
    progress(f"stream: {len(stream)} posts, {n_events} events; story detector")
    assignments, seconds = run_detector(StoryDetector(), stream)
    report: dict[str, Any] = {"posts": len(stream), "events": n_events, "seed": seed}
    report.update(_detector_report(stream, assignments, seconds, detail=True))
    if baselines:
        progress("baseline: Petrović LSH")
        plain, plain_seconds = run_detector(PetrovicDetector(seed=seed), stream)
        progress("baseline: k-means")
        labels, km_seconds = kmeans(stream, n_events, seed)
        km = {
            **cluster_scores(labels, [p.event for p in stream]),
            "first_story_recall": None,
            "posts_per_second": round(len(stream) / max(km_seconds, 1e-9)),
            "peak_rss_mb": peak_rss_mb(),
        }
        km.update(_breakdowns(stream, labels, None))
        report["baselines"] = {
            "petrovic_lsh": _detector_report(stream, plain, plain_seconds, detail=False),
            "kmeans_true_k": km,
        }
    return report


def settings_description(seed: int) -> dict[str, Any]:
    return {
        "seed": seed,
        "window_days": WINDOW_SECONDS // 86400,
        "batch": BATCH,
        "first_story_within_posts": FIRST_POSTS,
        "first_story_min_posts": MIN_STORY_POSTS,
        "retweets": "dropped",
        "crisislex_t6_off_topic": "dropped",
    }


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False, default=float)


__all__ = ["cluster_scores", "dumps", "evaluate", "first_story_recall", "interleave", "read_folder"]
