"""How well peaks are found, measured on real crisis timelines (``groundspeed eval peaks``).

The timelines are whole keyword streams of past crises (CrisisLexT26: every tweet id and time of
each event's collection, a few thousand posts over two to five weeks). Three questions, each with a
precise definition, asked of the default detector and of plain TwitInfo side by side:

Main burst
    The event's *busiest hour* is the UTC hour with the most posts. A detector "sees the main burst"
    when it raises a peak from 48 hours before that hour up to its end. The *lead* is the time from
    the first such raise to the start of the busiest hour (negative: raised during it). The day the
    collection started says nothing about when the crisis began, so it is not used.

Planted bursts
    Bursts of known size are added to the real timelines at quiet times, then looked for. A burst of
    size k over D hours adds (k - 1) × b × D posts, b being the mean posts per hour over the 24 hours
    before it, so that the rate during the burst is k times the local baseline. The posts are real
    ones resampled: their times keep the shape of the event's own busiest D-hour window (start-up,
    crest and decay). Sizes 2x, 3x, 5x, 10x; durations 1, 2, 3, 6 hours; at least 10 posts added
    (fewer is not a burst anyone could see in streams this thin, and 0 → 3 posts must not be a peak).
    A time is *quiet* when the 24 hours before it had at least one post an hour on average, no hour
    from 6 hours before to 6 hours after the burst has more than 3b + 3 posts (no real burst of that
    size nearby), and it is outside the main-burst zones below. Plants of one round are at least 12
    hours apart; each round plants every size × duration once where there is room, with its own seed.
    A plant is *found* when a peak is raised from its first bin to one hour after its end, and the
    untouched timeline raised none in that window (otherwise the raise proves nothing: a detector
    that fires all the time would find everything; ``planted_any_raise_in_window`` shows that
    looser count). The *delay* runs from the plant's start to the end of the bin that raised it.

False peaks
    Peaks raised on the planted timelines outside every *main-burst zone* (from 48 hours before to
    48 hours after each hour with at least half the busiest hour's posts: the crisis itself and its
    first aftermath) and more than 6 hours from any plant (before its start or after its end), per
    week of the time left. Real secondary news (an aftershock, a new fire) counts as a false peak
    here, so this is an upper bound on noise. ``false_peaks_per_week_unplanted`` is the same on the
    untouched timelines; ``natural_bursts_per_week`` counts the real bursts there that would pass for
    a plant (at least 2x the local baseline and 10 posts over 1 to 6 hours, runs less than 6 hours
    apart counted once); ``unexplained_peaks_per_week`` counts raises more than 6 hours from any.

Bins: ten minutes by default where post times are known (hourly where only hourly counts are).
Detection runs with no lateness, so delays are from data, not from waiting for late posts.
The data has no time zone issue (all UTC) and no labels are used: only counts.
"""

from __future__ import annotations

import csv
import json
import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..track.peaks import BurstDetector, Detector, Peak, TwitInfoDetector, bin_counts, find_peaks

HOUR = 3600
WEEK = 7 * 86400
SIZES = (2.0, 3.0, 5.0, 10.0)
DURATIONS_HOURS = (1, 2, 3, 6)
LEAD_WINDOW_HOURS = 48
MAIN_ZONE_HOURS = 48
MAIN_SHARE = 0.5  # hours with at least this share of the busiest hour's posts are main bursts too
PLANT_MARGIN_HOURS = 6
PLANT_SPACING_HOURS = 12
FOUND_GRACE_HOURS = 1
MIN_BASELINE_PER_HOUR = 1.0
MIN_PLANT_POSTS = 10  # fewer added posts is not a burst anyone could see in streams this thin

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
DetectorFactory = Callable[[int], Detector]

DETECTORS: dict[str, DetectorFactory] = {
    "burst": lambda bin_seconds: BurstDetector(bin_seconds=bin_seconds),
    "twitinfo": lambda bin_seconds: TwitInfoDetector(bin_seconds=bin_seconds),
}


class DatasetError(InputError):
    """The folder is not laid out like the dataset named."""


# -- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventTimeline:
    """One event's whole stream: every post time when known, and posts per UTC hour always."""

    name: str
    source: str  # "tweet timestamps" or "hourly counts"
    hourly_start: int  # seconds since 1970 of the first hour
    hourly: IntArray
    times: FloatArray | None = None  # seconds since 1970, sorted; None when only hourly counts exist

    @property
    def posts(self) -> int:
        return int(self.hourly.sum())

    def counts(self, bin_seconds: int) -> tuple[int, IntArray, int]:
        """(first bin start, counts, bin size): hourly counts cannot be split, so they stay hourly."""
        if self.times is None or bin_seconds >= HOUR:
            return self.hourly_start, self.hourly, HOUR
        start, counts = bin_counts(self.times, bin_seconds=bin_seconds)
        # Pad to whole hours at both ends so bins and hours line up.
        pad_front = (start - self.hourly_start) // bin_seconds
        total = len(self.hourly) * HOUR // bin_seconds
        padded = np.zeros(total, dtype=np.int64)
        padded[pad_front : pad_front + len(counts)] = counts
        return self.hourly_start, padded, bin_seconds


def _snowflake_seconds(tweet_id: str) -> float:
    # Twitter ids since late 2010 carry their creation time: milliseconds since 2010-11-04 01:42:54.657.
    return ((int(tweet_id) >> 22) + 1288834974657) / 1000.0


def _read_post_times(path: Path) -> FloatArray:
    times: list[float] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        time_col = header.index("timestamp") if "timestamp" in header else None
        id_col = next((i for i, name in enumerate(header) if name.startswith("tweet-id")), None)
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                times.append(_row_time(row, time_col, id_col))
            except (ValueError, IndexError):
                msg = f"{path}, line {line}: no time in {row!r} (expected a Timestamp or a Tweet-ID column)"
                raise DatasetError(msg) from None
    return np.sort(np.asarray(times, dtype=np.float64))


def _row_time(row: Sequence[str], time_col: int | None, id_col: int | None) -> float:
    if time_col is not None and row[time_col].strip():
        try:
            return datetime.strptime(row[time_col].strip(), "%a %b %d %H:%M:%S %z %Y").timestamp()
        except ValueError:
            if id_col is None:
                raise
    if id_col is not None:
        return _snowflake_seconds(row[id_col].strip().strip('"'))
    msg = "neither a Timestamp nor a Tweet-ID"
    raise ValueError(msg)


def _hourly(times: FloatArray) -> tuple[int, IntArray]:
    start, counts = bin_counts(times, bin_seconds=HOUR)
    return start, counts


def _read_hourly_counts(path: Path) -> dict[str, tuple[int, IntArray]]:
    per_event: dict[str, dict[int, int]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            hour = int(datetime.fromisoformat(row["hour_utc"].replace("Z", "+00:00")).timestamp())
            per_event.setdefault(row["event"], {})[hour] = int(row["count"])
    out: dict[str, tuple[int, IntArray]] = {}
    for event, hours in per_event.items():
        first, last = min(hours), max(hours)
        counts = np.zeros((last - first) // HOUR + 1, dtype=np.int64)
        for hour, count in hours.items():  # hours with no posts are missing from the file
            counts[(hour - first) // HOUR] = count
        out[event] = (first, counts)
    return out


def load_crisislex_t26(root: Path) -> tuple[list[EventTimeline], dict[str, str]]:
    """Events from a folder laid out like CrisisLexT26; and the events left out, with why."""
    if not root.is_dir():
        msg = f"{root} is not a folder"
        raise DatasetError(msg)
    descriptions = sorted(root.glob("**/*-event_description.json"))
    hourly_path = root / "hourly_counts.csv"
    hourly = _read_hourly_counts(hourly_path) if hourly_path.is_file() else {}
    if not descriptions and not hourly:
        msg = f"{root} has no */*-event_description.json and no hourly_counts.csv: is it a CrisisLexT26 folder?"
        raise DatasetError(msg)
    names = {path.name.removesuffix("-event_description.json"): path.parent for path in descriptions}
    events: list[EventTimeline] = []
    skipped: dict[str, str] = {}
    for name in sorted(set(names) | set(hourly)):
        folder = names.get(name)
        tweets = folder / f"{name}-tweetids_entire_period.csv" if folder else None
        if tweets is not None and tweets.is_file():
            times = _read_post_times(tweets)
            start, counts = _hourly(times)
            events.append(EventTimeline(name, "tweet timestamps", start, counts, times))
        elif name in hourly:
            start, counts = hourly[name]
            events.append(EventTimeline(name, "hourly counts", start, counts))
        else:
            skipped[name] = "no *-tweetids_entire_period.csv and no rows in hourly_counts.csv"
    return events, skipped


DATASETS: dict[str, Callable[[Path], tuple[list[EventTimeline], dict[str, str]]]] = {
    "crisislex-t26": load_crisislex_t26,
}


# -- plants ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plant:
    start: int  # seconds since 1970, the start of a bin
    hours: int
    size: float
    baseline_per_hour: float
    posts: int

    @property
    def end(self) -> int:
        return self.start + self.hours * HOUR


def busiest_hours(event: EventTimeline) -> list[int]:
    """Starts of the busiest hour and of every hour with at least half its posts."""
    top = int(event.hourly.max())
    hours = np.flatnonzero(event.hourly >= max(1, math.ceil(MAIN_SHARE * top)))
    return [event.hourly_start + int(i) * HOUR for i in hours]


def main_zone_mask(event: EventTimeline, start: int, n_bins: int, bin_seconds: int) -> npt.NDArray[np.bool_]:
    """Bins inside a main-burst zone (48 h either side of each busiest hour)."""
    mask = np.zeros(n_bins, dtype=bool)
    for hour in busiest_hours(event):
        lo = (hour - MAIN_ZONE_HOURS * HOUR - start) // bin_seconds
        hi = (hour + (MAIN_ZONE_HOURS + 1) * HOUR - start) // bin_seconds
        mask[max(0, lo) : max(0, hi)] = True
    return mask


def _trailing_baseline(counts: FloatArray) -> FloatArray:
    """Mean posts per hour over the 24 hours before each hour (NaN for the first day)."""
    cumulative = np.concatenate([[0.0], np.cumsum(counts)])
    out = np.full(len(counts), np.nan)
    out[24:] = (cumulative[24:-1] - cumulative[:-25]) / 24
    return out


def natural_bursts(event: EventTimeline) -> npt.NDArray[np.bool_]:
    """Hours inside a real burst that a plant of the smallest size could have made.

    That is: a window of 1, 2, 3 or 6 hours with at least twice the local baseline and at least
    10 posts more than it, where the baseline is at least one post an hour. Main bursts included.
    """
    counts = event.hourly.astype(np.float64)
    baseline = _trailing_baseline(counts)
    cumulative = np.concatenate([[0.0], np.cumsum(counts)])
    inside = np.zeros(len(counts), dtype=bool)
    for hours in DURATIONS_HOURS:
        starts = np.arange(24, len(counts) - hours + 1)
        totals = cumulative[starts + hours] - cumulative[starts]
        base = baseline[starts] * hours
        hit = starts[
            (baseline[starts] >= MIN_BASELINE_PER_HOUR)
            & (totals >= min(SIZES) * base)
            & (totals - base >= MIN_PLANT_POSTS)
        ]
        for first in hit:
            inside[first : first + hours] = True
    return inside


def _episodes(hours: npt.NDArray[np.bool_]) -> int:
    """Separate bursts: runs of burst hours, with runs less than 6 hours apart counted as one."""
    index = np.flatnonzero(hours)
    return int(index.size and 1 + np.count_nonzero(np.diff(index) > PLANT_MARGIN_HOURS))


def _hours_to_bins(
    hours: npt.NDArray[np.bool_], event: EventTimeline, start: int, n_bins: int, bin_seconds: int, margin: int
) -> npt.NDArray[np.bool_]:
    mask = np.zeros(n_bins, dtype=bool)
    for hour in np.flatnonzero(hours):
        first = event.hourly_start + int(hour) * HOUR
        lo = (first - margin * HOUR - start) // bin_seconds
        hi = (first + (margin + 1) * HOUR - start) // bin_seconds
        mask[max(0, lo) : max(0, hi)] = True
    return mask


def _quiet_hours(event: EventTimeline, hours: int) -> tuple[IntArray, FloatArray]:
    """Hour indices where a plant of this length may start, and the local baseline there."""
    counts = event.hourly.astype(np.float64)
    n = len(counts)
    zone = main_zone_mask(event, event.hourly_start, n, HOUR)
    index = np.arange(24, n - hours - PLANT_MARGIN_HOURS)
    if index.size == 0:
        return index.astype(np.int64), np.zeros(0)
    baseline = _trailing_baseline(counts)[index]
    span = hours + 2 * PLANT_MARGIN_HOURS
    lo = index - PLANT_MARGIN_HOURS
    padded = np.concatenate([counts, np.zeros(span)])
    zone_padded = np.concatenate([zone, np.ones(span, dtype=bool)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, span)[np.maximum(lo, 0)]
    zone_windows = np.lib.stride_tricks.sliding_window_view(zone_padded, span)[np.maximum(lo, 0)]
    ok = (
        (lo >= 0)
        & (baseline >= MIN_BASELINE_PER_HOUR)
        & (windows.max(axis=1) <= 3 * baseline + 3)
        & ~zone_windows.any(axis=1)
    )
    return index[ok].astype(np.int64), baseline[ok]


def place_plants(event: EventTimeline, bin_seconds: int, rng: np.random.Generator) -> list[Plant]:
    """One round: every size × duration once, at random quiet times at least 12 hours apart."""
    combos = [(size, hours) for size in SIZES for hours in DURATIONS_HOURS]
    order = rng.permutation(len(combos))
    chosen: list[Plant] = []
    quiet = {hours: _quiet_hours(event, hours) for hours in DURATIONS_HOURS}
    for k in order:
        size, hours = combos[int(k)]
        candidates, baselines = quiet[hours]
        starts = event.hourly_start + candidates * HOUR
        free = (size - 1.0) * baselines * hours >= MIN_PLANT_POSTS
        gap = PLANT_SPACING_HOURS * HOUR
        for other in chosen:
            free &= (starts >= other.end + gap) | (starts + hours * HOUR + gap <= other.start)
        if not free.any():
            continue
        pick = int(rng.choice(np.flatnonzero(free)))
        offset = int(rng.integers(0, max(1, HOUR // bin_seconds))) * bin_seconds if bin_seconds < HOUR else 0
        baseline = float(baselines[pick])
        posts = max(1, round((size - 1.0) * baseline * hours))
        chosen.append(Plant(int(starts[pick]) + offset, hours, size, baseline, posts))
    return sorted(chosen, key=lambda plant: plant.start)


def _burst_shape(event: EventTimeline, hours: int) -> tuple[FloatArray | None, FloatArray]:
    """The event's busiest window of this many hours: post offsets (s) when known, and hourly shares."""
    sums = np.convolve(event.hourly, np.ones(hours, dtype=np.int64), mode="valid")
    first = int(np.argmax(sums))
    shares = event.hourly[first : first + hours].astype(np.float64)
    shares = shares / shares.sum() if shares.sum() else np.full(hours, 1.0 / hours)
    if event.times is None:
        return None, shares
    window_start = event.hourly_start + first * HOUR
    inside = event.times[(event.times >= window_start) & (event.times < window_start + hours * HOUR)]
    return inside - window_start, shares


def plant_counts(
    event: EventTimeline,
    counts: IntArray,
    start: int,
    bin_seconds: int,
    plants: Sequence[Plant],
    rng: np.random.Generator,
) -> IntArray:
    """The timeline with the plants' posts added (times resampled from the event's own burst)."""
    out = counts.copy()
    for plant in plants:
        offsets, shares = _burst_shape(event, plant.hours)
        if offsets is not None and len(offsets):
            times = plant.start + rng.choice(offsets, size=plant.posts, replace=True)
        else:
            per_hour = rng.multinomial(plant.posts, shares)
            times = plant.start + np.repeat(np.arange(plant.hours) * HOUR, per_hour).astype(np.float64)
        bins = ((times - start) // bin_seconds).astype(np.int64)
        out += np.bincount(bins, minlength=len(out))[: len(out)]
    return out


# -- scoring ---------------------------------------------------------------------------------


class PlantResult(NamedTuple):
    event: str
    size: float
    hours: int
    delay: float | None  # minutes to the raise that found it; None: not found
    any_raise: bool  # some peak was raised in its window, whether or not the plant caused it


@dataclass
class Tally:
    """One detector's results, summed over events and rounds."""

    main: dict[str, float | None] = field(default_factory=dict)  # event → lead hours, None if missed
    plants: list[PlantResult] = field(default_factory=list)
    false_peaks: dict[str, list[float]] = field(default_factory=dict)  # event → [peaks, weeks]
    false_unplanted: dict[str, list[float]] = field(default_factory=dict)
    unexplained: dict[str, list[float]] = field(default_factory=dict)  # also away from real bursts
    natural: dict[str, list[float]] = field(default_factory=dict)  # real bursts outside main zones, weeks


def _raised(peaks: Sequence[Peak]) -> list[Peak]:
    return [peak for peak in peaks if not peak.closed]


def _raise_end(peak: Peak) -> float:
    return peak.raised_bin.timestamp() + peak.bin_seconds


def main_burst_lead(event: EventTimeline, peaks: Sequence[Peak]) -> float | None:
    """Hours from the first raise in the 48 h before the busiest hour to its start; None: not seen."""
    busiest = event.hourly_start + int(np.argmax(event.hourly)) * HOUR
    raises = [
        _raise_end(peak) for peak in peaks if busiest - LEAD_WINDOW_HOURS * HOUR < _raise_end(peak) <= busiest + HOUR
    ]
    return (busiest - min(raises)) / HOUR if raises else None


def _in_window(plant: Plant, peak: Peak) -> bool:
    return plant.start <= peak.raised_bin.timestamp() < plant.end + FOUND_GRACE_HOURS * HOUR


def plant_delay(plant: Plant, peaks: Sequence[Peak], clean: Sequence[Peak] = ()) -> float | None:
    """Minutes from the plant's start to the first raise that found it; None: not found.

    A raise in the plant's window counts only if the untouched timeline had none there: otherwise it
    may be the detector's own noise, and a detector that fires all the time would "find" everything.
    """
    if any(_in_window(plant, peak) for peak in clean):
        return None
    ends = [_raise_end(peak) for peak in peaks if _in_window(plant, peak)]
    return (min(ends) - plant.start) / 60 if ends else None


def score_plant(event: str, plant: Plant, peaks: Sequence[Peak], clean: Sequence[Peak]) -> PlantResult:
    delay = plant_delay(plant, peaks, clean)
    return PlantResult(event, plant.size, plant.hours, delay, any(_in_window(plant, peak) for peak in peaks))


def count_false(
    peaks: Sequence[Peak], excluded: npt.NDArray[np.bool_], start: int, bin_seconds: int
) -> tuple[int, float]:
    """Raises in bins that are not excluded, and the weeks of time that are not excluded."""
    false = 0
    for peak in peaks:
        index = (int(peak.raised_bin.timestamp()) - start) // bin_seconds
        if 0 <= index < len(excluded) and not excluded[index]:
            false += 1
    return false, float((~excluded).sum()) * bin_seconds / WEEK


def _plant_mask(
    base: npt.NDArray[np.bool_], plants: Sequence[Plant], start: int, bin_seconds: int
) -> npt.NDArray[np.bool_]:
    mask = base.copy()
    for plant in plants:
        lo = (plant.start - PLANT_MARGIN_HOURS * HOUR - start) // bin_seconds
        hi = (plant.end + PLANT_MARGIN_HOURS * HOUR - start) // bin_seconds
        mask[max(0, lo) : max(0, hi)] = True
    return mask


def _median(values: Sequence[float]) -> float | None:
    return round(float(np.median(values)), 1) if values else None


def _rate(numbers: Iterator[list[float]]) -> float | None:
    peaks = weeks = 0.0
    for count, span in numbers:
        peaks, weeks = peaks + count, weeks + span
    return round(peaks / weeks, 2) if weeks else None


def _plant_summary(rows: Sequence[PlantResult]) -> dict[str, Any]:
    delays = [row.delay for row in rows if row.delay is not None]
    return {
        "planted": len(rows),
        "recall": round(len(delays) / len(rows), 3) if rows else None,
        "any_raise_in_window": round(sum(row.any_raise for row in rows) / len(rows), 3) if rows else None,
        "median_delay_minutes": _median(delays),
    }


def summarise(tally: Tally, events: Sequence[str] | None = None) -> dict[str, Any]:
    """The figures for all events, or for the events named."""
    keep = set(events) if events is not None else set(tally.main)
    main = {name: lead for name, lead in tally.main.items() if name in keep}
    plants = [row for row in tally.plants if row.event in keep]
    leads = [lead for lead in main.values() if lead is not None]
    strong = [row for row in plants if row.size >= 3]
    summary = _plant_summary(plants)
    return {
        "main_burst_recall": round(len(leads) / len(main), 3) if main else None,
        "median_lead_hours": _median(leads),
        "planted_recall": summary["recall"],
        "planted_any_raise_in_window": summary["any_raise_in_window"],
        "planted_recall_3x_and_more": _plant_summary(strong)["recall"],
        "planted_median_delay_minutes": summary["median_delay_minutes"],
        "planted": summary["planted"],
        "planted_by_size": {
            f"{size:g}x": _plant_summary([row for row in plants if row.size == size]) for size in SIZES
        },
        "planted_by_hours": {
            f"{hours}h": _plant_summary([row for row in plants if row.hours == hours]) for hours in DURATIONS_HOURS
        },
        "false_peaks_per_week": _rate(v for k, v in tally.false_peaks.items() if k in keep),
        "false_peaks_per_week_unplanted": _rate(v for k, v in tally.false_unplanted.items() if k in keep),
        "unexplained_peaks_per_week": _rate(v for k, v in tally.unexplained.items() if k in keep),
        "natural_bursts_per_week": _rate(v for k, v in tally.natural.items() if k in keep),
    }


# -- running ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    bin_seconds: int = 600
    rounds: int = 8
    seed: int = 0


def _seed(settings: Settings, event: str, round_number: int) -> np.random.Generator:
    # crc32, not hash(): the same plants on every run and every machine.
    return np.random.default_rng([settings.seed, zlib.crc32(event.encode()), round_number])


def evaluate_event(
    event: EventTimeline, settings: Settings, tallies: dict[str, Tally], detectors: dict[str, DetectorFactory]
) -> dict[str, Any]:
    """Run every detector on one event, clean and planted; add to the tallies; return its facts."""
    start, counts, bin_seconds = event.counts(settings.bin_seconds)
    zones = main_zone_mask(event, start, len(counts), bin_seconds)
    natural = natural_bursts(event)
    hour_zones = main_zone_mask(event, event.hourly_start, len(event.hourly), HOUR)
    real = _hours_to_bins(natural, event, start, len(counts), bin_seconds, PLANT_MARGIN_HOURS)
    rounds = []
    for number in range(settings.rounds):
        rng = _seed(settings, event.name, number)
        plants = place_plants(event, bin_seconds, rng)
        rounds.append((plants, plant_counts(event, counts, start, bin_seconds, plants, rng)))
    for name, factory in detectors.items():
        tally = tallies[name]
        clean = _raised(find_peaks(counts, start=start, bin_seconds=bin_seconds, detector=factory(bin_seconds)))
        tally.main[event.name] = main_burst_lead(event, clean)
        tally.false_unplanted[event.name] = list(count_false(clean, zones, start, bin_seconds))
        tally.unexplained[event.name] = list(count_false(clean, zones | real, start, bin_seconds))
        tally.natural[event.name] = [float(_episodes(natural & ~hour_zones)), float((~hour_zones).sum()) * HOUR / WEEK]
        tally.false_peaks[event.name] = [0.0, 0.0]
        for plants, planted in rounds:
            peaks = _raised(find_peaks(planted, start=start, bin_seconds=bin_seconds, detector=factory(bin_seconds)))
            tally.plants.extend(score_plant(event.name, plant, peaks, clean) for plant in plants)
            false, weeks = count_false(peaks, _plant_mask(zones, plants, start, bin_seconds), start, bin_seconds)
            tally.false_peaks[event.name][0] += false
            tally.false_peaks[event.name][1] += weeks
    busiest = event.hourly_start + int(np.argmax(event.hourly)) * HOUR
    return {
        "source": event.source,
        "bin_seconds": bin_seconds,
        "posts": event.posts,
        "weeks": round(len(event.hourly) * HOUR / WEEK, 2),
        "busiest_hour": datetime.fromtimestamp(busiest, UTC).isoformat(),
        "busiest_hour_posts": int(event.hourly.max()),
        "plants_per_round": round(sum(len(plants) for plants, _ in rounds) / max(1, len(rounds)), 1),
    }


def evaluate(
    events: Sequence[EventTimeline],
    settings: Settings,
    *,
    detectors: dict[str, DetectorFactory] | None = None,
    progress: Callable[[str], None] = lambda _message: None,
) -> dict[str, Any]:
    """The whole report: the first detector's figures at the top, the others under their names."""
    detectors = detectors or DETECTORS
    tallies = {name: Tally() for name in detectors}
    facts: dict[str, dict[str, Any]] = {}
    for event in events:
        progress(f"{event.name}: {event.posts} posts ({event.source})")
        facts[event.name] = evaluate_event(event, settings, tallies, detectors)
    names = list(detectors)
    per_event = {
        event: {**facts[event], **{name: _event_figures(tallies[name], event) for name in names}} for event in facts
    }
    report: dict[str, Any] = {"detector": names[0], **summarise(tallies[names[0]])}
    for name in names[1:]:
        report["baseline" if name == "twitinfo" else name] = {"detector": name, **summarise(tallies[name])}
    report["per_event"] = per_event
    return report


def _event_figures(tally: Tally, event: str) -> dict[str, Any]:
    figures = summarise(tally, [event])
    lead = tally.main.get(event)
    return {
        "main_burst_raised": lead is not None,
        "lead_hours": None if lead is None else round(lead, 1),
        "planted_recall": figures["planted_recall"],
        "planted_recall_3x_and_more": figures["planted_recall_3x_and_more"],
        "planted_median_delay_minutes": figures["planted_median_delay_minutes"],
        "false_peaks_per_week": figures["false_peaks_per_week"],
        "false_peaks_per_week_unplanted": figures["false_peaks_per_week_unplanted"],
        "unexplained_peaks_per_week": figures["unexplained_peaks_per_week"],
        "natural_bursts_per_week": figures["natural_bursts_per_week"],
    }


def settings_description(settings: Settings) -> dict[str, Any]:
    """The definitions behind the figures, recorded with them."""
    return {
        "bin_seconds": settings.bin_seconds,
        "rounds": settings.rounds,
        "seed": settings.seed,
        "sizes": [f"{size:g}x" for size in SIZES],
        "durations_hours": list(DURATIONS_HOURS),
        "main_burst_window_hours_before": LEAD_WINDOW_HOURS,
        "main_zone_hours_each_side": MAIN_ZONE_HOURS,
        "main_zone_share_of_busiest_hour": MAIN_SHARE,
        "false_peak_margin_around_plants_hours": PLANT_MARGIN_HOURS,
        "plant_spacing_hours": PLANT_SPACING_HOURS,
        "plant_found_until_hours_after_end": FOUND_GRACE_HOURS,
        "quiet_min_baseline_per_hour": MIN_BASELINE_PER_HOUR,
        "min_plant_posts": MIN_PLANT_POSTS,
        "lateness_seconds": 0,
    }


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)
