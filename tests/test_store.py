from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from groundspeed.errors import DiskFullError, SchemaTooNewError, StoreError
from groundspeed.model import Author, Geo, Media, Metrics, Post, Provenance, RawRef
from groundspeed.parse import QuarantineItem
from groundspeed.store import PostFilter, Store, normalise_query
from groundspeed.store.migrations import MIGRATIONS
from groundspeed.text import normalise

NOW = datetime(2022, 9, 16, 18, 30, 5, 123456, tzinfo=UTC)


def make_post(native_id: str, body: str, **fields: object) -> Post:
    defaults: dict[str, object] = {
        "uid": f"x:{native_id}",
        "platform": "x",
        "native_id": native_id,
        "kind": "original",
        "collected_at": NOW,
        "provenance": Provenance(source="file:test.jsonl", software="test"),
        "created_at": NOW,
        "created_at_source": "platform",
        "text": normalise(body),
        "original_text": body,
    }
    defaults.update(fields)
    return Post(**defaults)  # type: ignore[arg-type]


def full_post() -> Post:
    return make_post(
        "1",
        "صدای تیراندازی در تهران #مهسا_امینی https://example.org/a",
        url="https://x.com/sara/status/1",
        lang="fa",
        author=Author(id="7", handle="sara", name="سارا", followers=12, verified=False, location="Tehran"),
        reposted_uid=None,
        quoted_uid="x:2",
        replied_to_uid="x:3",
        thread_root_uid="x:3",
        hashtags=("مهسا_امینی",),
        mentions=("reza",),
        urls=("https://example.org/a",),
        media=(Media(type="photo", url="https://example.org/p.jpg"),),
        geo=Geo(
            precision="place",
            source="place",
            lat=35.7,
            lon=51.4,
            place_name="Tehran",
            country_code="IR",
            bbox=(51.0, 35.5, 51.6, 35.9),
        ),
        metrics=Metrics(reposts=3, likes=0, replies=None),
        provenance=Provenance(
            source="file:t.jsonl", software="0.1.0", query="#mahsaamini", collected_at=NOW, collector="twarc 2.0"
        ),
        annotations={"info_type": "Caution and advice"},
        raw=RawRef(seq=42, locator="t.jsonl:7", path="data[0]"),
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "g.db")
    yield s
    s.close()


def test_round_trip_keeps_every_field(store: Store) -> None:
    post = full_post()
    result = store.write_batch([post], [], Counter(), source_of_skipped="s", spool_position=5)
    assert result.new == 1
    assert store.get_post("x:1") == post
    assert store.spool_position() == 5


def test_unknown_values_stay_unknown(store: Store) -> None:
    post = make_post("9", "hello", created_at=None, created_at_source=None, text=None, original_text=None)
    store.write_batch([post], [], Counter(), source_of_skipped="s", spool_position=None)
    row = store.connection.execute("SELECT * FROM posts WHERE uid='x:9'").fetchone()
    for column in ("created_at", "text", "lang", "author_followers", "hashtags", "lat", "place_name"):
        assert row[column] is None, column
    assert store.get_post("x:9") == post


def test_duplicates_are_collapsed_by_uid(store: Store) -> None:
    first = store.write_batch(
        [make_post("1", "a"), make_post("2", "b")], [], Counter(), source_of_skipped="s", spool_position=2
    )
    again = store.write_batch(
        [make_post("2", "b changed"), make_post("3", "c"), make_post("3", "c")],
        [],
        Counter(),
        source_of_skipped="s",
        spool_position=4,
    )
    assert (first.new, first.duplicates) == (2, 0)
    assert (again.new, again.duplicates) == (1, 2)
    assert store.count_posts() == 3
    assert store.get_post("x:2").original_text == "b"  # first seen wins


def test_failed_batch_leaves_store_and_position_unchanged(store: Store) -> None:
    store.write_batch([make_post("1", "a")], [], Counter(), source_of_skipped="s", spool_position=1)
    bad = make_post("2", "b", kind=None)  # violates NOT NULL mid-batch
    with pytest.raises(StoreError):
        store.write_batch([make_post("3", "c"), bad], [], Counter(), source_of_skipped="s", spool_position=9)
    assert store.count_posts() == 1
    assert store.spool_position() == 1


def test_quarantine_and_skipped_are_recorded(store: Store) -> None:
    item = QuarantineItem(
        source="file:a.jsonl", locator="a.jsonl:3", reason="not valid JSON: truncated", seq=2, excerpt='{"id":'
    )
    store.write_batch(
        [], [item], Counter({"x delete notice (not a post)": 2}), source_of_skipped="file:a.jsonl", spool_position=3
    )
    store.write_batch(
        [], [], Counter({"x delete notice (not a post)": 1}), source_of_skipped="file:a.jsonl", spool_position=4
    )
    items = store.quarantine_items()
    assert [(i["locator"], i["reason"]) for i in items] == [("a.jsonl:3", "not valid JSON: truncated")]
    summary = store.stats()
    assert summary["quarantined"] == 1
    assert summary["skipped_by_reason"] == {"x delete notice (not a post)": 3}


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("كتاب جديد", "کتاب"),  # Arabic kaf and yeh typed, Persian searched
        ("می‌روم به خانه", "میروم"),  # ZWNJ inside the word
        ("سال ۱۴۰۱", "1401"),  # Persian digits
        ("Tehran PROTEST", "tehran protest"),
        ("#IranElection now", "#iranelection"),
        ("Azadi Square tonight", '"azadi square"'),
        ("evacuation ordered", "evac*"),
    ],
)
def test_search_folds_like_the_index(store: Store, stored: str, query: str) -> None:
    store.write_batch(
        [make_post("1", stored), make_post("2", "unrelated words")],
        [],
        Counter(),
        source_of_skipped="s",
        spool_position=None,
    )
    assert [p.uid for p in store.search(query)] == ["x:1"]


def test_search_filters_and_bad_syntax(store: Store) -> None:
    early = make_post("1", "fire", created_at=datetime(2020, 1, 1, tzinfo=UTC), lang="en")
    late = make_post(
        "2", "fire", created_at=datetime(2021, 1, 1, tzinfo=UTC), lang="fa", platform="mastodon", uid="mastodon:2"
    )
    store.write_batch([early, late], [], Counter(), source_of_skipped="s", spool_position=None)
    assert [p.uid for p in store.search("fire", PostFilter(since=datetime(2020, 6, 1, tzinfo=UTC)))] == ["mastodon:2"]
    assert [p.uid for p in store.search("fire", PostFilter(langs=["en"]))] == ["x:1"]
    assert [p.uid for p in store.search("fire", PostFilter(platforms=["mastodon"]))] == ["mastodon:2"]
    assert [p.uid for p in store.search("fire", order="created_at")] == ["x:1", "mastodon:2"]
    with pytest.raises(StoreError, match="not valid search syntax"):
        store.search("fire AND")


def test_normalise_query_keeps_operators() -> None:
    assert (
        normalise_query('(Tehran OR تهران) NOT "Azadi  Square" evac*') == '(tehran OR تهران) NOT "azadi  square" evac*'
    )
    assert normalise_query("colorado-fire") == '"colorado-fire"'


def test_stats_counts(store: Store) -> None:
    posts = [
        make_post("1", "a", lang="en"),
        make_post("2", "b", lang="fa", kind="repost", reposted_uid="x:1"),
        make_post("3", "c", lang=None, created_at=datetime(2022, 9, 17, tzinfo=UTC)),
    ]
    store.write_batch(posts, [], Counter(), source_of_skipped="s", spool_position=None)
    summary = store.stats()
    assert summary["posts"] == 3
    assert summary["by_language"] == {"en": 1, "fa": 1, "unknown": 1}
    assert summary["by_kind"] == {"original": 2, "repost": 1}
    assert summary["by_day"] == {"2022-09-16": 2, "2022-09-17": 1}


def test_reader_sees_committed_data_while_writer_is_open(tmp_path: Path) -> None:
    writer = Store.open(tmp_path / "g.db")
    writer.write_batch([make_post("1", "a")], [], Counter(), source_of_skipped="s", spool_position=None)
    reader = Store.open(tmp_path / "g.db", readonly=True)
    writer.connection.execute("BEGIN IMMEDIATE")
    writer.connection.execute("DELETE FROM posts")
    assert reader.count_posts() == 1  # WAL: readers are not blocked and see the last commit
    writer.connection.execute("ROLLBACK")
    assert reader.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader.close()
    writer.close()


def test_schema_too_new_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path / "g.db").close()
    with sqlite3.connect(tmp_path / "g.db") as connection:
        connection.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    with pytest.raises(SchemaTooNewError, match="newer groundspeed"):
        Store.open(tmp_path / "g.db")


def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    Store.open(tmp_path / "g.db").close()
    with Store.open(tmp_path / "g.db") as again:
        assert again.connection.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)


def test_disk_full_is_a_clear_error_and_leaves_the_store_consistent(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "g.db")
    store.write_batch([make_post("0", "seed")], [], Counter(), source_of_skipped="s", spool_position=1)
    pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count={pages + 2}")  # the database may not grow
    big = [make_post(str(i), "word " * 400) for i in range(1, 200)]
    with pytest.raises(DiskFullError, match="full"):
        store.write_batch(big, [], Counter(), source_of_skipped="s", spool_position=500)
    assert store.count_posts() == 1
    assert store.spool_position() == 1
    assert store.integrity_problems() == []
    store.close()


def test_missing_database_for_reading(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no groundspeed database"):
        Store.open(tmp_path / "none.db", readonly=True)


def test_opens_in_sqlite_utils_and_datasette(tmp_path: Path) -> None:
    import sqlite_utils
    from datasette.app import Datasette

    path = tmp_path / "groundspeed.db"
    with Store.open(path) as store:
        store.write_batch([full_post()], [], Counter(), source_of_skipped="s", spool_position=1)
        assert store.integrity_problems() == []
    db = sqlite_utils.Database(path)
    assert {"posts", "quarantine", "imports", "skipped_records", "spool_position"} <= set(db.table_names())
    assert db["posts"].count == 1
    assert [row["uid"] for row in db["posts"].search("تهران")] == ["x:1"]

    async def fetch() -> dict[str, object]:
        datasette = Datasette([str(path)])
        response = await datasette.client.get("/groundspeed/posts.json?_shape=array")
        assert response.status_code == 200
        return response.json()[0]

    row = asyncio.run(fetch())
    assert row["uid"] == "x:1"
    assert row["author_handle"] == "sara"
