"""Turning spooled raw records into posts: the parse step the processor and reprocess share."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import __version__
from .formats import get_format
from .formats.base import ParseContext
from .model import POST_KINDS, Post
from .spool import FrameBody


@dataclass(slots=True)
class QuarantineItem:
    """A record (or part of one) that could not be used, and why."""

    source: str
    locator: str
    reason: str
    path: str | None = None
    seq: int | None = None
    excerpt: str | None = None


@dataclass(slots=True)
class ParsedBatch:
    posts: list[Post] = field(default_factory=list)
    quarantined: list[QuarantineItem] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    records: int = 0
    duplicates: int = 0  # posts not built because their uid was known (see KnownUids)


class KnownUids(dict[str, None]):
    """A bounded set of uids (a dict, for its C-speed ``in``): posts that need not be built again.

    Keeps at most ``limit`` uids; when it grows past that, the oldest half goes. Forgetting is
    always safe: a post that is not recognised is built and stored as before, and the store
    ignores it when it has it (posts are keyed by uid). What must never happen is recognising a
    uid that will not be stored, so only add uids of posts that are committed, or that an earlier
    batch of the same ordered pipeline carries (it commits before, or nothing later commits).
    """

    __slots__ = ("limit",)

    def __init__(self, base: Iterable[str] = (), *, limit: int = 100_000) -> None:
        super().__init__(dict.fromkeys(base))
        self.limit = limit
        self.trim()

    def add(self, uid: str) -> None:
        self[uid] = None
        if len(self) > self.limit:
            self.trim()

    def trim(self) -> None:
        """Forget the oldest half when over the limit (callers that add with ``known[uid] = None``
        in a loop call this after it)."""
        if len(self) > self.limit:
            for uid in list(itertools.islice(self, len(self) - self.limit // 2)):
                del self[uid]


class LayeredUids(KnownUids):
    """Known uids over a ``base`` set that is not copied (the store's committed uids): what is
    added goes here only. Its ``in`` is a Python call, so it suits small imports; a worker
    process copies the base into a plain :class:`KnownUids` instead."""

    __slots__ = ("base",)

    def __init__(self, base: KnownUids, *, limit: int = 100_000) -> None:
        super().__init__(limit=limit)
        self.base = base

    def __contains__(self, uid: object) -> bool:
        return dict.__contains__(self, uid) or uid in self.base


EXCERPT_CHARS = 400


def excerpt(payload: bytes) -> str:
    text = payload[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    return text[:EXCERPT_CHARS]


def invalid_post(post: Post) -> str | None:
    """Why a post from an importer cannot be stored, or None. Guards the store from importer bugs."""
    created_at, collected_at = post.created_at, post.collected_at
    if (
        (created_at is None or (type(created_at) is datetime and created_at.tzinfo is UTC))
        and type(collected_at) is datetime
        and collected_at.tzinfo is UTC
        and post.kind in POST_KINDS
        and post.uid == f"{post.platform}:{post.native_id}"
        and post.uid
    ):
        return None  # the common case, checked quickly
    if post.kind not in POST_KINDS:
        return f"post {post.uid} has kind {post.kind!r}"
    if not post.uid or post.uid != f"{post.platform}:{post.native_id}":
        return f"post uid {post.uid!r} is not platform:native_id"
    for name in ("created_at", "collected_at"):
        value = getattr(post, name)
        if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
            return f"post {post.uid} has a {name} without a time zone"
    return None


def parse_frame(
    body: FrameBody,
    first_seq: int,
    *,
    from_seq: int = 0,
    software: str = __version__,
    known: KnownUids | None = None,
) -> ParsedBatch:
    """Parse every record of a spool frame at or after ``from_seq``. Never raises for bad data.

    With ``known``, formats may leave out posts whose uid it holds (counted in ``duplicates``),
    and the uid of every post of this batch is added to it, so later records (and batches of the
    same ordered pipeline) skip them too.
    """
    result = ParsedBatch()
    known_uids: Container[str] = known if known is not None else frozenset()
    collected_at = datetime.fromtimestamp(body.received_at_us / 1e6, tz=UTC)
    options = body.options or {}
    try:
        fmt = get_format(body.format)
    except Exception as exc:  # a format removed since the record was spooled
        for index, (locator, payload) in enumerate(body.records):
            seq = first_seq + index
            if seq >= from_seq:
                result.records += 1
                result.quarantined.append(
                    QuarantineItem(body.source, locator, f"cannot parse: {exc}", seq=seq, excerpt=excerpt(payload))
                )
        return result
    # The loop below runs once per record: locals instead of attribute look-ups, and the
    # context built with positional arguments (ParseContext's field order).
    source, query, parse = body.source, body.query, fmt.parse
    posts = result.posts
    skipped = result.skipped
    start = max(0, from_seq - first_seq)
    records = body.records[start:] if start else body.records
    result.records = len(records)
    for seq, (locator, payload) in enumerate(records, first_seq + start):
        ctx = ParseContext(seq, locator, source, collected_at, software, query, options, known_uids)
        try:
            parsed = parse(payload, ctx)
        except Exception as exc:  # a bug in a format must not stop the flow: quarantine and go on
            reason = f"internal error in the {fmt.name} importer: {type(exc).__name__}: {exc}"
            result.quarantined.append(QuarantineItem(body.source, locator, reason, seq=seq, excerpt=excerpt(payload)))
            continue
        if parsed.duplicates:
            result.duplicates += parsed.duplicates
        for post in parsed.posts:
            problem = invalid_post(post)
            if problem is None:
                posts.append(post)
                if known is not None:
                    known[post.uid] = None
            else:
                reason = f"internal error in the {fmt.name} importer: {problem}"
                result.quarantined.append(
                    QuarantineItem(
                        body.source,
                        locator,
                        reason,
                        path=post.raw.path if post.raw else None,
                        seq=seq,
                        excerpt=excerpt(payload),
                    )
                )
        for path, reason in parsed.problems:
            result.quarantined.append(
                QuarantineItem(body.source, locator, reason, path=path, seq=seq, excerpt=excerpt(payload))
            )
        if parsed.skipped:
            skipped.update(parsed.skipped)
    if known is not None:
        known.trim()
    return result
