"""Log-first import: spool before store, resumable cursors, idempotent re-import, reprocess."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from groundspeed.errors import EncodingError, TruncatedFileError, UnknownFormatError, UnreadableFileError
from groundspeed.formats import framing
from groundspeed.store import Store
from groundspeed.synthetic import generate_tweets
from groundspeed.workspace import Workspace


def write_tweets(path: Path, count: int, *, seed: int = 1) -> list[dict[str, object]]:
    tweets = list(generate_tweets(count, seed=seed))
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tweets), encoding="utf-8")
    return tweets


def expected_uids(tweets: list[dict[str, object]]) -> set[str]:
    uids = set()
    for tweet in tweets:
        uids.add(f"x:{tweet['id_str']}")
        original = tweet.get("retweeted_status")
        if isinstance(original, dict):
            uids.add(f"x:{original['id_str']}")
    return uids


def stored_uids(workspace: Workspace) -> set[str]:
    return {row[0] for row in workspace.store().connection.execute("SELECT uid FROM posts")}


def test_import_stores_every_post_once(workspace: Workspace, tmp_path: Path) -> None:
    tweets = write_tweets(tmp_path / "t.jsonl", 500)
    report = workspace.import_file(tmp_path / "t.jsonl")
    assert report.status == "done"
    assert report.format == "x-v1"
    assert report.records == 500
    assert stored_uids(workspace) == expected_uids(tweets)
    assert report.new == len(expected_uids(tweets))
    assert report.quarantined == 0
    # Spool holds every raw line exactly as it was in the file.
    raw = [payload for frame in workspace.spool.read(0) for _, _, payload in frame.records_from(0)]
    assert raw == (tmp_path / "t.jsonl").read_bytes().splitlines()
    assert workspace.store().spool_position() == workspace.spool.next_seq == 500


def test_reimport_adds_nothing(workspace: Workspace, tmp_path: Path) -> None:
    write_tweets(tmp_path / "t.jsonl", 200)
    workspace.import_file(tmp_path / "t.jsonl")
    before = workspace.store().count_posts()
    again = workspace.import_file(tmp_path / "t.jsonl")
    assert again.status == "already imported"
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes((tmp_path / "t.jsonl").read_bytes())
    assert workspace.import_file(copy).status == "already imported"
    forced = workspace.import_file(tmp_path / "t.jsonl", again=True)
    assert (forced.status, forced.new, forced.records) == ("done", 0, 200)
    assert forced.duplicates > 0
    assert workspace.store().count_posts() == before


def test_growing_file_continues_where_it_stopped(workspace: Workspace, tmp_path: Path) -> None:
    tweets = write_tweets(tmp_path / "all.jsonl", 300)
    lines = (tmp_path / "all.jsonl").read_bytes().splitlines(keepends=True)
    live = tmp_path / "live.jsonl"
    live.write_bytes(b"".join(lines[:120]))
    first = workspace.import_file(live)
    live.write_bytes(b"".join(lines))
    second = workspace.import_file(live)
    assert (first.records, second.records) == (120, 180)
    assert stored_uids(workspace) == expected_uids(tweets)


def test_crash_between_spool_and_store_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framing, "BATCH_RECORDS", 5000)  # six batches
    tweets = write_tweets(tmp_path / "t.jsonl", 30000)
    calls = Counter[str]()
    original = Store.write_batch

    def crashing(self: Store, *args: object, **kwargs: object) -> object:
        calls["write"] += 1
        if calls["write"] == 2:
            raise KeyboardInterrupt  # the process dies after the spool append, before the commit
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "write_batch", crashing)
    workspace = Workspace(tmp_path / "data")
    with pytest.raises(KeyboardInterrupt):
        workspace.import_file(tmp_path / "t.jsonl")
    spooled = workspace.spool.next_seq
    workspace.close()
    monkeypatch.setattr(Store, "write_batch", original)
    assert 0 < spooled < 30000  # the writer's failure stopped reading part-way

    restarted = Workspace(tmp_path / "data")
    report = restarted.import_file(tmp_path / "t.jsonl")
    assert report.records == 30000 - spooled  # the cursor was saved after the durable append
    assert stored_uids(restarted) == expected_uids(tweets)
    assert restarted.spool.next_seq == 30000  # nothing spooled twice
    assert restarted.store().integrity_problems() == []
    restarted.close()


def test_reprocess_rebuilds_the_same_store(workspace: Workspace, tmp_path: Path) -> None:
    write_tweets(tmp_path / "t.jsonl", 300)
    with open(tmp_path / "t.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"id_str": "broken\n')
    workspace.import_file(tmp_path / "t.jsonl")
    store = workspace.store()
    before = {row[0]: tuple(row) for row in store.connection.execute("SELECT uid, text, kind, reposted_uid FROM posts")}
    quarantined = store.stats()["quarantined"]
    result = workspace.reprocess()
    after = {row[0]: tuple(row) for row in store.connection.execute("SELECT uid, text, kind, reposted_uid FROM posts")}
    assert after == before
    assert result.new == len(before)
    assert store.stats()["quarantined"] == quarantined == 1
    assert store.integrity_problems() == []


def test_bad_lines_are_quarantined_with_file_and_line(workspace: Workspace, tmp_path: Path) -> None:
    tweets = list(generate_tweets(5, seed=3))
    lines = [json.dumps(t) for t in tweets]
    lines.insert(2, '{"id_str": "123", "text": ')  # cut-off JSON on line 3
    lines.insert(4, "\xff not json")  # line 5
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = workspace.import_file(path)
    assert report.status == "done"
    assert report.quarantined == 2
    items = workspace.store().quarantine_items()
    assert [item["locator"] for item in items] == [f"{path}:3", f"{path}:5"]
    assert all(item["reason"] for item in items)
    assert workspace.store().count_posts() >= 5


def test_truncated_gzip_imports_what_is_there_then_fails_clearly(workspace: Workspace, tmp_path: Path) -> None:
    write_tweets(tmp_path / "t.jsonl", 2000)
    data = gzip.compress((tmp_path / "t.jsonl").read_bytes())
    cut = tmp_path / "t.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedFileError, match="ends early"):
        workspace.import_file(cut, format_name="x-v1")
    assert workspace.store().count_posts() > 0
    assert workspace.store().imports()[0]["status"] == "failed"


def test_compressed_files_import(workspace: Workspace, tmp_path: Path) -> None:
    tweets = write_tweets(tmp_path / "t.jsonl", 100)
    gz = tmp_path / "t.jsonl.gz"
    gz.write_bytes(gzip.compress((tmp_path / "t.jsonl").read_bytes()))
    report = workspace.import_file(gz)
    assert report.format == "x-v1"
    assert stored_uids(workspace) == expected_uids(tweets)


def test_whole_file_problems_are_clear_errors(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="does not exist"):
        workspace.import_file(tmp_path / "missing.jsonl")
    with pytest.raises(UnreadableFileError, match="is a folder"):
        workspace.import_file(tmp_path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,text\n1,caf\xe9 d\xe9j\xe0\n".encode("latin-1"))
    with pytest.raises(EncodingError, match="--encoding"):
        workspace.import_file(latin)
    binary = tmp_path / "image.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)
    with pytest.raises(EncodingError, match="binary"):
        workspace.import_file(binary)
    unknown = tmp_path / "notes.txt"
    unknown.write_text("just some notes\nnothing else\n", encoding="utf-8")
    with pytest.raises(UnknownFormatError, match="--format"):
        workspace.import_file(unknown)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert workspace.import_file(empty).status == "empty"


def test_other_encodings_when_named(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "arabic.csv"
    path.write_bytes("tweet_id,text\n1234567890123456789,كتاب في طهران\n".encode("cp1256"))
    report = workspace.import_file(path, encoding="cp1256")
    assert report.new == 1
    post = workspace.store().get_post("x:1234567890123456789")
    assert post is not None
    assert post.original_text == "كتاب في طهران"
    assert post.text == "کتاب فی طهران"


def test_second_writer_is_refused(tmp_path: Path) -> None:
    from groundspeed.errors import StoreLockedError

    first = Workspace(tmp_path / "data", fsync=False)
    first.store()
    second = Workspace(tmp_path / "data", fsync=False)
    with pytest.raises(StoreLockedError, match="Another groundspeed process"):
        second.store()
    first.close()
    second.store()
    second.close()
