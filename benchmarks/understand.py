"""The understanding stage: posts/s of language + information type + first-hand + place, on one core.

    .venv/bin/python benchmarks/understand.py [--data ../shared/data] [--posts 20000] [--repeat 3]

Two figures, each with a reference measured in the same run (machines here are noisy):

* ``fast path``: ``Understanding.understand_many`` over real posts (CrisisLexT26 streams, the
  #MahsaAmini tweets and Kawarith's Arabic tweets from ``--data``, or generated posts when it is
  absent) as Post objects, in batches of 2,000, one process. The issue's target is >= 10,000
  posts/s on one core. The reference is a plain ``text.lower().split()`` over the same texts.
* ``stage``: ``Workspace.update_insights`` over a data folder holding those posts: reading them
  back, understanding them and writing the insights (one process, one core).

It also prints the share of time of each model, measured by running them alone on the same posts.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from groundspeed.understand.insights import Understanding
from groundspeed.workspace import Workspace

BATCH = 2000


def real_texts(data: Path, limit: int) -> list[tuple[str, str | None]]:
    """(text, platform language) of real posts, mixed: English streams, Persian, Arabic."""
    texts: list[tuple[str, str | None]] = []
    streams = data / "crisislex_t26_streams" / "streams_slim.csv"
    if streams.exists():
        with streams.open(encoding="utf-8", newline="") as handle:
            texts.extend(
                (row["text"], row["lang"] or None) for row in itertools.islice(csv.DictReader(handle), limit // 2)
            )
    persian = data / "persian" / "mahsaamini_baraye_tweets" / "baraye_tweets_merged.jsonl"
    if persian.exists():
        with persian.open(encoding="utf-8") as handle:
            for line in itertools.islice(handle, limit // 4):
                record = json.loads(line)
                text = record.get("Text")
                if isinstance(text, str):
                    texts.append((text, "fa"))
    arabic = data / "kawarith" / "labeled.csv"
    if arabic.exists():
        with arabic.open(encoding="utf-8", newline="") as handle:
            texts.extend((row["text"], "ar") for row in itertools.islice(csv.DictReader(handle), limit // 4))
    return texts


def generated_texts(limit: int) -> list[tuple[str, str | None]]:
    from groundspeed.synthetic import generate_tweets

    return [(tweet["text"], tweet.get("lang")) for tweet in itertools.islice(generate_tweets(limit), limit)]


def as_tweets(texts: list[tuple[str, str | None]]) -> str:
    start = datetime(2031, 5, 1, tzinfo=UTC)
    lines = []
    for number, (text, lang) in enumerate(texts):
        lines.append(
            json.dumps(
                {
                    "id_str": str(1_000_000 + number),
                    "created_at": (start + timedelta(seconds=number)).strftime("%a %b %d %H:%M:%S +0000 %Y"),
                    "text": text,
                    "lang": lang,
                    "user": {"id_str": str(number % 997), "screen_name": f"user{number % 997}", "location": ""},
                    "entities": {"hashtags": [], "urls": [], "user_mentions": []},
                }
            )
        )
    return "\n".join(lines) + "\n"


def best_of(repeat: int, work: object) -> float:
    assert callable(work)
    times = []
    for _ in range(repeat):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    texts = real_texts(args.data, args.posts) if args.data.exists() else []
    if not texts:
        print(f"{args.data} not found: measuring on generated posts", file=sys.stderr)
        texts = generated_texts(args.posts)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "posts.jsonl"
        source.write_text(as_tweets(texts), encoding="utf-8")
        stage = Understanding()
        with Workspace(Path(folder) / "data", fsync=False) as workspace:
            workspace.understanding = stage
            workspace.import_file(source)
            store = workspace.store()
            posts = list(store.iter_posts())
            batches = [posts[start : start + BATCH] for start in range(0, len(posts), BATCH)]
            stage.understand_many(batches[0][:10])  # load the models outside the timing
            plain = [text for text, _ in texts]
            reference = best_of(args.repeat, lambda: [text.lower().split() for text in plain])
            fast = best_of(args.repeat, lambda: [stage.understand_many(batch) for batch in batches])
            language = best_of(
                args.repeat,
                lambda: [
                    stage.languages.detect_many([p.original_text or "" for p in b], [p.lang for p in b])
                    for b in batches
                ],
            )
            mentions = best_of(
                args.repeat,
                lambda: [
                    stage.geocoder.mentions_many([p.original_text or "" for p in b], [None] * len(b)) for b in batches
                ],
            )
            rounds = []
            for _ in range(args.repeat):
                store.reset_insights(stage.models)
                started = time.process_time()
                workspace.update_insights()
                rounds.append(time.process_time() - started)
            whole = statistics.median(rounds)
            summary = store.insight_summary()
    n = len(posts)
    print(f"posts: {n:,} ({len(texts):,} texts); Python {sys.version.split()[0]}, one process")
    print(f"reference lower().split(): {reference:.3f} s ({n / reference:,.0f} posts/s)")
    print(
        f"fast path understand_many: {fast:.3f} s = {n / fast:,.0f} posts/s on one core "
        f"(target >= 10,000), ratio to reference {fast / reference:.1f}x"
    )
    print(
        f"  of which language {language / fast:.0%}, place mentions {mentions / fast:.0%}, "
        f"the rest (classifier, placing) {max(0.0, 1 - (language + mentions) / fast):.0%}"
    )
    print(f"stage update_insights (read, understand, write): {whole:.3f} s = {n / whole:,.0f} posts/s (CPU time)")
    print(
        f"found: {summary['first_hand']:,} first-hand, {summary['informative']:,} informative, "
        f"{summary['placed']:,} placed; languages {dict(itertools.islice(summary['by_detected_language'].items(), 6))}"
    )


if __name__ == "__main__":
    main()
