"""Converting posts to database rows and back. Pure functions, no SQL.

The columns people filter and read most are real columns; the rest of a post travels in one
``details`` JSON column (:class:`PostDetails`), which keeps inserts fast (every bound value costs
time in Python's sqlite3 module) and is still readable in Datasette.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from ..model import Author, Geo, Media, Metrics, Post, Provenance, RawRef

POST_COLUMNS: tuple[str, ...] = (
    "uid",
    "platform",
    "native_id",
    "kind",
    "url",
    "created_at",
    "collected_at",
    "text",
    "original_text",
    "lang",
    "author_id",
    "author_handle",
    "author_name",
    "author_followers",
    "reposted_uid",
    "quoted_uid",
    "replied_to_uid",
    "hashtags",
    "lat",
    "lon",
    "place_name",
    "source",
    "spool_seq",
    "details",
)


class GeoDetails(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=False):
    precision: str
    source: str
    country_code: str | None = None
    bbox: tuple[float, float, float, float] | None = None


class PostDetails(msgspec.Struct, omit_defaults=True):
    """The ``details`` column: the parts of a post that are read, not filtered on.

    ``post_to_row`` builds it with positional arguments: keep the two in step.
    """

    software: str
    created_at_source: str | None = None
    author_verified: bool | None = None
    author_location: str | None = None
    thread_root_uid: str | None = None
    mentions: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    geo: GeoDetails | None = None
    metrics: Metrics | None = None
    query: str | None = None
    source_collected_at: datetime | None = None
    collector: str | None = None
    annotations: dict[str, str] | None = None
    raw_locator: str | None = None
    raw_path: str | None = None


_json = msgspec.json.Encoder()
_details = msgspec.json.Decoder(PostDetails)
_strings = msgspec.json.Decoder(tuple[str, ...])
_EMPTY_METRICS = Metrics()
_time_cache: dict[datetime, str] = {}
_minute_text: dict[tuple[int, int, int, int, int], str] = {}
_TWO_DIGITS = [f"{number:02d}" for number in range(60)]


def format_time(value: datetime | None) -> str | None:
    """UTC ISO 8601 with microseconds, e.g. ``2022-09-16T18:00:00.000000+00:00``.

    Always the same width and always UTC, so sorting the text sorts by time. Posts arrive in
    bursts that share timestamps (and a batch shares its arrival time), so results are cached.
    """
    if value is None:
        return None
    cached = _time_cache.get(value)
    if cached is not None:
        return cached
    if value.tzinfo is UTC:
        utc = value
    elif value.utcoffset():
        utc = value.astimezone(UTC)
    else:
        utc = value.replace(tzinfo=UTC)
    # utc.isoformat(timespec="microseconds") at a third of the cost: the text up to the minute is
    # cached, the seconds and microseconds appended.
    minute = (utc.year, utc.month, utc.day, utc.hour, utc.minute)
    prefix = _minute_text.get(minute)
    if prefix is None:
        if len(_minute_text) > 10_000:
            _minute_text.clear()
        prefix = _minute_text[minute] = utc.isoformat()[:17]  # 2022-09-16T18:00:
    micro = utc.microsecond
    text = prefix + _TWO_DIGITS[utc.second] + (f".{micro:06d}+00:00" if micro else ".000000+00:00")
    if len(_time_cache) > 50_000:
        _time_cache.clear()
    _time_cache[value] = text
    return text


def parse_stored_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value)


def post_to_row(post: Post) -> tuple[Any, ...]:
    author = post.author
    geo = post.geo
    provenance = post.provenance
    raw = post.raw
    metrics = post.metrics
    # Positional arguments, in PostDetails' field order: keywords cost more than the rest here.
    details = PostDetails(
        provenance.software,
        post.created_at_source,
        author.verified,
        author.location,
        post.thread_root_uid,
        post.mentions,
        post.urls,
        post.media,
        None if geo is None else GeoDetails(geo.precision, geo.source, geo.country_code, geo.bbox),
        None if metrics == _EMPTY_METRICS else metrics,
        provenance.query,
        provenance.collected_at,
        provenance.collector,
        post.annotations,
        None if raw is None else raw.locator,
        None if raw is None else raw.path,
    )
    created_at = post.created_at
    collected_at = post.collected_at
    hashtags = post.hashtags
    return (
        post.uid,
        post.platform,
        post.native_id,
        post.kind,
        post.url,
        None if created_at is None else (_time_cache.get(created_at) or format_time(created_at)),
        _time_cache.get(collected_at) or format_time(collected_at),
        post.text,
        post.original_text,
        post.lang,
        author.id,
        author.handle,
        author.name,
        author.followers,
        post.reposted_uid,
        post.quoted_uid,
        post.replied_to_uid,
        _json.encode(hashtags).decode() if hashtags else None,
        None if geo is None else geo.lat,
        None if geo is None else geo.lon,
        None if geo is None else geo.place_name,
        provenance.source,
        None if raw is None else raw.seq,
        _json.encode(details).decode(),
    )


def row_to_post(row: Any) -> Post:
    """A Post from a ``posts`` row (a sqlite3.Row or a mapping with the POST_COLUMNS keys and
    ``near_copy_of``)."""
    details = _details.decode(row["details"])
    geo = None
    if details.geo is not None:
        geo = Geo(
            precision=details.geo.precision,
            source=details.geo.source,
            lat=row["lat"],
            lon=row["lon"],
            place_name=row["place_name"],
            country_code=details.geo.country_code,
            bbox=details.geo.bbox,
        )
    raw = None
    if row["spool_seq"] is not None:
        raw = RawRef(seq=row["spool_seq"], locator=details.raw_locator or "", path=details.raw_path)
    collected_at = parse_stored_time(row["collected_at"])
    assert collected_at is not None
    return Post(
        uid=row["uid"],
        platform=row["platform"],
        native_id=row["native_id"],
        kind=row["kind"],
        url=row["url"],
        created_at=parse_stored_time(row["created_at"]),
        created_at_source=details.created_at_source,
        collected_at=collected_at,
        text=row["text"],
        original_text=row["original_text"],
        lang=row["lang"],
        author=Author(
            id=row["author_id"],
            handle=row["author_handle"],
            name=row["author_name"],
            followers=row["author_followers"],
            verified=details.author_verified,
            location=details.author_location,
        ),
        reposted_uid=row["reposted_uid"],
        quoted_uid=row["quoted_uid"],
        replied_to_uid=row["replied_to_uid"],
        thread_root_uid=details.thread_root_uid,
        hashtags=_strings.decode(row["hashtags"]) if row["hashtags"] else (),
        mentions=details.mentions,
        urls=details.urls,
        media=details.media,
        geo=geo,
        metrics=details.metrics or Metrics(),
        provenance=Provenance(
            source=row["source"],
            software=details.software,
            query=details.query,
            collected_at=details.source_collected_at,
            collector=details.collector,
        ),
        annotations=details.annotations,
        raw=raw,
        near_copy_of=row["near_copy_of"],
    )
