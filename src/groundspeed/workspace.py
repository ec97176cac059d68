"""A workspace: one folder holding the spool (raw payloads) and the database (posts).

This is the object the command line (and later the web app) works through::

    groundspeed-data/
        groundspeed.db      posts, search index, quarantine, import log (open it in Datasette)
        spool/              every raw payload as received, compressed (the source of truth)
        trackers.toml       the trackers (crises followed), see groundspeed.track.trackers

Importing a file is log-first: raw records are appended to the spool and made durable, the file
position is saved, and only then are the records parsed and stored, with the spool position
committed together with the posts. ``reprocess`` empties the database and replays the spool.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import signal
import sys
import time
import traceback
import warnings
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from .errors import GroundspeedError
from .formats import detect, get_format
from .formats.base import Format
from .formats.framing import InputFile, split_file
from .parse import KnownUids, LayeredUids, ParsedBatch, QuarantineItem, parse_frame
from .spool import FrameBody, Spool
from .store import PreparedBatch, Store, WriteResult, prepare_batch
from .track.detect import detect_peaks
from .track.explain import key_terms
from .track.nearcopy import NearCopyIndex
from .track.rules import Matcher, PostFields, Tracker
from .track.stories import StoryDetector

if TYPE_CHECKING:
    from .understand.insights import Understanding

DEFAULT_DIR_NAME = "groundspeed-data"
FINGERPRINT_BYTES = 64 * 1024
_NEAR_COPY_STATE = "near_copies"
_STORIES_STATE = "stories"
WORKERS_ENV = "GROUNDSPEED_WORKERS"
# "off": imports skip the tracking stages (tracker matching, near-copies, timeline counts). Only
# for measuring the foundation alone (benchmarks/ingest.py); posts imported so lack those.
TRACKING_ENV = "GROUNDSPEED_TRACKING"  # parse processes for imports; 0 parses in the importing process
MAX_WORKERS = 4


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
    near_copies: int = 0
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    seconds: float = 0.0
    # Seconds per stage, for benchmarks (stages overlap: they run in parallel): read (split the
    # file), spool, parse, rows (posts to database rows, in workers), store (the writer's
    # transactions), wait (the importer waiting for the writer or the workers).
    timings: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, result: WriteResult) -> None:
        self.new += result.new
        self.duplicates += result.duplicates
        self.quarantined += result.quarantined
        self.skipped += result.skipped
        self.near_copies += result.near_copies

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
            "near_copies": self.near_copies,
            "quarantine_reasons": dict(self.quarantine_reasons),
            "skipped_reasons": dict(self.skipped_reasons),
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


Progress = Callable[[str, int, int | None], None]  # (what, done, total) in bytes or records


def _noop_progress(what: str, done: int, total: int | None) -> None:
    return None


def _epoch(created_at: str | None) -> float:
    """Seconds since 1970 of a stored time (0 when unknown: such posts age out first)."""
    return datetime.fromisoformat(created_at).timestamp() if created_at else 0.0


def _now_us() -> int:
    return time.time_ns() // 1000


class Workspace:
    """The data folder: spool + store. Use as a context manager."""

    def __init__(self, root: Path | None = None, *, fsync: bool = True) -> None:
        self.root = Path(root) if root is not None else default_workspace_dir()
        self.spool = Spool(self.root / "spool", fsync=fsync)
        self._store: Store | None = None
        self._near_copies: NearCopyIndex | None = None
        self._near_copies_saved = -1  # NearCopyIndex.changes when last loaded or saved
        # The understanding stage's models; None loads the shipped ones when first needed.
        self.understanding: Understanding | None = None

    @property
    def trackers_path(self) -> Path:
        return self.root / "trackers.toml"

    def trackers(self) -> list[Tracker]:
        """The trackers defined in trackers.toml (none when there is no such file)."""
        if not self.trackers_path.exists():
            return []
        from .track.trackers import load_trackers  # only when there are trackers

        return load_trackers(self.trackers_path)

    def matcher(self) -> Matcher | None:
        """The trackers of this workspace, compiled (None when there are none)."""
        trackers = self.trackers()
        return Matcher(trackers) if trackers else None

    def near_copy_index(self) -> NearCopyIndex:
        """The near-copy index, as saved by the last import (a new one the first time)."""
        if self._near_copies is None:
            saved = self.store().load_state(_NEAR_COPY_STATE)
            self._near_copies = NearCopyIndex.loads(saved) if saved is not None else NearCopyIndex()
            self._near_copies_saved = self._near_copies.changes if saved is not None else -1
        return self._near_copies

    def _save_near_copies(self) -> None:
        # The snapshot is ~17 MB: written only when the index changed since it was loaded or saved.
        index = self._near_copies
        if index is not None and index.changes != self._near_copies_saved:
            store = self.store()
            store.save_state(_NEAR_COPY_STATE, index.dumps(), spool_position=store.spool_position())
            self._near_copies_saved = index.changes

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
        with contextlib.suppress(GroundspeedError):
            self._save_near_copies()
        if self._store is not None:
            self._store.close()
            self._store = None
        self.spool.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _batch_writer(self, store: Store, report: ImportReport | None) -> _BatchWriter:
        if not tracking_enabled():
            return _BatchWriter(store, report, None, None, tracking=False)
        return _BatchWriter(store, report, self.matcher(), self.near_copy_index())

    # -- trackers ---------------------------------------------------------------------------

    def sync_trackers(self) -> dict[str, int | None]:
        """Bring the database in line with trackers.toml: a tracker that is new or whose rules
        changed is matched against every stored post again; one removed (or renamed) leaves.
        Returns, per tracker touched, the posts it now holds (None: removed). Cheap when nothing
        changed: the rules are compared by fingerprint."""
        trackers = self.trackers()
        store = self.store()
        applied = store.applied_trackers()
        changes: dict[str, int | None] = {}
        for name in sorted(set(applied) - {tracker.name for tracker in trackers}):
            store.forget_tracker(name)
            changes[name] = None
        for tracker in trackers:
            if applied.get(tracker.name) != tracker.fingerprint():
                changes[tracker.name] = self._apply(tracker)
        if changes:
            store.refresh_story_trackers()
        return changes

    def apply_tracker(self, name: str) -> int:
        """Match a tracker (new or changed) against every stored post; returns how many it holds.

        Imports match new posts as they arrive; this is for the posts stored before the tracker
        existed or changed. Its peaks are found again afterwards.
        """
        tracker = next((each for each in self.trackers() if each.name == name), None)
        if tracker is None:
            msg = f"There is no tracker called {name!r} in {self.trackers_path}."
            raise GroundspeedError(msg)
        return self._apply(tracker)

    def _apply(self, tracker: Tracker) -> int:
        # A matcher of this tracker alone: the pass over every stored post matches nothing else.
        matcher = Matcher([tracker])
        store = self.store()
        held = store.rematch_tracker(
            tracker.name,
            lambda rows: matcher.match_fields_many(PostFields(*row) for row in rows),
            fingerprint=tracker.fingerprint(),
        )
        detect_peaks(store, "tracker:" + tracker.name)
        return held

    def forget_tracker(self, name: str) -> None:
        """Remove what a deleted tracker left in the database (its matches, timelines and peaks)."""
        self.store().forget_tracker(name)

    def analyse(self) -> dict[str, int]:
        """Bring every stage after storage up to date with the stored posts: bursts, stories,
        insights (after an import, a replayed step, a rebuild). Returns peaks per series."""
        found = self.refresh_peaks()
        self.update_stories()
        self.update_insights()
        return found

    def refresh_peaks(self) -> dict[str, int]:
        """Find the peaks of every tracker's timeline, and of all posts; returns peaks per series."""
        store = self.store()
        series = ["all", *(name for name, _count in store.series_names("tracker:"))]
        return {name: len(detect_peaks(store, name)) for name in series}

    # -- stories ------------------------------------------------------------------------------

    def update_stories(self, *, batch: int = 1000) -> int:
        """Group the canonical posts stored since the last run into stories (first story
        detection), in the order they were stored. Returns how many posts were placed."""
        store = self.store()
        saved = store.load_state(_STORIES_STATE)
        detector = StoryDetector.loads(saved) if saved is not None else StoryDetector()
        position = store.stories_position()
        placed = 0
        while rows := store.canonical_posts_after(position, batch):
            known_aliases = dict(detector.aliases)
            ids = {uid: post_id for post_id, uid, _text, _created, _lang in rows}
            assignments = detector.add(
                [row[1] for row in rows],
                [row[2] for row in rows],
                [_epoch(row[3]) for row in rows],
                [row[4] for row in rows],
            )
            merged = {
                old: detector.resolve(new) for old, new in detector.aliases.items() if known_aliases.get(old) != new
            }
            position = rows[-1][0]
            store.record_stories(
                [(ids[each.uid], detector.resolve(each.story), each.new, each.novelty) for each in assignments],
                merged,
                position=position,
                detector_state=detector.dumps(),
            )
            placed += len(rows)
        store.refresh_stories(key_terms)  # also applies analysts' edits, and a run a crash cut short
        return placed

    def update_insights(self, *, batch: int = 2000, progress: Progress = _noop_progress) -> int:
        """Work out each post stored since the last run: its language, information type, whether
        it is a first-hand report, and where it is about (see :mod:`groundspeed.understand`).
        Reposts of stored posts take their original's. When the models changed since the last
        run, every post is done again. Returns how many posts were done."""
        from .store.insights import insight_row
        from .store.rows import row_to_post
        from .understand.insights import Understanding

        if self.understanding is None:
            self.understanding = Understanding()
        stage = self.understanding
        store = self.store()
        position, models = store.insights_state()
        if models != stage.models:
            store.reset_insights(stage.models)
            position = 0
        end = store.last_post_id()
        done = 0
        while rows := store.posts_to_understand(position, batch):
            own = [row for row in rows if row["kind"] != "repost" or row["original_id"] is None]
            insights = stage.understand_many([row_to_post(row) for row in own]) if own else []
            high = int(rows[-1]["id"])
            store.record_insights(
                [
                    insight_row(int(row["id"]), insight, stage.models)
                    for row, insight in zip(own, insights, strict=True)
                ],
                low=position,
                high=high,
            )
            position = high
            done += len(rows)
            progress("understanding", position, end)
        return done

    # -- records that arrive without a file (live collection, replays) ----------------------

    def ingest_records(
        self, records: Sequence[tuple[str, bytes]], *, source: str, format_name: str, query: str | None = None
    ) -> WriteResult:
        """Store records that arrived together (one response of a live source, a replayed
        minute): spooled durably first, then parsed and stored like an import's batches."""
        get_format(format_name)  # an unknown format is refused before anything is spooled
        if records:
            self.spool.append(records, source=source, format=format_name, received_at_us=_now_us(), query=query)
        return self.process_pending()

    # -- processing the spool ---------------------------------------------------------------

    def process_pending(self, report: ImportReport | None = None, progress: Progress = _noop_progress) -> WriteResult:
        """Parse and store every spooled record the store has not taken yet."""
        store = self.store()
        position = store.spool_position()
        end = self.spool.next_seq
        if position >= end:
            return WriteResult()
        with self._batch_writer(store, report) as writer:
            for frame in self.spool.read(position):
                from_seq = position
                position = frame.first_seq + len(frame.body.records)
                writer.submit(
                    frame.body, frame.first_seq, from_seq=from_seq, source=frame.body.source, position=position
                )
                progress("processing", position, end)
        self._save_near_copies()
        return writer.total

    def reprocess(self, progress: Progress = _noop_progress) -> WriteResult:
        """Rebuild the database from the spool (for better mappings or models)."""
        store = self.store()
        store.reset_derived()
        self._near_copies = NearCopyIndex()
        self._near_copies_saved = -1
        result = self.process_pending(progress=progress)
        for tracker in self.trackers():
            store.record_applied_tracker(tracker.name, tracker.fingerprint())  # every post matched just now
        self.analyse()
        return result

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
        self.sync_trackers()  # trackers edited by hand since: stored posts first, then new ones
        key = f"file:{input_file.path.resolve()}"
        fingerprint = _fingerprint(input_file.path)
        cursor = self._resume_cursor(key, fingerprint, again=again)
        if cursor is None:
            report.status = "already imported"
            report.seconds = time.perf_counter() - started
            announce(f"{path}: already imported, nothing new (use --again to read it again)")
            return report
        if again:
            store.forget_skipped(key)  # counted again by this read, not twice
        import_id = store.start_import(str(path), fmt.name)
        merged_options = dict(options or {})
        try:
            position = cursor.get("position")
            last_position: dict[str, Any] = position or {}
            timings = report.timings
            clock = time.perf_counter
            with self._batch_writer(store, report) as writer:
                batches = iter(split_file(fmt, input_file, position, sample=sample))
                while True:
                    tick = clock()
                    batch = next(batches, None)
                    timings["read"] += clock() - tick
                    if batch is None:
                        break
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
                    tick = clock()
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
                    timings["spool"] += clock() - tick
                    report.records += len(batch.records)
                    writer.submit(body, first_seq, source=key, position=first_seq + len(body.records))
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
        self._save_near_copies()
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


def tracking_enabled() -> bool:
    """False when ``GROUNDSPEED_TRACKING`` is "off" or "0" (see TRACKING_ENV)."""
    return os.environ.get(TRACKING_ENV, "").strip().lower() not in ("off", "0", "no", "false")


def parse_workers() -> int:
    """How many parse processes an import of more than one batch uses (0: parse in this process).

    ``GROUNDSPEED_WORKERS`` sets it; otherwise one per core, at most 4, on Linux (the workers are
    forked, which is cheap there and not safe everywhere), and none on a single core.
    """
    value = os.environ.get(WORKERS_ENV, "").strip()
    if value:
        try:
            return max(0, int(value))
        except ValueError:
            msg = f"{WORKERS_ENV} must be a whole number (0 parses in the importing process), not {value!r}."
            raise GroundspeedError(msg) from None
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    cores = len(os.sched_getaffinity(0))
    return 0 if cores < 2 else min(cores, MAX_WORKERS)


@dataclass(slots=True)
class _Written:
    """What one batch did, for the totals and the report."""

    result: WriteResult
    quarantined: Sequence[QuarantineItem]
    skipped: Counter[str]


_Received = tuple["_Answer", list[QuarantineItem], Counter[str], list[tuple[str, str]]]


class _Task(msgspec.Struct, array_like=True):
    body: FrameBody
    first_seq: int
    from_seq: int


QuarantineTuple = tuple[str, str, str, str | None, int | None, str | None]


class _Answer(msgspec.Struct, array_like=True):
    """A worker's parsed batch: rows, matches and counts packed by ``store.prepare_batch``."""

    packed: bytes = b""
    candidates: list[tuple[str, str]] = []  # (uid, text) of posts that may be near-copies
    uids: list[str] = []  # of the packed rows, in order
    quarantined: list[QuarantineTuple] = []
    skipped: dict[str, int] = {}
    duplicates: int = 0
    error: str | None = None  # a traceback: the worker failed (a bug, never bad data)
    parse_seconds: float = 0.0
    rows_seconds: float = 0.0


_task_encoder = msgspec.msgpack.Encoder()
_answer_decoder = msgspec.msgpack.Decoder(_Answer)


def _parse_worker(
    tasks: Connection,
    answers: Connection,
    committed: KnownUids,
    inherited: Sequence[Connection],
    matcher: Matcher | None,
    tracking: bool = True,
) -> None:
    """A forked parse process: frames in, rows out, in order, until the task pipe closes.

    It never touches the store or the spool. ``committed`` is the store's set of recently
    committed uids as it was at the fork; the uids of every batch this worker parses are added
    on top: an earlier batch of the pipeline commits before a later one, or nothing later does.
    ``inherited`` are the importer's ends of the pipes, copied by the fork: closed here, or this
    worker would never see its task pipe end (nor would the others).
    """
    for connection in inherited:
        connection.close()
    # Ctrl-C reaches the whole process group: the importer handles it (and closes the pipes,
    # which ends this loop); a traceback from every worker would only be noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    decoder = msgspec.msgpack.Decoder(_Task)
    encoder = msgspec.msgpack.Encoder()
    known = KnownUids(committed)
    while True:
        try:
            data = tasks.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            started = time.perf_counter()
            task = decoder.decode(data)
            del data
            parsed = parse_frame(task.body, task.first_seq, from_seq=task.from_seq, known=known)
            del task
            parsed_at = time.perf_counter()
            prepared = prepare_batch(parsed.posts, matcher, tracking=tracking)
            answer = _Answer(
                packed=prepared.packed or b"",
                candidates=prepared.candidates,
                uids=prepared.uids,
                quarantined=[(q.source, q.locator, q.reason, q.path, q.seq, q.excerpt) for q in parsed.quarantined],
                skipped=dict(parsed.skipped),
                duplicates=parsed.duplicates + prepared.dropped,
                parse_seconds=parsed_at - started,
                rows_seconds=time.perf_counter() - parsed_at,
            )
            del prepared
            del parsed
            reply = encoder.encode(answer)
            del answer
        except Exception:
            reply = encoder.encode(_Answer(error=traceback.format_exc()))
        try:
            answers.send_bytes(reply)
        except OSError:  # the importer is gone or gave up
            return
        del reply


class _ParsePool:
    """Forked worker processes, each with a task pipe and an answer pipe; tasks go round-robin.

    Answers are read back in the order tasks were sent (each worker answers its tasks in order),
    so the single writer stores batches in spool order.
    """

    def __init__(self, count: int, committed: KnownUids, matcher: Matcher | None, *, tracking: bool = True) -> None:
        context = multiprocessing.get_context("fork")
        self._workers: list[tuple[BaseProcess, Connection, Connection]] = []
        self._next = 0
        try:
            for number in range(count):
                task_reader, task_writer = context.Pipe(duplex=False)
                answer_reader, answer_writer = context.Pipe(duplex=False)
                ours = [end for _, tasks, answers in self._workers for end in (tasks, answers)]
                process = context.Process(
                    target=_parse_worker,
                    args=(
                        task_reader,
                        answer_writer,
                        committed,
                        [*ours, task_writer, answer_reader],
                        matcher,
                        tracking,
                    ),
                    name=f"groundspeed-parse-{number + 1}",
                    daemon=True,
                )
                with warnings.catch_warnings():
                    # Python 3.12+ warns about forking a process with threads running (pytest's,
                    # a web server's). The child runs only parse code and leaves with os._exit.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    process.start()
                task_reader.close()
                answer_writer.close()
                self._workers.append((process, task_writer, answer_reader))
        except BaseException:
            self.close(abort=True)
            raise

    def send(self, body: FrameBody, first_seq: int, from_seq: int) -> int:
        """Hand a frame to the next worker; returns the worker's number for :meth:`receive`."""
        number = self._next
        self._next = (number + 1) % len(self._workers)
        data = _task_encoder.encode(_Task(body=body, first_seq=first_seq, from_seq=from_seq))
        try:
            self._workers[number][1].send_bytes(data)
        except OSError as exc:
            raise _worker_gone(exc) from exc
        return number

    def receive(self, number: int) -> _Answer:
        """The answer to the oldest task sent to worker ``number`` that has not been received."""
        try:
            data = self._workers[number][2].recv_bytes()
        except (EOFError, OSError) as exc:
            raise _worker_gone(exc) from exc
        answer = _answer_decoder.decode(data)
        if answer.error is not None:
            msg = f"parsing failed in a worker process:\n{answer.error}"
            raise RuntimeError(msg)
        return answer

    def close(self, *, abort: bool) -> None:
        """Stop the workers. ``abort``: unread answers are dropped (their batches were not stored)."""
        for _process, tasks, answers in self._workers:
            tasks.close()  # the worker sees the end of its task pipe and exits
            if abort:
                answers.close()  # a worker blocked sending an unwanted answer gets EPIPE
        for process, _tasks, answers in self._workers:
            process.join(timeout=None if not abort else 10)
            if process.is_alive():
                process.terminate()
                process.join()
            if not answers.closed:
                answers.close()
        self._workers = []


def _worker_gone(exc: BaseException) -> GroundspeedError:
    return GroundspeedError(
        f"A groundspeed parse process stopped unexpectedly ({type(exc).__name__}; out of memory?). "
        "Nothing after the last stored batch was lost: it is in the spool. Run the command again to continue."
    )


class _BatchWriter:
    """Parses batches (in worker processes when there are several) and stores them in order.

    The store is written by one background thread, strictly in spool order, while the caller
    reads and spools the next batch. SQLite does its inserting and indexing without holding
    Python's GIL, so this overlaps with parsing. With more than one batch and
    :func:`parse_workers` > 0, the batches are parsed by forked worker processes that return
    rows ready to insert; a single batch (most small files) is parsed here, without the cost of
    starting processes. So that no thread runs while the workers are forked, the first batch is
    held until the second arrives (or the import ends). A receiver thread decodes the workers'
    answers in order; from the second batch on, WAL checkpoints run on a thread of the store's
    (:meth:`Store.background_checkpoints`). Posts an earlier batch of the same pipeline carries,
    or that the store committed recently, are not built again (see ``ParseContext.known_uids``).

    Crash semantics are those of the single writer: each batch commits with the spool position
    after it; once a batch fails, later batches are not committed (their spool position would skip
    the failed one); an error is raised in the caller at the next submit or on exit. At most
    ``depth`` batches wait (memory stays bounded).
    """

    def __init__(
        self,
        store: Store,
        report: ImportReport | None,
        matcher: Matcher | None = None,
        near_copies: NearCopyIndex | None = None,
        *,
        workers: int | None = None,
        depth: int | None = None,
        tracking: bool = True,
    ) -> None:
        self.store = store
        self.tracking = tracking
        self.matcher = matcher
        self.near_copies = near_copies
        self.report = report
        self.workers = parse_workers() if workers is None else workers
        self.depth = depth if depth is not None else (2 if self.workers == 0 else self.workers + 1)
        self.total = WriteResult()
        self.timings: defaultdict[str, float] = report.timings if report is not None else defaultdict(float)
        # Uids of this pipeline's batches, on top of the store's committed ones: parsing in this
        # process skips rebuilding posts an earlier batch of the same pipeline carries.
        self.known = LayeredUids(store.recent_uids)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="groundspeed-writer")
        # With workers, a second thread reads and decodes their answers, in order, so that the
        # writer thread only binds and inserts (SQLite's part runs without the GIL).
        self._receiver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="groundspeed-receiver")
        self._pending: deque[Future[_Written]] = deque()
        self._failed = False
        self._pool: _ParsePool | None = None
        self._started = self.workers == 0
        self._held: _Job | None = None
        self._dispatched = 0
        self._checkpoints = contextlib.ExitStack()

    def submit(self, body: FrameBody, first_seq: int, *, source: str, position: int, from_seq: int = 0) -> None:
        """Parse and store the records of a spooled frame at or after ``from_seq``.

        ``position`` is the spool position after the frame, committed with its posts.
        """
        job = _Job(body, first_seq, from_seq, source, position)
        if not self._started:
            if self._held is None:
                self._held = job
                return
            self._start(parallel=True)
        self._dispatch(job)

    def _start(self, *, parallel: bool) -> None:
        self._started = True
        if parallel and self.workers > 0:
            self._pool = _ParsePool(
                self.workers, self.store.recent_uids, self.matcher, tracking=self.tracking
            )  # forks: before any thread
        held, self._held = self._held, None
        if held is not None:
            self._dispatch(held)

    def _dispatch(self, job: _Job) -> None:
        while self._pending and self._pending[0].done():  # an error shows as soon as it happens
            self._collect_oldest()
        self._dispatched += 1
        if self._dispatched == 2:  # more than one batch: checkpoint the WAL off the writer thread
            self._checkpoints.enter_context(self.store.background_checkpoints())
        future: Future[_Written]
        tick = time.perf_counter()
        if self._pool is not None:
            number = self._pool.send(job.body, job.first_seq, job.from_seq)
            self.timings["send"] += time.perf_counter() - tick
            answer = self._receiver.submit(self._receive, number)
            future = self._executor.submit(self._write_answer, answer, job.source, job.position)
        else:
            parsed = parse_frame(job.body, job.first_seq, from_seq=job.from_seq, known=self.known)
            prepared = prepare_batch(parsed.posts, self.matcher, tracking=self.tracking)
            self.timings["parse"] += time.perf_counter() - tick
            future = self._executor.submit(self._write_parsed, parsed, prepared, job.source, job.position)
        self._pending.append(future)
        if len(self._pending) > self.depth:
            tick = time.perf_counter()
            while len(self._pending) > self.depth:
                self._collect_oldest()
            self.timings["wait"] += time.perf_counter() - tick

    # The two below run on the writer thread, in order. Once a batch has failed, later batches
    # must not be committed: their spool position would skip the failed batch and lose it.

    def _write_parsed(self, parsed: ParsedBatch, prepared: PreparedBatch, source: str, position: int) -> _Written:
        if self._failed:
            msg = "not written: an earlier batch failed"
            raise _Abandoned(msg)
        try:
            near_copies = self._find_near_copies(prepared.candidates)
            tick = time.perf_counter()
            result = self.store.write_batch(
                (),
                parsed.quarantined,
                parsed.skipped,
                source_of_skipped=source,
                spool_position=position,
                packed=prepared.packed,
                near_copies=near_copies,
                packed_uids=prepared.uids,
            )
            self.timings["store"] += time.perf_counter() - tick
        except BaseException:
            self._failed = True
            raise
        result.duplicates += parsed.duplicates + prepared.dropped
        return _Written(result, parsed.quarantined, parsed.skipped)

    def _find_near_copies(self, candidates: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """(uid, uid of the earlier post it copies) for the batch's near-copies. Called in spool
        order (on the receiver thread, or the writer's when parsing here), as the index needs."""
        if self.near_copies is None or not candidates:
            return []
        tick = time.perf_counter()
        uids = [uid for uid, _text in candidates]
        found = self.near_copies.assign(uids, [text for _uid, text in candidates])
        self.timings["near-copies"] += time.perf_counter() - tick
        return [(uid, original) for uid, original in zip(uids, found, strict=True) if original and original != uid]

    def _receive(self, number: int) -> _Received:
        # Runs on the receiver thread, in the order the tasks were sent.
        assert self._pool is not None
        tick = time.perf_counter()
        answer = self._pool.receive(number)
        quarantined = [QuarantineItem(*item) for item in answer.quarantined]
        timings = self.timings
        timings["receive"] += time.perf_counter() - tick
        timings["parse"] += answer.parse_seconds
        timings["rows"] += answer.rows_seconds
        near_copies = self._find_near_copies(answer.candidates)
        answer.candidates = []
        return answer, quarantined, Counter(answer.skipped), near_copies

    def _write_answer(self, received: Future[_Received], source: str, position: int) -> _Written:
        if self._failed:
            msg = "not written: an earlier batch failed"
            raise _Abandoned(msg)
        try:
            answer, quarantined, skipped, near_copies = received.result()
            tick = time.perf_counter()
            result = self.store.write_batch(
                (),
                quarantined,
                skipped,
                source_of_skipped=source,
                spool_position=position,
                packed=answer.packed or None,
                near_copies=near_copies,
                packed_uids=answer.uids,
            )
            self.timings["store"] += time.perf_counter() - tick
        except BaseException:
            self._failed = True
            raise
        result.duplicates += answer.duplicates
        return _Written(result, quarantined, skipped)

    def _collect_oldest(self) -> None:
        written = self._pending.popleft().result()
        result = written.result
        for name in ("new", "duplicates", "quarantined", "skipped"):
            setattr(self.total, name, getattr(self.total, name) + getattr(result, name))
        if self.report is not None:
            self.report.add(result)
            self.report.quarantine_reasons.update(_reason_key(q.reason) for q in written.quarantined)
            self.report.skipped_reasons.update(written.skipped)

    def __enter__(self) -> _BatchWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                if not self._started:  # one batch: not worth starting processes
                    self._start(parallel=False)
                while self._pending:
                    self._collect_oldest()
            else:  # the caller failed: let queued batches finish (they are valid) but keep its error
                if not self._started:
                    with contextlib.suppress(Exception):
                        self._start(parallel=False)
                for future in self._pending:
                    future.exception()
        finally:
            self._executor.shutdown(wait=True)
            # Every task sent is answered (or its worker is gone), so this does not wait forever.
            self._receiver.shutdown(wait=True)
            if self._pool is not None:
                self._pool.close(abort=self._failed or exc_type is not None)
                self._pool = None
            self._checkpoints.close()


@dataclass(slots=True)
class _Job:
    body: FrameBody
    first_seq: int
    from_seq: int
    source: str
    position: int


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
