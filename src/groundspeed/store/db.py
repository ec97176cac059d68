"""The SQLite store: the only code in groundspeed that speaks SQL.

* WAL mode, so the web server and other readers can read while one ingest process writes.
* One writer: a :class:`Store` opened for writing is used from one thread; other processes take
  the spool's writer lock first, so two imports never interleave.
* Posts are keyed by ``uid``: inserting a post that is already stored changes nothing, which is
  what makes replaying the spool after a crash safe.
* The spool position is written in the same transaction as the posts it covers.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ..errors import DiskFullError, SchemaTooNewError, StoreError, StoreLockedError
from ..model import Post
from ..parse import KnownUids, QuarantineItem
from ..text import fold
from .insights import POSTS_TO_UNDERSTAND, insight_filter_sql, language_filter_sql, record_insights
from .migrations import MIGRATIONS
from .rows import format_time, row_to_post
from .stories import apply_edits, canonical_posts_after, newest_post_time, record_assignments, refresh_stories
from .tracking import (
    INCOMING,
    INSERT_PACKED_POSTS,
    MatchRows,
    forget_tracker,
    mark_incoming_near_copies,
    prepare_batch,
    rematch_tracker,
    store_tracking,
)

_T = TypeVar("_T")
_STORY_JSON = ("terms", "languages", "places", "platforms", "trackers")
_STORIES_STATE = "stories"  # tracking_state: the story detector's saved state
_STORIES_POSITION = "stories.position"  # tracking_state: posts.id of the last post it saw
_STORIES_DUE = "stories.due"  # tracking_state: stories whose records need recomputing
_TRACKER_STATE = "tracker:"  # tracking_state rows "tracker:NAME": the fingerprint of the rules applied
_INSIGHTS_POSITION = "insights.position"  # tracking_state: posts.id of the last post understood
_INSIGHTS_MODELS = "insights.models"  # tracking_state: the models the insights were made with

# A batch parsed in a worker process travels to the writer as a small SQLite database (see
# tracking.pack_batch). The worker pays for binding the values, in parallel; the writer copies
# them with one INSERT ... SELECT, in SQLite's C code, without decoding them in Python or binding
# them again while holding the GIL: measured 0.36 s for 200k rows against 2.1 s for decoding
# (msgpack) and binding them in the writer.

_SPOOL = "main"

# Python's sqlite3 module looks for an adapter for every None it binds, by raising and catching
# AttributeErrors; an explicit identity adapter makes binding unknown values ~2x cheaper, and posts
# carry many unknown values. Registering it changes no behaviour. The adapter is an empty dict's
# ``get`` (None -> None), a C function: no Python frame per unknown value.
_NOTHING: dict[None, None] = {}
sqlite3.register_adapter(type(None), _NOTHING.get)


@dataclass(slots=True)
class WriteResult:
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0
    near_copies: int = 0


@dataclass(slots=True)
class PostFilter:
    """Filters shared by search, export and stats. Times are aware datetimes."""

    since: datetime | None = None
    until: datetime | None = None
    platforms: Sequence[str] = ()
    langs: Sequence[str] = ()
    kinds: Sequence[str] = ()
    source: str | None = None
    canonical_only: bool = False  # neither reposts nor near-copies: one post per message
    tracker: str | None = None  # posts a tracker holds
    # What the understanding stage made of them (see groundspeed.understand):
    info_types: Sequence[str] = ()
    eyewitness: bool = False  # first-hand reports only
    informative: bool = False
    place: str | None = None  # a place name or two-letter country code where the post is about or from
    place_bbox: tuple[float, float, float, float] | None = None  # or placed inside (west, south, east, north)


def _translate(exc: sqlite3.Error, path: Path) -> StoreError | DiskFullError:
    message = str(exc).lower()
    if "locked" in message or "busy" in message:
        return StoreLockedError(
            f"The database {path} is busy: another program is writing to it. Try again when it has finished."
        )
    if "disk is full" in message or "database or disk is full" in message:
        return DiskFullError(
            f"The disk holding {path} is full. The last batch was not saved and the database is unchanged; "
            "free some space and run the command again (nothing already acknowledged was lost)."
        )
    if "malformed" in message or "not a database" in message:
        return StoreError(f"{path} is damaged or is not a groundspeed database ({exc}).")
    return StoreError(f"Database error in {path}: {exc}")


class Store:
    """The database of posts. Open with :meth:`open`; close when done."""

    def __init__(self, connection: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self.connection = connection
        self.path = path
        self.readonly = readonly
        # uids of posts this store committed recently (bounded): parsing may skip building them
        # again. Only write_batch adds to it, after its commit; anything that deletes posts clears it.
        self.recent_uids = KnownUids()
        self._checkpoints: _Checkpoints | None = None  # see background_checkpoints
        self._incoming_attached = False

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False, timeout: float = 10.0) -> Store:
        path = Path(path)
        try:
            if readonly:
                if not path.exists():
                    msg = f"There is no groundspeed database at {path} yet. Import some posts first (groundspeed import FILE)."
                    raise StoreError(msg)
                connection = sqlite3.connect(
                    f"file:{path}?mode=ro", uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
                )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                # check_same_thread=False: the one writer connection is handed to a background writer
                # thread during imports; it is never used by two threads at once.
                connection = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
            connection.row_factory = sqlite3.Row
            store = cls(connection, path, readonly=readonly)
            store._configure()
            if not readonly:
                store._migrate()
            else:
                store._check_version()
            return store
        except sqlite3.Error as exc:
            raise _translate(exc, path) from exc
        except OSError as exc:
            msg = f"Cannot open the database {path}: {exc.strerror or exc}"
            raise StoreError(msg) from exc

    def _configure(self) -> None:
        execute = self.connection.execute
        if not self.readonly:
            execute("PRAGMA journal_mode=WAL")
            execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process (WAL)
        execute("PRAGMA temp_store=MEMORY")
        execute("PRAGMA cache_size=-65536")

    def _schema_version(self) -> int:
        exists = self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        ).fetchone()
        if not exists:
            return 0
        row = self.connection.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def _check_version(self) -> None:
        version = self._schema_version()
        latest = MIGRATIONS[-1][0]
        if version > latest:
            msg = f"{self.path} was made by a newer groundspeed (schema {version}, this one knows {latest}). Upgrade groundspeed."
            raise SchemaTooNewError(msg)

    def _migrate(self) -> None:
        self._check_version()
        execute = self.connection.execute
        execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        current = self._schema_version()
        for version, name, sql in MIGRATIONS:
            if version <= current:
                continue
            execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_sql(sql):
                    execute(statement)
                execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, format_time(datetime.now(UTC))),
                )
                execute("COMMIT")
            except BaseException:
                execute("ROLLBACK")
                raise

    def close(self) -> None:
        self.connection.close()

    @contextlib.contextmanager
    def background_checkpoints(self) -> Iterator[None]:
        """For a long import: WAL checkpoints run on a thread of their own, after each commit.

        A checkpoint copies the write-ahead log into the database file and waits for the disk
        (``synchronous=NORMAL`` syncs there); done inside the commit, as SQLite does by default,
        that wait holds up the single writer, the bottleneck of an import. Durability does not
        change: a commit is exactly as durable, only where the log is copied back differs. The
        checkpoints are PASSIVE (they never block the writer, nor readers). So that the log does
        not grow without end, a commit that finds it past ``_WAL_FRAMES`` waits (briefly) for the
        checkpoint to catch up; SQLite then starts the log over.
        """
        if self.readonly or self._checkpoints is not None:
            yield
            return
        (autocheckpoint,) = self.connection.execute("PRAGMA wal_autocheckpoint").fetchone()
        checkpoints = _Checkpoints(self.path)
        self.connection.execute("PRAGMA wal_autocheckpoint=0")
        checkpoints.start()
        self._checkpoints = checkpoints
        try:
            yield
        finally:
            self._checkpoints = None
            checkpoints.stop()
            self.connection.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------

    def spool_position(self) -> int:
        row = self.connection.execute("SELECT next_seq FROM spool_position WHERE spool = ?", (_SPOOL,)).fetchone()
        return int(row[0]) if row else 0

    def write_batch(
        self,
        posts: Sequence[Post],
        quarantined: Sequence[QuarantineItem],
        skipped: Counter[str],
        *,
        source_of_skipped: str,
        spool_position: int | None,
        packed: bytes | None = None,
        near_copies: Sequence[tuple[str, str]] = (),
        packed_uids: Sequence[str] | None = None,
    ) -> WriteResult:
        """Store a processed batch and the spool position after it, all or nothing.

        The posts come as Post objects or ``packed`` by :func:`tracking.prepare_batch` (by a parse
        worker process, with tracker matches and timeline counts), not both. ``near_copies`` are
        (uid, uid of the earlier post it copies) pairs for posts of the batch; ``packed_uids`` the
        packed rows' uids, in order (read back from the batch when not given).
        """
        result = WriteResult()
        now = format_time(datetime.now(UTC))
        connection = self.connection
        if posts and packed is not None:
            msg = "write_batch takes posts or a packed batch, not both"
            raise ValueError(msg)
        if posts:
            prepared = prepare_batch(posts, None)
            packed, packed_uids = prepared.packed, prepared.uids
            result.duplicates = prepared.dropped
        uids: Sequence[str] = []
        try:
            if packed is not None:
                uids = self._receive_packed(packed, packed_uids)
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        if self._checkpoints is not None:
            self._checkpoints.keep_log_short()

        def write() -> None:
            if uids:
                last_id = connection.execute("SELECT COALESCE(MAX(id), 0) FROM posts").fetchone()[0]
                mark_incoming_near_copies(connection, near_copies)  # none: empties the last batch's
                result.new = connection.execute(INSERT_PACKED_POSTS).rowcount
                result.duplicates += len(uids) - result.new
                # New rows get ids above the old maximum; index exactly those, in one statement.
                connection.execute(
                    "INSERT INTO posts_fts(rowid, text) SELECT id, text FROM posts WHERE id > ?", (last_id,)
                )
                result.near_copies = store_tracking(connection, last_id, uids, result.new, bool(near_copies))
            if quarantined:
                # The same broken record read again (import --again, a re-read after a crash)
                # is one quarantine item: the unique index on where and why absorbs it.
                cursor = connection.executemany(
                    "INSERT INTO quarantine (recorded_at, source, locator, path, reason, excerpt, spool_seq) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [(now, q.source, q.locator, q.path or "", q.reason, q.excerpt, q.seq) for q in quarantined],
                )
                result.quarantined = cursor.rowcount
            if skipped:
                connection.executemany(
                    "INSERT INTO skipped_records (source, reason, count) VALUES (?, ?, ?) "
                    "ON CONFLICT (source, reason) DO UPDATE SET count = count + excluded.count",
                    [(source_of_skipped, reason, count) for reason, count in skipped.items()],
                )
                result.skipped = sum(skipped.values())
            if spool_position is not None:
                connection.execute(
                    "INSERT INTO spool_position (spool, next_seq) VALUES (?, ?) "
                    "ON CONFLICT (spool) DO UPDATE SET next_seq = excluded.next_seq",
                    (_SPOOL, spool_position),
                )

        self._in_transaction(write)
        if self._checkpoints is not None:
            self._checkpoints.committed()
        recent = self.recent_uids
        recent.update(dict.fromkeys(uids))
        recent.trim()
        return result

    def _receive_packed(self, packed: bytes, uids: Sequence[str] | None) -> Sequence[str]:
        """Load a packed batch into the attached in-memory schema; returns its uids, in order."""
        connection = self.connection
        # A fresh attachment for every batch: deserializing over a batch that was written to
        # (near-copy marks) made SQLite 3.40 report the next one as malformed once it had to grow.
        if self._incoming_attached:
            connection.execute(f"DETACH DATABASE {INCOMING}")
        connection.execute(f"ATTACH DATABASE ':memory:' AS {INCOMING}")
        self._incoming_attached = True
        connection.deserialize(packed, name=INCOMING)
        if uids is not None:
            return uids  # reading 200k uids back through a cursor cost ~0.9 s
        cursor = connection.cursor()
        cursor.row_factory = None
        return [uid for (uid,) in cursor.execute(f"SELECT uid FROM {INCOMING}.batch ORDER BY rowid")]

    def start_import(self, path: str, format_name: str) -> int:
        cursor = self._write(
            "INSERT INTO imports (path, format, started_at, status) VALUES (?, ?, ?, 'running')",
            (path, format_name, format_time(datetime.now(UTC))),
        )
        return int(cursor.lastrowid or 0)

    def finish_import(
        self, import_id: int, *, status: str, records: int, result: WriteResult, message: str | None
    ) -> None:
        self._write(
            "UPDATE imports SET finished_at = ?, status = ?, records = ?, posts_new = ?, duplicates = ?, "
            "quarantined = ?, skipped = ?, message = ? WHERE id = ?",
            (
                format_time(datetime.now(UTC)),
                status,
                records,
                result.new,
                result.duplicates,
                result.quarantined,
                result.skipped,
                message,
                import_id,
            ),
        )

    def reset_derived(self) -> None:
        """Empty everything derived from the spool (for ``reprocess``). The spool is untouched."""
        self.recent_uids.clear()

        def reset() -> None:
            execute = self.connection.execute
            execute("DELETE FROM posts")
            execute("INSERT INTO posts_fts(posts_fts) VALUES ('delete-all')")
            # story_edits stay: an analyst's merges and splits are applied again to the new stories.
            for table in (
                "quarantine",
                "skipped_records",
                "spool_position",
                "post_matches",
                "amplification",
                "timeline",
                "peaks",
                "tracking_state",
                "post_stories",
                "stories",
                "post_insights",
            ):
                execute(f"DELETE FROM {table}")

        self._in_transaction(reset)

    def forget_skipped(self, source: str) -> None:
        """Drop a source's counts of records that are not posts: it is about to be read again in
        full (``import --again``), and the new read counts them all again."""
        self._write("DELETE FROM skipped_records WHERE source = ?", (source,))

    def load_state(self, name: str) -> bytes | None:
        """Saved state of a tracking stage (see ``save_state``), or None."""
        row = self.connection.execute("SELECT value FROM tracking_state WHERE name = ?", (name,)).fetchone()
        return bytes(row[0]) if row else None

    def save_state(self, name: str, value: bytes, *, spool_position: int | None) -> None:
        self._in_transaction(lambda: self._put_states([(name, value, spool_position)]))

    def _put_states(self, states: Sequence[tuple[str, bytes, int | None]]) -> None:
        """Write ``tracking_state`` rows (name, value, spool position), in the caller's transaction."""
        stamp = format_time(datetime.now(UTC))
        self.connection.executemany(
            "INSERT INTO tracking_state (name, value, spool_position, saved_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, spool_position = excluded.spool_position, "
            "saved_at = excluded.saved_at",
            [(name, value, position, stamp) for name, value, position in states],
        )

    # -- trackers, timelines, peaks -------------------------------------------------------------

    def rematch_tracker(self, tracker: str, match: MatchRows, *, fingerprint: str) -> int:
        """Apply a tracker (new or changed) to every stored post; returns how many it holds.
        ``fingerprint`` identifies its rules (see :meth:`applied_trackers`)."""

        def rematch() -> int:
            held = rematch_tracker(self.connection, tracker, match)
            self._put_states([(_TRACKER_STATE + tracker, fingerprint.encode(), None)])
            return held

        return self._in_transaction(rematch)

    def forget_tracker(self, tracker: str) -> None:
        def forget() -> None:
            forget_tracker(self.connection, tracker)
            self.connection.execute("DELETE FROM tracking_state WHERE name = ?", (_TRACKER_STATE + tracker,))

        self._in_transaction(forget)

    def record_applied_tracker(self, tracker: str, fingerprint: str) -> None:
        """Note that every stored post was matched with these rules of the tracker."""
        self._in_transaction(lambda: self._put_states([(_TRACKER_STATE + tracker, fingerprint.encode(), None)]))

    def applied_trackers(self) -> dict[str, str]:
        """Trackers whose matches the database holds, with the fingerprint of the rules applied."""
        rows = self._query(
            "SELECT substr(name, ?), value FROM tracking_state WHERE name >= ? AND name < ?",
            (len(_TRACKER_STATE) + 1, _TRACKER_STATE, _TRACKER_STATE[:-1] + chr(ord(_TRACKER_STATE[-1]) + 1)),
        )
        return {str(row[0]): bytes(row[1]).decode() for row in rows}

    def tracker_counts(self) -> dict[str, int]:
        """Posts held by each tracker (all of them, reposts and copies included)."""
        rows = self._query(
            "SELECT tracker, COUNT(DISTINCT post_id) FROM post_matches GROUP BY tracker ORDER BY tracker"
        )
        return {str(row[0]): int(row[1]) for row in rows}

    def timeline(
        self, series: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[str, int, int]]:
        """(minute, posts, canonical) of a series, oldest first; minutes without posts are left out."""
        clauses = ["series = ?"]
        params: list[Any] = [series]
        if since is not None:
            clauses.append("minute >= ?")
            params.append((format_time(since) or "")[:16])
        if until is not None:
            clauses.append("minute < ?")
            params.append((format_time(until) or "")[:16])
        rows = self._query(
            f"SELECT minute, posts, canonical FROM timeline WHERE {' AND '.join(clauses)} ORDER BY minute", params
        )
        return [(str(row[0]), int(row[1]), int(row[2])) for row in rows]

    def series_names(self, prefix: str = "", *, limit: int = 1000) -> list[tuple[str, int]]:
        """Series starting with ``prefix`` and their post counts, largest first."""
        rows = self._query(
            "SELECT series, SUM(posts) FROM timeline WHERE series >= ? AND series < ? "
            "GROUP BY series ORDER BY SUM(posts) DESC, series LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return [(str(row[0]), int(row[1])) for row in rows]

    def replace_peaks(self, series: str, bin_minutes: int, peaks: Sequence[dict[str, Any]]) -> None:
        """Record the peaks found in a series (each: start_at, peak_at, end_at, raised_at, posts,
        peak_posts, baseline, score, explanation); a peak recorded before keeps its first
        ``detected_at`` (when groundspeed first raised it)."""
        now = format_time(datetime.now(UTC))

        def replace() -> None:
            known = {
                str(row[0]): str(row[1])
                for row in self.connection.execute(
                    "SELECT start_at, detected_at FROM peaks WHERE series = ? AND bin_minutes = ?",
                    (series, bin_minutes),
                )
            }
            self.connection.execute("DELETE FROM peaks WHERE series = ? AND bin_minutes = ?", (series, bin_minutes))
            self.connection.executemany(
                "INSERT INTO peaks (series, bin_minutes, start_at, peak_at, end_at, raised_at, posts, peak_posts, "
                "baseline, score, explanation, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        series,
                        bin_minutes,
                        peak["start_at"],
                        peak["peak_at"],
                        peak.get("end_at"),
                        peak["raised_at"],
                        peak["posts"],
                        peak["peak_posts"],
                        peak["baseline"],
                        peak["score"],
                        json.dumps(peak["explanation"], ensure_ascii=False) if peak.get("explanation") else None,
                        known.get(peak["start_at"], now),
                    )
                    for peak in peaks
                ],
            )

        self._in_transaction(replace)

    def peaks(self, series: str, *, bin_minutes: int | None = None) -> list[dict[str, Any]]:
        """Recorded peaks of a series, oldest first, explanations decoded."""
        sql = "SELECT * FROM peaks WHERE series = ?"
        params: list[Any] = [series]
        if bin_minutes is not None:
            sql += " AND bin_minutes = ?"
            params.append(bin_minutes)
        result = []
        for row in self._query(sql + " ORDER BY start_at", params):
            item = dict(row)
            item["explanation"] = json.loads(item["explanation"]) if item["explanation"] else None
            result.append(item)
        return result

    def window_posts(self, tracker: str | None, since: datetime, until: datetime, *, limit: int = 20_000) -> list[Post]:
        """Posts of a tracker (or all posts) posted in [since, until), oldest first, at most ``limit``."""
        clauses, params = _filter_sql(PostFilter(since=since, until=until, tracker=tracker), table="posts")
        rows = self._query(f"SELECT * FROM posts {clauses} ORDER BY created_at LIMIT ?", [*params, limit])
        return [row_to_post(row) for row in rows]

    def amplification(self, uids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """(reposts, near-copies) recorded for each of ``uids`` that has any."""
        found: dict[str, tuple[int, int]] = {}
        for start in range(0, len(uids), 500):
            chunk = list(uids[start : start + 500])
            rows = self._query(
                f"SELECT uid, reposts, copies FROM amplification WHERE uid IN ({', '.join('?' * len(chunk))})", chunk
            )
            found.update({str(row[0]): (int(row[1]), int(row[2])) for row in rows})
        return found

    def amplifiers(self, uid: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Who amplified a post, and when: its reposts and near-copies, oldest first."""
        rows = self._query(
            "SELECT uid, author_handle, created_at, "
            "CASE WHEN reposted_uid = ? THEN 'repost' ELSE 'near-copy' END AS how "
            "FROM posts WHERE reposted_uid = ? OR near_copy_of = ? ORDER BY created_at LIMIT ?",
            (uid, uid, uid, limit),
        )
        return [dict(row) for row in rows]

    def collapse_summary(self) -> dict[str, int | float]:
        """How much the duplicate levels collapse: posts, reposts, near-copies, canonical posts."""
        row = self._query(
            "SELECT COUNT(*), COALESCE(SUM(kind = 'repost'), 0), COALESCE(SUM(near_copy_of IS NOT NULL), 0), "
            "COALESCE(SUM(canonical), 0) FROM posts"
        )[0]
        total, reposts, copies, canonical = (int(value) for value in row)
        return {
            "posts": total,
            "reposts": reposts,
            "near_copies": copies,
            "canonical": canonical,
            "share_collapsed": round(1 - canonical / total, 4) if total else 0.0,
        }

    # -- insights (language, information type, first-hand, place) -------------------------------

    def insights_state(self) -> tuple[int, str | None]:
        """(posts.id of the last post understood, the models that understood them)."""
        position = self.load_state(_INSIGHTS_POSITION)
        models = self.load_state(_INSIGHTS_MODELS)
        return (int(position.decode()) if position else 0), (models.decode() if models else None)

    def reset_insights(self, models: str) -> None:
        """Forget every insight: the next run understands every post again with ``models``."""

        def reset() -> None:
            self.connection.execute("DELETE FROM post_insights")
            self._put_states([(_INSIGHTS_POSITION, b"0", None), (_INSIGHTS_MODELS, models.encode(), None)])

        self._in_transaction(reset)

    def posts_to_understand(self, after_id: int, limit: int) -> list[sqlite3.Row]:
        """Posts stored after ``after_id``, oldest first, each with ``original_id``: the id of the
        original a repost copies, when that is stored (such reposts inherit its insight)."""
        return self._query(POSTS_TO_UNDERSTAND, (after_id, limit))

    def record_insights(self, rows: Sequence[tuple[Any, ...]], *, low: int, high: int) -> None:
        """Store the insights of the posts in (low, high] and the stage's new position, at once."""

        def record() -> None:
            record_insights(self.connection, rows, low, high)
            self._put_states([(_INSIGHTS_POSITION, str(high).encode(), None)])

        self._in_transaction(record)

    def insight(self, uid: str) -> dict[str, Any] | None:
        """A post's insight, as stored (JSON columns decoded), or None."""
        rows = self._query(
            "SELECT i.* FROM post_insights AS i JOIN posts AS p ON p.id = i.post_id WHERE p.uid = ?", (uid,)
        )
        if not rows:
            return None
        found = dict(rows[0])
        for column in ("info_types", "mentions"):
            found[column] = json.loads(found[column]) if found[column] else None
        return found

    def insights_for(self, uids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored insight of each of these posts that has one, by uid (JSON columns as text)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(uids), 500):  # SQLite limits the parameters of one statement
            chunk = list(uids[start : start + 500])
            rows = self._query(
                "SELECT p.uid, i.* FROM post_insights AS i JOIN posts AS p ON p.id = i.post_id "
                f"WHERE p.uid IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update((row["uid"], dict(row)) for row in rows)
        return found

    def insight_summary(self, where: PostFilter | None = None) -> dict[str, Any]:
        """How many posts the stage understood, by detected language and information type, and
        how many it found first-hand or placed."""
        clauses, params = _filter_sql(where or PostFilter(), table="posts")
        joined = f"FROM post_insights AS i JOIN posts ON posts.id = i.post_id {clauses}"

        def grouped(column: str) -> dict[str, int]:
            rows = self._query(
                f"SELECT i.{column}, COUNT(*) {joined} GROUP BY i.{column} ORDER BY COUNT(*) DESC, i.{column}",
                params,
            )
            return {("unknown" if row[0] is None else str(row[0])): int(row[1]) for row in rows}

        totals = self._query(
            "SELECT COUNT(*), COALESCE(SUM(i.is_eyewitness), 0), COALESCE(SUM(i.is_informative), 0), "
            f"COALESCE(SUM(i.place_lat IS NOT NULL), 0) {joined}",
            params,
        )[0]
        return {
            "understood": int(totals[0]),
            "first_hand": int(totals[1]),
            "informative": int(totals[2]),
            "placed": int(totals[3]),
            "by_detected_language": grouped("language"),
            "by_info_type": grouped("info_type"),
            "by_place_source": grouped("place_source"),
        }

    # -- stories ---------------------------------------------------------------------------------

    def stories_position(self) -> int:
        """posts.id of the last canonical post the story stage has seen."""
        value = self.load_state(_STORIES_POSITION)
        return int(value.decode()) if value else 0

    def canonical_posts_after(self, after_id: int, limit: int) -> list[tuple[int, str, str, str | None, str | None]]:
        return canonical_posts_after(self.connection, after_id, limit)

    def record_stories(
        self,
        assignments: Sequence[tuple[int, int, bool, float]],
        merged: dict[int, int],
        *,
        position: int,
        detector_state: bytes,
    ) -> None:
        """Store a batch of story assignments, the detector's merges and its state, in one
        transaction. The stories touched are noted as due a refresh (:meth:`refresh_stories`):
        refreshing them after every batch would read a big story's posts again and again."""

        def record() -> None:
            touched = record_assignments(self.connection, assignments, merged)
            due = self._stories_due() | touched
            self._put_states(
                [
                    (_STORIES_STATE, detector_state, None),
                    (_STORIES_POSITION, str(position).encode(), None),
                    (_STORIES_DUE, json.dumps(sorted(due)).encode(), None),
                ]
            )

        self._in_transaction(record)

    def refresh_stories(self, terms_of: Callable[[list[str]], list[str]]) -> int:
        """Apply the analysts' edits again and recompute the records of the stories due a refresh;
        returns how many."""

        def refresh() -> int:
            due = self._stories_due() | apply_edits(self.connection)
            now = newest_post_time(self.connection) or datetime.now(UTC)
            refresh_stories(self.connection, due, now, terms_of)
            self.connection.execute("DELETE FROM tracking_state WHERE name = ?", (_STORIES_DUE,))
            return len(due)

        return self._in_transaction(refresh)

    def refresh_story_trackers(self) -> None:
        """Recompute every story's trackers (after trackers were added, changed or removed)."""
        self._in_transaction(
            lambda: self.connection.execute(
                "UPDATE stories SET trackers = (SELECT json_group_object(tracker, held) FROM ("
                "SELECT m.tracker AS tracker, COUNT(DISTINCT ps.post_id) AS held FROM post_stories AS ps "
                "JOIN post_matches AS m ON m.post_id = ps.post_id WHERE ps.story_id = stories.id "
                "GROUP BY m.tracker ORDER BY held DESC, m.tracker))"
            )
        )

    def story_timeline(self, story_id: int) -> list[tuple[str, int, int, int]]:
        """(hour, posts, distinct authors, amplifications) of a story, oldest first."""
        rows = self._query(
            "SELECT substr(p.created_at, 1, 13) AS hour, COUNT(*), COUNT(DISTINCT COALESCE(p.author_id, p.author_handle)), "
            "COALESCE(SUM(COALESCE(a.reposts, 0) + COALESCE(a.copies, 0)), 0) "
            "FROM post_stories AS ps JOIN posts AS p ON p.id = ps.post_id LEFT JOIN amplification AS a ON a.uid = p.uid "
            "WHERE ps.story_id = ? AND p.created_at IS NOT NULL GROUP BY hour ORDER BY hour",
            (story_id,),
        )
        return [(str(row[0]), int(row[1]), int(row[2]), int(row[3])) for row in rows]

    def _stories_due(self) -> set[int]:
        row = self.connection.execute("SELECT value FROM tracking_state WHERE name = ?", (_STORIES_DUE,)).fetchone()
        return {int(story) for story in json.loads(bytes(row[0]))} if row else set()

    def edit_stories(self, action: str, post_uids: Sequence[str], terms_of: Callable[[list[str]], list[str]]) -> None:
        """An analyst's merge (the stories of these posts are one) or split (these posts are a
        story of their own); kept, by post uid, across reprocessing."""
        if action not in ("merge", "split"):
            msg = f"a story edit is a merge or a split, not {action!r}"
            raise ValueError(msg)

        def edit() -> None:
            self.connection.execute(
                "INSERT INTO story_edits (action, post_uids, made_at) VALUES (?, ?, ?)",
                (action, json.dumps(list(post_uids), ensure_ascii=False), format_time(datetime.now(UTC))),
            )
            touched = apply_edits(self.connection)
            now = newest_post_time(self.connection) or datetime.now(UTC)
            refresh_stories(self.connection, touched, now, terms_of)

        self._in_transaction(edit)

    def list_stories(
        self,
        *,
        tracker: str | None = None,
        sort: str = "growth",
        since: datetime | None = None,
        lang: str | None = None,
        place: str | None = None,
        status: str | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """Story records, the fastest growing (or most authors, or newest) first."""
        clauses: list[str] = []
        params: list[Any] = []
        if tracker is not None:  # from the matches, not the record: a tracker added since counts
            clauses.append(
                "EXISTS (SELECT 1 FROM post_stories AS ps JOIN post_matches AS m ON m.post_id = ps.post_id "
                "WHERE ps.story_id = stories.id AND m.tracker = ?)"
            )
            params.append(tracker)
        if since is not None:
            clauses.append("last_at >= ?")
            params.append(format_time(since))
        if lang is not None:
            clauses.append("json_extract(languages, '$.' || json_quote(?)) IS NOT NULL")
            params.append(lang)
        if place is not None:
            clauses.append("places LIKE ?")
            params.append(f"%{place}%")
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        order = {
            "growth": "CASE status WHEN 'growing' THEN 0 WHEN 'new' THEN 1 WHEN 'steady' THEN 2 ELSE 3 END, posts DESC",
            "authors": "authors DESC, posts DESC",
            "newest": "first_at DESC",
            "size": "posts DESC",
        }.get(sort, "posts DESC")
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._query(f"SELECT * FROM stories {where} ORDER BY {order}, id LIMIT ?", [*params, limit])
        return [_story_dict(row) for row in rows]

    def story(self, story_id: int, *, limit: int = 200) -> tuple[dict[str, Any], list[Post]] | None:
        """A story's record and its posts, oldest first."""
        rows = self._query("SELECT * FROM stories WHERE id = ?", (story_id,))
        if not rows:
            return None
        posts = self._query(
            "SELECT p.* FROM post_stories AS ps JOIN posts AS p ON p.id = ps.post_id WHERE ps.story_id = ? "
            "ORDER BY p.created_at, p.id LIMIT ?",
            (story_id, limit),
        )
        return _story_dict(rows[0]), [row_to_post(row) for row in posts]

    def _in_transaction(self, work: Callable[[], _T]) -> _T:
        connection = self.connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = work()
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        return result

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.connection.execute(sql, params)
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc

    # -- reading -----------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self.connection.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc

    def count_posts(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM posts")[0][0])

    def last_post_id(self) -> int:
        return int(self._query("SELECT COALESCE(MAX(id), 0) FROM posts")[0][0])

    def get_post(self, uid: str) -> Post | None:
        rows = self._query("SELECT * FROM posts WHERE uid = ?", (uid,))
        return row_to_post(rows[0]) if rows else None

    def iter_posts(
        self, where: PostFilter | None = None, *, order: str = "created_at", batch: int = 2000
    ) -> Iterator[Post]:
        """Every post matching the filter, oldest first, streamed in batches."""
        clauses, params = _filter_sql(where or PostFilter(), table="posts")
        sql = f"SELECT * FROM posts {clauses} ORDER BY {_order(order)}"
        try:
            cursor = self.connection.execute(sql, params)
            while rows := cursor.fetchmany(batch):
                yield from (row_to_post(row) for row in rows)
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc

    def search(
        self, query: str, where: PostFilter | None = None, *, limit: int = 50, offset: int = 0, order: str = "rank"
    ) -> list[Post]:
        """Posts matching an FTS5 query over normalised text, best match first (or by time)."""
        clauses, params = _filter_sql(where or PostFilter(), table="posts")
        join = "AND" if clauses else "WHERE"
        ordering = "posts_fts.rank" if order == "rank" else _order(order)
        sql = (
            f"SELECT posts.* FROM posts_fts JOIN posts ON posts.id = posts_fts.rowid {clauses} "
            f"{join} posts_fts MATCH ? ORDER BY {ordering} LIMIT ? OFFSET ?"
        )
        try:
            rows = self.connection.execute(sql, [*params, normalise_query(query), limit, offset]).fetchall()
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc).lower() or "syntax" in str(exc).lower() or "no such column" in str(exc).lower():
                msg = f"The search {query!r} is not valid search syntax ({exc}). Put phrases in double quotes."
                raise StoreError(msg) from exc
            raise _translate(exc, self.path) from exc
        return [row_to_post(row) for row in rows]

    def stats(self, where: PostFilter | None = None) -> dict[str, Any]:
        clauses, params = _filter_sql(where or PostFilter(), table="posts")

        def grouped(expression: str) -> dict[str, int]:
            rows = self._query(
                f"SELECT {expression} AS key, COUNT(*) FROM posts {clauses} GROUP BY key ORDER BY COUNT(*) DESC, key",
                params,
            )
            return {("unknown" if row[0] is None else str(row[0])): int(row[1]) for row in rows}

        total = int(self._query(f"SELECT COUNT(*) FROM posts {clauses}", params)[0][0])
        span = self._query(f"SELECT MIN(created_at), MAX(created_at) FROM posts {clauses}", params)[0]
        quarantine = {
            str(row[0]): int(row[1])
            for row in self._query("SELECT reason, COUNT(*) FROM quarantine GROUP BY reason ORDER BY COUNT(*) DESC")
        }
        skipped = {
            str(row[0]): int(row[1])
            for row in self._query(
                "SELECT reason, SUM(count) FROM skipped_records GROUP BY reason ORDER BY SUM(count) DESC"
            )
        }
        return {
            "posts": total,
            "first_post_at": span[0],
            "last_post_at": span[1],
            "by_platform": grouped("platform"),
            "by_kind": grouped("kind"),
            "by_language": grouped("lang"),
            "by_day": dict(sorted(grouped("substr(created_at, 1, 10)").items())),
            "with_location": int(
                self._query(
                    f"SELECT COUNT(*) FROM posts {clauses} {'AND' if clauses else 'WHERE'} (lat IS NOT NULL OR place_name IS NOT NULL)",
                    params,
                )[0][0]
            ),
            "quarantined": sum(quarantine.values()),
            "quarantine_by_reason": quarantine,
            "skipped_not_posts": sum(skipped.values()),
            "skipped_by_reason": skipped,
            "imports": int(self._query("SELECT COUNT(*) FROM imports")[0][0]),
            "duplicates_collapsed": self.collapse_summary(),
            "trackers": self.tracker_counts(),
            "insights": self.insight_summary(where),
        }

    def quarantine_items(self, *, source: str | None = None, limit: int | None = 100) -> list[dict[str, Any]]:
        sql = "SELECT * FROM quarantine"
        params: list[Any] = []
        if source:
            sql += " WHERE source LIKE ?"
            params.append(f"%{source}%")
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [dict(row) for row in self._query(sql, params)]

    def imports(self, limit: int = 50) -> list[dict[str, Any]]:
        return [dict(row) for row in self._query("SELECT * FROM imports ORDER BY id DESC LIMIT ?", (limit,))]

    def integrity_problems(self) -> list[str]:
        """Problems found by SQLite's own checks and the full-text index's consistency check."""
        problems = [str(row[0]) for row in self._query("PRAGMA integrity_check") if row[0] != "ok"]
        try:
            self.connection.execute("INSERT INTO posts_fts(posts_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.Error as exc:
            problems.append(f"full-text index: {exc}")
        return problems


_WAL_FRAMES = 65_536  # pages (256 MiB): the write-ahead log size past which a commit waits for the checkpoint
# Checkpoint after this many commits, not after each: a page written by several commits (index and
# full-text pages are, batch after batch) is then copied into the database once, not each time.
_COMMITS_PER_CHECKPOINT = 4
_CATCH_UP_SECONDS = 5.0  # at most (a reader holding an old snapshot can keep a checkpoint from finishing)


class _Checkpoints:
    """The checkpointing thread of :meth:`Store.background_checkpoints`, with its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._wanted = threading.Event()
        self._caught_up = threading.Event()
        self._stopping = False
        self._log_frames = 0
        self._commits = 0
        self._thread = threading.Thread(target=self._run, name="groundspeed-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def committed(self) -> None:
        """Called by the writer after each commit."""
        self._commits += 1
        if self._commits >= _COMMITS_PER_CHECKPOINT:
            self._commits = 0
            self._caught_up.clear()
            self._wanted.set()

    def keep_log_short(self) -> None:
        """Called by the writer before a transaction: wait for the checkpoint when the log is long."""
        if self._log_frames > _WAL_FRAMES:
            self._caught_up.wait(_CATCH_UP_SECONDS)

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        except sqlite3.Error:
            return
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                try:  # a checkpoint that fails can always be done later
                    busy, log, done = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    continue
                self._log_frames = log
                if not busy and log == done:
                    self._caught_up.set()
        finally:
            connection.close()
            self._caught_up.set()  # never leave the writer waiting


def _story_dict(row: sqlite3.Row) -> dict[str, Any]:
    item = dict(row)
    for key in _STORY_JSON:
        item[key] = json.loads(item[key]) if item[key] else ([] if key == "terms" else {})
    return item


def _split_sql(script: str) -> Iterable[str]:
    """Statements of a migration script; trigger bodies contain semicolons, so split on END too."""
    statements: list[str] = []
    buffer: list[str] = []
    for line in script.splitlines():
        stripped = line.split("--", 1)[0].rstrip() if "--" in line and "'" not in line else line.rstrip()
        if not stripped.strip():
            continue
        buffer.append(stripped)
        text = "\n".join(buffer).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            statements.append(text)
            buffer = []
    if buffer:
        statements.append("\n".join(buffer))
    return statements


_ORDERS = {
    "created_at": "posts.created_at, posts.id",
    "-created_at": "posts.created_at DESC, posts.id DESC",
    "collected_at": "posts.id",
}


def _order(order: str) -> str:
    try:
        return _ORDERS[order]
    except KeyError:
        msg = f"Unknown order {order!r}; use one of {', '.join(_ORDERS)}."
        raise StoreError(msg) from None


def _filter_sql(where: PostFilter, *, table: str) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if where.since is not None:
        clauses.append(f"{table}.created_at >= ?")
        params.append(format_time(where.since))
    if where.until is not None:
        clauses.append(f"{table}.created_at < ?")
        params.append(format_time(where.until))
    for column, values in (("platform", where.platforms), ("kind", where.kinds)):
        if values:
            clauses.append(f"{table}.{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if where.langs:
        clause, values = language_filter_sql(table=table, langs=where.langs)
        clauses.append(clause)
        params.extend(values)
    insight_clauses, insight_params = insight_filter_sql(
        table=table,
        info_types=where.info_types,
        eyewitness=where.eyewitness,
        informative=where.informative,
        place=where.place,
        place_bbox=where.place_bbox,
    )
    clauses.extend(insight_clauses)
    params.extend(insight_params)
    if where.source:
        clauses.append(f"{table}.source LIKE ?")
        params.append(f"%{where.source}%")
    if where.canonical_only:
        clauses.append(f"{table}.canonical")
    if where.tracker is not None:
        clauses.append(f"{table}.id IN (SELECT post_id FROM post_matches WHERE tracker = ?)")
        params.append(where.tracker)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


_QUERY_TOKEN_RE = re.compile(r'"[^"]*"|\S+')
_BAREWORD_RE = re.compile(r"^\w+\*?$")
_OPERATORS = {"AND", "OR", "NOT"}


def normalise_query(query: str) -> str:
    """Fold a search the same way post text was folded, leaving FTS5 syntax working.

    ``AND``, ``OR``, ``NOT`` (upper case) stay operators; quoted phrases, prefixes (``tehr*``)
    and parentheses keep working. Words with punctuation (``colorado-fire``, ``#iranelection``)
    become phrases of their words, as the index saw them; a leading ``#`` or ``@`` is dropped.
    """
    parts: list[str] = []
    for token in _QUERY_TOKEN_RE.findall(query):
        if token in _OPERATORS:
            parts.append(token)
            continue
        core = token.lstrip("(")
        opening = token[: len(token) - len(core)]
        stripped = core.rstrip(")")
        closing = core[len(stripped) :]
        core = stripped
        if core.startswith('"') and core.endswith('"') and len(core) >= 2:
            inner = fold(core[1:-1]).replace('"', "")
            parts.append(f'{opening}"{inner}"{closing}')
            continue
        core = fold(core).lstrip("#@＃")
        if not core:
            continue
        if _BAREWORD_RE.match(core):
            parts.append(f"{opening}{core}{closing}")
        else:
            star = "*" if core.endswith("*") else ""
            phrase = core.rstrip("*").replace('"', "")
            parts.append(f'{opening}"{phrase}"{star}{closing}')
    return " ".join(parts)
