"""Near-copy grouping speed: ``NearCopyIndex.assign`` in batches, against a plain msgspec decode.

    .venv/bin/python benchmarks/nearcopy.py [--posts 200000] [--batch 5000] [--repeat 3]

Uses the reproducible tweet file of ``benchmarks/ingest.py`` (``groundspeed.synthetic``, seed 2009,
made if missing). Every line's text is normalised with ``groundspeed.text.normalise`` beforehand (not
timed: the importer has done it already), then ``assign`` is timed over the posts in batches, in
file order, with a fresh index each round. Two workloads:

* ``all``: the text of every line (200,000; the ~40% retweets included, as "RT @user: ..." text,
  which strips to their original's text: the exact-copy path);
* ``originals``: the lines that are not retweets (what the tracker gives the index: retweets are
  linked by id). The synthetic templates share many words, so ~75% of these posts go through the
  whole MinHash path and find many band candidates: harder than the real streams of
  ``nearcopy_precision.py``.

Prints µs per post (the best and the median round: the machine is shared and noisy, the best round
is the closest to the cost of the code), the share of posts grouped under an earlier one, and the
reference decode of the whole file (``ingest.reference_decode``: read and decode every line into a
typed struct), measured in the same rounds. Target: <= 5 µs per post.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).parent))

from ingest import RefTweet, reference_decode  # type: ignore[import-not-found]

from groundspeed.synthetic import write_jsonl
from groundspeed.text import normalise
from groundspeed.track.nearcopy import NearCopyIndex

WORK = Path(__file__).parent / "_work"


def load(path: Path) -> tuple[list[str], list[bool]]:
    decoder = msgspec.json.Decoder(RefTweet)
    texts: list[str] = []
    retweet: list[bool] = []
    with open(path, "rb") as handle:
        for line in handle:
            tweet = decoder.decode(line)
            texts.append(normalise(tweet.full_text or tweet.text or ""))
            retweet.append(tweet.retweeted_status is not None)
    return texts, retweet


def run(texts: Sequence[str], batch: int) -> tuple[float, int]:
    index = NearCopyIndex()
    uids = [f"p{i}" for i in range(len(texts))]
    results: list[list[str | None]] = []
    start = time.perf_counter()
    for offset in range(0, len(texts), batch):
        results.append(index.assign(uids[offset : offset + batch], texts[offset : offset + batch]))
    elapsed = time.perf_counter() - start
    return elapsed, sum(canonical is not None for result in results for canonical in result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2009)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    path = WORK / f"tweets-v2-{args.posts}-{args.seed}.jsonl"  # the file of ingest.py
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        write_jsonl(str(path), args.posts, seed=args.seed)
    texts, retweet = load(path)
    originals = [text for text, is_retweet in zip(texts, retweet, strict=True) if not is_retweet]
    workloads = {"all": texts, "originals": originals}
    NearCopyIndex().assign(["warm-up"], ["warm up the character table"])
    reference: list[float] = []
    seconds: dict[str, list[float]] = {name: [] for name in workloads}
    grouped: dict[str, int] = {}
    for _ in range(args.repeat):
        start = time.perf_counter()
        lines = reference_decode(path)
        reference.append(time.perf_counter() - start)
        for name, workload in workloads.items():
            elapsed, grouped[name] = run(workload, args.batch)
            seconds[name].append(elapsed)
    best, median = min(reference), statistics.median(reference)
    print(
        f"reference msgspec typed decode of {lines:,} lines: best {best / lines * 1e6:.2f} µs/line, "
        f"median {median / lines * 1e6:.2f} ({', '.join(f'{value:.2f}' for value in reference)} s)"
    )
    for name, workload in workloads.items():
        rounds = seconds[name]
        print(
            f"{name:>9}: {len(workload):,} posts in batches of {args.batch:,}: "
            f"best {min(rounds) / len(workload) * 1e6:.2f} µs/post, median {statistics.median(rounds) / len(workload) * 1e6:.2f} "
            f"({', '.join(f'{value:.2f}' for value in rounds)} s); {grouped[name] / len(workload):.1%} grouped; "
            f"{min(rounds) / best:.2f}x the reference decode of the whole file (best rounds)"
        )


if __name__ == "__main__":
    main()
