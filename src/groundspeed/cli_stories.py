"""``groundspeed stories`` and ``groundspeed story``: what the posts are about, story by story."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console

from .cli_peaks import err, out, workspace_for
from .errors import GroundspeedError
from .track.explain import key_terms


def _fail(exc: Exception) -> None:
    err.print(f"Error: {exc}")
    raise SystemExit(1) from exc


@click.command()
@click.argument("tracker", required=False)
@click.option(
    "--sort",
    type=click.Choice(["growth", "authors", "newest", "size"]),
    default="growth",
    show_default=True,
    help="growth: growing and new stories first; authors: told by the most people; newest; size.",
)
@click.option("--since", help="Only stories with posts at or after this time (2022-09-16, 24h, 7d).")
@click.option("--lang", help="Only stories with posts in this language (fa, ar, en...).")
@click.option("--place", help="Only stories with posts from a place whose name contains this.")
@click.option("--status", type=click.Choice(["new", "growing", "steady", "fading"]), help="Only stories in this state.")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def stories(
    ctx: click.Context,
    tracker: str | None,
    sort: str,
    since: str | None,
    lang: str | None,
    place: str | None,
    status: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Stories: posts about the same thing, grouped as they arrive.

    Each story shows when it began and with which post, whether it is new, growing, steady or
    fading, how many posts and people tell it, its key words, languages and places. Give a
    TRACKER's name to see only its stories. `groundspeed story ID` shows one story's posts.
    """
    from .cli import parse_when  # the CLI's time parser (24h, 2022-09-16 ...)

    try:
        with workspace_for(ctx) as workspace:
            workspace.update_stories()
            found = workspace.store().list_stories(
                tracker=tracker, sort=sort, since=parse_when(since), lang=lang, place=place, status=status, limit=limit
            )
    except GroundspeedError as exc:
        _fail(exc)
        return
    if as_json:
        out.print(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if not found:
        err.print("No stories yet (import some posts first).")
        return
    for story in found:
        _print_story_line(out, story)


def _print_story_line(console: Console, story: dict[str, Any]) -> None:
    languages = ", ".join(story["languages"]) or "?"
    console.print(
        f"#{story['id']:<6} {story['status']:<8} {story['posts']:>6,} posts {story['authors']:>5,} people  "
        f"{(story['first_at'] or '?')[:16]} .. {(story['last_at'] or '?')[:16]}  [{languages}]  "
        + " ".join(story["terms"][:6])
    )


@click.command()
@click.argument("story_id", type=int)
@click.option("--limit", type=int, default=50, show_default=True, help="How many of its posts to show.")
@click.option("--merge-with", "merge_with", type=int, help="Join another story into this one (kept if rebuilt).")
@click.option(
    "--split-off",
    "split_off",
    multiple=True,
    help="Take this post (its id, e.g. x:123) out into a story of its own with the others given.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def story(
    ctx: click.Context, story_id: int, limit: int, merge_with: int | None, split_off: tuple[str, ...], as_json: bool
) -> None:
    """One story: its record, its posts per hour, and its posts (oldest first).

    An analyst can correct the grouping: `--merge-with 42` joins story 42 into this one;
    `--split-off x:123 --split-off x:456` makes those posts a story of their own. Corrections are
    kept by post, so they hold when the database is rebuilt (`groundspeed reprocess`).
    """
    try:
        with workspace_for(ctx) as workspace:
            workspace.update_stories()
            store = workspace.store()
            if merge_with is not None:
                firsts = [store.story(number, limit=1) for number in (story_id, merge_with)]
                if any(first is None or not first[1] for first in firsts):
                    err.print(f"Both stories must exist to merge them (#{story_id}, #{merge_with}).")
                    raise SystemExit(1)
                store.edit_stories("merge", [first[1][0].uid for first in firsts if first], key_terms)
                err.print(f"Story #{merge_with} is now part of #{min(story_id, merge_with)}.")
                story_id = min(story_id, merge_with)
            if split_off:
                store.edit_stories("split", list(split_off), key_terms)
                err.print(
                    f"{len(split_off)} posts are now a story of their own (see groundspeed stories --sort newest)."
                )
            found = store.story(story_id, limit=limit)
            hours = store.story_timeline(story_id)
    except GroundspeedError as exc:
        _fail(exc)
        return
    if found is None:
        err.print(f"There is no story #{story_id} (see groundspeed stories).")
        raise SystemExit(1)
    record, posts = found
    if as_json:
        payload = {
            **record,
            "hours": [
                {"hour": hour + ":00", "posts": count, "authors": authors, "amplifications": amplified}
                for hour, count, authors, amplified in hours
            ],
            "posts_shown": [_post_dict(post) for post in posts],
        }
        out.print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    _print_story_line(out, record)
    out.print(f"places: {', '.join(record['places']) or '-'}   platforms: {', '.join(record['platforms'])}")
    if record["trackers"]:
        out.print(f"trackers: {', '.join(record['trackers'])}")
    out.print("hour (UTC)          posts  people  reposts+copies")
    for hour, count, authors, amplified in hours:
        out.print(f"  {hour}:00  {count:>6,}  {authors:>6,}  {amplified:>6,}  " + "#" * min(60, count))
    for post in posts:
        when = post.created_at.isoformat()[:16] if post.created_at else "?"
        text = " ".join((post.original_text or post.text or "").split())[:200]
        out.print(f"{when}  @{post.author.handle or '?'}: {text}  {post.url or ''}")


def _post_dict(post: Any) -> dict[str, Any]:
    return {
        "uid": post.uid,
        "url": post.url,
        "author": post.author.handle,
        "created_at": post.created_at.isoformat() if post.created_at else None,
        "text": post.original_text or post.text,
    }
