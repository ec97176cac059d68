"""Shared test helpers: parse a file through detection, splitting and parsing, without a store."""

from __future__ import annotations

from pathlib import Path

from groundspeed.formats import detect, get_format
from groundspeed.formats.base import Format
from groundspeed.formats.framing import InputFile, split_file
from groundspeed.parse import ParsedBatch, parse_frame
from groundspeed.spool import FrameBody

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RECEIVED_AT_US = 1_700_000_000_000_000  # a fixed arrival time so results are reproducible


def detect_format(path: Path) -> Format:
    input_file = InputFile(path)
    fmt, _score = detect(input_file.sample(), str(path))
    return fmt


def parse_path(path: Path, format_name: str | None = None, options: dict[str, str] | None = None) -> ParsedBatch:
    """All posts, problems and skips from one file, as the import would produce them."""
    input_file = InputFile(path)
    fmt = get_format(format_name) if format_name else detect_format(path)
    total = ParsedBatch()
    seq = 0
    for batch in split_file(fmt, input_file, None):
        merged = dict(options or {})
        merged.update(batch.options or {})
        body = FrameBody(
            source=f"file:{path}",
            format=fmt.name,
            received_at_us=RECEIVED_AT_US,
            records=batch.records,
            options=merged or None,
        )
        parsed = parse_frame(body, seq)
        seq += len(batch.records)
        total.posts.extend(parsed.posts)
        total.quarantined.extend(parsed.quarantined)
        total.skipped.update(parsed.skipped)
        total.records += parsed.records
    return total
