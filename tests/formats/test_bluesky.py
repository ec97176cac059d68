"""Bluesky Jetstream v1 events: posts, reposts, and everything that is not a post."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from groundspeed.formats.base import Sample
from groundspeed.formats.bluesky import BlueskyJetstreamFormat
from groundspeed.model import Media, Post
from tests.helpers import FIXTURES, SHARED_DATA, detect_format, parse_path

HERE = FIXTURES / "bluesky-jetstream"
GOLDEN = HERE / "jetstream_golden.jsonl"
CORPUS = HERE / "jetstream_corpus_excerpt.jsonl"
SYNTHETIC = HERE / "jetstream_synthetic.jsonl"
FORMAT = "bluesky-jetstream"


def by_uid(posts: list[Post]) -> dict[str, Post]:
    return {post.uid: post for post in posts}


def test_detected_from_a_jetstream_line() -> None:
    assert detect_format(GOLDEN).name == FORMAT


def test_sniff_refuses_other_json() -> None:
    fmt = BlueskyJetstreamFormat()
    tweet = Sample(name="t.jsonl", head="{}", first_value={"id_str": "1", "text": "hi"}, csv_header=None)
    assert fmt.sniff(tweet) == 0
    event = Sample(name="e.jsonl", head="{}", first_value={"did": "d", "time_us": 1, "kind": "commit"}, csv_header=None)
    assert fmt.sniff(event) == 95


def test_golden_events_give_one_reply_and_one_repost_and_skip_the_rest() -> None:
    parsed = parse_path(GOLDEN, FORMAT)
    assert parsed.records == 10
    assert parsed.quarantined == []
    assert Counter(post.kind for post in parsed.posts) == {"reply": 1, "repost": 1}
    assert parsed.skipped == Counter(
        {
            "bluesky like (not a post)": 1,
            "bluesky follow (not a post)": 1,
            "bluesky block (not a post)": 1,
            "bluesky profile update (not a post)": 1,
            "bluesky delete of org.hypercerts.claim.activity": 1,
            "bluesky place.stream.broadcast.origin record (not a post)": 1,
            "bluesky identity event (not a post)": 1,
            "bluesky account event (not a post)": 1,
        }
    )


def test_reply_fields() -> None:
    posts = by_uid(parse_path(GOLDEN, FORMAT).posts)
    uri = "at://did:plc:q235v55g5unth4zjjdpacfdr/app.bsky.feed.post/3mmoojp4cd223"
    post = posts[f"bluesky:{uri}"]
    parent = "bluesky:at://did:plc:j76trmiofvaxxpvx2vnb2vwf/app.bsky.feed.post/3mmojbrjwbs26"
    assert post.platform == "bluesky"
    assert post.native_id == uri
    assert post.kind == "reply"
    assert post.url == "https://bsky.app/profile/did:plc:q235v55g5unth4zjjdpacfdr/post/3mmoojp4cd223"
    assert post.original_text == "Try RSV for a good time !!"
    assert post.text == "try rsv for a good time !!"
    assert post.lang == "en"
    assert post.created_at == datetime(2026, 5, 25, 14, 23, 28, 757000, tzinfo=UTC)
    assert post.created_at_source == "platform"
    assert post.replied_to_uid == parent
    assert post.thread_root_uid == parent
    assert post.author.id == "did:plc:q235v55g5unth4zjjdpacfdr"
    assert post.author.handle is None
    assert post.metrics.likes is None
    assert post.raw is not None
    assert post.raw.locator.endswith("jetstream_golden.jsonl:2")


def test_repost_points_at_its_subject_and_has_no_text() -> None:
    posts = by_uid(parse_path(GOLDEN, FORMAT).posts)
    post = posts["bluesky:at://did:plc:eizxoqcsvvvarxeb3pjkblrp/app.bsky.feed.repost/3mmoojpbade2i"]
    assert post.kind == "repost"
    assert post.reposted_uid == "bluesky:at://did:plc:hjloomm2tkve3pmfgbxegl3v/app.bsky.feed.post/3mmood3a6hc25"
    assert post.text is None
    assert post.original_text is None
    assert post.url is None
    assert post.created_at == datetime(2026, 5, 25, 14, 23, 27, 388000, tzinfo=UTC)


def test_facets_give_hashtags_links_and_cards() -> None:
    parsed = parse_path(CORPUS, FORMAT)
    assert parsed.skipped == Counter({"bluesky delete of app.bsky.feed.post": 1})
    posts = by_uid(parsed.posts)
    tags = posts["bluesky:at://did:plc:tn3hni2jpphsgl6amfbb7ja6/app.bsky.feed.post/3mptbypfywk2v"]
    assert tags.hashtags == ("HowToTellAiToShutUp", "IndieRebellion")
    assert tags.lang == "de"
    card = posts["bluesky:at://did:plc:ybqkf2mtfbwx3qhga63mttja/app.bsky.feed.post/3mptbyoigog2b"]
    link = "https://www.ufofeed.com/266486/has-anyone-properly-debunked-tic-tac-video/"
    assert card.urls == (link,)
    assert card.media == (Media(type="link", url=link),)
    assert card.lang == "en-US"  # the first of langs
    images = posts["bluesky:at://did:plc:6aw7u7xjbaiznddugigmdhvc/app.bsky.feed.post/3mptbxs3hq22j"]
    assert images.media == (Media(type="photo", url=None),)  # blobs have no URL of their own


def test_empty_text_is_no_text() -> None:
    posts = by_uid(parse_path(CORPUS, FORMAT).posts)
    gif = posts["bluesky:at://did:plc:ajg5c7huhiibhwandhdscpdq/app.bsky.feed.post/3mptbyproxc2q"]
    assert gif.original_text is None
    assert gif.kind == "reply"
    # the parent and root differ here: a reply deep in a thread
    assert gif.replied_to_uid == "bluesky:at://did:plc:ippiobxpsddnkzd6ms2dbpcy/app.bsky.feed.post/3mptbvznwf22c"
    assert gif.thread_root_uid == "bluesky:at://did:plc:ajg5c7huhiibhwandhdscpdq/app.bsky.feed.post/3mptb7zj4lc2q"
    assert gif.media[0].type == "link"
    assert gif.urls == (gif.media[0].url,)


def test_quotes_mentions_and_persian_tags() -> None:
    parsed = parse_path(SYNTHETIC, FORMAT)
    posts = parsed.posts
    assert [post.kind for post in posts] == ["quote", "quote", "original", "original"]
    quote, persian, edited, no_date = posts
    assert quote.quoted_uid == "bluesky:at://did:plc:synthbbbbbbbbbbbbbbbbbbb/app.bsky.feed.post/3orig00000001"
    assert quote.mentions == ("did:plc:synthbbbbbbbbbbbbbbbbbbb",)
    assert persian.quoted_uid == "bluesky:at://did:plc:synthbbbbbbbbbbbbbbbbbbb/app.bsky.feed.post/3orig00000002"
    assert persian.replied_to_uid == "bluesky:at://did:plc:synthcccccccccccccccccccc/app.bsky.feed.post/3parent000001"
    assert persian.thread_root_uid == "bluesky:at://did:plc:synthcccccccccccccccccccc/app.bsky.feed.post/3root00000001"
    assert persian.hashtags == ("سیل_ایران",)
    assert persian.media == (Media(type="video"),)
    assert persian.lang == "fa"
    # an update keeps the uid (it replaces the first version) and, without facets, text is searched
    assert edited.uid == quote.uid
    assert edited.hashtags == ("flood",)
    assert edited.lang is None  # "und"
    # no createdAt: the Jetstream event time stands in; an embedded list is not a quote
    assert no_date.created_at == datetime(2026, 1, 1, 0, 0, 4, tzinfo=UTC)
    assert no_date.quoted_uid is None


def test_broken_events_are_reported_with_their_line() -> None:
    parsed = parse_path(SYNTHETIC, FORMAT)
    assert parsed.skipped == Counter({"bluesky delete of app.bsky.feed.repost": 1})
    problems = sorted((item.locator.rsplit(":", 1)[-1], item.path, item.reason) for item in parsed.quarantined)
    assert problems == [
        ("6", "commit.record", "bluesky create of app.bsky.feed.post without a record"),
        ("7", None, "not valid JSON: Input data was truncated"),
    ]


@pytest.mark.parametrize(
    ("relative", "records", "kinds", "skipped"),
    [
        (
            "formats/bluesky_jetstream/internal/corpus/testdata/expected_v1.jsonl",
            152,
            {"original": 9, "reply": 8, "repost": 15},
            {
                "bluesky like (not a post)": 105,
                "bluesky follow (not a post)": 6,
                "bluesky delete of app.bsky.feed.post": 1,
            },
        ),
        (
            "formats/api_payloads/bluesky/jetstream_v1_matching_firehose_sample.jsonl",
            9,
            {"original": 3, "reply": 2, "repost": 1},
            {"bluesky delete of app.bsky.feed.post": 1, "bluesky identity event (not a post)": 1},
        ),
    ],
)
def test_real_captures(relative: str, records: int, kinds: dict[str, int], skipped: dict[str, int]) -> None:
    path: Path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip("shared data not available")
    parsed = parse_path(path)
    assert parsed.records == records
    assert parsed.quarantined == []
    assert Counter(post.kind for post in parsed.posts) == kinds
    for reason, count in skipped.items():
        assert parsed.skipped[reason] == count
    assert len(parsed.posts) + sum(parsed.skipped.values()) == records
