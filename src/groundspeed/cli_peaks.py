"""``groundspeed peaks`` and ``groundspeed timeline``: bursts and counts over time."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from .errors import GroundspeedError
from .track.detect import detect_peaks, minute_start
from .workspace import Workspace, default_workspace_dir

out = Console(markup=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, markup=False, highlight=False)

_EVERY = {"minute": 1, "10min": 10, "hour": 60, "day": 1440}


def workspace_for(ctx: click.Context) -> Workspace:
    """The data folder chosen with the main command's --data (shared by the track commands)."""
    data = (ctx.obj or {}).get("data") if ctx.obj else None
    return Workspace(Path(data) if data else default_workspace_dir())


def _series_for(name: str) -> str:
    """A tracker name, or a series written in full (``hashtag:iranelection``, ``all``)."""
    if name == "all" or ":" in name:
        return name
    return "tracker:" + name


@click.command()
@click.argument("tracker")
@click.option(
    "--every",
    type=click.Choice(["10min", "hour"]),
    default="10min",
    show_default=True,
    help="How finely to look for bursts: 10-minute or hourly counts.",
)
@click.option("--canonical", is_flag=True, help="Count one post per message (no reposts, no near-copies).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def peaks(ctx: click.Context, tracker: str, every: str, canonical: bool, as_json: bool) -> None:
    """Bursts of posts in a tracker, each with what explains it.

    TRACKER is a tracker's name, `all` for every post, or any timeline such as
    `hashtag:mahsaamini` or `lang:fa`. For each burst: when it started, peaked and ended, when
    groundspeed raised it, how far above normal it was, the words, hashtags, links and places
    that set it apart from the day before, and the posts to read first.
    """
    series = _series_for(tracker)
    try:
        with workspace_for(ctx) as workspace:
            found = detect_peaks(workspace.store(), series, bin_minutes=_EVERY[every], canonical=canonical)
    except GroundspeedError as exc:
        err.print(f"Error: {exc}")
        raise SystemExit(1) from exc
    if as_json:
        out.print(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if not found:
        err.print(f"No bursts found in {series} (or no posts in it yet).")
        return
    for peak in found:
        _print_peak(peak)


def _print_peak(peak: dict[str, Any]) -> None:
    end = peak["end_at"] or "going on"
    out.print(
        f"\n{peak['start_at']} -> {end}   peak {peak['peak_at']} with {peak['peak_posts']:,} posts "
        f"(normal ~{peak['baseline']:.1f} per bin); {peak['posts']:,} posts in all; raised at {peak['raised_at']}"
    )
    explanation = peak.get("explanation") or {}
    for title, key in (("words", "terms"), ("hashtags", "hashtags"), ("links", "links"), ("places", "places")):
        items = explanation.get(key) or []
        if items:
            shown = ", ".join(f"{item['item']} ({item['count']})" for item in items[:8])
            out.print(f"  {title}: {shown}")
    for post in (explanation.get("posts_to_read") or [])[:3]:
        reach = post["reposts"] + post["near_copies"]
        text = " ".join(str(post["text"]).split())[:160]
        out.print(f"  - @{post['author'] or '?'} ({reach:,} reposts and copies): {text}  {post['url'] or ''}")


@click.command()
@click.argument("name")
@click.option(
    "--every", type=click.Choice(list(_EVERY)), default="hour", show_default=True, help="The size of each count."
)
@click.option("--canonical", is_flag=True, help="Count one post per message (no reposts, no near-copies).")
@click.option("--format", "-f", "output", type=click.Choice(["table", "csv", "jsonl"]), default="table")
@click.pass_context
def timeline(ctx: click.Context, name: str, every: str, canonical: bool, output: str) -> None:
    """Posts over time in a tracker or another timeline.

    NAME is a tracker's name, `all`, or a timeline such as `hashtag:mahsaamini`, `lang:fa`,
    `platform:telegram`, `place:Tehran` or `rule:TRACKER/keyword:...`. Start with
    `groundspeed timeline all --every day` to see the overall shape.
    """
    series = _series_for(name)
    minutes = _EVERY[every]
    try:
        with workspace_for(ctx) as workspace:
            rows = workspace.reader().timeline(series)
    except GroundspeedError as exc:
        err.print(f"Error: {exc}")
        raise SystemExit(1) from exc
    if not rows:
        err.print(f"No posts in {series}. Names of timelines: groundspeed stats, or a tracker's name.")
        return
    counts: Counter[str] = Counter()
    for minute, posts, canonical_posts in rows:
        start = minute_start(minute)
        bucket = int(start.timestamp()) // (minutes * 60) * (minutes * 60)
        key = start.fromtimestamp(bucket, tz=start.tzinfo).isoformat(timespec="minutes")
        counts[key] += canonical_posts if canonical else posts
    if output == "jsonl":
        for key, count in counts.items():
            out.print(json.dumps({"series": series, "start": key, "posts": count}))
    elif output == "csv":
        out.print("start,posts")
        for key, count in counts.items():
            out.print(f"{key},{count}")
    else:
        top = max(counts.values())
        for key, count in counts.items():
            bar = "#" * max(1 if count else 0, round(40 * count / top))
            out.print(f"{key}  {count:>8,}  {escape(bar)}")
