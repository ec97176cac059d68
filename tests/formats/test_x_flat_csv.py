"""Flattened X archive CSVs (92 twitter.* columns), e.g. the CrisisLexT26 rehydrated streams."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from groundspeed.formats.base import ParseContext, Sample
from groundspeed.formats.framing import InputFile
from groundspeed.formats.x_flat_csv import XFlatCsvFormat
from groundspeed.model import Author, Geo, Media, Metrics, Post
from tests.helpers import FIXTURES, SHARED_DATA, detect_format, parse_path

ARCHIVE = FIXTURES / "x_flat_csv" / "flat_archive.csv"
FORMAT = "x-flat-csv"
STREAMS = SHARED_DATA / "crisislex_t26_streams" / "original"


def by_uid(posts: list[Post]) -> dict[str, Post]:
    return {post.uid: post for post in posts}


@pytest.fixture(scope="module")
def posts() -> dict[str, Post]:
    return by_uid(parse_path(ARCHIVE, FORMAT).posts)


def test_detected_from_the_header() -> None:
    assert detect_format(ARCHIVE).name == FORMAT
    sample = InputFile(ARCHIVE).sample()
    assert XFlatCsvFormat().sniff(sample) == 95


def test_other_csv_is_not_claimed() -> None:
    sample = Sample(name="t.csv", head="", first_value=None, csv_header=("tweet_id", "text"))
    assert XFlatCsvFormat().sniff(sample) == 0


def test_counts_and_problems() -> None:
    parsed = parse_path(ARCHIVE, FORMAT)
    assert parsed.records == 10
    # 8 good rows, one of them a retweet that also yields its original.
    assert Counter(post.kind for post in parsed.posts) == {"original": 6, "repost": 1, "reply": 1, "quote": 1}
    problems = sorted((item.locator.rsplit(":", 1)[-1], item.reason) for item in parsed.quarantined)
    assert problems == [
        ("10", "row has no tweet id (twitter.tweet/id is empty)"),
        ("9", "row has 90 cells but the header has 92"),
    ]
    assert not parsed.skipped


def test_plain_tweet(posts: dict[str, Post]) -> None:
    post = posts["x:211500000000000001"]
    assert post.kind == "original"
    assert post.url == "https://x.com/ridge_watcher/status/211500000000000001"
    assert post.created_at == datetime(2012, 6, 9, 18, 0, tzinfo=UTC)
    assert post.created_at_source == "platform"
    assert post.lang == "en"
    assert post.author == Author(
        id="1001", handle="ridge_watcher", name="Ridge Watcher", followers=250, verified=False, location="Boulder, CO"
    )
    assert post.hashtags == ("RidgeFire", "Boulder")
    assert post.mentions == ("CountyOEM",)
    # The archive's expanded links, not the t.co link in the text.
    assert post.urls == ("http://example.org/fire-map",)
    assert post.media == (Media(type="photo", url="http://pbs.twimg.com/media/Synthetic1.jpg"),)
    assert post.metrics == Metrics(reposts=3, likes=0)  # "0" is a count, not unknown
    assert post.geo is None
    assert post.raw is not None and post.raw.path is None


def test_retweet_gives_repost_and_original(posts: dict[str, Post]) -> None:
    repost = posts["x:211500000000000002"]
    original = posts["x:211499000000000000"]
    assert repost.kind == "repost"
    assert repost.reposted_uid == original.uid
    assert repost.original_text == "RT @county_news: Evacuation centre open at the high school #RidgeFire"
    assert repost.author.handle == "neighbour_two"
    # X copies the original's counts onto a retweet; they belong to the original only.
    assert repost.metrics == Metrics()
    assert original.kind == "original"
    assert original.original_text == "Evacuation centre open at the high school #RidgeFire"
    assert original.author == Author(
        id="2001", handle="county_news", name="County News", followers=90000, verified=True, location="Colorado"
    )
    assert original.created_at == datetime(2012, 6, 9, 17, 0, tzinfo=UTC)
    assert original.metrics == Metrics(reposts=12, likes=5)
    assert original.replied_to_uid is None  # -1 means not a reply
    assert original.raw is not None and repost.raw is not None
    assert (original.raw.seq, original.raw.path) == (repost.raw.seq, "retweet")  # same row


def test_point_geo(posts: dict[str, Post]) -> None:
    assert posts["x:211500000000000003"].geo == Geo(
        precision="point", source="latitude/longitude", lat=40.015, lon=-105.2705, place_name="Boulder, CO"
    )


def test_place_polygon_gives_a_box(posts: dict[str, Post]) -> None:
    # The archive writes the polygon as [lat, lon] pairs; the box is west, south, east, north.
    assert posts["x:211500000000000004"].geo == Geo(
        precision="place", source="place", place_name="Fort Collins, CO", bbox=(-105.15, 40.47, -104.98, 40.65)
    )


def test_place_name_only(posts: dict[str, Post]) -> None:
    assert posts["x:211500000000000005"].geo == Geo(precision="text", source="placeName", place_name="Denver, CO")


def test_persian_reply(posts: dict[str, Post]) -> None:
    post = posts["x:211500000000000006"]
    assert post.kind == "reply"
    assert post.replied_to_uid == "x:211500000000000001"
    assert post.lang == "fa"
    assert post.original_text == "می‌گویند آتش به روستا رسیده\nمراقب باشید #آتش_سوزی"
    assert post.text == "میگویند آتش به روستا رسیده مراقب باشید #آتش_سوزی"  # ZWNJ joined, line folded
    assert post.hashtags == ("آتش_سوزی",)
    assert post.author.location == "تهران"


def test_unknowns_stay_unknown(posts: dict[str, Post]) -> None:
    post = posts["x:211500000000000009"]
    # A reply to a user without a status (-1) is not a reply to a post.
    assert post.kind == "original"
    assert post.replied_to_uid is None
    assert post.lang is None  # "und"
    assert post.metrics == Metrics()  # empty count cells
    assert post.author.followers is None
    assert post.author.verified is True
    # No time in the row: read from the tweet id.
    assert post.created_at_source == "snowflake-id"
    assert post.created_at == datetime(2012, 6, 9, 16, 48, 24, 136000, tzinfo=UTC)


def test_quote(posts: dict[str, Post]) -> None:
    post = posts["x:211500000000000010"]
    assert post.kind == "quote"
    assert post.quoted_uid is None  # the archive does not say what was quoted


def ctx(header: list[str]) -> ParseContext:
    return ParseContext(
        seq=0,
        locator="t.csv:2",
        source="file:t.csv",
        collected_at=datetime(2026, 1, 1, tzinfo=UTC),
        software="test",
        options={"csv_header": msgspec.json.encode(header).decode()},
    )


def test_broken_retweet_id_is_a_problem_for_that_part() -> None:
    header = ["twitter.tweet/id", "twitter.tweet/text", "retweet.twitter.tweet/id", "retweet.twitter.tweet/text"]
    row = msgspec.json.encode(["211500000000000020", "RT @a: hi", "not-an-id", "hi"])
    result = XFlatCsvFormat().parse(row, ctx(header))
    assert [post.uid for post in result.posts] == ["x:211500000000000020"]
    assert result.problems == [("retweet", "retweet.twitter.tweet/id 'not-an-id' is not a tweet id")]


def test_missing_list_columns_fall_back_to_the_text() -> None:
    header = ["twitter.tweet/id", "twitter.tweet/text"]
    row = msgspec.json.encode(["211500000000000021", "Help at #Shelter3 via @RedCross"])
    (post,) = XFlatCsvFormat().parse(row, ctx(header)).posts
    assert post.hashtags == ("Shelter3",)
    assert post.mentions == ("RedCross",)
    assert post.url == "https://x.com/i/web/status/211500000000000021"


def test_impossible_tweet_id_is_a_problem() -> None:
    header = ["twitter.tweet/id", "twitter.tweet/text"]
    result = XFlatCsvFormat().parse(msgspec.json.encode(["9" * 40, "hi"]), ctx(header))
    assert result.posts == []
    assert result.problems == [(None, f"twitter.tweet/id {'9' * 40!r} is not a tweet id")]


def test_header_without_id_is_a_problem() -> None:
    result = XFlatCsvFormat().parse(msgspec.json.encode(["x"]), ctx(["twitter.tweet/text"]))
    assert result.posts == []
    assert result.problems == [
        (None, "the header has no twitter.tweet/id column, so this is not a flattened X archive")
    ]


# -- the real CrisisLexT26 streams (skipped where the development data is absent) -------------

REAL_COUNTS = {
    # file: (records, posts, posts that repeat a uid already in the file)
    "2012_Colorado_wildfires_Tweets_entire_period.csv": (3177, 4152, 107),
    "2013_Brazil_nightclub_fire_Tweets_entire_period.csv": (3108, 4501, 676),
    "2013_West_Texas_explosion_Tweets_labeled.csv": (664, 989, 45),
}


@pytest.mark.slow
@pytest.mark.skipif(not STREAMS.exists(), reason="development data not present")
@pytest.mark.parametrize(("name", "expected"), sorted(REAL_COUNTS.items()))
def test_real_archive(name: str, expected: tuple[int, int, int]) -> None:
    path: Path = STREAMS / name
    assert detect_format(path).name == FORMAT
    parsed = parse_path(path)
    uids = Counter(post.uid for post in parsed.posts)
    assert (parsed.records, len(parsed.posts), sum(n - 1 for n in uids.values())) == expected
    assert parsed.quarantined == []
    reposts = [post for post in parsed.posts if post.kind == "repost"]
    assert reposts and all(post.reposted_uid in uids for post in reposts)
    assert all(post.created_at is not None for post in parsed.posts)
