"""Mastodon Status entities: single, timeline, JSON lines, search, context and streaming frames."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from groundspeed.formats.base import Sample
from groundspeed.formats.mastodon import MastodonFormat, html_to_text
from groundspeed.model import Author, Media, Metrics, Post
from tests.helpers import FIXTURES, SHARED_DATA, detect_format, parse_path

HERE = FIXTURES / "mastodon"
FORMAT = "mastodon"
ANA = "https://relief.example/users/ana/statuses"
BO = "https://other.example/users/bo/statuses"


def by_uid(posts: list[Post]) -> dict[str, Post]:
    return {post.uid: post for post in posts}


# -- HTML to text ------------------------------------------------------------------------------


def test_html_paragraphs_breaks_and_entities() -> None:
    text, links = html_to_text("<p>One &amp; two<br>three<br/>four</p><p>five   six\n seven</p>")
    assert text == "One & two\nthree\nfour\n\nfive six seven"
    assert links == ()


def test_html_keeps_link_text_and_full_hidden_url_but_not_tag_links() -> None:
    fragment = (
        '<p><a href="https://x.example/tags/a" class="mention hashtag" rel="tag">#<span>a</span></a> '
        '<span class="h-card"><a href="https://x.example/@b" class="u-url mention">@<span>b</span></a></span> '
        '<a href="https://news.example/a/long/path"><span class="invisible">https://</span>'
        '<span class="ellipsis">news.example/a/lo</span><span class="invisible">ng/path</span></a></p>'
    )
    text, links = html_to_text(fragment)
    assert text == "#a @b https://news.example/a/long/path"
    assert links == ("https://news.example/a/long/path",)


def test_html_drops_scripts_and_survives_broken_markup() -> None:
    assert html_to_text("<p>ok<script>alert(1)</script> <b>bold")[0] == "ok bold"
    assert html_to_text("<ul><li>a</li><li>b</li></ul>tail")[0] == "a\nb\n\ntail"
    assert html_to_text("") == ("", ())


# -- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["status.json", "timeline.json", "statuses.jsonl", "search.json", "stream.jsonl"])
def test_detected(name: str) -> None:
    assert detect_format(HERE / name).name == FORMAT


def test_sniff_needs_uri_account_and_content() -> None:
    fmt = MastodonFormat()

    def sample(value: object) -> Sample:
        return Sample(name="x.json", head="{}", first_value=value, csv_header=None)

    assert fmt.sniff(sample({"uri": "u", "account": {}, "content": ""})) == 90
    assert fmt.sniff(sample([{"uri": "u", "account": {}, "content": ""}])) == 90
    assert fmt.sniff(sample({"uri": "u", "content": ""})) == 0
    assert fmt.sniff(sample({"id": "1", "text": "tweet"})) == 0


# -- mapping -----------------------------------------------------------------------------------


def test_single_status_fields() -> None:
    parsed = parse_path(HERE / "status.json", FORMAT)
    assert parsed.quarantined == []
    [post] = parsed.posts
    assert post.uid == f"mastodon:{ANA}/200"
    assert post.native_id == f"{ANA}/200"
    assert post.url == "https://relief.example/@ana/200"
    assert post.kind == "original"
    assert post.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert post.lang == "fa"
    # the content warning comes first, then the flattened HTML
    assert post.original_text == (
        "Flood update\n\nآب تا زانو رسیده است #سیل\n\nShelter open at the school\n"
        "Bring blankets & water\n@bo https://maps.example/shelter/12"
    )
    assert post.hashtags == ("سیل",)
    assert post.mentions == ("bo@other.example",)
    assert post.urls == ("https://maps.example/shelter/12", "https://news.example/flood")
    assert post.media == (
        Media(type="photo", url="https://files.relief.example/1.jpg"),
        Media(type="animated_gif", url="https://files.relief.example/2.mp4"),
        Media(type="document", url="https://other.example/3.bin"),
    )
    assert post.author == Author(id="101", handle="ana", name="Ana Relief", followers=1200)
    assert post.author.verified is None
    assert post.metrics == Metrics(reposts=2, replies=1, likes=3, quotes=4)


def test_timeline_reblog_replies_and_quotes() -> None:
    parsed = parse_path(HERE / "timeline.json", FORMAT)
    posts = by_uid(parsed.posts)
    reblog = posts[f"mastodon:{ANA}/301/activity"]
    assert reblog.kind == "repost"
    assert reblog.reposted_uid == f"mastodon:{BO}/300"
    assert reblog.text is None
    assert reblog.author.handle == "ana"
    original = posts[f"mastodon:{BO}/300"]  # emitted from the reblog (and again from the quote)
    assert original.original_text == "Bridge closed on route 5"
    assert original.author.handle == "bo@other.example"
    assert [p.raw.path for p in parsed.posts if p.uid == original.uid and p.raw] == ["reblog", "quote.quoted_status"]

    self_reply = posts[f"mastodon:{ANA}/302"]
    assert self_reply.kind == "reply"
    assert self_reply.replied_to_uid == f"mastodon:{ANA}/299"  # same author, same server: buildable
    assert self_reply.annotations == {"in_reply_to_id": "299"}
    other_reply = posts[f"mastodon:{ANA}/303"]
    assert other_reply.kind == "reply"
    assert other_reply.replied_to_uid is None  # a local id of another account says nothing of its uri
    assert other_reply.annotations == {"in_reply_to_id": "300"}

    quote = posts[f"mastodon:{ANA}/304"]
    assert quote.kind == "quote"
    assert quote.quoted_uid == f"mastodon:{BO}/300"
    shallow = posts[f"mastodon:{ANA}/305"]
    assert shallow.kind == "quote"
    assert shallow.quoted_uid is None
    assert shallow.annotations == {"quote_state": "pending", "quoted_status_id": "300"}


def test_timeline_element_that_is_not_a_status_is_a_problem() -> None:
    parsed = parse_path(HERE / "timeline.json", FORMAT)
    assert parsed.records == 6
    assert len(parsed.posts) == 7
    [problem] = parsed.quarantined
    assert problem.locator.endswith("timeline.json:[5]")
    assert problem.reason == "not a Mastodon status (no uri/account/content; keys: id, username)"


def test_json_lines_with_a_bad_time_and_a_cut_line() -> None:
    parsed = parse_path(HERE / "statuses.jsonl", FORMAT)
    assert [post.native_id for post in parsed.posts] == [f"{ANA}/400", f"{BO}/401"]
    assert parsed.posts[1].created_at is None
    problems = sorted((item.locator.rsplit(":", 1)[-1], item.path, item.reason) for item in parsed.quarantined)
    assert problems == [
        ("2", "created_at", "unreadable time 'not a time'"),
        ("3", None, "not valid JSON: Input data was truncated"),
    ]


def test_search_and_context_responses() -> None:
    search = parse_path(HERE / "search.json", FORMAT)
    assert [p.original_text for p in search.posts] == ["search hit one", "search hit two"]
    assert [p.raw.path for p in search.posts if p.raw] == ["statuses[0]", "statuses[1]"]
    context = parse_path(HERE / "context.json", FORMAT)
    assert [(p.native_id, p.kind) for p in context.posts] == [(f"{ANA}/600", "original"), (f"{BO}/602", "reply")]


def test_streaming_frames() -> None:
    parsed = parse_path(HERE / "stream.jsonl", FORMAT)
    assert [p.original_text for p in parsed.posts] == ["stream update #flood", "edited text"]
    assert parsed.posts[0].hashtags == ("flood",)
    assert parsed.posts[0].raw is not None
    assert parsed.posts[0].raw.path == "payload"
    assert parsed.skipped == Counter(
        {
            "mastodon delete event (not a post)": 1,
            "mastodon notification event (not a post)": 1,
            "mastodon filters_changed event (not a post)": 1,
        }
    )
    [problem] = parsed.quarantined
    assert problem.path == "payload"
    assert problem.reason.startswith("not valid JSON")


# -- real payloads (skipped without the shared data) --------------------------------------------


def shared(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip("shared data not available")
    return path


def test_documentation_status_example() -> None:
    parsed = parse_path(shared("formats/api_payloads/mastodon/status_entity_example_v4.5.json"))
    [post] = parsed.posts
    assert post.uid == "mastodon:https://mastodon.social/users/Gargron/statuses/103270115826048975"
    assert post.original_text is not None
    assert post.original_text.startswith('"I lost my inheritance with one wrong digit on my sort code"\n\nhttps://www.')
    assert post.metrics == Metrics(reposts=6, replies=5, likes=11, quotes=2)


def test_documentation_websocket_frames() -> None:
    parsed = parse_path(shared("formats/api_payloads/mastodon/streaming_websocket_frames_example.jsonl"))
    [post] = parsed.posts
    assert post.kind == "reply"
    assert post.author.handle == "tobtobxx@fosstodon.org"
    assert sum(parsed.skipped.values()) == 2


def test_mastodon_py_statuses() -> None:
    parsed = parse_path(shared("formats/mastodon_api/mastodon_statuses_unique.jsonl"))
    assert len(parsed.posts) == 14
    assert parsed.quarantined == []
    assert Counter(post.lang for post in parsed.posts) == {"en": 8, "ja": 4, "de": 2}


def test_recorded_api_exchanges_are_read(tmp_path: Path) -> None:
    status = json.loads((HERE / "status.json").read_text(encoding="utf-8"))
    timeline = tmp_path / "timeline_exchange.json"
    timeline.write_text(
        json.dumps(
            {
                "request": {"method": "GET", "uri": "https://social.example/api/v1/timelines/public"},
                "response": [status],
            }
        ),
        encoding="utf-8",
    )
    instance = tmp_path / "instance_exchange.json"
    instance.write_text(
        json.dumps(
            {
                "request": {"method": "GET", "uri": "https://social.example/api/v2/instance/"},
                "response": {"domain": "x"},
            }
        ),
        encoding="utf-8",
    )
    assert detect_format(timeline).name == "mastodon"
    posts = parse_path(timeline)
    assert [post.uid for post in posts.posts] == [f"mastodon:{status['uri']}"]
    empty = parse_path(instance)
    assert empty.posts == []
    assert dict(empty.skipped) == {"mastodon API response without posts (GET /api/v2/instance/)": 1}
