"""The normalised post record shared by every platform.

Every importer and connector maps its payload into :class:`Post`. The raw payload itself is never
thrown away: it lives in the spool, and :attr:`Post.raw` points back to it, so a better mapping can
be applied later with ``groundspeed reprocess``.

Unknown stays unknown: a field the platform did not give is ``None``, never ``0`` or ``""``.
Collections (hashtags, mentions, urls, media) are empty tuples when the platform says there are none
or when they were derived from the text and none were found.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

# The records are declared gc=False: they hold no reference cycles (only strings, numbers, tuples
# and other records), and keeping them out of the garbage collector saved ~25% of parse time.

PostKind = Literal["original", "repost", "reply", "quote"]
POST_KINDS: tuple[PostKind, ...] = ("original", "repost", "reply", "quote")


class Author(msgspec.Struct, frozen=True, gc=False, kw_only=True, omit_defaults=True):
    """Who posted. Every field may be unknown."""

    id: str | None = None
    handle: str | None = None
    name: str | None = None
    followers: int | None = None
    verified: bool | None = None
    location: str | None = None  # free text from the profile, not a geocoded place


class Media(msgspec.Struct, frozen=True, gc=False, kw_only=True, omit_defaults=True):
    """One attachment: ``type`` is photo, video, animated_gif, audio, document or link."""

    type: str
    url: str | None = None


class Geo(msgspec.Struct, frozen=True, gc=False, kw_only=True, omit_defaults=True):
    """Where a post is, and how much to trust it.

    ``precision`` is ``point`` (exact coordinates), ``place`` (a named place with a bounding box),
    or ``text`` (a place named by the platform without coordinates). ``source`` says which field it
    came from, e.g. ``coordinates``, ``place``, ``geo.place_id``.
    """

    precision: str
    source: str
    lat: float | None = None
    lon: float | None = None
    place_name: str | None = None
    country_code: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north


class Metrics(msgspec.Struct, frozen=True, gc=False, kw_only=True, omit_defaults=True):
    """Public engagement counts as the platform reported them at collection time."""

    reposts: int | None = None
    replies: int | None = None
    likes: int | None = None
    quotes: int | None = None
    views: int | None = None


class Provenance(msgspec.Struct, frozen=True, gc=False, kw_only=True, omit_defaults=True):
    """Where a post came from, for citations and reproducibility (cf. twarc's ``__twarc``)."""

    source: str  # "file:tweets.jsonl", later "bluesky-jetstream"
    software: str  # groundspeed version that mapped it
    query: str | None = None  # the search, tracker or rule that found it, when known
    collected_at: datetime | None = None  # when the original collector fetched it, when known
    collector: str | None = None  # the original tool, e.g. "twarc 2.0.13"


class RawRef(msgspec.Struct, frozen=True, gc=False, kw_only=True, omit_defaults=True):
    """Pointer to the raw payload in the spool.

    ``seq`` is the spool record number, ``locator`` where the record came from (``file:line``),
    and ``path`` where inside the record this post sits (``data[3]``, ``retweeted_status``).
    """

    seq: int
    locator: str
    path: str | None = None


class Post(msgspec.Struct, frozen=True, gc=False):
    """One normalised post. See the module docstring for the rules on unknown values.

    Build posts with keywords. (Not ``kw_only``: ``formats.base.build_post``, the importers' hot
    path, passes the fields positionally, which msgspec does ten times faster; it checks the
    field order at import. Add new fields with defaults, at the end.)
    """

    uid: str  # "platform:native_id", stable across imports
    platform: str
    native_id: str
    kind: PostKind
    collected_at: datetime  # when groundspeed received it (arrival time), aware UTC
    provenance: Provenance
    url: str | None = None
    created_at: datetime | None = None  # event time, aware UTC
    created_at_source: str | None = None  # "platform" or "snowflake-id" when derived from the id
    text: str | None = None  # normalised for matching and search
    original_text: str | None = None  # readable text as posted (entities decoded, HTML flattened)
    lang: str | None = None  # as given by the platform; None when it gave none or "und"
    author: Author = Author()
    reposted_uid: str | None = None
    quoted_uid: str | None = None
    replied_to_uid: str | None = None
    thread_root_uid: str | None = None
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    geo: Geo | None = None
    metrics: Metrics = Metrics()
    annotations: dict[str, str] | None = None  # labels carried by a dataset (e.g. info_type)
    raw: RawRef | None = None
    # Set by the store, not by importers: the uid of the earlier post this one is a near-copy of.
    near_copy_of: str | None = None


def make_uid(platform: str, native_id: str) -> str:
    """The stable key of a post: ``platform:native_id``."""
    return f"{platform}:{native_id}"
