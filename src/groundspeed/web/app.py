"""The situation room: a Starlette app over a data folder, read-only.

``create_app(data_dir)`` builds it; ``groundspeed serve`` (:mod:`groundspeed.cli_web`) runs it
with uvicorn. Pages are server-rendered Jinja2 templates (autoescaped) refreshed with htmx; live
updates come over server-sent events (:mod:`.live`); every page's data is also JSON under
``/api`` (:mod:`.api`, described in :mod:`.openapi`).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from .. import __version__
from .core import Data, WebSettings
from .live import Live
from .metrics import RequestCounts, RequestMetrics, SpoolLength
from .security import Auth, CsrfCookie, HostCheck, SecurityHeaders, Sessions

HERE = Path(__file__).parent
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def safe_url(value: object) -> str:
    """The URL when it is an absolute http(s) link, else "" (javascript:, data:, relative ...)."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if _CONTROL.search(text):
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return text


def url_quote(value: object) -> str:
    return quote(str(value), safe="")


def number(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def pretty_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def time_tag(value: object, *, cls: str = "") -> Markup:
    """A <time> element: UTC in the markup, rewritten to the viewer's and the region's time by
    app.js."""
    if not value:
        return Markup('<span class="unknown">time unknown</span>')
    text = str(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return Markup("<span>{}</span>").format(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    iso = moment.astimezone(UTC).isoformat(timespec="seconds")
    shown = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{}" class="{}">{}</time>').format(iso, cls, shown)


_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def bidi_safe(value: object) -> str:
    """Text with its explicit direction overrides and isolates (U+202A-U+202E, U+2066-U+2069)
    shown as visible marks: in untrusted text they can reverse what a reader sees (``gpj.exe``
    for ``exe.jpg``). Marks that only nudge (LRM, RLM) and ZWNJ, which Persian needs, stay."""
    text = "" if value is None else str(value)
    return _BIDI_CONTROLS.sub(lambda match: f"[U+{ord(match.group()):04X}]", text)


def post_link(uid: object) -> str:
    return "/post?uid=" + url_quote(uid)


def text_dir_lang(lang: object) -> str:
    """A safe BCP 47 tag for the lang attribute ("" when unknown)."""
    if isinstance(lang, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", lang):
        return lang
    return ""


def make_templates(settings: WebSettings) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.ChainableUndefined,  # optional keys of post details read as empty
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        safe_url=safe_url,
        q=url_quote,
        num=number,
        pretty_json=pretty_json,
        when=time_tag,
        post_link=post_link,
        bidi_safe=bidi_safe,
        lang_tag=text_dir_lang,
    )
    env.globals.update(
        settings=settings,
        version=__version__,
        urlencode=lambda pairs: urlencode(list(pairs)),
        auth_enabled=settings.token is not None,
    )
    return Jinja2Templates(env=env)


def create_app(
    data_dir: Path,
    *,
    token: str | None = None,
    region_tz: str | None = None,
    tile_url: str | None = None,
    tile_attribution: str | None = None,
    poll_seconds: float = 2.0,
    allowed_hosts: tuple[str, ...] = (),
) -> Starlette:
    """The situation room over ``data_dir`` (read-only). With ``token``, every page and API
    call needs it (log in once in the browser, or send ``Authorization: Bearer TOKEN``)."""
    from . import api, pages

    settings = WebSettings(
        data_dir=Path(data_dir),
        token=token or None,
        region_tz=region_tz,
        tile_url=tile_url,
        tile_attribution=tile_attribution,
        poll_seconds=poll_seconds,
        allowed_hosts=allowed_hosts,
    )
    data = Data(settings)
    live = Live(data, poll_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await live.stop()
        data.close()

    routes = [
        *pages.routes(),
        *api.routes(),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    counts = RequestCounts()
    sessions = Sessions(settings)
    middleware = [
        Middleware(SecurityHeaders, settings=settings),
        Middleware(RequestMetrics, counts=counts),
        Middleware(HostCheck, settings=settings),
        Middleware(GZipMiddleware, minimum_size=2048, compresslevel=5),
        Middleware(CsrfCookie),
        Middleware(Auth, sessions=sessions),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: pages.not_found, 404: pages.not_found},
    )
    app.state.settings = settings
    app.state.data = data
    app.state.live = live
    app.state.templates = make_templates(settings)
    app.state.sessions = sessions
    app.state.request_counts = counts
    app.state.spool_length = SpoolLength(settings.data_dir)
    return app


SETTINGS_ENV = "GROUNDSPEED_WEB_SETTINGS"


def app_from_environment() -> Starlette:
    """The app as ``groundspeed serve --workers N`` starts it in each worker process: settings
    from $GROUNDSPEED_WEB_SETTINGS (JSON), the token from $GROUNDSPEED_TOKEN."""
    import os

    options = json.loads(os.environ[SETTINGS_ENV])
    return create_app(
        Path(options.pop("data_dir")),
        token=os.environ.get("GROUNDSPEED_TOKEN") or None,
        allowed_hosts=tuple(options.pop("allowed_hosts", ())),
        **options,
    )
