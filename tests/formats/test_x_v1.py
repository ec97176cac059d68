"""X API v1.1 tweets: JSON lines, arrays, search responses, embedded originals, notices."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from groundspeed.formats.base import ParseContext, Sample
from groundspeed.formats.x_v1 import XV1Format
from groundspeed.model import Author, Geo, Media, Metrics, Post
from tests.helpers import FIXTURES, SHARED_DATA, detect_format, parse_path

HERE = FIXTURES / "x_v1"
FORMAT = "x-v1"
CRISISMMD = SHARED_DATA / "formats" / "twitter_v1_1_crisismmd"


def by_uid(posts: list[Post]) -> dict[str, Post]:
    return {post.uid: post for post in posts}


def ctx(query: str | None = None) -> ParseContext:
    return ParseContext(
        seq=7,
        locator="f.jsonl:1",
        source="file:f.jsonl",
        collected_at=datetime(2024, 1, 1, tzinfo=UTC),
        software="t",
        query=query,
    )


def sample(value: object, head: str = "") -> Sample:
    return Sample(name="f.jsonl", head=head or msgspec.json.encode(value).decode(), first_value=value, csv_header=None)


@pytest.fixture(scope="module")
def tweets() -> dict[str, Post]:
    return by_uid(parse_path(HERE / "tweets.jsonl").posts)


# -- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tweets.jsonl", "timeline.json", "search.json", "search_pages.jsonl"])
def test_detected(name: str) -> None:
    assert detect_format(HERE / name).name == FORMAT


def test_sniff_refuses_v2_shapes() -> None:
    fmt = XV1Format()
    page = {"data": [{"id": "1", "text": "hi", "author_id": "2"}], "includes": {}, "__twarc": {}}
    flat = {
        "id": "1",
        "text": "hi",
        "author_id": "2",
        "author": {"username": "a"},
        "created_at": "2022-01-01T00:00:00.000Z",
    }
    assert fmt.sniff(sample(page)) == 0
    assert fmt.sniff(sample(flat)) == 0
    assert fmt.sniff(sample({"statuses": [flat]})) < 50


def test_sniff_looks_past_stream_notices() -> None:
    tweet = {"id_str": "5", "text": "t", "user": {"id_str": "1"}, "created_at": "Tue Sep 20 10:00:00 +0000 2022"}
    notice = {"delete": {"status": {"id_str": "4"}}}
    head = msgspec.json.encode(notice).decode() + "\n" + msgspec.json.encode(tweet).decode() + "\n"
    assert XV1Format().sniff(sample(notice, head)) == 90
    assert XV1Format().sniff(sample(notice)) == 60  # notices alone: likely, not certain


# -- JSON lines --------------------------------------------------------------------------------


def test_lines_counts_problems_and_skips() -> None:
    result = parse_path(HERE / "tweets.jsonl")
    assert result.records == 17
    assert len(result.posts) == 14
    assert Counter(post.kind for post in result.posts) == {"original": 9, "repost": 2, "reply": 1, "quote": 2}
    assert result.skipped == {
        "x delete notice (not a post)": 1,
        "x rate limit notice (not a post)": 1,
        "x user profile (not a post)": 1,
        "x api error: Rate limit exceeded": 1,
    }
    problems = {item.locator.rsplit(":", 1)[1]: item.reason for item in result.quarantined}
    assert problems["15"] == "x v1.1 tweet without an id (no id_str or id)"
    assert problems["16"].startswith("x v1.1 record has an unexpected shape") and "$.user" in problems["16"]
    assert problems["17"].startswith("not valid JSON")
    assert len(problems) == 3


def test_original_tweet(tweets: dict[str, Post]) -> None:
    post = tweets["x:1572000000000000001"]
    assert post.kind == "original"
    assert post.platform == "x" and post.native_id == "1572000000000000001"
    assert post.url == "https://x.com/reliefcrew/status/1572000000000000001"
    assert post.original_text == "Shelters open in the north. Need water & blankets #flood @redcross https://t.co/aaa"
    assert post.text == "shelters open in the north. need water & blankets #flood @redcross"
    assert post.created_at == datetime(2022, 9, 20, 10, 1, tzinfo=UTC)
    assert post.created_at_source == "platform"
    assert post.lang == "en"
    assert post.hashtags == ("flood",)
    assert post.mentions == ("redcross",)
    assert post.urls == ("https://example.org/shelters",)
    assert post.author == Author(id="111", handle="reliefcrew", name="Relief Crew", followers=2500, verified=False)
    assert post.metrics == Metrics(reposts=5, likes=12, replies=1, quotes=0)
    assert post.annotations == {
        "aidr.crisis_code": "220920_riverton_flood",
        "aidr.crisis_name": "Riverton flood 2022",
        "aidr.doctype": "twitter",
    }
    assert post.raw is not None and post.raw.locator.endswith("tweets.jsonl:1") and post.raw.path is None
    assert post.provenance.source.endswith("tweets.jsonl") and post.provenance.query is None


def test_retweet_links_to_embedded_original(tweets: dict[str, Post]) -> None:
    repost = tweets["x:1572000000000000002"]
    original = tweets["x:1572000000000000010"]
    assert repost.kind == "repost"
    assert repost.reposted_uid == "x:1572000000000000010"
    assert repost.quoted_uid is None and repost.replied_to_uid is None
    assert original.kind == "original"
    assert original.raw is not None and original.raw.path == "retweeted_status"
    assert repost.raw is not None and original.raw.locator == repost.raw.locator
    assert original.author.handle == "cityhall" and original.author.verified is True
    assert original.author.location == "Riverton"
    # extended_entities lists both photos; entities.media only the first
    assert original.media == (
        Media(type="photo", url="https://pbs.twimg.com/media/one.jpg"),
        Media(type="photo", url="https://pbs.twimg.com/media/two.jpg"),
    )
    assert original.metrics.likes == 70


def test_reply(tweets: dict[str, Post]) -> None:
    post = tweets["x:1572000000000000003"]
    assert post.kind == "reply"
    assert post.replied_to_uid == "x:1572000000000000001"
    assert post.lang is None  # "und"
    assert post.author.location == "Riverton, North"
    assert post.mentions == ("reliefcrew",)


def test_quote_and_embedded_quoted(tweets: dict[str, Post]) -> None:
    post = tweets["x:1572000000000000004"]
    assert post.kind == "quote"
    assert post.quoted_uid == "x:1572000000000000020"
    assert post.urls == ("https://t.co/q",)  # expanded_url null: the t.co link is kept
    quoted = tweets["x:1572000000000000020"]
    assert quoted.raw is not None and quoted.raw.path == "quoted_status"
    assert quoted.text == "evacuation order for the river district."


def test_retweet_of_a_quote_emits_nested_originals(tweets: dict[str, Post]) -> None:
    repost = tweets["x:1572000000000000008"]
    assert repost.kind == "repost" and repost.reposted_uid == "x:1572000000000000030"
    assert repost.quoted_uid is None  # the quote belongs to the retweeted tweet
    quoting = tweets["x:1572000000000000030"]
    assert quoting.kind == "quote" and quoting.quoted_uid == "x:1572000000000000040"
    assert quoting.raw is not None and quoting.raw.path == "retweeted_status"
    inner = tweets["x:1572000000000000040"]
    assert inner.raw is not None and inner.raw.path == "retweeted_status.quoted_status"


def test_point_geo_keeps_place_name(tweets: dict[str, Post]) -> None:
    assert tweets["x:1572000000000000005"].geo == Geo(
        precision="point", source="coordinates", lat=35.689, lon=51.389, place_name="Tehran, Iran", country_code="IR"
    )


def test_place_geo_uses_bbox_centre(tweets: dict[str, Post]) -> None:
    geo = tweets["x:1572000000000000006"].geo
    assert geo is not None
    assert (geo.precision, geo.source, geo.place_name, geo.country_code) == ("place", "place", "Kathmandu, Nepal", "NP")
    assert geo.bbox == (85.2, 27.6, 85.5, 27.8)
    assert geo.lat == pytest.approx(27.7) and geo.lon == pytest.approx(85.35)


def test_persian_extended_tweet(tweets: dict[str, Post]) -> None:
    post = tweets["x:1572000000000000007"]
    assert post.original_text == "ما صدای مردم هستیم #مهسا_امینی #زن_زندگی_آزادی https://t.co/v"
    assert post.hashtags == ("مهسا_امینی", "زن_زندگی_آزادی")
    assert "#مهسا_امینی" in (post.text or "")
    assert post.lang == "fa"
    assert post.author == Author(
        id="555", handle="reporter_fa", name="خبرنگار", followers=8000, verified=False, location="تهران"
    )
    assert post.media == (Media(type="video", url="https://video.twimg.com/high.mp4"),)  # best bitrate
    assert post.urls == ()  # extended entities: no links besides the media


def test_old_fields_counts_as_strings_and_lat_lon_geo(tweets: dict[str, Post]) -> None:
    post = tweets["x:1572000000000000009"]
    assert post.metrics.reposts is None  # "100+" is not a count
    assert post.author.followers == 1234  # "1,234", read through the lenient path
    assert post.geo == Geo(precision="point", source="geo", lat=-33.87, lon=151.21)


def test_missing_created_at_comes_from_snowflake(tweets: dict[str, Post]) -> None:
    post = tweets["x:1576994789110992896"]
    assert post.created_at_source == "snowflake-id"
    assert post.created_at is not None
    assert post.created_at.replace(microsecond=0) == datetime(2022, 10, 3, 17, 57, 11, tzinfo=UTC)


# -- arrays and search responses ----------------------------------------------------------------


def test_timeline_array_is_split_per_tweet() -> None:
    result = parse_path(HERE / "timeline.json")
    assert result.records == 2
    assert [post.uid for post in result.posts] == ["x:1572000000000000001", "x:1572000000000000003"]
    assert [post.raw.locator.rsplit(":", 1)[1] for post in result.posts if post.raw] == ["[0]", "[1]"]


def test_search_document_is_split_and_keeps_its_query() -> None:
    result = parse_path(HERE / "search.json")
    assert result.records == 3
    assert sorted(post.uid for post in result.posts) == [
        "x:1572000000000000001",
        "x:1572000000000000002",
        "x:1572000000000000007",
        "x:1572000000000000010",
    ]
    assert {post.provenance.query for post in result.posts} == {"#flood OR rescue"}
    repost = by_uid(result.posts)["x:1572000000000000002"]
    assert repost.raw is not None and repost.raw.locator.endswith("search.json:statuses[1]")


def test_search_responses_as_lines() -> None:
    result = parse_path(HERE / "search_pages.jsonl")
    assert result.records == 2
    assert result.skipped == {"empty x api response (no tweets)": 1}
    paths = {post.uid: post.raw.path for post in result.posts if post.raw}
    assert paths == {
        "x:1572000000000000006": "statuses[0]",
        "x:1572000000000000002": "statuses[1]",
        "x:1572000000000000010": "statuses[1].retweeted_status",
    }
    assert {post.provenance.query for post in result.posts} == {"valley"}


def test_given_query_wins_over_search_metadata() -> None:
    payload = (HERE / "search_pages.jsonl").read_bytes().splitlines()[0]
    result = XV1Format().parse(payload, ctx(query="my tracker"))
    assert {post.provenance.query for post in result.posts} == {"my tracker"}


def test_array_on_one_line_and_odd_values() -> None:
    fmt = XV1Format()
    tweet = {"id_str": "1572000000000000001", "text": "a", "user": {"screen_name": "u"}}
    line = msgspec.json.encode([tweet, {"limit": {"track": 1}}, 42])
    result = fmt.parse(line, ctx())
    assert [post.raw.path for post in result.posts if post.raw] == ["[0]"]
    assert result.skipped == ["x rate limit notice (not a post)"]
    assert len(result.problems) == 1 and result.problems[0][0] == "[2]"
    assert fmt.parse(b"[]", ctx()).skipped == ["empty x api response (no tweets)"]
    assert fmt.parse(b'{"errors": [{"code": 34}]}', ctx()).skipped == ["x api error"]
    assert fmt.parse(b"not json", ctx()).problems[0][1].startswith("not valid JSON")


def test_tweet_without_user_gets_a_web_url() -> None:
    result = XV1Format().parse(b'{"id": 1572000000000000001, "text": "bare"}', ctx())
    (post,) = result.posts
    assert post.url == "https://x.com/i/web/status/1572000000000000001"
    assert post.author == Author()
    assert post.metrics == Metrics()


# -- real data (only where the shared data folder exists) --------------------------------------


@pytest.mark.skipif(not CRISISMMD.exists(), reason="shared data not available")
@pytest.mark.parametrize(
    ("name", "records", "posts", "reposts"),
    [("iraq_iran_earthquake_final_data.json", 496, 542, 44), ("srilanka_floods_final_data.json", 830, 910, 79)],
)
def test_crisismmd(name: str, records: int, posts: int, reposts: int) -> None:
    path: Path = CRISISMMD / name
    assert detect_format(path).name == FORMAT
    result = parse_path(path)
    assert (result.records, len(result.posts), len(result.quarantined)) == (records, posts, 0)
    assert sum(post.kind == "repost" for post in result.posts) == reposts
    assert all(post.reposted_uid in by_uid(result.posts) for post in result.posts if post.kind == "repost")
