"""News feeds: RSS 2.0, Atom 1.0 and RSS 1.0 (RDF)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from defusedxml import ElementTree

from groundspeed.formats.base import ParseContext, Sample
from groundspeed.formats.rss import RssFormat
from groundspeed.model import Author, Media, Post
from tests.helpers import FIXTURES, SHARED_DATA, detect_format, parse_path

HERE = FIXTURES / "rss"
RSS2 = HERE / "rss2.xml"
ATOM = HERE / "atom.xml"
RDF = HERE / "rdf.xml"
FORMAT = "rss"


def by_uid(posts: list[Post]) -> dict[str, Post]:
    return {post.uid: post for post in posts}


@pytest.mark.parametrize("path", [RSS2, ATOM, RDF])
def test_detected(path: Path) -> None:
    assert detect_format(path).name == FORMAT


@pytest.mark.parametrize(
    ("head", "score"),
    [
        ('<?xml version="1.0"?>\n<!-- hi -->\n<rss version="2.0"><channel/></rss>', 95),
        ('<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>', 95),
        ('<rdf:RDF xmlns:rdf="x" xmlns="http://purl.org/rss/1.0/">', 95),
        ("<rdf:RDF xmlns:rdf='x'>", 40),
        ("<rsstuff/>", 0),
        ('<feed xmlns="urn:other">', 0),
        ("<html><body>not a feed</body></html>", 0),
        ('{"rss": 1}', 0),
    ],
)
def test_sniff(head: str, score: int) -> None:
    assert RssFormat().sniff(Sample(name="f.xml", head=head, first_value=None, csv_header=None)) == score


def test_items_are_spooled_as_standalone_xml_with_the_feed_as_context() -> None:
    fmt = RssFormat()
    root = ElementTree.fromstring(RSS2.read_bytes())
    parts = fmt.split_document(root)
    assert parts is not None
    assert [path for path, _ in parts] == ["item[0]", "item[1]", "item[2]", "item[3]", "item[4]"]
    # the second item uses dc: and media: elements: they must still parse on their own
    item = ElementTree.fromstring(parts[1][1])
    assert item.find("{http://purl.org/dc/elements/1.1/}creator") is not None
    assert fmt.document_context(root) == {
        "rss_feed_title": "Relief News",
        "rss_feed_link": "https://relief.example/news",
        "rss_feed_language": "en-gb",
    }


def test_rss2_counts_and_problems() -> None:
    parsed = parse_path(RSS2, FORMAT)
    assert parsed.records == 5
    assert len(parsed.posts) == 4
    assert parsed.skipped == Counter()
    problems = sorted((item.locator.rsplit(":", 1)[-1], item.path, item.reason) for item in parsed.quarantined)
    assert problems == [
        ("item[2]", "pubDate", "unreadable date 'sometime last week'"),
        ("item[4]", None, "feed item with no title, text, link or id"),
    ]


def test_rss2_full_item() -> None:
    post = by_uid(parse_path(RSS2, FORMAT).posts)["rss:https://relief.example/news/shelters"]
    assert post.platform == "rss"
    assert post.kind == "original"
    assert post.url == "https://relief.example/news/shelters"
    assert post.created_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 12:30 at +03:30
    assert post.original_text == "Shelters open in the north\n\nThree schools are open as shelters.\n\nSee the map."
    assert post.urls == ("https://maps.example/shelters",)
    assert post.lang == "en-gb"  # from the channel
    assert post.author == Author(name="Ana Reporter")  # the name from "mail (Name)"
    assert post.annotations == {"categories": "Floods; Shelter"}
    assert post.hashtags == ()
    assert post.media == (
        Media(type="photo", url="https://relief.example/media/shelter.jpg"),
        Media(type="photo", url="https://relief.example/media/shelter-thumb.jpg"),
    )


def test_rss2_guid_that_is_not_a_uri_is_qualified_by_the_feed() -> None:
    posts = parse_path(RSS2, FORMAT).posts
    post = posts[1]
    assert post.native_id == "https://relief.example/news#flood-0042"
    assert post.url == "https://relief.example/news/road-12"
    assert post.created_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # dc:date
    assert post.original_text == "Road 12 closed\n\nRoad 12 is closed & traffic is diverted."  # not content:encoded
    assert post.author == Author(name="Bo Editor")
    assert post.media == (
        Media(type="video", url="https://relief.example/media/road.mp4"),
        Media(type="audio", url="https://relief.example/media/road.mp3"),
    )


def test_rss2_bad_date_and_title_only() -> None:
    posts = parse_path(RSS2, FORMAT).posts
    bridge, title_only = posts[2], posts[3]
    assert bridge.created_at is None
    assert bridge.native_id == "https://relief.example/news/bridge"  # no guid: the link
    assert bridge.author == Author()  # a managingEditor is not the items' author
    assert title_only.original_text == "Only a title here"
    assert title_only.native_id.startswith("sha256:")
    assert len(title_only.native_id) == len("sha256:") + 32
    assert title_only.url is None
    assert title_only.created_at is None
    # the id is stable: importing again gives the same uid
    assert parse_path(RSS2, FORMAT).posts[3].uid == title_only.uid


def test_atom_entries() -> None:
    parsed = parse_path(ATOM, FORMAT)
    assert parsed.quarantined == []
    first, persian = parsed.posts
    assert first.uid == "rss:tag:quake.example,2026:event-1"
    assert first.url == "https://quake.example/events/1"
    assert first.created_at == datetime(2026, 2, 1, 7, 0, tzinfo=UTC)  # published wins over updated
    assert first.original_text == "Magnitude 5.1 near the coast\n\nNo damage reported.\n\nDetails at the event page."
    assert first.urls == ("https://quake.example/events/1/details",)
    assert first.author == Author(name="Quake Watch Team")  # inherited from the feed
    assert first.lang == "en"  # the feed's xml:lang
    assert first.media == (Media(type="photo", url="https://quake.example/maps/1.png"),)
    assert first.annotations == {"categories": "Earthquake; coast"}
    assert persian.original_text == "زلزله در شمال\n\nخسارتی گزارش نشده است.\n\nLine two\nline three"
    assert persian.lang == "fa"
    assert persian.author == Author(name="علی")
    assert persian.created_at == datetime(2026, 2, 1, 9, 30, tzinfo=UTC)  # only updated
    assert persian.url is None


def test_rdf_items() -> None:
    parsed = parse_path(RDF, FORMAT)
    assert parsed.quarantined == []
    warning, all_clear = parsed.posts
    assert warning.uid == "rss:https://storm.example/bulletins/7"
    assert warning.created_at == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    assert warning.original_text == "Sturmwarnung\n\nOrkanböen bis 120 km/h erwartet."
    assert warning.author == Author(name="Wetterdienst")
    assert warning.lang == "de"
    assert warning.annotations == {"categories": "Sturm"}
    assert all_clear.original_text == "Entwarnung"


def test_xml_that_is_not_a_feed_is_reported_when_forced() -> None:
    parsed = parse_path(HERE / "not_a_feed.xml", FORMAT)
    assert parsed.posts == []
    [problem] = parsed.quarantined
    assert problem.reason == "not a feed item or entry (element 'inventory')"


def test_parse_reports_broken_xml() -> None:
    result = RssFormat().parse(b"<item><title>cut", _context())
    assert result.posts == []
    assert len(result.problems) == 1
    assert result.problems[0][1].startswith("not well-formed XML")


def _context() -> ParseContext:
    return ParseContext(
        seq=0, locator="x:item[0]", source="test", collected_at=datetime(2026, 1, 1, tzinfo=UTC), software="t"
    )


def test_real_bbc_feed() -> None:
    path = SHARED_DATA / "formats/api_payloads/rss/bbc_world_rss2_2017.xml"
    if not path.exists():
        pytest.skip("shared data not available")
    parsed = parse_path(path)
    assert [post.uid for post in parsed.posts] == [
        "rss:http://www.bbc.co.uk/news/world-europe-38691103",
        "rss:http://www.bbc.co.uk/news/world-africa-38686144",
        "rss:http://www.bbc.co.uk/news/world-middle-east-38689131",
    ]
    first = parsed.posts[0]
    assert first.created_at == datetime(2017, 1, 20, 12, 55, 28, tzinfo=UTC)
    assert first.lang == "en-gb"
    assert first.media[0].type == "photo"
    assert parsed.quarantined == []
