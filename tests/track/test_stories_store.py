"""Stories in the database: every canonical post is placed once, records add up, and an analyst's
merges and splits survive a rebuild."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from groundspeed.cli import cli


def tweet(number: int, when: datetime, text: str, lang: str = "en") -> dict[str, Any]:
    return {
        "id_str": str(1_900_000_000_000_000_000 + number),
        "created_at": when.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "text": text,
        "lang": lang,
        "user": {"id_str": str(number % 25), "screen_name": f"witness_{number % 25}"},
        "entities": {"hashtags": [], "urls": [], "user_mentions": []},
    }


def two_stories(path: Path) -> None:
    """An explosion at a refinery and, separately, a flood in a river valley, interleaved."""
    start = datetime(2031, 5, 1, 8, tzinfo=UTC)
    refinery = ["explosion", "refinery", "fire", "smoke", "workers", "injured", "blast", "plant"]
    flood = ["flood", "river", "valley", "water", "rising", "homes", "evacuated", "rain"]
    tweets = []
    for index in range(60):
        words = refinery if index % 2 == 0 else flood
        chosen = [words[(index * 3 + k) % len(words)] for k in range(5)]
        text = f"{chosen[0]} {chosen[1]} {chosen[2]} {chosen[3]} {chosen[4]} report number {index}"
        tweets.append(tweet(index, start + timedelta(minutes=index), text))
    path.write_text("".join(json.dumps(t) + "\n" for t in tweets), encoding="utf-8")


def stories_json(runner: CliRunner, data: str, *args: str) -> list[dict[str, Any]]:
    result = runner.invoke(cli, ["--data", data, "stories", "--json", "--limit", "100", *args])
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def placements(data: str) -> dict[str, int]:
    with sqlite3.connect(Path(data) / "groundspeed.db") as connection:
        return dict(
            connection.execute("SELECT p.uid, ps.story_id FROM post_stories AS ps JOIN posts AS p ON p.id = ps.post_id")
        )


def test_every_canonical_post_is_in_one_story_and_records_add_up(tmp_path: Path) -> None:
    two_stories(tmp_path / "t.jsonl")
    runner = CliRunner()
    data = str(tmp_path / "data")
    assert runner.invoke(cli, ["--data", data, "import", str(tmp_path / "t.jsonl")]).exit_code == 0
    placed = placements(data)
    with sqlite3.connect(Path(data) / "groundspeed.db") as connection:
        canonical = {uid for (uid,) in connection.execute("SELECT uid FROM posts WHERE canonical")}
    assert set(placed) == canonical
    found = stories_json(runner, data)
    assert sum(story["posts"] for story in found) == len(canonical)
    big = [story for story in found if story["posts"] >= 10]
    assert len(big) >= 2  # the two events are not merged into one story
    for story in big:
        terms = set(story["terms"])
        assert not ({"refinery", "explosion"} & terms and {"flood", "river"} & terms)
    by_story: dict[int, set[str]] = {}
    for uid, story_id in placed.items():
        by_story.setdefault(story_id, set()).add(uid)
    one = runner.invoke(cli, ["--data", data, "story", str(big[0]["id"]), "--json"])
    assert one.exit_code == 0, one.output
    shown = json.loads(one.stdout)
    assert {post["uid"] for post in shown["posts_shown"]} <= by_story[big[0]["id"]]
    assert sum(hour["posts"] for hour in shown["hours"]) == big[0]["posts"] == len(by_story[big[0]["id"]])


def test_an_analysts_merge_and_split_survive_reprocessing(tmp_path: Path) -> None:
    two_stories(tmp_path / "t.jsonl")
    runner = CliRunner()
    data = str(tmp_path / "data")
    assert runner.invoke(cli, ["--data", data, "import", str(tmp_path / "t.jsonl")]).exit_code == 0
    big = sorted((story for story in stories_json(runner, data) if story["posts"] >= 10), key=lambda s: s["id"])
    first, second = big[0]["id"], big[1]["id"]
    merged = runner.invoke(cli, ["--data", data, "story", str(first), "--merge-with", str(second)])
    assert merged.exit_code == 0, merged.output
    placed = placements(data)
    members = [uid for uid, story_id in placed.items() if story_id == min(first, second)]
    split = members[:3]
    result = runner.invoke(
        cli, ["--data", data, "story", str(min(first, second)), *[arg for uid in split for arg in ("--split-off", uid)]]
    )
    assert result.exit_code == 0, result.output

    def grouping() -> tuple[bool, bool]:
        now = placements(data)
        rest = {now[uid] for uid in members[3:]}
        return len(rest) == 1, len({now[uid] for uid in split}) == 1 and not ({now[split[0]]} & rest)

    assert grouping() == (True, True)
    assert runner.invoke(cli, ["--data", data, "reprocess"]).exit_code == 0
    assert grouping() == (True, True)  # the merge and the split were applied again


def test_a_tracker_added_after_the_stories_finds_them(tmp_path: Path) -> None:
    two_stories(tmp_path / "t.jsonl")
    runner = CliRunner()
    data = str(tmp_path / "data")
    assert runner.invoke(cli, ["--data", data, "import", str(tmp_path / "t.jsonl")]).exit_code == 0
    assert runner.invoke(cli, ["--data", data, "tracker", "add", "Floods", "--keyword", "flood"]).exit_code == 0
    found = stories_json(runner, data, "Floods")
    assert found and all(story["trackers"].get("Floods") for story in found)
    assert not any("refinery" in story["terms"] and "flood" not in story["terms"] for story in found)
    everything = stories_json(runner, data)
    assert len(found) < len(everything)
