"""X API v2 as saved by twarc2: pages, lookups, stream messages, flattened tweets, non-post outputs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from groundspeed.formats.base import ParseContext, Sample
from groundspeed.formats.x_v2 import XV2Format, query_from_url
from groundspeed.model import Author, Geo, Media, Metrics, Post
from tests.helpers import FIXTURES, SHARED_DATA, detect_format, parse_path

HERE = FIXTURES / "x_v2"
FORMAT = "x-v2"
TWARC_CSV = SHARED_DATA / "formats" / "twitter_v2_twarc_csv" / "test-data"


def by_uid(posts: list[Post]) -> dict[str, Post]:
    return {post.uid: post for post in posts}


def ctx(query: str | None = None) -> ParseContext:
    return ParseContext(
        seq=3,
        locator="f.jsonl:1",
        source="file:f.jsonl",
        collected_at=datetime(2024, 1, 1, tzinfo=UTC),
        software="t",
        query=query,
    )


def sample(value: object) -> Sample:
    return Sample(name="f.jsonl", head=msgspec.json.encode(value).decode(), first_value=value, csv_header=None)


@pytest.fixture(scope="module")
def pages() -> dict[str, Post]:
    return by_uid(parse_path(HERE / "synthetic_pages.jsonl").posts)


# -- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "synthetic_pages.jsonl",
        "synthetic_users.jsonl",
        "two_tweets.jsonl",
        "geo_tweets.jsonl",
        "media_tweet.jsonl",
        "counts.jsonl",
        "lists.jsonl",
        "tweets_compliance.jsonl",
        "streaming_output_with_error.jsonl",
        "flat_head.jsonl",
    ],
)
def test_detected(name: str) -> None:
    assert detect_format(HERE / name).name == FORMAT


def test_sniff_refuses_v1_tweets() -> None:
    v1 = {"id": 5, "id_str": "5", "text": "t", "user": {"id_str": "1"}, "created_at": "Tue Sep 20 10:00:00 +0000 2022"}
    assert XV2Format().sniff(sample(v1)) == 0
    assert XV2Format().sniff(sample([v1])) == 0
    assert XV2Format().sniff(sample({"statuses": [v1]})) == 0


def test_sniff_partial_head_of_a_long_page() -> None:
    keys = {"__partial__": True, "data": True, "author_id": True, "conversation_id": True, "text": True}
    assert XV2Format().sniff(sample(keys)) == 80


# -- a synthetic page: every mapping rule ------------------------------------------------------


def test_page_counts_problems_and_skips() -> None:
    result = parse_path(HERE / "synthetic_pages.jsonl")
    assert result.records == 4
    assert len(result.posts) == 6  # 4 good tweets in data, 1 in includes, 1 single lookup
    assert len({post.uid for post in result.posts}) == 6  # includes.tweets[1] repeats data[0]
    assert result.skipped == {
        "x api error: Not Found Error": 1,
        "x api error: Authorization Error": 1,
        "empty x api response (no tweets)": 1,
    }
    [problem] = result.quarantined
    assert (problem.path, problem.reason) == ("data[3]", "x v2 tweet without an id")
    assert problem.locator.endswith("synthetic_pages.jsonl:1")


def test_retweet_and_its_original_from_includes(pages: dict[str, Post]) -> None:
    repost = pages["x:1572100000000000001"]
    assert repost.kind == "repost"
    assert repost.reposted_uid == "x:1572100000000000090"
    assert repost.thread_root_uid is None  # conversation_id is its own id
    assert repost.author == Author(id="101", handle="watcher", name="Watcher", followers=40, verified=False)
    assert repost.raw is not None and repost.raw.path == "data[0]"
    original = pages["x:1572100000000000090"]
    assert original.raw is not None and original.raw.path == "includes.tweets[0]"
    assert original.kind == "original"
    assert original.url == "https://x.com/cityhall/status/1572100000000000090"
    assert original.author == Author(
        id="102", handle="cityhall", name="City Hall", followers=90000, verified=True, location="Riverton"
    )
    assert original.hashtags == ("flood",)
    assert original.metrics == Metrics(reposts=40, replies=2, likes=70, quotes=1)


def test_reply_in_a_thread(pages: dict[str, Post]) -> None:
    post = pages["x:1572100000000000002"]
    assert post.kind == "reply"
    assert post.replied_to_uid == "x:1572100000000000060"
    assert post.thread_root_uid == "x:1572100000000000050"
    assert post.lang is None
    assert post.mentions == ("cityhall",)
    assert post.hashtags == ()  # entities present without hashtags: none, not extracted


def test_quote_with_media_links_and_place(pages: dict[str, Post]) -> None:
    post = pages["x:1572100000000000003"]
    assert post.kind == "quote"
    assert post.quoted_uid == "x:1572100000000000070"
    # the video is not in includes.media: its type comes from the media key
    assert post.media == (Media(type="photo", url="https://pbs.twimg.com/media/river.jpg"), Media(type="video"))
    assert post.urls == ("https://example.org/river",)  # the photo link is media, not a url
    assert post.geo == Geo(
        precision="place",
        source="geo.place_id",
        lat=50.1,
        lon=10.25,
        place_name="Riverton, Freedonia",
        country_code="FD",
        bbox=(10.0, 50.0, 10.5, 50.2),
    )


def test_long_persian_tweet_with_point(pages: dict[str, Post]) -> None:
    post = pages["x:1572100000000000005"]
    assert post.original_text == "ما صدای مردم هستیم #مهسا_امینی #زن_زندگی_آزادی و این متن بلندتر است"  # note_tweet
    assert post.hashtags == ("مهسا_امینی", "زن_زندگی_آزادی")
    assert post.lang == "fa"
    assert post.author.location == "تهران"
    assert post.geo == Geo(
        precision="point",
        source="geo.coordinates",
        lat=35.689,
        lon=51.389,
        place_name="Tehran, Iran",
        country_code="IR",
    )
    assert post.metrics == Metrics(reposts=300, replies=20, likes=900, quotes=15, views=52000)


def test_provenance_from_twarc(pages: dict[str, Post]) -> None:
    provenance = pages["x:1572100000000000001"].provenance
    assert provenance.collected_at == datetime(2022, 9, 21, 8, 0, tzinfo=UTC)
    assert provenance.collector == "twarc 2.12.0"
    assert provenance.query == "#flood lang:en"
    assert provenance.source.endswith("synthetic_pages.jsonl")


def test_given_query_is_kept() -> None:
    payload = (HERE / "synthetic_pages.jsonl").read_bytes().splitlines()[0]
    result = XV2Format().parse(payload, ctx(query="my search"))
    assert {post.provenance.query for post in result.posts} == {"my search"}
    assert {post.provenance.collector for post in result.posts} == {"twarc 2.12.0"}


def test_single_lookup_without_expansions(pages: dict[str, Post]) -> None:
    post = pages["x:1572100000000000099"]
    assert post.raw is not None and post.raw.path == "data"
    assert post.url == "https://x.com/i/web/status/1572100000000000099"
    assert post.author == Author()
    assert post.created_at_source == "snowflake-id"


def test_user_lookup_is_skipped_not_posted() -> None:
    result = parse_path(HERE / "synthetic_users.jsonl")
    assert result.posts == []
    assert result.skipped == {"x user profiles (not posts)": 1}


@pytest.mark.parametrize(
    ("name", "skipped"),
    [
        ("counts.jsonl", {"x tweet counts (not posts)": 1}),
        ("lists.jsonl", {"x lists (not posts)": 2}),
        ("tweets_compliance.jsonl", {"x compliance result (not a post)": 2}),
    ],
)
def test_non_post_outputs(name: str, skipped: dict[str, int]) -> None:
    result = parse_path(HERE / name)
    assert result.posts == [] and result.quarantined == []
    assert result.skipped == skipped


# -- real twarc2 output -------------------------------------------------------------------------


def test_filtered_stream_messages() -> None:
    result = parse_path(HERE / "streaming_output_with_error.jsonl")
    assert result.records == 8
    assert len(result.posts) == 11
    assert Counter(post.kind for post in result.posts) == {"original": 7, "reply": 3, "quote": 1}
    [problem] = result.quarantined
    assert problem.locator.endswith(":8") and problem.reason.startswith("not valid JSON")
    assert {post.provenance.query for post in result.posts} == {"rule 1377649934414049282"}
    assert {post.provenance.collector for post in result.posts} == {"twarc"}  # no version recorded
    posts = by_uid(result.posts)
    huntsville = posts["x:1377650277642338305"].geo
    assert huntsville == Geo(
        precision="point",
        source="geo.coordinates",
        lat=34.75192228,
        lon=-86.58216981,
        place_name="Huntsville, AL",
        country_code="US",
    )
    malawi = posts["x:1377650090978992134"]
    assert malawi.kind == "quote" and malawi.quoted_uid == "x:1377640162566496258"
    assert malawi.geo is not None and malawi.geo.place_name == "Malawi" and malawi.geo.precision == "place"
    assert posts["x:1377640162566496258"].raw is not None


def test_flattened_tweets_embed_their_expansions() -> None:
    result = parse_path(HERE / "flat_head.jsonl")
    assert result.records == 3
    posts = by_uid(result.posts)
    assert len(posts) == 4
    repost = posts["x:1380242611781386245"]
    assert repost.kind == "repost" and repost.reposted_uid == "x:1380175475545362437"
    assert repost.author.handle == "Alexandravm12"
    assert repost.raw is not None and repost.raw.path is None
    original = posts["x:1380175475545362437"]
    assert original.raw is not None and original.raw.path == "referenced_tweets[0]"
    assert original.author == Author(
        id="2718660392",
        handle="williamserafino",
        name="William Serafino",
        followers=28341,
        verified=False,
        location="Tierra Firme",
    )
    assert original.metrics == Metrics(reposts=410, replies=13, likes=241, quotes=16)
    assert repost.provenance.query == "obama" and repost.provenance.collector == "twarc 2.0.3"


def test_geo_tweets_and_video_media() -> None:
    geo = by_uid(parse_path(HERE / "geo_tweets.jsonl").posts)
    assert geo["x:1249702384659554308"].geo == Geo(
        precision="point", source="geo.coordinates", lat=88.01785747, lon=42.77810097
    )
    berlin = geo["x:1501963039859363843"].geo
    assert berlin is not None and berlin.bbox == (13.088304, 52.338079, 13.760909, 52.675323)
    assert berlin.country_code == "DE"
    [video] = parse_path(HERE / "media_tweet.jsonl").posts
    assert video.media == (
        Media(
            type="video",
            url="https://video.twimg.com/ext_tw_video/1558552952549277696/pu/vid/1280x720/WiZrNZKT2lMzK5zA.mp4?tag=12",
        ),
    )


def test_zero_impressions_before_they_were_counted_are_unknown() -> None:
    def views(created_at: str, count: int) -> int | None:
        tweet = {"id": "1", "text": "t", "created_at": created_at, "public_metrics": {"impression_count": count}}
        [post] = XV2Format().parse(msgspec.json.encode({"data": [tweet]}), ctx()).posts
        return post.metrics.views

    assert views("2021-05-01T00:00:00.000Z", 0) is None
    assert views("2023-05-01T00:00:00.000Z", 0) == 0
    assert views("2021-05-01T00:00:00.000Z", 7) == 7


def test_odd_values() -> None:
    fmt = XV2Format()
    assert fmt.parse(b"[]", ctx()).skipped == ["empty x api response (no tweets)"]
    assert fmt.parse(b'"text"', ctx()).problems == [(None, "not an X API v2 object (expected a JSON object)")]
    assert fmt.parse(b'{"foo": 1}', ctx()).problems == [(None, "not an X API v2 response, stream message or tweet")]
    weird = fmt.parse(b'{"data": [{"foo": 1}]}', ctx())
    assert weird.problems == [("data", "x api v2 data of an unknown kind (not tweets)")]
    assert fmt.parse(b'{"data": ["x"], "__twarc": {}}', ctx()).problems[0][0] == "data"


def test_query_from_url() -> None:
    assert (
        query_from_url("https://api.twitter.com/2/tweets/search/all?query=%23flood%20lang%3Aen&x=1") == "#flood lang:en"
    )
    assert query_from_url("https://api.twitter.com/1.1/search/tweets.json?count=100&q=gelman") == "gelman"
    assert query_from_url("https://api.twitter.com/2/tweets/search/stream") is None


def test_pages_longer_than_the_detection_sample(tmp_path: Path) -> None:
    """twarc2 pages are often several hundred KiB on one line: still JSON lines, one record each."""
    tweet = {"id": "1572100000000000001", "text": "x" * 300, "author_id": "1", "created_at": "2022-09-21T07:50:00.000Z"}
    lines = [
        msgspec.json.encode(
            {"data": [{**tweet, "id": str(1572100000000000001 + n)} for n in range(start, start + 300)]}
        )
        for start in (0, 300)
    ]
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = parse_path(path, FORMAT)
    assert result.records == 2 and len({post.uid for post in result.posts}) == 600


# -- the whole twarc-csv test-data folder (only where the shared data folder exists) -----------

EXPECTED = {  # file: (records, posts, problems)
    "2sets.jsonl": (2, 276, 0),
    "brexit.jsonl": (1, 155, 0),
    "flat.jsonl": (100, 194, 0),
    "withheld.jsonl": (5, 284, 0),
    "entities_test.jsonl": (1, 650, 0),
    "noflat.jsonl": (1, 164, 0),
    "streaming_output_with_error.jsonl": (8, 11, 1),
    "users.jsonl": (1, 0, 0),
    "counts.jsonl": (1, 0, 0),
    "users_compliance.jsonl": (2, 0, 0),
}


@pytest.mark.skipif(not TWARC_CSV.exists(), reason="shared data not available")
@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_twarc_csv_test_data(name: str, expected: tuple[int, int, int]) -> None:
    path = TWARC_CSV / name
    assert detect_format(path).name == FORMAT
    result = parse_path(path)
    assert (result.records, len(result.posts), len(result.quarantined)) == expected
