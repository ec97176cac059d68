"""X (Twitter) API v1.1 tweet objects.

Accepted shapes, all with ``json`` framing:

* JSON lines, one tweet per line (twarc 1 output, streaming captures, CrisisMMD files). Stream
  notices on their own line (``{"delete": ..}``, ``{"limit": ..}``) are counted as skipped.
* A JSON array of tweets (``statuses/user_timeline``): the framing keeps each element as a record.
* A search response ``{"statuses": [...], "search_metadata": ...}``, as a whole document (split
  into one record per status) or as one line of a JSON-lines file (parsed whole).

Retweets and quotes embed the original tweet (``retweeted_status``, ``quoted_status``). Those are
emitted as posts of their own, so a repost always links to a post that exists in the store.

Lines are decoded straight into ``msgspec`` structs rather than dicts: a v1.1 tweet carries ~100
fields we never read (profile colours, sizes of every thumbnail) and skipping them in the decoder is
what makes large archives import quickly. :func:`parse_v1_payload` is shared with the WARC format.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

import msgspec

from ..model import Author, Geo, Media, Metrics, Post, PostKind, Provenance
from .base import Format, ParseContext, ParseResult, Sample, as_int, build_post, parse_time, platform_lang

# -- schemas: only the fields we read; unknown fields are ignored by msgspec -------------------
# gc=False: decoded tweets hold no reference cycles, and untracked structs keep the garbage
# collector from rescanning every tweet of a batch.
# Scalars whose type differs between archives (ids as numbers or strings, counts like "100+" in
# 2010-era tweets) are typed as unions and read through as_int, so they never reject a tweet.


class _User(msgspec.Struct, omit_defaults=True, gc=False):
    id_str: str | None = None
    id: int | str | None = None
    screen_name: str | None = None
    name: str | None = None
    followers_count: int | str | None = None
    verified: bool | None = None
    location: str | None = None


class _Hashtag(msgspec.Struct, omit_defaults=True, gc=False):
    text: str | None = None


class _Mention(msgspec.Struct, omit_defaults=True, gc=False):
    screen_name: str | None = None


class _Url(msgspec.Struct, omit_defaults=True, gc=False):
    url: str | None = None
    expanded_url: str | None = None


class _Variant(msgspec.Struct, omit_defaults=True, gc=False):
    bitrate: int | None = None
    content_type: str | None = None
    url: str | None = None


class _VideoInfo(msgspec.Struct, omit_defaults=True, gc=False):
    variants: list[_Variant] = []


class _Media(msgspec.Struct, omit_defaults=True, gc=False):
    type: str | None = None
    media_url_https: str | None = None
    media_url: str | None = None
    video_info: _VideoInfo | None = None


class _Entities(msgspec.Struct, omit_defaults=True, gc=False):
    hashtags: list[_Hashtag] = []
    user_mentions: list[_Mention] = []
    urls: list[_Url] = []
    media: list[_Media] = []


class _ExtendedEntities(msgspec.Struct, omit_defaults=True, gc=False):
    media: list[_Media] = []


class _ExtendedTweet(msgspec.Struct, omit_defaults=True, gc=False):
    full_text: str | None = None
    entities: _Entities | None = None
    extended_entities: _ExtendedEntities | None = None


class _Point(msgspec.Struct, omit_defaults=True, gc=False):
    type: str | None = None
    coordinates: list[float] | None = None


class _BoundingBox(msgspec.Struct, omit_defaults=True, gc=False):
    type: str | None = None
    coordinates: list[list[list[float]]] | None = None


class _Place(msgspec.Struct, omit_defaults=True, gc=False):
    full_name: str | None = None
    name: str | None = None
    country_code: str | None = None
    bounding_box: _BoundingBox | None = None


class _Tweet(msgspec.Struct, omit_defaults=True, gc=False):
    id_str: str | None = None
    id: int | str | None = None
    created_at: object = None  # a string almost always; object so odd exports do not fail decoding
    timestamp_ms: object = None
    text: str | None = None
    full_text: str | None = None
    extended_tweet: _ExtendedTweet | None = None
    user: _User | None = None
    entities: _Entities | None = None
    extended_entities: _ExtendedEntities | None = None
    retweeted_status: _Tweet | None = None
    quoted_status: _Tweet | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_status_id: int | str | None = None
    quoted_status_id_str: str | None = None
    quoted_status_id: int | str | None = None
    is_quote_status: bool | None = None
    coordinates: _Point | None = None
    geo: _Point | None = None
    place: _Place | None = None
    retweet_count: int | str | None = None
    favorite_count: int | str | None = None
    reply_count: int | str | None = None
    quote_count: int | str | None = None
    lang: str | None = None
    aidr: dict[str, object] | None = None  # CrisisMMD/AIDR crisis labels


class _Record(_Tweet):
    """A top-level value: a tweet, or one of the non-tweet messages found in the same files."""

    statuses: list[msgspec.Raw] | None = None  # search response; elements decoded one by one
    search_metadata: dict[str, object] | None = None
    screen_name: str | None = None  # a user object on its own line
    errors: object = None
    delete: object = None
    limit: object = None
    scrub_geo: object = None
    status_withheld: object = None
    user_withheld: object = None
    warning: object = None
    disconnect: object = None
    event: object = None
    friends: object = None


_DECODER = msgspec.json.Decoder(_Record)
_ARRAY_DECODER = msgspec.json.Decoder(list[msgspec.Raw])

# Stream and API messages that are valid data but not posts: (field, reason).
_NOTICES = (
    ("delete", "x delete notice (not a post)"),
    ("limit", "x rate limit notice (not a post)"),
    ("scrub_geo", "x scrub_geo notice (not a post)"),
    ("status_withheld", "x status_withheld notice (not a post)"),
    ("user_withheld", "x user_withheld notice (not a post)"),
    ("warning", "x stream warning (not a post)"),
    ("disconnect", "x stream disconnect message (not a post)"),
    ("event", "x user stream event (not a post)"),
    ("friends", "x user stream friends list (not a post)"),
)

_V1_TIME_RE = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [+-]\d{4} \d{4}$")
EMPTY_RESPONSE = "empty x api response (no tweets)"


class XV1Format(Format):
    name = "x-v1"
    title = "X (Twitter) API v1.1 tweets (JSON lines, arrays, search responses)"
    framing = "json"
    platform = "x"

    def sniff(self, sample: Sample) -> int:
        return sniff_v1(sample)

    def split_document(self, document: Any) -> list[tuple[str, Any]] | None:
        if isinstance(document, dict) and isinstance(document.get("statuses"), list):
            return [(f"statuses[{index}]", status) for index, status in enumerate(document["statuses"])]
        return super().split_document(document)

    def document_context(self, document: Any) -> dict[str, str] | None:
        # A split search response loses its search_metadata; keep the query for provenance.
        if isinstance(document, dict) and isinstance(document.get("search_metadata"), dict):
            query = document["search_metadata"].get("query")
            if isinstance(query, str) and query:
                return {"search_query": unquote_plus(query)}
        return None

    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        query = ctx.query
        if query is None and ctx.options:
            query = ctx.options.get("search_query") or None
        # The records of a frame share their provenance (and posts may share the same object).
        key = (ctx.source, ctx.software, query)
        provenance = _PROVENANCES.get(key)
        if provenance is None:
            if len(_PROVENANCES) >= 256:
                _PROVENANCES.clear()
            provenance = _PROVENANCES[key] = Provenance(source=ctx.source, software=ctx.software, query=query)
        return parse_v1_payload(payload, ctx, provenance)


_PROVENANCES: dict[tuple[str, str, str | None], Provenance] = {}


# -- detection -------------------------------------------------------------------------------


def is_v1_tweet(value: object) -> bool:
    """A dict shaped like a v1.1 tweet: an id, an embedded user, text, and a v1.1 timestamp."""
    if not isinstance(value, dict):
        return False
    has_id = isinstance(value.get("id_str"), str) or isinstance(value.get("id"), int)
    has_text = isinstance(value.get("text"), str) or isinstance(value.get("full_text"), str)
    created = value.get("created_at")
    return (
        has_id
        and has_text
        and isinstance(value.get("user"), dict)
        and isinstance(created, str)
        and _V1_TIME_RE.match(created) is not None
    )


def _is_notice(value: dict[str, Any]) -> bool:
    return len(value) <= 2 and any(field in value for field, _ in _NOTICES)


def _tweet_in_head(head: str) -> bool:
    """Whether a later line of a JSON-lines head is a tweet (files may open with notices)."""
    for line in head.split("\n")[1:50]:
        try:
            if is_v1_tweet(msgspec.json.decode(line)):
                return True
        except msgspec.DecodeError:
            continue
    return False


def _sniff_partial(keys: dict[str, Any]) -> int:
    # A large document read only in part: we know which keys appear near its start.
    if "statuses" in keys and "search_metadata" in keys:
        return 85
    if "statuses" in keys and "id_str" in keys and "screen_name" in keys:
        return 70
    return 0


def sniff_v1(sample: Sample) -> int:
    value = sample.first_object()
    if value is None:
        return 0
    if value.get("__partial__"):
        return _sniff_partial(value)
    if is_v1_tweet(value):
        return 95
    statuses = value.get("statuses")
    if isinstance(statuses, list):
        return 95 if not statuses or is_v1_tweet(statuses[0]) else 30
    if _is_notice(value):
        return 90 if _tweet_in_head(sample.head) else 60
    return 0


# -- parsing ---------------------------------------------------------------------------------


def parse_v1_payload(
    payload: bytes,
    ctx: ParseContext,
    provenance: Provenance,
    *,
    path: str | None = None,
    result: ParseResult | None = None,
) -> ParseResult:
    """Posts from one v1.1 value: a tweet, an array of tweets, a search response or a notice."""
    result = result if result is not None else ParseResult()
    if payload[:1] == b"{":
        # The common case, a line holding one tweet, without the general walk.
        record = _decode(payload)
        if type(record) is _Record and record.user is not None and record.statuses is None and record.id_str:
            tweet_id = record.id_str
            if "x:" + tweet_id in ctx.known_uids:  # stored already (see ParseContext)
                result.duplicates += 1
            else:
                result.posts.append(tweet_post(record, tweet_id, ctx, path, provenance))
            original = record.retweeted_status
            if original is None and record.quoted_status is None:
                return result
            if (  # a plain retweet: one original, embedding nothing itself
                original is not None
                and record.quoted_status is None
                and original.retweeted_status is None
                and original.quoted_status is None
                and original.id_str
            ):
                original_id = original.id_str
                if original_id == tweet_id:
                    pass  # the same tweet twice: one post
                elif "x:" + original_id in ctx.known_uids:
                    result.duplicates += 1
                else:
                    result.posts.append(
                        tweet_post(original, original_id, ctx, _join(path, "retweeted_status"), provenance)
                    )
                return result
            parser = _Parser(ctx, provenance, result)
            parser.seen.add(tweet_id)
            parser.embedded(record, path)
            return result
        _Parser(ctx, provenance, result).decoded(record, path)
    elif payload.lstrip()[:1] == b"[":
        _Parser(ctx, provenance, result).array(payload, path)
    else:
        _Parser(ctx, provenance, result).item(payload, path)
    return result


def _join(path: str | None, part: str) -> str:
    if path is None:
        return part
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


def _decode(data: bytes | msgspec.Raw) -> _Record | str:
    """The record, or the reason it cannot be read."""
    try:
        return _DECODER.decode(data)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError as exc:
        return f"not valid JSON: {exc}"
    # A field of an unexpected type (a count written as a string, say): try a lenient conversion
    # before giving up, so one odd field does not cost the whole tweet.
    try:
        return msgspec.convert(msgspec.json.decode(data), _Record, strict=False)
    except msgspec.ValidationError as exc:
        return f"x v1.1 record has an unexpected shape: {exc}"


class _Parser:
    """Walks one record, appending posts, problems and skips to ``result``."""

    def __init__(self, ctx: ParseContext, provenance: Provenance, result: ParseResult) -> None:
        self.ctx = ctx
        self.provenance = provenance
        self.result = result
        self.seen: set[str] = set()  # a record can embed the same original twice

    def array(self, payload: bytes, path: str | None) -> None:
        try:
            elements = _ARRAY_DECODER.decode(payload)
        except msgspec.DecodeError as exc:
            self.result.problems.append((path, f"not valid JSON: {exc}"))
            return
        if not elements:
            self.result.skipped.append(EMPTY_RESPONSE)
        for index, element in enumerate(elements):
            self.item(element, _join(path, f"[{index}]"))

    def item(self, data: bytes | msgspec.Raw, path: str | None) -> None:
        self.decoded(_decode(data), path)

    def decoded(self, record: _Record | str, path: str | None) -> None:
        if isinstance(record, str):
            self.result.problems.append((path, record))
        elif record.statuses is not None:
            self.search_response(record, path)
        else:
            self.top_level(record, path)

    def search_response(self, record: _Record, path: str | None) -> None:
        query = (record.search_metadata or {}).get("query")
        if self.provenance.query is None and isinstance(query, str) and query:
            self.provenance = msgspec.structs.replace(self.provenance, query=unquote_plus(query))
        if not record.statuses:
            self.result.skipped.append(EMPTY_RESPONSE)
        for index, status in enumerate(record.statuses or ()):
            self.item(status, _join(path, f"statuses[{index}]"))

    def top_level(self, record: _Record, path: str | None) -> None:
        # Only tweets carry an embedded user, so the common case skips the notice checks.
        reason = None if record.user is not None else _not_a_post(record)
        if reason is not None:
            self.result.skipped.append(reason)
        elif _tweet_id(record) is None:
            self.result.problems.append((path, "x v1.1 tweet without an id (no id_str or id)"))
        else:
            self.tweet(record, path)

    def tweet(self, tweet: _Tweet, path: str | None) -> None:
        tweet_id = _tweet_id(tweet)
        if tweet_id is None:
            self.result.problems.append((path, "x v1.1 embedded tweet without an id"))
            return
        if tweet_id not in self.seen:
            self.seen.add(tweet_id)
            if "x:" + tweet_id in self.ctx.known_uids:  # stored already (see ParseContext)
                self.result.duplicates += 1
            else:
                self.result.posts.append(tweet_post(tweet, tweet_id, self.ctx, path, self.provenance))
        self.embedded(tweet, path)

    def embedded(self, tweet: _Tweet, path: str | None) -> None:
        """The tweets a retweet or quote carries (each is a post of its own)."""
        if tweet.retweeted_status is not None:
            self.tweet(tweet.retweeted_status, _join(path, "retweeted_status"))
        if tweet.quoted_status is not None:
            self.tweet(tweet.quoted_status, _join(path, "quoted_status"))


def _not_a_post(record: _Record) -> str | None:
    """Why a valid top-level record without a ``user`` is not a tweet, or None when it is one."""
    if record.errors is not None and record.text is None:
        return _api_error(record.errors)
    for field, reason in _NOTICES:
        if getattr(record, field) is not None:
            return reason
    if record.screen_name is not None and record.text is None:
        return "x user profile (not a post)"
    return None


def _api_error(errors: object) -> str:
    first = errors[0] if isinstance(errors, list) and errors else errors
    message = first.get("message") if isinstance(first, dict) else None
    return f"x api error: {message}" if isinstance(message, str) else "x api error"


def _tweet_id(tweet: _Tweet) -> str | None:
    return _other_id(tweet.id_str, tweet.id)


def _other_id(id_str: str | None, number: int | str | None) -> str | None:
    if id_str:
        return id_str
    if number is not None and str(number).isdigit():
        return str(number)
    return None


# -- mapping one tweet -----------------------------------------------------------------------


def tweet_post(tweet: _Tweet, tweet_id: str, ctx: ParseContext, path: str | None, provenance: Provenance) -> Post:
    # The hot path of an X import: helpers are inlined where a call cost more than its work.
    extended = tweet.extended_tweet
    if extended is not None:
        text = _first_text(extended.full_text, tweet.full_text, tweet.text)
        entities = extended.entities or tweet.entities
    else:
        text = tweet.full_text if tweet.full_text is not None else tweet.text
        entities = tweet.entities
    # The post kind and its *_uid links. A retweet's reply/quote fields describe the original.
    reposted_uid = quoted_uid = replied_to_uid = None
    kind: PostKind
    if tweet.retweeted_status is not None:
        kind = "repost"
        original = _tweet_id(tweet.retweeted_status)
        if original:
            reposted_uid = "x:" + original
    else:
        replied = tweet.in_reply_to_status_id_str or _other_id(None, tweet.in_reply_to_status_id)
        if replied:
            replied_to_uid = "x:" + replied
        quoted = tweet.quoted_status_id_str or _other_id(None, tweet.quoted_status_id)
        if quoted is None and tweet.quoted_status is not None:
            quoted = _tweet_id(tweet.quoted_status)
        if quoted:
            quoted_uid = "x:" + quoted
        kind = "reply" if replied else "quote" if quoted else "original"
    created_at = tweet.created_at
    created = (_TIMES.get(created_at) or _v1_time(created_at)) if type(created_at) is str else parse_time(created_at)
    if created is None:
        created = parse_time(tweet.timestamp_ms)
    if entities is not None:
        hashtags: tuple[str, ...] | None = (
            tuple([tag.text for tag in entities.hashtags if tag.text]) if entities.hashtags else ()
        )
        mentions: tuple[str, ...] | None = (
            tuple([m.screen_name for m in entities.user_mentions if m.screen_name]) if entities.user_mentions else ()
        )
        urls: tuple[str, ...] | None = _urls(entities) if entities.urls else ()
    else:
        hashtags = mentions = urls = None
    user = tweet.user
    handle = user.screen_name if user is not None else None
    lang = tweet.lang
    retweets, likes, replies, quotes = tweet.retweet_count, tweet.favorite_count, tweet.reply_count, tweet.quote_count
    if tweet.extended_tweet is None and tweet.extended_entities is None and (entities is None or not entities.media):
        media: tuple[Media, ...] = ()  # the common case, without the call
    else:
        media = _media(tweet, entities)
    return build_post(  # positional, in build_post's order (see there why)
        ctx,
        "x",  # platform
        tweet_id,  # native_id
        kind,
        text,  # original_text
        created,  # created_at
        path,
        hashtags,
        mentions,
        urls,
        provenance,
        None,  # created_at_source
        False,  # entities_decoded
        f"https://x.com/{handle}/status/{tweet_id}" if handle else f"https://x.com/i/web/status/{tweet_id}",  # url
        lang if lang and lang in _PLAIN_LANGS else platform_lang(lang),
        _author(user),
        reposted_uid,
        quoted_uid,
        replied_to_uid,
        None,  # thread_root_uid
        media,
        _geo(tweet) if tweet.place is not None or tweet.coordinates is not None or tweet.geo is not None else None,
        Metrics(
            reposts=retweets if type(retweets) is int else as_int(retweets),
            likes=likes if type(likes) is int else as_int(likes),
            replies=None if replies is None else as_int(replies),
            quotes=None if quotes is None else as_int(quotes),
        ),
        _annotations(tweet.aidr) if tweet.aidr else None,
    )


# Language tags that platform_lang would return unchanged (the common ones), checked first.
_PLAIN_LANGS = frozenset(
    ("fa", "ar", "en", "ur", "tr", "ku", "ps", "fr", "de", "es", "it", "ru", "pt", "nl", "sv", "ja", "ko", "zh")
)


_MONTHS = {
    name: number
    for number, name in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


_TIMES: dict[str, datetime | None] = {}


def _v1_time(text: str) -> datetime | None:
    """``Wed Oct 10 20:19:24 +0000 2018`` without strptime, which was a third of the parse time.

    Cached (a bounded memo) because a stream holds many tweets per second. Other shapes go to
    ``parse_time``.
    """
    try:
        return _TIMES[text]
    except KeyError:
        pass
    value = _parse_v1_time(text)
    if len(_TIMES) >= 8192:
        _TIMES.clear()
    _TIMES[text] = value
    return value


_MINUTES: dict[str, datetime | None] = {}
_SECONDS = [timedelta(seconds=second) for second in range(60)]


def _parse_v1_time(text: str) -> datetime | None:
    # The minute (everything but the seconds, offset and year included) is parsed once and
    # cached; the seconds are added. A stream has many tweets a minute.
    key = text[:17] + text[19:]
    if key in _MINUTES:
        base = _MINUTES[key]
        seconds = text[17:19]
        if base is not None and seconds.isdecimal() and len(seconds) == 2 and int(seconds) < 60:
            return base + _SECONDS[int(seconds)]
        return _parse_v1_time_fully(text)
    if len(_MINUTES) >= 4096:
        _MINUTES.clear()
    minute = text[:17] + "00" + text[19:]
    # Only a v1-shaped minute is kept: anything else goes to the full parse every time.
    shaped = len(text) == 30 and text[4:7] in _MONTHS and _V1_TIME_RE.match(minute) is not None
    _MINUTES[key] = _parse_v1_time_fully(minute) if shaped else None
    return _parse_v1_time_fully(text)


def _parse_v1_time_fully(text: str) -> datetime | None:
    month = _MONTHS.get(text[4:7])
    if month is None or _V1_TIME_RE.match(text) is None:
        return parse_time(text)
    try:
        local = datetime(
            int(text[26:30]), month, int(text[8:10]), int(text[11:13]), int(text[14:16]), int(text[17:19]), tzinfo=UTC
        )
        if text[21:25] == "0000":
            return local
        offset = int(text[21:23]) * 60 + int(text[23:25])
        return local - timedelta(minutes=offset if text[20] == "+" else -offset)
    except (ValueError, OverflowError):
        return None


def _first_text(*candidates: str | None) -> str | None:
    for candidate in candidates:
        if candidate is not None:
            return candidate
    return None


def _author(user: _User | None) -> Author:
    if user is None:
        return Author()
    followers = user.followers_count
    location = user.location
    return Author(
        id=user.id_str or _other_id(None, user.id),
        handle=user.screen_name or None,
        name=user.name or None,
        followers=followers if type(followers) is int else as_int(followers),
        verified=user.verified,
        location=location.strip() or None if location else None,
    )


def _urls(entities: _Entities) -> tuple[str, ...]:
    urls = [u.expanded_url or u.url for u in entities.urls]
    if len(urls) == 1:  # the common case, without the de-duplication
        return (urls[0],) if urls[0] else ()
    return tuple(dict.fromkeys(url for url in urls if url))


def _media(tweet: _Tweet, entities: _Entities | None) -> tuple[Media, ...]:
    # extended_entities lists every photo of a multi-photo tweet and the video variants;
    # entities.media holds only the first photo.
    extended = tweet.extended_tweet
    if extended and extended.extended_entities and extended.extended_entities.media:
        items = extended.extended_entities.media
    elif tweet.extended_entities and tweet.extended_entities.media:
        items = tweet.extended_entities.media
    else:
        items = entities.media if entities else []
    return tuple(Media(type=item.type or "photo", url=_media_url(item)) for item in items)


def _media_url(item: _Media) -> str | None:
    if item.video_info is not None:
        best = max(
            (v for v in item.video_info.variants if v.url and v.bitrate is not None),
            key=lambda v: v.bitrate or 0,
            default=None,
        )
        if best is not None:
            return best.url
    return item.media_url_https or item.media_url


def _valid(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def _point(point: _Point | None, *, lon_first: bool) -> tuple[float, float] | None:
    """(lat, lon) of a GeoJSON-like point. ``coordinates`` is [lon, lat]; the old ``geo`` is [lat, lon]."""
    if point is None or not point.coordinates or len(point.coordinates) != 2:
        return None
    first, second = point.coordinates
    lat, lon = (second, first) if lon_first else (first, second)
    return (lat, lon) if _valid(lat, lon) else None


def _bbox(place: _Place) -> tuple[float, float, float, float] | None:
    box = place.bounding_box
    if box is None or not box.coordinates or not box.coordinates[0]:
        return None
    corners = [corner for corner in box.coordinates[0] if len(corner) == 2]
    if not corners:
        return None
    lons = [corner[0] for corner in corners]
    lats = [corner[1] for corner in corners]
    return (min(lons), min(lats), max(lons), max(lats))


def _geo(tweet: _Tweet) -> Geo | None:
    place = tweet.place
    place_name = (place.full_name or place.name) if place else None
    country = (place.country_code or None) if place else None
    point = _point(tweet.coordinates, lon_first=True)
    source = "coordinates"
    if point is None:
        point, source = _point(tweet.geo, lon_first=False), "geo"
    if point is not None:
        return Geo(
            precision="point", source=source, lat=point[0], lon=point[1], place_name=place_name, country_code=country
        )
    if place is None:
        return None
    bbox = _bbox(place)
    if bbox is None:
        return (
            Geo(precision="text", source="place", place_name=place_name, country_code=country) if place_name else None
        )
    west, south, east, north = bbox
    return Geo(
        precision="place",
        source="place",
        lat=(south + north) / 2,
        lon=(west + east) / 2,
        place_name=place_name,
        country_code=country,
        bbox=bbox,
    )


def _annotations(aidr: dict[str, object] | None) -> dict[str, str] | None:
    if not aidr:
        return None
    labels = {f"aidr.{key}": value for key, value in aidr.items() if isinstance(value, str) and value}
    return labels or None
