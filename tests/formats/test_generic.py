"""Generic CSV and JSON importers: columns found by name, or named with map.<field> options."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import msgspec
import pytest

from groundspeed.formats.base import ParseContext, Sample
from groundspeed.formats.generic import MAPPING_FIELDS, GenericCsvFormat, GenericJsonFormat
from groundspeed.model import Author, Geo, Media, Metrics, Post
from groundspeed.parse import ParsedBatch
from tests.helpers import FIXTURES, SHARED_DATA, detect_format, parse_path

HERE = FIXTURES / "generic"


def by_uid(posts: list[Post]) -> dict[str, Post]:
    return {post.uid: post for post in posts}


def problems(parsed: ParsedBatch) -> list[tuple[str, str]]:
    """(line, reason) of each quarantined row."""
    return sorted((item.locator.rsplit(":", 1)[-1], item.reason) for item in parsed.quarantined)


def csv_sample(*header: str) -> Sample:
    return Sample(name="t.csv", head="", first_value=None, csv_header=header)


def csv_ctx(header: list[str], **options: str) -> ParseContext:
    return ParseContext(
        seq=0,
        locator="t.csv:2",
        source="file:t.csv",
        collected_at=datetime(2026, 1, 1, tzinfo=UTC),
        software="test",
        options={"csv_header": msgspec.json.encode(header).decode(), **options},
    )


def parse_row(header: list[str], row: list[str], **options: str) -> tuple[list[Post], list[tuple[str | None, str]]]:
    result = GenericCsvFormat().parse(msgspec.json.encode(row), csv_ctx(header, **options))
    return result.posts, result.problems


# -- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "score"),
    [
        (("Tweet ID", "Tweet Text", "Informativeness"), 40),
        (("text", "label"), 35),
        (("Timestamp", "Tweet-ID", "Included(Y/N)"), 30),
        (("event", "hour_utc", "count"), 0),  # no posts in this table
        (("date_2009", "time_gmt", "characteristic_tweet_text"), 35),
        (("lm_text", "lat", "lon"), 0),  # a place mention is not a post's text
        (("id", "population"), 0),  # an id alone: any table has one
    ],
)
def test_csv_sniff(header: tuple[str, ...], score: int) -> None:
    assert GenericCsvFormat().sniff(csv_sample(*header)) == score


def test_specific_formats_win() -> None:
    # The generic importers are the fallback: a flattened X archive goes to its own format.
    assert detect_format(FIXTURES / "x_flat_csv" / "flat_archive.csv").name == "x-flat-csv"
    assert detect_format(HERE / "labelled_tweets.csv").name == "csv"
    assert detect_format(HERE / "labelled_no_ids.tsv").name == "csv"
    assert detect_format(HERE / "scraper_tweets.jsonl").name == "jsonl"
    assert detect_format(HERE / "wrapped_posts.json").name == "jsonl"


def test_json_sniff() -> None:
    fmt = GenericJsonFormat()
    assert fmt.sniff(Sample(name="a.jsonl", head="", first_value={"ID": "1", "Text": "x"}, csv_header=None)) == 25
    assert fmt.sniff(Sample(name="a.json", head="", first_value=[{"content": "x"}], csv_header=None)) == 25
    assert fmt.sniff(Sample(name="a.json", head="", first_value={"type": "Feature"}, csv_header=None)) == 0
    assert fmt.sniff(Sample(name="a.json", head="", first_value=None, csv_header=("id", "text"))) == 0
    # "body" names a text column, but here it holds an object (an API response envelope).
    envelope = {"request_uri": "https://example.org/search", "body": {"kind": "Listing"}}
    assert fmt.sniff(Sample(name="a.json", head="", first_value=envelope, csv_header=None)) == 0
    feature = {"type": "Feature", "id": "3f", "properties": {"place_name": "Tabriz"}}
    collection = {"type": "FeatureCollection", "features": [feature]}
    assert fmt.sniff(Sample(name="a.geojson", head="", first_value=collection, csv_header=None)) == 0
    wrapped = {"source": "tool", "posts": [{"post_id": "p-1", "content": "x"}]}
    assert fmt.sniff(Sample(name="a.json", head="", first_value=wrapped, csv_header=None)) == 25


# -- CSV files ---------------------------------------------------------------------------------


def test_labelled_dataset() -> None:
    parsed = parse_path(HERE / "labelled_tweets.csv")
    assert problems(parsed) == [
        ("5", "row has neither an id nor text (Tweet ID, Tweet Text empty)"),
        ("6", "row has 6 cells but the header has 5"),
    ]
    posts = by_uid(parsed.posts)
    assert sorted(posts) == ["x:211500000000000101", "x:211500000000000102", "x:211500000000000103"]
    first = posts["x:211500000000000101"]
    assert first.platform == "x"  # the id column names tweets
    assert first.url == "https://x.com/i/web/status/211500000000000101"
    # No time column: read from the tweet id.
    assert first.created_at_source == "snowflake-id"
    assert first.created_at == datetime(2012, 6, 9, 16, 48, 24, 136000, tzinfo=UTC)
    assert first.hashtags == ("RiverFlood",)
    assert first.annotations == {
        "Information Source": "Eyewitness",
        "Information Type": "Caution and advice",
        "Informativeness": "Related and Informative",
    }
    assert posts["x:211500000000000102"].original_text == "Thinking of everyone near the river tonight & stay dry"
    # An id without text is kept: many datasets only list ids.
    assert posts["x:211500000000000103"].text is None


def test_tweet_id_list() -> None:
    parsed = parse_path(HERE / "tweet_ids.csv")
    assert parsed.quarantined == []
    posts = by_uid(parsed.posts)
    assert posts["x:211500000000000101"].created_at == datetime(2012, 6, 9, 18, 0, tzinfo=UTC)
    assert posts["x:211500000000000101"].created_at_source == "platform"
    assert posts["x:211500000000000102"].annotations == {"Included(Y/N)": "N"}
    assert posts["x:211500000000000103"].created_at_source == "snowflake-id"
    assert all(post.text is None for post in parsed.posts)


def test_stream_export() -> None:
    parsed = parse_path(HERE / "stream_export.csv")
    assert problems(parsed) == [("6", "row has 18 cells but the header has 20")]
    posts = by_uid(parsed.posts)
    first = posts["x:247500000000000001"]
    # created_at here is when the account was made (2009): the tweet id gives the real time.
    assert first.created_at_source == "snowflake-id"
    assert first.created_at == datetime(2012, 9, 17, 0, 59, 32, 984000, tzinfo=UTC)
    assert first.annotations is not None
    assert first.annotations["created_at"] == "Fri Jan 09 18:45:58 +0000 2009"
    assert first.annotations["location"] == "Tripoli, Libya"  # profile text, not a place of the post
    assert first.author == Author(handle="square_watch", name="Square Watch", followers=120)
    assert first.hashtags == ("Libya", "Benghazi")  # from hashtag1, hashtag2
    assert first.urls == ("http://t.co/dddd",)
    repost = posts["x:247500000000000002"]
    assert repost.kind == "repost"
    assert repost.reposted_uid == "x:247400000000000000"
    assert repost.mentions == ("square_watch",)
    # One coordinate written into both columns is not a location.
    same = posts["x:247500000000000003"]
    assert same.geo is None
    assert same.annotations is not None
    assert same.annotations["geo_note"] == "lat and lon hold the same value; not used as a location"
    assert posts["x:247500000000000004"].geo == Geo(precision="point", source="lat/lon", lat=32.88, lon=13.19)


def test_slim_stream() -> None:
    posts = by_uid(parse_path(HERE / "slim_stream.csv").posts)
    repost = posts["x:211500000000000201"]
    assert repost.kind == "repost"
    assert repost.reposted_uid == "x:211499000000000000"
    assert repost.author == Author(id="1002", handle="neighbour_two", followers=40, verified=False, location="Colorado")
    assert repost.hashtags == ("RidgeFire",)
    assert repost.annotations == {"event": "2012_Synthetic_fire", "file_kind": "entire_period"}
    reply = posts["x:211500000000000202"]
    assert reply.kind == "reply"
    assert reply.replied_to_uid == "x:211500000000000001"
    assert reply.geo == Geo(precision="point", source="lat/lon", lat=40.015, lon=-105.2705, place_name="Boulder, CO")
    assert reply.urls == ("http://example.org/a",)
    assert reply.annotations is not None
    assert reply.annotations["t26_info_source"] == "Eyewitness"
    plain = posts["x:211500000000000203"]
    assert (plain.kind, plain.replied_to_uid, plain.lang) == ("original", None, None)  # -1, und
    assert plain.author.followers is None
    assert plain.text == "power out, again"


def test_rows_without_ids_get_a_content_hash() -> None:
    parsed = parse_path(HERE / "labelled_no_ids.tsv")
    assert [post.platform for post in parsed.posts] == ["csv", "csv", "csv"]
    first, second, third = parsed.posts
    # The same text twice (two annotators) is the same post; the hash is stable.
    assert first.uid == second.uid == "csv:h05fbf66bdaaede36"
    assert third.uid != first.uid
    assert first.annotations == {"label": "personal", "annotator": "A", "id_source": "content-hash"}
    assert first.url is None and first.created_at is None


def test_telegram_channel() -> None:
    parsed = parse_path(HERE / "telegram_channel.csv", "csv", {"id_prefix": "sut_tw/"})
    posts = by_uid(parsed.posts)
    assert sorted(posts) == ["telegram:sut_tw/131500", "telegram:sut_tw/131501"]
    post = posts["telegram:sut_tw/131500"]
    assert post.created_at == datetime(2026, 1, 8, 20, 15, tzinfo=UTC)
    assert post.original_text == "اینترنت قطع شد\n- یک کاربر"
    assert post.annotations is None


def test_channel_column_scopes_ids() -> None:
    header = ["channel", "message_id", "reply_to_msg_id", "message"]
    (post,), found = parse_row(header, ["news_room", "42", "41", "Road closed"])
    assert found == []
    assert post.uid == "telegram:news_room/42"
    assert post.replied_to_uid == "telegram:news_room/41"
    assert post.url == "https://t.me/news_room/42"


# -- mapping options ---------------------------------------------------------------------------


def test_explicit_mapping_and_platform() -> None:
    header = ["ref", "body_of_post", "when", "who", "kind_of_post"]
    row = ["a17", "Flood warning issued", "2024-05-01 10:00", "@river_gauge", "share"]
    (post,), found = parse_row(
        header,
        row,
        **{"map.id": "ref", "map.text": "body_of_post", "map.created_at": "when", "map.author_handle": "who"},
        **{"map.kind": "kind_of_post", "platform": "mastodon"},
    )
    assert found == []
    assert post.uid == "mastodon:a17"
    assert post.created_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert post.author.handle == "river_gauge"
    assert post.kind == "repost"
    assert post.annotations is None  # every column was used


def test_mapping_to_nothing_stops_a_guess() -> None:
    header = ["id", "text", "place"]
    (guessed,), _ = parse_row(header, ["1", "hi", "Tabriz"])
    (unguessed,), _ = parse_row(header, ["1", "hi", "Tabriz"], **{"map.place": ""})
    assert guessed.geo == Geo(precision="text", source="place", place_name="Tabriz")
    assert unguessed.geo is None
    assert unguessed.annotations == {"place": "Tabriz"}


def test_a_column_feeds_one_field() -> None:
    # "name" would be guessed as the author's name; mapped to the handle, it is used only there.
    (post,), _ = parse_row(["id", "text", "name"], ["1", "hi", "river_eye"], **{"map.author_handle": "name"})
    assert post.author == Author(handle="river_eye")


def test_bad_options_are_problems() -> None:
    header = ["id", "text"]
    posts, found = parse_row(header, ["1", "hi"], **{"map.txt": "text"})
    assert posts == []
    assert found == [(None, f"unknown field in option 'map.txt'; the fields are: {', '.join(MAPPING_FIELDS)}")]
    posts, found = parse_row(header, ["1", "hi"], **{"map.text": "message"})
    assert posts == []
    assert found == [(None, "map.text names the column 'message', which is not in this file")]


def test_impossible_tweet_id_is_a_problem() -> None:
    posts, found = parse_row(["tweet_id", "text"], ["9" * 40, "hi"])
    assert posts == []
    assert found == [(None, f"tweet_id {'9' * 40!r} is too long to be a tweet id")]


def test_unknown_kind_value_is_kept() -> None:
    (post,), _ = parse_row(["id", "text", "kind"], ["5", "hello", "story"])
    assert post.kind == "original"
    assert post.annotations == {"kind": "story"}


def test_unreadable_time_is_kept() -> None:
    (post,), _ = parse_row(["id", "text", "date"], ["5", "hello", "Jun 14"])
    assert post.created_at is None
    assert post.annotations == {"date": "Jun 14"}


# -- JSON ---------------------------------------------------------------------------------------


def test_scraper_jsonl() -> None:
    parsed = parse_path(HERE / "scraper_tweets.jsonl")
    assert problems(parsed) == [
        ("4", "no id or text column was found in Translation_en; name them with -o map.id=... -o map.text=..."),
        ("5", "not valid JSON: Input data was truncated"),
    ]
    posts = by_uid(parsed.posts)
    assert Counter(post.kind for post in parsed.posts) == {"original": 1, "reply": 1, "repost": 1}
    first = posts["x:1570860004930486273"]
    assert first.url == "https://twitter.com/street_voice/status/1570860004930486273"
    assert first.created_at == datetime(2022, 9, 16, 19, 39, 45, tzinfo=UTC)
    assert first.created_at_source == "platform"
    assert first.author == Author(id="919100000000000001", handle="street_voice")
    assert first.hashtags == ("زن_زندگی_آزادی", "IranProtests")
    assert first.metrics == Metrics(reposts=9, replies=0, likes=421)
    assert first.media == (Media(type="photo", url="https://pbs.twimg.com/media/SyntheticA.jpg"),)
    # time_utc is the time (it comes before Timestamp in the list); the other is kept.
    assert first.annotations == {"Timestamp": "1663357185", "Translation_en": "For freedom"}
    reply = posts["x:1570864731911094274"]
    assert reply.kind == "reply"  # IsReply "TRUE"
    assert reply.replied_to_uid is None  # the scraper does not say to what
    assert reply.geo == Geo(
        precision="place",
        source="Place",
        place_name="Islamic Republic of Iran",
        country_code="IR",
        bbox=(44.03, 25.01, 63.32, 39.78),
    )
    assert reply.media == (Media(type="video", url="https://video.twimg.com/ext_tw_video/x.mp4?tag=12"),)
    repost = posts["x:1570869995762614275"]
    assert repost.kind == "repost"
    assert repost.metrics == Metrics()  # nulls are unknown


def test_wrapped_json_document() -> None:
    parsed = parse_path(HERE / "wrapped_posts.json")
    assert parsed.quarantined == []
    posts = by_uid(parsed.posts)
    assert sorted(posts) == ["json:p-1", "json:p-2"]  # no tweet column: not X
    first = posts["json:p-1"]
    assert first.raw is not None and first.raw.locator.endswith("wrapped_posts.json:posts[0]")
    assert first.author == Author(id="77", handle="river_eye", followers=10)
    assert first.annotations == {"category": "flood"}
    assert posts["json:p-2"].created_at == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)  # +01:00


def test_json_dotted_mapping() -> None:
    ctx = csv_ctx([], **{"map.text": "payload.body", "map.id": "payload.ref"})
    record = {"payload": {"ref": 9, "body": "Aftershock felt"}, "meta": {"lang": "en"}}
    (post,) = GenericJsonFormat().parse(msgspec.json.encode(record), ctx).posts
    assert post.uid == "json:9"
    assert post.original_text == "Aftershock felt"
    assert post.annotations == {"meta.lang": "en"}


def test_json_array_inside_array_is_a_problem() -> None:
    result = GenericJsonFormat().parse(b"[1, 2]", csv_ctx([]))
    assert result.posts == []
    assert result.problems == [(None, "expected a JSON object for one post, found list")]


# -- real development data (skipped where it is absent) -----------------------------------------

REAL = [
    # path, format detected, posts, problems, platform
    ("crisislex_t26/labeled.csv", "csv", 16554, 0, "x"),
    ("crisislex_t26/original/2012_Colorado_wildfires/2012_Colorado_wildfires-tweets_labeled.csv", "csv", 1200, 0, "x"),
    (
        "crisislex_t26/original/2012_Colorado_wildfires/2012_Colorado_wildfires-tweetids_entire_period.csv",
        "csv",
        4182,
        0,
        "x",
    ),
    ("crisisnlp/lrec2016.csv", "csv", 20127, 1, "x"),
    ("crisisnlp/iscram2013_joplin_eyewitness.csv", "csv", 2384, 0, "csv"),
    ("persian/mahsaamini_baraye_tweets/baraye_tweets_merged.jsonl", "jsonl", 3274, 0, "x"),
    ("persian/sut_tw_telegram_2025_2026/timeline_2_2025_Dec29_2026_Feb28.csv", "csv", 1269, 0, "telegram"),
    ("misc/benghazi_2012_stream/original/WK3/libya_tweets.csv", "csv", 2463, 0, "x"),
]


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATA.exists(), reason="development data not present")
@pytest.mark.parametrize(("name", "detected", "count", "problem_count", "platform"), REAL)
def test_real_files(name: str, detected: str, count: int, problem_count: int, platform: str) -> None:
    path = SHARED_DATA / name
    assert detect_format(path).name == detected
    parsed = parse_path(path)
    assert len(parsed.posts) == count
    assert len(parsed.quarantined) == problem_count
    assert {post.platform for post in parsed.posts} == {platform}


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="development data not present")
def test_real_scraper_places_and_times() -> None:
    parsed = parse_path(SHARED_DATA / "persian/mahsaamini_baraye_tweets/baraye_tweets_merged.jsonl")
    assert sum(post.geo is not None and post.geo.precision == "place" for post in parsed.posts) == 12
    assert Counter(post.kind for post in parsed.posts) == {"original": 3264, "reply": 10}
    assert {post.created_at_source for post in parsed.posts} == {"platform"}  # times agree with the ids
