"""Place mentions: posts per second of ``Geocoder.mentions_many`` on batches of 1,000 real posts.

    .venv/bin/python benchmarks/geo.py [--data ../shared/data] [--repeat 3]

The posts are IDRISI tweets (English and Arabic) and Persian tweets (ParsTwiNER and the
#MahsaAmini stream), interleaved. A reference pass over the same texts in the same run
(``str.lower()`` and ``split()`` of every text) tells how fast this machine is at the moment;
the ratio is the figure to compare between machines and runs. Best of ``--repeat`` rounds.
A text repeated within a batch is read once (``distinct_texts`` says how many there are).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from groundspeed.evaluation.geo import read_conll_locations
from groundspeed.understand.geo import Geocoder

BATCH = 1_000


def load_texts(data: Path) -> tuple[list[str], list[str | None]]:
    texts: list[str] = []
    langs: list[str | None] = []
    with (data / "idrisi" / "mentions_gold.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            texts.append(row["text"])
            langs.append(row["lang"].lower())
    for text, _ in read_conll_locations(data / "persian" / "parstwiner" / "train.txt"):
        texts.append(text)
        langs.append("fa")
    stream = data / "persian" / "mahsaamini_baraye_tweets" / "baraye_tweets_merged.jsonl"
    if stream.exists():
        with stream.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                text = record.get("Text") or record.get("text")
                if isinstance(text, str):
                    texts.append(text)
                    langs.append("fa")
    # Interleave languages the way a mixed stream would be.
    order = sorted(range(len(texts)), key=lambda i: (i * 7919) % len(texts))
    return [texts[i] for i in order], [langs[i] for i in order]


def best_seconds(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return best


def batched(texts: Sequence[str], langs: Sequence[str | None], geocoder: Geocoder) -> int:
    found = 0
    for begin in range(0, len(texts), BATCH):
        for mentions in geocoder.mentions_many(texts[begin : begin + BATCH], langs[begin : begin + BATCH]):
            found += len(mentions)
    return found


def reference(texts: Sequence[str]) -> int:
    words = 0
    for text in texts:
        words += len(text.lower().split())
    return words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    began = time.perf_counter()
    geocoder = Geocoder.load()
    print(f"gazetteer loaded in {time.perf_counter() - began:.2f} s", file=sys.stderr)
    texts, langs = load_texts(args.data)
    found = batched(texts, langs, geocoder)  # warm-up (and the count)
    seconds = best_seconds(lambda: batched(texts, langs, geocoder), args.repeat)
    reference_seconds = best_seconds(lambda: reference(texts), args.repeat)
    rate = len(texts) / seconds
    reference_rate = len(texts) / reference_seconds
    report = {
        "posts": len(texts),
        "distinct_texts": len(set(texts)),
        "mentions_found": found,
        "posts_per_second": round(rate),
        "microseconds_per_post": round(1e6 / rate, 2),
        "reference_posts_per_second": round(reference_rate),
        "ratio_to_reference": round(rate / reference_rate, 4),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
