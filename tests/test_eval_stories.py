"""``groundspeed eval stories``: reading the layouts, interleaving, the scores and the command."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from groundspeed.cli_eval import eval_group
from groundspeed.evaluation.stories import Post, cluster_scores, first_story_recall, interleave, read_folder
from groundspeed.track.stories import Assignment

MINI = Path(__file__).parent / "fixtures" / "stories_mini"
REQUIRED = {"bcubed_precision", "bcubed_recall", "bcubed_f1", "nmi", "first_story_recall", "posts_per_second"}


def test_reader_drops_retweets_and_off_topic() -> None:
    posts = read_folder(MINI / "fires")
    assert len(posts) == 48
    assert not any(p.text.startswith("RT @") for p in posts)
    assert {p.event for p in posts} == {"mini_fire_kelso", "mini_flood_arden"}
    assert len(read_folder(MINI / "quakes")) == 24


def test_interleave_keeps_order_within_event_and_fits_the_week() -> None:
    posts = read_folder(MINI / "fires") + read_folder(MINI / "quakes")
    stream = interleave(posts, seed=5)
    assert [p.time for p in stream] == sorted(p.time for p in stream)
    for event in {p.event for p in posts}:
        assert [p.uid for p in stream if p.event == event] == [p.uid for p in posts if p.event == event]
    firsts = [min(p.time for p in stream if p.event == event) for event in {p.event for p in posts}]
    assert max(firsts) - min(firsts) <= 7 * 86400
    assert interleave(posts, seed=5) == stream


def test_scores_perfect_and_merged() -> None:
    assert cluster_scores([1, 1, 2, 2], ["a", "a", "b", "b"])["bcubed_f1"] == 1.0
    assert cluster_scores([1, 1, 2, 2], ["a", "a", "b", "b"])["nmi"] == 1.0
    merged = cluster_scores([1, 1, 1, 1], ["a", "a", "b", "b"])
    assert merged["bcubed_precision"] == 0.5
    assert merged["bcubed_recall"] == 1.0
    singletons = cluster_scores([1, 2, 3, 4], ["a", "a", "b", "b"])
    assert singletons["bcubed_precision"] == 1.0
    assert singletons["bcubed_recall"] == 0.5


def test_first_story_recall_needs_a_story_that_grows() -> None:
    stream = [Post(str(i), "e", float(i), "x", None, "d") for i in range(12)]
    grows = [Assignment(str(i), 7, i == 0, 0.0) for i in range(12)]
    assert first_story_recall(stream, grows)[0] == 1.0
    shattered = [Assignment(str(i), i, True, 1.0) for i in range(12)]
    assert first_story_recall(stream, shattered)[0] == 0.0


def test_command_prints_one_json_object_with_the_figures() -> None:
    result = CliRunner().invoke(eval_group, ["stories", str(MINI / "fires"), str(MINI / "quakes"), "--seed", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert REQUIRED | {"peak_rss_mb", "baselines", "per_event", "per_language_group"} <= set(report)
    assert report["posts"] == 72
    assert report["events"] == 3
    assert set(report["baselines"]) == {"petrovic_lsh", "kmeans_true_k"}
    assert set(report["baselines"]["petrovic_lsh"]) >= REQUIRED
    assert set(report["baselines"]["kmeans_true_k"]) >= REQUIRED
    assert report["bcubed_precision"] >= 0.9
    assert report["first_story_recall"] >= 2 / 3


def test_command_explains_a_folder_it_cannot_read(tmp_path: Path) -> None:
    result = CliRunner().invoke(eval_group, ["stories", str(tmp_path)])
    assert result.exit_code != 0
    assert "labeled.csv" in result.output
