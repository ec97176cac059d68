"""The spool: an append-only, compressed, fsync'd log of raw payloads.

Every payload is written here *before* anything else happens to it. The pipeline then reads the
spool by record number (``seq``) and the store remembers, in the same transaction as the posts,
how far it has read. A crash at any point therefore loses nothing (the payload is on disk) and
stores nothing twice (the position and the posts commit together; posts are keyed by uid).

On disk: ``spool/<first seq, 20 digits>.gsl`` segment files, each a run of frames::

    magic "GSF1" | first_seq u64 | count u32 | body_length u32 | crc32(body) u32 | body

``body`` is a zstd-compressed msgpack :class:`FrameBody`: the batch's context (source, format,
options, arrival time) and its records as ``(locator, payload)`` pairs. A frame is written with one
``write`` and made durable with ``fsync`` before :meth:`Spool.append` returns. Seqs are contiguous:
each frame starts where the one before it ended, and a segment's name is its first frame's seq.

Damage is told apart from a torn tail. A frame cut short by a crash (or a failed write) is the
last thing in the newest segment and was never acknowledged, so it is cut off when the spool is
next opened for writing, and readers stop before it. Anything else that does not check out (a
bad checksum with whole frames after it, a damaged older segment, a seq out of order) was
acknowledged, so it raises :class:`SpoolError` naming the file and byte offset: nothing is
silently dropped. A failed append leaves no partial frame behind and does not advance
``next_seq``; if even cutting the partial frame off fails, the next append does it first.

Source cursors (how far into each input file or stream the spool has taken) live beside the
segments in ``cursors.json``, replaced atomically (write, fsync, rename) after each durable
append. The rename itself is not fsync'd: after a crash the previous cursor may come back, which
only means re-reading a little of the input (the store skips posts it has).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import msgspec
import zstandard

from .errors import DiskFullError, SpoolError, StoreLockedError

MAGIC = b"GSF1"
HEADER = struct.Struct("<4sQIII")
SEGMENT_SUFFIX = ".gsl"
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
_MAX_U32 = 0xFFFFFFFF


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
        start = max(0, seq - self.first_seq)
        for index, (locator, payload) in enumerate(self.body.records[start:], start):
            yield self.first_seq + index, locator, payload


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(FrameBody)


def _raise_disk_error(exc: OSError, what: str, where: Path) -> NoReturn:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        msg = (
            f"The disk holding {where} is full while {what}. Nothing acknowledged was lost; "
            "free some space and run the command again."
        )
        raise DiskFullError(msg) from exc
    msg = f"Could not write {where} while {what}: {exc.strerror or exc}"
    raise SpoolError(msg) from exc


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until everything is written (a write may be short, e.g. as a disk fills)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _check_records(records: Sequence[tuple[str, bytes]], options: dict[str, str] | None) -> None:
    """Refuse what would be written durably but could never be read back as a FrameBody."""
    for record in records:
        if (
            len(record) != 2
            or not isinstance(record[0], str)
            or not isinstance(record[1], bytes | bytearray | memoryview)
        ):
            msg = f"spool records are (locator: str, payload: bytes) pairs, not {type(record).__name__} {record!r:.80}"
            raise TypeError(msg)
    if options is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in options.items()):
        msg = "spool options must map str to str"
        raise TypeError(msg)


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
        self._writer: int | None = None  # file descriptor of the segment being appended to
        self._writer_path: Path | None = None
        self._writer_size = 0  # end of the last whole frame in the writer's segment
        self._tail_dirty = False  # a failed write may have left bytes after _writer_size
        self._lock_fd: int | None = None
        self._next_seq: int | None = None

    # -- writing -----------------------------------------------------------------------------

    def open_for_writing(self) -> None:
        """Take the writer lock and repair a torn tail left by a crash."""
        if self._lock_fd is not None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            _raise_disk_error(exc, "opening the spool", self.directory)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            msg = (
                f"Another groundspeed process is writing to {self.directory.parent}. "
                "Wait for it to finish (or stop it) and try again."
            )
            raise StoreLockedError(msg) from None
        except OSError as exc:  # e.g. no lock support on a network file system
            os.close(fd)
            msg = f"Could not lock {self.directory / 'LOCK'}: {exc.strerror or exc}"
            raise SpoolError(msg) from exc
        self._lock_fd = fd
        try:
            self._next_seq = self._repair_tail()
        except BaseException:
            self.close()
            raise

    def _repair_tail(self) -> int:
        """Cut a torn frame off the newest segment; return the next seq."""
        segments = self.segments()
        if not segments:
            return 0
        last = segments[-1]
        good_end, next_seq, _damage = self._scan(last, tolerate_torn_tail=True)
        if good_end < last.stat().st_size:
            try:
                with open(last, "r+b") as handle:
                    handle.truncate(good_end)
                    handle.flush()
                    if self.fsync:
                        os.fsync(handle.fileno())
            except OSError as exc:
                _raise_disk_error(exc, "repairing the end of the spool after a crash", last)
        self._tail_dirty = False
        return next_seq

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
        """Write records durably; return the seq of the first one. Empty batches write nothing.

        On failure nothing is acknowledged: no partial frame is left and ``next_seq`` stays.
        """
        if self._next_seq is None:
            self.open_for_writing()
        if self._tail_dirty:  # an earlier failed write could not be cut off: do it now
            self.close_writer()
            self._next_seq = self._repair_tail()
        assert self._next_seq is not None
        first_seq = self._next_seq
        if not records:
            return first_seq
        _check_records(records, options)
        body = FrameBody(
            source=source,
            format=format,
            received_at_us=received_at_us,
            records=list(records),
            query=query,
            options=options,
        )
        compressed = self._compressor.compress(_encoder.encode(body))
        if len(records) > _MAX_U32 or len(compressed) > _MAX_U32:
            msg = f"a spool frame holds at most 4 GiB and {_MAX_U32} records; split the batch ({len(records)} records)"
            raise ValueError(msg)
        header = HEADER.pack(MAGIC, first_seq, len(records), len(compressed), zlib.crc32(compressed))
        try:
            fd = self._segment_for_append(first_seq)
            _write_all(fd, header + compressed)
            if self.fsync:
                os.fsync(fd)
        except OSError as exc:
            self._discard_partial_write()
            _raise_disk_error(exc, "saving incoming posts", self._writer_path or self.directory)
        self._writer_size += len(header) + len(compressed)
        self._next_seq = first_seq + len(records)
        return first_seq

    def _segment_for_append(self, first_seq: int) -> int:
        """The descriptor to append the frame starting at ``first_seq`` to, rolling over when full."""
        if self._writer is not None and self._writer_size < self.segment_bytes:
            return self._writer
        self.close_writer()
        segments = self.segments()
        if segments and segments[-1].stat().st_size < self.segment_bytes:
            path = segments[-1]
            created = False
        else:
            path = self.directory / f"{first_seq:020d}{SEGMENT_SUFFIX}"
            created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
        except OSError:
            os.close(fd)
            raise
        # Only now is the writer set: a failed append cuts the file back to _writer_size.
        self._writer, self._writer_path, self._writer_size = fd, path, size
        if created and self.fsync:
            _fsync_directory(self.directory)  # the new segment's name is durable too
        return self._writer

    def _discard_partial_write(self) -> None:
        """After a failed write, cut the segment back to its last whole frame.

        If that fails as well, the next append repairs the tail before writing anything, so a
        frame is never written after a partial one.
        """
        fd, good_end = self._writer, self._writer_size
        self._writer = None
        if fd is None:
            return  # the failure came before anything was written
        self._tail_dirty = True
        try:
            os.ftruncate(fd, good_end)
            if self.fsync:
                os.fsync(fd)
            self._tail_dirty = False
        except OSError:
            pass  # repaired on the next append or open_for_writing
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)

    def close_writer(self) -> None:
        if self._writer is not None:
            fd, self._writer = self._writer, None
            os.close(fd)
        self._writer_path = None
        self._writer_size = 0

    def close(self) -> None:
        self.close_writer()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self._next_seq = None
        self._tail_dirty = False

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
        return self._scan(segments[-1], tolerate_torn_tail=True)[1]

    def read(self, from_seq: int = 0) -> Iterator[Frame]:
        """Frames holding records at or after ``from_seq``, in order."""
        segments = self.segments()
        first_index = 0
        for index, path in enumerate(segments):
            if int(path.stem) <= from_seq:
                first_index = index
        for position, path in enumerate(segments[first_index:], first_index):
            last = position == len(segments) - 1
            for offset, first_seq, body in self._frames(path, from_seq, last=last):
                yield Frame(first_seq=first_seq, body=body, segment=path.name, offset=offset)

    def _frames(self, path: Path, from_seq: int, *, last: bool) -> Iterator[tuple[int, int, FrameBody]]:
        """Decoded frames of one segment; frames wholly before ``from_seq`` are skipped unread."""
        expected_seq = int(path.stem)
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            offset = 0
            while offset < size:
                header = handle.read(HEADER.size)
                damage: str | None = None
                if len(header) < HEADER.size:
                    damage = "it ends in the middle of a record"
                else:
                    magic, first_seq, count, length, crc = HEADER.unpack(header)
                    if magic != MAGIC:
                        damage = "bad frame marker"
                    elif first_seq != expected_seq:
                        damage = f"record {first_seq} where {expected_seq} was expected"
                    elif offset + HEADER.size + length > size:
                        damage = "it ends in the middle of a record"
                if damage is None and first_seq + count > from_seq:
                    data = handle.read(length)
                    if zlib.crc32(data) != crc:
                        damage = "checksum mismatch"
                    else:
                        yield offset, first_seq, self._decode(data, path, offset)
                if damage is not None:
                    if last and self._valid_frame_after(path, offset) is None:
                        return  # a torn tail of the live segment: never acknowledged
                    msg = f"The spool file {path} is damaged at byte {offset} ({damage})."
                    raise SpoolError(msg)
                offset += HEADER.size + length
                expected_seq = first_seq + count
                handle.seek(offset)

    def _decode(self, data: bytes, path: Path, offset: int) -> FrameBody:
        try:
            return _decoder.decode(self._decompressor.decompress(data))
        except (zstandard.ZstdError, msgspec.DecodeError) as exc:
            msg = f"The spool file {path} is damaged at byte {offset} (cannot decode the frame: {exc})."
            raise SpoolError(msg) from exc

    def _scan(self, path: Path, *, tolerate_torn_tail: bool) -> tuple[int, int, str | None]:
        """(byte length of the whole frames, next seq, damage) of a segment, verifying checksums.

        A damaged frame with no whole frame after it is a torn tail; one with whole frames after
        it raises SpoolError, since those frames were acknowledged.
        """
        next_seq = int(path.stem)
        good_end = 0
        damage: str | None = None
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            while good_end < size:
                handle.seek(good_end)
                header = handle.read(HEADER.size)
                if len(header) < HEADER.size:
                    damage = "it ends in the middle of a record"
                    break
                magic, first_seq, count, length, crc = HEADER.unpack(header)
                if magic != MAGIC:
                    damage = "bad frame marker"
                    break
                if first_seq != next_seq:
                    damage = f"record {first_seq} where {next_seq} was expected"
                    break
                if good_end + HEADER.size + length > size:
                    damage = "it ends in the middle of a record"
                    break
                if zlib.crc32(handle.read(length)) != crc:
                    damage = "checksum mismatch"
                    break
                good_end += HEADER.size + length
                next_seq = first_seq + count
        if damage is not None and not (tolerate_torn_tail and self._valid_frame_after(path, good_end) is None):
            msg = f"The spool file {path} is damaged at byte {good_end} ({damage})."
            raise SpoolError(msg)
        return good_end, next_seq, damage

    @staticmethod
    def _valid_frame_after(path: Path, offset: int) -> int | None:
        """Offset of a whole, checksummed frame after ``offset``, or None (then the damage at
        ``offset`` is a torn tail). Only runs when damage is found, so reading the rest is fine."""
        with open(path, "rb") as handle:
            handle.seek(offset + 1)
            rest = handle.read()
        start = offset + 1
        position = rest.find(MAGIC)
        while position >= 0:
            if position + HEADER.size <= len(rest):
                _magic, _first, _count, length, crc = HEADER.unpack_from(rest, position)
                end = position + HEADER.size + length
                if end <= len(rest) and zlib.crc32(rest[position + HEADER.size : end]) == crc:
                    return start + position
            position = rest.find(MAGIC, position + 1)
        return None

    # -- source cursors ----------------------------------------------------------------------

    def cursors(self) -> dict[str, Any]:
        path = self.directory / "cursors.json"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            result = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            msg = (
                f"The import positions in {path} cannot be read ({exc}). Deleting the file is safe: "
                "files are then read again from the start and posts already stored are skipped."
            )
            raise SpoolError(msg) from exc
        if not isinstance(result, dict):
            msg = f"The import positions in {path} are not a JSON object."
            raise SpoolError(msg)
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
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            _raise_disk_error(exc, "saving the import position", path)
