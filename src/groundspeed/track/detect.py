"""Finding and explaining the peaks of stored timelines (``groundspeed peaks``, and after imports).

The timeline of a series (posts per minute, kept by the store as posts arrive) is summed into bins
(10 minutes by default), gaps filled with zeros, and run through the default burst detector
(:mod:`.peaks`), bin by bin in event time, exactly as the streaming detector would have seen it.
Each peak is explained (:mod:`.explain`) from the posts of the tracker inside the burst against
the day before it, and recorded in the ``peaks`` table with when it was raised. Explanations of
peaks already recorded with the same span are kept, so running this after every import costs
little.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from ..model import Post
from .explain import explain
from .peaks import Peak, find_peaks

DEFAULT_BIN_MINUTES = 10
BASELINE = timedelta(hours=24)
WINDOW_POSTS_LIMIT = 20_000


class PeakStore(Protocol):
    def timeline(
        self, series: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[str, int, int]]: ...

    def peaks(self, series: str, *, bin_minutes: int | None = None) -> list[dict[str, Any]]: ...

    def replace_peaks(self, series: str, bin_minutes: int, peaks: Any) -> None: ...

    def window_posts(
        self, tracker: str | None, since: datetime, until: datetime, *, limit: int = ...
    ) -> list[Post]: ...

    def amplification(self, uids: Any) -> dict[str, tuple[int, int]]: ...


def minute_start(minute: str) -> datetime:
    """The stored minute ``2022-09-16T18:04`` as an aware UTC datetime."""
    return datetime.fromisoformat(minute).replace(tzinfo=UTC)


def binned(rows: list[tuple[str, int, int]], bin_minutes: int, *, canonical: bool = False) -> tuple[datetime, Any]:
    """(start of the first bin, counts per bin) from timeline rows, gaps filled with zeros."""
    bin_seconds = bin_minutes * 60
    seconds = np.array([int(minute_start(row[0]).timestamp()) for row in rows], dtype=np.int64)
    values = np.array([row[2] if canonical else row[1] for row in rows], dtype=np.int64)
    bins = seconds // bin_seconds
    first = int(bins[0])
    counts = np.bincount(bins - first, weights=values).astype(np.int64)
    return datetime.fromtimestamp(first * bin_seconds, tz=UTC), counts


def series_tracker(series: str) -> str | None:
    return series.removeprefix("tracker:") if series.startswith("tracker:") else None


CANONICAL_SUFFIX = " (one post per message)"


def detect_peaks(
    store: PeakStore,
    series: str,
    *,
    bin_minutes: int = DEFAULT_BIN_MINUTES,
    with_explanations: bool = True,
    canonical: bool = False,
) -> list[dict[str, Any]]:
    """Find, explain and record the peaks of one series; returns them, oldest first.

    ``canonical``: count one post per message (no reposts, no near-copies); recorded as the series
    name with :data:`CANONICAL_SUFFIX`.
    """
    rows = store.timeline(series)
    recorded = series + CANONICAL_SUFFIX if canonical else series
    if not rows:
        store.replace_peaks(recorded, bin_minutes, [])
        return []
    start, counts = binned(rows, bin_minutes, canonical=canonical)
    found = _merged(find_peaks(counts, start=start, bin_seconds=bin_minutes * 60, series=recorded))
    known = {peak["start_at"]: peak for peak in store.peaks(recorded, bin_minutes=bin_minutes)}
    tracker = series_tracker(series)
    records = []
    for peak in found:
        record = _record(peak)
        previous = known.get(record["start_at"])
        if previous is not None and previous["end_at"] == record["end_at"] and previous["explanation"]:
            record["explanation"] = previous["explanation"]
        elif with_explanations and (tracker is not None or series == "all"):
            record["explanation"] = explain_peak(store, tracker, peak)
        records.append(record)
    store.replace_peaks(recorded, bin_minutes, records)
    return store.peaks(recorded, bin_minutes=bin_minutes)


def explain_peak(store: PeakStore, tracker: str | None, peak: Peak) -> dict[str, Any]:
    end = peak.end or (peak.peak + timedelta(seconds=peak.bin_seconds))
    inside = store.window_posts(tracker, peak.start, end, limit=WINDOW_POSTS_LIMIT)
    before = store.window_posts(tracker, peak.start - BASELINE, peak.start, limit=WINDOW_POSTS_LIMIT)
    amplification = store.amplification([post.uid for post in inside if post.kind != "repost"])
    return explain(inside, before, amplification=amplification)


def _merged(peaks: list[Peak]) -> list[Peak]:
    """One peak per burst: the detector reports a burst when raised and again when it ends; the
    last report has the end, the first the time it was raised (the same in both)."""
    by_start: dict[datetime, Peak] = {}
    for peak in peaks:
        by_start[peak.start] = peak
    return sorted(by_start.values(), key=lambda peak: peak.start)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def _record(peak: Peak) -> dict[str, Any]:
    return {
        "start_at": _iso(peak.start),
        "peak_at": _iso(peak.peak),
        "end_at": _iso(peak.end),
        "raised_at": _iso(peak.raised_at),
        "posts": int(peak.total),
        "peak_posts": int(peak.peak_count),
        "baseline": round(float(peak.baseline), 3),
        "score": round(float(peak.score), 3),
    }
