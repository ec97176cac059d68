"""Exports: raw JSONL as received (twarc-compatible for X), normalised JSONL, CSV, Parquet, ids.

All exporters stream: they never hold the whole selection in memory.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import msgspec

from .model import Post
from .spool import Spool
from .store.rows import POST_COLUMNS, post_to_row

EXPORT_FORMATS = ("raw", "jsonl", "csv", "parquet")
_LIST_COLUMNS = {"hashtags", "mentions", "urls"}
_encoder = msgspec.json.Encoder()

# What the understanding stage found, as export columns: (column, post_insights column). Empty
# where a post has not been looked at yet.
INSIGHT_COLUMNS = (
    ("detected_language", "language"),
    ("info_type", "info_type"),
    ("informative", "informative"),
    ("first_hand", "is_eyewitness"),
    ("first_hand_probability", "eyewitness"),
    ("place", "place_name"),
    ("place_lat", "place_lat"),
    ("place_lon", "place_lon"),
    ("place_country", "place_country"),
    ("place_source", "place_source"),
    ("place_confidence", "place_confidence"),
)
EXPORT_COLUMNS = (*POST_COLUMNS, *(column for column, _ in INSIGHT_COLUMNS))
InsightOf = Callable[[str], "dict[str, Any] | None"]  # a post's stored insight, by uid


def _no_insight(uid: str) -> dict[str, Any] | None:
    return None


class InsightsAlongside:
    """Posts streamed with their insights looked up a chunk at a time (one query per 500 posts,
    not one per post): iterate :meth:`posts` and call :meth:`of` for the post just received."""

    def __init__(
        self, posts: Iterable[Post], lookup: Callable[[Sequence[str]], dict[str, dict[str, Any]]], chunk: int = 500
    ) -> None:
        self._posts = posts
        self._lookup = lookup
        self._chunk = chunk
        self._current: dict[str, dict[str, Any]] = {}

    def posts(self) -> Iterator[Post]:
        iterator = iter(self._posts)
        while chunk := list(itertools.islice(iterator, self._chunk)):
            self._current = self._lookup([post.uid for post in chunk])
            yield from chunk

    def of(self, uid: str) -> dict[str, Any] | None:
        return self._current.get(uid)


def _insight_values(insight: dict[str, Any] | None) -> list[Any]:
    if insight is None:
        return [None] * len(INSIGHT_COLUMNS)
    return [insight.get(stored) for _, stored in INSIGHT_COLUMNS]


def write_jsonl(posts: Iterable[Post], out: IO[bytes], insight_of: InsightOf = _no_insight) -> int:
    """Normalised posts, one JSON object per line; with ``insight_of``, each also carries an
    ``insight`` object (what the understanding stage found; null when it has not looked)."""
    count = 0
    for post in posts:
        encoded = _encoder.encode(post)
        if insight_of is not _no_insight:
            found = insight_of(post.uid)
            extra = None if found is None else {column: found.get(stored) for column, stored in INSIGHT_COLUMNS}
            encoded = encoded[:-1] + b',"insight":' + _encoder.encode(extra) + b"}"
        out.write(encoded)
        out.write(b"\n")
        count += 1
    return count


def _csv_row(post: Post, insight: dict[str, Any] | None) -> list[Any]:
    row = list(post_to_row(post))
    for index, column in enumerate(POST_COLUMNS):
        # Lists read better in a spreadsheet as "a; b" than as JSON.
        if column in _LIST_COLUMNS:
            row[index] = "; ".join(getattr(post, column)) or None
    return row + _insight_values(insight)


def write_csv(posts: Iterable[Post], out: IO[str], insight_of: InsightOf = _no_insight) -> int:
    """A spreadsheet: the posts' columns, then what the understanding stage found."""
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for post in posts:
        writer.writerow(_csv_row(post, insight_of(post.uid)))
        count += 1
    return count


def write_parquet(
    posts: Iterable[Post], path: Path, *, batch_rows: int = 20000, insight_of: InsightOf = _no_insight
) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    integer_columns = {
        "author_followers",
        "author_verified",
        "reposts",
        "replies",
        "likes",
        "quotes",
        "views",
        "spool_seq",
    }
    integer_columns |= {"first_hand"}
    float_columns = {
        "lat",
        "lon",
        "informative",
        "first_hand_probability",
        "place_lat",
        "place_lon",
        "place_confidence",
    }
    fields = [
        pa.field(
            name, pa.int64() if name in integer_columns else pa.float64() if name in float_columns else pa.string()
        )
        for name in EXPORT_COLUMNS
    ]
    schema = pa.schema(fields)
    count = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        columns: list[list[Any]] = [[] for _ in EXPORT_COLUMNS]
        for post in posts:
            for index, value in enumerate((*post_to_row(post), *_insight_values(insight_of(post.uid)))):
                columns[index].append(value)
            count += 1
            if len(columns[0]) >= batch_rows:
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                columns = [[] for _ in EXPORT_COLUMNS]
        if columns[0] or count == 0:
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
    return count


def raw_payloads(posts: Iterable[Post], spool: Spool) -> Iterator[bytes]:
    """The spooled records the posts came from, each once, in spool order.

    A record can hold several posts (an X v2 page, a retweet with its original); it is written
    once. CSV rows are spooled as a list of cells and come out as a JSON object keyed by header.
    """
    wanted = sorted({post.raw.seq for post in posts if post.raw is not None})
    if not wanted:
        return
    index = 0
    for frame in spool.read(wanted[0]):
        header = None
        if frame.body.options and "csv_header" in frame.body.options:
            header = msgspec.json.decode(frame.body.options["csv_header"])
        last = frame.first_seq + len(frame.body.records)
        while index < len(wanted) and wanted[index] < last:
            seq = wanted[index]
            if seq >= frame.first_seq:
                payload = frame.body.records[seq - frame.first_seq][1]
                if header is not None:
                    cells = msgspec.json.decode(payload)
                    payload = _encoder.encode(dict(zip(header, cells, strict=False)))
                yield payload
            index += 1
        if index >= len(wanted):
            return


def write_raw(posts: Iterable[Post], spool: Spool, out: IO[bytes]) -> int:
    count = 0
    for payload in raw_payloads(posts, spool):
        out.write(payload.rstrip(b"\r\n"))
        out.write(b"\n")
        count += 1
    return count


def write_ids(posts: Iterable[Post], out: IO[str]) -> int:
    """Native ids, one per line (``twarc dehydrate``): shareable under platform terms."""
    count = 0
    for post in posts:
        out.write(post.native_id + "\n")
        count += 1
    return count


def text_stream(binary: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=True)
