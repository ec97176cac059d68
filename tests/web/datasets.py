"""Data folders for the web tests: the bundled sample (Persian, Arabic, English; a tracker, peaks
and stories), an XSS corpus in post text, names and links, and understanding rows written
directly (so the map and the eyewitness lane have something to show whatever state the
understanding models are in)."""

from __future__ import annotations

import json
import sqlite3
import zlib
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from groundspeed.workspace import Workspace

TRACKER_NAME = "Mahsa Amini (sample)"
TRACKERS = """[trackers."Mahsa Amini (sample)"]
description = "The made-up protest night in the bundled sample"
hashtags = ["MahsaAmini", "مهسا_امینی", "زن_زندگی_آزادی"]
keywords = ["tehran|تهران", "internet|اینترنت"]
"""

# Every payload sets window.__xss when it runs; the browser test checks it never does.
XSS = "window.__xss=1"
XSS_TEXTS = [
    f"<script>{XSS}</script> tehran",
    f'<img src=x onerror="{XSS}"> tehran',
    f'"><svg onload={XSS}> tehran',
    f"</textarea></title><script>{XSS}</script> tehran",
    f'<a href="javascript:{XSS}">click me</a> tehran',
    f'<iframe src="javascript:{XSS}"></iframe> tehran',
    f"<details open ontoggle={XSS}> tehran",
    "{{7*7}} ${7*7} <%= 7*7 %> tehran",
    f"<math><mtext><table><mglyph><style><img src=x onerror={XSS}> tehran",
    f"\u202e<script>{XSS}</script> tehran",
]
XSS_NAMES = [f"<img src=x onerror={XSS}>", f'"><script>{XSS}</script>', f"<b onmouseover={XSS}>name</b>"]
XSS_URLS = [
    f"javascript:{XSS}",
    f"JaVaScRiPt:{XSS}",
    f" javascript:{XSS}",
    f"java\tscript:{XSS}",
    f"data:text/html,<script>{XSS}</script>",
    f'https://example.org/"><script>{XSS}</script>',
]
XSS_PLACE = f"<img src=x onerror={XSS}>Tehran"


def xss_records(start: datetime) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for index, text in enumerate(XSS_TEXTS):
        records.append(
            {
                "tweet_id": str(990_000 + index),
                "text": f"{text} #xss{index}",
                "created_at": (start + timedelta(minutes=index)).isoformat(),
                "user_screen_name": XSS_NAMES[index % len(XSS_NAMES)],
                "name": XSS_NAMES[(index + 1) % len(XSS_NAMES)],
                "tweet_url": XSS_URLS[index % len(XSS_URLS)],
                "urls": [XSS_URLS[(index + 1) % len(XSS_URLS)], "https://example.org/safe"],
                "media_urls": [XSS_URLS[(index + 2) % len(XSS_URLS)]],
                "lang": "en",
            }
        )
    return records


def live_records(start: datetime, count: int, *, prefix: str = "live") -> list[dict[str, object]]:
    """New posts for the live tests: Persian, Arabic and English, mentioning Tehran."""
    texts = [
        "گزارش زنده: تجمع بزرگ در میدان آزادی تهران #مهسا_امینی",
        "عاجل: انقطاع الإنترنت في طهران الآن",
        "Live: crowds gathering in Tehran tonight #MahsaAmini",
    ]
    return [
        {
            "tweet_id": f"{zlib.crc32(prefix.encode()) % 10_000_000}{index:04d}",
            "text": f"{texts[index % 3]} ({prefix} {index})",
            "created_at": (start + timedelta(seconds=30 * index)).isoformat(),
            "user_screen_name": f"{prefix}_reporter_{index}",
            "lang": ("fa", "ar", "en")[index % 3],
        }
        for index in range(count)
    ]


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return path


def import_records(root: Path, name: str, records: list[dict[str, object]]) -> None:
    """Import posts into a data folder as ``groundspeed import`` would, then refresh peaks and stories."""
    path = write_jsonl(root.parent / f"{root.name}-{name}.jsonl", records)
    with Workspace(root, fsync=False) as workspace:
        workspace.import_file(path, format_name="jsonl", options={"platform": "x"})
        workspace.refresh_peaks()
        workspace.update_stories()


PLACES = [("Tehran", 35.6892, 51.3890, "IR"), ("Mashhad", 36.2605, 59.6168, "IR"), ("Shiraz", 29.5918, 52.5837, "IR")]


def add_insights(db: Path) -> int:
    """Understanding rows for posts that have none: language from the platform, every third post
    a first-hand report placed in an Iranian city (confidence 0.9 or 0.6), and the XSS posts
    placed with a hostile place name. Returns how many were written."""
    connection = sqlite3.connect(db)
    try:
        exists = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'post_insights'").fetchone()
        if not exists:
            return 0
        rows = connection.execute(
            "SELECT id, lang, text FROM posts WHERE id NOT IN (SELECT post_id FROM post_insights) ORDER BY id"
        ).fetchall()
        values = []
        for post_id, lang, text in rows:
            place = PLACES[post_id % len(PLACES)]
            placed = post_id % 2 == 0
            hostile = "xss" in (text or "")
            eyewitness = post_id % 3 == 0
            values.append(
                (
                    post_id,
                    lang,
                    0.9,
                    "platform",
                    0.8,
                    1,
                    0.85 if eyewitness else 0.1,
                    int(eyewitness),
                    "caution_and_advice" if eyewitness else "other",
                    None,
                    XSS_PLACE if hostile else (place[0] if placed else None),
                    place[1] if placed or hostile else None,
                    place[2] if placed or hostile else None,
                    place[3] if placed or hostile else None,
                    "city" if placed or hostile else None,
                    "text" if placed or hostile else None,
                    (0.9 if post_id % 4 == 0 else 0.6) if placed or hostile else None,
                    None,
                    None,
                    "web-tests",
                )
            )
        columns = (
            "post_id, language, language_confidence, language_source, informative, is_informative, eyewitness, "
            "is_eyewitness, info_type, info_types, place_name, place_lat, place_lon, place_country, place_precision, "
            "place_source, place_confidence, mentions, inherited_from, models"
        )
        connection.executemany(f"INSERT INTO post_insights ({columns}) VALUES ({', '.join('?' * 20)})", values)
        # Where the understanding stage would have got to (the live pages watch it).
        newest = connection.execute("SELECT COALESCE(MAX(id), 0) FROM posts").fetchone()[0]
        connection.execute(
            "INSERT OR REPLACE INTO tracking_state (name, value, spool_position, saved_at) VALUES (?, ?, NULL, ?)",
            ("insights.position", str(newest).encode(), datetime.now(UTC).isoformat()),
        )
        connection.commit()
        return len(values)
    finally:
        connection.close()


def poison_links(db: Path) -> None:
    """Give the XSS posts hostile links directly in the database (importers drop non-web links;
    the pages must be safe even when one does not)."""
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("SELECT id, details FROM posts WHERE uid LIKE 'x:9900%' ORDER BY id").fetchall()
        for index, (post_id, details) in enumerate(rows):
            data = json.loads(details)
            data["urls"] = [*XSS_URLS, "https://example.org/safe"]
            data["media"] = [{"type": "photo", "url": url} for url in XSS_URLS]
            connection.execute(
                "UPDATE posts SET url = ?, details = ? WHERE id = ?",
                (XSS_URLS[index % len(XSS_URLS)], json.dumps(data), post_id),
            )
        connection.commit()
    finally:
        connection.close()


def build(root: Path) -> Path:
    """The bundled sample, the tracker, peaks, stories, the XSS corpus and understanding rows."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "trackers.toml").write_text(TRACKERS, encoding="utf-8")
    with Workspace(root, fsync=False) as workspace:
        sample_dir = resources.files("groundspeed") / "samples"
        for entry in sorted(sample_dir.iterdir(), key=lambda item: item.name):
            if entry.name.startswith(("README", "_")):
                continue
            with resources.as_file(entry) as path:
                workspace.import_file(path)
        workspace.sync_trackers()
    import_records(root, "xss", xss_records(datetime(2022, 9, 16, 23, 0, tzinfo=UTC)))
    poison_links(root / "groundspeed.db")
    add_insights(root / "groundspeed.db")
    return root
