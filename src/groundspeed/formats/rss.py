"""News feeds: RSS 2.0 (and 0.9x), Atom 1.0 and RSS 1.0 (RDF).

The feed is parsed once (safely, with defusedxml) by the ``xml`` framing; ``split_document``
spools every item or entry as its own record, serialised back to XML with its namespaces, and
``document_context`` carries the feed's title, link, language and author as options
(``rss_feed_title``, ``rss_feed_link``, ``rss_feed_language``, ``rss_feed_author``).

Mapping of an item (RSS element / Atom element):

* native id: ``guid`` / ``id`` / ``rdf:about``, else the link, else a hash of the feed link, title
  and date. A ``guid`` that is not a URI (``"12345"``) is only unique within its feed, so it is
  qualified with the feed link: ``<feed link>#12345``.
* ``url``: ``link`` / ``link rel="alternate"``; ``created_at``: ``pubDate`` / ``published`` /
  ``dc:date`` / ``updated``. An unreadable date leaves ``created_at`` unknown and is reported.
* text: the title, a blank line, then ``description`` / ``summary`` (or ``content`` /
  ``content:encoded`` when there is no summary), with HTML flattened to text.
* author: ``author`` (RSS e-mail form ``mail (Name)`` gives the name) / ``dc:creator`` /
  ``author/name``, else the feed's author; language: ``dc:language`` / ``xml:lang``, else the feed's.
* media: ``enclosure``, ``media:content``, ``media:thumbnail`` and Atom ``link rel="enclosure"``.
* categories are not hashtags: they go to ``annotations["categories"]`` joined with ``"; "``.

Not handled: feeds inside HTML pages, JSON Feed, podcast-specific tags (iTunes), comments feeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from html import escape
from typing import Any, ClassVar
from xml.etree.ElementTree import Element, tostring

from defusedxml import ElementTree as SafeElementTree

from ..model import Author, Media, Post
from .base import Format, ParseContext, ParseResult, Sample, make_post, none_if_blank, parse_time, platform_lang
from .mastodon import html_to_text

PLATFORM = "rss"
ATOM = "http://www.w3.org/2005/Atom"
RSS1 = "http://purl.org/rss/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
MEDIA = "http://search.yahoo.com/mrss/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

OPTION_TITLE = "rss_feed_title"
OPTION_LINK = "rss_feed_link"
OPTION_LANGUAGE = "rss_feed_language"
OPTION_AUTHOR = "rss_feed_author"


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


class RssFormat(Format):
    name: ClassVar[str] = "rss"
    title: ClassVar[str] = "News feeds: RSS 2.0, Atom 1.0, RSS 1.0 (RDF)"
    framing = "xml"
    platform: ClassVar[str] = PLATFORM

    def sniff(self, sample: Sample) -> int:
        head = _skip_prolog(sample.head)
        if head.startswith("<rss") and head[4:5] in (" ", ">", "\n", "\t", "\r"):
            return 95
        if head.startswith("<feed") and ATOM in head[:2000]:
            return 95
        if head.startswith("<rdf:RDF") or head.startswith("<RDF"):
            return 95 if RSS1 in head[:4000] else 40
        return 0

    def split_document(self, document: Any) -> list[tuple[str, Any]] | None:
        if not isinstance(document, Element):
            return None
        items = list(_items(document))
        if not items and _feed_kind(document) is None:
            # Not a feed at all: keep it as one record so parse can say so, rather than import
            # nothing without a word.
            return [("", _serialise(document))]
        return [(path, _serialise(item)) for path, item in items]

    def document_context(self, document: Any) -> dict[str, str] | None:
        if not isinstance(document, Element):
            return None
        kind = _feed_kind(document)
        if kind is None:
            return None
        head = {"rss": document.find("channel"), "atom": document, "rdf": document.find(_q(RSS1, "channel"))}[kind]
        if head is None:
            return None
        context = {
            OPTION_TITLE: _text_of(_first(head, ("title", _q(ATOM, "title"), _q(RSS1, "title")))),
            OPTION_LINK: _entry_link(head) if kind == "atom" else _text_of(_first(head, ("link", _q(RSS1, "link")))),
            OPTION_LANGUAGE: _text_of(_first(head, ("language", _q(DC, "language"))))
            or none_if_blank(head.get(XML_LANG)),
            # Atom entries inherit the feed's author by the spec; an RSS managingEditor is not the
            # author of the items, so only a channel-level dc:creator counts there.
            OPTION_AUTHOR: _author_name(head) if kind == "atom" else _text_of(head.find(_q(DC, "creator"))),
        }
        return {key: value for key, value in context.items() if value is not None} or None

    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        result = ParseResult()
        try:
            item = SafeElementTree.fromstring(payload)
        except SafeElementTree.ParseError as exc:
            result.problems.append((None, f"not well-formed XML: {exc}"))
            return result
        except Exception as exc:  # defusedxml refuses entity tricks with its own exception types
            result.problems.append((None, f"refused as unsafe XML ({type(exc).__name__})"))
            return result
        if item.tag not in ("item", _q(RSS1, "item"), _q(ATOM, "entry")):
            result.problems.append((None, f"not a feed item or entry (element {_local(item.tag)!r})"))
            return result
        post = _post(item, ctx, result)
        if post is not None:
            result.posts.append(post)
        return result


# -- feed structure ---------------------------------------------------------------------------


def _skip_prolog(head: str) -> str:
    """The text from the root element on: skips the XML declaration, comments, stylesheets, doctype."""
    text = head.lstrip("\ufeff \t\r\n")
    while text.startswith(("<?", "<!")):
        closer = "-->" if text.startswith("<!--") else ">"
        end = text.find(closer)
        if end < 0:
            return ""  # the prolog runs past the sample: nothing to judge by
        text = text[end + len(closer) :].lstrip()
    return text


def _serialise(element: Element) -> bytes:
    """UTF-8 XML of one element; namespaces are declared on it, so it parses on its own."""
    return tostring(element, encoding="unicode").encode("utf-8")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _feed_kind(root: Element) -> str | None:
    if root.tag == "rss":
        return "rss"
    if root.tag == _q(ATOM, "feed"):
        return "atom"
    if root.tag == _q(RDF, "RDF"):
        return "rdf"
    return None


def _items(root: Element) -> Iterator[tuple[str, Element]]:
    kind = _feed_kind(root)
    if kind == "rss":
        channel = root.find("channel")
        elements = channel.findall("item") if channel is not None else []
        # RSS 0.9x feeds sometimes put items beside the channel rather than in it.
        elements += root.findall("item")
        yield from ((f"item[{index}]", item) for index, item in enumerate(elements))
    elif kind == "atom":
        yield from ((f"entry[{index}]", entry) for index, entry in enumerate(root.findall(_q(ATOM, "entry"))))
    elif kind == "rdf":
        yield from ((f"item[{index}]", item) for index, item in enumerate(root.findall(_q(RSS1, "item"))))


# -- one item ---------------------------------------------------------------------------------


def _post(item: Element, ctx: ParseContext, result: ParseResult) -> Post | None:
    atom_title = item.find(_q(ATOM, "title"))
    if atom_title is not None:
        title = _atom_text(atom_title)
    else:
        title = _text_of(_first(item, ("title", _q(RSS1, "title"), _q(DC, "title"))))
    body, links = _body(item)
    link = _entry_link(item) or _text_of(_first(item, ("link", _q(RSS1, "link"))))
    created_at, raw_date = _date(item, result)
    native_id = _native_id(item, link, title, raw_date, ctx)
    if native_id is None:
        result.problems.append((None, "feed item with no title, text, link or id"))
        return None
    if link is None and _is_permalink_guid(item):
        link = _text_of(item.find("guid"))
    # Some feeds repeat the title as the description; the text should not say it twice.
    parts = [part for part in (title, body if body != title else None) if part]
    text = "\n\n".join(parts) or None
    return make_post(
        ctx,
        platform=PLATFORM,
        native_id=native_id,
        kind="original",
        original_text=text,
        created_at=created_at,
        urls=tuple(dict.fromkeys(links)),
        url=link,
        lang=platform_lang(_language(item) or ctx.options.get(OPTION_LANGUAGE)),
        author=_item_author(item, ctx),
        media=_media(item),
        annotations=_categories(item),
    )


def _first(parent: Element, tags: tuple[str, ...]) -> Element | None:
    for tag in tags:
        found = parent.find(tag)
        if found is not None:
            return found
    return None


def _text_of(element: Element | None) -> str | None:
    if element is None:
        return None
    return none_if_blank("".join(element.itertext()))


def _atom_text(element: Element | None) -> str | None:
    """An Atom text construct: ``type`` text (the default), html (escaped) or xhtml (inline)."""
    if element is None:
        return None
    kind = element.get("type", "text")
    if kind in ("html", "text/html"):
        return none_if_blank(html_to_text(element.text or "")[0])
    if kind in ("xhtml", "application/xhtml+xml"):
        return none_if_blank(html_to_text(_xhtml(element))[0])
    return _text_of(element)


def _xhtml(element: Element) -> str:
    """The inline XHTML of an Atom text construct as plain HTML (tag names without namespaces).

    Serialising the XML would keep namespace prefixes (``<html:p>``) that the HTML flattener does
    not know as paragraphs, so the markup is rebuilt with local names.
    """
    parts = [escape(element.text or "", quote=False)]
    for child in element:
        name = _local(child.tag)
        attrs = "".join(f' {_local(key)}="{escape(value)}"' for key, value in child.attrib.items())
        parts.append(f"<{name}{attrs}>{_xhtml(child)}</{name}>")
        parts.append(escape(child.tail or "", quote=False))
    return "".join(parts)


def _body(item: Element) -> tuple[str | None, tuple[str, ...]]:
    """Summary text (or the full content when there is no summary) and the links it shares."""
    atom = _first(item, (_q(ATOM, "summary"), _q(ATOM, "content")))
    if atom is not None:
        kind = atom.get("type", "text")
        if kind in ("html", "text/html"):
            text, links = html_to_text(atom.text or "")
            return none_if_blank(text), links
        if kind in ("xhtml", "application/xhtml+xml"):
            text, links = html_to_text(_xhtml(atom))
            return none_if_blank(text), links
        return _text_of(atom), ()
    element = _first(item, ("description", _q(RSS1, "description"), _q(DC, "description"), _q(CONTENT, "encoded")))
    if element is None:
        return None, ()
    # RSS descriptions are escaped HTML by convention, even when they happen to hold plain text.
    text, links = html_to_text("".join(element.itertext()))
    return none_if_blank(text), links


def _entry_link(element: Element) -> str | None:
    """An Atom element's web page: ``link rel="alternate"`` (the default rel)."""
    for link in element.findall(_q(ATOM, "link")):
        if link.get("rel", "alternate") == "alternate" and none_if_blank(link.get("href")):
            return none_if_blank(link.get("href"))
    return None


def _date(item: Element, result: ParseResult) -> tuple[datetime | None, str | None]:
    """The publication time, and the date text as written (used to build an id when needed)."""
    tags = ("pubDate", _q(ATOM, "published"), _q(DC, "date"), _q(ATOM, "updated"), "date")
    for tag in tags:
        raw = _text_of(item.find(tag))
        if raw is None:
            continue
        parsed = parse_time(raw)
        if parsed is None:
            result.problems.append((_local(tag), f"unreadable date {raw!r}"))
        return parsed, raw
    return None, None


def _is_permalink_guid(item: Element) -> bool:
    guid = item.find("guid")
    return guid is not None and guid.get("isPermaLink", "true").lower() == "true"


def _native_id(
    item: Element, link: str | None, title: str | None, raw_date: str | None, ctx: ParseContext
) -> str | None:
    feed_link = ctx.options.get(OPTION_LINK)
    given = _text_of(_first(item, ("guid", _q(ATOM, "id")))) or none_if_blank(item.get(_q(RDF, "about")))
    if given is not None:
        if ":" not in given and feed_link:
            return f"{feed_link}#{given}"
        return given
    if link is not None:
        return link
    if title is None:
        return None
    # Nothing names the item: a hash of what identifies it keeps re-imports from duplicating it.
    digest = hashlib.sha256("\n".join((feed_link or "", title, raw_date or "")).encode("utf-8")).hexdigest()
    return f"sha256:{digest[:32]}"


def _language(item: Element) -> str | None:
    return _text_of(item.find(_q(DC, "language"))) or none_if_blank(item.get(XML_LANG))


def _author_name(element: Element) -> str | None:
    atom_author = element.find(_q(ATOM, "author"))
    if atom_author is not None:
        return _text_of(atom_author.find(_q(ATOM, "name"))) or _text_of(atom_author.find(_q(ATOM, "email")))
    creator = _text_of(element.find(_q(DC, "creator")))
    if creator is not None:
        return creator
    return _rss_author(_text_of(_first(element, ("author", "managingEditor"))))


def _rss_author(value: str | None) -> str | None:
    """RSS 2.0 ``author`` is an e-mail address, usually ``mail@example.com (Name)``: keep the name."""
    if value is None:
        return None
    if value.endswith(")") and "(" in value:
        return none_if_blank(value[value.rfind("(") + 1 : -1]) or value
    return value


def _item_author(item: Element, ctx: ParseContext) -> Author:
    name = _author_name(item) or ctx.options.get(OPTION_AUTHOR)
    return Author(name=name) if name else Author()


def _media_type(mime: str | None, medium: str | None = None) -> str:
    kind = (medium or (mime or "").split("/", 1)[0]).lower()
    return {"image": "photo", "video": "video", "audio": "audio"}.get(kind, "document")


def _media(item: Element) -> tuple[Media, ...]:
    found: dict[str, Media] = {}
    for enclosure in item.findall("enclosure"):
        url = none_if_blank(enclosure.get("url"))
        if url:
            found.setdefault(url, Media(type=_media_type(enclosure.get("type")), url=url))
    for link in item.findall(_q(ATOM, "link")):
        url = none_if_blank(link.get("href"))
        if link.get("rel") == "enclosure" and url:
            found.setdefault(url, Media(type=_media_type(link.get("type")), url=url))
    # media:content may sit in a media:group; .iter finds it at any depth.
    for content in item.iter(_q(MEDIA, "content")):
        url = none_if_blank(content.get("url"))
        if url:
            found.setdefault(url, Media(type=_media_type(content.get("type"), content.get("medium")), url=url))
    for thumbnail in item.iter(_q(MEDIA, "thumbnail")):
        url = none_if_blank(thumbnail.get("url"))
        if url:
            found.setdefault(url, Media(type="photo", url=url))
    return tuple(found.values())


def _categories(item: Element) -> dict[str, str] | None:
    names: list[str] = []
    for element in item.findall("category") + item.findall(_q(DC, "subject")):
        name = _text_of(element)
        if name:
            names.append(name)
    for element in item.findall(_q(ATOM, "category")):
        name = none_if_blank(element.get("label")) or none_if_blank(element.get("term"))
        if name:
            names.append(name)
    unique = list(dict.fromkeys(names))
    return {"categories": "; ".join(unique)} if unique else None
