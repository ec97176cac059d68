"""What each page and API endpoint shows, as plain data (one function each, run in a worker
thread with a read-only connection). Pages render these dicts; the API returns them as JSON."""

from __future__ import annotations

import sqlite3
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..store import views
from .core import StreamQuery

PAGE_SIZE = 50
ALL = "all"  # the series of every post


def series_of(tracker: str | None) -> str:
    return f"tracker:{tracker}" if tracker else ALL


def tracker_descriptions(data_dir: Path) -> dict[str, str]:
    """Tracker names and descriptions from trackers.toml, in file order ({} when unreadable)."""
    try:
        data = tomllib.loads((data_dir / "trackers.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    trackers = data.get("trackers")
    if not isinstance(trackers, dict):
        return {}
    return {
        str(name): str(body.get("description") or "") if isinstance(body, dict) else ""
        for name, body in trackers.items()
    }


def overview(connection: sqlite3.Connection, data_dir: Path) -> dict[str, Any]:
    newest = views.newest_minute(connection)
    described = tracker_descriptions(data_dir)
    totals = views.series_totals(connection, "tracker:")
    names = list(described) + sorted(name.removeprefix("tracker:") for name in totals if name[8:] not in described)
    rows = []
    all_totals = views.series_totals(connection, ALL).get(ALL, {"posts": 0, "canonical": 0, "last_minute": None})
    by_tracker = views.story_counts_by_tracker(connection)
    for name in [None, *names]:
        series = series_of(name)
        total = all_totals if name is None else totals.get(series, {"posts": 0, "canonical": 0, "last_minute": None})
        hour = day = (0, 0)
        if newest is not None:
            hour = views.recent_posts(connection, series, newest - timedelta(minutes=59))
            day = views.recent_posts(connection, series, newest - timedelta(hours=23, minutes=59))
        rows.append(
            {
                "name": name,
                "series": series,
                "description": described.get(name or "", "Every post in the data folder" if name is None else ""),
                "posts": total["posts"],
                "canonical": total["canonical"],
                "last_minute": total.get("last_minute"),
                "last_hour": hour[0],
                "last_hour_canonical": hour[1],
                "last_day": day[0],
                "last_peak": views.last_peak(connection, series),
                "stories": views.story_counts(connection) if name is None else by_tracker.get(name, {}),
            }
        )
    sources = views.sources(connection)
    quarantined = views.quarantine_by_source(connection)
    for source in sources:
        source["quarantined_now"] = quarantined.get(source["path"], quarantined.get(f"file:{source['path']}", 0))
    return {
        "newest_minute": newest.isoformat() if newest else None,
        "trackers": rows,
        "sources": sources,
        "quarantine": views.quarantine_counts(connection),
        "cursor": views.cursor(connection),
        "understood": views.has_table(connection, "post_insights"),
    }


def timeline(
    connection: sqlite3.Connection, tracker: str | None, *, by: str = "", bin_minutes: int | None = None
) -> dict[str, Any]:
    """The series of a tracker (or of all posts) binned, its peaks, and optionally its split by
    language or platform."""
    series = series_of(tracker)
    data = views.binned_series(connection, [series], bin_minutes=bin_minutes)
    result: dict[str, Any] = {
        "series": series,
        "bin_minutes": data["bin_minutes"],
        "times": data["times"],
        "posts": data["series"][series]["posts"],
        "canonical": data["series"][series]["canonical"],
        "peaks": views.peaks(connection, series),
        "breakdown": {},
    }
    if by in ("language", "platform") and data["times"]:
        width = data["bin_minutes"]
        start = data["times"][0]
        count = len(data["times"])
        if tracker is None:
            names = views.breakdown_names(connection, by)
            split = views.binned_series(connection, names, bin_minutes=width)
            offset = (split["times"][0] - start) // (width * 60) if split["times"] else 0
            for name in names:
                values = [0] * count
                for index, value in enumerate(split["series"][name]["posts"]):
                    if 0 <= index + offset < count:
                        values[index + offset] = value
                result["breakdown"][name.split(":", 1)[1]] = values
        else:
            for label, bins in views.tracker_breakdown(connection, tracker, by, width).items():
                values = [0] * count
                for bin_start, value in bins.items():
                    index = (bin_start - start) // (width * 60)
                    if 0 <= index < count:
                        values[index] += value
                result["breakdown"][label] = values
    return result


def tracker_page(connection: sqlite3.Connection, data_dir: Path, tracker: str | None) -> dict[str, Any] | None:
    series = series_of(tracker)
    totals = views.series_totals(connection, series).get(series)
    if tracker is not None and totals is None and tracker not in tracker_descriptions(data_dir):
        return None
    where = StreamQuery(tracker=tracker or "").to_filter(None)
    return {
        "tracker": tracker,
        "series": series,
        "description": tracker_descriptions(data_dir).get(tracker or "", ""),
        "totals": totals or {"posts": 0, "canonical": 0},
        "peaks": views.peaks(connection, series),
        "stories": views.stories(connection, tracker=tracker, limit=8),
        "posts": views.list_posts(connection, where, limit=10),
    }


def posts(
    connection: sqlite3.Connection,
    query: StreamQuery,
    *,
    before: tuple[str, int] | None = None,
    after_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> dict[str, Any]:
    newest = views.newest_minute(connection) if query.window else None
    where = query.to_filter(newest + timedelta(minutes=1) if newest else None)
    found = views.list_posts(connection, where, query=query.q or None, before=before, after_id=after_id, limit=limit)
    last = found[-1] if len(found) == limit and after_id is None else None
    return {
        "posts": found,
        "next": f"{last['created_at']}|{last['id']}" if last and last["created_at"] else None,
        "last_post_id": views.cursor(connection)["last_post_id"],
    }


def post_page(connection: sqlite3.Connection, uid: str) -> dict[str, Any] | None:
    post = views.post_by_uid(connection, uid)
    if post is None:
        return None
    related_uids = [
        uid for uid in (post["reposted_uid"], post["quoted_uid"], post["replied_to_uid"], post["near_copy_of"]) if uid
    ]
    related = {item["uid"]: item for item in views.posts_by_uid(connection, related_uids)}
    story_id = post["story_id"]
    if story_id is None and post["reposted_uid"] in related:
        story_id = related[post["reposted_uid"]].get("story_id")  # a repost tells its original's story
    story = views.story_summary(connection, story_id) if story_id is not None else None
    return {
        "post": post,
        "insight": views.insight(connection, post["id"]),
        "trackers": views.trackers_of(connection, post["id"]),
        "amplifiers": views.amplifiers(connection, uid),
        "related": related,
        "story": story,
    }


def stories_board(connection: sqlite3.Connection, tracker: str | None) -> dict[str, Any]:
    columns = {
        "new": views.stories(connection, tracker=tracker, statuses=["new"], limit=30),
        "growing": views.stories(connection, tracker=tracker, statuses=["growing"], limit=30),
        "steady": views.stories(connection, tracker=tracker, statuses=["steady"], limit=15),
    }
    return {"tracker": tracker, "columns": columns, "counts": views.story_counts(connection, tracker)}


def map_data(
    connection: sqlite3.Connection,
    query: StreamQuery,
    min_confidence: float,
    *,
    columns: bool = False,
    limit: int = 5000,
    story_id: int | None = None,
) -> dict[str, Any]:
    """Placed posts as GeoJSON, or (``columns``) as one list per field without the text: a
    fifth of the size, for the map page, which fetches a post's text when its marker is opened."""
    newest = views.newest_minute(connection) if query.window else None
    where = query.to_filter(newest + timedelta(minutes=1) if newest else None)
    if story_id is not None and not views.has_table(connection, "post_stories"):
        points: list[dict[str, Any]] = []
    else:
        points = views.map_points(
            connection, where, min_confidence=min_confidence, with_text=not columns, limit=limit, story_id=story_id
        )
    if columns:
        return {
            "understood": views.has_table(connection, "post_insights"),
            "count": len(points),
            "uid": [point["uid"] for point in points],
            "lat": [round(point["lat"], 5) for point in points],
            "lon": [round(point["lon"], 5) for point in points],
            "time": [point["time"] for point in points],
            "confidence": [point["confidence"] for point in points],
            "geotag": [int(point["how"] == "geotag") for point in points],
            "eyewitness": [int(point["eyewitness"]) for point in points],
        }
    return {
        "type": "FeatureCollection",
        "understood": views.has_table(connection, "post_insights"),
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [point["lon"], point["lat"]]},
                "properties": {key: value for key, value in point.items() if key not in ("lat", "lon")},
            }
            for point in points
        ],
    }


def tracker_names(connection: sqlite3.Connection, data_dir: Path) -> list[str]:
    """Trackers in trackers.toml, then any others the database holds (for filter menus)."""
    names = list(tracker_descriptions(data_dir))
    return names + [name for name in views.tracker_series(connection) if name not in names]


def filter_options(connection: sqlite3.Connection, data_dir: Path) -> dict[str, Any]:
    return {"trackers": tracker_names(connection, data_dir), **views.distinct_values(connection)}
