"""Read queries for the web front end (the situation room), over a read-only connection.

Kept apart from :mod:`.db` so the web app's needs (cheap overview counts, newest-first pages
with cursors, map points) do not grow the writer's class. Every function takes a
``sqlite3.Connection`` whose ``row_factory`` is ``sqlite3.Row`` (as :class:`.db.Store` opens it)
and only reads.

Counts for the main views come from the per-minute ``timeline`` table, not from ``posts``: that
keeps the overview fast with millions of posts. Older data folders may lack tables added by later
migrations (``post_insights``, ``stories``): every function answers with "nothing known" then.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .db import PostFilter, normalise_query
from .rows import format_time

INSIGHT_FIELDS = (
    "language",
    "language_confidence",
    "info_type",
    "is_eyewitness",
    "eyewitness",
    "is_informative",
    "place_name",
    "place_lat",
    "place_lon",
    "place_country",
    "place_precision",
    "place_source",
    "place_confidence",
)
_POST_FIELDS = (
    "id, uid, platform, kind, url, created_at, collected_at, original_text, text, lang, author_handle, author_name, "
    "author_followers, reposted_uid, quoted_uid, replied_to_uid, hashtags, lat, lon, place_name, source, "
    "near_copy_of, canonical, details"
)


def has_table(connection: sqlite3.Connection, name: str) -> bool:
    row = connection.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (name,))
    return row.fetchone() is not None


def parse_minute(minute: str) -> datetime:
    """A stored ``timeline.minute`` (``2022-09-16T18:04``) as an aware UTC datetime."""
    return datetime.fromisoformat(minute).replace(tzinfo=UTC)


# -- freshness --------------------------------------------------------------------------------


def cursor(connection: sqlite3.Connection) -> dict[str, Any]:
    """What changed markers a live page watches: the newest post id, peak and story update."""
    last_id = connection.execute("SELECT COALESCE(MAX(id), 0) FROM posts").fetchone()[0]
    peaks = connection.execute("SELECT COUNT(*), MAX(detected_at) FROM peaks").fetchone()
    stories: tuple[Any, ...] = (0, None)
    if has_table(connection, "stories"):
        stories = tuple(connection.execute("SELECT COUNT(*), MAX(updated_at) FROM stories").fetchone())
    return {
        "last_post_id": int(last_id),
        "understood": understood_position(connection),  # moves when posts are understood later
        "peaks": int(peaks[0]),
        "peaks_at": peaks[1],
        "stories": int(stories[0] or 0),
        "stories_at": stories[1],
    }


def newest_minute(connection: sqlite3.Connection) -> datetime | None:
    """The latest minute with posts: "now" for a crisis whose data is not live."""
    row = connection.execute("SELECT MAX(minute) FROM timeline WHERE series = 'all'").fetchone()
    return parse_minute(row[0]) if row and row[0] else None


# -- overview ---------------------------------------------------------------------------------


def series_totals(connection: sqlite3.Connection, prefix: str) -> dict[str, dict[str, Any]]:
    """posts, canonical and last minute of every series starting with ``prefix``."""
    rows = connection.execute(
        "SELECT series, SUM(posts), SUM(canonical), MIN(minute), MAX(minute) FROM timeline "
        "WHERE series >= ? AND series < ? GROUP BY series",
        (prefix, prefix + "\U0010ffff"),
    ).fetchall()
    return {
        str(row[0]): {"posts": int(row[1]), "canonical": int(row[2]), "first_minute": row[3], "last_minute": row[4]}
        for row in rows
    }


def recent_posts(connection: sqlite3.Connection, series: str, since: datetime) -> tuple[int, int]:
    """(posts, canonical) of a series since a time."""
    row = connection.execute(
        "SELECT COALESCE(SUM(posts), 0), COALESCE(SUM(canonical), 0) FROM timeline WHERE series = ? AND minute >= ?",
        (series, since.strftime("%Y-%m-%dT%H:%M")),
    ).fetchone()
    return int(row[0]), int(row[1])


def last_peak(connection: sqlite3.Connection, series: str) -> dict[str, Any] | None:
    row = connection.execute(
        "SELECT id, series, bin_minutes, start_at, peak_at, end_at, posts, peak_posts, baseline, score "
        "FROM peaks WHERE series = ? ORDER BY peak_at DESC LIMIT 1",
        (series,),
    ).fetchone()
    return dict(row) if row else None


def story_counts(connection: sqlite3.Connection, tracker: str | None = None) -> dict[str, int]:
    """Stories by status (new, growing, steady, fading), of one tracker or all."""
    if not has_table(connection, "stories"):
        return {}
    if tracker is None:
        rows = connection.execute("SELECT status, COUNT(*) FROM stories GROUP BY status").fetchall()
    else:
        rows = connection.execute(
            "SELECT status, COUNT(*) FROM stories WHERE EXISTS "
            "(SELECT 1 FROM json_each(stories.trackers) WHERE json_each.key = ?) GROUP BY status",
            (tracker,),
        ).fetchall()
    return {str(row[0]): int(row[1]) for row in rows}


def story_counts_by_tracker(connection: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Stories by status for every tracker at once (one pass over the stories)."""
    if not has_table(connection, "stories"):
        return {}
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for tracker, status, count in connection.execute(
        "SELECT j.key, s.status, COUNT(*) FROM stories AS s, json_each(s.trackers) AS j GROUP BY j.key, s.status"
    ):
        found[str(tracker)][str(status)] = int(count)
    return dict(found)


def sources(connection: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every source read so far (file or stream): its last import, totals and quarantined records."""
    imports = connection.execute(
        "SELECT path, format, COUNT(*) AS runs, MAX(started_at) AS last_started, MAX(finished_at) AS last_finished, "
        "SUM(records) AS records, SUM(posts_new) AS posts_new, SUM(quarantined) AS quarantined, "
        "(SELECT status FROM imports AS i2 WHERE i2.path = i.path ORDER BY i2.id DESC LIMIT 1) AS status, "
        "(SELECT message FROM imports AS i2 WHERE i2.path = i.path ORDER BY i2.id DESC LIMIT 1) AS message "
        "FROM imports AS i GROUP BY path ORDER BY last_started DESC LIMIT 200"
    ).fetchall()
    return [dict(row) for row in imports]


def quarantine_counts(connection: sqlite3.Connection) -> dict[str, int]:
    rows = connection.execute("SELECT reason, COUNT(*) FROM quarantine GROUP BY reason").fetchall()
    return {str(row[0]): int(row[1]) for row in rows}


def quarantine_by_source(connection: sqlite3.Connection) -> dict[str, int]:
    rows = connection.execute("SELECT source, COUNT(*) FROM quarantine GROUP BY source").fetchall()
    return {str(row[0]): int(row[1]) for row in rows}


# -- timelines and peaks ----------------------------------------------------------------------


def choose_bin(first: datetime, last: datetime, *, points: int = 400) -> int:
    """A bin width in minutes showing a span in at most about ``points`` bins."""
    span = max(1.0, (last - first).total_seconds() / 60)
    for minutes in (1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 10080):
        if span / minutes <= points:
            return minutes
    return 10080


def binned_series(
    connection: sqlite3.Connection,
    names: Sequence[str],
    *,
    bin_minutes: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Counts of several series in common bins: ``{"bin_minutes", "times" (epoch seconds),
    "series": {name: {"posts": [...], "canonical": [...]}}}``, gaps filled with zeros. SQLite
    sums the minutes into bins; the span is found first from the ends of each series."""
    low = since.strftime("%Y-%m-%dT%H:%M") if since is not None else ""
    high = until.strftime("%Y-%m-%dT%H:%M") if until is not None else "\U0010ffff"
    ends: list[str] = []
    for name in names:
        row = connection.execute(
            "SELECT MIN(minute), MAX(minute) FROM timeline WHERE series = ? AND minute >= ? AND minute < ?",
            (name, low, high),
        ).fetchone()
        if row[0] is not None:
            ends.extend([str(row[0]), str(row[1])])
    if not ends:
        empty: dict[str, dict[str, list[int]]] = {name: {"posts": [], "canonical": []} for name in names}
        return {"bin_minutes": bin_minutes or 60, "times": [], "series": empty}
    first, last = parse_minute(min(ends)), parse_minute(max(ends))
    width = bin_minutes or choose_bin(first, last)
    seconds = width * 60
    start = int(first.timestamp()) // seconds * seconds
    count = (int(last.timestamp()) - start) // seconds + 1
    result: dict[str, Any] = {"bin_minutes": width, "times": [start + i * seconds for i in range(count)], "series": {}}
    for name in names:
        posts = [0] * count
        canonical = [0] * count
        rows = connection.execute(
            "SELECT (CAST(unixepoch(minute) AS INTEGER) - ?) / ? AS slot, SUM(posts), SUM(canonical) FROM timeline "
            "WHERE series = ? AND minute >= ? AND minute < ? GROUP BY slot",
            (start, seconds, name, low, high),
        )
        for slot, total, kept in rows:
            if 0 <= slot < count:
                posts[slot] = int(total)
                canonical[slot] = int(kept)
        result["series"][name] = {"posts": posts, "canonical": canonical}
    return result


def breakdown_names(connection: sqlite3.Connection, by: str, *, limit: int = 6) -> list[str]:
    """The largest ``lang:`` or ``platform:`` series."""
    prefix = {"language": "lang:", "platform": "platform:"}[by]
    rows = connection.execute(
        "SELECT series FROM timeline WHERE series >= ? AND series < ? GROUP BY series ORDER BY SUM(posts) DESC LIMIT ?",
        (prefix, prefix + "\U0010ffff", limit),
    ).fetchall()
    return [str(row[0]) for row in rows]


def tracker_breakdown(
    connection: sqlite3.Connection, tracker: str, by: str, bin_minutes: int, *, limit: int = 6
) -> dict[str, dict[int, int]]:
    """A tracker's posts per bin by language or platform (the per-minute timeline has no such split
    per tracker, so this reads the posts). Returns ``{label: {bin start (epoch seconds): posts}}``."""
    insights = has_table(connection, "post_insights")
    if by == "language":
        key = (
            "COALESCE((SELECT language FROM post_insights WHERE post_id = posts.id), posts.lang)"
            if insights
            else "posts.lang"
        )
    else:
        key = "posts.platform"
    seconds = bin_minutes * 60
    rows = connection.execute(
        f"SELECT {key} AS label, CAST(unixepoch(posts.created_at) / ? AS INTEGER) * ? AS bin, COUNT(*) "
        "FROM posts WHERE posts.id IN (SELECT post_id FROM post_matches WHERE tracker = ?) "
        "AND posts.created_at IS NOT NULL GROUP BY label, bin",
        (seconds, seconds, tracker),
    ).fetchall()
    totals: dict[str, int] = defaultdict(int)
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for label, start, count in rows:
        name = str(label) if label is not None else "unknown"
        totals[name] += int(count)
        counts[name][int(start)] = counts[name].get(int(start), 0) + int(count)
    top = sorted(totals, key=lambda name: -totals[name])[:limit]
    return {name: counts[name] for name in top}


def peaks(connection: sqlite3.Connection, series: str, *, limit: int = 200) -> list[dict[str, Any]]:
    """Recorded peaks of a series, newest first (explanations left out: see :func:`peak`)."""
    rows = connection.execute(
        "SELECT id, series, bin_minutes, start_at, peak_at, end_at, raised_at, posts, peak_posts, baseline, score, "
        "detected_at, explanation IS NOT NULL AS explained FROM peaks WHERE series = ? OR series = ? "
        "ORDER BY peak_at DESC LIMIT ?",
        (series, series + " (one post per message)", limit),
    ).fetchall()
    return [dict(row) for row in rows]


def peak(connection: sqlite3.Connection, series: str, bin_minutes: int, start_at: str) -> dict[str, Any] | None:
    """One peak with its explanation decoded."""
    row = connection.execute(
        "SELECT * FROM peaks WHERE series = ? AND bin_minutes = ? AND start_at = ?", (series, bin_minutes, start_at)
    ).fetchone()
    if row is None:
        return None
    found = dict(row)
    found["explanation"] = json.loads(found["explanation"]) if found["explanation"] else None
    return found


def peak_by_id(connection: sqlite3.Connection, peak_id: int) -> dict[str, Any] | None:
    row = connection.execute("SELECT series, bin_minutes, start_at FROM peaks WHERE id = ?", (peak_id,)).fetchone()
    return peak(connection, str(row[0]), int(row[1]), str(row[2])) if row else None


# -- posts ------------------------------------------------------------------------------------


def filter_sql(connection: sqlite3.Connection, where: PostFilter) -> tuple[str, list[Any]]:
    """WHERE clause for a filter, the same posts as the store's filter, written for newest-first
    pages: every condition is checked row by row (a primary-key lookup), so SQLite walks the
    ``created_at`` index from the newest post and stops after one page. (The store's form, ``id IN
    (subquery)``, makes SQLite collect and sort every match first: seconds for a tracker holding
    half a million posts.) In a folder without insights, insight filters match nothing and
    languages are the platform's."""
    clauses: list[str] = []
    params: list[Any] = []
    if where.since is not None:
        clauses.append("posts.created_at >= ?")
        params.append(format_time(where.since))
    if where.until is not None:
        clauses.append("posts.created_at < ?")
        params.append(format_time(where.until))
    for column, values in (("platform", where.platforms), ("kind", where.kinds)):
        if values:
            clauses.append(f"posts.{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if where.source:
        clauses.append("posts.source LIKE ?")
        params.append(f"%{where.source}%")
    if where.canonical_only:
        clauses.append("posts.canonical")
    if where.tracker is not None:
        clauses.append("EXISTS (SELECT 1 FROM post_matches AS m WHERE m.tracker = ? AND m.post_id = posts.id)")
        params.append(where.tracker)
    insights = has_table(connection, "post_insights")
    if where.langs:
        marks = ", ".join("?" * len(where.langs))
        if insights:
            # The detected language where the post was understood ('' when unsure), else the platform's.
            clauses.append(
                "COALESCE((SELECT COALESCE(i.language, '') FROM post_insights AS i WHERE i.post_id = posts.id), "
                f"posts.lang) IN ({marks})"
            )
        else:
            clauses.append(f"posts.lang IN ({marks})")
        params.extend(where.langs)
    conditions: list[str] = []
    insight_params: list[Any] = []
    if where.info_types:
        conditions.append(f"i.info_type IN ({', '.join('?' * len(where.info_types))})")
        insight_params.extend(where.info_types)
    if where.eyewitness:
        conditions.append("i.is_eyewitness = 1")
    if where.informative:
        conditions.append("i.is_informative = 1")
    if where.place:
        conditions.append("(i.place_name = ? COLLATE NOCASE OR i.place_country = ? COLLATE NOCASE)")
        insight_params.extend([where.place, where.place])
    if conditions and insights:
        clauses.append(
            f"EXISTS (SELECT 1 FROM post_insights AS i WHERE i.post_id = posts.id AND {' AND '.join(conditions)})"
        )
        params.extend(insight_params)
    elif conditions:
        clauses.append("0")  # nothing is understood yet: no post is known to be first-hand, placed ...
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def list_posts(
    connection: sqlite3.Connection,
    where: PostFilter,
    *,
    query: str | None = None,
    before: tuple[str, int] | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Posts matching a filter (and a full-text search), newest first.

    ``before`` (created_at, id) pages back from a post; ``after_id`` returns only posts stored
    after that id (what a live page has not shown yet).
    """
    clauses, params = filter_sql(connection, where)
    extra: list[str] = []
    table = "posts"
    if query:
        match = normalise_query(query)
        extra.append("posts.id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)")
        params.append(match)
        if _many_matches(connection, match):
            # Walk the time index from the newest post, keeping the matches: a page of a common
            # word is found after a few hundred entries. (Few matches: SQLite reads them all and
            # sorts them, which is cheaper than walking the whole index.)
            table = "posts INDEXED BY posts_created_at"
    if before is not None:
        extra.append("(posts.created_at < ? OR (posts.created_at = ? AND posts.id < ?))")
        params.extend([before[0], before[0], before[1]])
    if after_id is not None:
        extra.append("posts.id > ?")
        params.append(after_id)
    if extra:
        clauses = (clauses + " AND " if clauses else "WHERE ") + " AND ".join(extra)
    sql = f"SELECT {_POST_FIELDS} FROM {table} {clauses} ORDER BY posts.created_at DESC, posts.id DESC LIMIT ?"
    rows = connection.execute(sql, [*params, limit]).fetchall()
    return decorate(connection, [dict(row) for row in rows])


_FEW_MATCHES = 1000
_RECENT_POSTS = 100_000
_STORY_CHART_POSTS = 10_000


def _many_matches(connection: sqlite3.Connection, match: str) -> bool:
    """Whether walking the time index from the newest post finds a page of matches soon: more
    than a thousand matches, and a page of them among the newest posts stored. (A word used
    only long ago would make the walk read most of the index; reading its matches is cheaper.)"""
    row = connection.execute(
        "SELECT COUNT(*) FROM (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ? LIMIT ?)", (match, _FEW_MATCHES + 1)
    ).fetchone()
    if int(row[0]) <= _FEW_MATCHES:
        return False
    newest = connection.execute("SELECT COALESCE(MAX(id), 0) FROM posts").fetchone()[0]
    recent = connection.execute(
        "SELECT COUNT(*) FROM (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ? AND rowid > ? LIMIT 50)",
        (match, int(newest) - _RECENT_POSTS),
    ).fetchone()
    return int(recent[0]) >= 50


def decorate(connection: sqlite3.Connection, posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each post's insight (or None), amplification counts and story to post rows."""
    if not posts:
        return posts
    ids = [post["id"] for post in posts]
    marks = ", ".join("?" * len(ids))
    insights: dict[int, dict[str, Any]] = {}
    if has_table(connection, "post_insights"):
        for row in connection.execute(
            f"SELECT post_id, {', '.join(INSIGHT_FIELDS)} FROM post_insights WHERE post_id IN ({marks})", ids
        ):
            insights[int(row[0])] = {field: row[field] for field in INSIGHT_FIELDS}
    uids = [post["uid"] for post in posts]
    amplified = {
        str(row[0]): (int(row[1]), int(row[2]))
        for row in connection.execute(f"SELECT uid, reposts, copies FROM amplification WHERE uid IN ({marks})", uids)
    }
    stories: dict[int, int] = {}
    if has_table(connection, "post_stories"):
        stories = {
            int(row[0]): int(row[1])
            for row in connection.execute(f"SELECT post_id, story_id FROM post_stories WHERE post_id IN ({marks})", ids)
        }
    for post in posts:
        details = json.loads(post.pop("details") or "{}")
        post["urls"] = list(details.get("urls") or [])
        post["media"] = list(details.get("media") or [])
        post["mentions"] = list(details.get("mentions") or [])
        post["hashtags"] = json.loads(post["hashtags"]) if post.get("hashtags") else []
        post["canonical"] = bool(post.get("canonical"))
        post["insight"] = insights.get(post["id"])
        reposts, copies = amplified.get(post["uid"], (0, 0))
        post["reposts"], post["near_copies"] = reposts, copies
        post["story_id"] = stories.get(post["id"])
        post["details"] = details
    return posts


def post_by_uid(connection: sqlite3.Connection, uid: str) -> dict[str, Any] | None:
    rows = connection.execute(f"SELECT {_POST_FIELDS} FROM posts WHERE uid = ?", (uid,)).fetchall()
    if not rows:
        return None
    return decorate(connection, [dict(rows[0])])[0]


def posts_by_uid(connection: sqlite3.Connection, uids: Sequence[str]) -> list[dict[str, Any]]:
    if not uids:
        return []
    rows = connection.execute(
        f"SELECT {_POST_FIELDS} FROM posts WHERE uid IN ({', '.join('?' * len(uids))})", list(uids)
    ).fetchall()
    return decorate(connection, [dict(row) for row in rows])


def amplifiers(connection: sqlite3.Connection, uid: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Reposts and near-copies of a post, oldest first."""
    rows = connection.execute(
        "SELECT uid, author_handle, author_name, created_at, platform, url, "
        "CASE WHEN reposted_uid = ? THEN 'repost' ELSE 'near-copy' END AS how "
        "FROM posts WHERE reposted_uid = ? OR near_copy_of = ? ORDER BY created_at LIMIT ?",
        (uid, uid, uid, limit),
    ).fetchall()
    return [dict(row) for row in rows]


def trackers_of(connection: sqlite3.Connection, post_id: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        "SELECT tracker, group_concat(rule, ' · ') FROM post_matches WHERE post_id = ? GROUP BY tracker", (post_id,)
    ).fetchall()
    return [{"tracker": str(row[0]), "rules": str(row[1])} for row in rows]


def insight(connection: sqlite3.Connection, post_id: int) -> dict[str, Any] | None:
    if not has_table(connection, "post_insights"):
        return None
    row = connection.execute("SELECT * FROM post_insights WHERE post_id = ?", (post_id,)).fetchone()
    if row is None:
        return None
    found = dict(row)
    for column in ("info_types", "mentions"):
        found[column] = json.loads(found[column]) if found.get(column) else None
    return found


# -- stories ----------------------------------------------------------------------------------


def stories(
    connection: sqlite3.Connection,
    *,
    tracker: str | None = None,
    statuses: Sequence[str] = (),
    limit: int = 30,
) -> list[dict[str, Any]]:
    """Story records with their first post, the growing first, then by size."""
    if not has_table(connection, "stories"):
        return []
    clauses: list[str] = []
    params: list[Any] = []
    if tracker is not None:
        clauses.append("EXISTS (SELECT 1 FROM json_each(stories.trackers) WHERE json_each.key = ?)")
        params.append(tracker)
    if statuses:
        clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
        params.extend(statuses)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = connection.execute(
        f"SELECT * FROM stories {where} ORDER BY CASE status WHEN 'growing' THEN 0 WHEN 'new' THEN 1 "
        "WHEN 'steady' THEN 2 ELSE 3 END, last_at DESC, posts DESC, id LIMIT ?",
        [*params, limit],
    ).fetchall()
    found = [_story(row) for row in rows]
    _attach_first_posts(connection, found)
    return found


def story_summary(connection: sqlite3.Connection, story_id: int) -> dict[str, Any] | None:
    """A story record with its first and most amplified posts."""
    if not has_table(connection, "stories"):
        return None
    row = connection.execute("SELECT * FROM stories WHERE id = ?", (story_id,)).fetchone()
    if row is None:
        return None
    found = _story(row)
    _attach_first_posts(connection, [found])
    return found


def story(connection: sqlite3.Connection, story_id: int, *, limit: int = 50) -> dict[str, Any] | None:
    """A story record, its first post, its posts (oldest first) and posts per hour."""
    found = story_summary(connection, story_id)
    if found is None:
        return None
    # The first posts stored, in storage order (the story index is in that order, so this reads
    # ``limit`` rows however big the story is), shown oldest first.
    rows = connection.execute(
        f"SELECT {', '.join('posts.' + f.strip() for f in _POST_FIELDS.split(','))} "
        "FROM post_stories AS ps JOIN posts ON posts.id = ps.post_id WHERE ps.story_id = ? "
        "ORDER BY ps.post_id LIMIT ?",
        (story_id, limit),
    ).fetchall()
    posts = decorate(connection, [dict(row) for row in rows])
    found["posts_list"] = sorted(posts, key=lambda post: (post["created_at"] or "", post["id"]))
    found["hours"] = []
    if found["posts"] <= _STORY_CHART_POSTS:  # counting a huge story's hours reads all its posts
        hours = connection.execute(
            "SELECT substr(p.created_at, 1, 13) AS hour, COUNT(*) FROM post_stories AS ps JOIN posts AS p "
            "ON p.id = ps.post_id WHERE ps.story_id = ? AND p.created_at IS NOT NULL GROUP BY hour ORDER BY hour",
            (story_id,),
        ).fetchall()
        found["hours"] = [[str(row[0]), int(row[1])] for row in hours]
    return found


def _story(row: sqlite3.Row) -> dict[str, Any]:
    item = dict(row)
    for key in ("terms", "languages", "places", "platforms", "trackers"):
        item[key] = json.loads(item[key]) if item.get(key) else ([] if key == "terms" else {})
    return item


def _attach_first_posts(connection: sqlite3.Connection, found: list[dict[str, Any]]) -> None:
    ids = {story["first_post_id"] for story in found} | {
        story["representative_post_id"] for story in found if story.get("representative_post_id")
    }
    if not ids:
        return
    rows = connection.execute(
        f"SELECT {_POST_FIELDS} FROM posts WHERE id IN ({', '.join('?' * len(ids))})", list(ids)
    ).fetchall()
    posts = {post["id"]: post for post in decorate(connection, [dict(row) for row in rows])}
    for story in found:
        story["first_post"] = posts.get(story["first_post_id"])
        story["representative_post"] = posts.get(story.get("representative_post_id") or -1)


# -- map --------------------------------------------------------------------------------------


def map_points(
    connection: sqlite3.Connection,
    where: PostFilter,
    *,
    min_confidence: float = 0.0,
    limit: int = 5000,
    with_text: bool = True,
    story_id: int | None = None,
) -> list[dict[str, Any]]:
    """Placed posts, newest first: where the understanding stage placed them, else their geotag.

    Each: uid, lat, lon, created_at (epoch seconds), place name, confidence (None for a geotag,
    which is the platform's own), source, story and the start of the text.
    """
    clauses, params = filter_sql(connection, where)
    insights = has_table(connection, "post_insights")
    stories_join = (
        "LEFT JOIN post_stories AS ps ON ps.post_id = posts.id" if has_table(connection, "post_stories") else ""
    )
    story_column = "ps.story_id" if stories_join else "NULL"
    excerpt = "substr(posts.original_text, 1, 120)" if with_text else "NULL"
    if insights:
        select = (
            "SELECT posts.uid, COALESCE(i.place_lat, posts.lat) AS lat, COALESCE(i.place_lon, posts.lon) AS lon, "
            "posts.created_at, COALESCE(i.place_name, posts.place_name) AS place, "
            "CASE WHEN i.place_lat IS NOT NULL THEN i.place_confidence ELSE 1.0 END AS confidence, "
            "CASE WHEN i.place_lat IS NOT NULL THEN i.place_source ELSE 'geotag' END AS how, "
            f"{story_column} AS story_id, {excerpt} AS excerpt, "
            "COALESCE(i.is_eyewitness, 0) AS eyewitness "
            f"FROM posts LEFT JOIN post_insights AS i ON i.post_id = posts.id {stories_join}"
        )
        placed = "(i.place_lat IS NOT NULL OR posts.lat IS NOT NULL)"
        confident = "(i.place_lat IS NULL OR COALESCE(i.place_confidence, 0) >= ?)"
    else:
        select = (
            "SELECT posts.uid, posts.lat AS lat, posts.lon AS lon, posts.created_at, posts.place_name AS place, "
            f"1.0 AS confidence, 'geotag' AS how, {story_column} AS story_id, "
            f"{excerpt} AS excerpt, 0 AS eyewitness FROM posts {stories_join}"
        )
        placed = "posts.lat IS NOT NULL"
        confident = "? <= 1.0"
    extra = f"{placed} AND {confident}"
    if story_id is not None:
        extra += " AND EXISTS (SELECT 1 FROM post_stories AS own WHERE own.post_id = posts.id AND own.story_id = ?)"
    clauses = (clauses + " AND " if clauses else "WHERE ") + extra
    rows = connection.execute(
        f"{select} {clauses} ORDER BY posts.created_at DESC LIMIT ?",
        [*params, min_confidence, *([] if story_id is None else [story_id]), limit],
    ).fetchall()
    points = []
    for row in rows:
        created = row["created_at"]
        points.append(
            {
                "uid": row["uid"],
                "lat": float(row["lat"]),
                "lon": float(row["lon"]),
                "time": int(datetime.fromisoformat(created).timestamp()) if created else None,
                "place": row["place"],
                "confidence": None if row["confidence"] is None else round(float(row["confidence"]), 3),
                "how": row["how"],
                "story_id": row["story_id"],
                "excerpt": row["excerpt"],
                "eyewitness": bool(row["eyewitness"]),
            }
        )
    return points


def _distinct(
    connection: sqlite3.Connection, table: str, column: str, *, prefix: str = "", limit: int = 200
) -> list[str]:
    """The distinct values of an indexed column, by jumping from one value to the next in the index
    (a few lookups per value, where SELECT DISTINCT reads the whole index)."""
    found: list[str] = []
    after = prefix
    end = prefix + "\U0010ffff" if prefix else "\U0010ffff"
    sql = f"SELECT {column} FROM {table} WHERE {column} > ? AND {column} < ? ORDER BY {column} LIMIT 1"
    while len(found) < limit:
        row = connection.execute(sql, (after, end)).fetchone()
        if row is None:
            break
        after = str(row[0])
        found.append(after)
    return found


def distinct_values(connection: sqlite3.Connection) -> dict[str, list[str]]:
    """Values the filter menus offer: platforms and languages seen, information types found.
    (Read by jumping through indexes: cheap with millions of posts.)"""
    platforms = [
        name.removeprefix("platform:") for name in _distinct(connection, "timeline", "series", prefix="platform:")
    ]
    languages = {name.removeprefix("lang:") for name in _distinct(connection, "timeline", "series", prefix="lang:")}
    info_types: list[str] = []
    if has_table(connection, "post_insights"):
        languages |= set(_distinct(connection, "post_insights", "language"))
        info_types = _distinct(connection, "post_insights", "info_type")
    return {"platforms": platforms, "languages": sorted(languages), "info_types": info_types}


def tracker_series(connection: sqlite3.Connection) -> list[str]:
    """Names of the trackers the timeline holds (cheap: see :func:`_distinct`)."""
    return [name.removeprefix("tracker:") for name in _distinct(connection, "timeline", "series", prefix="tracker:")]


# -- metrics ----------------------------------------------------------------------------------


def ingest_stats(connection: sqlite3.Connection, now: datetime) -> dict[str, Any]:
    """Posts stored in the last minute and five minutes (arrival time), the newest arrival, and
    how far behind event time the newest posts are (collected_at - created_at, median of 100)."""
    newest = connection.execute("SELECT MAX(id) FROM posts").fetchone()[0]
    if newest is None:
        return {"posts": 0, "last_minute": 0, "last_5_minutes": 0, "newest_collected_at": None, "lag_seconds": None}
    one_text = format_time(now - timedelta(minutes=1)) or ""
    five_text = format_time(now - timedelta(minutes=5)) or ""
    # Arrival order is id order: the newest 200k rows, counted in SQLite by their rowid range.
    counts = connection.execute(
        "SELECT COALESCE(SUM(collected_at >= ?), 0), COALESCE(SUM(collected_at >= ?), 0) FROM posts WHERE id > ?",
        (one_text, five_text, newest - 200_000),
    ).fetchone()
    rows = connection.execute(
        "SELECT collected_at, created_at FROM posts WHERE id > ? ORDER BY id DESC LIMIT 100", (newest - 100,)
    ).fetchall()
    lags = sorted(
        (datetime.fromisoformat(row[0]) - datetime.fromisoformat(row[1])).total_seconds() for row in rows if row[1]
    )
    return {
        "posts": int(newest),
        "last_minute": int(counts[0]),
        "last_5_minutes": int(counts[1]),
        "newest_collected_at": rows[0][0] if rows else None,
        "lag_seconds": lags[len(lags) // 2] if lags else None,
    }


def spool_position(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT next_seq FROM spool_position WHERE spool = 'main'").fetchone()
    return int(row[0]) if row else 0


def understood_position(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT value FROM tracking_state WHERE name = 'insights.position'").fetchone()
    return int(bytes(row[0]).decode()) if row else 0
