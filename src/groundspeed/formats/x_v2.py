"""X (Twitter) API v2 output, as saved by twarc2.

Accepted shapes (``json`` framing, usually one value per line):

* response pages ``{"data": [...], "includes": {...}, "meta": .., "errors": .., "__twarc": ..}``;
* single lookups ``{"data": {...}}`` and filtered-stream messages (``data`` plus
  ``matching_rules``);
* twarc2 *flattened* tweets (``twarc2 flatten``): one tweet per line with its expansions embedded
  (``author``, ``attachments.media``, ``geo`` merged with its place, full ``referenced_tweets``).

A page stays one raw record (the spool keeps what the API returned); each tweet in it becomes a post
whose path says where it sits (``data[3]``, ``includes.tweets[2]``). Tweets in ``includes.tweets``
are posts too: they are the originals that retweets and quotes point at.

Non-post outputs of twarc2 (tweet counts, compliance jobs, user and list lookups) are counted as
skipped, and each ``errors`` entry of a page (e.g. a referenced tweet that was deleted) is counted
as ``x api error: <title>``. Pages are decoded as plain dicts: v2 payloads are small next to v1.1
ones and their optional parts vary a lot between endpoints and field lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from ..model import Author, Geo, Media, Metrics, Post, PostKind, Provenance, make_uid
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
    snowflake_time,
)

Obj = dict[str, Any]

EMPTY_RESPONSE = "empty x api response (no tweets)"
_NON_POST_DATA = {
    "counts": "x tweet counts (not posts)",
    "users": "x user profiles (not posts)",
    "lists": "x lists (not posts)",
}
# twarc2 media keys start with the media type (used when includes lack the media object).
_MEDIA_KEY_TYPES = {"3": "photo", "7": "video", "16": "animated_gif"}
# X counts impressions only since December 2022; older tweets report 0, which means unknown.
_IMPRESSIONS_SINCE = datetime(2022, 12, 1, tzinfo=UTC)
_LINK_FIELDS = {"retweeted": "reposted_uid", "quoted": "quoted_uid", "replied_to": "replied_to_uid"}


class XV2Format(Format):
    name = "x-v2"
    title = "X (Twitter) API v2 responses and tweets (twarc2 output, flattened or not)"
    framing = "json"
    platform = "x"

    def sniff(self, sample: Sample) -> int:
        return sniff_v2(sample)

    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        value, reason = decode_json(payload)
        if reason is not None:
            return ParseResult(problems=[(None, reason)])
        return parse_v2_value(value, ctx)


# -- small accessors: payloads are untrusted, so every read checks the type --------------------


def _obj(value: object) -> Obj:
    return value if isinstance(value, dict) else {}


def _objs(value: object) -> list[Obj]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _id(value: object) -> str | None:
    """An id as a string: the API sends strings, some tools rewrote them as numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value.isdigit() else None


def _join(path: str | None, part: str) -> str:
    if path is None:
        return part
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


# -- detection -------------------------------------------------------------------------------


def is_v2_tweet(value: object) -> bool:
    """A dict shaped like a v2 tweet (v1.1 tweets have an embedded ``user`` and ``id_str``)."""
    if not isinstance(value, dict) or "user" in value or "id_str" in value:
        return False
    if not (_id(value.get("id")) and isinstance(value.get("text"), str)):
        return False
    return any(key in value for key in ("author_id", "edit_history_tweet_ids", "author", "__twarc", "conversation_id"))


def _data_kind(data: object, url: str) -> str | None:
    """What a ``data`` payload holds: tweets, counts, users, lists, or None when unknown."""
    items = _objs(data) if isinstance(data, list) else _objs([data])
    if "/counts/" in url or any("tweet_count" in item for item in items):
        return "counts"
    if any("text" in item or "edit_history_tweet_ids" in item for item in items):
        return "tweets"
    if "/lists" in url or "_lists" in url or any("member_count" in item or "owner_id" in item for item in items):
        return "lists"
    if "/users" in url or any("username" in item for item in items):
        return "users"
    if any("author_id" in item for item in items):
        return "tweets"
    return None


def _is_compliance(value: Obj) -> bool:
    return "action" in value and "reason" in value and _id(value.get("id")) is not None and "text" not in value


def _sniff_partial(keys: Obj) -> int:
    """A line or document longer than the sample: we only know which keys appear in its start."""
    tweet_keys = any(key in keys for key in ("author_id", "conversation_id", "edit_history_tweet_ids"))
    if "data" not in keys:
        return 60 if tweet_keys and "id_str" not in keys else 0
    if any(key in keys for key in ("includes", "__twarc", "meta", "matching_rules")):
        return 85
    if tweet_keys or "tweet_count" in keys:
        return 80
    if "username" in keys and ("public_metrics" in keys or "pinned_tweet_id" in keys):
        return 70
    return 0


def _sniff_data(value: Obj) -> int:
    url = _str(_obj(value.get("__twarc")).get("url")) or ""
    if _data_kind(value.get("data"), url) is not None:
        return 95
    if any(key in value for key in ("__twarc", "includes", "meta", "matching_rules")):
        return 80
    return 0


def sniff_v2(sample: Sample) -> int:
    value = sample.first_object()
    if value is None:
        return 0
    if value.get("__partial__"):
        return _sniff_partial(value)
    if "data" in value:
        return _sniff_data(value)
    if is_v2_tweet(value):
        return 90
    if "/2/" in (_str(_obj(value.get("__twarc")).get("url")) or ""):
        return 85  # e.g. a page that holds only errors
    if _is_compliance(value):
        return 60
    return 0


# -- provenance ------------------------------------------------------------------------------


def query_from_url(url: object) -> str | None:
    """The search in an API URL (``query=`` for v2, ``q=`` for v1.1), decoded."""
    if not isinstance(url, str) or "?" not in url:
        return None
    params = parse_qs(urlsplit(url).query)
    for name in ("query", "q"):
        if params.get(name):
            return params[name][0]
    return None


def _rules_query(rules: object) -> str | None:
    """The filtered-stream rules a message matched: tags, else rule values, else rule ids."""
    names = []
    for rule in _objs(rules):
        name = _str(rule.get("tag")) or _str(rule.get("value"))
        rule_id = _id(rule.get("id"))
        if name is None and rule_id is not None:
            name = f"rule {rule_id}"
        if name is not None:
            names.append(name)
    return "; ".join(dict.fromkeys(names)) or None


def twarc_provenance(value: Obj, ctx: ParseContext) -> Provenance:
    twarc = _obj(value.get("__twarc"))
    version = _str(twarc.get("version"))
    collector = f"twarc {version}" if version else ("twarc" if twarc else None)
    provenance = ctx.provenance(collected_at=parse_time(twarc.get("retrieved_at")), collector=collector)
    if ctx.query is None:
        query = _rules_query(value.get("matching_rules")) or query_from_url(twarc.get("url"))
        if query is not None:
            provenance = msgspec.structs.replace(provenance, query=query)
    return provenance


# -- parsing ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Includes:
    """Expansions of a page, by id, for looking up what a tweet refers to."""

    users: dict[str, Obj] = field(default_factory=dict)
    media: dict[str, Obj] = field(default_factory=dict)
    places: dict[str, Obj] = field(default_factory=dict)

    @classmethod
    def of(cls, includes: object) -> _Includes:
        inc = _obj(includes)
        return cls(
            users={i: u for u in _objs(inc.get("users")) if (i := _id(u.get("id")))},
            media={k: m for m in _objs(inc.get("media")) if (k := _str(m.get("media_key")))},
            places={k: p for p in _objs(inc.get("places")) if (k := _str(p.get("id")))},
        )


def parse_v2_value(
    value: Any,
    ctx: ParseContext,
    provenance: Provenance | None = None,
    *,
    path: str | None = None,
    result: ParseResult | None = None,
) -> ParseResult:
    """Posts from one decoded v2 value. ``provenance`` replaces the one read from ``__twarc``."""
    result = result if result is not None else ParseResult()
    if isinstance(value, list):
        if not value:
            result.skipped.append(EMPTY_RESPONSE)
        for index, item in enumerate(value):
            _Parser(ctx, result, provenance).top(item, _join(path, f"[{index}]"))
    else:
        _Parser(ctx, result, provenance).top(value, path)
    return result


class _Parser:
    def __init__(self, ctx: ParseContext, result: ParseResult, provenance: Provenance | None) -> None:
        self.ctx = ctx
        self.result = result
        self.given = provenance
        self.provenance = provenance or ctx.provenance()
        self.seen: set[str] = set()

    def top(self, value: object, path: str | None) -> None:
        if not isinstance(value, dict):
            self.result.problems.append((path, "not an X API v2 object (expected a JSON object)"))
            return
        self.provenance = self.given or twarc_provenance(value, self.ctx)
        if "data" in value:
            self.page(value, path)
        elif is_v2_tweet(value) or (_id(value.get("id")) and "text" in value):
            self.tweet(value, path, _Includes(), flat=True)
        elif _is_compliance(value):
            self.result.skipped.append("x compliance result (not a post)")
        elif "errors" in value:
            self.errors(value.get("errors"))
        elif "meta" in value:
            self.result.skipped.append(EMPTY_RESPONSE)
        else:
            self.result.problems.append((path, "not an X API v2 response, stream message or tweet"))

    def page(self, value: Obj, path: str | None) -> None:
        data = value.get("data")
        url = _str(_obj(value.get("__twarc")).get("url")) or ""
        kind = _data_kind(data, url)
        if kind == "tweets":
            self.tweets(value, data, path)
        elif kind is not None:
            self.result.skipped.append(_NON_POST_DATA[kind])
        elif data is None or data == []:
            self.result.skipped.append(EMPTY_RESPONSE)
        else:
            self.result.problems.append((_join(path, "data"), "x api v2 data of an unknown kind (not tweets)"))
        self.errors(value.get("errors"))

    def tweets(self, value: Obj, data: object, path: str | None) -> None:
        includes = _Includes.of(value.get("includes"))
        if isinstance(data, list):
            for index, item in enumerate(data):
                self.tweet(item, _join(path, f"data[{index}]"), includes)
        else:
            self.tweet(data, _join(path, "data"), includes)
        for index, item in enumerate(_obj(value.get("includes")).get("tweets") or ()):
            self.tweet(item, _join(path, f"includes.tweets[{index}]"), includes)

    def errors(self, errors: object) -> None:
        for error in _objs(errors):
            title = _str(error.get("title")) or _str(error.get("message")) or _str(error.get("detail"))
            self.result.skipped.append(f"x api error: {title}" if title else "x api error")

    def tweet(self, tweet: object, path: str | None, includes: _Includes, *, flat: bool = False) -> None:
        if not isinstance(tweet, dict):
            self.result.problems.append((path, "x v2 tweet is not a JSON object"))
            return
        tweet_id = _id(tweet.get("id"))
        if tweet_id is None:
            self.result.problems.append((path, "x v2 tweet without an id"))
            return
        if tweet_id in self.seen:
            return
        self.seen.add(tweet_id)
        self.result.posts.append(tweet_post(tweet, tweet_id, self.ctx, path, includes, self.provenance))
        if flat:
            # Flattened tweets embed the full referenced tweets: emit them like includes.tweets.
            for index, ref in enumerate(_objs(tweet.get("referenced_tweets"))):
                if "text" in ref:
                    self.tweet(ref, _join(path, f"referenced_tweets[{index}]"), includes, flat=True)


# -- mapping one tweet -----------------------------------------------------------------------


def tweet_post(
    tweet: Obj, tweet_id: str, ctx: ParseContext, path: str | None, includes: _Includes, provenance: Provenance
) -> Post:
    entities = tweet.get("entities")
    author = _author_object(tweet, includes)
    kind, links = _kind_and_links(tweet, tweet_id)
    text = _str(_obj(tweet.get("note_tweet")).get("text")) or tweet.get("text")
    created = parse_time(tweet.get("created_at"))
    return make_post(
        ctx,
        platform="x",
        native_id=tweet_id,
        kind=kind,
        original_text=text if isinstance(text, str) else None,
        created_at=created,
        path=path,
        hashtags=_entity_values(entities, "hashtags", "tag"),
        mentions=_entity_values(entities, "mentions", "username"),
        urls=_entity_urls(entities),
        provenance=provenance,
        url=_status_url(author, tweet_id),
        lang=platform_lang(tweet.get("lang")),
        author=_author(author, tweet),
        media=_media(tweet, includes),
        geo=_geo(tweet, includes),
        metrics=_metrics(tweet, created or snowflake_time(tweet_id)),
        reposted_uid=links.get("reposted_uid"),
        quoted_uid=links.get("quoted_uid"),
        replied_to_uid=links.get("replied_to_uid"),
        thread_root_uid=links.get("thread_root_uid"),
    )


def _kind_and_links(tweet: Obj, tweet_id: str) -> tuple[PostKind, dict[str, str]]:
    links: dict[str, str] = {}
    for ref in _objs(tweet.get("referenced_tweets")):
        link = _LINK_FIELDS.get(str(ref.get("type")))
        ref_id = _id(ref.get("id"))
        if link and ref_id:
            links.setdefault(link, make_uid("x", ref_id))
    conversation = _id(tweet.get("conversation_id"))
    if conversation and conversation != tweet_id:
        links["thread_root_uid"] = make_uid("x", conversation)
    kind: PostKind = "original"
    if "reposted_uid" in links:
        kind = "repost"
    elif "replied_to_uid" in links:
        kind = "reply"
    elif "quoted_uid" in links:
        kind = "quote"
    return kind, links


def _author_object(tweet: Obj, includes: _Includes) -> Obj:
    author_id = _id(tweet.get("author_id"))
    found = includes.users.get(author_id) if author_id else None
    return found if found is not None else _obj(tweet.get("author"))


def _author(user: Obj, tweet: Obj) -> Author:
    followers = _obj(user.get("public_metrics")).get("followers_count")
    verified = user.get("verified")
    return Author(
        id=_id(user.get("id")) or _id(tweet.get("author_id")),
        handle=_str(user.get("username")),
        name=_str(user.get("name")),
        followers=as_int(followers),
        verified=verified if isinstance(verified, bool) else None,
        location=none_if_blank(user.get("location")),
    )


def _status_url(user: Obj, tweet_id: str) -> str:
    handle = _str(user.get("username"))
    return f"https://x.com/{handle}/status/{tweet_id}" if handle else f"https://x.com/i/web/status/{tweet_id}"


def _entity_values(entities: object, kind: str, key: str) -> tuple[str, ...] | None:
    """Values from ``entities``; None (extract from the text) when the tweet has no entities.

    v2 omits empty entity lists, so an entities object without ``hashtags`` means none.
    """
    if not isinstance(entities, dict):
        return None
    values = (_str(item.get(key)) for item in _objs(entities.get(kind)))
    return tuple(dict.fromkeys(value for value in values if value))


def _entity_urls(entities: object) -> tuple[str, ...] | None:
    if not isinstance(entities, dict):
        return None
    # Links to attached media carry a media_key; they are listed as media, not as urls.
    found = (
        _str(u.get("expanded_url")) or _str(u.get("url")) for u in _objs(entities.get("urls")) if "media_key" not in u
    )
    return tuple(dict.fromkeys(url for url in found if url))


def _media(tweet: Obj, includes: _Includes) -> tuple[Media, ...]:
    attachments = _obj(tweet.get("attachments"))
    embedded = _objs(attachments.get("media"))  # flattened tweets carry the media objects
    if embedded:
        return tuple(_media_item(item) for item in embedded)
    keys = [key for key in attachments.get("media_keys") or () if isinstance(key, str)]
    return tuple(_media_item(includes.media[key]) if key in includes.media else _media_from_key(key) for key in keys)


def _media_from_key(key: str) -> Media:
    return Media(type=_MEDIA_KEY_TYPES.get(key.split("_", 1)[0], "photo"))


def _media_item(item: Obj) -> Media:
    variants = [v for v in _objs(item.get("variants")) if _str(v.get("url")) and as_int(v.get("bit_rate")) is not None]
    best = max(variants, key=lambda v: as_int(v.get("bit_rate")) or 0, default=None)
    url = _str(best.get("url")) if best else None
    return Media(
        type=_str(item.get("type")) or "photo",
        url=url or _str(item.get("url")) or _str(item.get("preview_image_url")),
    )


def _metrics(tweet: Obj, created: datetime | None) -> Metrics:
    public = _obj(tweet.get("public_metrics"))
    views = as_int(public.get("impression_count"))
    if views == 0 and (created is None or created < _IMPRESSIONS_SINCE):
        views = None
    return Metrics(
        reposts=as_int(public.get("retweet_count")),
        replies=as_int(public.get("reply_count")),
        likes=as_int(public.get("like_count")),
        quotes=as_int(public.get("quote_count")),
        views=views,
    )


def _point(geo: Obj) -> tuple[float, float] | None:
    """(lat, lon) of ``geo.coordinates``, a GeoJSON Point written [lon, lat]."""
    coordinates = _obj(geo.get("coordinates")).get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) != 2:
        return None
    lon, lat = coordinates
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return float(lat), float(lon)


def _bbox(place: Obj) -> tuple[float, float, float, float] | None:
    box = _obj(place.get("geo")).get("bbox")
    if not isinstance(box, list) or len(box) != 4 or not all(isinstance(v, int | float) for v in box):
        return None
    west, south, east, north = (float(v) for v in box)
    return west, south, east, north


def _geo(tweet: Obj, includes: _Includes) -> Geo | None:
    geo = _obj(tweet.get("geo"))
    if not geo:
        return None
    place_id = _str(geo.get("place_id"))
    # twarc2 flatten merges the place object into ``geo`` itself.
    place = includes.places.get(place_id, geo) if place_id else geo
    name = _str(place.get("full_name")) or _str(place.get("name"))
    country = _str(place.get("country_code"))
    point = _point(geo)
    if point is not None:
        lat, lon = point
        return Geo(precision="point", source="geo.coordinates", lat=lat, lon=lon, place_name=name, country_code=country)
    bbox = _bbox(place)
    if bbox is None:
        return Geo(precision="text", source="geo.place_id", place_name=name, country_code=country) if name else None
    west, south, east, north = bbox
    return Geo(
        precision="place",
        source="geo.place_id",
        lat=(south + north) / 2,
        lon=(west + east) / 2,
        place_name=name,
        country_code=country,
        bbox=bbox,
    )
