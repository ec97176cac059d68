"""The understanding stage in the data folder: every post gets an insight once, reposts inherit
their original's (whichever was stored first), a run goes on where the last stopped, new models
redo everything, and search/stats filter by what it found.

The models are small fakes here (the shipped ones are tested in test_classify/test_geo and once
end to end below), so these tests check the stage's bookkeeping, not the models' judgement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from groundspeed.model import Post
from groundspeed.store import PostFilter
from groundspeed.understand.classify import INFO_TYPES, Classification, ClassifyInput
from groundspeed.understand.geo import Placement, PlaceMention
from groundspeed.understand.insights import Understanding
from groundspeed.workspace import Workspace

START = datetime(2031, 5, 1, 8, tzinfo=UTC)
DAMAGE, OTHER = INFO_TYPES[0], INFO_TYPES[-1]


class FakeClassifier:
    informative_threshold = 0.5
    eyewitness_threshold = 0.5

    def __init__(self) -> None:
        self.seen: list[str] = []

    def classify_many(self, items: Sequence[ClassifyInput]) -> list[Classification]:
        self.seen.extend(item.text for item in items)
        found = []
        for item in items:
            damage = "collapsed" in item.text
            probabilities = dict.fromkeys(INFO_TYPES, 0.0)
            probabilities[DAMAGE if damage else OTHER] = 1.0
            found.append(
                Classification(
                    informative=0.9 if damage else 0.2,
                    eyewitness=0.8 if "I see" in item.text else 0.1,
                    info_types=probabilities,
                )
            )
        return found


class FakeGeocoder:
    def mentions_many(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[list[PlaceMention]]:
        found = []
        for text in texts:
            at = text.find("Tabriz")
            found.append(
                [] if at < 0 else [PlaceMention(at, at + 6, "Tabriz", "Tabriz", "city", 38.08, 46.29, "IR", 0.9)]
            )
        return found

    def place(self, post: Post, mentions: Sequence[PlaceMention]) -> Placement | None:
        if not mentions:
            return None
        mention = mentions[0]
        assert mention.lat is not None and mention.lon is not None
        return Placement(mention.lat, mention.lon, mention.name, mention.country_code, "city", "text", 0.9)


def tweet(number: int, text: str, *, retweet_of: dict[str, Any] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {
        "id_str": str(1_900_000_000_000_000_000 + number),
        "created_at": (START + timedelta(minutes=number)).strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "text": text if retweet_of is None else f"RT @{retweet_of['user']['screen_name']}: {retweet_of['text']}",
        "lang": "en",
        "user": {"id_str": str(number), "screen_name": f"user_{number}"},
        "entities": {"hashtags": [], "urls": [], "user_mentions": []},
    }
    if retweet_of is not None:
        value["retweeted_status"] = retweet_of
    return value


def write(path: Path, tweets: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in tweets), encoding="utf-8")
    return path


def workspace_with_fakes(root: Path, models: str = "fake:1") -> tuple[Workspace, FakeClassifier]:
    workspace = Workspace(root, fsync=False)
    classifier = FakeClassifier()
    workspace.understanding = Understanding(
        classifier=classifier,  # type: ignore[arg-type]
        geocoder=FakeGeocoder(),  # type: ignore[arg-type]
        models=models,
    )
    return workspace, classifier


def test_every_post_gets_one_insight_and_reposts_inherit_their_originals(tmp_path: Path) -> None:
    original = tweet(1, "I see the bridge collapsed in Tabriz")
    posts = [tweet(2, "", retweet_of=original), tweet(3, "thoughts and prayers"), tweet(4, "", retweet_of=original)]
    workspace, classifier = workspace_with_fakes(tmp_path / "data")
    with workspace:
        workspace.import_file(write(tmp_path / "a.jsonl", posts))
        assert workspace.update_insights(batch=2) == 4  # small batches: the original comes after its retweet
        store = workspace.store()
        witness = store.insight("x:1900000000000000001")
        assert witness is not None
        assert (witness["is_eyewitness"], witness["info_type"], witness["place_name"]) == (1, DAMAGE, "Tabriz")
        assert witness["mentions"][0]["start"] == len("I see the bridge collapsed in ")
        for repost in ("x:1900000000000000002", "x:1900000000000000004"):
            inherited = store.insight(repost)
            assert inherited is not None
            assert inherited["inherited_from"] == witness["post_id"]
            assert (inherited["info_type"], inherited["place_name"]) == (DAMAGE, "Tabriz")
        # The reposts' text was never read by the model: only the two posts of their own.
        assert sorted(classifier.seen) == ["I see the bridge collapsed in Tabriz", "thoughts and prayers"]
        assert store.insight_summary()["understood"] == 4


def test_a_repost_stored_later_takes_the_insight_of_an_original_done_before(tmp_path: Path) -> None:
    original = tweet(1, "the school collapsed")
    workspace, classifier = workspace_with_fakes(tmp_path / "data")
    with workspace:
        workspace.import_file(write(tmp_path / "a.jsonl", [original]))
        assert workspace.update_insights() == 1
        workspace.import_file(write(tmp_path / "b.jsonl", [tweet(9, "", retweet_of=original)]))
        assert workspace.update_insights() == 1  # only the new post
        inherited = workspace.store().insight("x:1900000000000000009")
        assert inherited is not None and inherited["info_type"] == DAMAGE
        assert classifier.seen == ["the school collapsed"]
        assert workspace.update_insights() == 0  # nothing new: nothing done


def test_new_models_redo_every_post(tmp_path: Path) -> None:
    root = tmp_path / "data"
    workspace, _ = workspace_with_fakes(root)
    with workspace:
        workspace.import_file(write(tmp_path / "a.jsonl", [tweet(1, "one"), tweet(2, "two")]))
        assert workspace.update_insights() == 2
    again, classifier = workspace_with_fakes(root, models="fake:2")
    with again:
        assert again.update_insights() == 2
        assert sorted(classifier.seen) == ["one", "two"]
        assert again.store().insight("x:1900000000000000001")["models"] == "fake:2"  # type: ignore[index]


def test_filters_choose_posts_by_type_first_hand_place_and_detected_language(tmp_path: Path) -> None:
    posts = [
        tweet(1, "I see the bridge collapsed in Tabriz"),
        tweet(2, "the tower collapsed, reports say"),
        tweet(3, "thoughts and prayers to everyone"),
    ]
    workspace, _ = workspace_with_fakes(tmp_path / "data")
    with workspace:
        workspace.import_file(write(tmp_path / "a.jsonl", posts))
        store = workspace.store()

        def uids(where: PostFilter) -> list[str]:
            return sorted(post.uid[-1] for post in store.iter_posts(where))

        assert uids(PostFilter(langs=["en"])) == ["1", "2", "3"]  # before the stage: the platform's tag
        workspace.update_insights()

        assert uids(PostFilter(info_types=[DAMAGE])) == ["1", "2"]
        assert uids(PostFilter(eyewitness=True)) == ["1"]
        assert uids(PostFilter(informative=True, info_types=[DAMAGE])) == ["1", "2"]
        assert uids(PostFilter(place="Tabriz")) == ["1"]
        assert uids(PostFilter(place="IR")) == uids(PostFilter(place="tabriz")) == ["1"]  # any case
        assert uids(PostFilter(place="Mashhad")) == []
        assert uids(PostFilter(place_bbox=(46.0, 37.9, 46.5, 38.3))) == ["1"]  # placed inside the area
        assert uids(PostFilter(place_bbox=(50.0, 35.0, 52.0, 36.0))) == []
        assert uids(PostFilter(place_bbox=(170.0, 37.9, 50.0, 38.3))) == ["1"]  # a box across the 180th meridian
        assert uids(PostFilter(langs=["en"])) == ["1", "2", "3"]  # detected now, and English
        assert uids(PostFilter(langs=["fa"])) == []


def test_stats_report_what_the_stage_found(tmp_path: Path) -> None:
    data = tmp_path / "data"
    posts = [tweet(1, "I see the bridge collapsed in Tabriz"), tweet(2, "thoughts and prayers to everyone")]
    workspace, _ = workspace_with_fakes(data)
    with workspace:
        workspace.import_file(write(tmp_path / "a.jsonl", posts))
        workspace.update_insights()
        summary = workspace.store().stats()["insights"]
    assert summary["understood"] == 2
    assert summary["first_hand"] == 1
    assert summary["placed"] == 1
    assert summary["by_info_type"] == {DAMAGE: 1, OTHER: 1}
    assert summary["by_detected_language"] == {"en": 2}
