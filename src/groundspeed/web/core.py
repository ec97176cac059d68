"""Settings of the web app and its read-only access to the data folder."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.concurrency import run_in_threadpool

from ..errors import GroundspeedError
from ..store.db import PostFilter, Store

_P = ParamSpec("_P")
_T = TypeVar("_T")

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True, slots=True)
class WebSettings:
    """What ``groundspeed serve`` can change (see docs/situation-room.md)."""

    data_dir: Path
    token: str | None = None  # when set, every page and API call needs it (login or Bearer)
    region_tz: str | None = None  # the crisis region's time zone, e.g. Asia/Tehran
    tile_url: str | None = None  # e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; None: offline basemap
    tile_attribution: str | None = None
    poll_seconds: float = 2.0  # how often the live feed looks for new posts, peaks and stories
    allowed_hosts: tuple[str, ...] = ()  # Host headers accepted besides loopback names ("*": any)
    session_days: int = 7
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.region_tz is not None:
            try:
                ZoneInfo(self.region_tz)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                msg = f"Unknown time zone {self.region_tz!r}; use a name such as Asia/Tehran or Europe/Kyiv."
                raise ValueError(msg) from exc
        if self.tile_url is not None and not self.tile_url.startswith(("https://", "http://")):
            msg = "The tile URL must start with https:// (or http://), e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png"
            raise ValueError(msg)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "groundspeed.db"


class NoData(GroundspeedError):
    """The data folder holds no database yet."""


class Data:
    """One read-only connection per worker thread, opened when first needed (the database may
    appear after the server started: an import in another terminal creates it)."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self._local = threading.local()
        self._stores: list[Store] = []
        self._lock = threading.Lock()

    def connection(self) -> sqlite3.Connection:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            if not self.settings.db_path.exists():
                msg = f"No posts yet in {self.settings.data_dir}."
                raise NoData(msg)
            store = Store.open(self.settings.db_path, readonly=True)
            if store.connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'timeline'").fetchone() is None:
                store.close()
                msg = (
                    f"The data folder {self.settings.data_dir} was made by an older groundspeed and must be "
                    "updated before it can be shown: run `groundspeed import` (with any file) once."
                )
                raise NoData(msg)
            # One connection per worker thread: a smaller page cache than the writer's (the
            # operating system caches the file for all of them).
            store.connection.execute("PRAGMA cache_size=-16384")
            self._local.store = store
            with self._lock:
                self._stores.append(store)
        return store.connection

    async def run(self, work: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run ``work(connection, *args, **kwargs)`` in a worker thread."""

        def call() -> _T:
            return work(self.connection(), *args, **kwargs)

        return await run_in_threadpool(call)

    def close(self) -> None:
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()


def parse_time(value: str | None) -> datetime | None:
    """An ISO date or time from a query string (naive means UTC); None when empty."""
    if not value:
        return None
    text = value.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


WINDOWS = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(days=1), "7d": timedelta(days=7)}


@dataclass(slots=True)
class StreamQuery:
    """The post stream's filters as read from a query string (also the API's)."""

    q: str = ""
    window: str = ""  # 1h, 6h, 24h, 7d: before the newest post
    since: str = ""
    until: str = ""
    lang: list[str] = field(default_factory=list)
    platform: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    info_type: list[str] = field(default_factory=list)
    tracker: str = ""
    place: str = ""
    eyewitness: bool = False
    canonical: bool = False

    @classmethod
    def from_params(cls, params: Any) -> StreamQuery:
        def many(name: str) -> list[str]:
            return [value for raw in params.getlist(name) for value in raw.split(",") if value.strip()][:20]

        return cls(
            q=(params.get("q") or "").strip()[:500],
            window=params.get("window") or "",
            since=params.get("since") or "",
            until=params.get("until") or "",
            lang=many("lang"),
            platform=many("platform"),
            kind=many("kind"),
            info_type=many("info_type"),
            tracker=params.get("tracker") or "",
            place=(params.get("place") or "").strip()[:200],
            eyewitness=params.get("eyewitness") in ("1", "true", "on", "yes"),
            canonical=params.get("canonical") in ("1", "true", "on", "yes"),
        )

    def to_filter(self, newest: datetime | None) -> PostFilter:
        since = parse_time(self.since)
        if self.window in WINDOWS and newest is not None:
            since = max(since, newest - WINDOWS[self.window]) if since else newest - WINDOWS[self.window]
        return PostFilter(
            since=since,
            until=parse_time(self.until),
            platforms=self.platform,
            langs=self.lang,
            kinds=self.kind,
            tracker=self.tracker or None,
            canonical_only=self.canonical,
            info_types=self.info_type,
            eyewitness=self.eyewitness,
            place=self.place or None,
        )

    def params(self) -> list[tuple[str, str]]:
        """The filters as query parameters (for links that keep them)."""
        pairs: list[tuple[str, str]] = []
        for name in ("q", "window", "since", "until", "tracker", "place"):
            value = getattr(self, name)
            if value:
                pairs.append((name, value))
        for name in ("lang", "platform", "kind", "info_type"):
            pairs.extend((name, value) for value in getattr(self, name))
        if self.eyewitness:
            pairs.append(("eyewitness", "1"))
        if self.canonical:
            pairs.append(("canonical", "1"))
        return pairs
