"""The trackers file: reading, checking with clear messages, and writing it back unchanged."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundspeed.text import normalise
from groundspeed.track.places import default_gazetteer
from groundspeed.track.rules import Matcher, RuleError, RuleSet, Tracker, compile_tracker
from groundspeed.track.trackers import (
    TrackerFileError,
    dump_trackers,
    example_trackers_text,
    load_trackers,
    parse_trackers,
    save_trackers,
    save_trackers_text,
    toml_string,
    trackers_path,
)

IRAN = """
[trackers."Iran election 2009"]
hashtags = ["IranElection"]
keywords = ["mousavi|موسوی"]
"""


def test_the_example_file_is_valid_and_finds_posts() -> None:
    trackers = parse_trackers(example_trackers_text())
    assert [tracker.name for tracker in trackers] == ["Iran election 2009"]
    example = trackers[0]
    assert example.include.languages == ("fa", "en")
    assert example.include.bboxes == ((44.0, 25.0, 63.3, 39.8),)
    matcher = Matcher(trackers)
    found = matcher.match_fields(normalise("حامیان موسوی در تهران"), lang="fa")
    assert found[0].rules == ("keyword:mousavi|moosavi|musavi|موسوی", "keyword:تهران*", "lang:fa")
    assert matcher.match_fields(normalise("موسوی و فوتبال"), lang="fa") == []  # excluded


def test_many_trackers_in_one_file_keep_their_order() -> None:
    text = IRAN + '\n[trackers.kabul]\nplaces = ["Kabul"]\n\n[trackers."Zan, Zendegi"]\nlanguages = ["fa"]\n'
    assert [tracker.name for tracker in parse_trackers(text)] == ["Iran election 2009", "kabul", "Zan, Zendegi"]


def test_dump_and_parse_round_trip() -> None:
    trackers = parse_trackers(example_trackers_text())
    changed = Tracker(
        'a "quoted" \\ name',
        description="line one\nline two\ttab",
        include=RuleSet(keywords=("x",), bboxes=((-0.5, -1e-07, 1.25, 2.0),)),
        exclude=RuleSet(languages=("ar",), places=("Tabriz",)),
        unknown_language=False,
    )
    text = dump_trackers([*trackers, changed])
    assert parse_trackers(text) == [*trackers, changed]


def test_a_missing_file_holds_no_trackers(tmp_path: Path) -> None:
    assert load_trackers(tmp_path / "trackers.toml") == []
    assert trackers_path(tmp_path) == tmp_path / "trackers.toml"


def test_hand_editing_slips_are_forgiven() -> None:
    text = '[trackers.t]\nkeywords = "tehran"\nbboxes = [44.0, 25.0, 63.3, 39.8]\n'
    (only,) = parse_trackers(text)
    assert only.include.keywords == ("tehran",)
    assert only.include.bboxes == ((44.0, 25.0, 63.3, 39.8),)
    (boxed,) = parse_trackers('[trackers.t]\nbboxes = ["44,25,63.3,39.8"]\n')
    assert boxed.include.bboxes == ((44.0, 25.0, 63.3, 39.8),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[trackers.t]\nkeyword = ['x']\n", "tracker 't': unknown key 'keyword'; did you mean 'keywords'?"),
        ("[trackers.t]\nkeywords = ['x']\n[trackers.t.exclude]\ndescription = 'x'\n", "exclude: unknown key"),
        ("[settings]\nx = 1\n", "unknown setting 'settings' at the top"),
        ("[trackers.t]\nkeywords = ['x']\nbboxes = [[44, 25, 63]]\n", "tracker 't': bbox [44, 25, 63]: give four"),
        ("[trackers.t]\nbboxes = [[44, 25, 'east', 39]]\n", "must be numbers"),
        ("[trackers.t]\ndescription = 'nothing else'\n", "tracker 't': has no rules"),
        ("[trackers.t]\nkeywords = [1, 2]\n", "keywords must be a list of texts"),
        ("[trackers.t]\nkeywords = ['x']\nunknown_language = 'yes'\n", "true or false"),
        ("[trackers.t]\nplaces = ['Atlantis']\n", "place 'Atlantis' is not in the list"),
        ("[trackers.t]\nkeywords = ['x'\n", "not valid TOML"),
        ("trackers = 3\n", "must be tables"),
        ("[trackers]\nt = 'x'\n", "write it as a table"),
    ],
)
def test_problems_name_the_file_the_tracker_and_the_rule(text: str, message: str) -> None:
    with pytest.raises(TrackerFileError) as error:
        parse_trackers(text, source="data/trackers.toml")
    assert str(error.value).startswith("data/trackers.toml: ")
    assert message in str(error.value)


def test_invalid_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "trackers.toml"
    path.write_text('[trackers.t]\nkeywords = ["x"]\nhashtags = ["a" "b"]\n', encoding="utf-8")
    with pytest.raises(TrackerFileError, match=r"trackers.toml: not valid TOML: .*line"):
        load_trackers(path)


def test_save_replaces_the_file_and_keeps_the_previous_one(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "trackers.toml"
    first = parse_trackers(IRAN)
    save_trackers(path, first)
    assert load_trackers(path) == first
    assert not path.with_name("trackers.toml.bak").exists()
    save_trackers(path, [])
    assert load_trackers(path) == []
    assert load_trackers(path.with_name("trackers.toml.bak")) == first
    assert stat.S_IMODE(path.stat().st_mode) != 0o600  # not a private temporary file
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_saving_text_keeps_comments_and_refuses_invalid_text(tmp_path: Path) -> None:
    path = tmp_path / "trackers.toml"
    text = "# my notes\n" + IRAN
    assert [t.name for t in save_trackers_text(path, text)] == ["Iran election 2009"]
    assert path.read_text(encoding="utf-8") == text
    with pytest.raises(TrackerFileError, match="has no rules"):
        save_trackers_text(path, "[trackers.empty]\n")
    assert path.read_text(encoding="utf-8") == text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_survives_toml_quoting(text: str) -> None:
    assert tomllib.loads(f"value = {toml_string(text)}")["value"] == text


names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).map(str.strip).filter(bool)
words = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Lo", "Nd")), min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(
    name=names,
    description=st.text(max_size=60),
    keywords=st.lists(words, min_size=1, max_size=4),
    phrases=st.lists(st.tuples(words, words).map(" ".join), max_size=2),
    unknown=st.booleans(),
)
def test_trackers_round_trip_through_the_file(
    name: str, description: str, keywords: list[str], phrases: list[str], unknown: bool
) -> None:
    candidate = Tracker(
        name,
        description=description,
        include=RuleSet(keywords=tuple(keywords), phrases=tuple(phrases), languages=("fa",)),
        unknown_language=unknown,
    )
    try:
        compile_tracker(candidate)
    except RuleError:
        return  # e.g. a word that normalises to nothing; the file layer is what is tested here
    assert parse_trackers(dump_trackers([candidate])) == [candidate]


def test_bundled_places_are_small_and_cover_the_example() -> None:
    data = Path(__file__).resolve().parents[2] / "src" / "groundspeed" / "track" / "data" / "places.json"
    assert data.stat().st_size < 300_000
    gazetteer = default_gazetteer()
    tehran = gazetteer.find("Tehran")
    assert tehran is not None and tehran.slug == "tehran" and tehran.contains(35.69, 51.39)
    province = gazetteer.find("استان تهران")
    assert province is not None and province.kind == "province"
    assert gazetteer.find("iran") is not None and gazetteer.find("Kyiv") is not None
    assert all(parent in {p.slug for p in gazetteer} for place in gazetteer for parent in place.parents)
