"""The OpenAPI 3.1 description of the JSON API, served at ``/api/openapi.json`` and shown as a
page at ``/api``. A test checks that every ``/api`` route is described here."""

from __future__ import annotations

from typing import Any

from .. import __version__

_FILTERS: list[tuple[str, str]] = [
    ("q", 'Full-text search (FTS5 syntax: words, "phrases", prefix*, AND/OR/NOT in capitals).'),
    ("window", "Only the last 1h, 6h, 24h or 7d before the newest post."),
    ("since", "Posted at or after this time (ISO 8601; UTC when no offset)."),
    ("until", "Posted before this time."),
    ("lang", "Language code, repeatable (fa, ar, en ...): as detected, else as the platform said."),
    ("platform", "Platform, repeatable (x, telegram, mastodon, bluesky, rss ...)."),
    ("kind", "original, repost, reply or quote; repeatable."),
    ("info_type", "Information type found by the understanding stage; repeatable."),
    ("tracker", "Only posts this tracker holds."),
    ("place", "A place name or two-letter country code the post is about or from."),
    ("eyewitness", "1: first-hand reports only."),
    ("canonical", "1: one post per message (no reposts, no near-copies)."),
]

_POST = {
    "type": "object",
    "description": "A post. Every text field is untrusted content, exactly as posted.",
    "properties": {
        "id": {"type": "integer", "description": "Storage order; use as after_id for new posts."},
        "uid": {"type": "string", "description": "platform:native_id"},
        "platform": {"type": "string"},
        "kind": {"type": "string"},
        "url": {"type": ["string", "null"]},
        "created_at": {"type": ["string", "null"], "description": "Event time, UTC."},
        "collected_at": {"type": "string", "description": "Arrival time, UTC."},
        "original_text": {"type": ["string", "null"]},
        "lang": {"type": ["string", "null"], "description": "As the platform gave it."},
        "author_handle": {"type": ["string", "null"]},
        "author_name": {"type": ["string", "null"]},
        "canonical": {"type": "boolean"},
        "reposts": {"type": "integer"},
        "near_copies": {"type": "integer"},
        "story_id": {"type": ["integer", "null"]},
        "insight": {
            "type": ["object", "null"],
            "description": "Language, information type, first-hand score and place; null when not understood yet.",
        },
    },
}
_POSTS_PAGE = {
    "type": "object",
    "properties": {
        "posts": {"type": "array", "items": {"$ref": "#/components/schemas/Post"}},
        "next": {"type": ["string", "null"], "description": "Pass as before= for the next page."},
        "last_post_id": {"type": "integer"},
    },
}


def _param(name: str, description: str, *, required: bool = False, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": {"type": kind}}


def _get(summary: str, params: list[dict[str, Any]], schema: dict[str, Any], *, tag: str = "data") -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "tags": [tag],
            "parameters": params,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
                "400": {"description": "A parameter or the search could not be understood."},
                "401": {"description": "Login required (send Authorization: Bearer TOKEN)."},
                "503": {"description": "The data folder holds no database yet."},
            },
        }
    }


def spec() -> dict[str, Any]:
    filters = [_param(name, text) for name, text in _FILTERS]
    paging = [
        _param("before", "The 'next' value of the previous page.", kind="string"),
        _param("after_id", "Only posts stored after this post id (live updates).", kind="integer"),
        _param("limit", "Posts per page, at most 500 (default 50).", kind="integer"),
    ]
    tracker = _param("tracker", "A tracker's name; leave out for all posts.")
    obj: dict[str, Any] = {"type": "object"}
    paths: dict[str, Any] = {
        "/api/overview": _get("Trackers with volume, last peak and stories; sources and quarantine.", [], obj),
        "/api/trackers": _get("The overview's tracker rows.", [], {"type": "array", "items": obj}),
        "/api/timeline": _get(
            "Posts over time (all and canonical), with peaks; optionally split by language or platform.",
            [
                tracker,
                _param("by", "language or platform"),
                _param("bin", "Minutes per bin (chosen from the span when left out).", kind="integer"),
            ],
            obj,
        ),
        "/api/peaks": _get("Peaks (bursts) of a tracker's timeline, newest first.", [tracker], {"type": "array"}),
        "/api/peak": _get(
            "One peak with its explanation (terms, hashtags, links, places, posts to read).",
            [
                _param("series", "all, or tracker:NAME", required=True),
                _param("bin", "The peak's bin in minutes.", kind="integer"),
                _param("start", "The peak's start_at.", required=True),
            ],
            obj,
        ),
        "/api/stories": _get(
            "Stories, growing and new first, each with its first post.",
            [
                tracker,
                _param("status", "new, growing, steady or fading; repeatable"),
                _param("limit", "At most 500", kind="integer"),
            ],
            {"type": "array", "items": obj},
        ),
        "/api/stories/{story_id}": {
            "get": {
                **_get("A story with its posts, oldest first, and posts per hour.", [], obj)["get"],
                "parameters": [{"name": "story_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            }
        },
        "/api/posts": _get("The post stream, newest first, filtered and searched.", filters + paging, _POSTS_PAGE),
        "/api/eyewitness": _get("First-hand reports, newest first.", filters + paging, _POSTS_PAGE),
        "/api/post": _get(
            "One post with its insight, trackers, amplifiers, related posts and story.",
            [_param("uid", "The post's uid (platform:native_id).", required=True)],
            obj,
        ),
        "/api/post/raw": _get(
            "The raw payload the post came from, exactly as received.",
            [_param("uid", "The post's uid.", required=True)],
            {"type": "object", "properties": {"raw": {"type": "string"}}},
        ),
        "/api/map": _get(
            "Placed posts as GeoJSON, newest first: where the understanding stage placed them, else their geotag.",
            [
                *filters,
                _param("min_confidence", "0 to 1: leave out places guessed with less confidence.", kind="number"),
                _param("format", "geojson (default), or columns: one list per field, without the text (smaller)."),
                _param("limit", "The newest this many placed posts (default 5,000, at most 20,000).", kind="integer"),
                _param("story", "Only the posts of this story.", kind="integer"),
            ],
            {"type": "object", "description": "A GeoJSON FeatureCollection."},
        ),
        "/api/events": {
            "get": {
                "summary": "Server-sent events: 'state' messages (last_post_id, peaks, stories) when anything changes.",
                "tags": ["live"],
                "responses": {"200": {"description": "text/event-stream", "content": {"text/event-stream": {}}}},
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This description.",
                "tags": ["meta"],
                "responses": {"200": {"description": "OpenAPI 3.1"}},
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness, and whether the database is readable (no login needed).",
                "tags": ["meta"],
                "responses": {"200": {"description": "ok"}, "503": {"description": "database unreadable"}},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics: ingest rate and lag, queue depth, sources, quarantine, requests.",
                "tags": ["meta"],
                "responses": {"200": {"description": "text/plain; version=0.0.4"}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "groundspeed situation room API",
            "version": __version__,
            "description": "Read-only JSON over a groundspeed data folder. With a token set, send "
            "'Authorization: Bearer TOKEN'. All times are UTC (ISO 8601).",
        },
        "components": {
            "schemas": {"Post": _POST, "PostsPage": _POSTS_PAGE},
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"token": []}],
        "paths": paths,
    }
