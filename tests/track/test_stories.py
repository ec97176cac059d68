"""Online story detection: planted stories, first stories, purity, snapshots and bounded state."""

from __future__ import annotations

import numpy as np

from groundspeed.text import normalise
from groundspeed.track.stories import (
    Assignment,
    PetrovicDetector,
    StoryDetector,
    StorySettings,
    Vectoriser,
    sparse_scores,
)

FIRE = [
    "wildfire near kelso forces evacuation of kelso residents",
    "smoke from the kelso wildfire covers the whole valley",
    "firefighters battle the kelso wildfire through the night",
    "kelso wildfire evacuation centre opens at the high school",
    "new evacuation order for kelso as the wildfire spreads",
    "#Wildfire kelso crews gain ground on the blaze @firecrew",
]
QUAKE = [
    "earthquake shakes tabas buildings damaged",
    "magnitude 6 earthquake felt across tabas",
    "aftershock hits tabas after the earthquake",
    "rescuers search rubble in tabas after earthquake",
    "#earthquake tabas hospitals treat the injured",
    "tabas earthquake damaged buildings and roads",
]


def feed(
    detector: StoryDetector | PetrovicDetector, texts: list[str], start: float = 0.0, batch: int = 4
) -> list[Assignment]:
    out: list[Assignment] = []
    for lo in range(0, len(texts), batch):
        part = [normalise(text) for text in texts[lo : lo + batch]]
        uids = [f"p{lo + i}" for i in range(len(part))]
        times = [start + 60.0 * (lo + i) for i in range(len(part))]
        out.extend(detector.add(uids, part, times, [None] * len(part)))
    return out


def test_words_drop_mentions_keep_hashtags_as_words() -> None:
    vectoriser = Vectoriser()
    assert vectoriser.features("#wildfire") == vectoriser.features("wildfire")
    assert vectoriser.features("@kelso_news") == {}
    assert vectoriser.features("the a of 123") == {}


def test_sparse_scores_match_dense_product() -> None:
    rng = np.random.default_rng(1)
    cols = rng.integers(0, 50, size=(5, 4))
    vals = rng.random((5, 4)).astype(np.float32)
    dense = np.zeros((5, 50))
    np.add.at(dense, (np.repeat(np.arange(5), 4), cols.ravel()), vals.ravel())
    index_rows = np.array([0, 0, 1, 2, 2], dtype=np.int64)
    index_cols = np.array([3, 7, 7, 10, 49], dtype=np.int64)
    index_vals = np.array([0.5, 1.0, 2.0, 0.25, 1.5], dtype=np.float32)
    other = np.zeros((3, 50))
    other[index_rows, index_cols] = index_vals
    got = sparse_scores(cols, vals, index_cols, index_rows, index_vals, 3)
    assert np.allclose(got, dense @ other.T, atol=1e-5)


def test_planted_story_is_one_story_and_first_post_is_new() -> None:
    detector = StoryDetector()
    assignments = feed(detector, FIRE)
    assert len({detector.resolve(a.story) for a in assignments}) == 1
    assert assignments[0].new
    assert not any(a.new for a in assignments[1:])
    assert assignments[0].novelty == 1.0


def test_two_unrelated_events_never_merge_and_second_is_flagged_new() -> None:
    detector = StoryDetector()
    mixed = [text for pair in zip(FIRE, QUAKE, strict=True) for text in pair]
    assignments = feed(detector, FIRE[:2] + mixed)
    stories = [detector.resolve(a.story) for a in assignments]
    fire_stories = {stories[i] for i, text in enumerate(FIRE[:2] + mixed) if text in FIRE}
    quake_stories = {stories[i] for i, text in enumerate(FIRE[:2] + mixed) if text in QUAKE}
    assert not fire_stories & quake_stories
    first_quake = (FIRE[:2] + mixed).index(QUAKE[0])
    assert assignments[first_quake].new


def test_petrovic_links_near_copies_and_flags_new() -> None:
    detector = PetrovicDetector(seed=3)
    texts = [FIRE[0], FIRE[0] + " now", QUAKE[0], QUAKE[0] + " today"]
    assignments = feed(detector, texts, batch=2)
    assert [a.new for a in assignments] == [True, False, True, False]
    assert assignments[0].story == assignments[1].story != assignments[2].story == assignments[3].story


def test_snapshot_round_trip_gives_identical_assignments() -> None:
    first = StoryDetector()
    feed(first, FIRE[:3] + QUAKE[:3])
    copy = StoryDetector.loads(first.dumps())
    rest = FIRE[3:] + QUAKE[3:] + ["a wholly different story about a stadium concert tonight"]
    assert feed(first, rest, start=10_000.0) == feed(copy, rest, start=10_000.0)
    assert first.dumps() == copy.dumps()


def test_same_input_same_output() -> None:
    texts = FIRE + QUAKE
    assert feed(StoryDetector(), texts) == feed(StoryDetector(), texts)


def test_active_set_stays_bounded_and_old_stories_age_out() -> None:
    settings = StorySettings(max_active=50, singleton_ttl_seconds=600.0, ttl_seconds=3600.0)
    detector = StoryDetector(settings)
    rng = np.random.default_rng(0)
    words = [f"w{i}x" for i in range(5000)]
    for step in range(40):
        texts = [" ".join(rng.choice(words, size=6)) for _ in range(50)]
        times = [step * 100.0 + i for i in range(50)]
        detector.add([f"{step}-{i}" for i in range(50)], texts, times)
        assert detector.active_count <= 50
    detector.add(["late"], ["kelso wildfire evacuation"], [step * 100.0 + 10 * 3600.0])
    assert detector.active_count == 1


HARVEY = "hurricane harvey houston flooding victims shelter"
IRMA = "hurricane irma florida flooding victims shelter"


def _two_grown_stories(settings: StorySettings) -> set[int]:
    detector = StoryDetector(settings)
    feed(detector, [HARVEY] * 4)
    feed(detector, [IRMA] * 4, start=1000.0)
    return {detector.resolve(story) for story in list(detector.active) + list(detector.aliases)}


def test_two_grown_stories_sharing_generic_words_stay_apart() -> None:
    loose = StorySettings(threshold=0.95, merge_threshold=0.3, big_size=0)
    assert len(_two_grown_stories(loose)) == 1  # without the rule for big stories they would merge
    guarded = StorySettings(threshold=0.95, merge_threshold=0.3, big_size=3, big_merge_threshold=0.9)
    assert len(_two_grown_stories(guarded)) == 2
    small = StorySettings(threshold=0.95, merge_threshold=0.3, big_size=5, big_merge_threshold=0.9)
    assert len(_two_grown_stories(small)) == 1  # fragments smaller than big_size still merge


def test_default_settings_guard_big_merges() -> None:
    settings = StorySettings()
    assert 0 < settings.merge_threshold < settings.big_merge_threshold
    assert settings.big_size > 0
    restored = StoryDetector.loads(StoryDetector(settings).dumps())
    assert restored.settings == settings
