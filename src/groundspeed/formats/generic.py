"""Generic CSV and JSON importers: any table of posts, with a column mapping.

Use ``--format csv`` for a CSV or TSV file with one post per row, ``--format jsonl`` for JSON lines
(or a JSON array) with one post per object. Both are tried last by ``--format auto``: a file that a
specific format recognises (X API tweets, Telegram exports, ...) goes to that format instead.

**Which column is which.** Every field below is found by its column name. Names are compared
without case, spaces, underscores or hyphens, so ``Tweet ID``, ``tweet_id`` and ``Tweet-ID`` are the
same. When a guess is wrong, or a column has an unusual name, name it yourself with an option
``map.<field>=<column>`` (for example ``-o map.text=message_text``). For JSON the column is a dotted
path into the object (``-o map.author_handle=user.screen_name``). ``-o map.<field>=`` (empty) stops
a field from being guessed at all.

=================  =========================================================================
field              column names recognised when no ``map.<field>`` is given
=================  =========================================================================
id                 id, tweet_id, Tweet ID, Tweet-ID, id_str, status_id, post_id, message_id
text               text, tweet_text, Tweet Text, full_text, text_cleaned, cleaned_text, content,
                   message, body, tweet; else a column named like "<tweet|post|message>..text"
created_at         created_at_utc, created_at, tweet_time, time_utc, timestamp, datetime, date,
                   created, time, created_at_seconds, posted_at, published_at
author_id          user_id, author_id, user_id_str, user.id_str, user.id, author.id, from_id
author_handle      user_screen_name, screen_name, username, user.screen_name, author.username,
                   handle, user, author
author_name        name, author_name, user_display_name, user.name, author.name
author_followers   user_followers, followers, followers_count, user.followers_count
author_location    user_location, author_location, user.location (the profile's free text)
author_verified    user_verified, verified, user.verified
lang               lang, language, tweet_language
url                tweet_url, post_url, permanent_url, permalink, status_url
lat, lon           lat, latitude, tweet_lat / lon, lng, long, longitude, tweet_lon
place              place_name, place, place_full_name, place.full_name (text or an X place object)
hashtags           hashtags, hashtag, tags, or numbered columns hashtag1, hashtag2, ...
mentions           mentions, user_mentions, or mention1, mention2, ...
urls               urls, links, expanded_urls, or url1, url2, ...
photos, videos     photos, images / videos (lists of links); media, media_urls
reposted_id        reposted_id, retweeted_id, retweeted_status_id, retweet_id, retweet
replied_to_id      replied_to_id, in_reply_to_status_id, in_reply_to, reply_to_msg_id
quoted_id          quoted_id, quoted_status_id, quote_id
kind               kind, post_type, tweet_type (original, repost/retweet, reply, quote)
is_repost          is_retweet, is_repost (true/false); is_reply, is_quote likewise
likes, reposts     likes, like_count, favorite_count / retweets, retweet_count, forwards
replies, views     replies, reply_count / views, view_count, impression_count
channel            channel, channel_id, chat, chat_id (Telegram: ids are per channel)
=================  =========================================================================

A bare ``location`` column is *not* taken as a place: in stream exports it is the author's profile
text, in labelled datasets the event's location. It is kept as an annotation; map it with
``-o map.place=location`` or ``-o map.author_location=location`` when you know which it is.

**Platform.** ``-o platform=x`` sets it. Otherwise: ``x`` when the id column names a tweet or status
(``tweet_id``, ``status_id``) or another column names tweets (``retweet``, ``IsRetweet``);
``telegram`` when the id column is ``message_id``; else ``csv`` (or ``json``). Rows without an id
never count as X. X posts without a time get it from the tweet id, and a time column that disagrees
with the id by more than a day (an account's creation date, say) is not used.

**Ids.** ``-o id_prefix=...`` is put in front of every id. Telegram message numbers are only unique
within a channel: give the channel (``-o id_prefix=sut_tw/``) or have a ``channel`` column, so
that two channels' message 100 stay two posts (the id becomes ``channel/message_id``).

**Rows without an id** get a stable id made from their text, time and author ("h" and 16 hex digits) and the
annotation ``id_source=content-hash``, so importing the file twice does not duplicate them. A row
with neither id nor text is quarantined. A row with an id and no text (a list of tweet ids) is kept.

**Everything else** that is not empty (dataset labels such as event, info_type, class_label,
Included(Y/N), ...) is kept on the post as ``annotations``, under its column name.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar

import msgspec

from ..model import Author, Geo, Media, Metrics, Post, PostKind, make_uid
from .base import (
    Format,
    ParseContext,
    ParseResult,
    Sample,
    as_bool,
    as_int,
    decode_cells,
    decode_json,
    make_post,
    none_if_blank,
    parse_time,
    platform_lang,
    snowflake_time,
)

# -- the mapping ---------------------------------------------------------------------------

# Column names tried for each field, in order, space-separated (compared as _norm does).
# Keep the table in the module docstring in step with this one.
_ALIASES: dict[str, str] = {
    "id": "id tweet_id id_str status_id post_id message_id msg_id",
    "text": "text tweet_text full_text text_cleaned cleaned_text content message body tweet",
    # More specific names first: a table can hold several times (tweet and account creation).
    "created_at": "created_at_utc created_at tweet_time time_utc timestamp datetime date created time created_at_seconds posted_at published_at",
    "author_id": "user_id author_id user_id_str user.id_str user.id author.id from_id sender_id",
    "author_handle": "user_screen_name screen_name username user_username author_username user.screen_name author.username user_handle author_handle handle user author",
    # Not a bare "display_name": geocoded tables use it for the place's name.
    "author_name": "name author_name user_display_name author_display_name user.name author.name",
    "author_followers": "user_followers user_followers_count followers followers_count author_followers user.followers_count author.public_metrics.followers_count",
    "author_location": "user_location author_location user.location author.location",
    "author_verified": "user_verified verified author_verified user.verified author.verified",
    "lang": "lang language tweet_language tweet_lang",
    # A bare "url" or "link" column is usually a link inside the post, so it is not the post's URL.
    "url": "tweet_url post_url permanent_url permalink status_url message_url",
    "lat": "lat latitude tweet_lat geo_lat",
    "lon": "lon lng long longitude tweet_lon tweet_lng tweet_long geo_lon geo_lng",
    "place": "place_name place place_full_name place.full_name tweet_place",
    "hashtags": "hashtags hashtag tags entities.hashtags",
    "mentions": "mentions user_mentions mentioned_users entities.user_mentions",
    "urls": "urls links expanded_urls entities.urls",
    "photos": "photos images image_urls",
    "videos": "videos video_urls",
    "media": "media media_urls media_url",
    "reposted_id": "reposted_id retweeted_id retweeted_status_id retweet_id retweet_of rt_id retweet retweeted_status.id_str",
    "replied_to_id": "replied_to_id in_reply_to_status_id in_reply_to_status_id_str in_reply_to in_reply_to_tweet_id reply_to reply_to_id reply_to_msg_id reply_to_message_id",
    "quoted_id": "quoted_id quoted_status_id quoted_status_id_str quote_id quoted_tweet_id",
    "kind": "kind post_type tweet_type",
    "is_repost": "is_retweet is_repost",
    "is_reply": "is_reply",
    "is_quote": "is_quote is_quote_status",
    "likes": "likes like_count likes_count favorite_count favourite_count favorites favourites public_metrics.like_count",
    "reposts": "reposts repost_count retweets retweet_count retweets_count shares forwards public_metrics.retweet_count",
    "replies": "replies reply_count replies_count public_metrics.reply_count",
    "quotes": "quotes quote_count public_metrics.quote_count",
    "views": "views view_count views_count impression_count public_metrics.impression_count",
    "channel": "channel channel_id channel_username chat chat_id chat_username",
}
MAPPING_FIELDS: tuple[str, ...] = tuple(_ALIASES)

# Numbered columns (hashtag1, hashtag2, ...) as some stream exports write lists.
_NUMBERED = {"hashtags": "hashtag", "mentions": "mention", "urls": "url"}
_NUMBERED_RE = re.compile(r"^(hashtag|mention|url)(\d+)$")
# Only "tweet" marks a table as X: screen_name or status are used by other platforms too.
_TWEET_HINTS = ("tweet",)
_SEPARATORS_RE = re.compile(r"[\s_\-]+")
# Values that mean "no id" in exports (-1 is X's "not a reply" in flattened archives).
_NO_ID = frozenset({"", "-1", "0", "na", "n/a", "nan", "null", "none"})
_KINDS: dict[str, PostKind] = {
    "original": "original",
    "tweet": "original",
    "post": "original",
    "repost": "repost",
    "retweet": "repost",
    "retweeted": "repost",
    "rt": "repost",
    "boost": "repost",
    "reblog": "repost",
    "share": "repost",
    "reply": "reply",
    "replied_to": "reply",
    "quote": "quote",
    "quoted": "quote",
}
_MAX_X_ID_DIGITS = 20  # X ids are 64-bit numbers
# A time column further than this from the time in an X id is not the post's time.
_SNOWFLAKE_TOLERANCE = timedelta(days=1)
_URL_IN_CELL_RE = re.compile(r"(?:https?://|www\.)[^\s\[\]'\"<>]+", re.IGNORECASE)
_LIST_SPLIT_RE = re.compile(r"[,;\s\[\]]+")
_PHOTO_EXT = (".jpg", ".jpeg", ".png", ".gif", ".webp")
_VIDEO_EXT = (".mp4", ".mov", ".m3u8", ".webm")


def _norm(name: str) -> str:
    """A column name for comparison: no case, spaces, underscores or hyphens (dots stay)."""
    return _SEPARATORS_RE.sub("", name).lower()


_NORM_ALIASES = {field: tuple(_norm(alias) for alias in aliases.split()) for field, aliases in _ALIASES.items()}


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one table layout (a CSV header, or the keys of a JSON object) maps to post fields."""

    keys: tuple[str, ...]  # the column names, duplicates renamed ("name (2)")
    columns: Mapping[str, str]  # field -> column
    numbered: Mapping[str, tuple[str, ...]]  # hashtags/mentions/urls -> hashtag1, hashtag2, ...
    platform: str
    id_prefix: str
    consumed: frozenset[str]  # columns used for fields (the rest become annotations)
    consumed_prefixes: tuple[str, ...]  # "Place." when the whole Place object was used
    errors: tuple[str, ...]  # bad options, reported on every record so they cannot go unseen

    def column(self, field: str) -> str | None:
        return self.columns.get(field)


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    result: list[str] = []
    for name in names:
        count = seen.get(name, 0) + 1
        seen[name] = count
        result.append(name if count == 1 else f"{name} ({count})")
    return tuple(result)


def _relevant_options(options: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in options.items() if k.startswith("map.") or k in ("platform", "id_prefix")))


def _build_plan(
    keys: tuple[str, ...],
    options: tuple[tuple[str, str], ...],
    *,
    fallback_platform: str,
    objects: frozenset[str] = frozenset(),
    strict: bool = True,
) -> _Plan:
    """Map fields to columns.

    ``objects`` are JSON keys holding objects: only a place can be one. ``strict``: a column named
    in a ``map.`` option must exist (true for CSV; a JSON key may be absent from some records).
    """
    given = dict(options)
    by_norm: dict[str, str] = {}
    for key in keys:
        by_norm.setdefault(_norm(key), key)
    errors = [
        f"unknown field in option {key!r}; the fields are: {', '.join(MAPPING_FIELDS)}"
        for key in given
        if key.startswith("map.") and key[4:] not in _ALIASES
    ]
    columns: dict[str, str] = {}
    used: set[str] = set()
    for field, aliases in _NORM_ALIASES.items():
        taken = used if field == "place" else used | objects
        column = _choose_column(field, aliases, given, keys, by_norm, taken, errors, strict=strict)
        if column is not None:
            columns[field] = column
            used.add(column)
    numbered = _numbered_columns(keys, used, given)
    for extra in numbered.values():
        used.update(extra)
    platform = given.get("platform") or _guess_platform(columns.get("id"), keys, fallback_platform)
    return _Plan(
        keys=keys,
        columns=columns,
        numbered=numbered,
        platform=platform,
        id_prefix=given.get("id_prefix", ""),
        consumed=frozenset(used),
        consumed_prefixes=tuple(f"{column}." for column in used),
        errors=tuple(errors),
    )


def _choose_column(
    field: str,
    aliases: tuple[str, ...],
    given: Mapping[str, str],
    keys: tuple[str, ...],
    by_norm: Mapping[str, str],
    used: set[str],
    errors: list[str],
    *,
    strict: bool,
) -> str | None:
    option = f"map.{field}"
    if option in given:
        wanted = given[option].strip()
        if not wanted:
            return None  # "map.field=" switches the guess off
        if wanted in keys:
            return wanted
        found = by_norm.get(_norm(wanted))
        if found is None and strict:
            errors.append(f"{option} names the column {wanted!r}, which is not in this file")
        return found
    for alias in aliases:
        column = by_norm.get(alias)
        if column is not None and column not in used:
            return column
    if field == "text":
        # Datasets name their text column in many ways (characteristic_tweet_text). A bare
        # "..._text" is not enough: lm_text in a table of place mentions is the mention.
        return next((key for key in keys if key not in used and _is_post_text(key)), None)
    return None


def _numbered_columns(keys: tuple[str, ...], used: set[str], given: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for key in keys:
        match = _NUMBERED_RE.match(_norm(key))
        if match and key not in used:
            found.setdefault(match.group(1), []).append((int(match.group(2)), key))
    result: dict[str, tuple[str, ...]] = {}
    for field, stem in _NUMBERED.items():
        if stem in found and f"map.{field}" not in given:
            result[field] = tuple(key for _, key in sorted(found[stem]))
    return result


def _guess_platform(id_column: str | None, keys: tuple[str, ...], fallback: str) -> str:
    if id_column is None:
        return fallback  # without real ids, content-hash ids must not pose as tweet ids
    id_norm = _norm(id_column)
    if "tweet" in id_norm or "status" in id_norm:
        return "x"
    if id_norm in ("messageid", "msgid"):
        return "telegram"
    if any(hint in _norm(key) for key in keys for hint in _TWEET_HINTS):
        return "x"
    return fallback


def _is_post_text(key: str) -> bool:
    name = _norm(key)
    return "." not in name and "text" in name and any(hint in name for hint in ("tweet", "post", "message", "status"))


@lru_cache(maxsize=64)
def _csv_plan(header_json: str, options: tuple[tuple[str, str], ...]) -> _Plan | str:
    """The plan for a CSV header (cached: every row of a file has the same header)."""
    header, _error = decode_cells(header_json)
    if header is None:
        return "the CSV header stored with this row is not readable"
    return _build_plan(_dedupe(header), options, fallback_platform="csv")


@lru_cache(maxsize=256)
def _json_plan(keys: tuple[str, ...], objects: frozenset[str], options: tuple[tuple[str, str], ...]) -> _Plan:
    return _build_plan(keys, options, fallback_platform="json", objects=objects, strict=False)


# -- reading values --------------------------------------------------------------------------


def _text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text.strip() else None


def _clean_id(value: object) -> str | None:
    """An id as text; None for the many ways exports write "no id"."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and value > 0 else None
    # Some exports quote ids ('503866345822244864') so spreadsheets do not round them.
    text = str(value).strip().strip("'\"").strip()
    return None if text.lower() in _NO_ID else text


def _float(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _time(value: object) -> datetime | None:
    parsed = parse_time(value)
    if parsed is None and isinstance(value, str):
        number = _float(value)  # "1347870019.0": Unix seconds written by pandas
        if number is not None and number > 0:
            parsed = parse_time(number)
    return parsed


def _items(value: object) -> list[object]:
    """The elements of a list cell: a JSON list, one object, or text like "[a, b]" or "a; b"."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    text = _text(value)
    return [] if text is None else [text]


def _words(value: object, strip: str, keys: tuple[str, ...]) -> list[str]:
    words: list[str] = []
    for item in _items(value):
        cell = _string_in(item, keys)
        if cell is not None:
            words.extend(part.strip(strip) for part in _LIST_SPLIT_RE.split(cell))
    return [word for word in words if word]


def _string_in(item: object, keys: tuple[str, ...]) -> str | None:
    """The item itself when it is text, or its first text value under ``keys`` when an object."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return next((item[key] for key in keys if isinstance(item.get(key), str)), None)
    return None


def _links(value: object) -> list[str]:
    links: list[str] = []
    for item in _items(value):
        cell = _string_in(item, ("expanded_url", "url", "URL"))
        if cell is not None:
            links.extend(match.group(0).rstrip(",;.") for match in _URL_IN_CELL_RE.finditer(cell))
    return links


def _tuple_or_none(values: list[str]) -> tuple[str, ...] | None:
    """A tuple without repeats, or None so that make_post reads them from the text instead."""
    return tuple(dict.fromkeys(values)) if values else None


def _media(record: Mapping[str, object], plan: _Plan) -> tuple[Media, ...]:
    media: list[Media] = []
    for field, kind in (("photos", "photo"), ("videos", "video"), ("media", None)):
        column = plan.column(field)
        if column is None:
            continue
        for item in _items(record.get(column)):
            given_type = item.get("type") if isinstance(item, dict) else None
            for link in _links(item):
                media.append(Media(type=kind or _media_type(link, given_type), url=link))
    return tuple(media)


def _media_type(link: str, given: object) -> str:
    if isinstance(given, str) and given:
        return given
    path = link.split("?", 1)[0].lower()
    if path.endswith(_PHOTO_EXT):
        return "photo"
    if path.endswith(_VIDEO_EXT):
        return "video"
    return "link"


def _geo(record: Mapping[str, object], plan: _Plan, notes: dict[str, str]) -> Geo | None:
    place_column = plan.column("place")
    place = record.get(place_column) if place_column else None
    place_geo = _place_geo(place, place_column) if place_column else None
    lat_column, lon_column = plan.column("lat"), plan.column("lon")
    if lat_column is None or lon_column is None:
        return place_geo
    lat, lon = _float(record.get(lat_column)), _float(record.get(lon_column))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return place_geo  # (0, 0) is how broken collectors write "no location"
    if lat == lon:
        # Seen in real exports: one coordinate written into both columns. The point is wrong.
        notes["geo_note"] = f"{lat_column} and {lon_column} hold the same value; not used as a location"
        return place_geo
    name = place_geo.place_name if place_geo else None
    return Geo(precision="point", source=f"{lat_column}/{lon_column}", lat=lat, lon=lon, place_name=name)


def _place_geo(value: object, column: str) -> Geo | None:
    if isinstance(value, dict):
        return _x_place(value, column)
    name = none_if_blank(value)
    if name is None or name.lower() in _NO_ID:
        return None
    return Geo(precision="text", source=column, place_name=name)


def _x_place(place: Mapping[str, Any], column: str) -> Geo | None:
    """An X place object: a name and a bounding box."""
    name = none_if_blank(place.get("full_name")) or none_if_blank(place.get("name"))
    box = place.get("bounding_box")
    ring = box.get("coordinates") if isinstance(box, dict) else None
    bbox = _bbox(ring[0]) if isinstance(ring, list) and ring and isinstance(ring[0], list) else None
    if name is None and bbox is None:
        return None
    country = none_if_blank(place.get("country_code"))
    return Geo(precision="place" if bbox else "text", source=column, place_name=name, country_code=country, bbox=bbox)


def _bbox(points: list[Any]) -> tuple[float, float, float, float] | None:
    """West, south, east, north of a GeoJSON ring ([lon, lat] pairs)."""
    pairs = [(_float(p[0]), _float(p[1])) for p in points if isinstance(p, list) and len(p) == 2]
    lons = [lon for lon, lat in pairs if lon is not None and lat is not None]
    lats = [lat for lon, lat in pairs if lon is not None and lat is not None]
    if not lons:
        return None
    return (min(lons), min(lats), max(lons), max(lats))


# -- building posts --------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    """One record being mapped: its values, the plan, and what it has told us so far."""

    record: Mapping[str, object]
    plan: _Plan
    notes: dict[str, str]  # annotations added by the mapping itself (id_source, geo_note)

    def get(self, field: str) -> object:
        column = self.plan.column(field)
        return None if column is None else self.record.get(column)

    def text(self, field: str) -> str | None:
        return _text(self.get(field))

    def id(self, field: str) -> str | None:
        return _clean_id(self.get(field))

    def flag(self, field: str) -> bool:
        return as_bool(self.get(field)) is True

    def scoped_uid(self, native: str | None, channel: str | None) -> str | None:
        if native is None:
            return None
        return make_uid(self.plan.platform, _scoped(self.plan.id_prefix, channel, native))


def _scoped(prefix: str, channel: str | None, native: str) -> str:
    return f"{prefix}{channel}/{native}" if channel else f"{prefix}{native}"


def _content_hash(text: str | None, created: object, author: str | None) -> str:
    """A stable id for a row without one. The "h" keeps it from ever looking like a numeric X id
    (whose time and URL would then be derived from it)."""
    joined = "\x1f".join((text or "", str(created or ""), author or ""))
    return "h" + hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def _created_at(row: _Row, native_id: str | None) -> datetime | None:
    raw = row.get("created_at")
    created = _time(raw)
    column = row.plan.column("created_at") or "created_at"
    if created is None:
        if _text(raw) is not None:
            row.notes[column] = str(raw)  # a time we cannot read is kept, not lost
        return None
    if row.plan.platform != "x" or native_id is None:
        return created
    from_id = snowflake_time(native_id)
    if from_id is not None and abs(created - from_id) > _SNOWFLAKE_TOLERANCE:
        # The column is some other time (the account's creation, a collection date): the tweet
        # id knows better. make_post reads it from the id when created_at is None.
        row.notes[column] = str(raw)
        return None
    return created


def _kind(row: _Row, reposted: str | bool | None, quoted: str | None, replied: str | None) -> PostKind:
    """The explicit kind column when it says something we know, else what the links imply."""
    given = row.text("kind")
    if given is not None:
        kind = _KINDS.get(given.strip().lower())
        if kind is not None:
            return kind
        row.notes[row.plan.column("kind") or "kind"] = given
    if reposted or row.flag("is_repost"):
        return "repost"
    if quoted or row.flag("is_quote"):
        return "quote"
    if replied or row.flag("is_reply"):
        return "reply"
    return "original"


def _reposted(row: _Row) -> str | bool | None:
    """The reposted id; or, where a table writes true/false in its "retweet" column, that flag."""
    value = row.get("reposted_id")
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no")):
        return as_bool(value) is True
    return _clean_id(value)


def _author(row: _Row) -> Author:
    handle = row.text("author_handle")
    return Author(
        id=row.id("author_id"),
        handle=handle.strip().lstrip("@") if handle else None,
        name=none_if_blank(row.text("author_name")),
        followers=as_int(row.get("author_followers")),
        verified=as_bool(row.get("author_verified")),
        location=none_if_blank(row.text("author_location")),
    )


def _metrics(row: _Row) -> Metrics:
    return Metrics(
        reposts=as_int(row.get("reposts")),
        replies=as_int(row.get("replies")),
        likes=as_int(row.get("likes")),
        quotes=as_int(row.get("quotes")),
        views=as_int(row.get("views")),
    )


def _list_field(row: _Row, field: str, reader: Callable[[object], list[str]]) -> tuple[str, ...] | None:
    values: list[str] = list(reader(row.get(field)))
    for column in row.plan.numbered.get(field, ()):
        values.extend(reader(row.record.get(column)))
    return _tuple_or_none(values)


def _read_hashtags(value: object) -> list[str]:
    return _words(value, "#＃'\"", ("text", "tag"))


def _read_mentions(value: object) -> list[str]:
    return _words(value, "@'\"", ("screen_name", "username", "acct"))


def _lang(value: object) -> str | None:
    """A language tag; datasets write "EN" where platforms write "en"."""
    tag = platform_lang(value)
    return tag.lower() if tag and tag.isalpha() else tag


def _post_url(row: _Row, platform: str, native: str, author: Author, channel: str | None) -> str | None:
    given = row.text("url")
    if given and given.strip().lower().startswith(("http://", "https://")):
        return given.strip()
    if platform == "x" and native.isdigit():
        return f"https://x.com/{author.handle or 'i/web'}/status/{native}"
    if platform == "telegram" and channel and not channel.lstrip("-").isdigit() and native.isdigit():
        return f"https://t.me/{channel.lstrip('@')}/{native}"
    return None


def _annotations(row: _Row) -> dict[str, str] | None:
    plan = row.plan
    result: dict[str, str] = {}
    for key, value in row.record.items():
        if key in plan.consumed or isinstance(value, dict) or value is None or value == "" or value == []:
            continue
        if plan.consumed_prefixes and key.startswith(plan.consumed_prefixes):
            continue
        if isinstance(value, str):
            if value.strip():
                result[key] = value
        elif isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, int | float):
            result[key] = str(value)
        else:
            result[key] = msgspec.json.encode(value).decode()
    result.update(row.notes)
    return result or None


def _map_record(record: Mapping[str, object], plan: _Plan, ctx: ParseContext, result: ParseResult) -> None:
    """Posts (one at most) from a record laid out as ``plan`` says."""
    if plan.errors:
        result.problems.append((None, "; ".join(plan.errors)))
        return
    row = _Row(record, plan, {})
    native = row.id("id")
    text = row.text("text")
    if native is None and text is None:
        result.problems.append((None, _no_id_no_text(plan)))
        return
    platform = plan.platform
    if platform == "x" and native is not None and native.isdigit() and len(native) > _MAX_X_ID_DIGITS:
        result.problems.append((None, f"{plan.column('id')} {native[:40]!r} is too long to be a tweet id"))
        return
    author = _author(row)
    created = _created_at(row, native)
    if native is None:
        native = _content_hash(text, row.get("created_at"), author.handle or author.id)
        row.notes["id_source"] = "content-hash"
    channel = row.text("channel")
    channel = channel.strip() if channel else None
    reposted, quoted, replied = _reposted(row), row.id("quoted_id"), row.id("replied_to_id")
    kind = _kind(row, reposted, quoted, replied)
    geo = _geo(record, plan, row.notes)
    post: Post = make_post(
        ctx,
        platform=platform,
        native_id=_scoped(plan.id_prefix, channel, native),
        kind=kind,
        original_text=text,
        created_at=created,
        hashtags=_list_field(row, "hashtags", _read_hashtags),
        mentions=_list_field(row, "mentions", _read_mentions),
        urls=_list_field(row, "urls", _links),
        url=_post_url(row, platform, native, author, channel),
        lang=_lang(row.get("lang")),
        author=author,
        reposted_uid=row.scoped_uid(reposted if isinstance(reposted, str) else None, channel),
        quoted_uid=row.scoped_uid(quoted, channel),
        replied_to_uid=row.scoped_uid(replied, channel),
        media=_media(record, plan),
        geo=geo,
        metrics=_metrics(row),
        annotations=_annotations(row),
    )
    result.posts.append(post)


def _no_id_no_text(plan: _Plan) -> str:
    id_column, text_column = plan.column("id"), plan.column("text")
    if id_column is None and text_column is None:
        return (
            "no id or text column was found in "
            f"{', '.join(plan.keys[:12]) or 'an empty record'}; name them with -o map.id=... -o map.text=..."
        )
    return f"row has neither an id nor text ({id_column or 'no id column'}, {text_column or 'no text column'} empty)"


# -- the formats ---------------------------------------------------------------------------


def _sniff_keys(
    keys: Iterable[str], full: int, text_only: int, id_only: int, objects: frozenset[str] = frozenset()
) -> int:
    """Confidence from the columns: an id and a text, a text, or only an id (an id list)."""
    plan = _build_plan(_dedupe(keys), (), fallback_platform="csv", objects=objects)
    has_id, has_text = plan.column("id") is not None, plan.column("text") is not None
    if has_id and has_text:
        return full
    if has_text:
        return text_only
    if has_id and any(plan.column(field) for field in _ID_LIST_COMPANIONS):
        return id_only
    return 0


# An "id" column alone is too common to mean posts; with a time or an author it is a list of posts.
_ID_LIST_COMPANIONS = ("created_at", "author_handle", "author_id")
_GEOJSON_TYPES = ("FeatureCollection", "Feature")


class GenericCsvFormat(Format):
    """Any CSV/TSV with one post per row; see the module docstring for the column mapping."""

    name: ClassVar[str] = "csv"
    title: ClassVar[str] = "Any CSV or TSV table of posts (columns found by name; -o map.<field>=<column>)"
    framing = "csv"
    platform: ClassVar[str] = "csv"

    def sniff(self, sample: Sample) -> int:
        if not sample.csv_header:
            return 0
        return _sniff_keys(sample.csv_header, 40, 35, 30)

    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        result = ParseResult()
        header_json = ctx.options.get("csv_header")
        if header_json is None:
            result.problems.append((None, "no CSV header was stored with this row"))
            return result
        plan = _csv_plan(header_json, _relevant_options(ctx.options))
        if isinstance(plan, str):
            result.problems.append((None, plan))
            return result
        cells, error = decode_cells(payload)
        if cells is None:
            result.problems.append((None, f"not a CSV row: {error}"))
            return result
        fitted = _fit_row(cells, len(plan.keys), result)
        if fitted is not None:
            _map_record(dict(zip(plan.keys, fitted, strict=True)), plan, ctx, result)
        return result


def _fit_row(cells: list[str], width: int, result: ParseResult) -> list[str] | None:
    """The row's cells lined up with the header, or None (with a problem) when they cannot be."""
    if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
        return cells[:width]  # a trailing delimiter
    if len(cells) != width:
        # A shifted row would put text in the wrong fields; better to quarantine it whole.
        result.problems.append((None, f"row has {len(cells)} cells but the header has {width}"))
        return None
    return cells


class GenericJsonFormat(Format):
    """Any JSON lines file or JSON array with one post per object; see the module docstring."""

    name: ClassVar[str] = "jsonl"
    title: ClassVar[str] = "Any JSON lines or JSON array of posts (keys found by name; -o map.<field>=<path>)"
    framing = "json"
    platform: ClassVar[str] = "json"

    def sniff(self, sample: Sample) -> int:
        value = sample.first_value
        if isinstance(value, dict):
            parts = self.split_document(value)  # {"posts": [...]}: judge by the first post
            value = parts[0][1] if parts else value
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict) or value.get("type") in _GEOJSON_TYPES:
            return 0  # GeoJSON features have ids too, but they are places, not posts
        flat = _flatten(value)
        objects = frozenset(key for key, item in flat.items() if isinstance(item, dict))
        return _sniff_keys(flat.keys(), 25, 25, 25, objects)

    def split_document(self, document: Any) -> list[tuple[str, Any]] | None:
        # {"tweets": [...]} (one list of objects under one key) is as common as a bare array.
        if isinstance(document, dict):
            lists = [(key, value) for key, value in document.items() if _is_object_list(value)]
            if len(lists) == 1:
                key, values = lists[0]
                return [(f"{key}[{index}]", value) for index, value in enumerate(values)]
        return super().split_document(document)

    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        result = ParseResult()
        value, error = decode_json(payload)
        if error is not None:
            result.problems.append((None, error))
            return result
        if not isinstance(value, dict):
            result.problems.append((None, f"expected a JSON object for one post, found {type(value).__name__}"))
            return result
        record = _flatten(value)
        objects = frozenset(key for key, item in record.items() if isinstance(item, dict))
        plan = _json_plan(tuple(record), objects, _relevant_options(ctx.options))
        _map_record(record, plan, ctx, result)
        return result


def _is_object_list(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, object]:
    """Every key of a JSON object by dotted path; nested objects are kept too (X place objects)."""
    flat: dict[str, object] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        flat[path] = item
        if isinstance(item, dict) and item:
            flat.update(_flatten(item, f"{path}."))
    return flat
