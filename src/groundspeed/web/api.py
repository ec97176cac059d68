"""The JSON API: everything the pages show (described in :mod:`.openapi`), plus ``/healthz``,
``/metrics`` and the live event stream."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..errors import GroundspeedError
from ..spool import Spool
from ..store import views
from ..store.rows import row_to_post
from . import loaders
from .core import Data, NoData, StreamQuery, WebSettings
from .live import Live
from .metrics import collect, render

MAX_LIMIT = 500
_encode = msgspec.json.Encoder().encode


class FastJSON(Response):
    """JSON encoded with msgspec (several times faster than the json module on big answers such
    as the map's GeoJSON)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _encode(content)


def _data(request: Request) -> Data:
    data: Data = request.app.state.data
    return data


def _settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def endpoint(work: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """A JSON endpoint: the loader's answer, 404 for None, 400 for a bad parameter or search,
    503 while the data folder holds no database."""

    async def wrapped(request: Request) -> Response:
        try:
            found = await work(request)
        except NoData as exc:
            return _error(str(exc), 503)
        except sqlite3.OperationalError as exc:
            if any(word in str(exc).lower() for word in ("fts5", "syntax", "no such column", "unterminated")):
                return _error("The search could not be understood: put phrases in double quotes.", 400)
            raise
        except (ValueError, GroundspeedError) as exc:
            return _error(str(exc), 400)
        if found is None:
            return _error("not found", 404)
        return FastJSON(found)

    wrapped.__name__ = work.__name__
    wrapped.__doc__ = work.__doc__
    return wrapped


def _int(request: Request, name: str, default: int | None = None) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        msg = f"{name} must be a whole number"
        raise ValueError(msg) from None


@endpoint
async def overview(request: Request) -> Any:
    return await _data(request).run(loaders.overview, _settings(request).data_dir)


@endpoint
async def trackers(request: Request) -> Any:
    found = await _data(request).run(loaders.overview, _settings(request).data_dir)
    return found["trackers"]


@endpoint
async def timeline(request: Request) -> Any:
    by = request.query_params.get("by") or ""
    if by not in ("", "language", "platform"):
        raise ValueError("by must be language or platform")
    bin_minutes = _int(request, "bin")
    if bin_minutes is not None and not 1 <= bin_minutes <= 10080:
        raise ValueError("bin must be between 1 and 10080 minutes")
    return await _data(request).run(
        loaders.timeline, request.query_params.get("tracker") or None, by=by, bin_minutes=bin_minutes
    )


@endpoint
async def peaks(request: Request) -> Any:
    series = loaders.series_of(request.query_params.get("tracker") or None)
    return await _data(request).run(views.peaks, series)


@endpoint
async def peak(request: Request) -> Any:
    params = request.query_params
    return await _data(request).run(
        views.peak, params.get("series") or "all", _int(request, "bin", 10), params.get("start") or ""
    )


@endpoint
async def stories(request: Request) -> Any:
    statuses = [value for value in request.query_params.getlist("status") if value]
    limit = min(_int(request, "limit", 30) or 30, MAX_LIMIT)
    return await _data(request).run(
        views.stories, tracker=request.query_params.get("tracker") or None, statuses=statuses, limit=limit
    )


@endpoint
async def story(request: Request) -> Any:
    return await _data(request).run(views.story, int(request.path_params["story_id"]))


def _before(request: Request) -> tuple[str, int] | None:
    value = request.query_params.get("before")
    if not value:
        return None
    created, _, post_id = value.rpartition("|")
    if not created or not post_id.isdigit():
        raise ValueError("before must be the 'next' value of the previous page")
    return created, int(post_id)


async def _posts(request: Request, *, eyewitness: bool) -> Any:
    query = StreamQuery.from_params(request.query_params)
    if eyewitness:
        query.eyewitness = True
    limit = min(_int(request, "limit", loaders.PAGE_SIZE) or loaders.PAGE_SIZE, MAX_LIMIT)
    return await _data(request).run(
        loaders.posts, query, before=_before(request), after_id=_int(request, "after_id"), limit=limit
    )


@endpoint
async def posts(request: Request) -> Any:
    return await _posts(request, eyewitness=False)


@endpoint
async def eyewitness(request: Request) -> Any:
    return await _posts(request, eyewitness=True)


@endpoint
async def post(request: Request) -> Any:
    return await _data(request).run(loaders.post_page, request.query_params.get("uid") or "")


def raw_text(connection: sqlite3.Connection, data_dir: Path, uid: str) -> str | None:
    """The raw payload a post came from, as received (None when the spool no longer has it)."""
    from ..export import raw_payloads

    rows = connection.execute("SELECT * FROM posts WHERE uid = ?", (uid,)).fetchall()
    if not rows:
        return None
    spool_dir = data_dir / "spool"
    if not spool_dir.exists():
        return None
    for payload in raw_payloads([row_to_post(rows[0])], Spool(spool_dir)):
        return payload.decode("utf-8", errors="replace")
    return None


@endpoint
async def raw(request: Request) -> Any:
    text = await _data(request).run(raw_text, _settings(request).data_dir, request.query_params.get("uid") or "")
    return None if text is None else {"raw": text}


@endpoint
async def map_points(request: Request) -> Any:
    try:
        confidence = float(request.query_params.get("min_confidence") or 0)
    except ValueError:
        raise ValueError("min_confidence must be a number between 0 and 1") from None
    shape = request.query_params.get("format") or "geojson"
    if shape not in ("geojson", "columns"):
        raise ValueError("format must be geojson or columns")
    limit = min(_int(request, "limit", 5000) or 5000, 20_000)
    return await _data(request).run(
        loaders.map_data,
        StreamQuery.from_params(request.query_params),
        confidence,
        columns=shape == "columns",
        limit=limit,
        story_id=_int(request, "story"),
    )


async def events(request: Request) -> Response:
    live: Live = request.app.state.live
    return live.response(request)


async def openapi_json(request: Request) -> Response:
    from .openapi import spec

    return JSONResponse(spec())


async def healthz(request: Request) -> Response:
    """Alive, and whether the database can be read."""
    try:
        state = await _data(request).run(views.cursor)
    except NoData:
        return JSONResponse({"status": "ok", "database": "none yet"})
    except (GroundspeedError, sqlite3.Error) as exc:
        return JSONResponse({"status": "error", "database": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "database": "readable", "last_post_id": state["last_post_id"]})


async def metrics(request: Request) -> Response:
    facts: dict[str, Any] | None
    try:
        spool = request.app.state.spool_length.get()
        facts = await _data(request).run(collect, spool)
    except (GroundspeedError, sqlite3.Error):
        facts = None
    live: Live = request.app.state.live
    text = render(facts, request.app.state.request_counts, live.streams)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")


def routes() -> list[Route]:
    return [
        Route("/api/overview", overview, name="api_overview"),
        Route("/api/trackers", trackers, name="api_trackers"),
        Route("/api/timeline", timeline, name="api_timeline"),
        Route("/api/peaks", peaks, name="api_peaks"),
        Route("/api/peak", peak, name="api_peak"),
        Route("/api/stories", stories, name="api_stories"),
        Route("/api/stories/{story_id:int}", story, name="api_story"),
        Route("/api/posts", posts, name="api_posts"),
        Route("/api/eyewitness", eyewitness, name="api_eyewitness"),
        Route("/api/post", post, name="api_post"),
        Route("/api/post/raw", raw, name="api_post_raw"),
        Route("/api/map", map_points, name="api_map"),
        Route("/api/events", events, name="api_events"),
        Route("/api/openapi.json", openapi_json, name="api_openapi"),
        Route("/healthz", healthz, name="healthz"),
        Route("/metrics", metrics, name="metrics"),
    ]
