"""Exports: raw JSONL as received (twarc-compatible for X), normalised JSONL, CSV, Parquet, ids.

All exporters stream: they never hold the whole selection in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from .model import Post
from .spool import Spool
from .store.rows import POST_COLUMNS, post_to_row

EXPORT_FORMATS = ("raw", "jsonl", "csv", "parquet")
_LIST_COLUMNS = {"hashtags", "mentions", "urls"}
_encoder = msgspec.json.Encoder()


def write_jsonl(posts: Iterable[Post], out: IO[bytes]) -> int:
    """Normalised posts, one JSON object per line."""
    count = 0
    for post in posts:
        out.write(_encoder.encode(post))
        out.write(b"\n")
        count += 1
    return count


def _csv_row(post: Post) -> list[Any]:
    row = list(post_to_row(post))
    for index, column in enumerate(POST_COLUMNS):
        # Lists read better in a spreadsheet as "a; b" than as JSON.
        if column in _LIST_COLUMNS:
            row[index] = "; ".join(getattr(post, column)) or None
    return row


def write_csv(posts: Iterable[Post], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(POST_COLUMNS)
    count = 0
    for post in posts:
        writer.writerow(_csv_row(post))
        count += 1
    return count


def write_parquet(posts: Iterable[Post], path: Path, *, batch_rows: int = 20000) -> int:
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
    float_columns = {"lat", "lon"}
    fields = [
        pa.field(
            name, pa.int64() if name in integer_columns else pa.float64() if name in float_columns else pa.string()
        )
        for name in POST_COLUMNS
    ]
    schema = pa.schema(fields)
    count = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        columns: list[list[Any]] = [[] for _ in POST_COLUMNS]
        for post in posts:
            for index, value in enumerate(post_to_row(post)):
                columns[index].append(value)
            count += 1
            if len(columns[0]) >= batch_rows:
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                columns = [[] for _ in POST_COLUMNS]
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
