"""Tracking inside the import: tracker matches, near-copies, amplification and timelines stay exact
whether posts come once, twice, through workers or through a backfill."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from groundspeed.cli import cli
from groundspeed.formats import framing
from groundspeed.synthetic import generate_tweets
from groundspeed.text import normalise_tag
from groundspeed.workspace import WORKERS_ENV, Workspace

TRACKERS = """
[trackers."Protests"]
hashtags = ["MahsaAmini", "مهسا_امینی"]
keywords = ["tehran|تهران"]
languages = ["fa", "en"]

[trackers."Shutdown"]
keywords = ["internet", "اینترنت"]
"""


def write_tweets(path: Path, count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    tweets = list(generate_tweets(count, seed=seed))
    path.write_text("".join(json.dumps(tweet, ensure_ascii=False) + "\n" for tweet in tweets), encoding="utf-8")
    return tweets


def timeline(root: Path) -> dict[tuple[str, str], tuple[int, int]]:
    with sqlite3.connect(root / "groundspeed.db") as connection:
        rows = connection.execute("SELECT series, minute, posts, canonical FROM timeline WHERE posts OR canonical")
        return {(series, minute): (posts, canonical) for series, minute, posts, canonical in rows}


def recomputed(root: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """The timeline counted again from the stored posts and matches, the slow and obvious way."""
    counts: Counter[tuple[str, str]] = Counter()
    canonical: Counter[tuple[str, str]] = Counter()
    with sqlite3.connect(root / "groundspeed.db") as connection:
        matches: dict[int, dict[str, list[str]]] = {}
        for tracker, post_id, rule in connection.execute("SELECT tracker, post_id, rule FROM post_matches"):
            matches.setdefault(post_id, {}).setdefault(tracker, []).append(rule)
        for post_id, created_at, platform, lang, place, hashtags, is_canonical in connection.execute(
            "SELECT id, created_at, platform, lang, place_name, hashtags, canonical FROM posts"
        ):
            if not created_at:
                continue
            keys = ["all", f"platform:{platform}"]
            keys += [f"lang:{lang}"] if lang else []
            keys += [f"place:{place}"] if place else []
            keys += sorted({f"hashtag:{normalise_tag(tag)}" for tag in json.loads(hashtags or "[]")})
            for tracker, rules in matches.get(post_id, {}).items():
                keys += [f"tracker:{tracker}", *(f"rule:{tracker}/{rule}" for rule in rules)]
            for key in keys:
                counts[(key, created_at[:16])] += 1
                canonical[(key, created_at[:16])] += is_canonical
    return {key: (counts[key], canonical[key]) for key in counts}


def matches(root: Path) -> set[tuple[str, str, str]]:
    with sqlite3.connect(root / "groundspeed.db") as connection:
        return set(
            connection.execute(
                "SELECT m.tracker, p.uid, m.rule FROM post_matches AS m JOIN posts AS p ON p.id = m.post_id"
            )
        )


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framing, "BATCH_RECORDS", 1000)


@pytest.mark.parametrize("workers", [0, 2])
def test_timelines_match_a_recount_after_imports_twice_and_near_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None, workers: int
) -> None:
    monkeypatch.setenv(WORKERS_ENV, str(workers))
    write_tweets(tmp_path / "t.jsonl", 6000)
    root = tmp_path / "data"
    root.mkdir()
    (root / "trackers.toml").write_text(TRACKERS, encoding="utf-8")
    with Workspace(root, fsync=False) as workspace:
        first = workspace.import_file(tmp_path / "t.jsonl")
        again = workspace.import_file(tmp_path / "t.jsonl", again=True)  # every post a duplicate
    assert first.new == 6000 and again.new == 0
    assert first.near_copies > 0
    stored = timeline(root)
    assert stored == recomputed(root)
    assert {key for key in stored if key[0].startswith("tracker:")} != set()
    with sqlite3.connect(root / "groundspeed.db") as connection:
        reposts = connection.execute("SELECT COUNT(*) FROM posts WHERE kind = 'repost'").fetchone()[0]
        copies = connection.execute("SELECT COUNT(*) FROM posts WHERE near_copy_of IS NOT NULL").fetchone()[0]
        tallied = connection.execute("SELECT SUM(reposts), SUM(copies) FROM amplification").fetchone()
    assert tallied == (reposts, copies)  # each repost and copy counted once, the second import took nothing


def test_workers_and_one_process_store_the_same_tracking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None
) -> None:
    write_tweets(tmp_path / "t.jsonl", 4000)
    results = []
    for workers in (0, 2):
        monkeypatch.setenv(WORKERS_ENV, str(workers))
        root = tmp_path / f"data-{workers}"
        root.mkdir()
        (root / "trackers.toml").write_text(TRACKERS, encoding="utf-8")
        with Workspace(root, fsync=False) as workspace:
            workspace.import_file(tmp_path / "t.jsonl")
        with sqlite3.connect(root / "groundspeed.db") as connection:
            copies = set(connection.execute("SELECT uid, near_copy_of FROM posts WHERE near_copy_of IS NOT NULL"))
        results.append((timeline(root), matches(root), copies))
    assert results[0] == results[1]


def test_a_tracker_added_later_holds_what_it_would_have_held_from_the_start(
    tmp_path: Path, small_batches: None
) -> None:
    write_tweets(tmp_path / "t.jsonl", 3000)
    from_start, later = tmp_path / "from-start", tmp_path / "later"
    for root in (from_start, later):
        root.mkdir()
    (from_start / "trackers.toml").write_text(TRACKERS, encoding="utf-8")
    with Workspace(from_start, fsync=False) as workspace:
        workspace.import_file(tmp_path / "t.jsonl")
    with Workspace(later, fsync=False) as workspace:
        workspace.import_file(tmp_path / "t.jsonl")
        (later / "trackers.toml").write_text(TRACKERS, encoding="utf-8")
        held = {name: workspace.apply_tracker(name) for name in ("Protests", "Shutdown")}
    assert matches(later) == matches(from_start)
    assert timeline(later) == timeline(from_start)
    assert held["Protests"] == len({uid for tracker, uid, _ in matches(later) if tracker == "Protests"}) > 0


def test_forgetting_a_tracker_removes_its_matches_and_series(tmp_path: Path) -> None:
    write_tweets(tmp_path / "t.jsonl", 500)
    root = tmp_path / "data"
    root.mkdir()
    (root / "trackers.toml").write_text(TRACKERS, encoding="utf-8")
    with Workspace(root, fsync=False) as workspace:
        workspace.import_file(tmp_path / "t.jsonl")
        workspace.forget_tracker("Protests")
    assert {tracker for tracker, _, _ in matches(root)} == {"Shutdown"}
    assert not [key for key in timeline(root) if "Protests" in key[0]]
    assert timeline(root) == recomputed(root)


def test_reprocess_rebuilds_the_same_tracking(tmp_path: Path, small_batches: None) -> None:
    write_tweets(tmp_path / "t.jsonl", 3000)
    root = tmp_path / "data"
    root.mkdir()
    (root / "trackers.toml").write_text(TRACKERS, encoding="utf-8")
    with Workspace(root, fsync=False) as workspace:
        workspace.import_file(tmp_path / "t.jsonl")
        before = (timeline(root), matches(root))
        workspace.reprocess()
        assert (timeline(root), matches(root)) == before


def test_canonical_only_leaves_out_reposts_and_near_copies(tmp_path: Path) -> None:
    write_tweets(tmp_path / "t.jsonl", 2000)
    runner = CliRunner()
    data = str(tmp_path / "data")
    assert runner.invoke(cli, ["--data", data, "import", str(tmp_path / "t.jsonl")]).exit_code == 0
    result = runner.invoke(cli, ["--data", data, "export", "-f", "jsonl", "--canonical"])
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    stats = json.loads(runner.invoke(cli, ["--data", data, "stats", "--json"]).stdout)
    collapsed = stats["duplicates_collapsed"]
    assert len(exported) == collapsed["canonical"] < collapsed["posts"]
    assert collapsed["posts"] == collapsed["canonical"] + collapsed["reposts"] + collapsed["near_copies"]
    assert all(post["kind"] != "repost" for post in exported)


def burst_tweets() -> list[dict[str, Any]]:
    """Two quiet days of a few posts an hour, then an hour of posts about a bridge collapse."""
    start = datetime(2030, 3, 1, tzinfo=UTC)
    tweets = []
    words = ["market", "weather", "traffic", "football", "music", "school", "rain", "coffee"]
    for index in range(2 * 24 * 4):  # one post every 15 minutes
        when = start + timedelta(minutes=15 * index)
        tweets.append(tweet(index, when, f"ordinary day {words[index % 8]} {words[(index * 3) % 8]} #city"))
    burst = start + timedelta(days=2, hours=3)
    for index in range(120):
        when = burst + timedelta(seconds=30 * index)
        text = f"bridge collapsed near the river, rescuers at the scene {index} #bridgecollapse #city"
        tweets.append(tweet(10_000 + index, when, text, url="https://news.example/bridge"))
    return tweets


def tweet(number: int, when: datetime, text: str, url: str | None = None) -> dict[str, Any]:
    tweet_id = str(1_800_000_000_000_000_000 + number)
    hashtags = [{"text": word[1:], "indices": [0, 0]} for word in text.split() if word.startswith("#")]
    urls = [{"url": "https://t.co/x", "expanded_url": url, "indices": [0, 0]}] if url else []
    return {
        "id_str": tweet_id,
        "created_at": when.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "text": text,
        "lang": "en",
        "user": {"id_str": str(number % 40), "screen_name": f"resident_{number % 40}"},
        "entities": {"hashtags": hashtags, "urls": urls, "user_mentions": []},
    }


def test_peaks_are_found_and_explained_by_what_the_burst_says(tmp_path: Path) -> None:
    path = tmp_path / "city.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in burst_tweets()), encoding="utf-8")
    root = tmp_path / "data"
    root.mkdir()
    (root / "trackers.toml").write_text('[trackers."City"]\nhashtags = ["city"]\n', encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["--data", str(root), "import", str(path)]).exit_code == 0
    result = runner.invoke(cli, ["--data", str(root), "peaks", "City", "--json"])
    assert result.exit_code == 0, result.output
    peaks = json.loads(result.stdout)
    assert len(peaks) == 1
    peak = peaks[0]
    assert peak["start_at"].startswith("2030-03-03T03:")
    assert peak["raised_at"] <= "2030-03-03T04:00"  # raised during the hour, not after
    explanation = peak["explanation"]
    terms = [item["item"] for item in explanation["terms"]]
    assert "bridge" in terms[:5] and "collapsed" in terms[:5]
    assert "city" not in terms  # posted all along: not what explains the burst
    assert [item["item"] for item in explanation["hashtags"]][:1] == ["bridgecollapse"]
    assert explanation["links"][0]["item"] == "https://news.example/bridge"
    assert explanation["posts_to_read"]
    text = runner.invoke(cli, ["--data", str(root), "peaks", "City"]).output
    assert "bridge" in text


def test_timeline_command_sums_minutes_into_hours(tmp_path: Path) -> None:
    path = tmp_path / "city.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in burst_tweets()), encoding="utf-8")
    runner = CliRunner()
    data = str(tmp_path / "data")
    assert runner.invoke(cli, ["--data", data, "import", str(path)]).exit_code == 0
    result = runner.invoke(cli, ["--data", data, "timeline", "hashtag:bridgecollapse", "--every", "hour", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["start,posts", "2030-03-03T03:00+00:00,120"]


def test_tracker_commands_apply_changes_to_stored_posts(tmp_path: Path) -> None:
    write_tweets(tmp_path / "t.jsonl", 800)
    runner = CliRunner()
    data = str(tmp_path / "data")
    assert runner.invoke(cli, ["--data", data, "import", str(tmp_path / "t.jsonl")]).exit_code == 0

    def held() -> dict[str, int]:
        return dict(json.loads(runner.invoke(cli, ["--data", data, "stats", "--json"]).stdout)["trackers"])

    added = runner.invoke(cli, ["--data", data, "tracker", "add", "Net", "--keyword", "internet|اینترنت"])
    assert added.exit_code == 0, added.output
    first = held()["Net"]
    assert first > 0
    edited = runner.invoke(cli, ["--data", data, "tracker", "edit", "Net", "--add-keyword", "tehran|تهران"])
    assert edited.exit_code == 0, edited.output
    assert held()["Net"] > first
    # An edit by hand is noticed by the next import.
    path = Path(data) / "trackers.toml"
    path.write_text('[trackers."Net"]\nkeywords = ["internet"]\n', encoding="utf-8")
    write_tweets(tmp_path / "more.jsonl", 10, seed=99)
    assert runner.invoke(cli, ["--data", data, "import", str(tmp_path / "more.jsonl")]).exit_code == 0
    assert 0 < held()["Net"] < first
    assert timeline(Path(data)) == recomputed(Path(data))
    removed = runner.invoke(cli, ["--data", data, "tracker", "remove", "Net", "--yes"])
    assert removed.exit_code == 0, removed.output
    assert "Net" not in held()
    assert not [key for key in timeline(Path(data)) if "Net" in key[0]]


def test_tracking_off_stores_the_posts_without_the_tracking_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only for measuring the foundation alone: the posts are stored, no timelines or near-copies.
    write_tweets(tmp_path / "t.jsonl", 1500)
    root = tmp_path / "data"
    monkeypatch.setenv("GROUNDSPEED_TRACKING", "off")
    with Workspace(root, fsync=False) as workspace:
        report = workspace.import_file(tmp_path / "t.jsonl")
    assert report.new == 1500 and report.near_copies == 0
    assert timeline(root) == {}
    monkeypatch.setenv("GROUNDSPEED_TRACKING", "on")
    with Workspace(tmp_path / "on", fsync=False) as workspace:
        assert workspace.import_file(tmp_path / "t.jsonl").near_copies > 0
    assert timeline(tmp_path / "on") != {}


def test_who_amplified_a_post_and_the_canonical_timeline(tmp_path: Path) -> None:
    write_tweets(tmp_path / "t.jsonl", 1500)
    root = tmp_path / "data"
    with Workspace(root, fsync=False) as workspace:
        workspace.import_file(tmp_path / "t.jsonl")
        store = workspace.store()
        uid, reposts, copies = store.connection.execute(
            "SELECT uid, reposts, copies FROM amplification WHERE reposts > 0 AND copies > 0 "
            "ORDER BY reposts + copies DESC LIMIT 1"
        ).fetchone()
        amplifiers = store.amplifiers(uid, limit=1000)
        assert Counter(item["how"] for item in amplifiers) == {"repost": reposts, "near-copy": copies}
        assert [item["created_at"] for item in amplifiers] == sorted(item["created_at"] for item in amplifiers)
    runner = CliRunner()
    totals = {}
    for flag in ([], ["--canonical"]):
        result = runner.invoke(cli, ["--data", str(root), "timeline", "all", "--every", "day", "-f", "csv", *flag])
        assert result.exit_code == 0, result.output
        totals[bool(flag)] = sum(int(line.split(",")[1]) for line in result.stdout.splitlines()[1:])
    with sqlite3.connect(root / "groundspeed.db") as connection:
        everything, canonical = connection.execute("SELECT COUNT(*), SUM(canonical) FROM posts").fetchone()
    assert totals == {False: everything, True: canonical}
    assert canonical < everything


def test_peaks_of_one_post_per_message_leave_out_a_retweet_storm(tmp_path: Path) -> None:
    # The burst of the city test, but made of retweets of one post: a storm of amplification,
    # not of new messages. Counting one post per message, there is no burst.
    tweets = burst_tweets()
    original = next(t for t in tweets if "bridge" in t["text"])
    retweet = {"text": "RT @resident: " + original["text"], "retweeted_status": original}
    storm = [{**each, **retweet} if "bridge" in each["text"] and each is not original else each for each in tweets]
    path = tmp_path / "storm.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in storm), encoding="utf-8")
    root = tmp_path / "data"
    root.mkdir()
    (root / "trackers.toml").write_text('[trackers."City"]\nhashtags = ["city"]\n', encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["--data", str(root), "import", str(path)]).exit_code == 0
    every = json.loads(runner.invoke(cli, ["--data", str(root), "peaks", "City", "--json"]).stdout)
    canonical = json.loads(runner.invoke(cli, ["--data", str(root), "peaks", "City", "--json", "--canonical"]).stdout)
    assert len(every) == 1
    assert canonical == []
