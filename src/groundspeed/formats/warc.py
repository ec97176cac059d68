"""Social Feed Manager WARC files: raw HTTP responses from the X/Twitter API.

Social Feed Manager (and other warcprox-based harvesters) archive every API call as a WARC
``response`` record. Each such record is one raw record in the spool, kept as the exact bytes stored
in the file (for a ``.warc.gz``, its own gzip member), so the archive can be rebuilt and re-parsed.

Parsing re-reads the record with warcio, which undoes chunked transfer and gzip content encoding,
and hands the JSON body to the v1.1 or v2 tweet code depending on the target URI and the body's
shape. The search behind a response (``q=`` / ``query=`` in the URI) becomes the provenance query,
and the WARC-Date the time the harvester collected it.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import urlsplit

import msgspec
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from ..errors import InputError
from .base import Format, ParseContext, ParseResult, Sample, decode_json, parse_time
from .x_v1 import parse_v1_payload
from .x_v2 import parse_v2_value, query_from_url

_API_HOSTS = ("api.twitter.com", "api.x.com")
_READ_ERRORS = (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error)
USER_PROFILES = "x user profiles (not posts)"


class WarcFormat(Format):
    name = "warc"
    title = "WARC files of X/Twitter API responses (Social Feed Manager)"
    framing = "custom"
    platform = "x"

    def sniff(self, sample: Sample) -> int:
        if not sample.head.startswith("WARC/"):
            return 0
        # Any WARC can only be read by this format; one that holds X API calls is surely ours.
        return 95 if any(host in sample.head for host in _API_HOSTS) else 40

    def split_stream(self, stream: BinaryIO, name: str) -> Iterator[tuple[str, bytes]]:
        if stream.seekable():
            yield from _split(stream, name)
            return
        # Payloads are sliced from the stream by offset, so a pipe is first copied aside.
        with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as copy:
            shutil.copyfileobj(stream, copy)
            copy.seek(0)
            yield from _split(copy, name)  # type: ignore[arg-type]

    def parse(self, payload: bytes, ctx: ParseContext) -> ParseResult:
        try:
            response = _read_response(payload)
        except _READ_ERRORS as exc:
            return ParseResult(problems=[(None, f"unreadable WARC record: {type(exc).__name__}: {exc}")])
        if isinstance(response, str):
            return ParseResult(skipped=[response])
        return _parse_response(response, ctx)


def _split(source: BinaryIO, name: str) -> Iterator[tuple[str, bytes]]:
    iterator = ArchiveIterator(source)
    try:
        for number, record in enumerate(iterator, start=1):
            if record.rec_type != "response":
                continue
            # The offset and length are known once warcio has read the record to its end;
            # the payload is then sliced from the file exactly as stored.
            offset, length = iterator.get_record_offset(), iterator.get_record_length()
            yield f"record {number}", _slice(source, offset, length)
    except ArchiveLoadFailed as exc:
        msg = f"{name} cannot be read as a WARC file ({exc}). Records before the error were imported."
        raise InputError(msg) from None


_RECORD_END = b"\r\n\r\n"


def _slice(source: BinaryIO, offset: int, length: int) -> bytes:
    position = source.tell()  # where warcio's reader is; put it back for the next record
    source.seek(offset)
    data = source.read(length)
    # In an uncompressed WARC warcio's length leaves out the CRLF CRLF that ends every record
    # (in a .warc.gz it is inside the gzip member); keep it so the payload is a whole record.
    if not data.startswith(b"\x1f\x8b") and source.read(len(_RECORD_END)) == _RECORD_END:
        data += _RECORD_END
    source.seek(position)
    return data


class _Response(msgspec.Struct, frozen=True):
    uri: str
    date: str | None
    body: bytes


def _read_response(payload: bytes) -> _Response | str:
    """The response in a WARC record, or the reason to skip it."""
    record = next(iter(ArchiveIterator(io.BytesIO(payload))), None)
    if record is None:
        return "empty WARC record (no response)"
    if record.rec_type != "response":
        return f"WARC {record.rec_type} record (not a response)"
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    status = record.http_headers.get_statuscode() if record.http_headers else None
    if status != "200":
        return f"x api http {status or 'unknown'} response (no posts)"
    body = record.content_stream().read()
    return _Response(uri=uri, date=record.rec_headers.get_header("WARC-Date"), body=body)


def _parse_response(response: _Response, ctx: ParseContext) -> ParseResult:
    parts = urlsplit(response.uri)
    if parts.hostname not in _API_HOSTS:
        return ParseResult(skipped=[f"WARC response not from the X API ({parts.hostname or 'no host'})"])
    if parts.path.startswith("/1.1/users/") or _is_v2_user_lookup(parts.path):
        return ParseResult(skipped=[USER_PROFILES])
    provenance = ctx.provenance(collected_at=parse_time(response.date))
    query = query_from_url(response.uri)
    if ctx.query is None and query is not None:
        provenance = msgspec.structs.replace(provenance, query=query)
    result = ParseResult()
    for path, chunk in _chunks(response.body):
        if parts.path.startswith("/2/"):
            value, reason = decode_json(chunk)
            if reason is not None:
                result.problems.append((path, reason))
            else:
                parse_v2_value(value, ctx, provenance, path=path, result=result)
        else:
            parse_v1_payload(chunk, ctx, provenance, path=path, result=result)
    return result


def _is_v2_user_lookup(path: str) -> bool:
    """/2/users, /2/users/by/..., /2/users/:id (but not /2/users/:id/tweets or /mentions)."""
    parts = path.strip("/").split("/")
    return parts[:2] == ["2", "users"] and (len(parts) <= 3 or parts[2] == "by")


def _chunks(body: bytes) -> list[tuple[str | None, bytes]]:
    """The body as one JSON value, or the lines of a streaming response (one value per line)."""
    stripped = body.strip()
    if b"\n" in stripped:
        try:
            msgspec.json.decode(stripped)
        except msgspec.DecodeError:
            lines = (line for line in stripped.split(b"\n") if line.strip())
            return [(f"line {number}", line) for number, line in enumerate(lines, start=1)]
    return [(None, body)]
