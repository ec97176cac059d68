"""Social Feed Manager WARC files: X API v1.1 and v2 HTTP responses, one raw record per response."""

from __future__ import annotations

import gzip
import io
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from groundspeed.formats.base import ParseContext, Sample
from groundspeed.formats.framing import InputFile, split_file
from groundspeed.formats.warc import WarcFormat
from groundspeed.model import Post
from tests.helpers import FIXTURES, SHARED_DATA, detect_format, parse_path

HERE = FIXTURES / "warc"
FORMAT = "warc"
SFM = SHARED_DATA / "formats" / "sfm_twitter_harvester" / "tests" / "warcs"
V1 = FIXTURES / "x_v1"
V2 = FIXTURES / "x_v2"
WARC_DATE = "2022-09-21T08:00:00Z"


def by_uid(posts: list[Post]) -> dict[str, Post]:
    return {post.uid: post for post in posts}


def ctx(query: str | None = None) -> ParseContext:
    return ParseContext(
        seq=1,
        locator="a.warc.gz:record 1",
        source="file:a",
        collected_at=datetime(2024, 1, 1, tzinfo=UTC),
        software="t",
        query=query,
    )


# -- writing small WARC files -----------------------------------------------------------------


def http_body(body: bytes, *, encoded: bool) -> tuple[bytes, list[tuple[str, str]]]:
    """The body as sent: gzip content encoding in chunked transfer encoding, or plain."""
    if not encoded:
        return body, [("Content-Type", "application/json")]
    packed = gzip.compress(body)
    chunked = b"%x\r\n" % len(packed) + packed + b"\r\n0\r\n\r\n"
    return chunked, [
        ("Content-Type", "application/json"),
        ("Content-Encoding", "gzip"),
        ("Transfer-Encoding", "chunked"),
    ]


def write_warc(
    path: Path, responses: list[tuple[str, str, bytes]], *, compress: bool = True, encoded: bool = True
) -> None:
    """responses: (uri, HTTP status line, body). Each response is followed by its request record."""
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=compress)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for uri, status, body in responses:
            payload, headers = http_body(body, encoded=encoded)
            http_headers = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
            # A length given up front keeps warcio from buffering the payload in a temporary file.
            response = writer.create_warc_record(
                uri,
                "response",
                payload=io.BytesIO(payload),
                length=len(payload),
                http_headers=http_headers,
                warc_headers_dict={"WARC-Date": WARC_DATE},
            )
            writer.write_record(response)
            request_headers = StatusAndHeaders(
                f"GET {uri} HTTP/1.1", [("Host", "api.twitter.com")], is_http_request=True
            )
            request = writer.create_warc_record(
                uri, "request", payload=io.BytesIO(b""), length=0, http_headers=request_headers
            )
            writer.write_record(request)


def search_body() -> bytes:
    return (V1 / "search_pages.jsonl").read_bytes().splitlines()[0]


def v2_page() -> bytes:
    return (V2 / "synthetic_pages.jsonl").read_bytes().splitlines()[0]


MIXED = [
    ("https://api.twitter.com/1.1/search/tweets.json?q=%23flood&count=100", "200 OK", search_body()),
    ("https://api.twitter.com/1.1/search/tweets.json?q=%23flood&max_id=5", "429 Too Many Requests", b'{"errors":[]}'),
    ("https://example.org/page.html", "200 OK", b"<html></html>"),
    ("https://api.twitter.com/1.1/users/lookup.json?screen_name=a", "200 OK", b'[{"id_str":"1","screen_name":"a"}]'),
    ("https://api.twitter.com/2/tweets/search/stream", "200 OK", v2_page() + b"\r\n" + v2_page()[:50] + b"\r\n"),
    ("https://api.twitter.com/1.1/statuses/user_timeline.json?user_id=1", "200 OK", b"[{broken"),
]


@pytest.fixture(params=[True, False], ids=["warc.gz", "warc"])
def mixed(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / ("mixed.warc.gz" if request.param else "mixed.warc")
    write_warc(path, MIXED, compress=request.param)
    return path


# -- detection and splitting -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["sfm_v1_user_timeline.warc.gz", "sfm_v2_user_tweets.warc.gz", "sfm_v2_search_empty.warc.gz"]
)
def test_detected(name: str) -> None:
    assert detect_format(HERE / name).name == FORMAT


def test_sniff() -> None:
    fmt = WarcFormat()
    assert (
        fmt.sniff(
            Sample(
                name="a.warc",
                head="WARC/1.0\r\nWARC-Target-URI: https://example.org/\r\n",
                first_value=None,
                csv_header=None,
            )
        )
        == 40
    )
    assert fmt.sniff(Sample(name="a.jsonl", head='{"id": 1}', first_value={"id": 1}, csv_header=None)) == 0


def test_detected_when_written_here(mixed: Path) -> None:
    assert detect_format(mixed).name == FORMAT


def test_split_yields_each_response_as_stored(mixed: Path) -> None:
    records = [record for batch in split_file(WarcFormat(), InputFile(mixed), None) for record in batch.records]
    # warcinfo is record 1; each response (even numbers) is followed by its request
    assert [locator.rsplit(":", 1)[1] for locator, _ in records] == [f"record {n}" for n in (2, 4, 6, 8, 10, 12)]
    data = mixed.read_bytes()
    for _, payload in records:
        assert payload in data  # the exact stored bytes, gzip member included
        record = gzip.decompress(payload) if mixed.suffix == ".gz" else payload
        assert record.startswith(b"WARC/1.0\r\n") and b"\r\nWARC-Type: response\r\n" in record
        assert record.endswith(b"\r\n\r\n")


def test_split_reads_a_stream_that_cannot_seek() -> None:
    data = (HERE / "sfm_v2_user_tweets.warc.gz").read_bytes()

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self.inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    records = list(WarcFormat().split_stream(io.BufferedReader(Pipe()), "pipe"))
    assert [locator for locator, _ in records] == ["record 1", "record 2"]
    assert all(payload in data for _, payload in records)


# -- parsing -----------------------------------------------------------------------------------


def test_mixed_responses(mixed: Path) -> None:
    result = parse_path(mixed)
    assert result.records == 6
    assert result.skipped == {
        "x api http 429 response (no posts)": 1,
        "WARC response not from the X API (example.org)": 1,
        "x user profiles (not posts)": 1,
        "x api error: Not Found Error": 1,  # from the v2 stream page
    }
    problems = sorted((item.locator.rsplit(":", 1)[1], item.path, item.reason[:20]) for item in result.quarantined)
    assert problems == [
        ("record 10", "line 1.data[3]", "x v2 tweet without a"),
        ("record 10", "line 2", "not valid JSON: Inpu"),
        ("record 12", None, "not valid JSON: JSON"),
    ]
    v1 = [post for post in result.posts if post.raw and post.raw.locator.endswith("record 2")]
    v2 = [post for post in result.posts if post.raw and post.raw.locator.endswith("record 10")]
    assert len(result.posts) == len(v1) + len(v2)
    assert sorted((post.uid, post.raw.path) for post in v1 if post.raw) == [
        ("x:1572000000000000002", "statuses[1]"),
        ("x:1572000000000000006", "statuses[0]"),
        ("x:1572000000000000010", "statuses[1].retweeted_status"),
    ]
    assert {post.provenance.query for post in v1} == {"#flood"}  # from the URI, over search_metadata
    assert len(v2) == 5
    assert by_uid(v2)["x:1572100000000000001"].raw.path == "line 1.data[0]"  # type: ignore[union-attr]
    assert {post.provenance.query for post in v2} == {None}  # the stream URI names no query
    assert {post.provenance.collected_at for post in result.posts} == {datetime(2022, 9, 21, 8, 0, tzinfo=UTC)}


def test_plain_bodies(tmp_path: Path) -> None:
    path = tmp_path / "plain.warc.gz"
    write_warc(path, [MIXED[0]], encoded=False)
    assert len(parse_path(path).posts) == 3


def test_given_query_wins(mixed: Path) -> None:
    [(_, payload)] = [record for batch in split_file(WarcFormat(), InputFile(mixed), None) for record in batch.records][
        :1
    ]
    result = WarcFormat().parse(payload, ctx(query="mine"))
    assert {post.provenance.query for post in result.posts} == {"mine"}


def test_unreadable_payload() -> None:
    result = WarcFormat().parse(b"not a warc record", ctx())
    assert result.posts == []
    assert len(result.problems) == 1 and result.problems[0][1].startswith("unreadable WARC record")


def test_sfm_v1_user_timeline() -> None:
    result = parse_path(HERE / "sfm_v1_user_timeline.warc.gz")
    assert result.records == 4
    assert result.quarantined == []
    assert result.skipped == {"x user profiles (not posts)": 1, "empty x api response (no tweets)": 1}
    assert len(result.posts) == 303
    assert Counter(post.kind for post in result.posts) == {"original": 190, "reply": 53, "repost": 34, "quote": 26}
    posts = by_uid(result.posts)
    first = posts["x:721345764362948609"]
    assert first.kind == "quote" and first.quoted_uid == "x:718201370885488642"
    assert first.raw is not None and first.raw.locator.endswith("record 4") and first.raw.path == "[0]"
    assert posts["x:718201370885488642"].raw.path == "[0].quoted_status"  # type: ignore[union-attr]
    assert first.provenance.collected_at is not None
    assert first.provenance.collected_at.date().isoformat() == "2016-04-16"
    iceland = posts["x:721344164437368833"].geo
    assert iceland is not None and (iceland.precision, iceland.place_name, iceland.country_code) == (
        "place",
        "Iceland",
        "IS",
    )


def test_sfm_v2_user_tweets() -> None:
    result = parse_path(HERE / "sfm_v2_user_tweets.warc.gz")
    assert result.records == 2 and result.quarantined == [] and not result.skipped
    posts = by_uid(result.posts)
    assert len(posts) == 3
    quote = posts["x:1091786718775255040"]
    assert quote.kind == "quote" and quote.quoted_uid == "x:1091784515666604032"
    assert quote.author.handle == "SolidMyths"
    assert quote.metrics.views is None  # a 2019 tweet: 0 impressions means not counted
    assert posts["x:1091784515666604032"].raw.path == "includes.tweets[0]"  # type: ignore[union-attr]


def test_sfm_v2_empty_search() -> None:
    result = parse_path(HERE / "sfm_v2_search_empty.warc.gz")
    assert (result.records, result.posts, result.skipped) == (1, [], {"empty x api response (no tweets)": 1})


@pytest.mark.skipif(not SFM.exists(), reason="shared data not available")
def test_sfm_search_warc() -> None:
    path = SFM / "test_1-20151202190229530-00000-29525-GLSS-F0G5RP-8000.warc.gz"
    result = parse_path(path)
    assert (result.records, len(result.posts), len(result.quarantined)) == (14, 1719, 0)
    assert result.skipped == {"empty x api response (no tweets)": 1}
    assert {post.provenance.query for post in result.posts} == {"gelman"}
    encoded = msgspec.json.encode(result.posts[0])
    assert b'"platform":"x"' in encoded
