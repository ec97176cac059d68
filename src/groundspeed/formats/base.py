"""The importer contract: how a file becomes raw records, and a raw record becomes posts.

An importer (a *format*) does two things, kept apart on purpose:

1. **split** a file into raw records, each an exact byte payload with a locator (``file:line``).
   Raw records go to the spool untouched. Splitting is shared: a format picks a ``framing``
   (``lines``, ``json``, ``csv``, ``xml``) and the framing code in :mod:`.framing` does the work.
2. **parse** one raw record into posts. This runs when the spool is processed, and again on
   ``groundspeed reprocess``, so it must depend only on the payload and :class:`ParseContext`.

``parse`` never raises for bad data. It returns a :class:`ParseResult`: the posts it could make,
the *problems* (a part that is broken, with the reason; these are quarantined) and the *skipped*
(valid records that are not posts, e.g. a Bluesky "like" event or a tweet-counts response; these are
counted by reason, so nothing disappears without a trace).

A new format subclasses :class:`Format` and is listed in :mod:`groundspeed.formats` (the registry).
Every format runs through the same contract tests (``tests/contract``).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO, ClassVar, Literal

import msgspec

from ..model import Author, Geo, Media, Metrics, Post, Provenance, RawRef
from ..text import clean_text, extract_hashtags, extract_mentions, extract_urls, normalise

Framing = Literal["json", "csv", "xml", "custom"]


@dataclass(frozen=True, slots=True)
class Sample:
    """What detection looks at: the start of a (decompressed) file, and its first record parsed."""

    name: str  # file name, lower-case, compression suffix removed
    head: str  # first ~64 KiB as text
    first_value: Any  # the first JSON value (first line, or the whole head) or None
    csv_header: tuple[str, ...] | None  # the first CSV row, when the head looks like CSV

    def first_object(self) -> dict[str, Any] | None:
        """The first JSON object: the first value, or its first element when it is an array."""
        value = self.first_value
        if isinstance(value, list):
            value = value[0] if value else None
        return value if isinstance(value, dict) else None


class ParseContext(msgspec.Struct, frozen=True):
    """Everything ``parse`` may know besides the payload (all of it is stored in the spool).

    One is made per record, so it is a ``msgspec.Struct`` (a tenth of a frozen dataclass's cost).

    ``known_uids`` holds uids of posts the store has, or that an earlier record of the same import
    will store first. A format may leave such a post out instead of building it again (a retweet
    embeds its original, which is usually stored already) and count it in
    :attr:`ParseResult.duplicates`: inserting it would have changed nothing. It never affects what
    is stored, only how fast.
    """

    seq: int
    locator: str
    source: str
    collected_at: datetime  # arrival in groundspeed, aware UTC
    software: str
    query: str | None = None
    options: Mapping[str, str] = msgspec.field(default_factory=dict)
    known_uids: Container[str] = frozenset()

    def provenance(self, *, collected_at: datetime | None = None, collector: str | None = None) -> Provenance:
        return Provenance(
            source=self.source,
            software=self.software,
            query=self.query,
            collected_at=collected_at,
            collector=collector,
        )

    def raw(self, path: str | None = None) -> RawRef:
        return RawRef(seq=self.seq, locator=self.locator, path=path)


class ParseResult(msgspec.Struct):
    """What ``parse`` made of one record. (A ``msgspec.Struct``: one is made per record.)"""

    posts: list[Post] = []
    problems: list[tuple[str | None, str]] = []  # (path in record, reason)
    skipped: list[str] = []  # reasons, e.g. "bluesky like event"
    duplicates: int = 0  # posts left out because their uid is in ParseContext.known_uids


class Format(ABC):
    """One importable format. Subclasses set the class attributes and implement two methods."""

    name: ClassVar[str]  # short id used on the command line: --format x-v1
    title: ClassVar[str]  # one line for people: "X (Twitter) API v1.1 tweets"
    # "json": JSON lines or one JSON document (decided per file); "csv": rows, with the header in
    # the frame options as "csv_header"; "xml": split_document gets the parsed root element;
    # "custom": the format splits the byte stream itself (split_stream), e.g. WARC files.
    framing: ClassVar[Framing]
    platform: ClassVar[str]  # the platform its posts belong to ("x", "bluesky", ...)

    @abstractmethod
    def sniff(self, sample: Sample) -> int:
        """How sure this format is that the sample is its kind: 0 (no) to 100 (certain)."""

    @abstractmethod
    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        """Posts from one raw record. Never raises for bad data: report it in the result."""

    def split_document(self, document: Any) -> list[tuple[str, Any]] | None:
        """For ``json`` framing: the parts of a parsed document to spool as separate records.

        Return ``[(path, value), ...]`` (values are re-encoded as JSON), or ``None`` to keep the
        whole document as one record. The default keeps top-level arrays element by element.
        """
        if isinstance(document, list):
            return [(f"[{index}]", value) for index, value in enumerate(document)]
        return None

    def document_context(self, document: Any) -> dict[str, str] | None:
        """For ``json``/``xml`` framing: options every record of this document needs to be parsed
        (e.g. the Telegram channel a message belongs to). Stored with the records in the spool."""
        return None

    def split_stream(self, stream: BinaryIO, name: str) -> Iterator[tuple[str, bytes]]:
        """For ``custom`` framing: (locator suffix, payload) pairs read from a binary stream."""
        raise NotImplementedError


# -- helpers shared by the formats -----------------------------------------------------------

TWITTER_EPOCH_MS = 1288834974657
SNOWFLAKE_START = 29_000_000_000_000_000  # ids below this predate snowflakes (Nov 2010)


def snowflake_time(native_id: str) -> datetime | None:
    """Creation time encoded in an X/Twitter snowflake id, or None for older ids."""
    if not native_id.isdigit():
        return None
    value = int(native_id)
    if value < SNOWFLAKE_START:
        return None
    try:
        return datetime.fromtimestamp(((value >> 22) + TWITTER_EPOCH_MS) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):  # an absurdly long "id": no time in it
        return None


_TWITTER_TIME_RE = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [+-]\d{4} \d{4}$")


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from the timestamp shapes found in the wild, or None.

    Accepts ISO 8601 (with ``Z`` or an offset; a naive value is taken as UTC), the X v1.1 shape
    ``Wed Oct 10 20:19:24 +0000 2018``, RFC 2822 (RSS), and Unix seconds or milliseconds.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
        if seconds > 1e14:  # microseconds
            seconds /= 1e6
        elif seconds > 1e11:  # milliseconds
            seconds /= 1e3
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if _TWITTER_TIME_RE.match(text):
        try:
            return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
        except ValueError:
            return None
    if text.isdigit():
        return parse_time(int(text))
    iso = text.replace("Z", "+00:00").replace("z", "+00:00") if text[-1:] in "Zz" else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def as_int(value: object) -> int | None:
    """An int from a count field; None when missing or not a number (never 0 for unknown)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value else None
    if isinstance(value, str):
        stripped = value.strip().replace(",", "")
        if stripped.lstrip("-").isdigit():
            return int(stripped)
        try:
            return int(float(stripped))
        except ValueError:
            return None
    return None


def as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "y", "1", "t"):
            return True
        if lowered in ("false", "no", "n", "0", "f"):
            return False
    if isinstance(value, int):
        return bool(value)
    return None


def none_if_blank(value: object) -> str | None:
    """A stripped string, or None for missing/empty values."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def platform_lang(value: object) -> str | None:
    """A platform's language tag, with X's "und" (undetermined) and blanks as unknown."""
    text = none_if_blank(value)
    if text is None or text.lower() in ("und", "unknown", "null", "none", "zxx"):
        return None
    return text


def decode_json(payload: bytes) -> tuple[Any, str | None]:
    """(value, None) or (None, reason) for a JSON payload."""
    try:
        return msgspec.json.decode(payload), None
    except msgspec.DecodeError as exc:
        return None, f"not valid JSON: {exc}"


def decode_cells(data: str | bytes) -> tuple[list[str] | None, str | None]:
    """(cells, None) or (None, reason) for a CSV row or header as the framing stores them (a JSON
    list of strings)."""
    try:
        return msgspec.json.decode(data, type=list[str]), None
    except msgspec.DecodeError as exc:
        return None, str(exc)


_NO_AUTHOR = Author()
_NO_METRICS = Metrics()


def make_post(
    ctx: ParseContext,
    *,
    platform: str,
    native_id: str,
    kind: Literal["original", "repost", "reply", "quote"],
    original_text: str | None,
    created_at: datetime | None,
    path: str | None = None,
    hashtags: tuple[str, ...] | None = None,
    mentions: tuple[str, ...] | None = None,
    urls: tuple[str, ...] | None = None,
    provenance: Provenance | None = None,
    created_at_source: str | None = None,
    entities_decoded: bool = False,
    url: str | None = None,
    lang: str | None = None,
    author: Author = _NO_AUTHOR,
    reposted_uid: str | None = None,
    quoted_uid: str | None = None,
    replied_to_uid: str | None = None,
    thread_root_uid: str | None = None,
    media: tuple[Media, ...] = (),
    geo: Geo | None = None,
    metrics: Metrics = _NO_METRICS,
    annotations: dict[str, str] | None = None,
) -> Post:
    """Build a :class:`Post` with the shared rules applied.

    * ``uid`` is ``platform:native_id``; ``collected_at`` and ``raw`` come from the context.
    * ``text`` is the normalised form of ``original_text`` (see :mod:`groundspeed.text`), after
      HTML entities are decoded in the readable text.
    * hashtags, mentions and urls given as ``None`` are extracted from the text.
    * for X posts without a time, the time is read from the snowflake id
      (``created_at_source="snowflake-id"``); otherwise ``created_at_source`` is "platform"
      unless the format says where its time came from (e.g. "export-local-time").
    * ``entities_decoded=True`` when the format already turned HTML into text (Mastodon, RSS),
      so a literal "&amp;" the author typed is not decoded a second time.
    * a text that normalises to nothing (only a link) has ``text=None``: nothing to search.

    The other :class:`Post` fields are passed through. An importer's hot path may call
    :func:`build_post` instead: the same, with positional arguments.
    """
    return build_post(
        ctx,
        platform,
        native_id,
        kind,
        original_text,
        created_at,
        path,
        hashtags,
        mentions,
        urls,
        provenance,
        created_at_source,
        entities_decoded,
        url,
        lang,
        author,
        reposted_uid,
        quoted_uid,
        replied_to_uid,
        thread_root_uid,
        media,
        geo,
        metrics,
        annotations,
    )


def build_post(
    ctx: ParseContext,
    platform: str,
    native_id: str,
    kind: Literal["original", "repost", "reply", "quote"],
    original_text: str | None,
    created_at: datetime | None,
    path: str | None,
    hashtags: tuple[str, ...] | None,
    mentions: tuple[str, ...] | None,
    urls: tuple[str, ...] | None,
    provenance: Provenance | None,
    created_at_source: str | None,
    entities_decoded: bool,
    url: str | None,
    lang: str | None,
    author: Author,
    reposted_uid: str | None,
    quoted_uid: str | None,
    replied_to_uid: str | None,
    thread_root_uid: str | None,
    media: tuple[Media, ...],
    geo: Geo | None,
    metrics: Metrics,
    annotations: dict[str, str] | None,
) -> Post:
    """:func:`make_post` with every argument positional, in that order, for importers' hot paths.

    Matching two dozen keyword arguments costs more than the rest of the function (in CPython's
    call and in msgspec's constructor), and an import runs it for every post.
    """
    if original_text is None:
        readable = text = None
    else:
        if entities_decoded:
            readable = original_text.replace("\r\n", "\n") if "\r" in original_text else original_text
        else:
            readable = clean_text(original_text)
        if hashtags is None:
            hashtags = extract_hashtags(readable)
        if mentions is None:
            mentions = extract_mentions(readable)
        if urls is None:
            urls = extract_urls(readable)
        text = normalise(readable) or None
    created_source: str | None = None
    if created_at is not None:
        created_source = created_at_source or "platform"
    elif platform == "x":
        created_at = snowflake_time(native_id)
        if created_at is not None:
            created_source = "snowflake-id"
    return _new_post(
        f"{platform}:{native_id}",  # uid (make_uid, inlined)
        platform,
        native_id,
        kind,
        ctx.collected_at,
        provenance or ctx.provenance(),
        url,
        created_at,
        created_source,
        text,
        readable,  # original_text
        lang,
        author,
        reposted_uid,
        quoted_uid,
        replied_to_uid,
        thread_root_uid,
        hashtags or (),
        mentions or (),
        urls or (),
        media,
        geo,
        metrics,
        annotations,
        RawRef(seq=ctx.seq, locator=ctx.locator, path=path),
    )


# build_post passes Post's fields positionally (ten times cheaper than keywords in msgspec), in
# this order. Should the model change, posts are built with keywords instead (slower, still right).
POST_FIELD_ORDER = (
    "uid",
    "platform",
    "native_id",
    "kind",
    "collected_at",
    "provenance",
    "url",
    "created_at",
    "created_at_source",
    "text",
    "original_text",
    "lang",
    "author",
    "reposted_uid",
    "quoted_uid",
    "replied_to_uid",
    "thread_root_uid",
    "hashtags",
    "mentions",
    "urls",
    "media",
    "geo",
    "metrics",
    "annotations",
    "raw",
)


def _positional_posts() -> bool:
    # Fields after these (set by later stages, such as near_copy_of) keep their defaults.
    if Post.__struct_fields__[: len(POST_FIELD_ORDER)] != POST_FIELD_ORDER:
        return False
    try:
        values: tuple[Any, ...] = POST_FIELD_ORDER  # no type checks on construction: any values do
        Post(*values)
    except TypeError:  # kw_only
        return False
    return True


POSITIONAL_POSTS = _positional_posts()


def _post_from_keywords(*values: Any) -> Post:
    return Post(**dict(zip(POST_FIELD_ORDER, values, strict=True)))


_new_post: Callable[..., Post] = Post if POSITIONAL_POSTS else _post_from_keywords
