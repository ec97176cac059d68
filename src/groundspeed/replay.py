"""Replaying posts as if they were arriving now: the demo's live situation room, and rehearsals.

A replay takes posts (lines of X API v1.1 JSON, say) ordered by when they were written and feeds
them to a data folder a little at a time, faster than they happened: a night of posts in ten
minutes. Each step goes through the same path as live collection (:meth:`Workspace.ingest_records`:
spooled, parsed, stored), then bursts, stories and insights are brought up to date, so every page
of the situation room changes as it would during a crisis. Posts keep their own times: the pages
show the night as it was, only faster.

Posts a data folder already holds are skipped as they would be in an import, so a replay into a
folder that saw it before adds nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from .formats.x_v1 import _v1_time
from .workspace import Workspace

_ANALYSE_EVERY_S = 10.0  # bursts, stories and insights are refreshed this often (wall clock)


class _Stamp(msgspec.Struct):
    created_at: str | None = None


_STAMP = msgspec.json.Decoder(_Stamp)


def event_times(lines: Sequence[bytes]) -> list[datetime | None]:
    """When each X v1.1 line was posted (None for a line that says nothing readable)."""
    times: list[datetime | None] = []
    for line in lines:
        try:
            stamp = _STAMP.decode(line).created_at
        except (msgspec.DecodeError, msgspec.ValidationError):
            stamp = None
        times.append(_v1_time(stamp) if stamp else None)
    return times


@dataclass(slots=True)
class ReplayStatus:
    """Where a replay stands (read by the web pages and the command line)."""

    total: int
    sent: int = 0
    stored: int = 0
    event_time: datetime | None = None  # the time in the replayed posts reached so far
    speed: float = 1.0  # replayed seconds per wall-clock second
    finished: bool = False
    error: str | None = None
    started_at: float = field(default_factory=time.monotonic)


class Replay:
    """Feeds ``lines`` (records of ``format_name``) into the data folder at ``root`` over about
    ``duration`` seconds, in steps of ``step`` seconds. Run it with :meth:`run` (it blocks; give
    it a thread) and stop it with :meth:`stop`."""

    def __init__(
        self,
        root: Path,
        lines: Sequence[bytes],
        *,
        source: str = "replay:demo",
        format_name: str = "x-v1",
        duration: float = 600.0,
        step: float = 2.0,
        sleep: Callable[[float], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        times = event_times(lines)
        known = [when for when in times if when is not None]
        self.root = root
        self.source = source
        self.format_name = format_name
        self.step = step
        # Lines without a time (a broken record) go with the line before them: they are stored
        # or quarantined in their turn, never left out.
        order = sorted(range(len(lines)), key=lambda index: (times[index] or _previous(times, index) or _EPOCH, index))
        self._lines = [lines[index] for index in order]
        self._times = [times[index] or _previous(times, index) for index in order]
        self.first = min(known) if known else None
        self.last = max(known) if known else None
        span = (self.last - self.first).total_seconds() if self.first and self.last else 0.0
        self.status = ReplayStatus(total=len(lines), speed=max(1.0, span / max(duration, step)))
        self._stopping = threading.Event()
        # sleep(seconds) returns True when the replay is to stop; tests pass a fake clock.
        self._sleep = sleep or self._stopping.wait
        self._clock = clock

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> ReplayStatus:
        status = self.status
        try:
            with Workspace(self.root) as workspace:
                workspace.sync_trackers()
                self._feed(workspace)
        except Exception as exc:  # a replay must not take the situation room down with it
            status.error = f"{type(exc).__name__}: {exc}"
        status.finished = True
        return status

    def _feed(self, workspace: Workspace) -> None:
        status = self.status
        next_line = 0
        clock = self._clock
        started = last_analysis = clock()
        while next_line < len(self._lines) and not self._stopping.is_set():
            elapsed = clock() - started
            reached = self.first.timestamp() + elapsed * status.speed if self.first else float("inf")
            end = next_line
            while end < len(self._lines) and ((when := self._times[end]) is None or when.timestamp() <= reached):
                end += 1
            if end > next_line:
                records = [(f"{self.source}:{index + 1}", self._lines[index]) for index in range(next_line, end)]
                result = workspace.ingest_records(records, source=self.source, format_name=self.format_name)
                status.sent, status.stored = end, status.stored + result.new
                status.event_time = self._times[end - 1] or status.event_time
                next_line = end
            if clock() - last_analysis >= _ANALYSE_EVERY_S or next_line >= len(self._lines):
                workspace.analyse()
                last_analysis = clock()
            if next_line < len(self._lines) and self._sleep(self.step):
                break


def demo_lines(*, seed: int = 1402, count: int = 3000) -> list[bytes]:
    """The demo's live stream: the bundled sample night (600 posts in a few minutes), then an
    evening made up by :mod:`groundspeed.synthetic`: a calm stretch, a sudden burst (ten times
    the pace for a quarter of an hour), and a calm again, so bursts and new stories show up.

    The generated posts are re-timed as a whole (embedded originals too, so a retweet never comes
    before its original); nothing in them is real."""
    import gzip
    from datetime import timedelta
    from importlib import resources

    from .synthetic import generate_tweets

    sample = gzip.decompress((resources.files("groundspeed") / "samples" / "x-v1-protest-night.jsonl.gz").read_bytes())
    lines = [line for line in sample.splitlines() if line.strip()]
    known = [when for when in event_times(lines) if when is not None]
    clock = (max(known) if known else datetime(2022, 9, 16, 18, tzinfo=UTC)) + timedelta(minutes=10)
    burst = range(count * 2 // 5, count * 2 // 5 + count // 5)
    retimed: dict[str, str] = {}
    encoder = msgspec.json.Encoder()
    for index, tweet in enumerate(generate_tweets(count, seed=seed, start=clock, authors=400)):
        clock += timedelta(seconds=1.5 if index in burst else 15.0)
        stamp = clock.strftime("%a %b %d %H:%M:%S +0000 %Y")
        retimed[tweet["id_str"]] = stamp
        tweet["created_at"] = stamp
        original = tweet.get("retweeted_status")
        if original is not None:  # an earlier post of the stream: re-timed already
            tweet["retweeted_status"] = {**original, "created_at": retimed.get(original["id_str"], stamp)}
        lines.append(encoder.encode(tweet))
    return lines


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _previous(times: Sequence[datetime | None], index: int) -> datetime | None:
    while index > 0:
        index -= 1
        if times[index] is not None:
            return times[index]
    return None
