"""Import speed against a plain msgspec decode of the same file, measured in the same run.

    .venv/bin/python benchmarks/ingest.py [--posts 200000] [--repeat 3]

Generates a reproducible tweet-like JSONL file (X API v1.1 shape, Persian/Arabic/English text,
retweets with embedded originals), then times:

* reference: read the file and decode every line into a typed ``msgspec.Struct`` with the fields
  groundspeed maps (what a bare-bones reader would do);
* import: ``groundspeed import`` end to end into a fresh workspace: spool (zstd, fsync), decode,
  normalise, store in SQLite with the full-text index, spool position committed with each batch.

Prints posts/s for both and the ratio (import time / reference time). Lower is better; the
target for the foundation is <= 6x, stretch 4x. Also prints every round (the machine is noisy:
rounds are interleaved and medians reported), the stage times of the median import (they overlap:
parse workers, the store writer and the importer run at once; see ``ImportReport.timings``) and
the peak resident memory of the importer and of the largest parse worker.

``GROUNDSPEED_WORKERS=0`` measures the single-process path.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from groundspeed.synthetic import write_jsonl
from groundspeed.track.trackers import dump_trackers
from groundspeed.workspace import TRACKING_ENV, ImportReport, Workspace

WORK = Path(__file__).parent / "_work"
sys.path.insert(0, str(Path(__file__).parent))
from rules import build_trackers  # type: ignore[import-not-found]  # noqa: E402  (benchmarks/rules.py)


class RefUser(msgspec.Struct):
    id_str: str | None = None
    screen_name: str | None = None
    name: str | None = None
    followers_count: int | None = None
    verified: bool | None = None
    location: str | None = None


class RefHashtag(msgspec.Struct):
    text: str


class RefUrl(msgspec.Struct):
    url: str | None = None
    expanded_url: str | None = None


class RefMention(msgspec.Struct):
    screen_name: str | None = None


class RefEntities(msgspec.Struct):
    hashtags: list[RefHashtag] = []
    urls: list[RefUrl] = []
    user_mentions: list[RefMention] = []


class RefPoint(msgspec.Struct):
    coordinates: list[float]


class RefTweet(msgspec.Struct):
    id_str: str
    created_at: str
    text: str | None = None
    full_text: str | None = None
    lang: str | None = None
    user: RefUser | None = None
    entities: RefEntities | None = None
    coordinates: RefPoint | None = None
    retweet_count: int | None = None
    favorite_count: int | None = None
    in_reply_to_status_id_str: str | None = None
    retweeted_status: RefTweet | None = None


def reference_decode(path: Path) -> int:
    decoder = msgspec.json.Decoder(RefTweet)
    count = 0
    with open(path, "rb") as handle:
        for line in handle:
            decoder.decode(line)
            count += 1
    return count


def timed(function, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


UNDERSTOOD: list[tuple[float, int]] = []  # (seconds, posts) of the understanding stage runs


def import_once(
    path: Path, trackers: str | None = None, *, tracking: bool = True, understand: bool = False
) -> tuple[float, ImportReport]:
    """One import into a fresh data folder; with ``understand``, then the understanding stage
    (language, type, first-hand, place), timed apart and noted in UNDERSTOOD."""
    root = Path(tempfile.mkdtemp(prefix="gs-bench-", dir=WORK))
    os.environ[TRACKING_ENV] = "on" if tracking else "off"
    try:
        if trackers is not None:
            (root / "trackers.toml").write_text(trackers, encoding="utf-8")
        with Workspace(root) as workspace:
            seconds, report = timed(workspace.import_file, path)
            if understand:
                UNDERSTOOD.append(timed(workspace.update_insights))
            return seconds, report
    finally:
        shutil.rmtree(root, ignore_errors=True)


def breakdown(timings: dict[str, float]) -> str:
    """Seconds per stage (they overlap: the writer thread and the parse workers run in parallel)."""
    order = ["read", "spool", "send", "wait", "parse", "rows", "receive", "store"]
    names = [name for name in order if name in timings] + sorted(set(timings) - set(order))
    return ", ".join(f"{name} {timings[name]:.2f}" for name in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2009)
    parser.add_argument(
        "--rules", type=int, default=1000, help="rules (in 10 trackers) for the tracked import; 0 skips it"
    )
    parser.add_argument(
        "--no-understand",
        dest="understand",
        action="store_false",
        help="skip timing the understanding stage after the first full import",
    )
    args = parser.parse_args()
    trackers = dump_trackers(build_trackers(args.rules, 10)) if args.rules else None
    WORK.mkdir(exist_ok=True)
    path = WORK / f"tweets-v2-{args.posts}-{args.seed}.jsonl"  # v2: texts with varied words, copy campaigns
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        write_jsonl(str(path), args.posts, seed=args.seed)
    size_mb = path.stat().st_size / 1e6
    reference: list[float] = []
    imports: list[float] = []
    reports: list[ImportReport] = []
    foundation: list[float] = []
    tracked: list[float] = []
    tracked_reports: list[ImportReport] = []
    for round_number in range(args.repeat):
        # Interleave them so that machine noise hits all alike.
        seconds, count = timed(reference_decode, path)
        reference.append(seconds)
        seconds, report = import_once(path, tracking=False)
        foundation.append(seconds)
        print(
            f"round {round_number + 1}: foundation alone (GROUNDSPEED_TRACKING=off) {seconds:.2f} s; "
            f"stages: {breakdown(report.timings)}",
            file=sys.stderr,
        )
        seconds, report = import_once(path, understand=args.understand and round_number == 0)
        imports.append(seconds)
        reports.append(report)
        print(
            f"round {round_number + 1}: reference {reference[-1]:.2f} s, import {imports[-1]:.2f} s "
            f"({report.new:,} posts stored, {report.duplicates:,} duplicates, {report.near_copies:,} near-copies)\n"
            f"  stages (s, overlapping): {breakdown(report.timings)}",
            file=sys.stderr,
        )
        if trackers is not None:
            seconds, report = import_once(path, trackers)
            tracked.append(seconds)
            tracked_reports.append(report)
            print(
                f"  with {args.rules:,} rules: import {tracked[-1]:.2f} s; stages: {breakdown(report.timings)}",
                file=sys.stderr,
            )
    ref = statistics.median(reference)
    imp = statistics.median(imports)
    median_report = reports[imports.index(sorted(imports)[len(imports) // 2])]
    # ru_maxrss is in KiB on Linux; RUSAGE_CHILDREN is the largest of the parse workers.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"file: {count:,} lines, {size_mb:.0f} MB; Python {platform.python_version()}, {os.cpu_count()} cores")
    print(f"reference msgspec typed decode: {ref:.2f} s  ({count / ref:,.0f} posts/s)")
    print(f"groundspeed import:             {imp:.2f} s  ({count / imp:,.0f} posts/s)")
    base = statistics.median(foundation)
    print(
        f"foundation alone (decode, normalise, dedup, store with FTS; no tracking stages): {base:.2f} s, "
        f"ratio {base / ref:.2f}x (fastest rounds {min(foundation) / min(reference):.2f}x; target <= 6x, stretch 4x)"
    )
    print(f"ratio import / reference:       {imp / ref:.2f}x   (with near-copies and timelines)")
    best = min(imports) / min(reference)
    print(f"ratio of the fastest rounds:    {best:.2f}x")
    if tracked:
        with_rules = statistics.median(tracked)
        print(
            f"import with {args.rules:,} rules in 10 trackers: {with_rules:.2f} s, "
            f"ratio {with_rules / ref:.2f}x (fastest rounds {min(tracked) / min(reference):.2f}x; target <= 8x)"
        )
    print(
        f"rounds: reference {', '.join(f'{x:.2f}' for x in reference)}; "
        f"foundation {', '.join(f'{x:.2f}' for x in foundation)}; import {', '.join(f'{x:.2f}' for x in imports)}; "
        f"with rules {', '.join(f'{x:.2f}' for x in tracked)}"
    )
    print(f"stages of the median import (s, overlapping): {breakdown(median_report.timings)}")
    for seconds, posts in UNDERSTOOD:
        print(
            f"understanding stage after the import (language, type, first-hand, place; one process): "
            f"{posts:,} posts in {seconds:.2f} s = {posts / seconds:,.0f} posts/s "
            "(reposts of stored posts inherit their original's, without the models)"
        )
    print(f"peak RSS: importer {peak_mb:.0f} MB, largest parse worker {worker_mb:.0f} MB")


if __name__ == "__main__":
    main()
