"""Replays: posts fed a little at a time, in the order they were written, through the live path
(spool first), with bursts, stories and insights brought up to date; nothing left out."""

from __future__ import annotations

import gzip
import itertools
import json
import threading
from importlib import resources
from pathlib import Path

from groundspeed.replay import Replay, demo_lines, event_times
from groundspeed.workspace import Workspace


class FakeTime:
    """A clock that moves only when the replay sleeps; notes what was sent at each step."""

    def __init__(self, replay: Replay | None = None) -> None:
        self.now = 0.0
        self.replay = replay
        self.sent: list[int] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.now += seconds
        if self.replay is not None:
            self.sent.append(self.replay.status.sent)
        return False


def fast_replay(root: Path, lines: list[bytes], **options: object) -> tuple[Replay, FakeTime]:
    fake = FakeTime()
    replay = Replay(root, lines, sleep=fake.sleep, clock=fake.clock, **options)  # type: ignore[arg-type]
    fake.replay = replay
    return replay, fake


def sample_lines() -> list[bytes]:
    data = (resources.files("groundspeed") / "samples" / "x-v1-protest-night.jsonl.gz").read_bytes()
    return [line for line in gzip.decompress(data).splitlines() if line.strip()]


def test_a_replay_stores_every_post_in_time_order_and_quarantines_the_broken_line(tmp_path: Path) -> None:
    lines = sample_lines()
    replay, fake = fast_replay(tmp_path / "data", list(reversed(lines)), duration=60, step=2)
    status = replay.run()
    assert status.error is None and status.finished
    assert status.sent == status.total == len(lines)
    assert len(set(fake.sent)) > 10 and fake.sent == sorted(fake.sent)  # many steps, never going back
    with Workspace(tmp_path / "data").reader() as store:
        stats = store.stats()
    assert stats["quarantined"] == 1  # the line cut short on purpose
    assert stats["posts"] == status.stored > 500
    assert stats["insights"]["understood"] == stats["posts"]  # insights brought up to date at the end
    # The spool holds the records in the order they were written, whatever order they came in.
    with Workspace(tmp_path / "data") as workspace:
        spooled = [payload for frame in workspace.spool.read(0) for _, payload in frame.body.records]
    times = [when for when in event_times(spooled) if when is not None]
    assert times == sorted(times)


def test_a_replay_into_a_folder_that_has_it_adds_nothing(tmp_path: Path) -> None:
    lines = sample_lines()[:50]
    fast_replay(tmp_path / "data", lines, duration=10)[0].run()
    again = fast_replay(tmp_path / "data", lines, duration=10)[0].run()
    assert again.stored == 0 and again.sent == 50


def test_a_replay_stops_when_asked_and_reports_errors_instead_of_raising(tmp_path: Path) -> None:
    lines = [json.dumps({"created_at": f"Fri Sep 16 18:{minute:02d}:00 +0000 2022"}).encode() for minute in range(60)]
    replay = Replay(tmp_path / "data", lines, duration=3600, step=0.01)
    thread = threading.Thread(target=replay.run)
    thread.start()
    replay.stop()
    thread.join(timeout=30)
    assert not thread.is_alive() and replay.status.finished
    assert replay.status.sent < 60  # stopped early, at real (slow) speed
    status = fast_replay(tmp_path / "other", lines, format_name="no-such-format")[0].run()
    assert status.finished and status.error is not None and "no-such-format" in status.error


def test_the_demo_stream_has_a_burst_and_no_retweet_before_its_original() -> None:
    lines = demo_lines(count=1000)
    records = [json.loads(line) for line in lines[600:]]
    stamps = {record["id_str"]: record["created_at"] for record in records}
    times = [when for when in event_times(lines[600:]) if when is not None]
    assert times == sorted(times)
    for record in records:
        original = record.get("retweeted_status")
        if original is not None and original["id_str"] in stamps:
            assert original["created_at"] == stamps[original["id_str"]]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]
    assert max(gaps) == 15.0  # the calm
    assert sum(gap <= 2 for gap in gaps) >= 190  # the burst: 200 posts 1.5 s apart (times in whole seconds)
