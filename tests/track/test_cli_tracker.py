"""``groundspeed tracker``, driven through click's CliRunner: data on stdout, messages on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from groundspeed.cli_tracker import _FIELDS, tracker_group
from groundspeed.track.rules import RULE_KINDS
from groundspeed.track.trackers import load_trackers

NAME = "Iran election 2009"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run(data: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(tracker_group, ["--data", str(data), *args], input=input)


def trackers_file(data: Path) -> Path:
    return data / "trackers.toml"


def add_iran(data: Path) -> None:
    result = run(
        data,
        "add",
        NAME,
        "--hashtag",
        "IranElection",
        "--keyword",
        "mousavi|moosavi|موسوی",
        "--phrase",
        "green movement",
        "--account",
        "@persiankiwi",
        "--place",
        "Tehran",
        "--bbox",
        "44.0,25.0,63.3,39.8",
        "--lang",
        "fa",
        "--lang",
        "en",
        "--exclude",
        "football",
        "--exclude",
        "lang:ar",
        "--description",
        "The 2009 protests",
    )
    assert result.exit_code == 0, result.output


def test_every_kind_of_rule_has_an_option() -> None:
    assert set(_FIELDS) - {"lang"} == set(RULE_KINDS)


def test_list_with_no_trackers_says_how_to_start(data: Path) -> None:
    result = run(data, "list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No trackers yet" in result.stderr


def test_add_writes_the_tracker_and_list_shows_it(data: Path) -> None:
    add_iran(data)
    (tracker,) = load_trackers(trackers_file(data))
    assert tracker.name == NAME
    assert tracker.include.keywords == ("mousavi|moosavi|موسوی",)
    assert tracker.include.bboxes == ((44.0, 25.0, 63.3, 39.8),)
    assert tracker.exclude.keywords == ("football",) and tracker.exclude.languages == ("ar",)
    listing = run(data, "list")
    assert listing.stdout.startswith(f"{NAME}     6 rules  fa,en  The 2009 protests")
    assert listing.stderr == ""


def test_show_lists_the_rule_ids_posts_will_carry(data: Path) -> None:
    add_iran(data)
    shown = run(data, "show", "iran ELECTION 2009")  # the name, in any case
    assert shown.exit_code == 0, shown.output
    for rule_id in ("hashtag:iranelection", "keyword:mousavi|moosavi|موسوی", "account:persiankiwi", "place:tehran"):
        assert rule_id in shown.stdout
    assert "Tehran (تهران), city" in shown.stdout
    assert "lang:ar" in shown.stdout and "keyword:football" in shown.stdout
    as_json = json.loads(run(data, "show", NAME, "--json").stdout)
    assert as_json["rules"][:2] == ["hashtag:iranelection", "keyword:mousavi|moosavi|موسوی"]
    assert as_json["languages"] == ["lang:fa", "lang:en"]
    assert as_json["exclude"] == ["keyword:football", "lang:ar"]
    assert len(as_json["fingerprint"]) == 16
    assert run(data, "show", NAME, "--toml").stdout.startswith(f'[trackers."{NAME}"]\n')


def test_list_json_is_data_for_other_programs(data: Path) -> None:
    add_iran(data)
    (listed,) = json.loads(run(data, "list", "--json").stdout)
    assert listed["name"] == NAME


def test_add_refuses_duplicates_and_bad_rules_without_touching_the_file(data: Path) -> None:
    add_iran(data)
    before = trackers_file(data).read_text(encoding="utf-8")
    duplicate = run(data, "add", "iran election 2009", "--keyword", "x")
    assert duplicate.exit_code == 1
    assert "already a tracker called" in duplicate.stderr
    bad_box = run(data, "add", "Box", "--bbox", "44,25,63")
    assert bad_box.exit_code == 1
    assert "four numbers" in bad_box.stderr
    unknown_place = run(data, "add", "Place", "--place", "Tehrn")
    assert unknown_place.exit_code == 1
    assert "did you mean 'tehran'" in unknown_place.stderr
    empty = run(data, "add", "Nothing")
    assert empty.exit_code == 1 and "has no rules" in empty.stderr
    assert trackers_file(data).read_text(encoding="utf-8") == before


def test_edit_with_options_adds_and_removes_rules(data: Path) -> None:
    add_iran(data)
    result = run(
        data,
        "edit",
        NAME,
        "--add-keyword",
        "تهران*",
        "--keyword",
        "karroubi",
        "--remove-hashtag",
        "#IRANELECTION",
        "--remove-keyword",
        "MOUSAVI|moosavi|موسوی",
        "--remove-lang",
        "en",
        "--exclude",
        "@spam_bot",
        "--remove-exclude",
        "lang:ar",
        "--skip-unknown-language",
        "--rename",
        "Iran 2009",
    )
    assert result.exit_code == 0, result.output
    (tracker,) = load_trackers(trackers_file(data))
    assert tracker.name == "Iran 2009"
    assert tracker.include.hashtags == ()
    assert tracker.include.keywords == ("تهران*", "karroubi")
    assert tracker.include.languages == ("fa",)
    assert tracker.exclude.accounts == ("@spam_bot",) and tracker.exclude.languages == ()
    assert tracker.unknown_language is False
    assert tracker.description == "The 2009 protests"


def test_edit_refuses_to_remove_what_is_not_there(data: Path) -> None:
    add_iran(data)
    before = trackers_file(data).read_text(encoding="utf-8")
    result = run(data, "edit", NAME, "--remove-keyword", "ahmadinejad")
    assert result.exit_code == 1
    assert "has no keyword 'ahmadinejad'" in result.stderr
    assert trackers_file(data).read_text(encoding="utf-8") == before


def test_edit_names_an_unknown_tracker(data: Path) -> None:
    add_iran(data)
    result = run(data, "edit", "Iran electon 2009", "--keyword", "x")
    assert result.exit_code == 1
    assert "no tracker called 'Iran electon 2009'. Did you mean 'Iran election 2009'?" in result.stderr


def test_edit_in_the_editor_saves_valid_text(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_iran(data)
    seen: list[str] = []

    def editor(text: str, **_: object) -> str:
        seen.append(text)
        return text.replace('"fa", "en"', '"fa"') + "\n# my note\n"

    monkeypatch.setattr(click, "edit", editor)
    result = run(data, "edit")
    assert result.exit_code == 0, result.output
    assert NAME in seen[0]
    assert "Saved 1 tracker in" in result.stderr
    assert trackers_file(data).read_text(encoding="utf-8").endswith("# my note\n")  # comments kept
    assert load_trackers(trackers_file(data))[0].include.languages == ("fa",)


def test_edit_in_the_editor_offers_to_fix_mistakes(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_iran(data)
    before = trackers_file(data).read_text(encoding="utf-8")
    versions = iter(
        [before + "\n[trackers.broken]\nkeyword = ['x']\n", before + "\n[trackers.fixed]\nkeywords = ['x']\n"]
    )
    shown: list[str] = []

    def editor(text: str, **_: object) -> str:
        shown.append(text)
        return next(versions)

    monkeypatch.setattr(click, "edit", editor)
    result = run(data, "edit", input="y\n")
    assert result.exit_code == 0, result.output
    assert "did you mean 'keywords'?" in result.stderr
    assert "[trackers.broken]" in shown[1]  # the second round starts from what was typed
    assert [t.name for t in load_trackers(trackers_file(data))] == [NAME, "fixed"]


def test_edit_in_the_editor_can_give_up_without_saving(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_iran(data)
    before = trackers_file(data).read_text(encoding="utf-8")
    monkeypatch.setattr(click, "edit", lambda text, **_: text + "\n[trackers.empty]\n")
    result = run(data, "edit", input="n\n")
    assert result.exit_code == 1
    assert "nothing was saved" in result.stderr
    assert trackers_file(data).read_text(encoding="utf-8") == before
    monkeypatch.setattr(click, "edit", lambda text, **_: None)
    unchanged = run(data, "edit")
    assert unchanged.exit_code == 0 and "No changes" in unchanged.stderr


def test_edit_starts_a_new_file_with_explanations(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(click, "edit", lambda text, **_: text + '\n[trackers.kabul]\nplaces = ["Kabul"]\n')
    result = run(data, "edit")
    assert result.exit_code == 0, result.output
    text = trackers_file(data).read_text(encoding="utf-8")
    assert text.startswith("# Trackers for groundspeed")
    assert [t.include.places for t in load_trackers(trackers_file(data))] == [("Kabul",)]


def test_remove_asks_first(data: Path) -> None:
    add_iran(data)
    declined = run(data, "remove", NAME, input="n\n")
    assert declined.exit_code == 1
    assert len(load_trackers(trackers_file(data))) == 1
    accepted = run(data, "remove", NAME, input="y\n")
    assert accepted.exit_code == 0
    assert load_trackers(trackers_file(data)) == []
    assert len(load_trackers(data / "trackers.toml.bak")) == 1


def test_remove_with_yes(data: Path) -> None:
    add_iran(data)
    assert run(data, "remove", NAME, "--yes").exit_code == 0
    assert load_trackers(trackers_file(data)) == []


def test_add_example_copies_the_commented_example(data: Path) -> None:
    result = run(data, "add", "--example")
    assert result.exit_code == 0, result.output
    assert "# Hashtags match whole tags" in trackers_file(data).read_text(encoding="utf-8")
    again = run(data, "add", "--example")
    assert "already there" in again.stderr


def test_a_broken_file_is_reported_with_a_way_out(data: Path) -> None:
    data.mkdir()
    trackers_file(data).write_text("[trackers.t]\nhashtag = ['x']\n", encoding="utf-8")
    result = run(data, "list")
    assert result.exit_code == 1
    assert "unknown key 'hashtag'; did you mean 'hashtags'?" in result.stderr
    assert "groundspeed tracker edit" in result.stderr


def test_places_helps_find_a_name(data: Path) -> None:
    result = run(data, "places", "saqq")
    assert result.exit_code == 0
    assert result.stdout.startswith("saqqez\tSaqqez (سقز), city in kurdistan-province, iran")
    nothing = run(data, "places", "atlantis")
    assert nothing.stdout == "" and "No place matches" in nothing.stderr


def test_the_data_folder_comes_from_the_main_command(data: Path) -> None:
    """Registered under ``groundspeed``, the group reads the folder the main ``--data`` chose."""
    result = CliRunner().invoke(tracker_group, ["add", "t", "--keyword", "x"], obj={"data": data})
    assert result.exit_code == 0, result.output
    assert [t.name for t in load_trackers(trackers_file(data))] == ["t"]


def test_the_data_folder_defaults_to_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDSPEED_DATA", str(tmp_path / "env-data"))
    result = CliRunner().invoke(tracker_group, ["add", "t", "--keyword", "x"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env-data" / "trackers.toml").exists()


def test_help_is_written_for_people() -> None:
    result = CliRunner().invoke(tracker_group, ["--help"])
    assert "Follow a crisis" in result.stdout
    for command in ("add", "edit", "list", "remove", "show"):
        assert command in result.stdout
    edit_help = CliRunner().invoke(tracker_group, ["edit", "--help"]).stdout
    assert "--add-keyword" in edit_help and "--remove-keyword" in edit_help and "--exclude" in edit_help
