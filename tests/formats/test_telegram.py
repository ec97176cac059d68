"""Telegram Desktop JSON exports: single chats, whole-account exports, large files."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from groundspeed.formats.framing import InputFile
from groundspeed.formats.telegram import LOCAL_DATE_NOTE, TelegramExportFormat
from groundspeed.model import Author, Geo, Media, Post
from tests.helpers import FIXTURES, SHARED_DATA, detect_format, parse_path

HERE = FIXTURES / "telegram-export"
CHANNEL = HERE / "channel_result.json"
FULL = HERE / "full_export.json"
FORMAT = "telegram-export"


def by_uid(posts: list[Post]) -> dict[str, Post]:
    return {post.uid: post for post in posts}


@pytest.mark.parametrize("path", [CHANNEL, FULL])
def test_detected(path: Path) -> None:
    assert detect_format(path).name == FORMAT


def test_large_export_is_detected_from_its_start(tmp_path: Path) -> None:
    # Bigger than the 64 KiB detection sample, so detection only sees a partial document.
    message = {
        "id": 1,
        "type": "message",
        "date": "2026-01-01T00:00:00",
        "date_unixtime": "1767225600",
        "text": "x" * 500,
    }
    messages = [dict(message, id=index) for index in range(1, 400)]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "Big", "type": "public_supergroup", "id": 42, "messages": messages}, indent=1))
    sample = InputFile(path).sample()
    assert sample.first_value["__partial__"] is True
    assert TelegramExportFormat().sniff(sample) == 90
    assert detect_format(path).name == FORMAT
    parsed = parse_path(path)
    assert len(parsed.posts) == 399
    assert parsed.posts[-1].uid == "telegram:42/399"


def test_channel_counts() -> None:
    parsed = parse_path(CHANNEL, FORMAT)
    assert parsed.records == 11
    assert Counter(post.kind for post in parsed.posts) == {"original": 6, "reply": 1, "repost": 1}
    assert parsed.skipped == Counter({"telegram service message (create_channel)": 1})
    problems = sorted((item.locator.rsplit(":", 1)[-1], item.path, item.reason) for item in parsed.quarantined)
    assert problems == [
        ("messages[10]", None, "Telegram message without an id"),
        ("messages[8]", "date_unixtime", "unreadable time 'soon'"),
        ("messages[9]", None, "not a Telegram export message (a JSON object with an id and a type)"),
    ]


def test_persian_message_with_hashtag_and_link_entities() -> None:
    post = by_uid(parse_path(CHANNEL, FORMAT).posts)["telegram:1900000001/2"]
    assert post.platform == "telegram"
    assert post.native_id == "1900000001/2"
    assert post.kind == "original"
    assert post.original_text == "هشدار سیل در شمال #سیل_مازندران جزئیات: https://news.example/flood/1"
    assert post.hashtags == ("سیل_مازندران",)
    assert post.urls == ("https://news.example/flood/1",)
    assert post.created_at == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)  # date_unixtime, not the local date
    assert post.annotations is None
    assert post.author == Author(id="channel1900000001", name="Flood Watch")
    assert post.url is None  # the export does not say the channel's username
    assert post.lang is None


def test_text_link_and_mention_entities() -> None:
    post = by_uid(parse_path(CHANNEL, FORMAT).posts)["telegram:1900000001/3"]
    assert post.original_text == "Shelters listed here thanks @rescue_team"
    assert post.urls == ("https://maps.example/shelters",)  # the href, not the word "here"
    assert post.mentions == ("rescue_team",)


def test_reply_forward_media_and_location() -> None:
    posts = by_uid(parse_path(CHANNEL, FORMAT).posts)
    reply = posts["telegram:1900000001/4"]
    assert reply.kind == "reply"
    assert reply.replied_to_uid == "telegram:1900000001/2"
    forward = posts["telegram:1900000001/5"]
    assert forward.kind == "repost"
    assert forward.reposted_uid is None
    assert forward.annotations == {"forwarded_from": "City Council"}
    assert forward.media == (Media(type="photo"),)
    video = posts["telegram:1900000001/6"]
    assert video.media == (Media(type="video"),)
    assert video.original_text is None
    place = posts["telegram:1900000001/7"]
    assert place.geo == Geo(precision="point", source="location_information", lat=36.5659, lon=53.0586)


def test_local_date_only_is_read_as_utc_and_flagged() -> None:
    posts = by_uid(parse_path(CHANNEL, FORMAT).posts)
    old = posts["telegram:1900000001/8"]
    assert old.created_at == datetime(2026, 1, 5, 16, 0, tzinfo=UTC)
    assert old.annotations == {"date_zone": LOCAL_DATE_NOTE}
    # a plain-string text without text_entities: hashtags and links are found in the text
    assert old.hashtags == ("update",)
    assert old.urls == ("https://news.example/2",)
    bad_unix = posts["telegram:1900000001/9"]
    assert bad_unix.created_at == datetime(2026, 1, 5, 16, 30, tzinfo=UTC)


def test_username_option_gives_links() -> None:
    parsed = parse_path(CHANNEL, FORMAT, options={"telegram_username": "floodwatch"})
    assert by_uid(parsed.posts)["telegram:1900000001/2"].url == "https://t.me/floodwatch/2"


def test_full_export_keeps_each_chat() -> None:
    parsed = parse_path(FULL, FORMAT)
    assert parsed.quarantined == []
    assert parsed.skipped == Counter({"telegram service message (invite_members)": 1})
    posts = by_uid(parsed.posts)
    assert sorted(posts) == [
        "telegram:1700000003/99",
        "telegram:1800000002/4",
        "telegram:4000000001/10",
        "telegram:4000000001/11",
    ]
    assert posts["telegram:4000000001/11"].replied_to_uid == "telegram:4000000001/10"
    # a reply to a message in another chat names that chat (the peer id without its type prefix)
    assert posts["telegram:1800000002/4"].replied_to_uid == "telegram:4000000001/11"
    left = posts["telegram:1700000003/99"]
    assert left.raw is not None
    assert left.raw.locator.endswith("full_export.json:left_chats.list[0].messages[0]")
    # the username option only makes links for public chats
    with_name = by_uid(parse_path(FULL, FORMAT, options={"telegram_username": "g"}).posts)
    assert with_name["telegram:1800000002/4"].url == "https://t.me/g/4"
    assert with_name["telegram:4000000001/10"].url is None


# -- real exports (skipped without the shared data) ---------------------------------------------


def shared(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip("shared data not available")
    return path


def test_real_channel_export_with_local_dates() -> None:
    parsed = parse_path(shared("formats/telegram_desktop_export/api/telegram/source-data/germany.json"))
    assert parsed.records == 72
    assert len(parsed.posts) == 70
    assert parsed.quarantined == []
    assert parsed.skipped == Counter(
        {"telegram service message (create_channel)": 1, "telegram service message (edit_group_photo)": 1}
    )
    assert Counter(post.kind for post in parsed.posts) == {"original": 67, "repost": 2, "reply": 1}
    assert all(post.annotations and post.annotations["date_zone"] == LOCAL_DATE_NOTE for post in parsed.posts)


def test_real_channel_sample_with_unix_dates() -> None:
    parsed = parse_path(shared("formats/api_payloads/telegram/tdesktop_export_result_channel_sample.json"))
    assert [post.uid for post in parsed.posts] == [
        "telegram:1487851422/46544",
        "telegram:1487851422/46545",
        "telegram:1487851422/46553",
    ]
    first = parsed.posts[0]
    assert first.created_at == datetime(2023, 1, 7, 6, 48, 49, tzinfo=UTC)  # 12:18:49 local was UTC+5:30
    assert first.urls == ("https://amzn.to/3vMu0oi",)
    assert first.media == (Media(type="photo"),)
    assert parsed.posts[2].hashtags == ("Myntra",)
