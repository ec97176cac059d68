"""Post classifier speed: posts/s of ``Classifier.classify_many`` on batches of 1,000, one core.

    .venv/bin/python benchmarks/classify.py [--data ../shared/data] [--posts 20000] [--repeat 3]

Texts: real posts from the shared development data when it is there (HumAID, Kawarith, CrisisLexT26 and
the Persian Telegram channel, mixed), otherwise generated sentences. A reference is measured in the same
run over the same texts: a plain ``str.lower().split()`` pass, the least any text feature must cost, so the
ratio says how the classifier compares on this machine whatever its speed. Best of ``--repeat`` rounds,
as wall-clock time and as the CPU time of this process (steadier on a shared machine).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from groundspeed.understand.classify import Classifier, ClassifyInput

ROOT = Path(__file__).resolve().parents[1]
_SOURCES = (
    ("humaid/labeled.csv", "text"),
    ("kawarith/labeled.csv", "text"),
    ("crisislex_t26/labeled.csv", "text"),
    ("persian/sut_tw_telegram_2025_2026/all_cleaned.csv", "cleaned_text"),
)
_WORDS = [
    *[
        "fire",
        "flood",
        "water",
        "road",
        "bridge",
        "closed",
        "people",
        "dead",
        "injured",
        "we",
        "are",
        "safe",
        "here",
        "now",
        "please",
        "help",
    ],
    *[
        "volunteers",
        "needed",
        "shelter",
        "power",
        "out",
        "warning",
        "stay",
        "home",
        "prayers",
        "news",
        "update",
        "police",
        "protest",
    ],
]


def texts_from(data: Path, wanted: int) -> list[str]:
    """Up to ``wanted`` real texts, a share from each source that exists (none when the data is absent)."""
    found: list[str] = []
    csv.field_size_limit(1 << 30)
    for relative, column in _SOURCES:
        path = data / relative
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle)):
                if number >= wanted // len(_SOURCES):
                    break
                found.append(row.get(column) or "")
    return found


def generated(wanted: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(_WORDS, k=rng.randint(5, 25))) for _ in range(wanted)]


def best_of(repeat: int, work: Callable[[], None]) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``repeat`` runs (CPU time is what this process used: on a
    machine shared with other work it is the steadier figure)."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
    return best, best_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args(argv)
    texts = texts_from(args.data, args.posts)
    source = "shared data"
    if not texts:
        print(f"{args.data} not found: generated texts", file=sys.stderr)
        texts, source = generated(args.posts), "generated"
    random.Random(1).shuffle(texts)
    items = [ClassifyInput(text) for text in texts]
    batches = [items[start : start + args.batch] for start in range(0, len(items), args.batch)]
    classifier = Classifier.load()
    classifier.classify_many(batches[0])  # load and warm up

    def classify() -> None:
        for batch in batches:
            classifier.classify_many(batch)

    def reference() -> None:
        for text in texts:
            text.lower().split()

    seconds, cpu = best_of(args.repeat, classify)
    reference_seconds, reference_cpu = best_of(args.repeat, reference)
    n = len(items)
    print(f"texts: {n:,d} ({source}), batches of {args.batch:,d}")
    print(
        f"classify_many: {n / seconds:,.0f} posts/s wall ({1e6 * seconds / n:.1f} µs/post), CPU {1e6 * cpu / n:.1f} µs/post"
    )
    print(
        f"reference lower+split: {n / reference_seconds:,.0f} posts/s wall, CPU {1e6 * reference_cpu / n:.2f} µs/post"
    )
    print(
        f"ratio (classifier time / reference time): {seconds / reference_seconds:.1f} wall, {cpu / reference_cpu:.1f} CPU"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
