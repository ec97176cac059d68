"""A workspace: one folder holding the spool (raw payloads) and the database (posts).

This is the object the command line (and later the web app) works through::

    groundspeed-data/
        groundspeed.db      posts, search index, quarantine, import log (open it in Datasette)
        spool/              every raw payload as received, compressed (the source of truth)

Importing a file is log-first: raw records are appended to the spool and made durable, the file
position is saved, and only then are the records parsed and stored, with the spool position
committed together with the posts. ``reprocess`` empties the database and replays the spool.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GroundspeedError
from .formats import detect, get_format
from .formats.base import Format
from .formats.framing import InputFile, split_file
from .parse import ParsedBatch, parse_frame
from .spool import FrameBody, Spool
from .store import Store, WriteResult

DEFAULT_DIR_NAME = "groundspeed-data"
FINGERPRINT_BYTES = 64 * 1024


def default_workspace_dir() -> Path:
    return Path(os.environ.get("GROUNDSPEED_DATA", DEFAULT_DIR_NAME))


@dataclass(slots=True)
class ImportReport:
    """What happened to one file, for the summary and for scripts (``--json``)."""

    path: str
    format: str = ""
    format_title: str = ""
    status: str = "pending"  # done, already imported, empty, failed
    records: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    seconds: float = 0.0

    def add(self, result: WriteResult) -> None:
        self.new += result.new
        self.duplicates += result.duplicates
        self.quarantined += result.quarantined
        self.skipped += result.skipped

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "status": self.status,
            "records": self.records,
            "posts_new": self.new,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "skipped_not_posts": self.skipped,
            "quarantine_reasons": dict(self.quarantine_reasons),
            "skipped_reasons": dict(self.skipped_reasons),
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


Progress = Callable[[str, int, int | None], None]  # (what, done, total) in bytes or records


def _noop_progress(what: str, done: int, total: int | None) -> None:
    return None


def _now_us() -> int:
    return time.time_ns() // 1000


class Workspace:
    """The data folder: spool + store. Use as a context manager."""

    def __init__(self, root: Path | None = None, *, fsync: bool = True) -> None:
        self.root = Path(root) if root is not None else default_workspace_dir()
        self.spool = Spool(self.root / "spool", fsync=fsync)
        self._store: Store | None = None

    @property
    def db_path(self) -> Path:
        return self.root / "groundspeed.db"

    def store(self) -> Store:
        """The store opened for writing (takes the spool's writer lock first)."""
        if self._store is None:
            self.spool.open_for_writing()
            self._store = Store.open(self.db_path)
        return self._store

    def reader(self) -> Store:
        """A read-only store, usable while another process writes."""
        return Store.open(self.db_path, readonly=True)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        self.spool.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- processing the spool ---------------------------------------------------------------

    def process_pending(self, report: ImportReport | None = None, progress: Progress = _noop_progress) -> WriteResult:
        """Parse and store every spooled record the store has not taken yet."""
        store = self.store()
        position = store.spool_position()
        end = self.spool.next_seq
        with _BatchWriter(store, report) as writer:
            for frame in self.spool.read(position):
                parsed = parse_frame(frame.body, frame.first_seq, from_seq=position)
                position = frame.first_seq + len(frame.body.records)
                writer.submit(parsed, frame.body.source, position)
                progress("processing", position, end)
        return writer.total

    def reprocess(self, progress: Progress = _noop_progress) -> WriteResult:
        """Rebuild the database from the spool (for better mappings or models)."""
        store = self.store()
        store.reset_derived()
        return self.process_pending(progress=progress)

    # -- importing files --------------------------------------------------------------------

    def import_file(
        self,
        path: Path,
        *,
        format_name: str = "auto",
        options: dict[str, str] | None = None,
        query: str | None = None,
        encoding: str | None = None,
        again: bool = False,
        progress: Progress = _noop_progress,
        announce: Callable[[str], None] = lambda message: None,
    ) -> ImportReport:
        """Import one file; errors about the whole file are raised, bad records quarantined."""
        started = time.perf_counter()
        report = ImportReport(path=str(path))
        input_file = InputFile(Path(path), encoding=encoding)
        if input_file.size == 0:
            report.status = "empty"
            announce(f"{path}: the file is empty, nothing to import")
            return report
        sample = input_file.sample()
        fmt = self._choose_format(format_name, sample, input_file, announce)
        report.format, report.format_title = fmt.name, fmt.title
        store = self.store()
        self.process_pending()  # finish anything a crash left in the spool before counting
        key = f"file:{input_file.path.resolve()}"
        fingerprint = _fingerprint(input_file.path)
        cursor = self._resume_cursor(key, fingerprint, again=again)
        if cursor is None:
            report.status = "already imported"
            report.seconds = time.perf_counter() - started
            announce(f"{path}: already imported, nothing new (use --again to read it again)")
            return report
        import_id = store.start_import(str(path), fmt.name)
        merged_options = dict(options or {})
        try:
            position = cursor.get("position")
            last_position: dict[str, Any] = position or {}
            with _BatchWriter(store, report) as writer:
                for batch in split_file(fmt, input_file, position, sample=sample):
                    body = FrameBody(
                        source=key,
                        format=fmt.name,
                        received_at_us=_now_us(),
                        records=batch.records,
                        query=query,
                        options={**merged_options, **(batch.options or {})} or None,
                    )
                    # Log first: the batch is durable in the spool, and the file position saved,
                    # before it is parsed; the store commits the spool position with the posts.
                    first_seq = self.spool.append(
                        body.records,
                        source=body.source,
                        format=body.format,
                        received_at_us=body.received_at_us,
                        query=body.query,
                        options=body.options,
                    )
                    last_position = batch.cursor
                    self.spool.save_cursor(key, {**fingerprint, "position": last_position, "complete": False})
                    report.records += len(batch.records)
                    writer.submit(parse_frame(body, first_seq), key, first_seq + len(body.records))
                    progress("reading", batch.bytes_read, input_file.size if input_file.compression is None else None)
            self.spool.save_cursor(key, {**fingerprint, "position": last_position, "complete": True})
            report.status = "done"
        except GroundspeedError as exc:
            report.status = "failed"
            report.error = str(exc)
            store.finish_import(
                import_id, status="failed", records=report.records, result=_as_result(report), message=str(exc)
            )
            report.seconds = time.perf_counter() - started
            raise
        store.finish_import(import_id, status="done", records=report.records, result=_as_result(report), message=None)
        report.seconds = time.perf_counter() - started
        return report

    def _choose_format(
        self, format_name: str, sample: Any, input_file: InputFile, announce: Callable[[str], None]
    ) -> Format:
        if format_name != "auto":
            return get_format(format_name)
        fmt, score = detect(sample, input_file.display)
        sure = "sure" if score >= 80 else "fairly sure" if score >= 50 else "guessing"
        announce(f"{input_file.display}: reading as {fmt.title} [{fmt.name}] ({sure}; use --format to choose)")
        return fmt

    def _resume_cursor(self, key: str, fingerprint: dict[str, Any], *, again: bool) -> dict[str, Any] | None:
        """Where to start reading, or None when this exact content was imported already."""
        if again:
            return {}
        cursors = self.spool.cursors()
        previous = cursors.get(key)
        if previous and previous.get("head") == fingerprint["head"]:
            if (
                previous.get("complete")
                and previous.get("size") == fingerprint["size"]
                and previous.get("tail") == fingerprint["tail"]
            ):
                return None
            position = previous.get("position") or {}
            if "offset" in position and fingerprint["size"] >= previous.get("size", 0):
                return {"position": position}  # interrupted, or grown since: continue
            return {"position": position} if not previous.get("complete") else {}
        for other in cursors.values():
            if (
                isinstance(other, dict)
                and other.get("complete")
                and other.get("head") == fingerprint["head"]
                and other.get("size") == fingerprint["size"]
                and other.get("tail") == fingerprint["tail"]
            ):
                return None  # the same content under another name
        return {}

    def import_files(self, paths: Sequence[Path], **kwargs: Any) -> list[ImportReport]:
        return [self.import_file(path, **kwargs) for path in paths]


class _Abandoned(Exception):
    pass


class _BatchWriter:
    """Stores parsed batches on a background thread while the caller parses the next one.

    SQLite does its inserting and indexing without holding Python's GIL, so this overlaps the
    store's work with parsing on the second core. Batches are written strictly in order by one
    thread (the single writer); at most ``depth`` wait, so memory stays bounded. An error in the
    writer is raised in the caller at the next submit or on exit.
    """

    def __init__(self, store: Store, report: ImportReport | None, depth: int = 2) -> None:
        self.store = store
        self.report = report
        self.depth = depth
        self.total = WriteResult()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="groundspeed-writer")
        self._pending: deque[tuple[Future[WriteResult], ParsedBatch]] = deque()
        self._failed = False

    def submit(self, parsed: ParsedBatch, source: str, position: int) -> None:
        future = self._executor.submit(
            self._write,
            parsed.posts,
            parsed.quarantined,
            parsed.skipped,
            source_of_skipped=source,
            spool_position=position,
        )
        self._pending.append((future, parsed))
        while len(self._pending) > self.depth:
            self._collect_oldest()

    def _write(self, *args: Any, **kwargs: Any) -> WriteResult:
        # Runs on the writer thread, in order. Once a batch has failed, later batches must not
        # be committed: their spool position would skip the failed batch and lose it.
        if self._failed:
            msg = "not written: an earlier batch failed"
            raise _Abandoned(msg)
        try:
            return self.store.write_batch(*args, **kwargs)
        except BaseException:
            self._failed = True
            raise

    def _collect_oldest(self) -> None:
        future, parsed = self._pending.popleft()
        result = future.result()
        for name in ("new", "duplicates", "quarantined", "skipped"):
            setattr(self.total, name, getattr(self.total, name) + getattr(result, name))
        if self.report is not None:
            self.report.add(result)
            self.report.quarantine_reasons.update(_reason_key(q.reason) for q in parsed.quarantined)
            self.report.skipped_reasons.update(parsed.skipped)

    def __enter__(self) -> _BatchWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                while self._pending:
                    self._collect_oldest()
            else:  # the caller failed: let queued batches finish (they are valid) but keep its error
                for future, _ in self._pending:
                    future.exception()
        finally:
            self._executor.shutdown(wait=True)


def _as_result(report: ImportReport) -> WriteResult:
    return WriteResult(
        new=report.new, duplicates=report.duplicates, quarantined=report.quarantined, skipped=report.skipped
    )


def _fingerprint(path: Path) -> dict[str, Any]:
    """Size and hashes of the first and last 64 KiB: enough to recognise a file seen before."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = hashlib.sha256(handle.read(FINGERPRINT_BYTES)).hexdigest()
        handle.seek(max(0, size - FINGERPRINT_BYTES))
        tail = hashlib.sha256(handle.read(FINGERPRINT_BYTES)).hexdigest()
    return {"head": head, "tail": tail, "size": size}


def _reason_key(reason: str) -> str:
    """Group quarantine reasons for summaries: the text before the first colon or digit detail."""
    head = reason.split(":", 1)[0].strip()
    return head[:120]


def summarise_reasons(reasons: Iterable[str]) -> Counter[str]:
    return Counter(_reason_key(reason) for reason in reasons)
