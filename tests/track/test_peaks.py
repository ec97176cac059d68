"""Peak detection: the published TwitInfo rule, the burst detector, and streaming in event time."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

import numpy as np
import pytest

from groundspeed.track.peaks import (
    BurstDetector,
    BurstParams,
    Change,
    Peak,
    StreamingDetector,
    Timeline,
    TwitInfoDetector,
    bin_counts,
    find_peaks,
)

BIN = 600  # ten minutes
DAY_BINS = 144
T0 = int(datetime(2024, 3, 4, tzinfo=UTC).timestamp())  # a Monday, midnight UTC


def raised(peaks: Sequence[Peak]) -> list[Peak]:
    return [peak for peak in peaks if not peak.closed]


def bins_of(peaks: Sequence[Peak], start: int = T0) -> list[int]:
    return [(int(peak.raised_bin.timestamp()) - start) // BIN for peak in raised(peaks)]


def daily_rates(days: int, *, night: float, day: float) -> np.ndarray:
    """Expected posts per ten minutes, low at night and high in the (UTC) afternoon."""
    hours = np.arange(days * DAY_BINS) / 6 % 24
    return night + (day - night) * (0.5 - 0.5 * np.cos(2 * math.pi * (hours - 3) / 24))


def without_watermark(peak: Peak) -> Peak:
    return dataclasses.replace(peak, raised_at=peak.raised_bin)


# -- TwitInfo ---------------------------------------------------------------------------------


def paper_windows(counts: Sequence[int], alpha: float = 0.125, tau: float = 2.0, p: int = 5) -> list[tuple[int, int]]:
    """Algorithm 1 of Marcus et al. (CHI 2011), transcribed line by line (0-based): the test oracle."""
    windows: list[tuple[int, int]] = []
    mean, meandev = float(counts[0]), float(np.var(counts[:p]))

    def update(value: int) -> None:
        nonlocal mean, meandev
        meandev = alpha * abs(mean - value) + (1 - alpha) * meandev
        mean = alpha * value + (1 - alpha) * mean

    def significant(i: int) -> bool:
        diff = abs(counts[i] - mean)
        ratio = diff / meandev if meandev > 0 else (math.inf if diff > 0 else 0.0)
        return ratio > tau and counts[i] > counts[i - 1]

    i = 1
    while i < len(counts):
        if significant(i):
            start = i - 1
            while i < len(counts) and counts[i] > counts[i - 1]:
                update(counts[i])
                i += 1
            end = i
            while i < len(counts) and counts[i] > counts[start]:
                if significant(i):
                    i -= 1
                    end = i
                    break
                update(counts[i])
                end = i
                i += 1
            if i < len(counts):  # a window still open when the data ends is not closed
                windows.append((start, end))
        else:
            update(counts[i])
        i += 1
    return windows


def closed_windows(peaks: Sequence[Peak]) -> list[tuple[int, int]]:
    return [
        ((int(p.start.timestamp()) - T0) // BIN, (int(p.end.timestamp()) - T0) // BIN - 1)
        for p in peaks
        if p.closed and p.end is not None
    ]


def test_twitinfo_finds_the_papers_window_on_a_hand_made_series() -> None:
    counts = [10, 14, 8, 12, 10, 11, 9, 12, 10, 40, 60, 30, 9, 10, 11, 10]
    peaks = find_peaks(counts, start=T0, bin_seconds=BIN, detector=TwitInfoDetector(bin_seconds=BIN))
    # Raised at the jump to 40; the window starts one bin before it, crests at 60, and ends at the
    # last bin above the count it started from (30), since 9 is not above 10.
    assert bins_of(peaks) == [9]
    assert closed_windows(peaks) == [(8, 11)] == paper_windows(counts)
    closed = [p for p in peaks if p.closed]
    assert closed[0].peak_count == 60 and closed[0].start_count == 10 and closed[0].total == 10 + 40 + 60 + 30


@pytest.mark.parametrize("seed", range(6))
def test_twitinfo_reproduces_the_papers_pseudocode(seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.uniform(2, 30, size=400) * (1 + 4 * (rng.random(400) < 0.05))).tolist()
    peaks = find_peaks(counts, start=T0, bin_seconds=BIN, detector=TwitInfoDetector(bin_seconds=BIN))
    assert closed_windows(peaks) == paper_windows(counts)
    assert len(closed_windows(peaks)) > 5  # the comparison is not vacuous


# -- the burst detector -------------------------------------------------------------------------


def quiet_series(days: int = 4, seed: int = 1) -> np.ndarray:
    """A thin series: about one post every two hours."""
    return np.random.default_rng(seed).poisson(1 / 12, size=days * DAY_BINS)


def test_low_volume_series_does_not_fire_on_a_handful_of_posts() -> None:
    counts = quiet_series()
    counts[3 * DAY_BINS + 60] = 3  # 0 → 3 posts in ten minutes
    assert raised(find_peaks(counts, start=T0, bin_seconds=BIN)) == []
    # TwitInfo's deviation shrinks to nothing on a thin series and it fires on it...
    assert raised(find_peaks(counts, start=T0, bin_seconds=BIN, detector=TwitInfoDetector(bin_seconds=BIN)))
    # ...and the burst detector does fire when the burst is real.
    counts[3 * DAY_BINS + 60 : 3 * DAY_BINS + 63] = [8, 12, 9]
    assert bins_of(find_peaks(counts, start=T0, bin_seconds=BIN)) == [3 * DAY_BINS + 60]


def test_a_series_that_starts_busy_still_finds_a_burst_hours_later() -> None:
    # Collection begun in the middle of an event: 600 posts in the first ten minutes, then a calm
    # 40 a bin, then a burst five hours in. The baseline must not stay up at the first bin's level.
    counts = np.array([600, 20] + [40] * 29 + [224, 396] + [40] * 30)
    assert 31 in bins_of(find_peaks(counts, start=T0, bin_seconds=BIN))


def test_a_daily_cycle_does_not_fire_every_day() -> None:
    counts = np.random.default_rng(7).poisson(daily_rates(10, night=0.1, day=3.0))
    after_learning = [b for b in bins_of(find_peaks(counts, start=T0, bin_seconds=BIN)) if b >= 4 * DAY_BINS]
    assert len(after_learning) <= 1
    # Without the time-of-day profile, each morning looks like a burst.
    flat = BurstDetector(BurstParams(season_days=1000), bin_seconds=BIN)
    mornings = [b for b in bins_of(find_peaks(counts, start=T0, bin_seconds=BIN, detector=flat)) if b >= 4 * DAY_BINS]
    assert len(mornings) >= 4


def bursty(seed: int) -> np.ndarray:
    """A week with a daily cycle and three bursts: 5x for 2 h, 10x for 1 h, 3x for 3 h."""
    rates = daily_rates(7, night=0.2, day=0.8)
    for day, size, hours in ((4, 5.0, 2), (5, 10.0, 1), (6, 3.0, 3)):
        first = day * DAY_BINS + 13 * 6
        rates[first : first + hours * 6] *= size
    return np.random.default_rng(seed).poisson(rates)


def planted(seed: int, size: float, hours: int, at: int) -> tuple[np.ndarray, int]:
    """A week with a daily cycle (about 3 posts an hour) and a burst of `size` times the rate."""
    rates = daily_rates(7, night=0.2, day=0.8)
    rates[at : at + hours * 6] *= size
    return np.random.default_rng(seed).poisson(rates), at


@pytest.mark.parametrize("seed", range(5))
def test_a_planted_5x_burst_is_found_quickly_and_little_else(seed: int) -> None:
    counts, at = planted(seed, 5.0, 2, 5 * DAY_BINS + 13 * 6)
    found = bins_of(find_peaks(counts, start=T0, bin_seconds=BIN))
    assert [b for b in found if at <= b < at + 12] != []  # within two hours
    assert len([b for b in found if not at - 36 <= b < at + 48 and b >= 3 * DAY_BINS]) <= 1


def test_a_long_burst_is_not_swallowed_by_the_baseline() -> None:
    counts, at = planted(3, 4.0, 8, 5 * DAY_BINS + 10 * 6)
    windows = [p for p in find_peaks(counts, start=T0, bin_seconds=BIN) if p.closed]
    burst = [p for p in windows if at - 12 <= (p.start.timestamp() - T0) // BIN < at + 12]
    assert len(burst) == 1
    assert burst[0].end is not None and (burst[0].end.timestamp() - T0) // BIN >= at + 7 * 6
    # Learning at full weight inside the peak lets the baseline catch up, and the peak ends early.
    greedy = BurstDetector(BurstParams(peak_weight=1.0), bin_seconds=BIN)
    greedy_ends = [p.end for p in find_peaks(counts, start=T0, bin_seconds=BIN, detector=greedy) if p.closed]
    assert min(end for end in greedy_ends if end and end > burst[0].start) < burst[0].end


def test_state_is_small_and_survives_a_restart() -> None:
    counts, _ = planted(4, 5.0, 2, 5 * DAY_BINS + 13 * 6)
    whole = BurstDetector(bin_seconds=BIN)
    expected = [change for i, c in enumerate(counts.tolist()) for change in whole.update(T0 // BIN + i, c)]
    first = BurstDetector(bin_seconds=BIN)
    half = 5 * DAY_BINS + 13 * 6 + 3  # in the middle of the burst, with a peak open
    changes = [change for i, c in enumerate(counts[:half].tolist()) for change in first.update(T0 // BIN + i, c)]
    state = json.loads(json.dumps(first.snapshot()))
    assert len(json.dumps(state)) < 1500
    second = BurstDetector(bin_seconds=BIN)
    second.restore(state)
    changes += [c for i, n in enumerate(counts[half:].tolist()) for c in second.update(T0 // BIN + half + i, n)]
    assert changes == expected
    assert any(kind == "raised" for kind, _ in expected)


# -- streaming in event time --------------------------------------------------------------------


def post_times(counts: np.ndarray, seed: int) -> np.ndarray:
    """One event time per post, spread inside its bin."""
    rng = np.random.default_rng(seed)
    bins = np.repeat(np.arange(len(counts)), counts)
    return np.sort(T0 + bins * BIN + rng.uniform(0, BIN, size=len(bins)))


@pytest.mark.parametrize("detector", [BurstDetector, TwitInfoDetector])
def test_streaming_gives_the_same_peaks_as_batch(detector: type[BurstDetector] | type[TwitInfoDetector]) -> None:
    counts = bursty(5)
    times = post_times(counts, 1)
    start, binned = bin_counts(times, bin_seconds=BIN)  # from the first post's bin, as streaming starts
    batch = find_peaks(binned, start=start, bin_seconds=BIN, series="s", detector=detector(bin_seconds=BIN))
    timeline = Timeline("s", detector(bin_seconds=BIN), bin_seconds=BIN)
    streamed = [peak for t in times for peak in timeline.add(float(t))]
    streamed += timeline.flush()
    assert len(raised(batch)) >= 3
    assert [without_watermark(p) for p in streamed] == [without_watermark(p) for p in batch]
    # The watermark that raised a peak is never before the end of its bin.
    assert all(p.raised_at.timestamp() >= p.raised_bin.timestamp() + BIN for p in raised(streamed))


def test_streaming_with_a_post_in_every_bin_raises_at_the_end_of_the_bin() -> None:
    counts = np.maximum(bursty(6), 1)  # so streaming starts at bin 0 too
    batch = find_peaks(counts, start=T0, bin_seconds=BIN)
    timeline = Timeline("s", bin_seconds=BIN)
    streamed = [p for i, c in enumerate(counts.tolist()) for p in timeline.add(T0 + i * BIN, c)] + timeline.flush()
    assert [p.raised_at for p in raised(streamed)] == [p.raised_at for p in raised(batch)]
    assert all(p.raised_at == datetime.fromtimestamp(p.raised_bin.timestamp() + BIN, UTC) for p in raised(streamed))


def test_posts_out_of_order_within_the_lateness_all_count() -> None:
    counts = bursty(8)
    lateness = 1800
    times = post_times(counts, 2)
    arrival = times + np.random.default_rng(3).uniform(0, lateness, size=len(times))  # up to 30 min late
    timeline = Timeline("s", bin_seconds=BIN, lateness=lateness)
    streamed = [peak for i in np.argsort(arrival) for peak in timeline.add(float(times[i]))] + timeline.flush()
    assert timeline.late_posts == 0
    start, binned = bin_counts(times, bin_seconds=BIN)
    batch = find_peaks(binned, start=start, bin_seconds=BIN, series="s")
    assert [without_watermark(p) for p in streamed] == [without_watermark(p) for p in batch]
    assert all(p.raised_at.timestamp() >= p.raised_bin.timestamp() + BIN for p in raised(streamed))


class Recorder:
    """A detector that only remembers the bins it was given."""

    name: ClassVar[str] = "recorder"

    def __init__(self) -> None:
        self.bins: dict[int, int] = {}

    def update(self, bin_index: int, count: int) -> Sequence[Change]:
        self.bins[bin_index] = count
        return ()

    def snapshot(self) -> dict[str, object]:
        return {}

    def restore(self, state: dict[str, object]) -> None:
        pass


def test_posts_later_than_the_lateness_are_counted_as_late_not_lost() -> None:
    recorder = Recorder()
    timeline = Timeline("s", recorder, bin_seconds=BIN, lateness=BIN)
    b0 = T0 // BIN
    timeline.add(T0 + 10)
    timeline.add(T0 + 20)
    assert recorder.bins == {}  # nothing judged: the watermark is ten minutes behind
    timeline.add(T0 + 2 * BIN + 100)  # watermark moves into bin 1: bin 0 is judged
    assert recorder.bins == {b0: 2}
    timeline.add(T0 + 30, 3)  # for bin 0, already judged: late
    timeline.add(T0 + BIN + 100)  # for bin 1, not judged yet: counted
    assert timeline.late_posts == 3 and timeline.late_arrivals == 1
    timeline.flush()
    assert recorder.bins == {b0: 2, b0 + 1: 1, b0 + 2: 1}


def test_many_series_share_one_watermark_and_raise_what_single_timelines_raise() -> None:
    a, _ = planted(9, 5.0, 2, 5 * DAY_BINS + 13 * 6)
    b, _ = planted(10, 10.0, 1, 4 * DAY_BINS + 20 * 6)
    times = {"a": post_times(a, 4), "b": post_times(b, 5)}
    posts = sorted((float(t), series) for series, values in times.items() for t in values)
    many = StreamingDetector(bin_seconds=BIN, lateness=BIN)
    streamed = [peak for t, series in posts for peak in many.add(series, t)]
    streamed += many.advance(posts[-1][0] + BIN)
    for series, values in times.items():
        start, counts = bin_counts(values, bin_seconds=BIN)
        batch = raised(find_peaks(counts, start=start, bin_seconds=BIN, series=series))
        mine = [p for p in raised(streamed) if p.series == series]
        assert len(batch) >= 1
        assert [without_watermark(p) for p in mine] == [without_watermark(p) for p in batch]
    assert many.late_posts == 0


def test_bad_input_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Timeline("s").add(datetime(2024, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="start of a bin"):
        find_peaks([1, 2, 3], start=T0 + 5, bin_seconds=BIN)
    with pytest.raises(ValueError, match="no negatives"):
        find_peaks([1, -2, 3], start=T0, bin_seconds=BIN)


def test_bin_counts_counts_every_post_once() -> None:
    start, counts = bin_counts([T0 + 5, T0 + 599, T0 + 600, T0 + 3000], bin_seconds=BIN)
    assert start == T0 and counts.tolist() == [2, 1, 0, 0, 0, 1]


def test_peak_records_are_ready_for_json() -> None:
    counts = quiet_series()
    counts[3 * DAY_BINS + 60 : 3 * DAY_BINS + 63] = [8, 12, 9]
    peak = raised(find_peaks(counts, start=T0, bin_seconds=BIN, series="#flood"))[0]
    record = json.loads(json.dumps(peak.as_dict()))
    assert record["series"] == "#flood" and record["end"] is None and record["raised_bin"].endswith("+00:00")
    assert record["total"] >= 8 and record["score"] >= BurstParams().threshold  # raised on its first bin
