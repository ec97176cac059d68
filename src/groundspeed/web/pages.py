"""The HTML pages of the situation room, and the fragments htmx and app.js swap in."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..errors import GroundspeedError
from . import loaders
from .core import Data, NoData, StreamQuery, WebSettings
from .security import CSRF_COOKIE, SESSION_COOKIE, Sessions, csrf_ok

_FRAGMENT = "fragment"


def _settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def _data(request: Request) -> Data:
    data: Data = request.app.state.data
    return data


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    base = {"request": request, "page": name.removesuffix(".html"), "csrf": request.state.csrf}
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status_code
    )
    return response


async def load(request: Request, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a loader; the "no data yet" and bad-search cases become pages that say so."""
    try:
        return await _data(request).run(work, *args, **kwargs)
    except NoData as exc:
        raise _Empty(str(exc)) from exc
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "fts5" in text or "syntax" in text or "no such column" in text or "unterminated" in text:
            raise _BadSearch(
                "That search could not be understood. Put phrases in double quotes; use AND, OR and NOT in capitals."
            ) from exc
        raise


class _Empty(Exception):
    pass


class _BadSearch(Exception):
    pass


def page(endpoint: Callable[[Request], Any]) -> Callable[[Request], Any]:
    async def wrapped(request: Request) -> Response:
        try:
            response: Response = await endpoint(request)
            return response
        except _Empty as exc:
            return render(request, "empty.html", {"message": str(exc)})
        except _BadSearch as exc:
            return render(request, "message.html", {"title": "Search", "message": str(exc)}, status_code=400)
        except (ValueError, GroundspeedError) as exc:
            return render(request, "message.html", {"title": "Not understood", "message": str(exc)}, status_code=400)

    wrapped.__name__ = endpoint.__name__
    wrapped.__doc__ = endpoint.__doc__
    return wrapped


@page
async def overview(request: Request) -> Response:
    found = await load(request, loaders.overview, _settings(request).data_dir)
    if request.query_params.get(_FRAGMENT):
        return render(request, "_overview_table.html", {"o": found})
    return render(request, "overview.html", {"o": found})


@page
async def tracker(request: Request) -> Response:
    name = request.query_params.get("name") or None
    found = await load(request, loaders.tracker_page, _settings(request).data_dir, name)
    if found is None:
        raise HTTPException(404, f"No tracker called {name!r}.")
    return render(request, "tracker.html", {"t": found})


@page
async def peak(request: Request) -> Response:
    from ..store import views

    params = request.query_params
    try:
        bin_minutes = int(params.get("bin") or "10")
    except ValueError as exc:
        raise ValueError("bin must be a number of minutes") from exc
    found = await load(request, views.peak, params.get("series") or "all", bin_minutes, params.get("start") or "")
    if found is None:
        raise HTTPException(404, "No such peak (peaks are recomputed as posts arrive: go back to the timeline).")
    tracker_name = found["series"].removeprefix("tracker:") if found["series"].startswith("tracker:") else None
    return render(request, "peak.html", {"p": found, "tracker": tracker_name})


@page
async def stories(request: Request) -> Response:
    tracker_name = request.query_params.get("tracker") or None
    found = await load(request, loaders.stories_board, tracker_name)
    if request.query_params.get(_FRAGMENT):
        return render(request, "_stories_board.html", {"b": found})
    trackers = await load(request, loaders.tracker_names, _settings(request).data_dir)
    return render(request, "stories.html", {"b": found, "trackers": trackers})


@page
async def story(request: Request) -> Response:
    from ..store import views

    found = await load(request, views.story, int(request.path_params["story_id"]))
    if found is None:
        raise HTTPException(404, "No such story.")
    return render(request, "story.html", {"s": found})


def _before(request: Request) -> tuple[str, int] | None:
    value = request.query_params.get("before")
    if not value or "|" not in value:
        return None
    created, _, post_id = value.rpartition("|")
    return created, int(post_id)


def _after(request: Request) -> int | None:
    value = request.query_params.get("after_id")
    return int(value) if value else None


async def _stream(request: Request, *, eyewitness: bool) -> Response:
    query = StreamQuery.from_params(request.query_params)
    if eyewitness:
        query.eyewitness = True
    found = await load(request, loaders.posts, query, before=_before(request), after_id=_after(request))
    context = {"s": found, "query": query, "eyewitness_lane": eyewitness}
    if request.query_params.get(_FRAGMENT) == "rows":
        return render(request, "_post_rows.html", context)
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "results":
        return render(request, "_results.html", context)
    options = await load(request, loaders.filter_options, _settings(request).data_dir)
    return render(request, "posts.html", {**context, "trackers": options["trackers"], "options": options})


@page
async def posts(request: Request) -> Response:
    return await _stream(request, eyewitness=False)


@page
async def eyewitness(request: Request) -> Response:
    return await _stream(request, eyewitness=True)


@page
async def post(request: Request) -> Response:
    uid = request.query_params.get("uid") or ""
    found = await load(request, loaders.post_page, uid)
    if found is None:
        raise HTTPException(404, "No post with that id in this data folder.")
    return render(request, "post.html", {"d": found})


@page
async def raw_payload(request: Request) -> Response:
    from .api import raw_text

    uid = request.query_params.get("uid") or ""
    text = await load(request, raw_text, _settings(request).data_dir, uid)
    return render(request, "_raw.html", {"raw": text})


@page
async def map_page(request: Request) -> Response:
    trackers = await load(request, loaders.tracker_names, _settings(request).data_dir)
    confidence = request.query_params.get("min_confidence") or "0.5"
    story_id = request.query_params.get("story") or ""
    context = {
        "query": StreamQuery.from_params(request.query_params),
        "trackers": trackers,
        "min_confidence": confidence,
        "story_id": story_id if story_id.isdigit() else "",
    }
    return render(request, "map.html", context)


async def api_docs(request: Request) -> Response:
    from .openapi import spec

    return render(request, "api.html", {"spec": spec()})


async def login(request: Request) -> Response:
    sessions: Sessions = request.app.state.sessions
    target = request.query_params.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    if sessions.token is None:
        return RedirectResponse("/", status_code=303)
    if request.method == "GET":
        return render(request, "login.html", {"next": target, "error": None})
    if not await csrf_ok(request):
        return render(request, "login.html", {"next": target, "error": "The form expired; try again."}, 403)
    form = await request.form()
    given = form.get("token")
    if not isinstance(given, str) or not sessions.valid_token(given):
        await asyncio.sleep(0.5)  # slows guessing
        return render(request, "login.html", {"next": target, "error": "That is not the token."}, 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        sessions.new_session(),
        max_age=sessions.max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def logout(request: Request) -> Response:
    if not await csrf_ok(request):
        return HTMLResponse("The form expired; go back and try again.", status_code=403)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


async def not_found(request: Request, exc: Exception) -> Response:
    detail = getattr(exc, "detail", "Not found.")
    status = getattr(exc, "status_code", 404)
    if request.url.path.startswith("/api/"):
        from starlette.responses import JSONResponse

        return JSONResponse({"error": detail}, status_code=status)
    return render(request, "message.html", {"title": "Not found", "message": detail}, status_code=status)


def routes() -> list[Route]:
    return [
        Route("/", overview, name="overview"),
        Route("/tracker", tracker, name="tracker"),
        Route("/peak", peak, name="peak"),
        Route("/stories", stories, name="stories"),
        Route("/stories/{story_id:int}", story, name="story"),
        Route("/posts", posts, name="posts"),
        Route("/eyewitness", eyewitness, name="eyewitness"),
        Route("/post", post, name="post"),
        Route("/post/raw", raw_payload, name="raw"),
        Route("/map", map_page, name="map"),
        Route("/api", api_docs, name="api_docs"),
        Route("/login", login, methods=["GET", "POST"], name="login"),
        Route("/logout", logout, methods=["POST"], name="logout"),
    ]
