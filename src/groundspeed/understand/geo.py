"""Places: where a post is, from its geotag, its place field, the places its text names, or its
author's profile location.

**Finding place names in text.** Every spelling in the shipped gazetteer (English, Arabic,
Persian and Finglish, see ``data/README.md``) is compiled into one Aho-Corasick automaton, each
spelling between two spaces, and matched against the text folded the same way (case,
Arabic/Persian letters, digits; every character that is not a letter or digit becomes a space,
one for one, so offsets hold): a post is scanned once, in C, and only whole words match. In
Arabic script one or two attached letters may come before a name (و ب ل ف ک: "and", "in",
"to"...) and in English a possessive ``s`` may follow it (``Mexicos``): in texts that may hold such
words, the words with those letters are found by a regex and looked up without them. A name inside a hashtag of several words
(``#Kuwait_rain``) names a topic and is not counted.

**Is it a place?** Many place names are also words ("Reading", "Mobile", آزادی "freedom"). Each
match gets a probability of being a place mention from counts on training data
(:class:`~groundspeed.understand.gazetteer.Priors`): the spelling's own rate where it was seen
often enough, otherwise the rate for its kind of place (country, state, big city, town...) in
that language, as a hashtag or not, and whether it is an everyday word. The odds are multiplied
when a word that announces a place comes just before (in, at, near; در، به، از؛ في، إلى، مدينة)
or the name continues a list of places ("Mashhad and Esfahan"), and divided when an English name
is written in lower case. A name right after "hurricane", "cyclone", "storm" is a storm's name.
Matches under :data:`MIN_CONFIDENCE` are dropped. A word for a kind of place that annotators
count as part of the name (منطقة، مدينة، محافظة؛ خیابان، میدان) joins the span.

**Which place?** A spelling may name several places (Paris, France and Paris, Texas). The
likeliest is the larger (a country or state over a city of the same name, then population), the
one in the country of the post's geotag, and the one in a country that other places of the same
post are in.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick

from groundspeed.model import Geo, Post

from .gazetteer import Entry, GazetteerData, NameInfo, fold_aligned, name_key, shipped_gazetteer

MIN_CONFIDENCE = 0.5  # a mention must score at least this to be reported
_PRIOR_UNKNOWN = 0.5  # no training count for this kind of name in this language
_CACHE_SIZE = 100_000  # remembered priors and readings, at most
_CLITICS = frozenset("وبلفک")
_ARABIC_FIRST = "\u0600"  # keys start with a Latin or an Arabic-script letter
_BIG_CITY = 100_000
_MEGACITY = 1_000_000
_CONJUNCTIONS = frozenset(("and", "or", "&", "و", "یا", "او"))
_PERSIAN_RE = re.compile("[پچژگیک]")  # Persian letters (Arabic writes ي and ك, not ی and ک)
_KIND_WEIGHT = {
    "continent": 3.0,
    "country": 3.0,
    "region": 2.0,
    "state": 1.5,
    "province": 1.5,
    "landmark": 2.0,
    "county": 0.5,
    "city": 0.0,
}
_SAME_COUNTRY_AS_GEOTAG = 2.5
_SAME_COUNTRY_AS_OTHERS = 1.5
_PERSIAN_IN_IRAN = 1.0
_QUALIFIED = 4.0  # "Paris, Texas"
PRECISION_BY_KIND = {
    "landmark": "point",
    "city": "city",
    "county": "province",
    "state": "province",
    "province": "province",
    "country": "country",
    "region": "region",
    "continent": "region",
}
# How much a text mention of each kind says about where the post is (a city is more useful than
# the country it is in), used to pick the post's place among its mentions.
_SPECIFICITY = {"landmark": 1.0, "city": 0.95, "province": 0.85, "state": 0.85, "county": 0.9, "country": 0.7}
_SOURCE_CONFIDENCE = {"geotag": 0.95, "place": 0.85, "text": 0.8, "profile": 0.5}


@dataclass(frozen=True, slots=True)
class PlaceMention:
    """A place named in a text: where (character offsets into the text given), which place the
    gazetteer thinks it is, and how sure that it is a place and that place (0-1)."""

    start: int
    end: int
    text: str
    name: str
    kind: str
    lat: float | None
    lon: float | None
    country_code: str | None
    confidence: float


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a post is, which source said so (``geotag``, ``place``, ``text``, ``profile``), at
    what precision (``point``, ``place``, ``city``, ``province``, ``country``, ``region``) and
    how sure (0-1)."""

    lat: float
    lon: float
    name: str | None
    country_code: str | None
    precision: str
    source: str
    confidence: float


class Observation(NamedTuple):
    """A gazetteer spelling found in text, with what its prior depends on."""

    start: int
    end: int
    key: str
    group: str  # en, ar or fa: which training counts apply
    tag: bool  # written as a hashtag
    context: bool  # a word like "in", "در", "في" just before
    lower: bool  # an English name in lower case


def word_class(key: str, info: NameInfo) -> int:
    """0: a name of one word, 1: an everyday word, 2: a name of several words (rarely anything
    but a place: "Puerto Rico", "میدان آزادی")."""
    if info.common:
        return 1
    return 2 if " " in key else 0


def bucket(entries: Sequence[Entry], info: NameInfo) -> str:
    """The kind of place a spelling most likely names, for the default priors."""
    if not info.entries:
        return "learned"
    entry = entries[info.entries[0]]
    if entry.kind == "city":
        if entry.population >= _MEGACITY:
            return "megacity"
        return "bigcity" if entry.population >= _BIG_CITY else "city"
    return entry.kind


@dataclass(slots=True)
class _Match:
    start: int
    end: int
    info: NameInfo
    score: float


class Geocoder:
    """Finds place mentions in text and places posts (see the module docstring)."""

    def __init__(self, data: GazetteerData) -> None:
        self._entries = data.entries
        self._names = data.names
        # Compared with words of folded text, so folded the same way (في is فی once folded).
        self._latin_context = frozenset(name_key(word) for word in data.context.get("latin", ()))
        self._arabic_context = frozenset(name_key(word) for word in data.context.get("arabic", ()))
        self._not_before = frozenset(name_key(word) for word in data.not_before)
        self._priors = data.priors
        self._prefixes = {group: frozenset(name_key(w) for w in words) for group, words in data.prefixes.items()}
        # Spellings by their first word, with the most words a spelling starting with it has:
        # text is split into words by one regex, and only words that can start a name are
        # looked at further.
        exact_spellings = data.names.exact
        starts: dict[str, tuple[int, ...]] = {}
        single = (1,)
        for key in data.names:
            if key in exact_spellings:  # abbreviations (US, TX): a case-sensitive regex finds them
                continue
            if " " not in key:
                if key not in starts:
                    starts[key] = single
                elif 1 not in starts[key]:
                    starts[key] = (*starts[key], 1)
                continue
            head, _, rest = key.partition(" ")
            size = rest.count(" ") + 2
            known = starts.get(head, ())
            if size not in known:
                starts[head] = tuple(sorted((*known, size), reverse=True))  # longest first
        self._starts = starts
        automaton = ahocorasick.Automaton()
        for key in data.names:
            if key not in exact_spellings:
                automaton.add_word(f" {key} ", key)
        automaton.make_automaton()
        self._automaton = automaton
        self._spellings = _Spellings(data.names.ids, exact_spellings)  # abbreviations excepted
        self._most_words = max((size for sizes in starts.values() for size in sizes), default=1)
        self._exact_keys = {spelling: key for key, spelling in exact_spellings.items()}
        self._ids = data.names.ids
        exact = list(exact_spellings.values())
        pattern = "|".join(re.escape(spelling) for spelling in sorted(exact, key=len, reverse=True))
        # A spelling must not follow a letter, a digit or a dot. When every spelling is made of
        # such characters, no match can begin inside a match that follows one, so the regex can
        # leave out that look-behind (which keeps it from skipping ahead to a possible first
        # letter) and matches after a word are dropped afterwards: the same matches, faster.
        self._exact_unanchored = all(_after_word(char) for spelling in exact for char in spelling)
        if not exact:
            self._exact_re = None
        elif self._exact_unanchored:
            self._exact_re = re.compile(rf"(?:{pattern})(?![\w])")
        else:
            self._exact_re = re.compile(rf"(?<![\w.])(?:{pattern})(?![\w])")
        self._scores: dict[tuple[str, str, bool, bool, bool], float] = {}  # priors by what they depend on
        self._choices: dict[tuple[int, ...], list[tuple[int, float, str | None, bool, bool]]] = {}  # by spelling

    @classmethod
    def load(cls) -> Geocoder:
        """The shipped gazetteer (built once per process)."""
        return _shipped_geocoder()

    # -- mentions -----------------------------------------------------------------------------------

    def mentions(self, text: str, lang: str | None = None, *, country_hint: str | None = None) -> list[PlaceMention]:
        """Places named in ``text``, in order. ``country_hint`` (ISO code, e.g. the geotag's
        country) favours readings in that country."""
        if not text:
            return []
        matches = self._matches(text, lang)
        if not matches:
            return []
        return self._resolve(text, matches, lang, country_hint)

    def mentions_many(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[list[PlaceMention]]:
        """``mentions`` for a batch (``langs`` aligned with ``texts``). A text repeated in the
        batch (retweets, copy-pasted calls for help) is read once."""
        done: dict[tuple[str, str | None], list[PlaceMention]] = {}
        out: list[list[PlaceMention]] = []
        for text, lang in zip(texts, langs, strict=True):
            found = done.get((text, lang))
            if found is None:
                found = done[(text, lang)] = self.mentions(text, lang)
            out.append(list(found))
        return out

    def _matches(self, text: str, lang: str | None) -> list[_Match]:
        out: list[_Match] = []
        scores = self._scores
        names = self._names
        for start, end, key, group, tag, context, lower in self._observe(text, lang):
            score = scores.get((key, group, tag, context, lower))
            if score is None:
                if len(scores) > _CACHE_SIZE:
                    scores.clear()
                seen = Observation(start, end, key, group, tag, context, lower)
                score = scores[(key, group, tag, context, lower)] = self.prior(seen, names[key])
            if score >= MIN_CONFIDENCE:
                out.append(_Match(start, end, names[key], score))
        return out

    def observations(self, text: str, lang: str | None = None) -> list[Observation]:
        """Every gazetteer spelling in the text as a whole word, with what the prior depends on,
        before deciding whether it is a place (the build script counts these on training data)."""
        return [Observation(*seen) for seen in self._observe(text, lang)]

    def _observe(self, text: str, lang: str | None) -> list[tuple[int, int, str, str, bool, bool, bool]]:
        """:meth:`observations` as plain tuples."""
        folded, positions = fold_aligned(text)
        found = self._spans(text, folded, positions)
        if not found:
            return []
        group_arabic = "fa" if (lang or "").startswith("fa") or (lang is None and _PERSIAN_RE.search(text)) else "ar"
        prefixes = self._prefixes.get(group_arabic, ())
        not_before = self._not_before
        exact = self._names.exact
        out: list[tuple[int, int, str, str, bool, bool, bool]] = []
        stops: set[int] = set()  # where earlier names end in the folded text
        listed: list[bool] = []  # whether each name directly follows the one before it in a list
        previous_stop = -1
        for key, start, name_start, span_end, word_start, stop in found:
            arabic = key[0] >= _ARABIC_FIRST
            end = word_start
            while end > 0 and folded[end - 1] in " #":
                end -= 1
            previous = _word_ending(folded, end)
            if previous in not_before:
                continue  # a storm's name ("Hurricane Harvey"), a person ("Mr Jordan")
            # "منطقة الفحيحيل", "خیابان ولیعصر": a word for a kind of place that belongs to the name.
            if arabic and previous in prefixes:
                span_start = _word_start_before(folded, word_start, positions)
                tag = False
            else:
                span_start = name_start
                tag = span_start > 0 and text[span_start - 1] == "#"
            if arabic:
                context = previous in self._arabic_context or (word_start < start and folded[start - 1] in "بف")
            else:
                context = previous in self._latin_context
            # The next name of a list: "Mashhad and Esfahan", "Houston, Galveston", "بغداد والبصرة":
            # where a name before it would end (see _follows_name).
            joined = _skip_back(folded, word_start) if word_start < start and folded[word_start] == "و" else None
            if end > 0 and folded[end - 1] in ",،/":
                listing: int | None = _skip_back(folded, end - 1)
            elif previous in _CONJUNCTIONS:
                listing = _skip_back(folded, end - len(previous))
            else:
                listing = None
            if not context and stops:
                context = joined in stops or listing in stops
            stops.add(stop)
            lower = not arabic and key not in exact and not tag and not text[span_start].isupper()
            group = group_arabic if arabic else "en"
            out.append((span_start, span_end, key, group, tag, context, lower))
            listed.append(previous_stop >= 0 and (joined == previous_stop or listing == previous_stop))
            previous_stop = stop
        # The first name of a list ("Zahedan, Sanandaj and Mahabad") is announced by the next.
        for index in range(len(out) - 1):
            if listed[index + 1] and not out[index][5]:
                start, end, key, group, tag, _, lower = out[index]
                out[index] = (start, end, key, group, tag, True, lower)
        return out

    def prior(self, seen: Observation, info: NameInfo) -> float:
        """How likely this occurrence is a place mention (see :class:`Priors`)."""
        priors = self._priors
        tag = "1" if seen.tag else "0"
        rate = priors.rates.get(f"{seen.group}|{tag}|{seen.key}")
        if rate is None:
            # The rate for this kind of place and of word; else for this kind of word; else any.
            kind_of_word = word_class(seen.key, info)
            rate = priors.defaults.get(f"{seen.group}|{tag}|{self._bucket(info)}|{kind_of_word}")
            if rate is None:
                rate = priors.defaults.get(f"{seen.group}|{tag}|*|{kind_of_word}")
            if rate is None:
                rate = priors.defaults.get(f"{seen.group}|{tag}|*", _PRIOR_UNKNOWN)
        rate = min(max(rate, 0.001), 0.999)
        odds = rate / (1.0 - rate)
        if seen.context:
            odds *= priors.context_odds.get(seen.group, 1.0)
        if seen.lower:
            odds *= priors.lower_odds.get(seen.group, 1.0)
        return odds / (1.0 + odds)

    def _bucket(self, info: NameInfo) -> str:
        return bucket(self._entries, info)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """Every gazetteer spelling in the text as a whole word, before deciding whether it is a
        place: (start, end, folded spelling). Used to count place rates on training data."""
        folded, positions = fold_aligned(text)
        return [(start, end, key) for key, _, start, end, _, _ in self._spans(text, folded, positions)]

    def _spans(self, text: str, folded: str, positions: list[int] | None) -> list[tuple[str, int, int, int, int, int]]:
        """(key, start in folded text, start and end in the text, start of the word and end in
        folded text)."""
        out = []
        underscore = "_" in text
        for key, start, stop, word_start in self.candidates(folded):
            if positions is not None:
                span_start, span_end = positions[start], positions[stop]
            else:
                span_start, span_end = start, stop
            if underscore and _in_compound_tag(text, span_start, span_end):
                continue
            out.append((key, start, span_start, span_end, word_start, stop))
        if self._exact_re is not None and _has_capitals(text):
            taken = [(item[2], item[3]) for item in out]
            for found in self._exact_re.finditer(text):
                span_start, span_end = found.span()
                if self._exact_unanchored and span_start > 0 and _after_word(text[span_start - 1]):
                    continue  # the regex does not look behind, for speed: a word goes on before
                if any(span_start < end and start < span_end for start, end in taken):
                    continue
                start = span_start if positions is None else bisect.bisect_left(positions, span_start)
                stop = span_end if positions is None else bisect.bisect_left(positions, span_end)
                out.append((self._exact_keys[found.group()], start, span_start, span_end, start, stop))
            out.sort(key=lambda item: item[2])
        return out

    def candidates(self, folded: str) -> list[tuple[str, int, int, int]]:
        """Gazetteer spellings in folded text, as whole words, leftmost-longest without overlaps:
        (key, start, stop, start of the word with any Arabic clitic letters).

        An Arabic-script name may carry one or two attached letters (و ب ل ف ک: "and", "in",
        "to"...); an English one a possessive ``s`` without apostrophe (``Mexicos``)."""
        if "http" in folded or "www." in folded:
            folded = _blank_links(folded)
        # Every character that is not a letter or digit becomes a space (offsets unchanged), and
        # the automaton holds each spelling between spaces: it finds whole words only, in C. The
        # text is then words between spaces, as spellings are: a spelling of n words is n words
        # in a row separated by single spaces (how the attached letters and the s are handled).
        ascii_text = folded.isascii()
        cleaned = folded.translate(_ASCII_SEPARATORS) if ascii_text else _NON_WORD_RE.sub(" ", folded)
        heads = self._starts.keys()
        # A match of " key " ends (in the padded text) on the space after the key: the key
        # spans cleaned[end - len(key) - 1 : end - 1].
        found = [(end - len(key) - 1, 1 - end, 0, -len(key), key) for end, key in self._automaton.iter(f" {cleaned} ")]
        parts: list[str] | None = None  # words, with an empty string for each extra space
        if ("s " in cleaned or cleaned.endswith("s")) and not heads.isdisjoint(_S_STEM_RE.findall(cleaned)):
            # "Mexicos": the name without its s, then the span takes the s back. A spelling of
            # several words ends with such a word, and the words before it do not.
            parts = cleaned.split(" ")
            self._possessives(cleaned, parts, found)
        if not ascii_text:
            # Words after one attached letter; those that start with another one, after two.
            after_one = _CLITIC_1_STEM_RE.findall(cleaned)
            if after_one:
                after_two = [stem[1:] for stem in after_one if stem[0] in _CLITIC_LETTERS and len(stem) > 3]
                for shift, stems in ((1, after_one), (2, after_two)):
                    if not heads.isdisjoint(stems):
                        if parts is None:
                            parts = cleaned.split(" ")
                        self._clitics(cleaned, parts, shift, found)
        if not found:
            return []
        found.sort()  # leftmost, then longest, then the whole word, then the longest spelling
        out: list[tuple[str, int, int, int]] = []
        reached = -1
        for word_start, negative_stop, shift, _, key in found:
            if word_start < reached:
                continue
            out.append((key, word_start + shift, -negative_stop, word_start))
            reached = -negative_stop
        return out

    def _possessives(self, cleaned: str, parts: list[str], found: list[tuple[int, int, int, int, str]]) -> None:
        """Spellings that end on a word ending in an s after three letters a-z, without the s."""
        spellings = self._spellings
        most = self._most_words
        for match in _POSSESSIVE_RE.finditer(cleaned):
            stop = match.start()  # where the s is
            index = cleaned.count(" ", 0, stop)
            stem = parts[index][:-1]
            first = index
            while True:
                key = " ".join((*parts[first:index], stem))
                if key in spellings:
                    found.append((stop - len(key), -(stop + 1), 0, -len(key), key))
                first -= 1
                if index - first >= most or first < 0:
                    break
                previous = parts[first]
                if not previous or _possessive(previous):
                    break

    def _clitics(self, cleaned: str, parts: list[str], shift: int, found: list[tuple[int, int, int, int, str]]) -> None:
        """Spellings after ``shift`` attached letters: the first word without them, the others
        without such letters."""
        starts = self._starts
        spellings = self._spellings
        count = len(parts)
        for match in (_CLITIC_1_STEM_RE if shift == 1 else _CLITIC_2_STEM_RE).finditer(cleaned):
            stem = match.group(1)
            sizes = starts.get(stem)
            if sizes is None:
                continue
            word_start = match.start()
            index = cleaned.count(" ", 0, word_start)
            for size in sizes:
                if size == 1:
                    key = stem
                elif index + size <= count and all(
                    item and not _clitic(item, shift) for item in parts[index + 1 : index + size]
                ):
                    key = " ".join((stem, *parts[index + 1 : index + size]))
                    if key not in spellings:
                        continue
                else:
                    continue
                found.append((word_start, -(word_start + shift + len(key)), shift, -len(key), key))

    # -- resolution ---------------------------------------------------------------------------------

    def _resolve(
        self, text: str, matches: list[_Match], lang: str | None, country_hint: str | None
    ) -> list[PlaceMention]:
        entries = self._entries
        persian = lang is not None and lang.startswith("fa")
        # Countries the post speaks of: the first reading of every mention.
        first = [entries[m.info.entries[0]] if m.info.entries else None for m in matches]
        out: list[PlaceMention] = []
        for index, match in enumerate(matches):
            ids = match.info.entries
            span = text[match.start : match.end]
            if not ids:  # a spelling learned from training data that the sources lack
                out.append(PlaceMention(match.start, match.end, span, span, "place", None, None, None, match.score))
                continue
            if len(ids) == 1:
                best, share = ids[0], 1.0
            else:
                others = {
                    entry.country_code for j, entry in enumerate(first) if j != index and entry and entry.country_code
                }
                # "Paris, Texas": a state or country right after a name says where the name is.
                qualifier = None
                if index + 1 < len(matches) and matches[index + 1].start - match.end <= 2:
                    following = first[index + 1]
                    if following is not None and following.kind in ("country", "state", "province"):
                        qualifier = following.country_code
                best, share = self._pick(ids, country_hint, others, persian, qualifier)
            entry = entries[best]
            out.append(
                PlaceMention(
                    match.start,
                    match.end,
                    span,
                    entry.name,
                    entry.kind,
                    entry.lat,
                    entry.lon,
                    entry.country_code,
                    round(match.score * (0.5 + 0.5 * share), 3),
                )
            )
        return out

    def _pick(
        self, ids: tuple[int, ...], hint: str | None, others: set[str], persian: bool, qualifier: str | None
    ) -> tuple[int, float]:
        """The likeliest entry for a spelling and its share of the probability (softmax of scores).

        What depends on the entries alone is worked out once per spelling and cached; a city and
        its province of the same name (Tehran, Puebla) count the city up: the bare name means it."""
        known = self._choices.get(ids)
        if known is None:
            if len(self._choices) > _CACHE_SIZE:
                self._choices.clear()
            entries = self._entries
            divisions = {entries[i].country_code for i in ids if entries[i].kind in ("province", "state")}
            rows = []
            for entry_id in ids:
                entry = entries[entry_id]
                base = math.log10(entry.population + 10) + _KIND_WEIGHT.get(entry.kind, 0.0)
                city_of_division = entry.kind == "city" and entry.country_code in divisions
                rows.append((entry_id, base, entry.country_code, city_of_division, entry.lat is None))
            known = self._choices[ids] = rows
        scores = []
        for _, base, cc, city_of_division, no_point in known:
            score = base
            if city_of_division:
                score += _KIND_WEIGHT["province"]
            if cc is not None:
                if cc == qualifier:
                    score += _QUALIFIED
                if cc == hint:
                    score += _SAME_COUNTRY_AS_GEOTAG
                if cc in others:
                    score += _SAME_COUNTRY_AS_OTHERS
                if persian and cc == "IR":
                    score += _PERSIAN_IN_IRAN
            if no_point:
                score -= 1.0
            scores.append(score)
        top = max(scores)
        weights = [math.exp(2.0 * (s - top)) for s in scores]
        best = scores.index(top)
        return ids[best], weights[best] / sum(weights)

    def entry_index(self, mention: PlaceMention) -> int | None:
        """Which gazetteer entry a mention was resolved to (for building and checking the data)."""
        key = self._key_for(mention.text)
        info = self._names.get(key) if key else None
        if info is None:
            return None
        for entry_id in info.entries:
            entry = self._entries[entry_id]
            if (entry.name, entry.lat, entry.lon) == (mention.name, mention.lat, mention.lon):
                return entry_id
        return None

    def _key_for(self, text: str) -> str | None:
        folded, positions = fold_aligned(text)
        found = self._spans(text, folded, positions)
        return found[-1][0] if found else None

    # -- a post's place -----------------------------------------------------------------------------

    def place(self, post: Post, mentions: Sequence[PlaceMention]) -> Placement | None:
        """Where the post is: its geotag point, else the platform's place, else the best place
        its text names, else its author's profile location; None when none of them says."""
        geo = post.geo
        if geo is not None and geo.precision == "point" and geo.lat is not None and geo.lon is not None:
            return Placement(
                geo.lat, geo.lon, geo.place_name, geo.country_code, "point", "geotag", _SOURCE_CONFIDENCE["geotag"]
            )
        if geo is not None:
            placed = self._place_field(geo)
            if placed is not None:
                return placed
        from_text = self.place_from_text(mentions)
        if from_text is not None:
            return from_text
        location = post.author.location
        if location:
            return _mention_placement(best_mention(self._lenient(location)), "profile", _SOURCE_CONFIDENCE["profile"])
        return None

    def place_from_text(self, mentions: Sequence[PlaceMention]) -> Placement | None:
        """Where the places a text names put it (what :meth:`place` falls back to when the post
        itself says nothing; all a text alone can tell)."""
        return _mention_placement(best_mention(mentions), "text", _SOURCE_CONFIDENCE["text"])

    def _place_field(self, geo: Geo) -> Placement | None:
        confidence = _SOURCE_CONFIDENCE["place"]
        if geo.lat is not None and geo.lon is not None:
            return Placement(geo.lat, geo.lon, geo.place_name, geo.country_code, "place", "place", confidence)
        if geo.bbox is not None:
            west, south, east, north = geo.bbox
            # A box as wide as a country says little about where in it the post is.
            size = max(abs(east - west), abs(north - south))
            confidence = confidence if size < 1.0 else confidence * 0.7
            return Placement(
                (south + north) / 2, (west + east) / 2, geo.place_name, geo.country_code, "place", "place", confidence
            )
        if geo.place_name:
            found = best_mention(self._lenient(geo.place_name, geo.country_code))
            return _mention_placement(found, "place", confidence, floor=0.5, country_code=geo.country_code)
        return None

    def _lenient(self, text: str, country_hint: str | None = None) -> list[PlaceMention]:
        """Mentions in a field that holds only place names (a place or profile location): every
        match counts, however common the word, since the field is there to name a place."""
        found = self._all_matches(text)
        if not found:
            return []
        return self._resolve(text, found, None, country_hint)

    def _all_matches(self, text: str) -> list[_Match]:
        folded, positions = fold_aligned(text)
        out: list[_Match] = []
        for key, _, start, stop, _, _ in self._spans(text, folded, positions):
            info = self._names[key]
            out.append(_Match(start, stop, info, 0.6))
        return out


def _mention_placement(
    found: PlaceMention | None, source: str, weight: float, *, floor: float = 0.0, country_code: str | None = None
) -> Placement | None:
    """A mention as a placement from ``source``: as sure as the source (``weight``) times the
    mention (at least ``floor``); ``country_code`` where the mention has none. None without a point."""
    if found is None or found.lat is None or found.lon is None:
        return None
    return Placement(
        found.lat,
        found.lon,
        found.name,
        found.country_code or country_code,
        PRECISION_BY_KIND.get(found.kind, "city"),
        source,
        round(weight * max(found.confidence, floor), 3),
    )


def best_mention(mentions: Sequence[PlaceMention]) -> PlaceMention | None:
    """The mention that best says where a post is: sure, and as specific as possible."""
    best: PlaceMention | None = None
    best_score = 0.0
    for mention in mentions:
        if mention.lat is None:
            continue
        score = mention.confidence * _SPECIFICITY.get(mention.kind, 0.5)
        if score > best_score:
            best, best_score = mention, score
    return best


class _Spellings:
    """Membership in the spellings, abbreviations excepted."""

    __slots__ = ("_exact", "_ids")

    def __init__(self, ids: dict[str, list[int]], exact: dict[str, str]) -> None:
        self._ids = ids
        self._exact = exact

    def __contains__(self, key: str) -> bool:
        return key in self._ids and key not in self._exact


def _possessive(word: str) -> bool:
    """Whether a word ends in an s after three letters a-z (``_POSSESSIVE_RE``)."""
    return len(word) >= 4 and word[-1] == "s" and _LOWER_3.issuperset(word[-4:-1])


_LOWER_3 = frozenset("abcdefghijklmnopqrstuvwxyz")
_CLITIC_LETTERS = frozenset("وبلفک")


def _clitic(word: str, shift: int) -> bool:
    """Whether a word starts with ``shift`` clitic letters followed by three more letters."""
    return len(word) >= shift + 3 and _CLITIC_LETTERS.issuperset(word[:shift])


_POSSESSIVE_RE = re.compile(r"(?<=[a-z][a-z][a-z])s(?= |$)")
_S_STEM_RE = re.compile(r"(?<![^ ])([a-z]{3,})s(?= |$)")  # words ending in s, without it
_CLITIC_1_STEM_RE = re.compile(r"(?<![^ ])[وبلفک](\w{3,})")  # words after one clitic letter
_CLITIC_2_STEM_RE = re.compile(r"(?<![^ ])[وبلفک]{2}(\w{3,})")
_NON_WORD_RE = re.compile(r"[^\w ]")  # one space per character: offsets are kept
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")})


def _blank_links(folded: str) -> str:
    """Links replaced by spaces of the same length (``t.co`` is not a place)."""
    return _LINK_RE.sub(lambda match: " " * len(match.group()), folded)


_LINK_RE = re.compile(r"(?:https?://|www\.)\S+")


def _has_capitals(text: str) -> bool:
    """Whether the text has two capital letters in a row somewhere (an abbreviation may be there)."""
    return not text.islower() and _CAPITALS_RE.search(text) is not None


_CAPITALS_RE = re.compile(r"[A-Z]\.?[A-Z]")


def _in_compound_tag(text: str, start: int, end: int) -> bool:
    """Whether the span is one word of a hashtag of several (``#Kuwait_rain``): such tags name
    a topic, and annotators do not count the place in them."""
    return (start > 0 and text[start - 1] == "_") or (end < len(text) and text[end] == "_")


def _follows_name(folded: str, word_start: int, start: int, stops: set[int]) -> bool:
    """Whether a name comes right before, joined by a comma, "and"/"or" or an attached و."""
    if word_start < start and folded[word_start] == "و" and _name_before(folded, word_start, stops):
        return True
    end = word_start
    while end > 0 and folded[end - 1] in " #":
        end -= 1
    if end > 0 and folded[end - 1] in ",،/":
        return _name_before(folded, end - 1, stops)
    previous = _previous_word(folded, word_start)
    if previous in _CONJUNCTIONS:
        return _name_before(folded, end - len(previous), stops)
    return False


def _word_start_before(folded: str, position: int, positions: list[int] | None) -> int:
    """Where the word before ``position`` starts, in the original text."""
    end = position
    while end > 0 and folded[end - 1] in " #":
        end -= 1
    start = end
    while start > 0 and folded[start - 1].isalnum():
        start -= 1
    return start if positions is None else positions[start]


def _name_before(folded: str, position: int, stops: set[int]) -> bool:
    while position > 0 and folded[position - 1] in " #":
        position -= 1
    return position in stops


def _skip_back(folded: str, position: int) -> int:
    """``position`` moved back over spaces and '#'."""
    while position > 0 and folded[position - 1] in " #":
        position -= 1
    return position


def _word_ending(folded: str, end: int) -> str:
    """The word that ends at ``end`` (``_previous_word`` once spaces are skipped)."""
    start = end
    while start > 0 and folded[start - 1].isalnum():
        start -= 1
    if end - start == 3 and folded[start:end] == "the":
        return _previous_word(folded, start)
    return folded[start:end]


_WORD_CHAR_RE = re.compile(r"[\w.]")


def _after_word(char: str) -> bool:
    """Whether an abbreviation may not begin right after this character (a letter, digit, dot)."""
    return _WORD_CHAR_RE.match(char) is not None


def _previous_word(folded: str, position: int) -> str:
    """The word before ``position`` (skipping spaces, a '#' and an English "the")."""
    end = position
    while end > 0 and folded[end - 1] in " #":
        end -= 1
    start = end
    while start > 0 and folded[start - 1].isalnum():
        start -= 1
    if folded[start:end] == "the":
        return _previous_word(folded, start)
    return folded[start:end]


@functools.cache
def _shipped_geocoder() -> Geocoder:
    return Geocoder(shipped_gazetteer())
