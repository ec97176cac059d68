"""``groundspeed tracker``: name the crises you follow and the rules that find their posts.

Trackers live in ``trackers.toml`` in the data folder (format: :mod:`groundspeed.track.trackers`).
Data (lists, definitions, JSON) goes to standard output; messages go to standard error.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from .errors import GroundspeedError
from .track.places import default_gazetteer, place_key
from .track.rules import (
    RuleError,
    RuleSet,
    Tracker,
    account_rule,
    compile_tracker,
    language_key,
    language_rule_id,
    parse_bbox,
    text_rule,
)
from .track.trackers import (
    FILE_HEADER,
    dump_trackers,
    example_trackers_text,
    load_trackers,
    parse_trackers,
    save_trackers,
    save_trackers_text,
    trackers_path,
)
from .workspace import default_workspace_dir

F = TypeVar("F", bound=Callable[..., Any])

# Rule kinds as the options name them, and the RuleSet field each fills.
_FIELDS = {
    "hashtag": "hashtags",
    "keyword": "keywords",
    "phrase": "phrases",
    "account": "accounts",
    "place": "places",
    "bbox": "bboxes",
    "lang": "languages",
}
_OPTION_HELP = {
    "hashtag": "Posts with this hashtag, written with or without # (#iran* for every tag starting with iran).",
    "keyword": "Posts with this word; spellings with | (mousavi|moosavi|موسوی); تهران* also finds تهرانی.",
    "phrase": "Posts with these words in this order (green movement).",
    "account": "Posts by this account (@persiankiwi, or id:12345 for the platform's user number).",
    "place": "Posts from a city, province or country, by name (Tehran, تهران, Kurdistan province).",
    "bbox": "Posts from an area drawn as WEST,SOUTH,EAST,NORTH in degrees (44.0,25.0,63.3,39.8).",
    "lang": "Only posts in this language (fa, en, ar).",
}
_NEW_FILE = (
    FILE_HEADER
    + """
# An example; remove the # signs to use it, or see `groundspeed tracker add --example`.
# [trackers."Iran election 2009"]
# hashtags = ["IranElection"]
# keywords = ["mousavi|moosavi|موسوی", "تهران*"]
# languages = ["fa", "en"]
"""
)


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _say(message: str) -> None:
    click.echo(message, err=True)


def _path(ctx: click.Context) -> Path:
    return trackers_path(ctx.obj["data"])


def _load(ctx: click.Context) -> list[Tracker]:
    try:
        return load_trackers(_path(ctx))
    except GroundspeedError as exc:
        _fail(f"{exc}\nFix the file with `groundspeed tracker edit`.")


def _save(ctx: click.Context, trackers: Sequence[Tracker]) -> None:
    try:
        save_trackers(_path(ctx), trackers)
    except OSError as exc:
        _fail(f"cannot write {_path(ctx)}: {exc}")


def _find(trackers: Sequence[Tracker], name: str) -> int:
    """The index of the tracker called ``name`` (exactly, else ignoring case)."""
    for index, tracker in enumerate(trackers):
        if tracker.name == name:
            return index
    folded = [index for index, tracker in enumerate(trackers) if tracker.name.casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    close = difflib.get_close_matches(name, [tracker.name for tracker in trackers], n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(n) for n in close)}?" if close else ""
    _fail(f"there is no tracker called {name!r}.{hint} See `groundspeed tracker list`.")


# -- options shared by add and edit -------------------------------------------------------------


def _rule_options(prefix: str, aliases: bool) -> Callable[[F], F]:
    """``--keyword`` (add), ``--add-keyword`` / ``--keyword`` and ``--remove-keyword`` (edit), for
    every kind of rule."""

    def decorate(function: F) -> F:
        for kind in reversed(list(_FIELDS)):
            names = [f"--{prefix}{kind}"] + ([f"--{kind}"] if aliases else [])
            if prefix == "remove-":
                help_text = f"Remove this {kind} (written as in `tracker show`; letter case does not matter)."
            else:
                help_text = f"{_OPTION_HELP[kind]} Repeat for more."
            function = click.option(
                *names, f"{prefix.replace('-', '_')}{kind}", multiple=True, metavar="TEXT", help=help_text
            )(function)
        return function

    return decorate


_EXCLUDE_HELP = (
    "Leave out posts matching this: a word, #hashtag, @account, or KIND:VALUE with KIND one of "
    "keyword, phrase, hashtag, account, place, bbox, lang (e.g. lang:ar, place:Tabriz). Repeat for more."
)


def _exclude_kind(value: str) -> tuple[str, str]:
    """The kind and value of an --exclude: ``#tag``, ``@handle``, ``kind:value`` or a word."""
    kind, sep, rest = value.partition(":")
    if sep and kind in _FIELDS and rest.strip():
        return kind, rest.strip()
    if value.startswith(("#", "＃")):
        return "hashtag", value
    if value.startswith(("@", "＠")):
        return "account", value
    return ("phrase" if " " in value.strip() else "keyword"), value.strip()


def _added(rules: RuleSet, kind: str, values: Sequence[str]) -> RuleSet:
    field = _FIELDS[kind]
    try:
        new: list[Any] = [parse_bbox(value) for value in values] if kind == "bbox" else list(values)
    except RuleError as exc:
        _fail(str(exc))
    current = list(getattr(rules, field))
    return replace(rules, **{field: tuple(current + [item for item in new if item not in current])})


def _same_rule(kind: str, written: Any, value: str) -> bool:
    """Whether a rule as written in the file is the one the person named (case, spelling folded)."""
    try:
        if kind == "bbox":
            return tuple(written) == parse_bbox(value)
        if kind == "lang":
            return language_key(written) == language_key(value)
        if kind == "place":
            gazetteer = default_gazetteer()
            return gazetteer.find(written) == gazetteer.find(value) or place_key(written) == place_key(value)
        if kind == "account":
            return account_rule(written).id == account_rule(value).id
        return text_rule(kind, written).id == text_rule(kind, value).id  # type: ignore[arg-type]
    except RuleError:
        return bool(written == value)


def _removed(rules: RuleSet, kind: str, values: Sequence[str], tracker: str) -> RuleSet:
    field = _FIELDS[kind]
    current = list(getattr(rules, field))
    for value in values:
        kept = [item for item in current if not _same_rule(kind, item, value)]
        if len(kept) == len(current):
            _fail(f"tracker {tracker!r} has no {kind} {value!r}; see `groundspeed tracker show {tracker!r}`")
        current = kept
    return replace(rules, **{field: tuple(current)})


def _with_excludes(rules: RuleSet, values: Sequence[str]) -> RuleSet:
    for value in values:
        kind, item = _exclude_kind(value)
        rules = _added(rules, kind, [item])
    return rules


def _without_excludes(rules: RuleSet, values: Sequence[str], tracker: str) -> RuleSet:
    for value in values:
        kind, item = _exclude_kind(value)
        rules = _removed(rules, kind, [item], f"{tracker} (exclusions)")
    return rules


def _checked(tracker: Tracker) -> Tracker:
    try:
        compile_tracker(tracker)
    except RuleError as exc:
        _fail(str(exc))
    return tracker


# -- the group ----------------------------------------------------------------------------------


@click.group("tracker", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder that holds your posts (default: ./groundspeed-data, or $GROUNDSPEED_DATA).",
)
@click.pass_context
def tracker_group(ctx: click.Context, data: Path | None) -> None:
    """Follow a crisis: name it, and say which posts belong to it.

    A tracker is a named set of rules: hashtags, words and phrases, accounts, places and
    areas, and languages. A post belongs to a tracker when it matches any of its rules, is in
    one of its languages, and matches none of its exclusions. Trackers are kept in the file
    trackers.toml in your data folder.

    \b
        groundspeed tracker add "Iran election 2009" --hashtag IranElection \\
            --keyword "mousavi|moosavi|موسوی" --place Tehran --lang fa --lang en
        groundspeed tracker list
        groundspeed tracker show "Iran election 2009"
        groundspeed tracker edit "Iran election 2009" --add-keyword "تهران*"
        groundspeed tracker edit              (opens the file in your text editor)
    """
    ctx.ensure_object(dict)
    if data is not None:
        ctx.obj["data"] = data
    ctx.obj.setdefault("data", default_workspace_dir())


@tracker_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the trackers as JSON, with every rule id.")
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """List your trackers, one a line: name, number of rules, languages, description."""
    trackers = _load(ctx)
    if as_json:
        click.echo(json.dumps([_as_json(tracker) for tracker in trackers], ensure_ascii=False, indent=2))
        return
    if not trackers:
        _say(f"No trackers yet in {_path(ctx)}. Add one with `groundspeed tracker add NAME --hashtag ...`.")
        return
    width = max(len(tracker.name) for tracker in trackers)
    for tracker in trackers:
        count = len(compile_tracker(tracker).include)
        languages = ",".join(tracker.include.languages) or "any language"
        line = f"{tracker.name:<{width}}  {count:>4} rules  {languages}"
        click.echo(f"{line}  {tracker.description}".rstrip())


@tracker_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the tracker as JSON.")
@click.option("--toml", "as_toml", is_flag=True, help="Print the tracker as it is written in trackers.toml.")
@click.pass_context
def show_command(ctx: click.Context, name: str, as_json: bool, as_toml: bool) -> None:
    """Show every rule of a tracker, with the id recorded on each post it finds."""
    trackers = _load(ctx)
    tracker = trackers[_find(trackers, name)]
    if as_json:
        click.echo(json.dumps(_as_json(tracker), ensure_ascii=False, indent=2))
    elif as_toml:
        click.echo(dump_trackers([tracker]).removeprefix(FILE_HEADER).lstrip("\n"), nl=False)
    else:
        click.echo("\n".join(_describe(tracker)))


def _as_json(tracker: Tracker) -> dict[str, Any]:
    compiled = compile_tracker(tracker)
    return {
        "name": tracker.name,
        "description": tracker.description,
        "rules": [rule.id for rule in compiled.include],
        "languages": [language_rule_id(lang) for lang in tracker.include.languages],
        "unknown_language": tracker.unknown_language,
        "exclude": [rule.id for rule in compiled.exclude]
        + [language_rule_id(lang) for lang in tracker.exclude.languages],
        "fingerprint": tracker.fingerprint(),
    }


def _describe(tracker: Tracker) -> list[str]:
    compiled = compile_tracker(tracker)
    lines = [tracker.name]
    if tracker.description:
        lines.append(f"  {tracker.description}")
    if compiled.include:
        lines.append("  Posts that match any of these rules:")
        width = max(len(rule.id) for rule in compiled.include)
        for rule in compiled.include:
            # The id is what posts record; beside it, what it stands for when that says more.
            detail = rule.place.describe() if rule.place is not None else rule.written
            same = detail == rule.id.partition(":")[2]
            lines.append(f"    {rule.id}" if same else f"    {rule.id:<{width}}  {detail}")
    if tracker.include.languages:
        unknown = "kept" if tracker.unknown_language and compiled.include else "left out"
        languages = ", ".join(tracker.include.languages)
        lines.append(f"  in these languages: {languages} (posts whose language is not known are {unknown})")
    excluded = [rule.id for rule in compiled.exclude] + [language_rule_id(x) for x in tracker.exclude.languages]
    if excluded:
        lines.append("  but not posts that match any of these:")
        lines += [f"    {rule_id}" for rule_id in excluded]
    return lines


@tracker_group.command("add")
@click.argument("name", required=False)
@_rule_options("", aliases=False)
@click.option("--exclude", "exclude", multiple=True, metavar="TEXT", help=_EXCLUDE_HELP)
@click.option("--description", default="", help="A sentence saying what this tracker follows.")
@click.option(
    "--skip-unknown-language",
    is_flag=True,
    help="With --lang: also leave out posts whose language is not known (kept by default).",
)
@click.option("--example", is_flag=True, help="Add the example tracker (Iran election 2009) to try things out.")
@click.pass_context
def add_command(ctx: click.Context, /, name: str | None, exclude: tuple[str, ...], **options: Any) -> None:
    """Add a tracker called NAME with the rules given as options.

    \b
        groundspeed tracker add "Mahsa Amini protests" --hashtag MahsaAmini \\
            --hashtag "مهسا_امینی" --keyword "mahsa|مهسا" --place Saqqez --lang fa
    """
    trackers = _load(ctx)
    if options.pop("example"):
        _add_example(ctx, trackers)
        return
    if not name or not name.strip():
        _fail("give the tracker a name: groundspeed tracker add NAME --hashtag ...")
    name = name.strip()
    if any(tracker.name.casefold() == name.casefold() for tracker in trackers):
        _fail(f"there is already a tracker called {name!r}; change it with `groundspeed tracker edit`")
    include = RuleSet()
    for kind in _FIELDS:
        include = _added(include, kind, options[kind])
    tracker = Tracker(
        name=name,
        description=options["description"],
        include=include,
        exclude=_with_excludes(RuleSet(), exclude),
        unknown_language=not options["skip_unknown_language"],
    )
    _save(ctx, [*trackers, _checked(tracker)])
    _say(f"Added tracker {name!r} ({len(compile_tracker(tracker).include)} rules) to {_path(ctx)}.")


def _add_example(ctx: click.Context, trackers: list[Tracker]) -> None:
    names = {tracker.name for tracker in trackers}
    new = [tracker for tracker in parse_trackers(example_trackers_text()) if tracker.name not in names]
    if not new:
        _say("The example tracker is already there.")
        return
    if not trackers and not _path(ctx).exists():
        save_trackers_text(_path(ctx), example_trackers_text())  # keeps the explanations in the file
    else:
        _save(ctx, [*trackers, *new])
    _say(f"Added the example tracker {new[0].name!r} to {_path(ctx)}; see it with `groundspeed tracker show`.")


@tracker_group.command("edit")
@click.argument("name", required=False)
@_rule_options("add-", aliases=True)
@_rule_options("remove-", aliases=False)
@click.option("--exclude", "--add-exclude", "add_exclude", multiple=True, metavar="TEXT", help=_EXCLUDE_HELP)
@click.option("--remove-exclude", multiple=True, metavar="TEXT", help="Stop leaving out posts that match this.")
@click.option("--description", default=None, help="A new description.")
@click.option("--rename", default=None, metavar="NEW_NAME", help="A new name for the tracker.")
@click.option(
    "--unknown-language/--skip-unknown-language",
    "unknown_language",
    default=None,
    help="Keep (or leave out) posts whose language is not known, when the tracker has languages.",
)
@click.pass_context
def edit_command(ctx: click.Context, /, name: str | None, **options: Any) -> None:
    """Change a tracker with options, or edit the trackers file in your text editor.

    Without options, trackers.toml opens in your editor ($EDITOR); when you save and close it,
    the file is checked, and if something is wrong you can fix it before anything is saved.

    \b
        groundspeed tracker edit "Iran election 2009" --add-keyword "کروبی" --remove-hashtag Neda
        groundspeed tracker edit "Iran election 2009" --exclude lang:ar --exclude football
    """
    changes = {key: value for key, value in options.items() if value not in (None, ())}
    if not changes:
        _edit_in_editor(ctx)
        return
    if not name:
        _fail("say which tracker to change: groundspeed tracker edit NAME --add-keyword ...")
    trackers = _load(ctx)
    index = _find(trackers, name)
    trackers[index] = _checked(_changed(trackers[index], options))
    if options["rename"] and any(
        other.name.casefold() == options["rename"].strip().casefold() for i, other in enumerate(trackers) if i != index
    ):
        _fail(f"there is already a tracker called {options['rename']!r}")
    _save(ctx, trackers)
    _say(f"Saved tracker {trackers[index].name!r} in {_path(ctx)}.")


def _changed(tracker: Tracker, options: dict[str, Any]) -> Tracker:
    include, exclude = tracker.include, tracker.exclude
    for kind in _FIELDS:
        include = _added(include, kind, options[f"add_{kind}"])
        include = _removed(include, kind, options[f"remove_{kind}"], tracker.name)
    exclude = _with_excludes(exclude, options["add_exclude"])
    exclude = _without_excludes(exclude, options["remove_exclude"], tracker.name)
    return Tracker(
        name=(options["rename"] or tracker.name).strip(),
        description=tracker.description if options["description"] is None else options["description"],
        include=include,
        exclude=exclude,
        unknown_language=tracker.unknown_language
        if options["unknown_language"] is None
        else options["unknown_language"],
    )


def _edit_in_editor(ctx: click.Context) -> None:
    path = _path(ctx)
    text = path.read_text(encoding="utf-8") if path.exists() else _NEW_FILE
    while True:
        edited = click.edit(text, extension=".toml", require_save=True)
        if edited is None:
            _say("No changes.")
            return
        try:
            trackers = save_trackers_text(path, edited)
        except GroundspeedError as exc:
            _say(f"Error: {exc}")
            if not click.confirm("Open the editor again to fix it?", default=True, err=True):
                _fail(f"nothing was saved; {path} is as it was")
            text = edited
            continue
        _say(f"Saved {len(trackers)} tracker{'s' if len(trackers) != 1 else ''} in {path}.")
        return


@tracker_group.command("remove")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove_command(ctx: click.Context, name: str, yes: bool) -> None:
    """Remove a tracker. Posts stay in your data folder; only the tracker's rules are removed."""
    trackers = _load(ctx)
    index = _find(trackers, name)
    found = trackers[index].name
    if not yes and not click.confirm(f"Remove the tracker {found!r}?", err=True):
        _fail("nothing was removed")
    del trackers[index]
    _save(ctx, trackers)
    _say(f"Removed tracker {found!r} (the previous file is kept as {_path(ctx).name}.bak).")


@tracker_group.command("places")
@click.argument("search", required=False)
@click.option("--limit", default=50, show_default=True, help="Show at most this many places.")
def places_command(search: str | None, limit: int) -> None:
    """List the places a tracker can name (--place), or those whose name contains SEARCH."""
    gazetteer = default_gazetteer()
    places = list(gazetteer)
    if search:
        key = place_key(search)
        places = [place for place in places if any(key in place_key(name) for name in (place.slug, *place.names))]
    else:
        places = [place for place in places if place.major]
    for place in places[:limit]:
        click.echo(f"{place.slug}\t{place.describe()}")
    if len(places) > limit:
        _say(f"... and {len(places) - limit} more; narrow the search or use --limit.")
    if not places:
        _say(f"No place matches {search!r}; draw an area instead with --bbox WEST,SOUTH,EAST,NORTH.")
