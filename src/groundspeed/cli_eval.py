"""``groundspeed eval``: measure the detectors on labelled crisis datasets.

The report goes to standard output as one JSON object; progress and messages go to standard error.
The main command line registers :data:`eval_group` (``main.add_command(eval_group)``).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import click

from . import __version__
from .errors import GroundspeedError
from .evaluation import stories as story_eval
from .evaluation.peaks import DATASETS, Settings, dumps, evaluate, settings_description

_BIN_RE = re.compile(r"^\s*(\d+)\s*([smh])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_bin(value: str) -> int:
    """Seconds in a bin written ``10m``, ``1h`` or ``600s``; it must divide an hour (time-of-day slots)."""
    match = _BIN_RE.match(value)
    if not match:
        raise click.BadParameter(f"{value!r} is not a bin size: write it like 10m or 1h")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0 or seconds > 3600 or 3600 % seconds:
        raise click.BadParameter(f"{value!r}: use a size that divides an hour (1m, 5m, 10m, 15m, 30m, 1h)")
    return seconds


@click.group("eval", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def eval_group() -> None:
    """Measure how well groundspeed's detectors work, on past crises.

    These commands are for checking groundspeed itself, for example before trusting a new setting.
    They read datasets from disk and change nothing in your data folder.
    """


@eval_group.command("peaks")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--dataset",
    type=click.Choice(sorted(DATASETS)),
    default="crisislex-t26",
    show_default=True,
    help="How DIRECTORY is laid out.",
)
@click.option(
    "--bin",
    "bin_size",
    default="10m",
    show_default=True,
    help="Count posts per bin of this size (10m, 1h ...). Events with only hourly counts stay hourly.",
)
@click.option("--rounds", default=10, show_default=True, type=click.IntRange(1, 100), help="Rounds of planted bursts.")
@click.option("--seed", default=0, show_default=True, help="Seed for where bursts are planted; same seed, same report.")
def peaks_command(directory: Path, dataset: str, bin_size: str, rounds: int, seed: int) -> None:
    """How well sudden rises in posts ("peaks") are found, on real timelines of past crises.

    For every event in DIRECTORY, three questions are asked of groundspeed's peak detector and, side
    by side, of TwitInfo's published method (under "baseline"):

    \b
      - is the crisis itself seen, up to 48 hours before its busiest hour, and how early?
      - are bursts of known size (2 to 10 times the usual volume, 1 to 6 hours long), planted at
        quiet times, found, and how fast?
      - how many peaks are raised elsewhere, per week?

    Prints one JSON object; the exact definitions are in its "settings" and in the documentation of
    groundspeed.evaluation.peaks. Example:

    \b
        groundspeed eval peaks --dataset crisislex-t26 shared/data/crisislex_t26 > peaks.json
    """
    settings = Settings(bin_seconds=parse_bin(bin_size), rounds=rounds, seed=seed)
    began = time.monotonic()
    try:
        events, skipped = DATASETS[dataset](directory)
    except GroundspeedError as exc:
        raise click.ClickException(str(exc)) from None
    for name, reason in skipped.items():
        click.echo(f"{name}: left out, {reason}", err=True)
    if not events:
        raise click.ClickException(f"{directory} has no event with post times or hourly counts")
    report = evaluate(events, settings, progress=lambda message: click.echo(message, err=True))
    report = {
        "dataset": dataset,
        "directory": str(directory),
        "software": f"groundspeed {__version__}",
        "events": len(events),
        "skipped": skipped,
        **report,
        "settings": settings_description(settings),
        "seconds": round(time.monotonic() - began, 1),
    }
    click.echo(dumps(report))


@eval_group.command("stories")
@click.argument("directories", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--seed", default=0, show_default=True, help="Seed for where each event starts in the week; same seed, same report."
)
@click.option("--no-baselines", is_flag=True, help="Skip the two baselines (faster).")
def stories_command(directories: tuple[Path, ...], seed: int, no_baselines: bool) -> None:
    """How well posts are grouped into stories, and new stories flagged, on past crises.

    Every event of every DIR is replayed into one week-long stream (each event starts at a random
    time in the week, its own order kept), retweets left out. groundspeed groups the posts into
    stories as they arrive; the stories are then compared with the true events:

    \b
      - are the stories pure (bcubed_precision: one crisis per story)?
      - is each crisis kept together (bcubed_recall), and overall (bcubed_f1, nmi)?
      - is the start of each crisis flagged as a new story that grows (first_story_recall)?
      - how fast (posts_per_second) and how much memory (peak_rss_mb)?

    Side by side, under "baselines": the published Petrović method and k-means told the true number
    of events. DIR is laid out like shared/data/crisislex_t26_streams, crisislex_t6 or humaid.
    Prints one JSON object; progress goes to standard error. Example:

    \b
        groundspeed eval stories shared/data/crisislex_t6 shared/data/humaid > stories.json
    """
    began = time.monotonic()
    try:
        report = story_eval.evaluate(
            directories, seed=seed, baselines=not no_baselines, progress=lambda message: click.echo(message, err=True)
        )
    except GroundspeedError as exc:
        raise click.ClickException(str(exc)) from None
    report = {
        "directories": [str(directory) for directory in directories],
        "software": f"groundspeed {__version__}",
        **report,
        "settings": story_eval.settings_description(seed),
        "seconds": round(time.monotonic() - began, 1),
    }
    click.echo(story_eval.dumps(report))


def _register() -> None:
    # The understanding commands live in their own modules (they load their models on first use).
    from .cli_classify import classify_eval_command
    from .cli_geo import geo_eval_command

    eval_group.add_command(classify_eval_command)
    eval_group.add_command(geo_eval_command)


_register()
