"""The fast import path: parse workers, skipping posts already stored, and what must not change.

Imports of more than one batch (5,000 records) are parsed by forked worker processes and stored
by one writer in spool order; posts whose uid is known to be stored (or carried by an earlier batch
of the same import) are not built again. These tests check that the database comes out exactly as
the plain path makes it, and that a failure still commits nothing after the failed batch.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from groundspeed.errors import DiskFullError, GroundspeedError
from groundspeed.formats import framing
from groundspeed.formats.base import POSITIONAL_POSTS
from groundspeed.parse import KnownUids, LayeredUids, parse_frame
from groundspeed.store import Store
from groundspeed.synthetic import generate_tweets
from groundspeed.workspace import WORKERS_ENV, ImportReport, Workspace, parse_workers

BATCH = 5000  # records per batch (set below, smaller than framing's default to keep the test quick)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framing, "BATCH_RECORDS", BATCH)


def write_stream(path: Path, count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """Tweets with retweets (originals embedded), plus a notice and broken lines here and there."""
    tweets = list(generate_tweets(count, seed=seed))
    lines = [json.dumps(tweet, ensure_ascii=False) for tweet in tweets]
    lines.insert(10, '{"delete": {"status": {"id_str": "1"}}}')
    lines.insert(BATCH + 3, '{"id_str": "123", "text": ')  # cut short, in the second batch
    lines.insert(2 * BATCH + 1, "not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tweets


def expected_uids(tweets: list[dict[str, Any]]) -> set[str]:
    uids = {f"x:{tweet['id_str']}" for tweet in tweets}
    uids.update(f"x:{tweet['retweeted_status']['id_str']}" for tweet in tweets if "retweeted_status" in tweet)
    return uids


def table(connection: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in connection.execute(sql)]


# Everything but the arrival time (collected_at) and when a quarantine item was recorded.
POSTS = (
    "SELECT id, uid, platform, native_id, kind, url, created_at, text, original_text, lang, author_id, "
    "author_handle, author_name, author_followers, reposted_uid, quoted_uid, replied_to_uid, hashtags, lat, lon, "
    "place_name, source, spool_seq, details FROM posts ORDER BY id"
)
QUARANTINE = "SELECT source, locator, path, reason, excerpt, spool_seq FROM quarantine ORDER BY id"
SKIPPED = "SELECT source, reason, count FROM skipped_records ORDER BY source, reason"


def snapshot(root: Path) -> dict[str, list[tuple[Any, ...]]]:
    connection = sqlite3.connect(root / "groundspeed.db")
    try:
        return {
            "posts": table(connection, POSTS),
            "quarantine": table(connection, QUARANTINE),
            "skipped": table(connection, SKIPPED),
            "position": table(connection, "SELECT * FROM spool_position"),
            "fts": table(connection, "SELECT rowid, text FROM posts_fts ORDER BY rowid"),
        }
    finally:
        connection.close()


def import_with(root: Path, path: Path, workers: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv(WORKERS_ENV, str(workers))
    with Workspace(root, fsync=False) as workspace:
        report = workspace.import_file(path, format_name="x-v1")
    assert ("rows" in report.timings) == (workers > 0)  # rows are made in the workers only
    return {
        "status": report.status,
        "records": report.records,
        "new": report.new,
        "duplicates": report.duplicates,
        "quarantined": report.quarantined,
        "skipped": report.skipped,
        "quarantine_reasons": dict(report.quarantine_reasons),
        "skipped_reasons": dict(report.skipped_reasons),
    }


def test_workers_store_exactly_what_the_plain_path_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tweets = write_stream(tmp_path / "t.jsonl", 2 * BATCH + 2000)  # three batches
    parallel = import_with(tmp_path / "parallel", tmp_path / "t.jsonl", 2, monkeypatch)
    serial = import_with(tmp_path / "serial", tmp_path / "t.jsonl", 0, monkeypatch)
    assert parallel == serial
    assert parallel["quarantined"] == 2
    assert parallel["skipped"] == 1
    assert parallel["new"] == len(expected_uids(tweets))
    assert parallel["duplicates"] > 0  # retweets carry originals stored before
    assert snapshot(tmp_path / "parallel") == snapshot(tmp_path / "serial")
    assert multiprocessing.active_children() == []

    # The same rows as parsing every record with no uid skipped and storing batch by batch.
    store = Store.open(tmp_path / "plain.db")
    with Workspace(tmp_path / "parallel", fsync=False) as workspace:
        for frame in workspace.spool.read(0):
            parsed = parse_frame(frame.body, frame.first_seq)
            store.write_batch(
                parsed.posts,
                parsed.quarantined,
                parsed.skipped,
                source_of_skipped=frame.body.source,
                spool_position=frame.first_seq + len(frame.body.records),
            )
    store.close()
    plain = sqlite3.connect(tmp_path / "plain.db")
    try:
        assert table(plain, POSTS) == snapshot(tmp_path / "parallel")["posts"]
    finally:
        plain.close()


def test_background_checkpoints_end_with_the_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_stream(tmp_path / "t.jsonl", BATCH + 10)
    monkeypatch.setenv(WORKERS_ENV, "2")
    with Workspace(tmp_path / "data", fsync=False) as workspace:
        workspace.import_file(tmp_path / "t.jsonl")
        connection = workspace.store().connection
        assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # SQLite's own again
        assert not [thread for thread in threading.enumerate() if thread.name.startswith("groundspeed-")]
        with workspace.store().background_checkpoints():
            assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000


def test_reimport_and_reprocess_with_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tweets = write_stream(tmp_path / "t.jsonl", BATCH + 1500)
    monkeypatch.setenv(WORKERS_ENV, "2")
    with Workspace(tmp_path / "data", fsync=False) as workspace:
        first = workspace.import_file(tmp_path / "t.jsonl")
        store = workspace.store()
        stored = store.count_posts()
        assert stored == first.new == len(expected_uids(tweets))
        again = workspace.import_file(tmp_path / "t.jsonl", again=True)
        # Every post is known, so none is built; all are counted as already stored.
        assert (again.new, again.duplicates) == (0, first.new + first.duplicates)
        before = table(store.connection, "SELECT uid, text, kind, reposted_uid, details FROM posts ORDER BY id")
        result = workspace.reprocess()  # empties the store: nothing may be skipped as known
        assert result.new == stored
        after = table(store.connection, "SELECT uid, text, kind, reposted_uid, details FROM posts ORDER BY id")
        assert after == before
        assert store.integrity_problems() == []


def failing_write(monkeypatch: pytest.MonkeyPatch, on_call: int, error: BaseException) -> Counter[str]:
    calls = Counter[str]()
    original = Store.write_batch

    def write_batch(self: Store, *args: Any, **kwargs: Any) -> Any:
        calls["write"] += 1
        if calls["write"] == on_call:
            raise error
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "write_batch", write_batch)
    return calls


def test_a_failed_batch_stops_the_commits_after_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tweets = write_stream(tmp_path / "t.jsonl", 3 * BATCH + 100)  # four batches
    monkeypatch.setenv(WORKERS_ENV, "2")
    calls = failing_write(monkeypatch, 2, DiskFullError("disk full (test)"))
    workspace = Workspace(tmp_path / "data", fsync=False)
    with pytest.raises(DiskFullError):
        workspace.import_file(tmp_path / "t.jsonl")
    store = workspace.store()
    # Only the first batch is stored, and the spool position says so.
    assert calls["write"] >= 2
    first_batch = store.spool_position()
    assert first_batch == next(framing.batch_sizes(BATCH))
    assert {row[0] for row in store.connection.execute("SELECT spool_seq FROM posts")} <= set(range(first_batch))
    assert multiprocessing.active_children() == []
    workspace.close()

    monkeypatch.undo()
    monkeypatch.setenv(WORKERS_ENV, "2")
    with Workspace(tmp_path / "data", fsync=False) as restarted:
        restarted.import_file(tmp_path / "t.jsonl")  # finishes the spool first, then the rest of the file
        uids = {row[0] for row in restarted.store().connection.execute("SELECT uid FROM posts")}
        assert uids == expected_uids(tweets)
        assert restarted.store().spool_position() == restarted.spool.next_seq
        assert restarted.store().integrity_problems() == []


def test_crash_recovery_parses_the_spool_with_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tweets = write_stream(tmp_path / "t.jsonl", 2 * BATCH + 10)
    monkeypatch.setenv(WORKERS_ENV, "0")
    failing_write(monkeypatch, 1, KeyboardInterrupt())  # the process "dies" before any commit
    workspace = Workspace(tmp_path / "data", fsync=False)
    with pytest.raises(KeyboardInterrupt):
        workspace.import_file(tmp_path / "t.jsonl")
    workspace.close()
    monkeypatch.undo()

    monkeypatch.setenv(WORKERS_ENV, "2")
    with Workspace(tmp_path / "data", fsync=False) as restarted:
        pending = restarted.spool.next_seq
        assert pending > next(framing.batch_sizes(BATCH))  # more than one frame waits: the workers parse them
        report = ImportReport(path="recovery")
        result = restarted.process_pending(report)
        assert "rows" in report.timings  # parsed by the workers
        store = restarted.store()
        assert store.spool_position() == pending
        stored = {row[0] for row in store.connection.execute("SELECT uid FROM posts")}
        assert result.new == len(stored)
        assert stored <= expected_uids(tweets)
        assert multiprocessing.active_children() == []


def test_a_worker_bug_fails_the_import_without_hanging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_stream(tmp_path / "t.jsonl", 2 * BATCH + 10)
    monkeypatch.setenv(WORKERS_ENV, "2")

    def broken(post: object) -> tuple[Any, ...]:
        msg = "a bug in the row mapping"
        raise ValueError(msg)

    monkeypatch.setattr("groundspeed.store.tracking.post_to_row", broken)  # inherited by the forked workers
    with Workspace(tmp_path / "data", fsync=False) as workspace:
        with pytest.raises(RuntimeError, match="a bug in the row mapping"):
            workspace.import_file(tmp_path / "t.jsonl")
        assert workspace.store().count_posts() == 0
        assert workspace.store().spool_position() == 0
    assert multiprocessing.active_children() == []


def test_workers_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert parse_workers() == 3
    monkeypatch.setenv(WORKERS_ENV, "0")
    assert parse_workers() == 0
    monkeypatch.setenv(WORKERS_ENV, "many")
    with pytest.raises(GroundspeedError, match=WORKERS_ENV):
        parse_workers()


def test_known_uids_stay_bounded_and_keep_the_newest() -> None:
    known = KnownUids(limit=10)
    for number in range(25):
        known.add(f"x:{number}")
    assert len(known) <= 10
    assert "x:24" in known
    assert "x:0" not in known
    copy = KnownUids(known, limit=100)
    assert set(copy) == set(known)
    known.clear()
    assert "x:24" not in known
    assert "x:24" in copy
    layered = LayeredUids(copy)
    layered.add("x:pending")  # a uid of this import, not committed yet
    assert "x:pending" in layered
    assert "x:24" in layered
    assert "x:pending" not in copy  # the committed set is not touched


def test_posts_are_built_positionally() -> None:
    # build_post passes Post's fields by position; if the model changes, it falls back to keywords.
    assert POSITIONAL_POSTS
