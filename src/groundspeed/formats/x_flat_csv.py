"""Flattened X (Twitter) archive CSVs: one tweet per row in 92 ``twitter.*`` columns.

This is the layout of rehydrated tweet archives such as the CrisisLexT26 streams (column names like
``twitter.tweet/id``, ``twitter.tweet/text``, ``twitter.user/screenName``). Lists are written as
``[a, b]`` and an empty cell means the archive had no value.

* A retweet row (``retweet.twitter.tweet/id`` set) becomes a *repost* pointing at the original, and
  the original tweet, which the row also carries in its ``retweet.*`` columns, becomes a post of its
  own. The repost keeps the ``RT @user: ...`` text it was shown with (``twitter.tweet/originalText``).
* A reply (``twitter.tweet/inReplyToStatusID`` set; ``-1`` means none) points at the tweet it
  answers. ``twitter.tweet/isQuote`` marks a quote, but the archive does not say of what.
* Location: ``latitude``/``longitude`` give an exact point; otherwise ``place`` (a bounding polygon)
  with ``placeName`` gives a named place with its box; ``placeName`` alone gives the place's name.
* A row whose number of cells differs from the header, or that has no tweet id, is quarantined with
  the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from ..model import Author, Geo, Media, Metrics, Post, PostKind, make_uid
from .base import (
    Format,
    ParseContext,
    ParseResult,
    Sample,
    as_bool,
    as_int,
    decode_cells,
    make_post,
    parse_time,
    platform_lang,
)

TWEET = "twitter.tweet/"
USER = "twitter.user/"
RETWEET = "retweet."  # the retweeted original: retweet.twitter.tweet/*, retweet.twitter.user/*
_TWEET_FIELDS = (
    "id",
    "text",
    "originalText",
    "created",
    "lang",
    "latitude",
    "longitude",
    "placeName",
    "place",
    "hashtags",
    "urls",
    "mentions",
    "mediaUrls",
    "mediaTypes",
    "inReplyToStatusID",
    "retweetCount",
    "favouriteCount",
    "isQuote",
)
_USER_FIELDS = ("id", "screenName", "name", "followersCount", "verified", "location")
_MAX_ID_DIGITS = 20  # tweet ids are 64-bit numbers
_NO_REPLY = ("", "-1")  # the archive writes -1 for "not a reply"
_POINT_RE = re.compile(r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]")


@dataclass(frozen=True, slots=True)
class _Side:
    """Where one tweet's fields are in the row: the tweet itself, or the retweeted original."""

    # (field, cell index) for every field; a field the header lacks points at the empty cell that
    # parse appends after the row, so reading a row needs no checks.
    tweet: tuple[tuple[str, int], ...]
    user: tuple[tuple[str, int], ...]
    present: frozenset[str]  # tweet fields the header has
    id_index: int


@dataclass(frozen=True, slots=True)
class _Layout:
    width: int
    own: _Side
    original: _Side


@lru_cache(maxsize=16)
def _layout(header_json: str) -> _Layout | str:
    """Cell indexes for a header (cached: every row of a file shares it)."""
    header, _error = decode_cells(header_json)
    if header is None:
        return "the CSV header stored with this row is not readable"
    index = {name: position for position, name in reversed(list(enumerate(header)))}
    if f"{TWEET}id" not in index:
        return f"the header has no {TWEET}id column, so this is not a flattened X archive"

    empty = len(header)

    def side(prefix: str) -> _Side:
        tweet = tuple((f, index.get(f"{prefix}{TWEET}{f}", empty)) for f in _TWEET_FIELDS)
        user = tuple((f, index.get(f"{prefix}{USER}{f}", empty)) for f in _USER_FIELDS)
        present = frozenset(f for f in _TWEET_FIELDS if f"{prefix}{TWEET}{f}" in index)
        return _Side(tweet, user, present, index.get(f"{prefix}{TWEET}id", empty))

    return _Layout(width=len(header), own=side(""), original=side(RETWEET))


class _Cells:
    """The cells of one tweet (own or original) in a row, by field name, stripped; "" when absent.

    Read once into dicts: a row is looked at some 40 times, and this is the importer's hot path.
    """

    __slots__ = ("present", "raw", "tweet", "user")

    def __init__(self, cells: list[str], side: _Side) -> None:
        self.raw = {field: cells[position] for field, position in side.tweet}
        self.tweet = {field: value.strip() for field, value in self.raw.items()}
        self.user = {field: cells[position].strip() for field, position in side.user}
        self.present = side.present

    def text(self, field: str) -> str | None:
        """Tweet text as written (not stripped: leading spaces and newlines are part of it)."""
        text = self.raw[field]
        return text if text and not text.isspace() else None


def _bracket_list(cell: str) -> list[str]:
    """``[a, b]`` -> ["a", "b"]. Items never contain ", " (hashtags, handles, links, media)."""
    if not cell:
        return []
    if cell.startswith("[") and cell.endswith("]"):
        cell = cell[1:-1]
    return [item.strip() for item in cell.split(", ") if item.strip()]


def _listed(row: _Cells, field: str) -> tuple[str, ...] | None:
    """A list column; None when the header lacks it, so make_post reads the text instead."""
    return tuple(dict.fromkeys(_bracket_list(row.tweet[field]))) if field in row.present else None


def _media(row: _Cells) -> tuple[Media, ...]:
    links = _bracket_list(row.tweet["mediaUrls"])
    types = _bracket_list(row.tweet["mediaTypes"])
    # The two lists run in step; archives only list photos here, so that is the default type.
    return tuple(
        Media(type=types[position] if position < len(types) else "photo", url=link)
        for position, link in enumerate(links)
    )


def _coordinate(cell: str, limit: float) -> float | None:
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if -limit <= value <= limit else None


def _geo(row: _Cells) -> Geo | None:
    lat = _coordinate(row.tweet["latitude"], 90)
    lon = _coordinate(row.tweet["longitude"], 180)
    name = row.tweet["placeName"] or None
    if lat is not None and lon is not None:
        return Geo(precision="point", source="latitude/longitude", lat=lat, lon=lon, place_name=name)
    bbox = _bbox(row.tweet["place"])
    if bbox is not None:
        return Geo(precision="place", source="place", place_name=name, bbox=bbox)
    if name is not None:
        return Geo(precision="text", source="placeName", place_name=name)
    return None


def _bbox(cell: str) -> tuple[float, float, float, float] | None:
    """West, south, east, north of the place polygon, written as [[lat, lon], ...]."""
    points = [(float(lat), float(lon)) for lat, lon in _POINT_RE.findall(cell)]
    if not points or not all(-90 <= lat <= 90 and -180 <= lon <= 180 for lat, lon in points):
        return None
    lats = [lat for lat, _ in points]
    lons = [lon for _, lon in points]
    return (min(lons), min(lats), max(lons), max(lats))


def _count(cell: str) -> int | None:
    """A count; None for an empty cell (unknown), 0 for "0"."""
    return int(cell) if cell.isdigit() else as_int(cell) if cell else None


def _author(row: _Cells) -> Author:
    user = row.user  # values are stripped already: "" is the only blank
    return Author(
        id=user["id"] or None,
        handle=user["screenName"] or None,
        name=user["name"] or None,
        followers=_count(user["followersCount"]),
        verified=as_bool(user["verified"]),
        location=user["location"] or None,
    )


def _tweet_post(
    ctx: ParseContext,
    row: _Cells,
    native_id: str,
    *,
    path: str | None,
    reposted_uid: str | None = None,
) -> Post:
    """One post from one side of the row."""
    replied = row.tweet["inReplyToStatusID"]
    replied_uid = make_uid("x", replied) if replied not in _NO_REPLY else None
    kind: PostKind
    if reposted_uid is not None:
        kind = "repost"
        # Shown as "RT @user: ...": originalText. The text column holds the original's full text.
        text = row.text("originalText") or row.text("text")
        # A retweet's counts are the original's (X copies them), so they stay with the original.
        metrics = Metrics()
    else:
        kind = "quote" if as_bool(row.tweet["isQuote"]) else "reply" if replied_uid else "original"
        text = row.text("text") or row.text("originalText")
        metrics = Metrics(reposts=_count(row.tweet["retweetCount"]), likes=_count(row.tweet["favouriteCount"]))
    author = _author(row)
    return make_post(
        ctx,
        platform="x",
        native_id=native_id,
        kind=kind,
        original_text=text,
        created_at=parse_time(row.tweet["created"]),
        path=path,
        hashtags=_listed(row, "hashtags"),
        mentions=_listed(row, "mentions"),
        urls=_listed(row, "urls"),
        url=f"https://x.com/{author.handle or 'i/web'}/status/{native_id}",
        lang=platform_lang(row.tweet["lang"]),
        author=author,
        reposted_uid=reposted_uid,
        replied_to_uid=replied_uid,
        media=_media(row),
        geo=_geo(row),
        metrics=metrics,
    )


def _tweet_id(row: _Cells, column: str) -> tuple[str | None, str | None]:
    """(id, None), or (None, the reason) when ``column`` holds no usable tweet id."""
    native = row.tweet["id"]
    if not native:
        return None, f"row has no tweet id ({column} is empty)"
    if not native.isdigit() or len(native) > _MAX_ID_DIGITS:
        return None, f"{column} {native[:40]!r} is not a tweet id"
    return native, None


class XFlatCsvFormat(Format):
    name: ClassVar[str] = "x-flat-csv"
    title: ClassVar[str] = "X (Twitter) flattened archive CSV (twitter.tweet/* columns, e.g. CrisisLexT26 streams)"
    framing = "csv"
    platform: ClassVar[str] = "x"

    def sniff(self, sample: Sample) -> int:
        return 95 if sample.csv_header and f"{TWEET}id" in sample.csv_header else 0

    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        result = ParseResult()
        layout = _layout(ctx.options.get("csv_header", ""))
        if isinstance(layout, str):
            result.problems.append((None, layout))
            return result
        cells, error = decode_cells(payload)
        if cells is None:
            result.problems.append((None, f"not a CSV row: {error}"))
            return result
        if len(cells) != layout.width:
            # A shifted row would put the text in the wrong fields: quarantine it whole.
            result.problems.append((None, f"row has {len(cells)} cells but the header has {layout.width}"))
            return result
        cells.append("")  # the cell every missing column reads (see _Side)
        own = _Cells(cells, layout.own)
        native, reason = _tweet_id(own, f"{TWEET}id")
        if native is None:
            result.problems.append((None, reason or "no tweet id"))
            return result
        reposted_uid = None
        if cells[layout.original.id_index].strip():
            reposted_uid = self._original(ctx, _Cells(cells, layout.original), result)
        result.posts.insert(0, _tweet_post(ctx, own, native, path=None, reposted_uid=reposted_uid))
        return result

    @staticmethod
    def _original(ctx: ParseContext, row: _Cells, result: ParseResult) -> str | None:
        """The retweeted original as a post of its own, and its uid (None when the id is broken)."""
        native, reason = _tweet_id(row, f"{RETWEET}{TWEET}id")
        if native is None:
            result.problems.append(("retweet", reason or "no retweeted tweet id"))
            return None
        result.posts.append(_tweet_post(ctx, row, native, path="retweet"))
        return make_uid("x", native)
