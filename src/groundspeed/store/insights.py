"""SQL of the understanding stage: the ``post_insights`` table (migration 4 in :mod:`.migrations`).

The stage (:mod:`groundspeed.understand.insights`) reads posts in ``posts.id`` order and writes one
row per post. Reposts whose original is stored are not read: they inherit the original's row
(``inherited_from``), in SQL, in two directions because either may be stored first — a retweet
line carries its original, which the importer stores after the retweet:

* the reposts of the originals just understood, wherever they are;
* the reposts just reached whose original was understood before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from ..understand.insights import Insight

INSIGHT_COLUMNS = (
    "post_id",
    "language",
    "language_confidence",
    "language_source",
    "informative",
    "is_informative",
    "eyewitness",
    "is_eyewitness",
    "info_type",
    "info_types",
    "place_name",
    "place_lat",
    "place_lon",
    "place_country",
    "place_precision",
    "place_source",
    "place_confidence",
    "mentions",
    "inherited_from",
    "models",
)
_COPIED = ", ".join(f"i.{column}" for column in INSIGHT_COLUMNS[1:-2])

INSERT_INSIGHTS = (
    f"INSERT OR REPLACE INTO post_insights ({', '.join(INSIGHT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(INSIGHT_COLUMNS))})"
)

# Posts after a position, with, for a repost, the id of its original when that is stored.
POSTS_TO_UNDERSTAND = (
    "SELECT p.*, o.id AS original_id FROM posts AS p LEFT JOIN posts AS o ON o.uid = p.reposted_uid "
    "WHERE p.id > ? ORDER BY p.id LIMIT ?"
)


_json = msgspec.json.Encoder()
# Types less likely than this are left out of the stored probabilities (they add up to the rest):
# the record stays short, and filters and summaries use the most likely type, stored on its own.
_SHOWN_TYPE = 0.01


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def insight_row(post_id: int, insight: Insight, models: str) -> tuple[Any, ...]:
    guess = insight.language
    classification = insight.classification
    place = insight.placement
    from ..understand.insights import mention_record  # the stage's own format

    mentions = [mention_record(mention) for mention in insight.mentions]
    return (
        post_id,
        guess.lang,
        _round(guess.confidence, 3),
        guess.source,
        _round(classification.informative),
        int(insight.is_informative),
        _round(classification.eyewitness),
        int(insight.is_eyewitness),
        classification.info_type,
        _json.encode(
            {label: round(p, 3) for label, p in classification.info_types.items() if p >= _SHOWN_TYPE}
        ).decode(),
        None if place is None else place.name,
        None if place is None else place.lat,
        None if place is None else place.lon,
        None if place is None else place.country_code,
        None if place is None else place.precision,
        None if place is None else place.source,
        None if place is None else _round(place.confidence, 3),
        _json.encode(mentions).decode() if mentions else None,
        None,  # inherited_from
        models,
    )


def record_insights(connection: sqlite3.Connection, rows: Sequence[tuple[Any, ...]], low: int, high: int) -> None:
    """Store the rows of the posts in (low, high] and pass them on to reposts (see the module
    docstring); inside the caller's transaction."""
    connection.executemany(INSERT_INSIGHTS, rows)
    columns = ", ".join(INSIGHT_COLUMNS)
    # Reposts of the originals understood just now (the reposted_uid index finds them).
    connection.execute(
        f"INSERT OR IGNORE INTO post_insights ({columns}) "
        f"SELECT r.id, {_COPIED}, o.id, i.models FROM posts AS o "
        "JOIN post_insights AS i ON i.post_id = o.id "
        "JOIN posts AS r ON r.reposted_uid = o.uid AND r.kind = 'repost' "
        "WHERE o.id > ? AND o.id <= ? AND i.inherited_from IS NULL",
        (low, high),
    )
    # Reposts reached just now whose original was understood in an earlier batch or run.
    connection.execute(
        f"INSERT OR IGNORE INTO post_insights ({columns}) "
        f"SELECT r.id, {_COPIED}, o.id, i.models FROM posts AS r "
        "JOIN posts AS o ON o.uid = r.reposted_uid "
        "JOIN post_insights AS i ON i.post_id = o.id "
        "WHERE r.id > ? AND r.id <= ? AND r.kind = 'repost' AND i.inherited_from IS NULL",
        (low, high),
    )


def insight_filter_sql(
    *,
    table: str,
    info_types: Sequence[str] = (),
    eyewitness: bool = False,
    informative: bool = False,
    place: str | None = None,
    place_bbox: tuple[float, float, float, float] | None = None,
) -> tuple[list[str], list[Any]]:
    """WHERE clauses (and their parameters) choosing posts by their insight."""
    conditions: list[str] = []
    params: list[Any] = []
    if info_types:
        conditions.append(f"info_type IN ({', '.join('?' * len(info_types))})")
        params.extend(info_types)
    if eyewitness:
        conditions.append("is_eyewitness = 1")
    if informative:
        conditions.append("is_informative = 1")
    if place or place_bbox:
        # A place name (any case), a two-letter country code, or a point inside the place's box
        # (a post placed at a square in Tehran is in Tehran). A box across the 180th meridian
        # has its west edge east of its east edge.
        either: list[str] = []
        if place:
            either.append("place_name = ? COLLATE NOCASE OR place_country = ? COLLATE NOCASE")
            params.extend([place, place])
        if place_bbox:
            west, south, east, north = place_bbox
            joint = "AND" if west <= east else "OR"
            either.append(f"(place_lat BETWEEN ? AND ? AND (place_lon >= ? {joint} place_lon <= ?))")
            params.extend([south, north, west, east])
        conditions.append(f"({' OR '.join(either)})")
    if not conditions:
        return [], []
    return [f"{table}.id IN (SELECT post_id FROM post_insights WHERE {' AND '.join(conditions)})"], params


def language_filter_sql(*, table: str, langs: Sequence[str]) -> tuple[str, list[Any]]:
    """Posts in these languages: as the understanding stage detected them, or as the platform
    tagged them where the stage has not run yet."""
    marks = ", ".join("?" * len(langs))
    clause = (
        f"({table}.id IN (SELECT post_id FROM post_insights WHERE language IN ({marks})) "
        f"OR ({table}.lang IN ({marks}) AND NOT EXISTS (SELECT 1 FROM post_insights WHERE post_id = {table}.id)))"
    )
    return clause, [*langs, *langs]
