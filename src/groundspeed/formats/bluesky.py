"""Bluesky Jetstream v1 events, one JSON event per line.

Jetstream (``wss://jetstream*.bsky.network/subscribe``) turns the AT Protocol firehose into JSON:
``{"did", "time_us", "kind": "commit", "commit": {"operation", "collection", "rkey", "record",
"cid"}}``, and ``kind`` ``identity``/``account`` for changes to an account.

Posts come from ``app.bsky.feed.post`` creates and updates (an update keeps the uid, so the later
version replaces the earlier one), reposts from ``app.bsky.feed.repost`` creates. Everything else is
counted as skipped with its reason: likes, follows, blocks, profile updates, records of other apps,
identity and account events, and, for now, deletes (a delete names the record, not its content;
acting on it is left to the store).

Media: images and videos in a record are blob references (a CID), not URLs. They are kept as
media of the right type with ``url=None`` rather than a link into a particular CDN. External link
cards keep their URL (type ``link``). Handles are not in the events (only the DID), so
``author.handle`` is unknown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from ..model import Author, Media, Post, make_uid
from ..text import extract_urls
from .base import (
    Format,
    ParseContext,
    ParseResult,
    Sample,
    decode_json,
    make_post,
    none_if_blank,
    parse_time,
    platform_lang,
)

PLATFORM = "bluesky"
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"

# Records that are valid but not posts, by collection, with the reason they are counted under.
_NOT_POSTS = {
    "app.bsky.feed.like": "bluesky like (not a post)",
    "app.bsky.graph.follow": "bluesky follow (not a post)",
    "app.bsky.graph.block": "bluesky block (not a post)",
    "app.bsky.actor.profile": "bluesky profile update (not a post)",
    "app.bsky.graph.list": "bluesky list (not a post)",
    "app.bsky.graph.listitem": "bluesky list item (not a post)",
    "app.bsky.feed.threadgate": "bluesky threadgate (not a post)",
    "app.bsky.feed.postgate": "bluesky postgate (not a post)",
}
_FACET = "app.bsky.richtext.facet#"
_IMAGE_EMBEDS = ("app.bsky.embed.images", "app.bsky.embed.images#view")


class BlueskyJetstreamFormat(Format):
    name: ClassVar[str] = "bluesky-jetstream"
    title: ClassVar[str] = "Bluesky Jetstream v1 events (JSON lines)"
    framing = "json"
    platform: ClassVar[str] = PLATFORM

    def sniff(self, sample: Sample) -> int:
        value = sample.first_value
        if not isinstance(value, dict) or value.get("__partial__"):
            return 0
        if {"did", "time_us", "kind"} <= value.keys():
            return 95
        return 0

    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        result = ParseResult()
        event, error = decode_json(payload)
        if error is not None:
            result.problems.append((None, error))
            return result
        if not isinstance(event, dict):
            result.problems.append((None, f"not a Jetstream event (a JSON {type(event).__name__})"))
            return result
        kind = event.get("kind")
        if kind != "commit":
            result.skipped.append(f"bluesky {kind} event (not a post)")
            return result
        commit = event.get("commit")
        if not isinstance(commit, dict):
            result.problems.append(("commit", "Jetstream commit event without a commit object"))
            return result
        self._parse_commit(event, commit, ctx, result)
        return result

    def _parse_commit(
        self, event: dict[str, Any], commit: dict[str, Any], ctx: ParseContext, result: ParseResult
    ) -> None:
        collection = str(commit.get("collection"))
        operation = commit.get("operation")
        if operation == "delete":
            result.skipped.append(f"bluesky delete of {collection}")
            return
        if collection not in (POST, REPOST):
            result.skipped.append(_NOT_POSTS.get(collection, f"bluesky {collection} record (not a post)"))
            return
        if collection == REPOST and operation != "create":
            result.skipped.append(f"bluesky {operation} of {collection}")
            return
        did = none_if_blank(event.get("did"))
        rkey = none_if_blank(commit.get("rkey"))
        record = commit.get("record")
        if did is None or rkey is None:
            result.problems.append((None, "Jetstream commit without a did or rkey"))
            return
        if not isinstance(record, dict):
            result.problems.append(("commit.record", f"bluesky {operation} of {collection} without a record"))
            return
        created_at = parse_time(record.get("createdAt")) or parse_time(event.get("time_us"))
        if collection == POST:
            result.posts.append(_post(ctx, did, rkey, record, created_at))
        else:
            _add_repost(ctx, did, rkey, record, created_at, result)


def _at_uri(did: str, collection: str, rkey: str) -> str:
    return f"at://{did}/{collection}/{rkey}"


def _post(ctx: ParseContext, did: str, rkey: str, record: dict[str, Any], created_at: datetime | None) -> Post:
    uri = _at_uri(did, POST, rkey)
    reply = _as_dict(record.get("reply"))
    parent = _ref_uri(reply.get("parent"))
    root = _ref_uri(reply.get("root"))
    embed = _as_dict(record.get("embed"))
    quoted = _quoted_uri(embed)
    media, embed_urls = _embed_media(embed)
    text = record.get("text") if isinstance(record.get("text"), str) else None
    hashtags, mentions, urls = _facets(record.get("facets"))
    if embed_urls:
        # A link card's URL is shared even when the text does not spell it out.
        urls = tuple(dict.fromkeys((urls if urls is not None else extract_urls(text or "")) + embed_urls))
    # Precedence quote > reply: a Post has one kind, and a quoting reply keeps replied_to_uid.
    kind: Literal["original", "reply", "quote"] = "quote" if quoted else "reply" if parent else "original"
    return make_post(
        ctx,
        platform=PLATFORM,
        native_id=uri,
        kind=kind,
        # An empty text is normal for an image-only post: that is "no text", not unknown text.
        original_text=text if text and text.strip() else None,
        created_at=created_at,
        hashtags=hashtags,
        mentions=mentions,
        urls=urls,
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        lang=_first_lang(record.get("langs")),
        author=Author(id=did),
        quoted_uid=make_uid(PLATFORM, quoted) if quoted else None,
        replied_to_uid=make_uid(PLATFORM, parent) if parent else None,
        thread_root_uid=make_uid(PLATFORM, root) if root else None,
        media=media,
    )


def _add_repost(
    ctx: ParseContext, did: str, rkey: str, record: dict[str, Any], created_at: datetime | None, result: ParseResult
) -> None:
    subject = _ref_uri(record.get("subject"))
    if subject is None:
        result.problems.append(("commit.record.subject", "bluesky repost without a subject uri"))
    result.posts.append(
        make_post(
            ctx,
            platform=PLATFORM,
            native_id=_at_uri(did, REPOST, rkey),
            kind="repost",
            original_text=None,
            created_at=created_at,
            author=Author(id=did),
            reposted_uid=make_uid(PLATFORM, subject) if subject else None,
        )
    )


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _ref_uri(ref: object) -> str | None:
    """The ``uri`` of a strong ref (``{"uri", "cid"}``)."""
    return none_if_blank(ref.get("uri")) if isinstance(ref, dict) else None


def _first_lang(langs: object) -> str | None:
    if isinstance(langs, list) and langs:
        return platform_lang(langs[0])
    return None


def _embed_type(embed: dict[str, Any]) -> str:
    return str(embed.get("$type", ""))


def _quoted_uri(embed: dict[str, Any]) -> str | None:
    """The quoted post of a record embed (alone or with media); other embedded records are not quotes."""
    kind = _embed_type(embed)
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        inner = embed.get("record")
        return _quoted_uri(inner) if isinstance(inner, dict) else None
    if kind.startswith("app.bsky.embed.record"):
        uri = _ref_uri(embed.get("record"))
        # Feeds, lists and starter packs can be embedded too; only an embedded post is a quote.
        return uri if uri and f"/{POST}/" in uri else None
    return None


def _embed_media(embed: dict[str, Any]) -> tuple[tuple[Media, ...], tuple[str, ...]]:
    """Attachments of an embed, and the links it shares (an external card's URL)."""
    kind = _embed_type(embed)
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        inner = embed.get("media")
        return _embed_media(inner) if isinstance(inner, dict) else ((), ())
    if kind in _IMAGE_EMBEDS:
        images = embed.get("images")
        count = len(images) if isinstance(images, list) else 0
        return tuple(Media(type="photo") for _ in range(count)), ()
    if kind.startswith("app.bsky.embed.video"):
        return (Media(type="video"),), ()
    if kind.startswith("app.bsky.embed.external"):
        external = embed.get("external")
        url = none_if_blank(external.get("uri")) if isinstance(external, dict) else None
        return (Media(type="link", url=url),), ((url,) if url else ())
    return (), ()


def _facets(facets: object) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None, tuple[str, ...] | None]:
    """Hashtags, mentioned DIDs and links from rich-text facets; all None when the record has none.

    Facets are what the Bluesky app shows as tags, mentions and links, so when a record has them
    they replace extraction from the text (which cannot see a link shortened in the text).
    """
    if not isinstance(facets, list):
        return None, None, None
    tags: list[str] = []
    mentions: list[str] = []
    links: list[str] = []
    for facet in facets:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else ():
            if not isinstance(feature, dict):
                continue
            kind = str(feature.get("$type", ""))
            if kind == _FACET + "tag" and none_if_blank(feature.get("tag")):
                tags.append(str(feature["tag"]).lstrip("#"))
            elif kind == _FACET + "mention" and none_if_blank(feature.get("did")):
                mentions.append(str(feature["did"]))
            elif kind == _FACET + "link" and none_if_blank(feature.get("uri")):
                links.append(str(feature["uri"]))
    return tuple(dict.fromkeys(tags)), tuple(dict.fromkeys(mentions)), tuple(dict.fromkeys(links))
