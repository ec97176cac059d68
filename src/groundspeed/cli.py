"""The ``groundspeed`` command line. Data goes to standard output, messages to standard error."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .errors import EncodingError, GroundspeedError, UnknownFormatError
from .export import InsightsAlongside, write_csv, write_ids, write_jsonl, write_parquet, write_raw
from .formats import all_formats
from .model import Post
from .store import PostFilter, Store
from .understand.classify import INFO_TYPES
from .workspace import ImportReport, Workspace, default_workspace_dir

# markup=False: post text, file names and reasons are data and may contain [brackets]; styled
# lines opt in with markup=True and escape() every piece of data in them.
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
# Piped output is for other programs: do not wrap it at 80 columns.
out = Console(highlight=False, soft_wrap=True, markup=False, width=None if sys.stdout.isatty() else 200)

_RELATIVE_RE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]Error:[/] {escape(message)}", markup=True)
    sys.exit(1)


def parse_when(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """A time from ``2022-09-16``, ``2022-09-16T12:00``, or relative ``24h``, ``7d``, ``30m``."""
    if value is None:
        return None
    match = _RELATIVE_RE.match(value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time: use 2022-09-16, 2022-09-16T14:00 or 24h / 7d") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@contextmanager
def _handled() -> Iterator[None]:
    """Turn library errors into one clear sentence and exit status 1."""
    try:
        yield
    except GroundspeedError as exc:
        _fail(str(exc))


def _workspace(ctx: click.Context) -> Workspace:
    return Workspace(ctx.obj["data"])


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="groundspeed")
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="GROUNDSPEED_DATA",
    default=None,
    help="Folder that holds your posts (default: ./groundspeed-data, or $GROUNDSPEED_DATA).",
)
@click.pass_context
def cli(ctx: click.Context, data: Path | None) -> None:
    """Follow a crisis through social media.

    groundspeed keeps every post it is given, exactly as received, and builds a searchable
    database from it. Start with `groundspeed demo`, or import your own files:

    \b
        groundspeed import tweets.jsonl mastodon.json result.json
        groundspeed search "Tehran OR تهران" --since 2022-09-16
        groundspeed stats
        groundspeed export --format csv > posts.csv
    """
    ctx.ensure_object(dict)
    ctx.obj["data"] = data or default_workspace_dir()


# -- import -------------------------------------------------------------------------------


def _format_choices() -> list[str]:
    return ["auto", *(fmt.name for fmt in all_formats())]


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format", "format_name", default="auto", show_default=True, help="Format of the files; see `groundspeed formats`."
)
@click.option("--query", help="What these posts were collected for (a search or hashtag), kept as provenance.")
@click.option("--encoding", help="Text encoding when the file is not UTF-8, e.g. cp1256 or latin-1.")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="For csv/jsonl: which column holds a field, e.g. --map text=message.",
)
@click.option("--platform", help="For csv/jsonl: the platform the posts come from (x, telegram, ...).")
@click.option(
    "--option",
    "-o",
    "extra_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A format option, e.g. -o map.text=message or -o telegram_username=mychannel (see `groundspeed formats --details`).",
)
@click.option(
    "--again", is_flag=True, help="Read files again even if they were imported before (nothing is stored twice)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on standard output.")
@click.pass_context
def import_command(
    ctx: click.Context,
    files: tuple[Path, ...],
    format_name: str,
    query: str | None,
    encoding: str | None,
    mapping: tuple[str, ...],
    platform: str | None,
    extra_options: tuple[str, ...],
    again: bool,
    as_json: bool,
) -> None:
    """Import archive files (or whole folders of them) into your data folder.

    Each file's format is detected (say which with --format). Records that cannot be read are
    set aside in quarantine with the file and line they came from; the rest of the file is still
    imported. Importing the same file twice adds nothing. Compressed files (.gz, .bz2, .xz,
    .zst) are read directly.
    """
    with _handled():
        if format_name != "auto" and format_name not in _format_choices():
            raise UnknownFormatError(f"There is no format called {format_name!r}; see `groundspeed formats`.")
    options: dict[str, str] = {}
    for item in mapping:
        field, sep, column = item.partition("=")
        if not sep or not field or not column:
            _fail(f"--map {item!r}: write it as FIELD=COLUMN, for example --map text=message")
        options[f"map.{field.strip()}"] = column.strip()
    for item in extra_options:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            _fail(f"-o {item!r}: write it as KEY=VALUE, for example -o map.text=message")
        options[key.strip()] = value.strip()
    if platform:
        options["platform"] = platform
    reports: list[ImportReport] = []
    failures = 0
    with _workspace(ctx) as workspace:
        for path, from_folder in _expand(files):
            try:
                with _progress(f"Importing {path.name}") as progress:
                    report = workspace.import_file(
                        path,
                        format_name=format_name,
                        options=options or None,
                        query=query,
                        encoding=encoding,
                        again=again,
                        progress=progress,
                        announce=err.print,
                    )
            except (UnknownFormatError, EncodingError) as exc:
                if not from_folder:
                    failures += 1
                    report = ImportReport(path=str(path), status="failed", error=str(exc))
                    err.print(f"[bold red]Error:[/] {escape(str(exc))}", markup=True)
                else:  # a README or picture inside a folder is not a failure of the import
                    report = ImportReport(path=str(path), status="not a post file", error=str(exc))
                    err.print(f"{path}: left out, not a file of posts groundspeed can read")
            except GroundspeedError as exc:
                failures += 1
                report = ImportReport(path=str(path), status="failed", error=str(exc))
                err.print(f"[bold red]Error:[/] {escape(str(exc))}", markup=True)
            reports.append(report)
            if not as_json and report.status not in ("failed", "not a post file"):
                _print_report(report)
        if any(report.new for report in reports):
            with _handled():  # bursts and stories in the new posts: see `groundspeed peaks`, `stories`
                if not as_json:
                    err.print(
                        "Looking for bursts, grouping the new posts into stories and working out their "
                        "languages, types of information and places ..."
                    )
                found = workspace.analyse()
            if not as_json and any(found.values()):
                err.print(
                    "Bursts: "
                    + ", ".join(f"{name.removeprefix('tracker:')} {count}" for name, count in found.items() if count)
                    + " (see groundspeed peaks NAME)"
                )
    if as_json:
        out.print_json(json.dumps([report.as_dict() for report in reports], ensure_ascii=False))
    elif len(reports) > 1:
        _print_totals(reports)
    if failures:
        sys.exit(1)


def _expand(paths: tuple[Path, ...]) -> list[tuple[Path, bool]]:
    """(file, found in a folder) to import: folders are read recursively, hidden files left out."""
    expanded: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                child
                for child in path.rglob("*")
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts)
            )
            if not found:
                err.print(f"{path}: the folder has no files to import")
            expanded.extend((child, True) for child in found)
        else:
            expanded.append((path, False))
    return expanded


@contextmanager
def _progress(description: str) -> Iterator[Callable[[str, int, int | None], None]]:
    if not err.is_terminal:
        yield lambda what, done, total: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(what: str, done: int, total: int | None) -> None:
            if what == "reading":
                bar.update(task, completed=done, total=total)

        yield update


def _print_report(report: ImportReport) -> None:
    if report.status in ("already imported", "empty"):
        return  # the import said so already, in one line
    copies = f", {report.near_copies:,} near-copies of earlier posts" if report.near_copies else ""
    err.print(
        f"{report.path}: {report.records:,} records → {report.new:,} new posts, "
        f"{report.duplicates:,} already stored, {report.quarantined:,} quarantined, "
        f"{report.skipped:,} not posts{copies} ({report.seconds:.1f} s)"
    )
    for reason, count in report.quarantine_reasons.most_common(5):
        err.print(f"    quarantined {count:,}: {reason}")
    if report.quarantined:
        err.print("    see them with: groundspeed quarantine")
    for reason, count in report.skipped_reasons.most_common(5):
        err.print(f"    skipped {count:,}: {reason}")


def _print_totals(reports: list[ImportReport]) -> None:
    total = Counter[str]()
    for report in reports:
        total.update(
            {
                "records": report.records,
                "new": report.new,
                "duplicates": report.duplicates,
                "quarantined": report.quarantined,
                "skipped": report.skipped,
            }
        )
    failed = sum(1 for report in reports if report.status == "failed")
    left_out = sum(1 for report in reports if report.status == "not a post file")
    err.print(
        f"[bold]Total[/] {len(reports)} files ({failed} failed, {left_out} left out): {total['records']:,} records → {total['new']:,} new posts, "
        f"{total['duplicates']:,} already stored, {total['quarantined']:,} quarantined, {total['skipped']:,} not posts",
        markup=True,
    )


# -- reading --------------------------------------------------------------------------------


_FILTER_NAMES = (
    "since",
    "until",
    "platforms",
    "langs",
    "kinds",
    "tracker",
    "canonical",
    "info_types",
    "eyewitness",
    "informative",
    "place",
)


def _filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that choose posts (time, platform, language, kind, tracker, one per message,
    type of information, first-hand, place), given to the command as one ``where: PostFilter``."""

    @functools.wraps(command)
    def with_filter(*args: Any, **kwargs: Any) -> Any:
        chosen = {name: kwargs.pop(name) for name in _FILTER_NAMES}
        return command(*args, where=_make_filter(**chosen), **kwargs)

    func: Callable[..., Any] = with_filter
    func = click.option("--since", help="Only posts at or after this time (2022-09-16, 2022-09-16T14:00, 24h, 7d).")(
        func
    )
    func = click.option("--until", help="Only posts before this time.")(func)
    func = click.option("--platform", "platforms", multiple=True, help="Only this platform (repeat for several).")(func)
    func = click.option(
        "--lang",
        "langs",
        multiple=True,
        help="Only this language, e.g. fa, ar, en, fa-Latn for Finglish (repeat for several). "
        "The language groundspeed detected; the platform's tag until it has looked.",
    )(func)
    func = click.option(
        "--kind",
        "kinds",
        multiple=True,
        type=click.Choice(["original", "repost", "reply", "quote"]),
        help="Only this kind of post.",
    )(func)
    func = click.option("--tracker", help="Only posts a tracker holds (see `groundspeed tracker list`).")(func)
    func = click.option(
        "--canonical",
        is_flag=True,
        help="One post per message: leave out reposts and near-copies (the first post of each stays).",
    )(func)
    func = click.option(
        "--type",
        "info_types",
        multiple=True,
        type=click.Choice(INFO_TYPES),
        help="Only this type of information (repeat for several; see `groundspeed understand --help`).",
    )(func)
    func = click.option("--eyewitness", is_flag=True, help="Only first-hand reports: people telling what they see.")(
        func
    )
    func = click.option("--informative", is_flag=True, help="Only posts useful for following the crisis (no chatter).")(
        func
    )
    func = click.option(
        "--place", help="Only posts about or from this place: a name (Tehran, تهران) or a country code (IR)."
    )(func)
    return func


def _make_filter(
    since: str | None,
    until: str | None,
    platforms: tuple[str, ...],
    langs: tuple[str, ...],
    kinds: tuple[str, ...],
    tracker: str | None = None,
    canonical: bool = False,
    info_types: tuple[str, ...] = (),
    eyewitness: bool = False,
    informative: bool = False,
    place: str | None = None,
) -> PostFilter:
    return PostFilter(
        info_types=info_types,
        eyewitness=eyewitness,
        informative=informative,
        place=_place_name(place),
        place_bbox=_place_box(place),
        since=parse_when(since),
        until=parse_when(until),
        platforms=platforms,
        langs=langs,
        kinds=kinds,
        tracker=tracker,
        canonical_only=canonical,
    )


@cli.command()
@click.argument("query")
@_filter_options
@click.option(
    "--output", "-o", "output_format", type=click.Choice(["table", "jsonl", "csv"]), default="table", show_default=True
)
@click.option("--limit", type=int, default=50, show_default=True, help="How many posts to show.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    where: PostFilter,
    output_format: str,
    limit: int,
    sort: str,
) -> None:
    """Find posts by words, in any language.

    Letters are matched the way they are meant, not the way they were typed: Arabic and Persian
    letter forms, Persian half-spaces, and Persian/Arabic digits are folded, case is ignored.

    \b
    Syntax: tehran protest       both words
            "azadi square"       the exact phrase
            tehran OR تهران      either
            fire NOT drill       without
            evac*                words starting with evac
    """
    order = {"relevance": "rank", "newest": "-created_at", "oldest": "created_at"}[sort]
    with _handled(), _workspace(ctx).reader() as store:
        posts = store.search(query, where, limit=limit, order=order)
        insights = store.insights_for([post.uid for post in posts])
    _emit_posts(posts, output_format, insights)
    if not posts:
        err.print("No posts matched.")


def _emit_posts(posts: list[Post], output_format: str, insights: dict[str, dict[str, Any]] | None = None) -> None:
    found = insights or {}
    if output_format == "jsonl":
        write_jsonl(posts, sys.stdout.buffer, found.get)
        sys.stdout.flush()
    elif output_format == "csv":
        write_csv(posts, sys.stdout, found.get)
    else:
        table = Table(show_lines=False, pad_edge=False, box=None)
        for column in ("time (UTC)", "platform", "author", "text", "what, where", "uid"):
            table.add_column(column, overflow="fold")
        for post in posts:
            when = post.created_at.strftime("%Y-%m-%d %H:%M") if post.created_at else "?"
            author = post.author.handle or post.author.name or post.author.id or "?"
            text = (post.original_text or "").replace("\n", " ")
            table.add_row(
                when, post.platform, author, text[:280], _what_where((insights or {}).get(post.uid)), post.uid
            )
        out.print(table)


@cli.command()
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def stats(
    ctx: click.Context,
    where: PostFilter,
    as_json: bool,
) -> None:
    """Counts of posts by platform, language, day and kind, and what was quarantined."""
    with _handled(), _workspace(ctx).reader() as store:
        summary = store.stats(where)
    if as_json:
        out.print_json(json.dumps(summary, ensure_ascii=False))
        return
    print_summary(summary)


def print_summary(summary: dict[str, Any]) -> None:
    out.print(
        f"[bold]{summary['posts']:,} posts[/]  from {summary['first_post_at'] or '?'} to {summary['last_post_at'] or '?'}",
        markup=True,
    )
    out.print(f"with a location: {summary['with_location']:,}")
    for title, key in (
        ("Platforms", "by_platform"),
        ("Kinds", "by_kind"),
        ("Languages (as the platform said)", "by_language"),
    ):
        items = list(summary[key].items())
        shown = ", ".join(f"{name} {count:,}" for name, count in items[:12])
        more = f", and {len(items) - 12} more" if len(items) > 12 else ""
        out.print(f"[bold]{title}:[/] {escape(shown)}{more}", markup=True)
    days = summary["by_day"]
    if days:
        busiest = sorted(days.items(), key=lambda item: -item[1])[:5]
        out.print("[bold]Busiest days:[/] " + ", ".join(f"{day} {count:,}" for day, count in busiest), markup=True)
    out.print(f"[bold]Quarantined:[/] {summary['quarantined']:,}", markup=True)
    for reason, count in list(summary["quarantine_by_reason"].items())[:8]:
        out.print(f"    {count:,}  {reason}")
    out.print(f"[bold]Not posts (counted, not stored):[/] {summary['skipped_not_posts']:,}", markup=True)
    for reason, count in list(summary["skipped_by_reason"].items())[:8]:
        out.print(f"    {count:,}  {reason}")
    collapsed = summary.get("duplicates_collapsed")
    if collapsed and collapsed["posts"]:
        out.print(
            f"[bold]One post per message:[/] {collapsed['canonical']:,} of {collapsed['posts']:,} "
            f"({collapsed['share_collapsed']:.0%} collapsed: {collapsed['reposts']:,} reposts, "
            f"{collapsed['near_copies']:,} near-copies; see --canonical)",
            markup=True,
        )
    insights = summary.get("insights") or {}
    if insights.get("understood"):
        print_insights(insights)
    trackers = summary.get("trackers") or {}
    if trackers:
        out.print(
            "[bold]Trackers:[/] " + escape(", ".join(f"{name} {count:,}" for name, count in trackers.items())),
            markup=True,
        )


def print_insights(insights: dict[str, Any]) -> None:
    """What the understanding stage found (a part of the summary)."""
    understood = insights["understood"]
    out.print(
        f"[bold]Understood:[/] {understood:,} posts; first-hand reports {insights['first_hand']:,}, "
        f"informative {insights['informative']:,}, placed on the map {insights['placed']:,}",
        markup=True,
    )
    for title, key in (("Languages (as detected)", "by_detected_language"), ("Types of information", "by_info_type")):
        items = list(insights[key].items())
        shown = ", ".join(f"{name} {count:,}" for name, count in items[:12])
        out.print(f"[bold]{title}:[/] {escape(shown)}", markup=True)


def _what_where(insight: dict[str, Any] | None) -> str:
    """A post's insight in a few words for the table: type, first-hand, language, place."""
    if insight is None:
        return ""
    parts = [insight["info_type"] or ""]
    if insight["is_eyewitness"]:
        parts.append("first-hand")
    if insight["language"]:
        parts.append(insight["language"])
    if insight["place_name"]:
        parts.append(f"{insight['place_name']} ({insight['place_source']})")
    return ", ".join(part for part in parts if part)


def _place_box(place: str | None) -> tuple[float, float, float, float] | None:
    """The area of a city or province the bundled gazetteer knows (countries go by their code:
    their boxes take in their neighbours)."""
    if not place or len(place.strip()) == 2:
        return None
    from .track.places import default_gazetteer

    found = default_gazetteer().find(place)
    return found.bbox if found is not None and found.kind != "country" else None


def _place_name(place: str | None) -> str | None:
    """A place as the stage stores it: a country code in capitals, a name as given."""
    if place is None:
        return None
    place = place.strip()
    return place.upper() if len(place) == 2 and place.isascii() and place.isalpha() else place


@cli.command()
@_filter_options
@click.option(
    "--format",
    "-f",
    "export_format",
    type=click.Choice(["raw", "jsonl", "csv", "parquet"]),
    default="jsonl",
    show_default=True,
    help="raw: payloads exactly as received (twarc-compatible for X); jsonl: normalised posts; csv: a spreadsheet; parquet: for analysis tools.",
)
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output (required for parquet).",
)
@click.pass_context
def export(
    ctx: click.Context,
    where: PostFilter,
    export_format: str,
    output: Path | None,
) -> None:
    """Export posts for newsrooms and researchers."""
    workspace = _workspace(ctx)
    with _handled(), workspace.reader() as store:
        # Posts with what the understanding stage found (language, type, first-hand, place).
        alongside = InsightsAlongside(store.iter_posts(where), store.insights_for)
        posts, insight_of = alongside.posts(), alongside.of
        if export_format == "parquet":
            if output is None:
                _fail("Parquet needs a file: add --output posts.parquet")
            count = write_parquet(posts, output, insight_of=insight_of)
        else:
            with _open_output(output, binary=export_format in ("raw", "jsonl")) as handle:
                if export_format == "raw":
                    count = write_raw(posts, workspace.spool, handle)
                elif export_format == "jsonl":
                    count = write_jsonl(posts, handle, insight_of)
                else:
                    count = write_csv(posts, handle, insight_of)
    noun = "raw records" if export_format == "raw" else "posts"
    err.print(f"Exported {count:,} {noun}" + (f" to {output}" if output else ""))


@contextmanager
def _open_output(path: Path | None, *, binary: bool) -> Iterator[Any]:
    if path is None:
        yield sys.stdout.buffer if binary else sys.stdout
        sys.stdout.flush()
        return
    if binary:
        with open(path, "wb") as handle:
            yield handle
    else:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            yield handle


@cli.command()
@_filter_options
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.pass_context
def dehydrate(
    ctx: click.Context,
    where: PostFilter,
    output: Path | None,
) -> None:
    """Write post ids only, one per line: the way to share a collection under platform terms."""
    with _handled(), _workspace(ctx).reader() as store, _open_output(output, binary=False) as handle:
        count = write_ids(store.iter_posts(where), handle)
    err.print(f"Wrote {count:,} ids")


@cli.command()
@click.pass_context
def reprocess(ctx: click.Context) -> None:
    """Rebuild the database from the raw posts kept in the spool.

    Use this after upgrading groundspeed: every post is mapped again with the new version.
    Nothing is downloaded and nothing in the spool changes.
    """
    with _handled(), _workspace(ctx) as workspace, _progress("Reprocessing") as progress:
        result = workspace.reprocess(progress=progress)
    err.print(
        f"Rebuilt: {result.new:,} posts, {result.duplicates:,} duplicates collapsed, {result.quarantined:,} quarantined, {result.skipped:,} not posts"
    )


@cli.command()
@click.option("--source", help="Only records from files whose path contains this text.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines for scripts.")
@click.pass_context
def quarantine(ctx: click.Context, source: str | None, limit: int, as_json: bool) -> None:
    """Show input that could not be used, with where it came from and why."""
    with _handled(), _workspace(ctx).reader() as store:
        items = store.quarantine_items(source=source, limit=limit)
        total = store.stats()["quarantined"]
    if as_json:
        for item in items:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
        return
    if not items:
        err.print("Nothing is in quarantine.")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("where", "reason", "beginning of the record"):
        table.add_column(column, overflow="fold")
    for item in items:
        where = item["locator"] + (f" ({item['path']})" if item["path"] else "")
        table.add_row(where, item["reason"], (item["excerpt"] or "")[:120].replace("\n", " "))
    out.print(table)
    if total > len(items):
        err.print(f"Showing {len(items)} of {total:,}; use --limit to see more.")


@cli.command()
@click.option("--details", is_flag=True, help="Also show what each format reads, its options and its caveats.")
def formats(details: bool) -> None:
    """List the file formats groundspeed can import."""
    import inspect

    for fmt in all_formats():
        out.print(f"{fmt.name:<18} {fmt.title}", markup=False)
        if details:
            doc = inspect.getdoc(sys.modules[type(fmt).__module__]) or ""
            out.print(doc, markup=False)
            out.print()


@cli.command()
@click.option(
    "--port", default=8470, show_default=True, type=click.IntRange(0, 65535), help="Port of the situation room."
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser window (on a server, in tests).")
@click.option(
    "--minutes",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1, 24 * 60),
    help="How long the replay of the sample night takes.",
)
@click.option("--no-serve", is_flag=True, help="Import the whole sample at once and print a summary, no web page.")
@click.pass_context
def demo(ctx: click.Context, port: int, no_browser: bool, minutes: float, no_serve: bool) -> None:
    """Import the bundled sample crisis data and open the situation room, with the sample's night
    replayed as if it were happening now (a first look).

    The sample is made up (see the samples README): a protest night in Persian, Finglish, Arabic
    and English, then a made-up evening with a sudden burst. New posts, bursts and stories appear
    on the open pages as the replay goes on. Stop with Ctrl+C. With --no-serve, the samples of
    the other platforms (Mastodon, Bluesky, Telegram, a news feed) are imported too.
    """
    sample_dir = resources.files("groundspeed") / "samples"
    with _handled(), _workspace(ctx) as workspace:
        if no_serve:
            err.print(f"Importing the bundled sample into {workspace.root}/ ...")
        for entry in sorted(sample_dir.iterdir(), key=lambda item: item.name):
            if entry.name.startswith(("README", "_")) or not no_serve:
                # Served, the sample night is replayed live instead; the other platforms' samples
                # are of other days, which would stretch the pages' "last hour" to months ago.
                continue
            with resources.as_file(entry) as path:
                report = workspace.import_file(path, announce=err.print)
                if report.status != "already imported":
                    _print_report(report)
        if not workspace.trackers_path.exists():  # a tracker to show what trackers do
            workspace.root.mkdir(parents=True, exist_ok=True)
            workspace.trackers_path.write_text(_DEMO_TRACKERS, encoding="utf-8")
        workspace.sync_trackers()
        workspace.analyse()
        root = workspace.root
        if no_serve:
            _print_demo_summary(workspace.store())
            return
    _serve_with_replay(ctx, root, port=port, no_browser=no_browser, minutes=minutes)


def _serve_with_replay(ctx: click.Context, root: Path, *, port: int, no_browser: bool, minutes: float) -> None:
    import threading

    from .cli_web import serve
    from .replay import Replay, demo_lines

    replay = Replay(root, demo_lines(), duration=minutes * 60)
    err.print(
        f"Replaying the sample night ({replay.status.total:,} posts, {replay.first:%Y-%m-%d %H:%M} to "
        f"{replay.last:%H:%M} UTC) in about {minutes:g} minutes ..."
    )
    feeder = threading.Thread(target=replay.run, name="groundspeed-replay", daemon=True)
    feeder.start()
    try:
        ctx.invoke(serve, port=port, no_browser=no_browser, data_option=root)
    finally:
        replay.stop()
        feeder.join(timeout=30)
        status = replay.status
        err.print(f"Replay stopped: {status.sent:,} of {status.total:,} posts sent, {status.stored:,} new.")
        if status.error:
            err.print(f"The replay failed: {status.error}")


def _print_demo_summary(store: Store) -> None:
    print_summary(store.stats())
    top = store.list_stories(sort="authors", limit=5)
    if top:
        out.print("[bold]Stories told by the most people:[/]", markup=True)
        for story in top:
            out.print(
                f"    #{story['id']}  {story['posts']:,} posts by {story['authors']:,} people  "
                + escape(" ".join(story["terms"][:6]))
            )
    out.print()
    out.print(
        '[bold]Try:[/] groundspeed search "تهران OR tehran"   ·   groundspeed stories   ·   '
        'groundspeed timeline "Mahsa Amini (sample)" --every minute   ·   groundspeed tracker list   ·   '
        "groundspeed search tehran --eyewitness   ·   groundspeed export -f csv -o posts.csv",
        markup=True,
    )


_DEMO_TRACKERS = """# A tracker for the bundled sample (groundspeed demo). Edit it with: groundspeed tracker edit
[trackers."Mahsa Amini (sample)"]
description = "The made-up protest night in the bundled sample"
hashtags = ["MahsaAmini", "مهسا_امینی", "زن_زندگی_آزادی"]
keywords = ["tehran|تهران", "internet|اینترنت"]
"""


def _register() -> None:
    from .cli_eval import eval_group
    from .cli_peaks import peaks, timeline
    from .cli_stories import stories, story
    from .cli_tracker import tracker_group
    from .cli_understand import annotate, understand
    from .cli_web import serve

    for command in (tracker_group, peaks, timeline, stories, story, eval_group, understand, annotate, serve):
        cli.add_command(command)

    @tracker_group.result_callback()
    @click.pass_context
    def _apply_tracker_changes(ctx: click.Context, /, *_results: object, **_options: object) -> None:
        # After a change to trackers.toml, the stored posts are matched again (only the trackers
        # that changed), so a tracker holds what it would have held from the start.
        if ctx.invoked_subcommand not in ("add", "edit", "remove"):
            return
        with _handled(), Workspace(ctx.obj["data"]) as workspace:
            if not workspace.db_path.exists():
                return
            for name, held in workspace.sync_trackers().items():
                if held is None:
                    err.print(f"{name}: removed from the database (matches, timelines, bursts)")
                else:
                    err.print(f"{name}: {held:,} stored posts match it now")


_register()


def main() -> None:
    cli(prog_name="groundspeed")
