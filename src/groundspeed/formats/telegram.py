"""Telegram Desktop "Export chat history" JSON (``result.json``).

Two shapes are read, both as one JSON document:

* a single chat: ``{"name", "type", "id", "messages": [...]}``. Each message is spooled as its own
  record (path ``messages[17]``) and the chat's id, name and type travel as document options
  (``telegram_chat_id``, ``telegram_chat_name``, ``telegram_chat_type``);
* a full account export: ``{"about", "personal_information", ..., "chats": {"list": [...]},
  "left_chats": {"list": [...]}}``. Options hold one value per document, but here every chat is
  different, so each record is ``{"chat": {"id", "name", "type"}, "message": {...}}`` (path
  ``chats.list[2].messages[17]``).

The uid is ``telegram:<chat id>/<message id>`` with the chat id as exported (the bare number, also
for channels). A link ``https://t.me/<username>/<id>`` is given only when the public username is
known, which an export does not say: pass it as the option ``telegram_username``.

Times: newer exports have ``date_unixtime`` (UTC seconds, as a string), which is used. Older ones
only have ``date``, the *local time of the computer that made the export*, without a zone. It is
read as UTC, so it may be off by that computer's UTC offset; such posts carry
``annotations["date_zone"] = "exporter local time, read as UTC"``.

Not mapped: media files (an export holds paths on the exporting computer, or a "File not included"
notice, so media get a type and ``url=None`` and the path is not kept), reactions, polls, edits.
Service messages (channel created, member joined, ...) are skipped with their action.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from ..model import Author, Geo, Media, Post, PostKind
from .base import Format, ParseContext, ParseResult, Sample, decode_json, make_post, none_if_blank, parse_time

PLATFORM = "telegram"
CHAT_TYPES = frozenset(
    {
        "personal_chat",
        "bot_chat",
        "private_group",
        "private_supergroup",
        "public_supergroup",
        "private_channel",
        "public_channel",
        "saved_messages",
        "replies",
        "verification_codes",
    }
)
OPTION_CHAT_ID = "telegram_chat_id"
OPTION_CHAT_NAME = "telegram_chat_name"
OPTION_CHAT_TYPE = "telegram_chat_type"
OPTION_USERNAME = "telegram_username"
LOCAL_DATE_NOTE = "exporter local time, read as UTC"

_MEDIA_TYPES = {
    "animation": "animated_gif",
    "video_file": "video",
    "video_message": "video",
    "voice_message": "audio",
    "audio_file": "audio",
    "sticker": "photo",
}
_PUBLIC_TYPES = frozenset({"public_channel", "public_supergroup"})
_CHAT_TYPE_RE = re.compile(r'"type"\s*:\s*"(' + "|".join(sorted(CHAT_TYPES)) + r')"')
_PEER_PREFIX_RE = re.compile(r"^[a-z_]+(?=-?\d+$)")


class TelegramExportFormat(Format):
    name: ClassVar[str] = "telegram-export"
    title: ClassVar[str] = 'Telegram Desktop "Export chat history" JSON (result.json)'
    framing = "json"
    platform: ClassVar[str] = PLATFORM

    def sniff(self, sample: Sample) -> int:
        value = sample.first_value
        if not isinstance(value, dict):
            return 0
        if value.get("__partial__"):
            return _sniff_partial(value, sample.head)
        if isinstance(value.get("messages"), list) and value.get("type") in CHAT_TYPES:
            return 95
        chats = value.get("chats")
        if isinstance(chats, dict) and isinstance(chats.get("list"), list):
            return 90
        return 0

    def split_document(self, document: Any) -> list[tuple[str, Any]] | None:
        if not isinstance(document, dict):
            return super().split_document(document)
        if isinstance(document.get("messages"), list):
            return [(f"messages[{index}]", message) for index, message in enumerate(document["messages"])]
        if isinstance(document.get("chats"), dict) or isinstance(document.get("left_chats"), dict):
            return list(_full_export_parts(document))
        return None

    def document_context(self, document: Any) -> dict[str, str] | None:
        if not isinstance(document, dict) or not isinstance(document.get("messages"), list):
            return None
        context = {
            OPTION_CHAT_ID: none_if_blank(document.get("id")),
            OPTION_CHAT_NAME: none_if_blank(document.get("name")),
            OPTION_CHAT_TYPE: none_if_blank(document.get("type")),
        }
        return {key: value for key, value in context.items() if value is not None} or None

    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        result = ParseResult()
        value, error = decode_json(payload)
        if error is not None:
            result.problems.append((None, error))
            return result
        message, chat = _message_and_chat(value, ctx)
        if message is None:
            result.problems.append((None, "not a Telegram export message (a JSON object with an id and a type)"))
            return result
        kind = message.get("type", "message")  # some re-exports drop the type of ordinary messages
        if kind == "service":
            result.skipped.append(f"telegram service message ({message.get('action') or 'unknown action'})")
            return result
        if kind != "message":
            result.skipped.append(f"telegram {kind} record (not a message)")
            return result
        chat_id = none_if_blank(chat.get("id"))
        message_id = none_if_blank(message.get("id"))
        if chat_id is None or message_id is None:
            reason = "Telegram message without an id" if message_id is None else "Telegram message without its chat id"
            result.problems.append((None, reason))
            return result
        result.posts.append(_post(ctx, message, chat, chat_id, message_id, result))
        return result


def _sniff_partial(keys: dict[str, Any], head: str) -> int:
    """A large export seen only by its first 64 KiB: judge by key names and the chat type."""
    if "messages" in keys and _CHAT_TYPE_RE.search(head):
        return 90
    if "chats" in keys or ("about" in keys and "personal_information" in keys):
        return 85
    if "messages" in keys and ("date_unixtime" in keys or "text_entities" in keys or "from_id" in keys):
        return 80
    return 0


def _full_export_parts(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for section in ("chats", "left_chats"):
        listing = document.get(section)
        chats = listing.get("list") if isinstance(listing, dict) else None
        for chat_index, chat in enumerate(chats if isinstance(chats, list) else ()):
            if not isinstance(chat, dict):
                continue
            header = {key: chat.get(key) for key in ("id", "name", "type") if chat.get(key) is not None}
            messages = chat.get("messages")
            for index, message in enumerate(messages if isinstance(messages, list) else ()):
                yield f"{section}.list[{chat_index}].messages[{index}]", {"chat": header, "message": message}


def _message_and_chat(value: Any, ctx: ParseContext) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The message and what is known of its chat, for either record shape (see the module doc)."""
    if not isinstance(value, dict):
        return None, {}
    if isinstance(value.get("message"), dict) and isinstance(value.get("chat"), dict):
        return value["message"], value["chat"]
    chat = {
        "id": ctx.options.get(OPTION_CHAT_ID),
        "name": ctx.options.get(OPTION_CHAT_NAME),
        "type": ctx.options.get(OPTION_CHAT_TYPE),
    }
    if "id" not in value and "type" not in value:
        return None, chat
    return value, chat


def _post(
    ctx: ParseContext, message: dict[str, Any], chat: dict[str, Any], chat_id: str, message_id: str, result: ParseResult
) -> Post:
    annotations: dict[str, str] = {}
    created_at = _created_at(message, annotations, result)
    text, entities = _text_and_entities(message)
    hashtags, mentions, urls = _entity_lists(entities) if entities is not None else (None, None, None)
    kind: PostKind = "original"
    replied_to: str | None = None
    forwarded = none_if_blank(message.get("forwarded_from"))
    if forwarded is not None or "forwarded_from" in message:
        # A forward is Telegram's repost, but the export does not say which message it was.
        kind = "repost"
        annotations["forwarded_from"] = forwarded or "(hidden)"
    elif message.get("reply_to_message_id") is not None:
        kind = "reply"
        reply_chat = _peer_number(message.get("reply_to_peer_id")) or chat_id
        replied_to = f"{PLATFORM}:{reply_chat}/{message['reply_to_message_id']}"
    username = ctx.options.get(OPTION_USERNAME)
    # The option names one chat's username; a t.me link to a message of a private chat leads nowhere.
    public = bool(username) and (chat.get("type") in _PUBLIC_TYPES or chat.get("type") is None)
    return make_post(
        ctx,
        platform=PLATFORM,
        native_id=f"{chat_id}/{message_id}",
        kind=kind,
        original_text=text or None,
        created_at=created_at,
        hashtags=hashtags,
        mentions=mentions,
        urls=urls,
        url=f"https://t.me/{username}/{message_id}" if public else None,
        author=Author(id=none_if_blank(message.get("from_id")), name=none_if_blank(message.get("from"))),
        replied_to_uid=replied_to,
        media=_media(message),
        geo=_geo(message),
        annotations=annotations or None,
    )


def _created_at(message: dict[str, Any], annotations: dict[str, str], result: ParseResult) -> datetime | None:
    unix = message.get("date_unixtime")
    if unix is not None:
        created = parse_time(str(unix))
        if created is not None:
            return created
        result.problems.append(("date_unixtime", f"unreadable time {unix!r}"))
    date = message.get("date")
    created = parse_time(date)
    if created is None:
        if date is not None:
            result.problems.append(("date", f"unreadable time {date!r}"))
        return None
    annotations["date_zone"] = LOCAL_DATE_NOTE
    return created


def _text_and_entities(message: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    """The message text, and its entities when the export lists them (None: no entity information).

    ``text_entities`` (newer exports) is always a list of ``{"type", "text"}``. ``text`` is a plain
    string when the message has no entities, or a list mixing strings and entity objects.
    """
    listed = message.get("text_entities")
    if isinstance(listed, list):
        entities = [item for item in listed if isinstance(item, dict)]
        return "".join(str(item.get("text") or "") for item in entities), entities
    text = message.get("text")
    if isinstance(text, list):
        entities = [item for item in text if isinstance(item, dict)]
        return "".join(item if isinstance(item, str) else str(_entity_text(item)) for item in text), entities
    # A plain string in an export without text_entities: the entities are not known, so the
    # caller falls back to finding hashtags, mentions and links in the text.
    return (text if isinstance(text, str) else ""), None


def _entity_text(item: object) -> str:
    return str(item.get("text") or "") if isinstance(item, dict) else ""


def _entity_lists(entities: list[dict[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    tags: list[str] = []
    mentions: list[str] = []
    links: list[str] = []
    for entity in entities:
        kind = entity.get("type")
        text = _entity_text(entity).strip()
        if kind == "hashtag" and text:
            tags.append(text.lstrip("#＃"))
        elif kind == "mention" and text:
            mentions.append(text.lstrip("@"))
        elif kind == "link" and text:
            links.append(text)
        elif kind == "text_link" and none_if_blank(entity.get("href")):
            links.append(str(entity["href"]))
    return tuple(dict.fromkeys(tags)), tuple(dict.fromkeys(mentions)), tuple(dict.fromkeys(links))


def _peer_number(peer: object) -> str | None:
    """``channel1487851422`` -> ``1487851422``: peer ids carry a type prefix, chat ids do not."""
    text = none_if_blank(peer)
    return _PEER_PREFIX_RE.sub("", text) if text is not None else None


def _media(message: dict[str, Any]) -> tuple[Media, ...]:
    if "photo" in message:
        return (Media(type="photo"),)
    media_type = message.get("media_type")
    if isinstance(media_type, str):
        return (Media(type=_MEDIA_TYPES.get(media_type, "document")),)
    if "file" in message:
        return (Media(type="document"),)
    return ()


def _geo(message: dict[str, Any]) -> Geo | None:
    location = message.get("location_information")
    if not isinstance(location, dict):
        return None
    lat, lon = location.get("latitude"), location.get("longitude")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    place = message.get("place_name")
    return Geo(
        precision="point",
        source="location_information",
        lat=float(lat),
        lon=float(lon),
        place_name=place if isinstance(place, str) and place else None,
    )
