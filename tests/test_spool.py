"""The spool: durable append, read back by seq, crash repair, damage reporting, disk full, locking."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import zstandard

from groundspeed.errors import DiskFullError, SpoolError, StoreLockedError
from groundspeed.spool import HEADER, MAGIC, Spool

RECEIVED_AT_US = 1_700_000_000_000_000


def records(start: int, count: int, size: int = 40) -> list[tuple[str, bytes]]:
    return [
        (f"tweets.jsonl:{i + 1}", f'{{"id": {i}, "text": "{"x" * size}"}}'.encode())
        for i in range(start, start + count)
    ]


def append(spool: Spool, batch: list[tuple[str, bytes]], **context: object) -> int:
    kwargs: dict[str, object] = {
        "source": "file:/data/tweets.jsonl",
        "format": "x-v1",
        "received_at_us": RECEIVED_AT_US,
    }
    kwargs.update(context)
    return spool.append(batch, **kwargs)  # type: ignore[arg-type]


def all_records(spool: Spool, from_seq: int = 0) -> list[tuple[int, str, bytes]]:
    return [record for frame in spool.read(from_seq) for record in frame.records_from(from_seq)]


def expected(start: int, count: int) -> list[tuple[int, str, bytes]]:
    return [(start + i, locator, payload) for i, (locator, payload) in enumerate(records(start, count))]


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    s = Spool(tmp_path / "spool", fsync=False)
    yield s
    s.close()


def frame_offsets(path: Path) -> list[int]:
    """Byte offsets of the frames in a segment, from the headers."""
    data = path.read_bytes()
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        _magic, _first, _count, length, _crc = HEADER.unpack_from(data, offset)
        offset += HEADER.size + length
    return offsets


# -- round trip --------------------------------------------------------------------------------


def test_round_trip_keeps_records_and_context(spool: Spool) -> None:
    assert append(spool, records(0, 3), query="#mahsa_amini", options={"csv_header": '["id","text"]'}) == 0
    assert append(spool, records(3, 2), source="telegram:chan", format="telegram", received_at_us=5) == 3
    assert spool.next_seq == 5
    frames = list(spool.read())
    assert [frame.first_seq for frame in frames] == [0, 3]
    first, second = frames[0].body, frames[1].body
    assert (first.source, first.format, first.received_at_us) == ("file:/data/tweets.jsonl", "x-v1", RECEIVED_AT_US)
    assert first.query == "#mahsa_amini"
    assert first.options == {"csv_header": '["id","text"]'}
    assert (second.source, second.format, second.received_at_us, second.query, second.options) == (
        "telegram:chan",
        "telegram",
        5,
        None,
        None,
    )
    assert all_records(spool) == expected(0, 5)
    assert frames[0].segment == f"{0:020d}.gsl"
    assert frames[1].offset > 0


def test_payload_bytes_are_kept_exactly(spool: Spool) -> None:
    payloads = [b"", b"\x00\xff\r\n", "زن زندگی آزادی 👨\u200d👩\u200d👧".encode(), bytes(range(256)) * 50]
    append(spool, [(f"l{i}", p) for i, p in enumerate(payloads)])
    assert [payload for _seq, _loc, payload in all_records(spool)] == payloads


def test_empty_append_writes_nothing(spool: Spool) -> None:
    assert append(spool, []) == 0
    assert spool.segments() == []
    append(spool, records(0, 2))
    size = spool.segments()[0].stat().st_size
    assert append(spool, []) == 2
    assert spool.segments()[0].stat().st_size == size
    assert spool.next_seq == 2


def test_bad_record_types_are_refused_before_writing(spool: Spool) -> None:
    with pytest.raises(TypeError):
        append(spool, [("a", "text, not bytes")])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        append(spool, records(0, 1), options={"n": 1})
    assert spool.segments() == [] or spool.segments()[0].stat().st_size == 0
    assert append(spool, records(0, 1)) == 0


# -- segments and reading from the middle ------------------------------------------------------


def test_seqs_are_contiguous_across_segment_rollover(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", segment_bytes=300, fsync=False)
    starts = [append(spool, records(seq, 3)) for seq in range(0, 30, 3)]
    assert starts == list(range(0, 30, 3))
    segments = spool.segments()
    assert len(segments) > 2
    # each segment is named for its first frame's seq, and frames chain without gaps
    frames = list(spool.read())
    assert [int(path.stem) for path in segments] == sorted({int(frame.segment[:-4]) for frame in frames})
    for frame in frames:
        if frame.offset == 0:
            assert int(frame.segment[:-4]) == frame.first_seq
    assert all_records(spool) == expected(0, 30)
    spool.close()


def test_read_from_any_seq_in_the_middle_of_frames_and_segments(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", segment_bytes=400, fsync=False)
    for seq in range(0, 40, 4):
        append(spool, records(seq, 4))
    assert len(spool.segments()) > 2
    for from_seq in range(41):
        got = all_records(spool, from_seq)
        assert got == expected(0, 40)[from_seq:], from_seq
        frames = list(spool.read(from_seq))
        if frames:  # frames wholly before from_seq are not returned
            assert frames[0].first_seq <= from_seq < frames[0].first_seq + len(frames[0].body.records)
    spool.close()


def test_reopening_continues_seq_numbering(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    first = Spool(directory, segment_bytes=250, fsync=False)
    append(first, records(0, 5))
    append(first, records(5, 5))
    first.close()
    assert Spool(directory).next_seq == 10  # without opening for writing
    second = Spool(directory, segment_bytes=250, fsync=False)
    second.open_for_writing()
    assert second.next_seq == 10
    assert append(second, records(10, 4)) == 10
    second.close()
    third = Spool(directory, fsync=False)
    assert append(third, records(14, 1)) == 14  # append opens for writing itself
    third.close()
    assert all_records(Spool(directory)) == expected(0, 15)


# -- crashes and damage ------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate", "garbage", "zeros", "header only"])
def test_torn_tail_is_repaired_on_open_for_writing(tmp_path: Path, damage: str) -> None:
    directory = tmp_path / "spool"
    spool = Spool(directory, fsync=False)
    append(spool, records(0, 3))
    append(spool, records(3, 3))
    good_size = spool.segments()[0].stat().st_size
    append(spool, records(6, 3))
    spool.close()
    segment = spool.segments()[0]
    if damage == "truncate":  # the last frame was cut short by a crash
        os.truncate(segment, segment.stat().st_size - 5)
    else:
        os.truncate(segment, good_size)
        with open(segment, "ab") as handle:
            handle.write(
                {
                    "garbage": b"\x13\x37 not a frame at all " * 3,
                    "zeros": b"\0" * 4096,
                    "header only": MAGIC + b"\0" * 8,
                }[damage]
            )
    # readers stop before a torn tail without complaint
    assert all_records(Spool(directory)) == expected(0, 6)
    assert Spool(directory).next_seq == 6
    reopened = Spool(directory, fsync=False)
    reopened.open_for_writing()
    assert segment.stat().st_size == good_size
    assert reopened.next_seq == 6
    assert append(reopened, records(6, 2)) == 6
    reopened.close()
    assert all_records(Spool(directory)) == expected(0, 8)


def test_torn_first_frame_of_a_new_segment(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = Spool(directory, segment_bytes=100, fsync=False)
    append(spool, records(0, 3))
    append(spool, records(3, 3))
    spool.close()
    last = spool.segments()[-1]
    assert last.name == f"{3:020d}.gsl"
    os.truncate(last, 10)
    reopened = Spool(directory, segment_bytes=100, fsync=False)
    reopened.open_for_writing()
    assert last.stat().st_size == 0
    assert append(reopened, records(3, 1)) == 3
    reopened.close()
    assert all_records(Spool(directory)) == expected(0, 4)


def flip_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


def test_corrupt_frame_in_an_older_segment_names_file_and_offset(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = Spool(directory, segment_bytes=500, fsync=False)
    for seq in range(0, 30, 3):
        append(spool, records(seq, 3))
    spool.close()
    older = spool.segments()[0]
    offsets = frame_offsets(older)
    assert len(offsets) >= 2
    bad = offsets[1]
    flip_byte(older, bad + HEADER.size + 3)  # inside the compressed body: checksum mismatch
    reader = Spool(directory)
    with pytest.raises(SpoolError, match=rf"{older.name}.* byte {bad} \(checksum mismatch\)"):
        all_records(reader)
    # frames before the damage are still readable, and reads starting after it are unaffected
    frames = reader.read(0)
    assert next(frames).first_seq == 0
    assert all_records(reader, 15) == expected(0, 30)[15:]
    # the damage is in an older segment: writing goes on at the end
    writer = Spool(directory, segment_bytes=500, fsync=False)
    assert append(writer, records(30, 1)) == 30
    writer.close()


def test_bad_marker_and_seq_out_of_order_are_damage(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = Spool(directory, segment_bytes=200, fsync=False)
    for seq in range(0, 12, 3):
        append(spool, records(seq, 3))
    spool.close()
    older = spool.segments()[0]
    flip_byte(older, 0)  # the magic of the first frame
    with pytest.raises(SpoolError, match=rf"{older.name}.* byte 0 \(bad frame marker\)"):
        all_records(Spool(directory))
    # reading from the start of a later segment does not touch the damaged one
    later = int(spool.segments()[1].stem)
    assert all_records(Spool(directory), later) == expected(0, 12)[later:]
    flip_byte(older, 0)
    flip_byte(older, 4)  # first_seq of the first frame: 0 -> 255
    with pytest.raises(SpoolError, match=r"byte 0 \(record 255 where 0 was expected\)"):
        all_records(Spool(directory))


def test_damage_in_the_middle_of_the_newest_segment_is_not_cut_off(tmp_path: Path) -> None:
    """Acknowledged frames after a bad one mean bit rot, not a torn write: refuse, never truncate."""
    directory = tmp_path / "spool"
    spool = Spool(directory, fsync=False)
    for seq in range(0, 9, 3):
        append(spool, records(seq, 3))
    spool.close()
    segment = spool.segments()[0]
    bad = frame_offsets(segment)[1]
    flip_byte(segment, bad + HEADER.size + 3)
    size = segment.stat().st_size
    writer = Spool(directory, fsync=False)
    with pytest.raises(SpoolError, match=rf"byte {bad} \(checksum mismatch\)"):
        writer.open_for_writing()
    assert segment.stat().st_size == size
    with pytest.raises(SpoolError, match=rf"byte {bad}"):
        all_records(Spool(directory))
    # the lock was released: once the file is dealt with, another writer can start
    segment.rename(segment.with_suffix(".damaged"))
    writer.open_for_writing()
    writer.close()


def test_valid_checksum_but_undecodable_body_is_spool_error(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    directory.mkdir()
    body = b"not zstd at all"
    (directory / f"{0:020d}.gsl").write_bytes(HEADER.pack(MAGIC, 0, 1, len(body), zlib.crc32(body)) + body)
    with pytest.raises(SpoolError, match=r"byte 0 .*cannot decode"):
        all_records(Spool(directory))


# -- locking -----------------------------------------------------------------------------------


def test_second_writer_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    first = Spool(directory, fsync=False)
    first.open_for_writing()
    first.open_for_writing()  # opening twice in the same object is harmless
    second = Spool(directory, fsync=False)
    with pytest.raises(StoreLockedError, match="Another groundspeed process"):
        second.open_for_writing()
    with pytest.raises(StoreLockedError):
        append(second, records(0, 1))
    append(first, records(0, 1))
    assert all_records(second) == expected(0, 1)  # readers need no lock
    first.close()
    second.open_for_writing()
    assert append(second, records(1, 1)) == 1
    second.close()


def test_writer_in_another_process_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    code = (
        "import sys; from pathlib import Path; from groundspeed.spool import Spool\n"
        "s = Spool(Path(sys.argv[1]), fsync=False); s.open_for_writing(); print('locked', flush=True); sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(directory)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"locked\n"
        with pytest.raises(StoreLockedError):
            Spool(directory).open_for_writing()
    finally:
        child.communicate(b"", timeout=30)
    spool = Spool(directory, fsync=False)
    spool.open_for_writing()  # the lock went with the process
    spool.close()


# -- cursors -----------------------------------------------------------------------------------


def test_cursors_saved_and_read_back(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = Spool(directory)
    assert spool.cursors() == {}
    spool.open_for_writing()
    spool.save_cursor("file:/a.jsonl", {"position": {"offset": 10}, "complete": False})
    spool.save_cursor("file:/b.csv", {"position": {"offset": 3}, "complete": True})
    spool.save_cursor("file:/a.jsonl", {"position": {"offset": 99}, "complete": True})
    spool.close()
    assert Spool(directory).cursors() == {
        "file:/a.jsonl": {"position": {"offset": 99}, "complete": True},
        "file:/b.csv": {"position": {"offset": 3}, "complete": True},
    }
    assert sorted(p.name for p in directory.iterdir() if "cursors" in p.name) == ["cursors.json"]


def test_failed_cursor_save_keeps_the_old_cursors(spool: Spool, monkeypatch: pytest.MonkeyPatch) -> None:
    spool.open_for_writing()
    spool.save_cursor("k", {"position": 1})

    def no_space(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(DiskFullError, match="full while saving the import position"):
        spool.save_cursor("k", {"position": 2})
    monkeypatch.undo()
    assert spool.cursors() == {"k": {"position": 1}}
    assert not (spool.directory / "cursors.json.tmp").exists()


def test_unreadable_cursors_file_is_spool_error(spool: Spool) -> None:
    spool.open_for_writing()
    (spool.directory / "cursors.json").write_bytes(b'{"k": ')
    with pytest.raises(SpoolError, match="Deleting the file is safe"):
        spool.cursors()


# -- disk full ---------------------------------------------------------------------------------


def _fail_with(err: int) -> OSError:
    return OSError(err, os.strerror(err))


@pytest.mark.parametrize("where", ["write", "fsync", "write and truncate", "new segment"])
def test_disk_full_acknowledges_nothing_and_leaves_no_partial_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    directory = tmp_path / "spool"
    spool = Spool(directory, segment_bytes=10_000 if where != "new segment" else 100, fsync=True)
    append(spool, records(0, 3))
    sizes = {path: path.stat().st_size for path in spool.segments()}
    real_write = os.write

    def half_then_full(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))  # a short write, then the disk is full
        raise _fail_with(errno.ENOSPC)

    def fail(*args: object, **kwargs: object) -> None:
        raise _fail_with(errno.ENOSPC)

    with monkeypatch.context() as patch:
        if where in ("write", "write and truncate"):
            patch.setattr(os, "write", half_then_full)
        if where == "write and truncate":
            patch.setattr(os, "ftruncate", fail)
        if where == "fsync":  # the frame was written whole, but cannot be made durable
            patch.setattr(os, "fsync", fail)
        if where == "new segment":
            patch.setattr(os, "open", fail)
        with pytest.raises(
            DiskFullError, match=r"disk holding .* is full while saving incoming posts\. Nothing acknowledged"
        ):
            append(spool, records(3, 3))
    assert spool.next_seq == 3
    if where != "write and truncate":
        assert {path: path.stat().st_size for path in spool.segments() if path.stat().st_size} == sizes
    assert all_records(Spool(directory)) == expected(0, 3)  # still readable meanwhile
    # space is back: the next append follows on with no gap and no partial frame before it
    assert append(spool, records(3, 4)) == 3
    assert append(spool, records(7, 1)) == 7
    spool.close()
    assert all_records(Spool(directory)) == expected(0, 8)
    reopened = Spool(directory)
    reopened.open_for_writing()
    assert reopened.next_seq == 8
    reopened.close()


def test_other_write_errors_are_spool_errors(spool: Spool, monkeypatch: pytest.MonkeyPatch) -> None:
    append(spool, records(0, 1))

    def io_error(fd: int, data: bytes) -> int:
        raise _fail_with(errno.EIO)

    monkeypatch.setattr(os, "write", io_error)
    with pytest.raises(SpoolError, match="Could not write") as info:
        append(spool, records(1, 1))
    assert not isinstance(info.value, DiskFullError)
    monkeypatch.undo()
    assert append(spool, records(1, 1)) == 1


def test_frames_are_written_with_the_documented_header(spool: Spool) -> None:
    append(spool, records(0, 2))
    data = spool.segments()[0].read_bytes()
    magic, first_seq, count, length, crc = HEADER.unpack_from(data)
    assert (magic, first_seq, count, len(data)) == (MAGIC, 0, 2, HEADER.size + length)
    assert zlib.crc32(data[HEADER.size :]) == crc
    assert msgspec.msgpack.decode(zstandard.ZstdDecompressor().decompress(data[HEADER.size :]))[0] == (
        "file:/data/tweets.jsonl"
    )
