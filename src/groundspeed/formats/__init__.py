"""The registry of importable formats, and ``--format auto`` detection.

Each format lives in its own module and is listed in ``BUILTIN_FORMATS``; third-party formats can
register through the ``groundspeed.formats`` entry-point group (a ``Format`` subclass).
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from ..errors import UnknownFormatError
from .base import Format, ParseContext, ParseResult, Sample

__all__ = ["Format", "ParseContext", "ParseResult", "Sample", "all_formats", "detect", "get_format"]

# module:ClassName, in the order they are listed in help text.
BUILTIN_FORMATS = (
    "x_v1:XV1Format",
    "x_v2:XV2Format",
    "x_flat_csv:XFlatCsvFormat",
    "bluesky:BlueskyJetstreamFormat",
    "mastodon:MastodonFormat",
    "telegram:TelegramExportFormat",
    "rss:RssFormat",
    "warc:WarcFormat",
    "generic:GenericCsvFormat",
    "generic:GenericJsonFormat",
)

MIN_CONFIDENCE = 20


@cache
def all_formats() -> tuple[Format, ...]:
    formats: list[Format] = []
    for spec in BUILTIN_FORMATS:
        module_name, class_name = spec.split(":")
        module = importlib.import_module(f"{__name__}.{module_name}")
        formats.append(getattr(module, class_name)())
    for entry in entry_points(group="groundspeed.formats"):
        formats.append(entry.load()())
    return tuple(formats)


def get_format(name: str) -> Format:
    for fmt in all_formats():
        if fmt.name == name:
            return fmt
    names = ", ".join(fmt.name for fmt in all_formats())
    msg = f"There is no format called {name!r}. Known formats: {names}, or auto."
    raise UnknownFormatError(msg)


def detect(sample: Sample, display: str) -> tuple[Format, int]:
    """The format most sure of the sample, with its confidence; raises when none is sure enough."""
    scored = sorted(
        ((fmt.sniff(sample), index, fmt) for index, fmt in enumerate(all_formats())), key=lambda t: (-t[0], t[1])
    )
    best_score, _, best = scored[0]
    if best_score < MIN_CONFIDENCE:
        looks = "JSON" if sample.first_value is not None else "CSV" if sample.csv_header else "text"
        msg = (
            f"Could not tell what kind of file {display} is (it looks like {looks}, but not like any "
            "format groundspeed knows). Name the format with --format; see `groundspeed formats`."
        )
        raise UnknownFormatError(msg)
    return best, best_score
