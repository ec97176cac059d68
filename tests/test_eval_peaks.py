"""``groundspeed eval peaks``: loading CrisisLexT26-shaped folders, planting bursts, scoring, the command."""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from groundspeed.cli_eval import eval_group
from groundspeed.evaluation.peaks import (
    HOUR,
    MIN_PLANT_POSTS,
    EventTimeline,
    Plant,
    load_crisislex_t26,
    main_zone_mask,
    place_plants,
    plant_counts,
    plant_delay,
)
from groundspeed.track.peaks import find_peaks

MINI = Path(__file__).parent / "fixtures" / "crisislex_t26_mini"
REQUIRED = {
    "main_burst_recall",
    "median_lead_hours",
    "planted_recall",
    "planted_median_delay_minutes",
    "planted_by_size",
    "false_peaks_per_week",
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(eval_group, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_eval_peaks_prints_one_json_report_with_both_detectors() -> None:
    code, out, err = run("peaks", "--dataset", "crisislex-t26", "--rounds", "2", str(MINI))
    assert code == 0, err
    report = json.loads(out)  # the whole of standard output is the report
    assert set(report) >= REQUIRED and set(report["baseline"]) >= REQUIRED
    assert report["detector"] == "burst" and report["baseline"]["detector"] == "twitinfo"
    assert set(report["planted_by_size"]) == {"2x", "3x", "5x", "10x"}
    assert set(report["per_event"]) == {"2031_Mini_flood", "2031_Mini_quake"}
    flood = report["per_event"]["2031_Mini_flood"]
    assert flood["source"] == "tweet timestamps" and flood["bin_seconds"] == 600
    assert report["per_event"]["2031_Mini_quake"]["bin_seconds"] == HOUR  # only hourly counts there
    assert {"burst", "twitinfo"} <= set(flood) and flood["burst"]["main_burst_raised"] is True
    assert report["planted"] > 0 and report["settings"]["rounds"] == 2
    # The event with no timeline is named, with the reason, in the report and on standard error.
    assert "2031_Mini_empty" in report["skipped"] and "2031_Mini_empty: left out" in err


def test_same_seed_same_report_and_another_seed_other_plants() -> None:
    first = json.loads(run("peaks", "--rounds", "2", str(MINI))[1])
    again = json.loads(run("peaks", "--rounds", "2", str(MINI))[1])
    other = json.loads(run("peaks", "--rounds", "2", "--seed", "1", str(MINI))[1])
    for report in (first, again, other):
        report.pop("seconds")
    assert first == again
    assert other["per_event"] != first["per_event"] or other["planted_by_size"] != first["planted_by_size"]


def test_a_folder_that_is_not_the_dataset_is_a_clear_error(tmp_path: Path) -> None:
    code, out, err = run("peaks", str(tmp_path))
    assert code == 1 and out == ""
    assert "is it a CrisisLexT26 folder?" in err
    code, _, err = run("peaks", "--bin", "7m", str(MINI))
    assert code == 2 and "divides an hour" in err


def test_loader_reads_post_times_else_hourly_counts() -> None:
    events, skipped = load_crisislex_t26(MINI)
    by_name = {event.name: event for event in events}
    flood, quake = by_name["2031_Mini_flood"], by_name["2031_Mini_quake"]
    assert flood.times is not None and flood.posts == len(flood.times)
    assert quake.times is None and 0 in quake.hourly  # hours without posts, left out of the file, are 0
    assert len(quake.hourly) >= 4 * 24
    rows = (MINI / "hourly_counts.csv").read_text().splitlines()[1:]
    assert quake.posts == sum(int(row.split(",")[2]) for row in rows if row.startswith("2031_Mini_quake"))
    assert list(skipped) == ["2031_Mini_empty"]


def test_tweet_ids_give_the_time_when_there_is_no_timestamp_column(tmp_path: Path) -> None:
    shutil.copytree(MINI, tmp_path / "mini")
    folder = tmp_path / "mini" / "original" / "2031_Mini_flood"
    path = folder / "2031_Mini_flood-tweetids_entire_period.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(["Tweet-ID"] + [line.split(",")[1] for line in lines[1:]]) + "\n")
    with_ids = {e.name: e for e in load_crisislex_t26(tmp_path / "mini")[0]}["2031_Mini_flood"]
    with_times = {e.name: e for e in load_crisislex_t26(MINI)[0]}["2031_Mini_flood"]
    assert with_ids.times is not None and with_times.times is not None
    assert np.abs(with_ids.times - with_times.times).max() < 1.0  # ids carry milliseconds, times seconds


def synthetic_event(days: int = 12, busiest_day: int = 9) -> EventTimeline:
    rng = np.random.default_rng(0)
    hourly = rng.poisson(4.0, size=days * 24)
    hourly[busiest_day * 24 + 12] = 400
    start = int(datetime(2030, 5, 1, tzinfo=UTC).timestamp())
    return EventTimeline("synthetic", "hourly counts", start, hourly.astype(np.int64))


def test_plants_have_the_size_asked_for_at_quiet_separate_times() -> None:
    event = synthetic_event()
    plants = place_plants(event, HOUR, np.random.default_rng(5))
    assert len(plants) >= 8
    zones = main_zone_mask(event, event.hourly_start, len(event.hourly), HOUR)
    for plant in plants:
        assert plant.posts == round((plant.size - 1) * plant.baseline_per_hour * plant.hours) >= MIN_PLANT_POSTS
        first = (plant.start - event.hourly_start) // HOUR
        assert not zones[first - 6 : first + plant.hours + 6].any()
    for earlier, later in itertools.pairwise(plants):
        assert later.start >= earlier.end + 12 * HOUR
    counts = plant_counts(event, event.hourly, event.hourly_start, HOUR, plants, np.random.default_rng(6))
    assert int(counts.sum() - event.hourly.sum()) == sum(plant.posts for plant in plants)


def test_a_plant_counts_as_found_only_if_the_untouched_timeline_was_quiet_there() -> None:
    event = synthetic_event()
    at = event.hourly_start + 5 * 24 * HOUR
    plant = Plant(start=at, hours=2, size=10.0, baseline_per_hour=4.0, posts=72)
    quiet = event.hourly.copy()
    planted = quiet.copy()
    planted[5 * 24 : 5 * 24 + 2] += 36
    peaks = [p for p in find_peaks(planted, start=event.hourly_start, bin_seconds=HOUR) if not p.closed]
    clean = [p for p in find_peaks(quiet, start=event.hourly_start, bin_seconds=HOUR) if not p.closed]
    delay = plant_delay(plant, peaks, clean)
    assert delay == 60.0  # found at the end of its first hour
    # Had the untouched timeline raised a peak in the same window, the raise would prove nothing.
    assert plant_delay(plant, peaks, peaks) is None


@pytest.mark.parametrize("bin_size", ["1h", "30m"])
def test_other_bin_sizes_run(bin_size: str) -> None:
    code, out, err = run("peaks", "--rounds", "1", "--bin", bin_size, str(MINI))
    assert code == 0, err
    assert json.loads(out)["settings"]["bin_seconds"] == {"1h": 3600, "30m": 1800}[bin_size]
