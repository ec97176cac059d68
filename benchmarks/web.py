"""Latency of the situation room's main views and search, against a bare /healthz in the same run.

    .venv/bin/python benchmarks/web.py [--posts 100000] [--clients 8] [--requests 200]

Generates a reproducible data folder (``groundspeed.synthetic``: Persian/Finglish/Arabic/English
tweets with retweet cascades), imports it, adds a tracker, finds peaks and stories and writes
understanding rows (language from the platform, a place for half the posts, every fourth post
first-hand) straight into the database, so every view has work to do. The folder is cached in
benchmarks/_work/ by size. Then it starts ``groundspeed serve`` in its own process on loopback and
sends each endpoint ``--requests`` requests from ``--clients`` concurrent clients, printing p50,
p95 and max per endpoint, and the reference: /healthz, which reads one row.

Targets (issue 6, at 1,000,000 posts): p95 <= 200 ms for the main views, <= 300 ms for search.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from groundspeed.synthetic import write_jsonl
from groundspeed.workspace import Workspace

WORK = Path(__file__).parent / "_work"
TRACKER = "Iran protests"
TRACKERS = f"""[trackers."{TRACKER}"]
description = "Benchmark tracker"
hashtags = ["MahsaAmini", "مهسا_امینی"]
keywords = ["tehran|تهران", "internet|اینترنت"]
"""
SEARCHES = ["tehran", "تهران", "internet", "اینترنت", '"security forces"', "gunfire OR تیراندازی", "smok*", "مشهد"]


def build(posts: int, *, stories: bool) -> Path:
    root = WORK / f"web-{posts}"
    if (root / "ready").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    source = WORK / f"web-{posts}.jsonl"
    lines = posts  # one post a line, give or take: retweets carry originals that are seen again
    started = time.perf_counter()
    write_jsonl(str(source), lines)
    (root / "trackers.toml").write_text(TRACKERS, encoding="utf-8")
    with Workspace(root, fsync=False) as workspace:
        workspace.import_file(source)
        print(f"imported in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        workspace.refresh_peaks()
        if stories:
            tick = time.perf_counter()
            workspace.update_stories()
            print(f"stories in {time.perf_counter() - tick:.1f} s", file=sys.stderr)
    fill_insights(root / "groundspeed.db")
    (root / "ready").write_text("ok", encoding="utf-8")
    source.unlink()
    return root


def fill_insights(db: Path) -> None:
    """Understanding rows for every post, in SQL (the real stage is measured elsewhere)."""
    connection = sqlite3.connect(db)
    cities = [(35.6892, 51.3890, "Tehran"), (36.2605, 59.6168, "Mashhad"), (29.5918, 52.5837, "Shiraz")]
    case_lat = " ".join(f"WHEN {i} THEN {lat}" for i, (lat, _lon, _name) in enumerate(cities))
    case_lon = " ".join(f"WHEN {i} THEN {lon}" for i, (_lat, lon, _name) in enumerate(cities))
    case_name = " ".join(f"WHEN {i} THEN '{name}'" for i, (_lat, _lon, name) in enumerate(cities))
    connection.execute(
        "INSERT OR IGNORE INTO post_insights (post_id, language, language_confidence, language_source, informative, "
        "is_informative, eyewitness, is_eyewitness, info_type, place_name, place_lat, place_lon, place_country, "
        "place_precision, place_source, place_confidence, models) "
        f"SELECT id, lang, 0.9, 'platform', 0.7, 1, CASE WHEN id % 4 = 0 THEN 0.8 ELSE 0.1 END, id % 4 = 0, "
        f"'other', CASE WHEN id % 2 = 0 THEN CASE id % 3 {case_name} END END, "
        f"CASE WHEN id % 2 = 0 THEN CASE id % 3 {case_lat} END END, CASE WHEN id % 2 = 0 THEN CASE id % 3 {case_lon} END END, "
        "CASE WHEN id % 2 = 0 THEN 'IR' END, CASE WHEN id % 2 = 0 THEN 'city' END, CASE WHEN id % 2 = 0 THEN 'text' END, "
        "CASE WHEN id % 2 = 0 THEN 0.4 + (id % 6) / 10.0 END, 'benchmark' FROM posts"
    )
    connection.commit()
    connection.close()


def endpoints(root: Path) -> dict[str, list[str]]:
    connection = sqlite3.connect(root / "groundspeed.db")
    uids = [row[0] for row in connection.execute("SELECT uid FROM posts ORDER BY random() LIMIT 50")]
    story_ids = [row[0] for row in connection.execute("SELECT id FROM stories ORDER BY posts DESC LIMIT 20")]
    connection.close()
    name = quote(TRACKER)
    views = {
        "reference /healthz": ["/healthz"],
        "overview /": ["/"],
        "tracker page": [f"/tracker?name={name}"],
        "timeline JSON": [f"/api/timeline?tracker={name}", "/api/timeline"],
        "stories board": ["/stories", f"/stories?tracker={name}"],
        "post stream": ["/posts", "/posts?lang=fa", f"/posts?tracker={name}&canonical=1", "/posts?window=1h"],
        "eyewitness lane": ["/eyewitness"],
        "map (page's data)": [
            "/api/map?format=columns&limit=3000&min_confidence=0.5",
            f"/api/map?format=columns&limit=3000&tracker={name}",
        ],
        "map GeoJSON (API)": ["/api/map?min_confidence=0.5"],
        "post detail": [f"/post?uid={quote(uid, safe='')}" for uid in uids],
        "search": [f"/posts?q={quote(q)}" for q in SEARCHES],
        "search JSON": [f"/api/posts?q={quote(q)}" for q in SEARCHES],
    }
    if story_ids:
        views["story page"] = [f"/stories/{story}" for story in story_ids]
    return views


async def measure(base: str, urls: list[str], requests: int, clients: int) -> list[float]:
    timings: list[float] = []
    queue = [random.choice(urls) for _ in range(requests)]

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            url = queue.pop()
            tick = time.perf_counter()
            response = await client.get(base + url)
            timings.append(time.perf_counter() - tick)
            if response.status_code != 200:
                msg = f"{url}: HTTP {response.status_code}"
                raise RuntimeError(msg)

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=clients)) as client:
        await client.get(base + urls[0])  # warm the connection and the page cache
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return timings


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="per endpoint")
    parser.add_argument("--port", type=int, default=8471)
    parser.add_argument("--workers", type=int, default=1, help="server processes (groundspeed serve --workers)")
    parser.add_argument("--no-stories", action="store_true", help="skip story detection when building")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    root = build(args.posts, stories=not args.no_stories)
    connection = sqlite3.connect(root / "groundspeed.db")
    stored = connection.execute("SELECT COUNT(*) FROM posts").fetchone()[0]
    connection.close()
    env = {**os.environ, "GROUNDSPEED_NO_BROWSER": "1"}
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "groundspeed.web", "--data", str(root), "--port", str(args.port)),
            *("--no-browser", "--workers", str(args.workers)),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(WORK / "web-server.log").open("w"),  # the server's messages, for when it does not start
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit(f"the server did not start: see {WORK / 'web-server.log'}")
                time.sleep(0.2)
        print(
            f"{stored:,} posts; {args.workers} server process(es); {args.clients} concurrent clients; "
            f"{args.requests} requests per view"
        )
        print(f"{'view':<22} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req/s':>8}")
        for name, urls in endpoints(root).items():
            started = time.perf_counter()
            timings = asyncio.run(measure(base, urls, args.requests, args.clients))
            elapsed = time.perf_counter() - started
            print(
                f"{name:<22} {statistics.median(timings) * 1000:>8.1f} {quantile(timings, 0.95) * 1000:>8.1f} "
                f"{max(timings) * 1000:>8.1f} {len(timings) / elapsed:>8.0f}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
