"""Peaks: bursts of posts in a timeline, found while the posts arrive.

A timeline is a count of posts per bin (a minute, ten minutes, an hour, a day) for one series: a
tracker, a term, a hashtag. Detection runs in *event time* (when the posts were written), with an
allowed lateness: a bin is judged once the watermark (the latest event time seen, minus the
lateness) has passed its end. Posts that arrive after their bin was judged are counted as late,
never silently dropped (:attr:`Timeline.late_posts`).

Two detectors, both fed one closed bin at a time and both holding a few numbers per series:

:class:`TwitInfoDetector`
    The rule of TwitInfo (Marcus et al., CHI 2011), as published: an exponentially weighted mean and
    mean deviation (α = 0.125); a bin starts a peak when it is more than τ = 2 mean deviations from
    the mean and higher than the bin before; the window climbs while counts rise and lasts while
    they stay above the count it started from. Kept as the reference to measure against.

:class:`BurstDetector` (the default)
    What measurement on real crisis timelines asked for (``groundspeed eval peaks``):

    - the expected count follows the time of day once three days are seen (a 24-hour profile,
      smoothed over neighbouring hours and shrunk towards flat on thin series);
    - evidence of a burst is the Poisson log-likelihood ratio of "three times the expected rate"
      against "the expected rate", summed over consecutive bins (a CUSUM): a rise held for hours is
      found as well as a sudden spike, while 0 → 3 posts on a quiet series is not a peak (too little
      evidence, and fewer than 6 posts above expectation);
    - a peak lasts while the recent rate (half-life 30 minutes) stays above √3 × the expected one;
    - inside a peak the baseline learns at a quarter of its usual weight, and never from more than a
      few deviations' worth of one bin, so a long burst is not swallowed.

Use :class:`Timeline` for one series, :class:`StreamingDetector` for many, and :func:`find_peaks`
for a whole count array at once (the same code path, so the same peaks).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "BurstDetector",
    "BurstParams",
    "Change",
    "Detector",
    "Peak",
    "PeakWindow",
    "StreamingDetector",
    "Timeline",
    "TwitInfoDetector",
    "TwitInfoParams",
    "bin_counts",
    "default_detector",
    "find_peaks",
]

HOUR = 3600
DAY = 86400


# -- records ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peak:
    """A burst in one series, as reported when it was raised (``closed=False``) and when it ended.

    Times are aware UTC. ``start``/``peak``/``raised_bin`` are the starts of bins; ``end`` is the
    end of the last bin in the window (exclusive), ``None`` while the burst goes on. ``raised_at``
    is the event-time watermark at which the detector judged the bin: use it to measure delay.
    ``baseline`` is the expected count per bin when it was raised, ``deviation`` the typical
    distance from it, and ``score`` how strong the evidence was (detector-specific units: mean
    deviations for TwitInfo, log-likelihood ratio for the burst detector).
    """

    series: str
    start: datetime
    peak: datetime
    end: datetime | None
    raised_bin: datetime
    raised_at: datetime
    start_count: int
    peak_count: int
    total: int
    baseline: float
    deviation: float
    score: float
    bin_seconds: int
    closed: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 strings."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


@dataclass(slots=True)
class PeakWindow:
    """A detector's own view of a burst, in bin numbers (bin start = number × bin seconds)."""

    start: int
    start_count: int
    peak: int
    peak_count: int
    total: int
    raised: int
    baseline: float
    deviation: float
    score: float
    end: int | None = None  # last bin in the window, inclusive


Change = tuple[Literal["raised", "closed"], PeakWindow]
_NOTHING: tuple[Change, ...] = ()


class Detector(Protocol):
    """The state of one series. Fed every closed bin in order, including empty ones."""

    name: ClassVar[str]

    def update(self, bin_index: int, count: int) -> Sequence[Change]:
        """Take the count of bin ``bin_index``; say whether a burst was raised or closed."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """The state as plain JSON-ready values, to survive a restart."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Put back a state from :meth:`snapshot`."""
        ...


class _SlotState:
    """Snapshot and restore for detectors whose whole state lives in ``__slots__``."""

    __slots__: tuple[str, ...] = ()
    _config_slots: ClassVar[frozenset[str]] = frozenset({"params", "bin_seconds"})

    def _state_slots(self) -> list[str]:
        names: list[str] = []
        for klass in type(self).__mro__:
            names.extend(s for s in getattr(klass, "__slots__", ()) if s not in self._config_slots)
        return names

    def snapshot(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for name in self._state_slots():
            value = getattr(self, name)
            if isinstance(value, PeakWindow):
                value = {"window": [getattr(value, f) for f in value.__slots__]}
            elif isinstance(value, list):
                value = list(value)
            state[name] = value
        return state

    def restore(self, state: dict[str, Any]) -> None:
        for name in self._state_slots():
            value = state[name]
            if isinstance(value, dict) and "window" in value:
                value = PeakWindow(*value["window"])
            elif isinstance(value, list):
                value = list(value)
            setattr(self, name, value)


# -- TwitInfo --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TwitInfoParams:
    """TwitInfo's published settings. ``warmup_bins`` is the paper's p (the first bins give meandev)."""

    alpha: float = 0.125
    tau: float = 2.0
    warmup_bins: int = 5


class TwitInfoDetector(_SlotState):
    """TwitInfo's peak rule (Marcus et al. 2011, Algorithm 1), turned into a streaming state machine.

    The paper's quirks are kept on purpose, since this is the reference: the mean deviation starts as
    the *variance* of the first p bins, and the bin that ends a window is not used to update the mean.
    The first p bins are held back and replayed once their variance is known.
    """

    name: ClassVar[str] = "twitinfo"
    __slots__ = ("bin_seconds", "mean", "meandev", "params", "phase", "prev", "warmup", "window")

    def __init__(self, params: TwitInfoParams | None = None, *, bin_seconds: int = 60) -> None:
        self.params = params or TwitInfoParams()
        self.bin_seconds = bin_seconds
        self.warmup: list[list[int]] | None = []  # (bin, count) pairs until p bins are seen
        self.mean = 0.0
        self.meandev = 0.0
        self.prev = 0
        self.phase = "quiet"  # quiet → rising → falling → quiet
        self.window: PeakWindow | None = None

    def update(self, bin_index: int, count: int) -> Sequence[Change]:
        if self.warmup is not None:
            return self._warm_up(bin_index, count)
        changes: list[Change] = []
        self._step(bin_index, count, changes)
        self.prev = count
        return changes or _NOTHING

    def _warm_up(self, bin_index: int, count: int) -> Sequence[Change]:
        assert self.warmup is not None
        self.warmup.append([bin_index, count])
        if len(self.warmup) < self.params.warmup_bins:
            return _NOTHING
        bins, self.warmup = self.warmup, None
        counts = [c for _, c in bins]
        self.mean = float(counts[0])
        self.meandev = float(np.var(counts))
        self.prev = counts[0]
        changes: list[Change] = []
        for index, value in bins[1:]:
            self._step(index, value, changes)
            self.prev = value
        return changes

    def _deviations(self, count: int) -> float:
        diff = abs(count - self.mean)
        if self.meandev > 0:
            return diff / self.meandev
        return math.inf if diff > 0 else 0.0  # the paper divides by zero here; any change is "infinite"

    def _significant_rise(self, count: int) -> bool:
        return self._deviations(count) > self.params.tau and count > self.prev

    def _learn(self, count: int) -> None:
        alpha = self.params.alpha
        self.meandev = alpha * abs(self.mean - count) + (1 - alpha) * self.meandev
        self.mean = alpha * count + (1 - alpha) * self.mean

    def _step(self, bin_index: int, count: int, changes: list[Change]) -> None:
        if self.phase == "quiet":
            if not self._significant_rise(count):
                self._learn(count)
                return
            # The window starts at the bin *before* the significant rise, as in the paper.
            self.window = PeakWindow(
                start=bin_index - 1,
                start_count=self.prev,
                peak=bin_index,
                peak_count=count,
                total=self.prev,
                raised=bin_index,
                baseline=self.mean,
                deviation=self.meandev,
                score=self._deviations(count),
            )
            self.phase = "rising"
            changes.append(("raised", replace(self.window)))
        window = self.window
        assert window is not None
        if self.phase == "rising":
            if count > self.prev:
                self._grow(window, bin_index, count)
                self._learn(count)
                return
            self.phase = "falling"
            window.end = bin_index
        if count <= window.start_count:  # back to where it started: the window is over
            self._close(changes)  # (this bin is not learnt from: the paper's loop steps over it)
            return
        if self._significant_rise(count):  # a new peak starts right here
            window.end = bin_index - 1
            self._close(changes)
            self._step(bin_index, count, changes)
            return
        self._grow(window, bin_index, count)
        window.end = bin_index
        self._learn(count)

    @staticmethod
    def _grow(window: PeakWindow, bin_index: int, count: int) -> None:
        window.total += count
        if count > window.peak_count:
            window.peak, window.peak_count = bin_index, count

    def _close(self, changes: list[Change]) -> None:
        assert self.window is not None
        changes.append(("closed", self.window))
        self.window = None
        self.phase = "quiet"


# -- the burst detector ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BurstParams:
    """Settings of :class:`BurstDetector`, in hours and posts so they mean the same at any bin size.

    The defaults were chosen on the CrisisLexT26 development events (``groundspeed eval peaks``).
    """

    ratio: float = 3.0  # the burst size the evidence is tuned for: three times the expected rate
    threshold: float = 6.0  # evidence (log-likelihood ratio, nats) needed to raise a peak
    min_excess: float = 6.0  # at least this many posts above expectation in the window
    baseline_half_life_hours: float = 6.0  # how fast the expected level follows the series
    peak_weight: float = 0.25  # how much of a normal update the baseline takes inside a burst
    season_days: int = 3  # whole days of history before the time-of-day profile is used
    season_half_life_days: float = 4.0  # how fast the time-of-day profile follows changes
    season_prior_per_hour: float = 1.0  # shrinks the profile towards flat on low-volume series
    warmup_hours: float = 1.0  # no peak in a series' first hour: there is nothing to compare with
    recent_half_life_hours: float = 0.5  # the recent rate that says when a peak is over


@dataclass(frozen=True, slots=True)
class _Tuning:
    """Per-bin constants derived from the settings and the bin size; shared by every series."""

    alpha: float  # baseline weight per bin
    season_alpha: float  # profile weight per visit of an hour slot
    prior: float  # profile prior, in posts per bin
    warmup_bins: int
    season_bins: int  # bins before the profile is used (0: no profile at this bin size)
    log_ratio: float
    recent_alpha: float  # weight per bin of the recent rate
    end_ratio: float  # a peak ends when the recent rate falls below expected × this


@lru_cache(maxsize=64)
def _tuning(params: BurstParams, bin_seconds: int) -> _Tuning:
    def per_bin(half_life_bins: float) -> float:
        return 1.0 - math.pow(0.5, 1.0 / half_life_bins)

    seasonal = bin_seconds <= HOUR and HOUR % bin_seconds == 0
    bins_per_hour = HOUR // bin_seconds if seasonal else 1
    return _Tuning(
        alpha=per_bin(params.baseline_half_life_hours * HOUR / bin_seconds),
        season_alpha=per_bin(params.season_half_life_days * bins_per_hour),
        prior=params.season_prior_per_hour * bin_seconds / HOUR,
        warmup_bins=math.ceil(params.warmup_hours * HOUR / bin_seconds),
        season_bins=params.season_days * 24 * bins_per_hour if seasonal else 0,
        log_ratio=math.log(params.ratio),
        recent_alpha=per_bin(params.recent_half_life_hours * HOUR / bin_seconds),
        end_ratio=math.sqrt(params.ratio),
    )


class BurstDetector(_SlotState):
    """Seasonal, count-aware burst detection with a Poisson CUSUM. See the module docstring."""

    name: ClassVar[str] = "burst"
    _config_slots: ClassVar[frozenset[str]] = frozenset({"params", "bin_seconds", "tuning"})
    __slots__ = (
        "bin_seconds",
        "bins_seen",
        "dev",
        "evidence",
        "level",
        "params",
        "profile",
        "profile_sum",
        "recent",
        "run_expected",
        "run_posts",
        "run_start",
        "run_start_count",
        "tuning",
        "warmup",
        "window",
    )

    def __init__(self, params: BurstParams | None = None, *, bin_seconds: int = 600) -> None:
        self.params = params or BurstParams()
        self.bin_seconds = bin_seconds
        self.tuning = _tuning(self.params, bin_seconds)
        self.level = -1.0  # expected count per bin with the time of day taken out; -1 before the first bin
        self.dev = 0.0  # EW mean absolute deviation from the expected count (reported, not used)
        self.evidence = 0.0  # the CUSUM: log-likelihood ratio "burst" against "normal", never below 0
        self.run_start = 0  # the bin where the evidence last left 0: where a burst began
        self.run_start_count = 0
        self.run_posts = 0  # posts, and expected posts, since then
        self.run_expected = 0.0
        self.recent = 0.0  # EW mean count over the last half hour or so
        self.bins_seen = 0
        # Mean count per bin for each hour of the day (UTC); plain sums until season_bins are seen.
        self.profile: list[float] | None = [0.0] * 24 if self.tuning.season_bins else None
        self.profile_sum = 0.0
        self.window: PeakWindow | None = None
        self.warmup: list[float] = []  # the first hour's counts (season taken out), see update

    def _season(self, slot: int) -> float:
        """How busy this hour of the day is compared with the day's average (1.0 = average)."""
        if self.profile is None or self.bins_seen < self.tuning.season_bins:
            return 1.0
        prior, profile = self.tuning.prior, self.profile
        # Smoothed over the neighbouring hours: the daily cycle is smooth, a few days of counts are not.
        here = 0.25 * profile[slot - 1] + 0.5 * profile[slot] + 0.25 * profile[(slot + 1) % 24]
        return float((here + prior) / (self.profile_sum / 24 + prior))

    def update(self, bin_index: int, count: int) -> Sequence[Change]:
        p, t = self.params, self.tuning
        slot = (bin_index * self.bin_seconds // HOUR) % 24
        season = self._season(slot)
        if self.level < 0:
            self.level = count / season
        expected = max(self.level * season, 1e-9)
        self.recent += t.recent_alpha * (count - self.recent)
        changes: list[Change] = []
        if self.window is not None:
            self._follow(bin_index, count, expected, changes)
        else:
            self._gather(bin_index, count, expected)
            if (
                self.evidence >= p.threshold
                and self.run_posts - self.run_expected >= p.min_excess
                and count > expected
                and self.bins_seen >= t.warmup_bins
            ):
                changes.append(("raised", self._raise(bin_index, count, expected)))
        self._learn(count, expected, season, slot)
        self.bins_seen += 1
        if self.bins_seen <= t.warmup_bins:
            # A series that starts busy (a collection begun in the middle of an event) would take
            # the baseline's half-life to come down from its first bin, missing bursts meanwhile:
            # at the end of the first hour the level is at most the hour's median.
            self.warmup.append(count / season)
            if self.bins_seen == t.warmup_bins:
                self.level = min(self.level, float(np.median(self.warmup)))
                self.warmup = []
        return changes or _NOTHING

    def _gather(self, bin_index: int, count: int, reference: float) -> None:
        """Evidence: the Poisson log-likelihood ratio of "rate × ratio" against "rate", summed (CUSUM).

        It never goes below 0, so a quiet spell does not bank credit against the next burst; where it
        last left 0 is where the burst began.
        """
        p, t = self.params, self.tuning
        gain = count * t.log_ratio - reference * (p.ratio - 1.0)
        if self.evidence <= 0.0 and gain > 0.0:
            self.run_start, self.run_start_count, self.run_posts, self.run_expected = bin_index, count, 0, 0.0
        self.evidence = max(0.0, self.evidence + gain)
        self.run_posts += count
        self.run_expected += reference

    def _raise(self, bin_index: int, count: int, expected: float) -> PeakWindow:
        self.window = PeakWindow(
            start=self.run_start,
            start_count=self.run_start_count,
            peak=bin_index,
            peak_count=count,
            total=self.run_posts,
            raised=bin_index,
            baseline=expected,
            deviation=self.dev,
            score=self.evidence,
            end=bin_index,
        )
        # The recent rate lags a sudden burst; start it at the burst's own rate so the peak lasts.
        self.recent = max(self.recent, self.run_posts / (bin_index - self.run_start + 1))
        self.evidence = 0.0  # a new peak will need new evidence
        return replace(self.window)

    def _follow(self, bin_index: int, count: int, expected: float, changes: list[Change]) -> None:
        """Inside a peak: extend it while the recent rate stays well above the expected one."""
        window = self.window
        assert window is not None
        if self.recent < expected * self.tuning.end_ratio:
            changes.append(("closed", window))
            self.window = None
            return
        window.total += count
        if count > expected:
            window.end = bin_index
        if count > window.peak_count:
            window.peak, window.peak_count = bin_index, count

    def _learn(self, count: int, expected: float, season: float, slot: int) -> None:
        t = self.tuning
        # A burst must not become the new normal at once: inside a peak, learn at a fraction of the
        # usual weight; and never learn more than a few deviations' worth from one bin.
        weight = self.params.peak_weight if self.window is not None else 1.0
        capped = min(float(count), expected + 3.0 * math.sqrt(expected) + 1.0)
        self.dev += t.alpha * (abs(count - expected) - self.dev)
        self.level += weight * t.alpha * (capped / season - self.level)
        if self.profile is None:
            return
        if self.bins_seen < t.season_bins:  # first days: plain sums, turned into means when they end
            self.profile[slot] += capped
            self.profile_sum += capped
            if self.bins_seen + 1 == t.season_bins:
                per_slot = t.season_bins / 24
                self.profile = [value / per_slot for value in self.profile]
                self.profile_sum = sum(self.profile)
            return
        delta = weight * t.season_alpha * (capped - self.profile[slot])
        self.profile[slot] += delta
        self.profile_sum += delta


def default_detector(bin_seconds: int) -> Detector:
    """The detector groundspeed uses unless told otherwise."""
    return BurstDetector(bin_seconds=bin_seconds)


# -- timelines -------------------------------------------------------------------------------

TimeLike = datetime | float | int  # aware datetime, or seconds since 1970 UTC


def _seconds(value: TimeLike) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            msg = "event times must be timezone-aware (UTC); got a naive datetime"
            raise ValueError(msg)
        return value.timestamp()
    return float(value)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _peak(series: str, kind: str, window: PeakWindow, bin_seconds: int, watermark: float) -> Peak:
    closed = kind == "closed"
    end = window.end if window.end is not None else window.raised
    return Peak(
        series=series,
        start=_utc(window.start * bin_seconds),
        peak=_utc(window.peak * bin_seconds),
        end=_utc((end + 1) * bin_seconds) if closed else None,
        raised_bin=_utc(window.raised * bin_seconds),
        raised_at=_utc(watermark),
        start_count=window.start_count,
        peak_count=window.peak_count,
        total=window.total,
        baseline=window.baseline,
        deviation=window.deviation,
        score=window.score,
        bin_seconds=bin_seconds,
        closed=closed,
    )


class Timeline:
    """One series: counts posts per bin in event time and runs a detector over each closed bin.

    ``add`` returns the peaks raised or closed by the bins it closed. With ``lateness`` L, a bin
    is judged once a post at least L past its end has been seen; a post for a bin already judged is
    counted in :attr:`late_posts` (and :attr:`late_arrivals`) instead of changing the past.
    """

    __slots__ = (
        "_max_seen",
        "bin_seconds",
        "detector",
        "late_arrivals",
        "late_posts",
        "lateness",
        "next_bin",
        "pending",
        "series",
    )

    def __init__(
        self,
        series: str,
        detector: Detector | None = None,
        *,
        bin_seconds: int = 600,
        lateness: float | timedelta = 0.0,
    ) -> None:
        lateness = lateness.total_seconds() if isinstance(lateness, timedelta) else float(lateness)
        if bin_seconds <= 0 or lateness < 0:
            msg = "bin_seconds must be positive and lateness not negative"
            raise ValueError(msg)
        self.series = series
        self.bin_seconds = bin_seconds
        self.lateness = lateness
        self.detector = detector if detector is not None else default_detector(bin_seconds)
        self.pending: dict[int, int] = {}  # bin → count, for bins not judged yet
        self.next_bin: int | None = None  # the first bin not judged yet (None: nothing judged)
        self.late_posts = 0
        self.late_arrivals = 0
        self._max_seen = -math.inf

    @property
    def watermark(self) -> float:
        """Event time (seconds) up to which every bin is judged: latest event time minus lateness."""
        return self._max_seen - self.lateness

    def observe(self, event_time: TimeLike, count: int = 1, *, watermark: float | None = None) -> bool:
        """Count posts without judging any bin; False (and counted as late) if their bin was judged."""
        seconds = _seconds(event_time)
        bin_index = int(seconds // self.bin_seconds)
        judged_until = watermark if watermark is not None else self.watermark
        already_judged = self.next_bin is not None and bin_index < self.next_bin
        if already_judged or (bin_index + 1) * self.bin_seconds <= judged_until:
            self.late_posts += count
            self.late_arrivals += 1
            return False
        self.pending[bin_index] = self.pending.get(bin_index, 0) + count
        return True

    def add(self, event_time: TimeLike, count: int = 1) -> list[Peak]:
        """Count ``count`` posts written at ``event_time``; judge every bin the watermark has passed."""
        if self.observe(event_time, count):
            self._max_seen = max(self._max_seen, _seconds(event_time))
        return self.advance(self.watermark)

    def advance(self, watermark: TimeLike) -> list[Peak]:
        """Judge every bin that ends at or before ``watermark`` (e.g. the clock, when no posts come)."""
        limit = _seconds(watermark)
        if self.next_bin is None:
            if not self.pending:
                return []
            self.next_bin = min(self.pending)
        peaks: list[Peak] = []
        while (self.next_bin + 1) * self.bin_seconds <= limit:
            count = self.pending.pop(self.next_bin, 0)
            for kind, window in self.detector.update(self.next_bin, count):
                peaks.append(_peak(self.series, kind, window, self.bin_seconds, limit))
            self.next_bin += 1
        return peaks

    def flush(self) -> list[Peak]:
        """End of the stream: judge every bin still waiting."""
        if not self.pending:
            return []
        return self.advance((max(self.pending) + 1) * self.bin_seconds)


class StreamingDetector:
    """Many series (trackers, terms, hashtags) sharing one event-time watermark.

    Only series with posts waiting are judged as the watermark moves (a heap of their earliest bin
    ends), so an idle series costs nothing until it is seen again or :meth:`advance` is called; empty
    bins cannot raise a peak, so this changes no raise.
    """

    def __init__(
        self,
        *,
        bin_seconds: int = 600,
        lateness: float | timedelta = 0.0,
        detector_factory: Callable[[int], Detector] = default_detector,
    ) -> None:
        self.bin_seconds = bin_seconds
        self.lateness = lateness.total_seconds() if isinstance(lateness, timedelta) else float(lateness)
        self.detector_factory = detector_factory
        self.series: dict[str, Timeline] = {}
        self._max_seen = -math.inf
        self._due: list[tuple[float, str]] = []  # (end of a waiting bin, series)

    @property
    def watermark(self) -> float:
        return self._max_seen - self.lateness

    @property
    def late_posts(self) -> int:
        return sum(timeline.late_posts for timeline in self.series.values())

    def timeline(self, series: str) -> Timeline:
        timeline = self.series.get(series)
        if timeline is None:
            detector = self.detector_factory(self.bin_seconds)
            timeline = Timeline(series, detector, bin_seconds=self.bin_seconds, lateness=self.lateness)
            self.series[series] = timeline
        return timeline

    def add(self, series: str, event_time: TimeLike, count: int = 1) -> list[Peak]:
        """Count posts for one series; judge, in every series, the bins the watermark has passed."""
        seconds = _seconds(event_time)
        timeline = self.timeline(series)
        bin_index = int(seconds // self.bin_seconds)
        new_bin = bin_index not in timeline.pending
        if timeline.observe(seconds, count, watermark=self.watermark):
            if new_bin:
                heapq.heappush(self._due, ((bin_index + 1) * self.bin_seconds, series))
            self._max_seen = max(self._max_seen, seconds)
        return self._judge_due()

    def _judge_due(self) -> list[Peak]:
        peaks: list[Peak] = []
        watermark = self.watermark
        while self._due and self._due[0][0] <= watermark:
            _, series = heapq.heappop(self._due)
            peaks.extend(self.series[series].advance(watermark))
        return peaks

    def advance(self, watermark: TimeLike) -> list[Peak]:
        """Judge every series up to ``watermark`` (call it from a clock so quiet series close their peaks)."""
        limit = _seconds(watermark)
        self._max_seen = max(self._max_seen, limit + self.lateness)
        peaks = self._judge_due()
        for timeline in self.series.values():
            peaks.extend(timeline.advance(limit))
        return peaks


# -- batch -----------------------------------------------------------------------------------


def find_peaks(
    counts: npt.ArrayLike,
    *,
    start: TimeLike,
    bin_seconds: int,
    series: str = "",
    detector: Detector | None = None,
    closed_only: bool = False,
) -> list[Peak]:
    """The peaks in a whole count array whose first bin starts at ``start``: what :class:`Timeline`
    would emit if the counts arrived bin by bin, in order, with no lateness.

    The detectors are recursive (each bin's expectation depends on what was learnt before, and on
    whether a peak is open), so the loop is sequential; it runs on plain Python ints, the fastest way
    through such a loop, and each peak's ``raised_at`` is the end of its bin.
    """
    first = _seconds(start)
    if first % bin_seconds:
        msg = "start must be the start of a bin (a multiple of bin_seconds since 1970)"
        raise ValueError(msg)
    first_bin = int(first // bin_seconds)
    values = np.asarray(counts, dtype=np.int64)
    if values.ndim != 1 or (values.size and values.min() < 0):
        msg = "counts must be a one-dimensional array of counts (no negatives)"
        raise ValueError(msg)
    detector = detector if detector is not None else default_detector(bin_seconds)
    update = detector.update
    peaks: list[Peak] = []
    for offset, count in enumerate(values.tolist()):
        changes = update(first_bin + offset, count)
        if changes:
            bin_end = (first_bin + offset + 1) * bin_seconds
            peaks.extend(
                _peak(series, kind, window, bin_seconds, bin_end)
                for kind, window in changes
                if not closed_only or kind == "closed"
            )
    return peaks


def bin_counts(times: Iterable[float] | npt.ArrayLike, *, bin_seconds: int) -> tuple[int, npt.NDArray[np.int64]]:
    """Count event times (seconds since 1970) per bin: (first bin's start in seconds, counts)."""
    seconds = np.asarray(times, dtype=np.float64)
    if seconds.size == 0:
        return 0, np.zeros(0, dtype=np.int64)
    bins = np.floor_divide(seconds, bin_seconds).astype(np.int64)
    first = int(bins.min())
    return first * bin_seconds, np.bincount(bins - first).astype(np.int64)
