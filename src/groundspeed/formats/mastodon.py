"""Mastodon REST API Status entities (and the HTML-to-text helper the RSS importer shares).

Accepted shapes, as a single JSON document or as JSON lines of any of them:

* one Status (``GET /api/v1/statuses/:id``) or an array of them (timelines, ``/favourites``);
* a search response ``{"accounts": [], "statuses": [...], "hashtags": []}`` (``/api/v2/search``);
* a thread context ``{"ancestors": [...], "descendants": [...]}`` (``/statuses/:id/context``);
* streaming WebSocket frames ``{"stream": [...], "event": "update", "payload": "<Status JSON>"}``,
  one per line; ``delete``, ``notification`` and other events are skipped, not posts.

Not handled: the Server-Sent Events text form of the streaming API (``event: update`` /
``data: {...}``), status edit histories and notifications (skipped), and Mastodon.py's recorded
``{"request", "response"}`` wrappers.

Identity: a status ``id`` is only meaningful on the server that answered the request, while its
``uri`` (the ActivityPub id) is the same on every server, so the uid is ``mastodon:<uri>``. For the
same reason a reply's parent (``in_reply_to_id``, a local id) usually cannot be turned into a uid;
the local id is kept in ``annotations["in_reply_to_id"]``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlsplit

from ..model import Author, Media, Metrics, Post, PostKind, make_uid
from .base import (
    Format,
    ParseContext,
    ParseResult,
    Sample,
    as_int,
    decode_json,
    make_post,
    none_if_blank,
    parse_time,
    platform_lang,
)

PLATFORM = "mastodon"

# -- HTML to readable text (shared with the RSS importer) --------------------------------------

# Elements that start a new paragraph: their text is set off by a blank line.
_PARAGRAPHS = frozenset(
    {"p", "div", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "section", "article"}
)
# Elements that start a new line but not a new paragraph.
_LINES = frozenset({"br", "li", "tr", "hr", "dd", "dt", "figcaption"})
# Elements whose content is not text a reader sees.
_HIDDEN = frozenset({"script", "style", "head", "template", "noscript"})
# Link classes Mastodon gives to hashtag and mention links: those are entities, not shared links.
_ENTITY_LINK_CLASSES = frozenset({"mention", "hashtag", "u-url"})
_SPACES_RE = re.compile(r"[ \t\r\n\f]+")  # HTML white space (not NBSP, which is meant)
_RUNS_RE = re.compile(r" {2,}")


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML fragment and the links it shares."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        if tag in _PARAGRAPHS:
            self.parts.append("\n\n")
        elif tag in _LINES:
            self.parts.append("\n")
        elif tag == "a":
            self._note_link(dict(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and <hr/> arrive here; they must not open a hidden or <pre> block.
        if tag in _LINES:
            self.parts.append("\n")
        elif tag in _PARAGRAPHS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
        if tag in _PARAGRAPHS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        if self._pre_depth:
            self.parts.append(data)
            return
        # Outside <pre>, source line breaks and runs of spaces are layout, not text (as a browser
        # renders them). Mastodon's "invisible" spans are kept: they hold the parts of a long URL
        # that the web UI hides, so keeping them gives the full link back.
        self.parts.append(_SPACES_RE.sub(" ", data))

    def _note_link(self, attrs: dict[str, str | None]) -> None:
        href = none_if_blank(attrs.get("href"))
        classes = set((attrs.get("class") or "").split())
        rel = set((attrs.get("rel") or "").split())
        if href is None or classes & _ENTITY_LINK_CLASSES or "tag" in rel:
            return
        if href.startswith(("http://", "https://")) and href not in self.links:
            self.links.append(href)

    def text(self) -> str:
        lines = [_RUNS_RE.sub(" ", line).strip() for line in "".join(self.parts).split("\n")]
        joined = "\n".join(lines)
        while "\n\n\n" in joined:
            joined = joined.replace("\n\n\n", "\n\n")
        return joined.strip()


def html_to_text(fragment: str) -> tuple[str, tuple[str, ...]]:
    """Readable text of an HTML fragment, and the http(s) links it shares (not tag/mention links).

    Paragraphs become blank-line separated, ``<br>`` a line break, tags are dropped, link text is
    kept and character references are decoded. Broken HTML never raises: the parser is lenient.
    """
    extractor = _TextExtractor()
    extractor.feed(fragment)
    extractor.close()
    return extractor.text(), tuple(extractor.links)


# -- the format --------------------------------------------------------------------------------

_MEDIA_TYPES = {"image": "photo", "video": "video", "gifv": "animated_gif", "audio": "audio"}
# Streaming events that carry a Status in their payload.
_STATUS_EVENTS = frozenset({"update", "status.update"})
_STREAM_EVENTS = frozenset(
    {"update", "status.update", "delete", "notification", "filters_changed", "conversation", "announcement"}
)


def _is_status(value: object) -> bool:
    return (
        isinstance(value, dict) and "uri" in value and "account" in value and ("content" in value or "reblog" in value)
    )


def _is_stream_frame(value: object) -> bool:
    return isinstance(value, dict) and "event" in value and ("stream" in value or value.get("event") in _STREAM_EVENTS)


def _is_recorded_exchange(value: object) -> bool:
    """A recorded API call ``{"request": {"method", "uri"}, "response": ...}`` (e.g. from test
    cassettes or proxies) against a Mastodon ``/api/v1`` or ``/api/v2`` endpoint."""
    if not isinstance(value, dict) or "response" not in value:
        return False
    request = value.get("request")
    return isinstance(request, dict) and "/api/v" in str(request.get("uri", ""))


def _holds_statuses(value: object) -> bool:
    if isinstance(value, list):
        return any(_is_status(item) for item in value)
    if _is_status(value):
        return True
    return isinstance(value, dict) and any(
        isinstance(value.get(key), list) and value[key] for key in ("statuses", "ancestors", "descendants")
    )


class MastodonFormat(Format):
    name: ClassVar[str] = "mastodon"
    title: ClassVar[str] = "Mastodon API statuses (timelines, search, streaming frames)"
    framing = "json"
    platform: ClassVar[str] = PLATFORM

    def sniff(self, sample: Sample) -> int:
        value = sample.first_object()
        if value is None:
            return 0
        if _is_status(value):
            return 90
        if _is_stream_frame(value) and value.get("event") in _STREAM_EVENTS:
            return 85
        if isinstance(value.get("statuses"), list) and "accounts" in value and "hashtags" in value:
            return 80
        if isinstance(value.get("ancestors"), list) and isinstance(value.get("descendants"), list):
            return 70
        if _is_recorded_exchange(value):
            return 80
        if value.get("__partial__") and {"uri", "account", "content", "reblogs_count"} <= value.keys():
            return 60  # a large document whose first status did not fit in the sample
        return 0

    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        result = ParseResult()
        value, error = decode_json(payload)
        if error is not None:
            result.problems.append((None, error))
            return result
        self._parse_value(value, ctx, result)
        return result

    def _parse_value(self, value: Any, ctx: ParseContext, result: ParseResult) -> None:
        if _is_recorded_exchange(value):
            response = value["response"]
            if _holds_statuses(response):
                self._parse_value(response, ctx, result)
            else:
                request = value["request"]
                endpoint = urlsplit(str(request.get("uri", ""))).path
                result.skipped.append(f"mastodon API response without posts ({request.get('method', '?')} {endpoint})")
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                self._parse_status_at(item, f"[{index}]", ctx, result)
        elif _is_status(value):
            self._parse_status_at(value, None, ctx, result)
        elif _is_stream_frame(value):
            self._parse_frame(value, ctx, result)
        elif isinstance(value, dict) and isinstance(value.get("statuses"), list):
            for index, item in enumerate(value["statuses"]):
                self._parse_status_at(item, f"statuses[{index}]", ctx, result)
        elif isinstance(value, dict) and ("ancestors" in value or "descendants" in value):
            for key in ("ancestors", "descendants"):
                for index, item in enumerate(value.get(key) or ()):
                    self._parse_status_at(item, f"{key}[{index}]", ctx, result)
        else:
            result.problems.append((None, _not_a_status(value)))

    def _parse_frame(self, frame: dict[str, Any], ctx: ParseContext, result: ParseResult) -> None:
        event = str(frame.get("event"))
        if event not in _STATUS_EVENTS:
            result.skipped.append(f"mastodon {event} event (not a post)")
            return
        inner = frame.get("payload")
        if isinstance(inner, str):
            # The WebSocket API sends the Status as a JSON string inside the JSON frame.
            inner, error = decode_json(inner.encode("utf-8"))
            if error is not None:
                result.problems.append(("payload", error))
                return
        self._parse_status_at(inner, "payload", ctx, result)

    def _parse_status_at(self, status: Any, path: str | None, ctx: ParseContext, result: ParseResult) -> None:
        if not _is_status(status):
            if isinstance(status, dict) and "content" in status and "uri" not in status and "account" in status:
                result.skipped.append("mastodon status edit (not a post)")
                return
            result.problems.append((path, _not_a_status(status)))
            return
        reblog = status.get("reblog")
        if isinstance(reblog, dict):
            # The reblogged status is a post in its own right; the wrapper records who boosted it.
            self._parse_status_at(reblog, _join(path, "reblog"), ctx, result)
        quote = status.get("quote")
        if isinstance(quote, dict) and isinstance(quote.get("quoted_status"), dict):
            self._parse_status_at(quote["quoted_status"], _join(path, "quote.quoted_status"), ctx, result)
        post = _status_post(status, path, ctx, result)
        if post is not None:
            result.posts.append(post)


def _join(path: str | None, child: str) -> str:
    return f"{path}.{child}" if path else child


def _not_a_status(value: object) -> str:
    if isinstance(value, dict):
        keys = ", ".join(sorted(str(key) for key in value)[:8])
        return f"not a Mastodon status (no uri/account/content; keys: {keys})"
    return f"not a Mastodon status (a JSON {type(value).__name__})"


def _status_post(status: dict[str, Any], path: str | None, ctx: ParseContext, result: ParseResult) -> Post | None:
    uri = none_if_blank(status.get("uri"))
    if uri is None:
        result.problems.append((path, "Mastodon status without a uri"))
        return None
    created_at = parse_time(status.get("created_at"))
    if created_at is None and status.get("created_at") is not None:
        result.problems.append((_join(path, "created_at"), f"unreadable time {status.get('created_at')!r}"))
    reblog = status.get("reblog")
    annotations: dict[str, str] = {}
    links = _kind_and_links(status, annotations)
    if isinstance(reblog, dict):
        text: str | None = None
        shared: tuple[str, ...] = ()
    else:
        text, shared = _status_text(status)
    return make_post(
        ctx,
        platform=PLATFORM,
        native_id=uri,
        kind=links.kind,
        original_text=text,
        created_at=created_at,
        path=path,
        hashtags=_tag_names(status.get("tags")),
        mentions=_mention_accts(status.get("mentions")),
        urls=_unique(shared + _card_url(status.get("card"))),
        url=none_if_blank(status.get("url")) or uri,
        lang=platform_lang(status.get("language")),
        author=_author(status.get("account")),
        media=_media(status.get("media_attachments")),
        metrics=_metrics(status),
        annotations=annotations or None,
        reposted_uid=links.reposted_uid,
        quoted_uid=links.quoted_uid,
        replied_to_uid=links.replied_to_uid,
    )


class _Links(NamedTuple):
    kind: PostKind
    reposted_uid: str | None = None
    quoted_uid: str | None = None
    replied_to_uid: str | None = None


def _kind_and_links(status: dict[str, Any], annotations: dict[str, str]) -> _Links:
    """The post kind and the uids it points to (notes for the annotations go in ``annotations``).

    Precedence is repost > quote > reply: a Post has one kind, and a reply that quotes still keeps
    its reply link (``in_reply_to_id``) in the annotations.
    """
    reblog = status.get("reblog")
    if isinstance(reblog, dict):
        reblog_uri = none_if_blank(reblog.get("uri"))
        return _Links("repost", reposted_uid=make_uid(PLATFORM, reblog_uri) if reblog_uri else None)
    replied_to: str | None = None
    reply_id = none_if_blank(status.get("in_reply_to_id"))
    if reply_id is not None:
        annotations["in_reply_to_id"] = reply_id
        replied_to = _self_reply_uid(status, reply_id)
    quote = status.get("quote")
    if isinstance(quote, dict):
        return _Links("quote", quoted_uid=_quoted_uid(quote, annotations), replied_to_uid=replied_to)
    return _Links("reply" if reply_id is not None else "original", replied_to_uid=replied_to)


def _quoted_uid(quote: dict[str, Any], annotations: dict[str, str]) -> str | None:
    """The uid of a Mastodon 4.5 quote's status; the state is noted when the quote is not shown."""
    state = none_if_blank(quote.get("state"))
    if state is not None and state != "accepted":
        annotations["quote_state"] = state
    quoted_id = none_if_blank(quote.get("quoted_status_id"))
    if quoted_id is not None:  # a "shallow" quote (streaming, notifications) gives only the local id
        annotations["quoted_status_id"] = quoted_id
    quoted = quote.get("quoted_status")
    quoted_uri = none_if_blank(quoted.get("uri")) if isinstance(quoted, dict) else None
    return make_uid(PLATFORM, quoted_uri) if quoted_uri else None


def _self_reply_uid(status: dict[str, Any], reply_id: str) -> str | None:
    """The parent's uid when it can be built safely: a reply to oneself on the same server.

    Then the parent's uri is the status's own uri with the id swapped. That holds only when the
    status is local to the server that answered (its uri ends in its local id); for anything else
    the local id says nothing about the parent's uri.
    """
    account = status.get("account")
    status_id = none_if_blank(status.get("id"))
    uri = none_if_blank(status.get("uri"))
    if not isinstance(account, dict) or status_id is None or uri is None:
        return None
    if none_if_blank(status.get("in_reply_to_account_id")) != none_if_blank(account.get("id")):
        return None
    suffix = f"/statuses/{status_id}"
    if not uri.endswith(suffix):
        return None
    return make_uid(PLATFORM, uri[: -len(status_id)] + reply_id)


def _status_text(status: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """Readable text (content warning first, then the body) and the links the body shares."""
    content = status.get("content")
    body, links = html_to_text(content) if isinstance(content, str) else ("", ())
    if not body and isinstance(status.get("text"), str):
        body = status["text"].strip()  # deleted statuses and some servers give plain source text
    spoiler = none_if_blank(status.get("spoiler_text"))
    parts = [part for part in (spoiler, body) if part]
    return ("\n\n".join(parts) if parts else None), links


def _tag_names(tags: object) -> tuple[str, ...]:
    if not isinstance(tags, list):
        return ()
    return _unique(tuple(str(tag["name"]) for tag in tags if isinstance(tag, dict) and tag.get("name")))


def _mention_accts(mentions: object) -> tuple[str, ...]:
    if not isinstance(mentions, list):
        return ()
    return _unique(tuple(str(item["acct"]) for item in mentions if isinstance(item, dict) and item.get("acct")))


def _card_url(card: object) -> tuple[str, ...]:
    url = none_if_blank(card.get("url")) if isinstance(card, dict) else None
    return (url,) if url else ()


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _author(account: object) -> Author:
    if not isinstance(account, dict):
        return Author()
    return Author(
        id=none_if_blank(account.get("id")),
        handle=none_if_blank(account.get("acct")),
        name=none_if_blank(account.get("display_name")),
        followers=as_int(account.get("followers_count")),
        verified=None,  # Mastodon has no verified badge (verified profile links are another thing)
        location=None,
    )


def _media(attachments: object) -> tuple[Media, ...]:
    if not isinstance(attachments, list):
        return ()
    media = []
    for item in attachments:
        if not isinstance(item, dict):
            continue
        kind = _MEDIA_TYPES.get(str(item.get("type")), "document")
        media.append(Media(type=kind, url=none_if_blank(item.get("url")) or none_if_blank(item.get("remote_url"))))
    return tuple(media)


def _metrics(status: dict[str, Any]) -> Metrics:
    return Metrics(
        reposts=as_int(status.get("reblogs_count")),
        replies=as_int(status.get("replies_count")),
        likes=as_int(status.get("favourites_count")),
        quotes=as_int(status.get("quotes_count")),
    )
