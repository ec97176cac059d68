"""Opening input files and splitting them into raw records.

Handles what every format shares: compression (gzip, bz2, xz, zstd, detected from the bytes, not
the name), text encodings (UTF-8 with or without BOM, UTF-16 with BOM, or ``--encoding``), the
detection sample, and splitting by framing with a resumable cursor.

Cursors: for JSON-lines files the cursor is a byte offset and line number in the decompressed
stream, so a file that was cut short by a crash, or that has grown since (a collector still writing
it), continues where it stopped. Other framings count records and skip that many on resume.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import itertools
import lzma
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import msgspec
import zstandard

from ..errors import EncodingError, InputError, TruncatedFileError, UnreadableFileError
from .base import Format, Sample

SAMPLE_BYTES = 64 * 1024
READ_CHUNK = 1024 * 1024
csv.field_size_limit(sys.maxsize)

_COMPRESSIONS = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_TRUNCATION_ERRORS: tuple[type[BaseException], ...] = (EOFError, zstandard.ZstdError, gzip.BadGzipFile, lzma.LZMAError)


@dataclass(slots=True)
class RecordBatch:
    records: list[tuple[str, bytes]]
    cursor: dict[str, Any]  # position after this batch
    options: dict[str, str] | None = None
    bytes_read: int = 0  # of the decompressed input, for progress


@dataclass(slots=True)
class InputFile:
    """A file to import, with its compression and encoding worked out."""

    path: Path
    encoding: str | None = None  # None: UTF-8 (BOM allowed), or UTF-16 when it has a BOM
    compression: str | None = field(init=False, default=None)
    size: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        path = self.path
        if not path.exists():
            msg = f"{path} does not exist."
            raise UnreadableFileError(msg)
        if path.is_dir():
            msg = f"{path} is a folder; give the files inside it (for example {path}/*.jsonl)."
            raise UnreadableFileError(msg)
        try:
            with open(path, "rb") as handle:
                magic = handle.read(6)
        except PermissionError:
            msg = f"{path} cannot be read: permission denied."
            raise UnreadableFileError(msg) from None
        except OSError as exc:
            msg = f"{path} cannot be read: {exc.strerror or exc}."
            raise UnreadableFileError(msg) from None
        self.size = path.stat().st_size
        for prefix, name in _COMPRESSIONS:
            if magic.startswith(prefix):
                self.compression = name
        if self.encoding is None:
            head = self._raw_head(4)
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                self.encoding = "utf-16"
        if self.encoding is not None and codecs.lookup(self.encoding).name == "utf-8":
            self.encoding = None

    @property
    def display(self) -> str:
        return str(self.path)

    @property
    def base_name(self) -> str:
        name = self.path.name.lower()
        for suffix in (".gz", ".bz2", ".xz", ".zst", ".zstd"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name

    def _open_decompressed(self) -> IO[bytes]:
        # Each opener owns the file handle, so closing the stream closes the file.
        if self.compression == "gzip":
            return cast(IO[bytes], gzip.open(self.path, "rb"))
        if self.compression == "bz2":
            return bz2.open(self.path, "rb")
        if self.compression == "xz":
            return lzma.open(self.path, "rb")
        raw = open(self.path, "rb")  # noqa: SIM115 - returned to the caller
        if self.compression == "zstd":
            return cast(
                IO[bytes], zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
            )
        return raw

    def _raw_head(self, size: int) -> bytes:
        try:
            with self._open_decompressed() as handle:
                return handle.read(size)
        except _TRUNCATION_ERRORS:
            return b""

    def open_utf8(self) -> IO[bytes]:
        """The decompressed content as UTF-8 bytes (transcoded when an encoding was given)."""
        stream = self._open_decompressed()
        if self.encoding is None:
            return stream
        return cast(IO[bytes], _Transcoder(stream, self.encoding))

    def truncated(self, exc: BaseException, done: str) -> TruncatedFileError:
        what = self.compression or "compressed"
        msg = f"{self.display} ends early: the {what} data is cut short ({exc}). {done}"
        return TruncatedFileError(msg)

    def sample(self) -> Sample:
        """The start of the file, checked to be text, for format detection."""
        try:
            with self.open_utf8() as handle:
                head = handle.read(SAMPLE_BYTES)
                at_end = not handle.read(1)
        except _TRUNCATION_ERRORS as exc:
            raise self.truncated(exc, "Nothing was imported.") from exc
        except UnicodeDecodeError as exc:
            msg = f"{self.display} is not {self.encoding} text: {exc.reason} at byte {exc.start}."
            raise EncodingError(msg) from None
        if head.startswith(codecs.BOM_UTF8):
            head = head[3:]
        text = _decode_head(head, self.display, is_warc=head.startswith(b"WARC/"))
        return Sample(
            name=self.base_name,
            head=text,
            first_value=_first_json_value(head, at_end),
            csv_header=_csv_header(text),
        )


class _Transcoder(io.RawIOBase):
    """Reads a byte stream in some encoding and gives UTF-8 bytes."""

    def __init__(self, stream: IO[bytes], encoding: str) -> None:
        self._text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = self._text.read(READ_CHUNK // 4)
            if not chunk:
                return 0
            self._pending = chunk.encode("utf-8")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._text.close()
        super().close()


def _decode_head(head: bytes, display: str, *, is_warc: bool) -> str:
    if is_warc:
        return head.decode("utf-8", errors="replace")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        return decoder.decode(head, final=False)
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        if b"\x00" in head[:4096]:
            msg = f"{display} looks like a binary file, not text or JSON; it cannot be imported."
            raise EncodingError(msg) from None
        msg = (
            f"{display} is not UTF-8 text (byte 0x{head[exc.start]:02x} on line {line}). "
            "If you know its encoding, give it with --encoding (for example --encoding cp1256 "
            "for Arabic or Persian Windows text, or --encoding latin-1)."
        )
        raise EncodingError(msg) from None


def _first_json_value(head: bytes, at_end: bool) -> Any:
    stripped = head.lstrip()
    if stripped[:1] not in (b"{", b"["):
        return None
    if at_end:
        try:
            return msgspec.json.decode(stripped)
        except msgspec.DecodeError:
            pass
    first_line = stripped.split(b"\n", 1)[0]
    try:
        return msgspec.json.decode(first_line)
    except msgspec.DecodeError:
        return _partial_json(stripped)


def _partial_json(head: bytes) -> Any:
    """The first element of a JSON array or the start of an object whose end we did not read.

    Detection only needs a few keys, so for a large JSON document this returns a dict with the
    top-level keys seen in the head and, for an array, the first element when it fits in the head.
    """
    if head[:1] == b"[":
        depth = 0
        in_string = False
        escape = False
        for index, byte in enumerate(head[1:], start=1):
            char = chr(byte)
            if in_string:
                if escape:
                    escape = False
                elif char == "\\":
                    escape = True
                elif char == '"':
                    in_string = False
                continue
            if char == '"':
                in_string = True
            elif char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
                if depth == 0:
                    try:
                        return [msgspec.json.decode(head[1 : index + 1].strip())]
                    except msgspec.DecodeError:
                        return None
        return None
    keys: dict[str, Any] = {}
    text = head.decode("utf-8", errors="replace")
    for match in re.finditer(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:', text):
        keys.setdefault(match.group(1), True)
    return {"__partial__": True, **keys} if keys else None


def _csv_header(text: str) -> tuple[str, ...] | None:
    first = text.split("\n", 1)[0].strip("\r\ufeff")
    if not first or first.lstrip()[:1] in ("{", "[", "<"):
        return None
    if "," not in first and "\t" not in first and ";" not in first:
        return None
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",\t;")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    row = next(csv.reader([first], delimiter=delimiter), None)
    return tuple(cell.strip() for cell in row) if row else None


# -- splitting -----------------------------------------------------------------------------


def detect_json_framing(sample: Sample, input_file: InputFile) -> str:
    """ "lines" when each line holds one JSON value, "document" for a single JSON document.

    A file that is one JSON value on one line is a document (so formats can split it).
    """
    head = sample.head.lstrip()
    if head.startswith("["):
        return "document"
    if "\n" in head.rstrip("\r\n"):
        first_line = head.split("\n", 1)[0]
        try:
            msgspec.json.decode(first_line)
            return "lines"
        except msgspec.DecodeError:
            return "document"
    # The first line is longer than the sample (a big X v2 page, say): read it whole.
    with input_file.open_utf8() as handle:
        first = handle.readline()
        rest = handle.read(4096).strip()
    if not rest:
        return "document"
    try:
        msgspec.json.decode(first)
    except msgspec.DecodeError:
        return "document"
    return "lines"


# Records per batch: each batch is one spool frame, one task for a parse worker and one store
# transaction. 20,000 rather than 5,000: fewer commits each rewrite fewer index pages (the
# author-handle index takes inserts all over), measured ~20% less store time on 200k posts.
BATCH_RECORDS = 20_000
BATCH_BYTES = 32 * 1024 * 1024


def batch_sizes(batch_records: int) -> Iterator[int]:
    """Records per batch, batch after batch: an eighth of ``batch_records`` first, doubling.

    The store writer waits for the first batch to be parsed; a small first batch has it start
    sooner (parsing 20,000 tweets takes ~0.6 s, a tenth of a 200k import), the full size then
    keeps commits few.
    """
    size = max(1, batch_records // 8)
    while True:
        yield size
        size = min(batch_records, size * 2)


def split_file(
    fmt: Format,
    input_file: InputFile,
    cursor: dict[str, Any] | None,
    *,
    batch_records: int | None = None,
    batch_bytes: int | None = None,
    sample: Sample | None = None,
) -> Iterator[RecordBatch]:
    """Raw records of a file in batches, starting after ``cursor``."""
    cursor = cursor or {}
    batch_records = batch_records or BATCH_RECORDS
    batch_bytes = batch_bytes or BATCH_BYTES
    try:
        if fmt.framing == "json":
            sample = sample or input_file.sample()
            if detect_json_framing(sample, input_file) == "lines":
                yield from _split_lines(input_file, cursor, batch_records, batch_bytes)
            else:
                yield from _split_document(fmt, input_file, cursor, batch_records)
        elif fmt.framing == "csv":
            yield from _split_csv(input_file, cursor, batch_records)
        elif fmt.framing == "xml":
            yield from _split_xml(fmt, input_file, cursor, batch_records)
        else:
            yield from _split_custom(fmt, input_file, cursor, batch_records)
    except _TRUNCATION_ERRORS as exc:
        raise input_file.truncated(exc, "The records before the cut were imported.") from exc


def _split_lines(
    input_file: InputFile, cursor: dict[str, Any], batch_records: int, batch_bytes: int
) -> Iterator[RecordBatch]:
    offset = int(cursor.get("offset", 0))
    line_no = int(cursor.get("line", 0))
    display = input_file.display
    with input_file.open_utf8() as handle:
        if offset:
            _skip(handle, offset)
        carry = b""
        records: list[tuple[str, bytes]] = []
        size = 0
        sizes = batch_sizes(batch_records)
        limit = next(sizes)
        truncated: BaseException | None = None
        # read1 returns what one decompression step gives, so a cut-off compressed file loses
        # only the unreadable end, not the whole last chunk.
        read = getattr(handle, "read1", handle.read)
        while True:
            try:
                chunk = read(READ_CHUNK)
            except _TRUNCATION_ERRORS as exc:
                truncated = exc  # keep what was read; the cut line is quarantined below
                break
            if not chunk:
                break
            data = carry + chunk
            lines = data.split(b"\n")
            carry = lines.pop()
            for raw_line in lines:
                line_no += 1
                offset += len(raw_line) + 1
                line = raw_line[:-1] if raw_line.endswith(b"\r") else raw_line
                if line_no == 1 and line.startswith(codecs.BOM_UTF8):
                    line = line[3:]
                if not line.strip():
                    continue
                records.append((f"{display}:{line_no}", line))
                size += len(line)
                if len(records) >= limit or size >= batch_bytes:
                    yield RecordBatch(records, {"offset": offset, "line": line_no}, bytes_read=offset)
                    records, size, limit = [], 0, next(sizes)
        if carry:
            # The last line has no newline. It is taken like any other line: a complete record,
            # or, when a copy was cut short, a broken one that parsing quarantines with its line.
            line_no += 1
            offset += len(carry)
            line = carry[:-1] if carry.endswith(b"\r") else carry
            if line.strip():
                records.append((f"{display}:{line_no}", line))
        if records or not cursor:
            yield RecordBatch(records, {"offset": offset, "line": line_no}, bytes_read=offset)
        if truncated is not None:
            raise input_file.truncated(truncated, f"The {line_no:,} lines before the cut were imported.")


def _skip(handle: IO[bytes], count: int) -> None:
    try:
        handle.seek(count)
        return
    except (OSError, io.UnsupportedOperation):
        pass
    while count > 0:
        chunk = handle.read(min(count, READ_CHUNK))
        if not chunk:
            return
        count -= len(chunk)


def _records_after(cursor: dict[str, Any]) -> int:
    return int(cursor.get("records", 0))


def _batched(
    records: Iterator[tuple[str, bytes]],
    cursor: dict[str, Any],
    batch_records: int,
    options: dict[str, str] | None,
    total_bytes: int,
) -> Iterator[RecordBatch]:
    skip = _records_after(cursor)
    done = 0
    batch: list[tuple[str, bytes]] = []
    sizes = batch_sizes(batch_records)
    limit = next(sizes)
    for record in records:
        done += 1
        if done <= skip:
            continue
        batch.append(record)
        if len(batch) >= limit:
            yield RecordBatch(batch, {"records": done}, options)
            batch, limit = [], next(sizes)
    yield RecordBatch(batch, {"records": done}, options, bytes_read=total_bytes)


def _read_all(input_file: InputFile) -> bytes:
    with input_file.open_utf8() as handle:
        data = handle.read()
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    return data


def _split_document(
    fmt: Format, input_file: InputFile, cursor: dict[str, Any], batch_records: int
) -> Iterator[RecordBatch]:
    data = _read_all(input_file)
    display = input_file.display
    try:
        if data.lstrip()[:1] == b"[":
            elements = msgspec.json.decode(data, type=list[msgspec.Raw])
            records: Iterator[tuple[str, bytes]] = (
                (f"{display}:[{index}]", bytes(element)) for index, element in enumerate(elements)
            )
            yield from _batched(records, cursor, batch_records, None, len(data))
            return
        document = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        line_hint = _error_line(data, str(exc))
        msg = f"{display} is not valid JSON ({exc}){line_hint}. Nothing from it was imported."
        raise InputError(msg) from None
    parts = fmt.split_document(document)
    options = fmt.document_context(document)
    if parts is None:
        parts = [("", document)]
    encoded = (
        (f"{display}:{path}" if path else display, value if isinstance(value, bytes) else msgspec.json.encode(value))
        for path, value in parts
    )
    yield from _batched(encoded, cursor, batch_records, options, len(data))


def _error_line(data: bytes, message: str) -> str:
    match = re.search(r"char (\d+)", message)
    if not match:
        return ""
    position = int(match.group(1))
    line = data[:position].count(b"\n") + 1
    return f", line {line}"


def _split_csv(input_file: InputFile, cursor: dict[str, Any], batch_records: int) -> Iterator[RecordBatch]:
    display = input_file.display
    with input_file.open_utf8() as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")
        first = text.readline()  # compressed and transcoded streams cannot seek back
        try:
            delimiter = csv.Sniffer().sniff(first, delimiters=",\t;").delimiter
        except csv.Error:
            delimiter = ","
        reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            yield RecordBatch([], {"records": 0}, None)
            return
        options = {"csv_header": msgspec.json.encode([cell.strip() for cell in header]).decode()}

        def rows() -> Iterator[tuple[str, bytes]]:
            start_line = reader.line_num + 1
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield f"{display}:{start_line}", msgspec.json.encode(row)
                start_line = reader.line_num + 1

        yield from _batched(rows(), cursor, batch_records, options, input_file.size)


def _split_xml(fmt: Format, input_file: InputFile, cursor: dict[str, Any], batch_records: int) -> Iterator[RecordBatch]:
    from defusedxml import ElementTree

    data = _read_all(input_file)
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        msg = f"{input_file.display} is not well-formed XML ({exc}). Nothing from it was imported."
        raise InputError(msg) from None
    except Exception as exc:  # defusedxml refuses entity expansion attacks with its own errors
        msg = f"{input_file.display} was refused as unsafe XML ({type(exc).__name__}). Nothing from it was imported."
        raise InputError(msg) from None
    parts = fmt.split_document(root) or []
    options = fmt.document_context(root)
    display = input_file.display
    encoded = (
        (f"{display}:{path}", value if isinstance(value, bytes) else msgspec.json.encode(value))
        for path, value in parts
    )
    yield from _batched(encoded, cursor, batch_records, options, len(data))


def _split_custom(
    fmt: Format, input_file: InputFile, cursor: dict[str, Any], batch_records: int
) -> Iterator[RecordBatch]:
    display = input_file.display
    with open(input_file.path, "rb") as handle:
        records = ((f"{display}:{where}", payload) for where, payload in fmt.split_stream(handle, display))
        yield from _batched(records, cursor, batch_records, None, input_file.size)
