"""Prometheus metrics (``/metrics``, text format 0.0.4), written by hand: a few gauges and
counters do not need a client library.

Ingest metrics come from the data folder, so they describe whatever process imports (the
server itself only reads): posts stored, arrivals in the last minute and five minutes, how far
behind event time the newest posts arrive, records in the spool not yet in the database (the
queue), posts not yet understood, each source's state and quarantined records.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import GroundspeedError
from ..spool import Spool
from ..store import views
from .security import ASGIApp, Message, Receive, Scope, Send

_SPOOL_CACHE_SECONDS = 10.0


class RequestCounts:
    """Requests and their durations by route template and status."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.served: dict[str, int] = defaultdict(int)


class RequestMetrics:
    """Counts requests (into a :class:`RequestCounts`)."""

    def __init__(self, app: ASGIApp, counts: RequestCounts) -> None:
        self.app = app
        self.tally = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or ("/static" if scope["path"].startswith("/static/") else "other")
            self.tally.counts[(name, scope["method"], status)] += 1
            self.tally.seconds[name] += time.perf_counter() - started
            self.tally.served[name] += 1


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class SpoolLength:
    """The spool's record count, cached (finding it reads the last segment)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._value: int | None = None
        self._at = 0.0

    def get(self) -> int | None:
        if time.monotonic() - self._at > _SPOOL_CACHE_SECONDS:
            try:
                self._value = Spool(self.root / "spool").next_seq if (self.root / "spool").exists() else None
            except (GroundspeedError, OSError):
                self._value = None
            self._at = time.monotonic()
        return self._value


def collect(connection: sqlite3.Connection, spool_records: int | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    ingest = views.ingest_stats(connection, now)
    newest = ingest["newest_collected_at"]
    return {
        "ingest": ingest,
        "since_arrival": (now - datetime.fromisoformat(newest)).total_seconds() if newest else None,
        "spool_records": spool_records,
        "stored_position": views.spool_position(connection),
        "understood_position": views.understood_position(connection),
        "sources": views.sources(connection),
        "quarantine": views.quarantine_counts(connection),
        "quarantine_by_source": views.quarantine_by_source(connection),
    }


def render(facts: dict[str, Any] | None, requests: RequestCounts, live_streams: int) -> str:
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[dict[str, Any], float | int | None]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            if value is None:
                continue
            text = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
            lines.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")

    metric("groundspeed_up", "gauge", "1 when the database could be read.", [({}, 0 if facts is None else 1)])
    if facts is not None:
        ingest = facts["ingest"]
        metric("groundspeed_posts_stored", "gauge", "Posts in the database (highest post id).", [({}, ingest["posts"])])
        metric(
            "groundspeed_ingest_posts_last_minute",
            "gauge",
            "Posts stored in the last minute.",
            [({}, ingest["last_minute"])],
        )
        metric(
            "groundspeed_ingest_rate_posts_per_second",
            "gauge",
            "Posts stored per second, averaged over the last five minutes.",
            [({}, round(ingest["last_5_minutes"] / 300, 3))],
        )
        metric(
            "groundspeed_ingest_lag_seconds",
            "gauge",
            "Median delay between posting and arrival of the newest 100 posts (event time to arrival).",
            [({}, ingest["lag_seconds"])],
        )
        metric(
            "groundspeed_seconds_since_last_arrival",
            "gauge",
            "Seconds since the newest post was stored.",
            [({}, None if facts["since_arrival"] is None else round(facts["since_arrival"], 1))],
        )
        spool = facts["spool_records"]
        metric("groundspeed_spool_records", "gauge", "Raw records in the spool.", [({}, spool)])
        metric(
            "groundspeed_queue_depth_records",
            "gauge",
            "Raw records in the spool not yet stored in the database.",
            [({}, None if spool is None else max(0, spool - facts["stored_position"]))],
        )
        metric(
            "groundspeed_understanding_backlog_posts",
            "gauge",
            "Posts not yet understood (language, type, first-hand, place).",
            [({}, max(0, ingest["posts"] - facts["understood_position"]))],
        )
        sources = facts["sources"]
        metric(
            "groundspeed_source_state",
            "gauge",
            "1 for the state of each source's last import (running, done, failed ...).",
            [({"source": row["path"], "format": row["format"], "state": row["status"]}, 1) for row in sources],
        )
        metric(
            "groundspeed_source_posts_total",
            "counter",
            "New posts stored from each source.",
            [({"source": row["path"]}, int(row["posts_new"] or 0)) for row in sources],
        )
        metric(
            "groundspeed_source_quarantined_total",
            "counter",
            "Records of each source kept aside as unreadable.",
            [({"source": source}, count) for source, count in facts["quarantine_by_source"].items()],
        )
        metric(
            "groundspeed_quarantined_total",
            "counter",
            "Records kept aside as unreadable, by reason.",
            [({"reason": reason}, count) for reason, count in facts["quarantine"].items()],
        )
    metric("groundspeed_live_streams", "gauge", "Open live-update connections.", [({}, live_streams)])
    metric(
        "groundspeed_http_requests_total",
        "counter",
        "HTTP requests served, by route, method and status.",
        [
            ({"route": route, "method": method, "status": status}, count)
            for (route, method, status), count in sorted(requests.counts.items())
        ],
    )
    metric(
        "groundspeed_http_request_seconds_sum",
        "counter",
        "Time spent serving requests, by route.",
        [({"route": route}, round(seconds, 6)) for route, seconds in sorted(requests.seconds.items())],
    )
    metric(
        "groundspeed_http_request_seconds_count",
        "counter",
        "Requests timed, by route.",
        [({"route": route}, count) for route, count in sorted(requests.served.items())],
    )
    return "\n".join(lines) + "\n"
