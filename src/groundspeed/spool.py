"""The spool: an append-only, compressed, fsync'd log of raw payloads.

Every payload is written here *before* anything else happens to it. The pipeline then reads the
spool by record number (``seq``) and the store remembers, in the same transaction as the posts,
how far it has read. A crash at any point therefore loses nothing (the payload is on disk) and
stores nothing twice (the position and the posts commit together; posts are keyed by uid).

On disk: ``spool/<first seq, 20 digits>.gsl`` segment files, each a run of frames::

    magic "GSF1" | first_seq u64 | count u32 | body_length u32 | crc32(body) u32 | body

``body`` is a zstd-compressed msgpack :class:`FrameBody`: the batch's context (source, format,
options, arrival time) and its records as ``(locator, payload)`` pairs. A frame is written with one
``write`` and made durable with ``fsync`` before :meth:`Spool.append` returns. A frame cut short by
a crash is never acknowledged, so it is cut off when the spool is next opened for writing.

Source cursors (how far into each input file or stream the spool has taken) live beside the
segments in ``cursors.json``, replaced atomically after each durable append.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import zstandard

from .errors import DiskFullError, SpoolError, StoreLockedError

MAGIC = b"GSF1"
HEADER = struct.Struct("<4sQIII")
SEGMENT_SUFFIX = ".gsl"
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024


class FrameBody(msgspec.Struct, array_like=True):
    """A batch of raw records that share one context."""

    source: str  # "file:/path/to/tweets.jsonl"
    format: str  # importer name, e.g. "x-v1"
    received_at_us: int  # arrival time, microseconds since the epoch (UTC)
    records: list[tuple[str, bytes]]  # (locator, payload exactly as received)
    query: str | None = None
    options: dict[str, str] | None = None  # parse options, e.g. a CSV column mapping


class Frame(msgspec.Struct):
    first_seq: int
    body: FrameBody
    segment: str
    offset: int

    def records_from(self, seq: int) -> Iterator[tuple[int, str, bytes]]:
        """(seq, locator, payload) for the records at or after ``seq``."""
        for index, (locator, payload) in enumerate(self.body.records):
            record_seq = self.first_seq + index
            if record_seq >= seq:
                yield record_seq, locator, payload


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(FrameBody)


def _raise_disk_error(exc: OSError, what: str) -> None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        msg = f"The disk is full while {what}. Nothing acknowledged was lost; free some space and run the command again."
        raise DiskFullError(msg) from exc
    msg = f"Could not write the spool while {what}: {exc.strerror or exc}"
    raise SpoolError(msg) from exc


class Spool:
    """The on-disk log. One writer at a time (enforced with a lock file); any number of readers."""

    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        fsync: bool = True,
        compression_level: int = 1,
    ) -> None:
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self._compressor = zstandard.ZstdCompressor(level=compression_level)
        self._decompressor = zstandard.ZstdDecompressor()
        self._writer: Any = None
        self._writer_path: Path | None = None
        self._lock_fd: int | None = None
        self._next_seq: int | None = None

    # -- writing -----------------------------------------------------------------------------

    def open_for_writing(self) -> None:
        """Take the writer lock and repair a torn tail left by a crash."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _raise_disk_error(exc, f"creating {self.directory}")
        fd = os.open(self.directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            msg = (
                f"Another groundspeed process is writing to {self.directory.parent}. "
                "Wait for it to finish (or stop it) and try again."
            )
            raise StoreLockedError(msg) from None
        self._lock_fd = fd
        segments = self.segments()
        if segments:
            last = segments[-1]
            good_end, next_seq = self._scan_tail(last)
            if good_end < last.stat().st_size:
                with open(last, "r+b") as handle:
                    handle.truncate(good_end)
                    handle.flush()
                    os.fsync(handle.fileno())
            self._next_seq = next_seq
        else:
            self._next_seq = 0

    def append(
        self,
        records: Sequence[tuple[str, bytes]],
        *,
        source: str,
        format: str,
        received_at_us: int,
        query: str | None = None,
        options: dict[str, str] | None = None,
    ) -> int:
        """Write records durably; return the seq of the first one. Empty batches write nothing."""
        if self._next_seq is None:
            self.open_for_writing()
        assert self._next_seq is not None
        first_seq = self._next_seq
        if not records:
            return first_seq
        body = FrameBody(
            source=source,
            format=format,
            received_at_us=received_at_us,
            records=list(records),
            query=query,
            options=options,
        )
        compressed = self._compressor.compress(_encoder.encode(body))
        header = HEADER.pack(MAGIC, first_seq, len(records), len(compressed), zlib.crc32(compressed))
        try:
            handle = self._segment_for_append(first_seq)
            handle.write(header + compressed)
            handle.flush()
            if self.fsync:
                os.fsync(handle.fileno())
        except OSError as exc:
            self._discard_partial_write()
            _raise_disk_error(exc, "saving incoming posts")
        self._next_seq = first_seq + len(records)
        return first_seq

    def _segment_for_append(self, first_seq: int) -> Any:
        if self._writer is not None and self._writer.tell() < self.segment_bytes:
            return self._writer
        self.close_writer()
        segments = self.segments()
        if segments and segments[-1].stat().st_size < self.segment_bytes:
            path = segments[-1]
        else:
            path = self.directory / f"{first_seq:020d}{SEGMENT_SUFFIX}"
        self._writer = open(path, "ab")  # noqa: SIM115 - kept open across appends
        self._writer_path = path
        if self.fsync:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return self._writer

    def _discard_partial_write(self) -> None:
        """After a failed write, cut the segment back to its last whole frame."""
        if self._writer is None or self._writer_path is None:
            return
        path = self._writer_path
        try:
            self._writer.close()
        except OSError:
            pass
        self._writer = None
        try:
            good_end, _ = self._scan_tail(path)
            with open(path, "r+b") as handle:
                handle.truncate(good_end)
        except OSError:
            pass  # the tail is repaired on the next open_for_writing

    def close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._writer_path = None

    def close(self) -> None:
        self.close_writer()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self._next_seq = None

    # -- reading -----------------------------------------------------------------------------

    def segments(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob(f"*{SEGMENT_SUFFIX}"))

    @property
    def next_seq(self) -> int:
        """One past the last durable record."""
        if self._next_seq is not None:
            return self._next_seq
        segments = self.segments()
        if not segments:
            return 0
        return self._scan_tail(segments[-1])[1]

    def read(self, from_seq: int = 0) -> Iterator[Frame]:
        """Frames holding records at or after ``from_seq``, in order."""
        segments = self.segments()
        starts = [int(path.stem) for path in segments]
        first_index = 0
        for index, start in enumerate(starts):
            if start <= from_seq:
                first_index = index
        for path in segments[first_index:]:
            for offset, first_seq, body in self._frames(path, from_seq):
                yield Frame(first_seq=first_seq, body=body, segment=path.name, offset=offset)

    def _frames(self, path: Path, from_seq: int) -> Iterator[tuple[int, int, FrameBody]]:
        """Decoded frames of one segment; frames wholly before ``from_seq`` are skipped unread."""
        with open(path, "rb") as handle:
            offset = 0
            while True:
                header = handle.read(HEADER.size)
                if not header:
                    return
                if len(header) < HEADER.size:
                    if self._is_last(path):
                        return  # a torn tail of the live segment: never acknowledged
                    msg = f"The spool file {path} ends in the middle of a record at byte {offset}."
                    raise SpoolError(msg)
                magic, first_seq, count, length, crc = HEADER.unpack(header)
                if magic != MAGIC:
                    msg = f"The spool file {path} is damaged at byte {offset} (bad frame marker)."
                    raise SpoolError(msg)
                if first_seq + count <= from_seq:
                    handle.seek(length, os.SEEK_CUR)
                    offset += HEADER.size + length
                    continue
                data = handle.read(length)
                if len(data) < length or zlib.crc32(data) != crc:
                    if len(data) < length and self._is_last(path):
                        return
                    msg = f"The spool file {path} is damaged at byte {offset} (checksum mismatch)."
                    raise SpoolError(msg)
                yield offset, first_seq, _decoder.decode(self._decompressor.decompress(data))
                offset += HEADER.size + length

    def _is_last(self, path: Path) -> bool:
        segments = self.segments()
        return bool(segments) and segments[-1] == path

    def _scan_tail(self, path: Path) -> tuple[int, int]:
        """(byte length of the whole frames, next seq) of a segment, verifying checksums."""
        next_seq = int(path.stem)
        good_end = 0
        size = path.stat().st_size
        with open(path, "rb") as handle:
            while good_end + HEADER.size <= size:
                handle.seek(good_end)
                magic, first_seq, count, length, crc = HEADER.unpack(handle.read(HEADER.size))
                if magic != MAGIC or good_end + HEADER.size + length > size:
                    break
                if zlib.crc32(handle.read(length)) != crc:
                    break
                good_end += HEADER.size + length
                next_seq = first_seq + count
        return good_end, next_seq

    # -- source cursors ----------------------------------------------------------------------

    def cursors(self) -> dict[str, Any]:
        path = self.directory / "cursors.json"
        if not path.exists():
            return {}
        result: dict[str, Any] = msgspec.json.decode(path.read_bytes())
        return result

    def save_cursor(self, key: str, value: Any) -> None:
        """Durably record a source's position. Call only after its payloads were appended."""
        cursors = self.cursors()
        cursors[key] = value
        path = self.directory / "cursors.json"
        temporary = path.with_suffix(".json.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(msgspec.json.encode(cursors))
                handle.flush()
                if self.fsync:
                    os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError as exc:
            _raise_disk_error(exc, "saving the import position")
