"""Tracker rules and the matcher that finds which trackers a post belongs to.

A **tracker** follows one crisis ("Iran election 2009") through rules of six kinds:

==========  ==========================================  ===================================
kind        written                                     rule id
==========  ==========================================  ===================================
hashtag     ``IranElection``, ``#iran*``                ``hashtag:iranelection``
keyword     ``Mousavi``, ``mousavi|moosavi|موسوی``      ``keyword:mousavi|moosavi|موسوی``
phrase      ``green movement``, ``جنبش سبز``            ``phrase:green movement``
account     ``@persiankiwi``, ``id:12345``              ``account:persiankiwi``, ``account:id:12345``
place       ``Tehran``, ``تهران``, ``kurdistan-province``  ``place:tehran`` (the gazetteer slug)
bbox        ``[44.0, 25.0, 63.3, 39.8]`` (W, S, E, N)   ``bbox:44.0,25.0,63.3,39.8``
==========  ==========================================  ===================================

and two filters: ``languages`` (rule id ``lang:fa``) and ``unknown_language``.

**Which posts a tracker holds.** A post is in a tracker when

1. it matches at least one *include* rule (any of the six kinds: hashtags, keywords and phrases
   in its text, its author, its coordinates or place text in a place or box), and
2. it passes the language filter: when ``languages`` is set, the post's language must be one of
   them; a post whose language is unknown passes when ``unknown_language`` is true (the default,
   because platforms leave many Persian and Finglish posts without a language, and missing a post
   costs an analyst more than reading one more), and
3. it matches none of the tracker's *exclusions* (``[exclude]`` takes the same six kinds, plus
   ``languages``: posts in those languages are left out).

A tracker with no include rule but a language filter holds every post in those languages (then
posts of unknown language are left out: the language is the only thing that picked them).

**How text is compared.** Post text is already normalised (``groundspeed.text.normalise``: case
folded, Arabic/Persian letter variants folded, ZWNJ removed, Persian digits as ASCII); rule terms
go through the same function, so ``كيهان`` matches ``کیهان`` and ``می‌روم`` matches ``میروم``.

* Keywords and phrases match **whole words**: ``ایران`` does not match ``ایرانی`` (Iranian) or
  ``ایرانها``. Persian attaches suffixes (ها، ی، ای، ام...) to words, so a term may end with
  ``*`` to match words that *start* with it: ``تهران*`` matches ``تهران``, ``تهرانی``,
  ``تهرانیها``. A leading ``*`` matches words that *end* with the term (``*آباد``); both
  (``*نفت*``) match anywhere inside a word.
* ``|`` separates spellings of one keyword: ``mousavi|moosavi|موسوی`` is one rule that matches
  any of them (Finglish spellings, Arabic and Persian forms). Each spelling may use ``*``.
* A phrase is words in that order, separated by single spaces once normalised. Keywords and
  phrases behave the same; phrases are kept apart so a tracker reads clearly.
* Persian writes the parts of a compound with a half-space (ZWNJ), a space, or nothing, so a
  space between two Persian words of a term also matches them joined, and a half-space in a term
  also matches a space: ``احمدی نژاد`` and ``احمدی‌نژاد`` both match ``احمدی‌نژاد``,
  ``احمدی نژاد`` and ``احمدینژاد``.
* Underscores count as spaces in keywords and phrases, since hashtags write spaces as ``_``: the
  phrase ``زن زندگی آزادی`` and the keyword ``آزادی`` match the hashtag ``#زن_زندگی_آزادی``.
  Keywords also match inside hashtags and mentions written in the text (``#mousavi``, ``@mousavi``),
  as on the X streaming API.
* A hashtag rule matches a whole hashtag only (``#iran`` does not match ``#iran_election``; write
  ``#iran*`` for tags that start with ``iran``), from the post's hashtag list or its text.
* Accounts match the post's author, case-insensitively, with or without ``@`` (Mastodon
  ``user@instance.social`` works too); ``id:12345`` matches the platform's author id. Mentions of
  an account are found by a keyword ``@handle``.
* A place matches a post whose coordinates fall in it (a city is a circle, a province or country a
  box), or whose place text (the platform's place name or the author's profile location) names it,
  in Persian or English, or names a major city or a province inside it. A bbox matches coordinates
  only. Coordinates of a platform place larger than about 100 km (a whole country) are not used.

**What a match records.** :meth:`Matcher.match` returns one :class:`TrackerMatch` per tracker
holding the post: the tracker's name and the ids of the rules that matched, in the tracker's
order, then ``lang:xx`` when a language filter let the post in. Rule ids are stable (built from
the normalised rule, not its position), so they can be stored with the post and counted later;
:meth:`Tracker.fingerprint` changes whenever a tracker's definition does, to tell when stored
matches need recomputing.

**How it stays fast.** :class:`Matcher` compiles the terms of *all* trackers into one
Aho-Corasick automaton (pyahocorasick), so text is scanned once however many rules there are;
only the hits get the cheap word-boundary check. ``match_many`` and ``match_fields_many`` scan the
texts of a whole batch in one pass. Authors are a dictionary lookup, places a second small
automaton over place text (cached per distinct text), and coordinates a box test for the few
posts that have them. ``benchmarks/rules.py`` measures it (1,000 rules, 200,000 posts).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NamedTuple

import ahocorasick
import msgspec

from groundspeed.errors import GroundspeedError
from groundspeed.model import Post
from groundspeed.text import normalise, normalise_tag

from .places import BBox, Gazetteer, Place, bbox_contains, default_gazetteer, place_key

RuleKind = Literal["hashtag", "keyword", "phrase", "account", "place", "bbox"]
RULE_KINDS: tuple[RuleKind, ...] = ("hashtag", "keyword", "phrase", "account", "place", "bbox")
MAX_NAME_LENGTH = 100
COARSE_PLACE_DEGREES = 1.0  # a platform place wider than this is a region, its centre means little
_ZWNJ = "\u200c"
_PERSIAN_SPACE_RE = re.compile(r"(?<=[\u0600-\u06ff]) (?=[\u0600-\u06ff])")  # a space between Arabic-script letters
_LANG_RE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*$")
_AUTHOR_ID_PREFIX = "id:"
# Flags of a term's target in the automaton.
_LEFT_OPEN = 1  # "*term": the word may start before the term
_RIGHT_OPEN = 2  # "term*": the word may go on after the term
_TAG = 4  # a hashtag: '_' is part of the word, and the text must hold the '_' the rule has


class RuleError(GroundspeedError):
    """A tracker or one of its rules cannot be used; the message names which and why."""


class TrackerMatch(msgspec.Struct, frozen=True, gc=False):
    """A post is in ``tracker`` because of ``rules`` (rule ids, in the tracker's order)."""

    tracker: str
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Rules of each kind, as written. In a tracker's include set ``languages`` is a filter; in its
    exclude set it leaves out posts in those languages."""

    hashtags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    bboxes: tuple[BBox, ...] = ()
    languages: tuple[str, ...] = ()

    def has_content_rules(self) -> bool:
        return any((self.hashtags, self.keywords, self.phrases, self.accounts, self.places, self.bboxes))

    def is_empty(self) -> bool:
        return not self.has_content_rules() and not self.languages


@dataclass(frozen=True, slots=True)
class Tracker:
    """A named crisis to follow: include rules, filters and exclusions (see the module docstring)."""

    name: str
    description: str = ""
    include: RuleSet = field(default_factory=RuleSet)
    exclude: RuleSet = field(default_factory=RuleSet)
    unknown_language: bool = True

    def fingerprint(self) -> str:
        """A short hash of the definition: when it changes, stored matches need recomputing."""
        canonical = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Term:
    """One spelling of a text rule, normalised; ``key`` is what the automaton looks for."""

    key: str
    flags: int
    exact: str | None = None  # for hashtags with '_': the text must hold this, not spaces


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled rule: ``id`` is stable and is what matches record."""

    kind: RuleKind
    id: str
    written: str
    terms: tuple[Term, ...] = ()
    account: str | None = None  # handle key, or author id when ``by_id``
    by_id: bool = False
    bbox: BBox | None = None
    place: Place | None = None


# -- parsing rules ------------------------------------------------------------------------------


def handle_key(handle: str) -> str:
    """An account handle as compared: lower case, without '@' (``@PersianKiwi`` → ``persiankiwi``)."""
    return handle.lower().lstrip("@") if handle.isascii() else normalise_tag(handle)


def language_key(lang: str | None) -> str | None:
    """The primary language subtag (``fa-IR`` → ``fa``); None for unknown (``und``, empty)."""
    if not lang:
        return None
    key = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    return None if key in ("", "und", "unk", "zxx") else key


def _is_tag_text(tag: str) -> bool:
    return bool(tag) and all(c.isalnum() or c == "_" or unicodedata.category(c).startswith("M") for c in tag)


def _split_star(spelling: str, kind: str, written: str) -> tuple[str, int]:
    flags = 0
    if spelling.endswith("*"):
        flags |= _RIGHT_OPEN
    if spelling.startswith("*"):
        flags |= _LEFT_OPEN
    core = spelling.strip("*").strip()
    if "*" in core:
        raise RuleError(f"{kind} {written!r}: '*' can only start or end a word (تهران* or *آباد)")
    if not core:
        raise RuleError(f"{kind} {written!r} has an empty spelling")
    return core, flags


def _text_terms(kind: RuleKind, spelling: str, written: str) -> list[Term]:
    """The terms for one spelling: the spelling itself first, then its half-space variants."""
    core, flags = _split_star(spelling, kind, written)
    if kind == "hashtag":
        if flags & _LEFT_OPEN:
            raise RuleError(f"hashtag {written!r}: '*' can only end a hashtag (#iran*)")
        tag = normalise_tag(core)
        if not _is_tag_text(tag):
            raise RuleError(f"hashtag {written!r}: a hashtag has only letters, digits and _ (no spaces)")
        return [Term("#" + tag.replace("_", " "), flags | _TAG, "#" + tag if "_" in tag else None)]
    text = normalise(core)
    if not text:
        raise RuleError(f"{kind} {written!r} is empty once normalised (links are not matched)")
    # Persian writes the parts of a compound with a half-space (ZWNJ), a space, or nothing:
    # احمدی‌نژاد, احمدی نژاد, احمدینژاد. Normalising drops the half-space, so a term matches
    # all three: with the half-space as a space, and with spaces between Persian letters removed.
    variants = [text, normalise(core.replace(_ZWNJ, " ")), _PERSIAN_SPACE_RE.sub("", text)]
    return [Term(variant.replace("_", " "), flags) for variant in dict.fromkeys(variants) if variant]


def _term_id(term: Term) -> str:
    text = term.exact or term.key
    if term.flags & _TAG:
        text = text[1:]
    return f"{'*' if term.flags & _LEFT_OPEN else ''}{text}{'*' if term.flags & _RIGHT_OPEN else ''}"


def text_rule(kind: RuleKind, written: str) -> Rule:
    """A hashtag, keyword or phrase rule; ``|`` separates spellings. The id lists each spelling
    as normalised (the half-space variants match too but are not part of the id)."""
    if not written.strip():
        raise RuleError(f"a {kind} is empty")
    spellings = [_text_terms(kind, spelling.strip(), written) for spelling in written.split("|")]
    rule_id = f"{kind}:{'|'.join(dict.fromkeys(_term_id(terms[0]) for terms in spellings))}"
    terms = tuple(dict.fromkeys(term for terms in spellings for term in terms))
    return Rule(kind, rule_id, written, terms=terms)


def account_rule(written: str) -> Rule:
    value = written.strip()
    if value.lower().startswith(_AUTHOR_ID_PREFIX):
        author_id = value[len(_AUTHOR_ID_PREFIX) :].strip()
        if not author_id or any(c.isspace() for c in author_id):
            raise RuleError(f"account {written!r}: write an author id as id:12345")
        return Rule("account", f"account:id:{author_id}", written, account=author_id, by_id=True)
    handle = handle_key(value)
    if not handle or any(c.isspace() for c in handle):
        raise RuleError(f"account {written!r}: write a handle without spaces, e.g. @persiankiwi")
    return Rule("account", f"account:{handle}", written, account=handle)


def parse_bbox(value: Any) -> BBox:
    """A box from ``[west, south, east, north]`` or the text ``"west,south,east,north"``."""
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, Sequence) or len(parts) != 4:
        raise RuleError(f"bbox {value!r}: give four numbers: west, south, east, north (e.g. 44.0,25.0,63.3,39.8)")
    try:
        west, south, east, north = (float(part) for part in parts)
    except (TypeError, ValueError):
        raise RuleError(f"bbox {value!r}: west, south, east, north must be numbers") from None
    if not all(math.isfinite(x) for x in (west, south, east, north)):
        raise RuleError(f"bbox {value!r}: numbers must be finite")
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise RuleError(f"bbox {value!r}: longitudes (west, east) must be between -180 and 180")
    if not (-90 <= south < north <= 90):
        raise RuleError(f"bbox {value!r}: latitudes must be between -90 and 90, south below north")
    if west == east:
        raise RuleError(f"bbox {value!r}: west and east are the same longitude")
    return (west, south, east, north)


def bbox_id(bbox: BBox) -> str:
    return "bbox:" + ",".join(repr(round(float(x), 6)) for x in bbox)


def place_rule(written: str, gazetteer: Gazetteer) -> Rule:
    place = gazetteer.find(written)
    if place is None:
        close = gazetteer.suggest(written)
        hint = f"; did you mean {', '.join(repr(name) for name in close)}?" if close else ""
        raise RuleError(f"place {written!r} is not in the list of places{hint} (or draw a bbox)")
    return Rule("place", f"place:{place.slug}", written, place=place)


def language_rule_id(lang: str) -> str:
    key = language_key(lang)
    if key is None or not _LANG_RE.match(lang.strip().lower()):
        raise RuleError(f"language {lang!r}: use a language code such as fa, en, ar")
    return f"lang:{key}"


def compile_rules(rules: RuleSet, gazetteer: Gazetteer | None = None) -> tuple[Rule, ...]:
    """The content rules of a set, compiled, without duplicates (same id), in the written order."""
    compiled: list[Rule] = []
    compiled += [text_rule("hashtag", item) for item in rules.hashtags]
    compiled += [text_rule("keyword", item) for item in rules.keywords]
    compiled += [text_rule("phrase", item) for item in rules.phrases]
    compiled += [account_rule(item) for item in rules.accounts]
    if rules.places:
        gaz = gazetteer or default_gazetteer()
        compiled += [place_rule(item, gaz) for item in rules.places]
    for item in rules.bboxes:
        box = parse_bbox(item)
        compiled.append(Rule("bbox", bbox_id(box), ",".join(map(str, box)), bbox=box))
    for lang in rules.languages:
        language_rule_id(lang)
    unique: dict[str, Rule] = {}
    for rule in compiled:
        unique.setdefault(rule.id, rule)
    return tuple(unique.values())


def check_name(name: str) -> None:
    if not name or name != name.strip():
        raise RuleError(f"tracker name {name!r}: give a name without spaces around it")
    if len(name) > MAX_NAME_LENGTH:
        raise RuleError(f"tracker name {name[:20]!r}...: at most {MAX_NAME_LENGTH} characters")
    if not name.isprintable():
        raise RuleError(f"tracker name {name!r}: no control characters")


@dataclass(frozen=True, slots=True)
class CompiledTracker:
    tracker: Tracker
    include: tuple[Rule, ...]
    exclude: tuple[Rule, ...]
    languages: frozenset[str]
    excluded_languages: frozenset[str]


def compile_tracker(tracker: Tracker, gazetteer: Gazetteer | None = None) -> CompiledTracker:
    """Check and compile one tracker; :class:`RuleError` names the tracker and the rule."""
    try:
        check_name(tracker.name)
        if tracker.include.is_empty():
            raise RuleError("has no rules: add hashtags, keywords, phrases, accounts, places, bboxes or languages")
        include = compile_rules(tracker.include, gazetteer)
        exclude = compile_rules(tracker.exclude, gazetteer)
    except RuleError as exc:
        raise RuleError(f"tracker {tracker.name!r}: {exc}") from None
    return CompiledTracker(
        tracker,
        include,
        exclude,
        frozenset(language_key(lang) or "" for lang in tracker.include.languages),
        frozenset(language_key(lang) or "" for lang in tracker.exclude.languages),
    )


# -- matching -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Filter:
    """The per-tracker checks made after the rules: exclusions by language, the language filter."""

    languages: frozenset[str]
    excluded_languages: frozenset[str]
    unknown_language: bool
    has_content_rules: bool

    def extra_ids(self, lang: str | None) -> tuple[str, ...] | None:
        """None when the post's language keeps it out; else the ``lang:`` id to record, if any."""
        if lang is not None and lang in self.excluded_languages:
            return None
        if not self.languages:
            return ()
        if lang is None:
            return () if self.unknown_language and self.has_content_rules else None
        return (f"lang:{lang}",) if lang in self.languages else None


def _bounded(text: str, start: int, stop: int, flags: int) -> bool:
    """Whether text[start:stop] is a whole word (or the open end of a '*' term)."""
    if not flags & _LEFT_OPEN and start > 0:
        before = text[start - 1]
        if before.isalnum() or (flags & _TAG and before == "_"):
            return False
    if not flags & _RIGHT_OPEN and stop < len(text):
        after = text[stop]
        if after.isalnum() or (flags & _TAG and after == "_"):
            return False
    return True


# Per automaton key, the rule slots that use it, grouped by how a hit is checked, so that a term
# shared by many trackers is checked once: whole words (the common case, checked inline), then
# groups of (flags, exact text, slots) for '*' terms and hashtags.
_Group = tuple[int, str | None, tuple[int, ...]]
_KeyValue = tuple[int, tuple[int, ...], tuple[_Group, ...]]  # key length, whole-word slots, other groups


# pyahocorasick finds a node's children by a linear search, in the order they were added. At the
# root, where the scan returns after every failed match, that search runs for almost every
# character of a post: with terms in three scripts the root has ~100 children. Adding the most
# common characters of post text first (as keys ending in NUL, which normalised text never holds)
# puts them at the front of the root's list; it made the scan ~25% faster.
_COMMON_CHARACTERS = "".join(
    dict.fromkeys(" ایرنeوaهدiمoتبnسrtلکsشزاlگcفuخdقmجhعpپgحbچfصyطwغkضvظثxذjژqzآ0123456789#@.,:!?-/()\"'«»")
)
_NEVER = "\x00"


class _TermIndex:
    """An Aho-Corasick automaton from term keys to the rule slots that use them."""

    def __init__(self) -> None:
        self._slots: dict[str, dict[tuple[int, str | None], list[int]]] = {}
        self.automaton: Any = None

    def add(self, key: str, flags: int, exact: str | None, slot: int) -> None:
        self._slots.setdefault(key, {}).setdefault((flags, exact), []).append(slot)

    def build(self) -> None:
        if not self._slots:
            return
        automaton = ahocorasick.Automaton()
        for character in _COMMON_CHARACTERS:
            automaton.add_word(character + _NEVER, (2, (), ()))
        for key, groups in self._slots.items():
            whole = tuple(groups.get((0, None), ()))
            others = tuple((flags, exact, tuple(slots)) for (flags, exact), slots in groups.items() if flags or exact)
            value: _KeyValue = (len(key), whole, others)
            automaton.add_word(key, value)
        automaton.make_automaton()
        self.automaton = automaton
        self._slots = {}  # the automaton holds it all now


_EMPTY: tuple[int, ...] = ()
_MEMO_LIMIT = 65_536
_BATCH = 2_048  # posts scanned together by match_many


class PostFields(NamedTuple):
    """The parts of a post the rules look at, e.g. from a database row.

    ``text`` must be normalised (``groundspeed.text.normalise``), as ``Post.text`` is; hashtags
    as written (with or without '#'); ``location`` is the author's profile location;
    ``place_bbox`` the box of the platform's place, whose centre ``lat``/``lon`` are not used when
    the box is a whole region.
    """

    text: str | None
    hashtags: Sequence[str] = ()
    handle: str | None = None
    author_id: str | None = None
    lang: str | None = None
    lat: float | None = None
    lon: float | None = None
    place_name: str | None = None
    location: str | None = None
    place_bbox: BBox | None = None


_Row = tuple[
    str | None,
    Sequence[str],
    str | None,
    str | None,
    str | None,
    float | None,
    float | None,
    str | None,
    str | None,
    BBox | None,
]  # the fields of PostFields, as a plain tuple (building a NamedTuple per post costs ~0.5 µs)


def post_fields(post: Post) -> PostFields:
    """The parts of a post the rules look at."""
    return PostFields._make(_post_row(post))


def _post_row(post: Post) -> _Row:
    geo = post.geo
    author = post.author
    if geo is None:
        return (post.text, post.hashtags, author.handle, author.id, post.lang, None, None, None, author.location, None)
    return (
        post.text,
        post.hashtags,
        author.handle,
        author.id,
        post.lang,
        geo.lat,
        geo.lon,
        geo.place_name,
        author.location,
        geo.bbox,
    )


class Matcher:
    """Every tracker's rules compiled together; ``match`` says which trackers hold a post.

    Build one per set of trackers (it is immutable and safe to share between threads; its small
    caches only ever hold answers that do not change).
    """

    def __init__(self, trackers: Iterable[Tracker], *, gazetteer: Gazetteer | None = None) -> None:
        self.trackers = tuple(trackers)
        self._names = [tracker.name for tracker in self.trackers]
        duplicates = sorted(name for name, count in Counter(self._names).items() if count > 1)
        if duplicates:
            raise RuleError(f"two trackers are called {duplicates[0]!r}: tracker names must differ")
        if any(tracker.include.places or tracker.exclude.places for tracker in self.trackers):
            gazetteer = gazetteer or default_gazetteer()
        self._slot_tracker: list[int] = []
        self._slot_rule: list[str] = []
        self._slot_excludes: list[bool] = []
        self._terms = _TermIndex()
        self._hashtag_slots: set[int] = set()
        self._place_names = _TermIndex()
        self._handles: dict[str, list[int]] = {}
        self._author_ids: dict[str, list[int]] = {}
        self._geo: list[tuple[BBox, Place | None, int]] = []
        self._filters: list[_Filter] = []
        self._filter_only: list[int] = []
        for index, tracker in enumerate(self.trackers):
            self._add_tracker(index, compile_tracker(tracker, gazetteer), gazetteer)
        self._terms.build()
        self._place_names.build()
        self._tag_slots: dict[str, tuple[int, ...]] = {}
        self._handle_slots: dict[str, tuple[int, ...]] = {}
        self._place_text: dict[str, tuple[int, ...]] = {}
        self._decided: dict[tuple[str | int | None, ...], tuple[TrackerMatch, ...]] = {}
        # Per language as the post gives it: each tracker's filter answer (languages are few).
        self._language_results: dict[str | None, list[tuple[str, ...] | None]] = {}

    # building

    def _add_tracker(self, index: int, compiled: CompiledTracker, gazetteer: Gazetteer | None) -> None:
        for rule in compiled.include:
            self._add_rule(index, rule, gazetteer, exclude=False)
        for rule in compiled.exclude:
            self._add_rule(index, rule, gazetteer, exclude=True)
        has_content = bool(compiled.include)
        self._filters.append(
            _Filter(compiled.languages, compiled.excluded_languages, compiled.tracker.unknown_language, has_content)
        )
        if not has_content:
            self._filter_only.append(index)

    def _add_rule(self, tracker: int, rule: Rule, gazetteer: Gazetteer | None, *, exclude: bool) -> None:
        slot = len(self._slot_tracker)
        self._slot_tracker.append(tracker)
        self._slot_rule.append(rule.id)
        self._slot_excludes.append(exclude)
        for term in rule.terms:
            self._terms.add(term.key, term.flags, term.exact, slot)
        if rule.kind == "hashtag":
            self._hashtag_slots.add(slot)
        if rule.account is not None:
            accounts = self._author_ids if rule.by_id else self._handles
            accounts.setdefault(rule.account, []).append(slot)
        if rule.bbox is not None:
            self._geo.append((rule.bbox, None, slot))
        if rule.place is not None:
            self._geo.append((rule.place.bbox, rule.place, slot))
            assert gazetteer is not None  # a place rule was compiled with one
            self._add_place_names(rule.place, slot, gazetteer)

    def _add_place_names(self, place: Place, slot: int, gazetteer: Gazetteer) -> None:
        """The place's own spellings, and those of major places and provinces inside it."""
        named = [place, *(inner for inner in gazetteer.inside(place.slug) if inner.major)]
        for each in named:
            for key in dict.fromkeys(place_key(name) for name in each.names):
                if key:
                    self._place_names.add(key, 0, None, slot)

    # matching

    def match(self, post: Post) -> list[TrackerMatch]:
        """The trackers that hold this post (its ``text`` is normalised, as importers store it)."""
        return self._match_batch([_post_row(post)])[0]

    def match_fields(
        self,
        text: str | None,
        hashtags: Sequence[str] = (),
        handle: str | None = None,
        author_id: str | None = None,
        lang: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        place_name: str | None = None,
        *,
        location: str | None = None,
        place_bbox: BBox | None = None,
    ) -> list[TrackerMatch]:
        """``match`` from a post's pieces (e.g. a database row); see :class:`PostFields`."""
        fields = PostFields(text, hashtags, handle, author_id, lang, lat, lon, place_name, location, place_bbox)
        return self._match_batch([fields])[0]

    def match_many(self, posts: Iterable[Post]) -> list[list[TrackerMatch]]:
        """``match`` for each post, in order; faster than one by one (the texts of a batch are
        scanned together)."""
        return self._match_rows(_post_row(post) for post in posts)

    def match_fields_many(self, rows: Iterable[PostFields]) -> list[list[TrackerMatch]]:
        """``match_fields`` for each row, in order: the entry point for a backfill from stored posts."""
        return self._match_rows(rows)

    def _match_rows(self, rows: Iterable[_Row]) -> list[list[TrackerMatch]]:
        results: list[list[TrackerMatch]] = []
        batch: list[_Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) == _BATCH:
                results += self._match_batch(batch)
                batch = []
        if batch:
            results += self._match_batch(batch)
        return results

    def _match_batch(self, rows: Sequence[_Row]) -> list[list[TrackerMatch]]:
        # The hot loop: memo lookups are inlined (a method call per post and field costs more
        # than the lookup), and each kind of rule is skipped when no tracker uses it.
        scan = self._terms.automaton is not None
        texts = [row[0] or "" for row in rows]
        ends, in_texts = self._text_hits(texts) if scan else ([], [])
        ends.append(sys.maxsize)  # a sentinel past the last text
        next_hit = 0
        text_end = -1  # where the current post's text ends in the joined texts
        tag_memo, handle_memo, place_memo = self._tag_slots, self._handle_slots, self._place_text
        by_handle, by_author_id, geo = bool(self._handles), bool(self._author_ids), self._geo
        by_place_text = self._place_names.automaton is not None
        always = bool(self._filter_only)
        results: list[list[TrackerMatch]] = []
        scratch: list[int] = []
        for index, row in enumerate(rows):
            _text, hashtags, handle, author_id, lang, lat, lon, place_name, location, place_bbox = row
            # One list reused for every post (_decide copies what it keeps): a new list per post
            # is work for the garbage collector, measurable at 200,000 posts.
            hits = scratch
            hits.clear()
            text_end += len(texts[index]) + 1
            while ends[next_hit] < text_end:
                hits += in_texts[next_hit]
                next_hit += 1
            if hashtags and scan:
                for tag in hashtags:
                    found = tag_memo.get(tag)
                    hits += self._hashtag_hits(tag) if found is None else found
            if handle and by_handle:
                found = handle_memo.get(handle)
                hits += self._handle_hits(handle) if found is None else found
            if author_id is not None and by_author_id:
                hits += self._author_ids.get(str(author_id), _EMPTY)
            if lat is not None and lon is not None and geo and not _coarse(place_bbox):
                hits += [slot for box, place, slot in geo if _in_shape(box, place, lat, lon)]
            if by_place_text:
                if place_name:
                    found = place_memo.get(place_name)
                    hits += self._place_text_hits(place_name) if found is None else found
                if location:
                    found = place_memo.get(location)
                    hits += self._place_text_hits(location) if found is None else found
            results.append(self._decide(hits, lang) if hits or always else [])
        return results

    def _handle_hits(self, handle: str) -> tuple[int, ...]:
        slots = self._handle_slots.get(handle)
        if slots is None:
            if len(self._handle_slots) >= _MEMO_LIMIT:
                self._handle_slots.clear()
            slots = self._handle_slots[handle] = tuple(self._handles.get(handle_key(handle), _EMPTY))
        return slots

    def _text_hits(self, texts: list[str]) -> tuple[list[int], list[tuple[int, ...]]]:
        """Where rule terms end in the texts joined by newlines, and the slots found there, in
        text order (:meth:`_match_batch` hands them out to the posts as it walks along).

        The texts are scanned in one pass: the automaton's per-call cost and the Python loop then
        run per hit rather than per post. No term holds a newline (terms are normalised, which
        turns every run of whitespace into one space), so no hit spans two posts, and a newline is
        a word boundary like any other.
        """
        joined = "\n".join(texts)
        spaced = joined.replace("_", " ") if "_" in joined else joined
        length = len(spaced)
        ends: list[int] = []
        found: list[tuple[int, ...]] = []
        for end, (size, whole, others) in self._terms.automaton.iter(spaced):
            start = end - size + 1
            stop = end + 1
            if (
                whole
                and (start == 0 or not spaced[start - 1].isalnum())
                and (stop == length or not spaced[stop].isalnum())
            ):
                ends.append(end)
                found.append(whole)
            for flags, exact, slots in others:
                if flags & _TAG:
                    accept = (exact is None or joined[start:stop] == exact) and _bounded(joined, start, stop, flags)
                else:
                    accept = _bounded(spaced, start, stop, flags)
                if accept:
                    ends.append(end)
                    found.append(slots)
        return ends, found

    def _hashtag_hits(self, tag: str) -> tuple[int, ...]:
        """Hashtag rules that match one of the post's hashtags (a tag the text may have lost, as
        in a truncated retweet): the tag is scanned as the text ``#tag``, once per distinct tag."""
        slots = self._tag_slots.get(tag)
        if slots is None:
            if len(self._tag_slots) >= _MEMO_LIMIT:
                self._tag_slots.clear()
            _, found = self._text_hits(["#" + normalise_tag(tag)])
            hashtag_slots = self._hashtag_slots
            slots = self._tag_slots[tag] = tuple(slot for group in found for slot in group if slot in hashtag_slots)
        return slots

    def _place_text_hits(self, text: str) -> tuple[int, ...]:
        slots = self._place_text.get(text)
        if slots is None:
            key = place_key(text)
            found = [
                slot
                for end, (length, whole, _) in self._place_names.automaton.iter(key)
                if _bounded(key, end - length + 1, end + 1, 0)
                for slot in whole
            ]
            if len(self._place_text) >= _MEMO_LIMIT:
                self._place_text.clear()
            slots = self._place_text[text] = tuple(dict.fromkeys(found))
        return slots

    def _decide(self, hits: list[int], lang: str | None) -> list[TrackerMatch]:  # lang as the post has it
        """The trackers holding a post, from its rule hits and language. The answer depends on
        nothing else, and the same few combinations come back again and again (a hashtag and a
        language), so answers are remembered."""
        key = (lang, *hits)
        decided = self._decided.get(key)
        if decided is None:
            if len(self._decided) >= _MEMO_LIMIT:
                self._decided.clear()
            decided = self._decided[key] = self._group(hits, lang)
        return list(decided)

    def _group(self, hits: list[int], lang: str | None) -> tuple[TrackerMatch, ...]:
        """Group rule hits by tracker, drop excluded trackers, apply the language filters.

        Slots are numbered tracker by tracker, includes before exclusions, so sorted hits come
        grouped by tracker and in each tracker's rule order.
        """
        extras = self._language_results.get(lang)
        if extras is None:
            extras = self._language_filter(lang)
        slot_tracker, slot_rule, slot_excludes = self._slot_tracker, self._slot_rule, self._slot_excludes
        found: list[tuple[int, list[str]]] = []  # tracker, include rule ids
        excluded: set[int] = set()
        current = -1
        rules: list[str] = []
        for slot in sorted(set(hits)):
            tracker = slot_tracker[slot]
            if slot_excludes[slot]:
                excluded.add(tracker)
            elif tracker != current:
                current = tracker
                rules = [slot_rule[slot]]
                found.append((tracker, rules))
            else:
                rules.append(slot_rule[slot])
        if self._filter_only:
            found += [(tracker, []) for tracker in self._filter_only]
            found.sort(key=lambda item: item[0])
        matches: list[TrackerMatch] = []
        for tracker, rule_ids in found:
            extra = extras[tracker]
            if extra is not None and tracker not in excluded:
                matches.append(TrackerMatch(self._names[tracker], (*rule_ids, *extra)))
        return tuple(matches)

    def _language_filter(self, lang: str | None) -> list[tuple[str, ...] | None]:
        """Each tracker's language answer for a post language, as written by the platform."""
        if len(self._language_results) >= _MEMO_LIMIT:
            self._language_results.clear()
        key = language_key(lang)
        extras = self._language_results[lang] = [each.extra_ids(key) for each in self._filters]
        return extras


def _coarse(bbox: BBox | None) -> bool:
    if bbox is None:
        return False
    west, south, east, north = bbox
    return abs(east - west) > COARSE_PLACE_DEGREES or abs(north - south) > COARSE_PLACE_DEGREES


def _in_shape(box: BBox, place: Place | None, lat: float, lon: float) -> bool:
    return bbox_contains(box, lat, lon) and (place is None or place.contains(lat, lon))


def compile_trackers(trackers: Iterable[Tracker], *, gazetteer: Gazetteer | None = None) -> Matcher:
    """Shorthand for ``Matcher(trackers)``."""
    return Matcher(trackers, gazetteer=gazetteer)
