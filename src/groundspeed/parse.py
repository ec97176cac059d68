"""Turning spooled raw records into posts: the parse step the processor and reprocess share."""

from __future__ import annotations

from collections import Counter
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


EXCERPT_CHARS = 400


def excerpt(payload: bytes) -> str:
    text = payload[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    return text[:EXCERPT_CHARS]


def invalid_post(post: Post) -> str | None:
    """Why a post from an importer cannot be stored, or None. Guards the store from importer bugs."""
    if post.kind not in POST_KINDS:
        return f"post {post.uid} has kind {post.kind!r}"
    if not post.uid or post.uid != f"{post.platform}:{post.native_id}":
        return f"post uid {post.uid!r} is not platform:native_id"
    for name in ("created_at", "collected_at"):
        value = getattr(post, name)
        if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
            return f"post {post.uid} has a {name} without a time zone"
    return None


def parse_frame(body: FrameBody, first_seq: int, *, from_seq: int = 0, software: str = __version__) -> ParsedBatch:
    """Parse every record of a spool frame at or after ``from_seq``. Never raises for bad data."""
    result = ParsedBatch()
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
    for index, (locator, payload) in enumerate(body.records):
        seq = first_seq + index
        if seq < from_seq:
            continue
        result.records += 1
        ctx = ParseContext(
            seq=seq,
            locator=locator,
            source=body.source,
            collected_at=collected_at,
            software=software,
            query=body.query,
            options=options,
        )
        try:
            parsed = fmt.parse(payload, ctx)
        except Exception as exc:  # a bug in a format must not stop the flow: quarantine and go on
            reason = f"internal error in the {fmt.name} importer: {type(exc).__name__}: {exc}"
            result.quarantined.append(QuarantineItem(body.source, locator, reason, seq=seq, excerpt=excerpt(payload)))
            continue
        for post in parsed.posts:
            problem = invalid_post(post)
            if problem is None:
                result.posts.append(post)
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
        result.skipped.update(parsed.skipped)
    return result
