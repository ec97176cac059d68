"""Trackers kept in a TOML file: ``trackers.toml`` in the data folder.

One file holds every tracker of a workspace, one table each, named by the tracker::

    [trackers."Iran election 2009"]
    description = "Protests after the June 2009 presidential election"
    hashtags = ["IranElection", "iranelection", "GreenRevolution"]
    keywords = ["mousavi|moosavi|musavi|موسوی", "تهران*", "Neda"]
    phrases = ["green movement", "جنبش سبز"]
    accounts = ["@persiankiwi", "oxfordgirl", "id:12345"]
    places = ["Tehran", "Iran"]
    bboxes = [[44.0, 25.0, 63.3, 39.8]]  # west, south, east, north (longitude, latitude)
    languages = ["fa", "en"]
    unknown_language = true              # keep posts whose language is not known (default)

    [trackers."Iran election 2009".exclude]
    keywords = ["football"]
    accounts = ["spam_account"]
    languages = ["ar"]

Keys of a tracker (all optional, but a tracker needs at least one rule or language):

* ``hashtags``, ``keywords``, ``phrases``, ``accounts``, ``places``: lists of text (one text is
  taken as a list of one); see :mod:`groundspeed.track.rules` for how each matches, ``|`` for
  alternative spellings and ``*`` for word beginnings;
* ``bboxes``: boxes as ``[west, south, east, north]`` or the text ``"west,south,east,north"``;
* ``languages``: language codes (``fa``, ``en``, ``ar``); ``unknown_language``: true or false;
* ``description``: text for people;
* ``[trackers."Name".exclude]``: the same rule keys and ``languages``; a post matching any of them
  is left out of the tracker.

Problems are reported with the file, the tracker and the rule: ``trackers.toml: tracker 'Iran
election 2009': bbox [44, 25, 63]: give four numbers...``. Writing the file (``save_trackers``)
keeps the previous version next to it as ``trackers.toml.bak``; comments are not carried over.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import secrets
import shutil
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from groundspeed.errors import GroundspeedError

from .places import BBox, Gazetteer
from .rules import RuleError, RuleSet, Tracker, compile_tracker, parse_bbox

TRACKERS_FILE = "trackers.toml"
_LIST_KEYS = ("hashtags", "keywords", "phrases", "accounts", "places")
_EXCLUDE_KEYS = (*_LIST_KEYS, "bboxes", "languages")
_TRACKER_KEYS = (*_EXCLUDE_KEYS, "description", "unknown_language", "exclude")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_LINE_LENGTH = 100
FILE_HEADER = """\
# Trackers for groundspeed: one [trackers."Name"] table per crisis you follow.
# Edit with `groundspeed tracker edit`, which checks the file when you save it.
# How rules match: hashtags and whole words, `word*` for words that start with it, `a|b` for
# spellings of one keyword, places by name, bboxes as [west, south, east, north].
"""


class TrackerFileError(GroundspeedError):
    """The trackers file cannot be read or is not valid; the message names the file and where."""


def trackers_path(data_dir: Path) -> Path:
    """Where a workspace keeps its trackers."""
    return Path(data_dir) / TRACKERS_FILE


# -- reading ------------------------------------------------------------------------------------


def load_trackers(path: Path, *, gazetteer: Gazetteer | None = None) -> list[Tracker]:
    """The trackers in a file, checked; a file that does not exist holds none."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise TrackerFileError(f"{path}: cannot be read ({exc})") from None
    return parse_trackers(text, source=str(path), gazetteer=gazetteer)


def parse_trackers(text: str, *, source: str = "trackers.toml", gazetteer: Gazetteer | None = None) -> list[Tracker]:
    """Trackers from TOML text, in file order, each checked (rules compiled, places found)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TrackerFileError(f"{source}: not valid TOML: {exc}") from None
    unknown = [key for key in data if key != "trackers"]
    if unknown:
        raise TrackerFileError(
            f"{source}: unknown setting {unknown[0]!r} at the top of the file; "
            f'each tracker is a table [trackers."Name"]'
        )
    tables = data.get("trackers", {})
    if not isinstance(tables, dict):
        raise TrackerFileError(f'{source}: "trackers" must be tables: [trackers."Name"]')
    trackers: list[Tracker] = []
    for name, table in tables.items():
        try:
            tracker = tracker_from_table(name, table)
            compile_tracker(tracker, gazetteer)
        except RuleError as exc:
            raise TrackerFileError(f"{source}: {exc}") from None
        trackers.append(tracker)
    return trackers


def tracker_from_table(name: str, table: Any) -> Tracker:
    """A tracker from its TOML table (shape only: rules are checked by ``compile_tracker``)."""
    where = f"tracker {name!r}"
    if not isinstance(table, dict):
        raise RuleError(f'{where}: write it as a table, [trackers."{name}"], with its rules below')
    _check_keys(table, _TRACKER_KEYS, where)
    description = table.get("description", "")
    if not isinstance(description, str):
        raise RuleError(f"{where}: description must be text in quotes")
    unknown_language = table.get("unknown_language", True)
    if not isinstance(unknown_language, bool):
        raise RuleError(f"{where}: unknown_language must be true or false")
    exclude = table.get("exclude", {})
    if not isinstance(exclude, dict):
        raise RuleError(f'{where}: exclude must be a table: [trackers."{name}".exclude]')
    _check_keys(exclude, _EXCLUDE_KEYS, f"{where}, exclude")
    return Tracker(
        name=name,
        description=description,
        include=_rule_set(table, where),
        exclude=_rule_set(exclude, f"{where}, exclude"),
        unknown_language=unknown_language,
    )


def _check_keys(table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(allowed)})"
            raise RuleError(f"{where}: unknown key {key!r}{hint}")


def _rule_set(table: Mapping[str, Any], where: str) -> RuleSet:
    lists = {key: _texts(table.get(key, ()), key, where) for key in (*_LIST_KEYS, "languages")}
    return RuleSet(
        hashtags=lists["hashtags"],
        keywords=lists["keywords"],
        phrases=lists["phrases"],
        accounts=lists["accounts"],
        places=lists["places"],
        bboxes=_bboxes(table.get("bboxes", ()), where),
        languages=lists["languages"],
    )


def _texts(value: Any, key: str, where: str) -> tuple[str, ...]:
    """A list of texts; one text alone is taken as a list of one (a common hand-editing slip)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise RuleError(f'{where}: {key} must be a list of texts in quotes, e.g. {key} = ["one", "two"]')
    return tuple(items)


def _bboxes(value: Any, where: str) -> tuple[BBox, ...]:
    if isinstance(value, str) or (
        isinstance(value, list) and len(value) == 4 and all(isinstance(x, int | float) for x in value)
    ):
        value = [value]  # one box written without the outer list
    if not isinstance(value, list | tuple):
        raise RuleError(f"{where}: bboxes must be a list of boxes, e.g. bboxes = [[44.0, 25.0, 63.3, 39.8]]")
    try:
        return tuple(parse_bbox(item) for item in value)
    except RuleError as exc:
        raise RuleError(f"{where}: {exc}") from None


# -- writing ------------------------------------------------------------------------------------


def dump_trackers(trackers: Iterable[Tracker]) -> str:
    """TOML text for the trackers, which ``parse_trackers`` reads back to the same trackers."""
    parts = [FILE_HEADER]
    for tracker in trackers:
        parts.append(_dump_tracker(tracker))
    return "\n".join(parts)


def _dump_tracker(tracker: Tracker) -> str:
    key = f"trackers.{toml_key(tracker.name)}"
    lines = [f"[{key}]"]
    if tracker.description:
        lines.append(f"description = {toml_string(tracker.description)}")
    lines += _dump_rules(tracker.include)
    if tracker.include.languages or not tracker.unknown_language:
        lines.append(f"unknown_language = {'true' if tracker.unknown_language else 'false'}")
    if not tracker.exclude.is_empty():
        lines += ["", f"[{key}.exclude]", *_dump_rules(tracker.exclude)]
    return "\n".join(lines) + "\n"


def _toml_list(key: str, items: Sequence[str]) -> str:
    """``key = [...]`` on one line, or one item a line when that is easier to read and edit."""
    line = f"{key} = [{', '.join(items)}]"
    if len(line) <= _LINE_LENGTH:
        return line
    return "\n".join([f"{key} = [", *(f"    {item}," for item in items), "]"])


def _dump_rules(rules: RuleSet) -> list[str]:
    lines = [
        _toml_list(key, [toml_string(item) for item in items])
        for key, items in (
            ("hashtags", rules.hashtags),
            ("keywords", rules.keywords),
            ("phrases", rules.phrases),
            ("accounts", rules.accounts),
            ("places", rules.places),
        )
        if items
    ]
    if rules.bboxes:
        lines.append("# bboxes: [west, south, east, north] in degrees")
        lines.append(_toml_list("bboxes", [f"[{', '.join(toml_float(x) for x in box)}]" for box in rules.bboxes]))
    if rules.languages:
        lines.append(_toml_list("languages", [toml_string(lang) for lang in rules.languages]))
    return lines


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    """A bare key when TOML allows one (letters, digits, - and _), else a quoted key."""
    return key if _BARE_KEY.match(key) else toml_string(key)


def toml_float(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"{value} cannot be written to a trackers file")
    return repr(float(value))


def save_trackers(path: Path, trackers: Sequence[Tracker]) -> None:
    """Write the trackers; the previous file is kept as ``<name>.bak``."""
    _write_atomically(Path(path), dump_trackers(trackers))


def save_trackers_text(path: Path, text: str, *, gazetteer: Gazetteer | None = None) -> list[Tracker]:
    """Check TOML text written by hand and, when it is valid, save it as it is (comments kept)."""
    trackers = parse_trackers(text, source=str(path), gazetteer=gazetteer)
    _write_atomically(Path(path), text)
    return trackers


def _write_atomically(path: Path, text: str) -> None:
    """A crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    # Not tempfile.mkstemp: its files are private (0600); this one gets the usual permissions.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def example_trackers_text() -> str:
    """The bundled example file (Iran election 2009)."""
    return resources.files("groundspeed.track").joinpath("data/example-trackers.toml").read_text(encoding="utf-8")
