"""The shipped world gazetteer for finding places in post text, and the folding its names share
with the text they are matched against.

``data/gazetteer.json.gz`` is built by ``scripts/build_gazetteer.py`` (sources and licences in
``data/README.md``). It holds *entries* (a place: name, kind, centre, country, population) and
*names* (a folded spelling and the entries it may mean). Text is folded with
:func:`fold_aligned`, which keeps every character where it was, so a match in the folded text is a
span of the original text without an offset map in the common case.

Folding is the same as :func:`groundspeed.text.fold` (case, Arabic/Persian letter variants,
digits) except that it must keep the length, so the zero-width non-joiner that Persian writes
inside compound names and the underscore that hashtags write for spaces both become a space
(names are stored with a spaced and a joined spelling); characters that ``fold`` removes
(harakat, tatweel, bidi marks) are dropped on a slower path that keeps an offset map.
"""

from __future__ import annotations

import functools
import gzip
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, overload

import msgspec

from groundspeed.text import FOLD_TABLE

FORMAT_VERSION = 2
_SPACE_LIKE = "\u200c_-"  # ZWNJ, underscore, hyphen: a space for matching, one character each
_ONE_TO_ONE: dict[int, str] = {
    cp: target for cp, target in FOLD_TABLE.items() if target is not None and len(target) == 1
}
for _char in _SPACE_LIKE:
    _ONE_TO_ONE[ord(_char)] = " "
# Characters ``fold`` deletes (FOLD_TABLE maps them to None) and Arabic presentation forms (NFKC
# turns one into several letters): texts with them take the slow, offset-mapping path.
_REMOVED = "".join(chr(cp) for cp, target in FOLD_TABLE.items() if target is None and chr(cp) not in _SPACE_LIKE)
_REMOVED_SET = frozenset(_REMOVED)
_REMOVE_RE = re.compile("[" + re.escape(_REMOVED) + "]")
_PRESENTATION_RE = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]")
_SLOW_RE = re.compile("[" + re.escape(_REMOVED) + "\ufb50-\ufdff\ufe70-\ufefe]")
_ONE_TO_ONE_CHARS = {chr(cp): target for cp, target in _ONE_TO_ONE.items()}
_FOLDABLE_RE = re.compile("[" + re.escape("".join(_ONE_TO_ONE_CHARS)) + "]")
_WORD_RE = re.compile(r"\w+")
_ARABIC_SCRIPT_RE = re.compile("[\u0600-\u06ff]")


def fold_aligned(text: str) -> tuple[str, list[int] | None]:
    """The text folded for matching, and where each folded character came from.

    The map is None when the folded text has the original's length, character for character (the
    fast and usual case); otherwise ``positions[i]`` is the original index of folded character
    ``i``, with one extra entry for the end.
    """
    if text.isascii():
        lowered = text.lower()
        if "_" in lowered or "-" in lowered:
            lowered = lowered.replace("_", " ").replace("-", " ")
        return lowered, None
    if _SLOW_RE.search(text) is None:
        folded = _fold_letters(text.lower())
        if len(folded) == len(text):
            return folded, None
        return _fold_mapped(text)
    if _PRESENTATION_RE.search(text) is None:
        # Only deletions (harakat, bidi marks, emoji variation selectors): keep the others' places.
        positions = [index for index, char in enumerate(text) if char not in _REMOVED_SET]
        kept = _REMOVE_RE.sub("", text)
        folded = _fold_letters(kept.lower())
        if len(folded) == len(kept):
            positions.append(len(text))
            return folded, positions
    return _fold_mapped(text)


def _fold_letters(text: str) -> str:
    """Arabic/Persian letter variants, digits and space-like characters, one for one. The few
    distinct characters to change are found with a regex and replaced: much faster than
    ``str.translate`` with a dictionary on Arabic-script text."""
    for char in set(_FOLDABLE_RE.findall(text)):
        text = text.replace(char, _ONE_TO_ONE_CHARS[char])
    return text


def _fold_mapped(text: str) -> tuple[str, list[int]]:
    """The slow path, character by character: NFKC can turn one presentation form into several
    letters, so each folded character records the original index it came from."""
    parts: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        if char in _REMOVED_SET:
            continue
        out = _fold_letters(unicodedata.normalize("NFKC", "I" if char == "İ" else char).lower())
        for folded_char in out:
            if folded_char not in _REMOVED_SET:
                parts.append(folded_char)
                positions.append(index)
    positions.append(len(text))
    return "".join(parts), positions


def name_key(name: str) -> str:
    """A gazetteer spelling as matched: folded like text, marks removed, spaces single."""
    folded, _ = fold_aligned(unicodedata.normalize("NFKC", name).replace("İ", "I"))
    return " ".join(_WORD_RE.findall(folded))


def name_keys(name: str) -> list[str]:
    """Every key a spelling is matched by: itself, without Latin accents (``Cancún`` →
    ``cancun``), and multi-word names also joined, as hashtags and Persian write them
    (``#PuertoRico``, ``اسلامشهر``)."""
    key = name_key(name)
    if not key:
        return []
    keys = [key]
    plain = "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
    if plain.isascii() and plain != key:
        keys.append(unicodedata.normalize("NFC", plain))
    for spelled in list(keys):
        if " " in spelled:
            keys.append(spelled.replace(" ", ""))
    return list(dict.fromkeys(k for k in keys if k))


def is_arabic_script(text: str) -> bool:
    return _ARABIC_SCRIPT_RE.search(text) is not None


@dataclass(frozen=True, slots=True)
class Entry:
    """One place of the gazetteer."""

    name: str  # English where known
    kind: str  # continent, region, country, state, province, county, city, landmark
    lat: float | None
    lon: float | None
    country_code: str | None
    population: int


@dataclass(frozen=True, slots=True)
class NameInfo:
    """A folded spelling: the entries it may mean (best first) and what is known about it.

    ``common`` marks spellings that are also ordinary words (``reading``, ``آزادی``, from word
    frequency lists). ``exact`` is the only letter case in which the spelling counts (``US``,
    ``TX``), for abbreviations. A spelling with no entries was learned from training data: a
    place, but not one the sources have.
    """

    entries: tuple[int, ...]
    common: bool = False
    exact: str | None = None


@dataclass(frozen=True, slots=True)
class Priors:
    """How likely a gazetteer spelling found in text is a place mention, counted on training
    data (see ``scripts/build_gazetteer.py``).

    Rates are per *group* (``en`` for Latin-script spellings, ``ar`` and ``fa`` for Arabic-script
    spellings in Arabic and Persian text) and per *tag* (``1`` when the name is written as a
    hashtag): ``defaults`` by kind of place (``country``, ``state``, ``bigcity``...) and whether
    the spelling is an everyday word, ``rates`` for spellings seen often enough on their own.
    ``context_odds`` multiplies the odds when a word such as "in", "در", "في" comes just before;
    ``lower_odds`` when an English name is written in lower case.
    """

    defaults: dict[str, float]
    rates: dict[str, float]
    context_odds: dict[str, float]
    lower_odds: dict[str, float]


class Entries(Sequence[Entry]):
    """The entries, made into :class:`Entry` objects only when looked at (there are 180,000;
    a post looks at a handful)."""

    def __init__(self, columns: dict[str, Any]) -> None:
        self._kinds: list[str] = columns["kinds"]
        self._name: list[str] = columns["name"]
        self._kind: list[int] = columns["kind"]
        self._lat: list[int | None] = columns["lat"]
        self._lon: list[int | None] = columns["lon"]
        self._cc: list[str] = columns["cc"]
        self._pop: list[int] = columns["pop"]
        self._made: dict[int, Entry] = {}

    def __len__(self) -> int:
        return len(self._name)

    def _make(self, index: int) -> Entry:
        lat, lon = self._lat[index], self._lon[index]
        return Entry(
            name=self._name[index],
            kind=self._kinds[self._kind[index]],
            lat=None if lat is None else lat / 1000,
            lon=None if lon is None else lon / 1000,
            country_code=self._cc[index] or None,
            population=self._pop[index],
        )

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Entry]: ...
    def __getitem__(self, index: int | slice) -> Entry | Sequence[Entry]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        made = self._made.get(index)
        if made is None:
            made = self._made[index] = self._make(index)
        return made


class Names(Mapping[str, NameInfo]):
    """Spellings and what they mean, made into :class:`NameInfo` only when looked at."""

    def __init__(self, ids: dict[str, list[int]], common: frozenset[str], exact: dict[str, str]) -> None:
        self._ids = ids
        self._common = common
        self._exact = exact
        self._made: dict[str, NameInfo] = {}

    def __getitem__(self, key: str) -> NameInfo:
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = NameInfo(tuple(self._ids[key]), key in self._common, self._exact.get(key))
        return made

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> dict[str, list[int]]:
        """Entry numbers by spelling, as stored (fast membership tests)."""
        return self._ids

    @property
    def exact(self) -> dict[str, str]:
        """Abbreviations: folded key -> the only spelling that counts."""
        return self._exact


@dataclass(frozen=True, slots=True)
class GazetteerData:
    entries: Sequence[Entry]
    names: Names
    priors: Priors
    context: dict[str, tuple[str, ...]]  # words that announce a place, per script
    not_before: tuple[str, ...]  # words after which a name is not a place ("hurricane")
    prefixes: dict[str, tuple[str, ...]]  # per group: words before a name that are part of it


def gazetteer_from_json(raw: dict[str, Any]) -> GazetteerData:
    if raw.get("format") != FORMAT_VERSION:
        msg = f"gazetteer format {raw.get('format')!r}, expected {FORMAT_VERSION}: run scripts/build_gazetteer.py"
        raise ValueError(msg)
    names = Names(raw["names"], frozenset(raw.get("common", ())), dict(raw.get("exact", {})))
    priors_raw = raw.get("priors", {})
    priors = Priors(
        defaults={k: float(v) for k, v in priors_raw.get("defaults", {}).items()},
        rates={k: float(v) for k, v in priors_raw.get("rates", {}).items()},
        context_odds={k: float(v) for k, v in priors_raw.get("context_odds", {}).items()},
        lower_odds={k: float(v) for k, v in priors_raw.get("lower_odds", {}).items()},
    )
    context = {script: tuple(words) for script, words in raw.get("context", {}).items()}
    prefixes = {group: tuple(words) for group, words in raw.get("prefixes", {}).items()}
    return GazetteerData(Entries(raw["entries"]), names, priors, context, tuple(raw.get("not_before", ())), prefixes)


@functools.cache
def shipped_gazetteer() -> GazetteerData:
    """The gazetteer that ships with groundspeed, read once."""
    data = resources.files("groundspeed.understand").joinpath("data/gazetteer.json.gz").read_bytes()
    raw: dict[str, Any] = msgspec.json.decode(gzip.decompress(data))
    return gazetteer_from_json(raw)
