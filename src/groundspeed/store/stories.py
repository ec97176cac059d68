"""SQL of the story stage (migration 3): which story each canonical post is in, and story records.

The detector (:mod:`groundspeed.track.stories`) runs outside the store, over canonical posts in
the order they were stored; this module reads those posts, records its assignments and merges,
and recomputes the records of the stories a batch touched. An analyst's merges and splits are
kept by post uid (``story_edits``) and applied again after every run, so they survive
reprocessing.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

SPLIT_IDS = 1_000_000_000  # stories made by an analyst's split: ids above the detector's
_RECENT = timedelta(hours=6)
_NEW = timedelta(hours=2)
_QUIET = timedelta(hours=12)


def _plain(connection: sqlite3.Connection) -> sqlite3.Cursor:
    cursor = connection.cursor()
    cursor.row_factory = None
    return cursor


def canonical_posts_after(
    connection: sqlite3.Connection, after_id: int, limit: int
) -> list[tuple[int, str, str, str | None, str | None]]:
    """(id, uid, text, created_at, lang) of canonical posts stored after ``after_id``, in order."""
    return (
        _plain(connection)
        .execute(
            "SELECT id, uid, text, created_at, lang FROM posts WHERE id > ? AND canonical AND text IS NOT NULL "
            "ORDER BY id LIMIT ?",
            (after_id, limit),
        )
        .fetchall()
    )


def record_assignments(
    connection: sqlite3.Connection, assignments: Iterable[tuple[int, int, bool, float]], merged: dict[int, int]
) -> set[int]:
    """Store (post id, story, new, novelty) rows and the merges the detector made (old -> new id).
    Returns the stories touched."""
    plain = _plain(connection)
    rows = list(assignments)
    plain.executemany(
        "INSERT INTO post_stories (post_id, story_id, new, novelty) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (post_id) DO UPDATE SET story_id = excluded.story_id",
        [(post_id, story, int(new), novelty) for post_id, story, new, novelty in rows],
    )
    touched = {story for _post, story, _new, _novelty in rows}
    for old, new in merged.items():
        plain.execute("UPDATE post_stories SET story_id = ? WHERE story_id = ?", (new, old))
        plain.execute("DELETE FROM stories WHERE id = ?", (old,))
        touched.discard(old)
        touched.add(new)
    return touched


def apply_edits(connection: sqlite3.Connection) -> set[int]:
    """Apply every analyst edit again (idempotent); returns the stories they touched."""
    plain = _plain(connection)
    touched: set[int] = set()
    for edit_id, action, uids_json in plain.execute(
        "SELECT id, action, post_uids FROM story_edits ORDER BY id"
    ).fetchall():
        uids = json.loads(uids_json)
        marks = ", ".join("?" * len(uids))
        found = plain.execute(
            f"SELECT ps.post_id, ps.story_id FROM post_stories AS ps JOIN posts AS p ON p.id = ps.post_id "
            f"WHERE p.uid IN ({marks})",
            uids,
        ).fetchall()
        if not found:
            continue
        if action == "merge":
            stories = sorted({story for _post, story in found})
            keep = stories[0]
            for gone in stories[1:]:
                plain.execute("UPDATE post_stories SET story_id = ? WHERE story_id = ?", (keep, gone))
                plain.execute("DELETE FROM stories WHERE id = ?", (gone,))
            touched.add(keep)
        elif action == "split":
            story = SPLIT_IDS + int(edit_id)
            touched.update(old for _post, old in found)
            plain.executemany(
                "UPDATE post_stories SET story_id = ? WHERE post_id = ?", [(story, post) for post, _old in found]
            )
            touched.add(story)
    return touched


def refresh_stories(
    connection: sqlite3.Connection, stories: Iterable[int], now: datetime, terms_of: Callable[[list[str]], list[str]]
) -> None:
    """Recompute the records of these stories from their posts. ``now`` is the event time the
    status is judged at (the newest post stored); ``terms_of`` picks key terms from texts."""
    ids = sorted(set(stories))
    plain = _plain(connection)
    stamp = now.astimezone(UTC).isoformat()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        members: dict[int, list[tuple[Any, ...]]] = {}
        for row in plain.execute(
            "SELECT ps.story_id, ps.post_id, ps.new, ps.novelty, p.uid, p.text, p.created_at, p.lang, p.platform, "
            "p.place_name, p.author_id, p.author_handle, COALESCE(a.reposts, 0) + COALESCE(a.copies, 0) "
            "FROM post_stories AS ps JOIN posts AS p ON p.id = ps.post_id "
            "LEFT JOIN amplification AS a ON a.uid = p.uid "
            f"WHERE ps.story_id IN ({marks}) ORDER BY ps.post_id",
            chunk,
        ):
            members.setdefault(row[0], []).append(row)
        trackers: dict[int, Counter[str]] = {}
        for story, tracker, count in plain.execute(
            "SELECT ps.story_id, m.tracker, COUNT(DISTINCT ps.post_id) FROM post_stories AS ps "
            f"JOIN post_matches AS m ON m.post_id = ps.post_id WHERE ps.story_id IN ({marks}) GROUP BY 1, 2",
            chunk,
        ):
            trackers.setdefault(story, Counter())[tracker] = count
        for story in chunk:
            rows = members.get(story)
            if not rows:
                plain.execute("DELETE FROM stories WHERE id = ?", (story,))
                continue
            plain.execute(
                "INSERT INTO stories (id, first_post_id, novelty, representative_post_id, posts, authors, "
                "amplifications, first_at, last_at, status, terms, languages, places, platforms, trackers, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "first_post_id = excluded.first_post_id, novelty = excluded.novelty, "
                "representative_post_id = excluded.representative_post_id, posts = excluded.posts, "
                "authors = excluded.authors, amplifications = excluded.amplifications, "
                "first_at = excluded.first_at, last_at = excluded.last_at, status = excluded.status, "
                "terms = excluded.terms, languages = excluded.languages, places = excluded.places, "
                "platforms = excluded.platforms, trackers = excluded.trackers, updated_at = excluded.updated_at",
                _record(story, rows, trackers.get(story, Counter()), now, terms_of, stamp),
            )


def _record(
    story: int,
    rows: Sequence[tuple[Any, ...]],
    trackers: Counter[str],
    now: datetime,
    terms_of: Callable[[list[str]], list[str]],
    stamp: str,
) -> tuple[Any, ...]:
    first = rows[0]
    times = [row[6] for row in rows if row[6]]
    representative = max(rows, key=lambda row: (row[12], -row[1]))
    authors = {row[10] or row[11] for row in rows if row[10] or row[11]}

    def share(index: int) -> str:
        return json.dumps(dict(Counter(row[index] for row in rows if row[index]).most_common(10)), ensure_ascii=False)

    return (
        story,
        first[1],
        first[3],
        representative[1],
        len(rows),
        len(authors),
        sum(row[12] for row in rows),
        min(times) if times else None,
        max(times) if times else None,
        status(times, now),
        json.dumps(terms_of([row[5] for row in rows[-300:] if row[5]]), ensure_ascii=False),
        share(7),
        share(9),
        share(8),
        json.dumps(dict(trackers.most_common()), ensure_ascii=False),
        stamp,
    )


def status(times: Sequence[str], now: datetime) -> str:
    """new (began in the last 2 hours), growing (more posts in the last 6 hours than in the 6
    before, and at least 3), fading (nothing for 12 hours), else steady. Event time."""
    if not times:
        return "steady"
    when = sorted(datetime.fromisoformat(value) for value in times)
    if when[0] >= now - _NEW:
        return "new"
    if when[-1] < now - _QUIET:
        return "fading"
    recent = sum(1 for value in when if value >= now - _RECENT)
    before = sum(1 for value in when if now - 2 * _RECENT <= value < now - _RECENT)
    return "growing" if recent >= 3 and recent > 1.5 * before else "steady"


def newest_post_time(connection: sqlite3.Connection) -> datetime | None:
    row = connection.execute("SELECT MAX(created_at) FROM posts").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None
