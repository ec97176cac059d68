"""Place mentions and post placement, on invented example texts (no dataset text)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from groundspeed.cli_geo import geo_eval_command
from groundspeed.errors import InputError
from groundspeed.evaluation.geo import evaluate_idrisi, evaluate_parstwiner, read_conll_locations
from groundspeed.model import Author, Geo, Post, Provenance
from groundspeed.understand.gazetteer import fold_aligned, name_keys
from groundspeed.understand.geo import Geocoder, PlaceMention

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "geo"


@pytest.fixture(scope="module")
def geocoder() -> Geocoder:
    return Geocoder.load()


def spans(mentions: list[PlaceMention]) -> list[tuple[str, str]]:
    return [(m.text, m.name) for m in mentions]


def only(mentions: list[PlaceMention], text: str) -> PlaceMention:
    found = [m for m in mentions if m.text == text]
    assert len(found) == 1, mentions
    return found[0]


def test_english_mentions_with_offsets(geocoder: Geocoder) -> None:
    text = "Shelters are open in Houston, Texas; more rain expected near Galveston"
    found = geocoder.mentions(text, "en")
    assert [text[m.start : m.end] for m in found] == ["Houston", "Texas", "Galveston"]
    texas = only(found, "Texas")
    assert (texas.kind, texas.country_code) == ("state", "US")
    assert all(0.0 <= m.confidence <= 1.0 for m in found)


def test_persian_mentions_and_landmark(geocoder: Geocoder) -> None:
    text = "امشب در میدان آزادی تهران و خیابان‌های اصفهان تجمع بود"
    found = geocoder.mentions(text, "fa")
    assert [text[m.start : m.end] for m in found] == ["میدان آزادی", "تهران", "اصفهان"]
    assert only(found, "میدان آزادی").kind == "landmark"
    tehran = only(found, "تهران")
    assert tehran.name == "Tehran" and tehran.country_code == "IR"


def test_freedom_is_not_a_square(geocoder: Geocoder) -> None:
    # آزادی alone is the word "freedom"; only "Azadi Square" is a place.
    assert geocoder.mentions("زن زندگی آزادی، برای آزادی", "fa") == []


def test_arabic_mentions_with_attached_letters(geocoder: Geocoder) -> None:
    text = "أمطار غزيرة في الكويت وسيول بالأردن"
    found = geocoder.mentions(text, "ar")
    assert [text[m.start : m.end] for m in found] == ["الكويت", "الأردن"]
    assert [m.country_code for m in found] == ["KW", "JO"]


def test_arabic_diacritics_and_punctuation_keep_offsets(geocoder: Geocoder) -> None:
    text = "أمطار غزيرة في الكُوَيْت اليوم"
    found = geocoder.mentions(text, "ar")
    assert [(text[m.start : m.end], m.name) for m in found] == [("الكُوَيْت", "Kuwait")]
    # Runs of punctuation and emoji before the name (each is one space when matching).
    text = "!!! عاجل... أمطار في #الكويت 🌧️🌧️ الآن"
    found = geocoder.mentions(text, "ar")
    assert [text[m.start : m.end] for m in found] == ["الكويت"]


def test_name_inside_a_topic_hashtag_is_not_a_mention(geocoder: Geocoder) -> None:
    assert geocoder.mentions("#امطار_الكويت #سيول_الكويت", "ar") == []


def test_persian_preposition_and_arabic_names(geocoder: Geocoder) -> None:
    found = geocoder.mentions("انفجار در بغداد", "fa")
    assert [(m.text, m.name, m.country_code) for m in found] == [("بغداد", "Baghdad", "IQ")]


def test_finglish_and_hashtags(geocoder: Geocoder) -> None:
    text = "Protests tonight in Mashhad and Esfahan #PuertoRico"
    found = geocoder.mentions(text, None)
    assert spans(found) == [("Mashhad", "Mashhad"), ("Esfahan", "Isfahan"), ("PuertoRico", "Puerto Rico")]


def test_informal_finglish_and_lists(geocoder: Geocoder) -> None:
    found = geocoder.mentions("Zahedan, Sanandaj and Tehroon tonight", None)
    assert [(m.text, m.name) for m in found] == [
        ("Zahedan", "Zahedan"),
        ("Sanandaj", "Sanandaj"),
        ("Tehroon", "Tehran"),
    ]
    assert {m.country_code for m in found} == {"IR"}


def test_common_word_needs_context(geocoder: Geocoder) -> None:
    assert geocoder.mentions("Reading the news about the flood, stay safe", "en") == []
    assert geocoder.mentions("my mobile battery is dying", "en") == []
    assert [m.name for m in geocoder.mentions("Evacuations ordered in Reading tonight", "en")] == ["Reading"]


def test_storm_names_are_not_places(geocoder: Geocoder) -> None:
    found = geocoder.mentions("Hurricane Harvey makes landfall in Texas", "en")
    assert [m.text for m in found] == ["Texas"]


def test_abbreviations_only_in_capitals(geocoder: Geocoder) -> None:
    assert [m.name for m in geocoder.mentions("Aid arrives from the US and UK", "en")] == [
        "United States",
        "United Kingdom",
    ]
    assert geocoder.mentions("let us know, uk?", "en") == []


def test_resolution_prefers_the_famous_and_the_consistent(geocoder: Geocoder) -> None:
    paris = only(geocoder.mentions("Vigil tonight in Paris", "en"), "Paris")
    assert paris.country_code == "FR"
    texan = only(geocoder.mentions("Flooding in Paris, Texas this morning", "en"), "Paris")
    assert texan.country_code == "US"
    tehran = only(geocoder.mentions("Blackout in Tehran", "en"), "Tehran")
    assert (tehran.kind, tehran.country_code) == ("city", "IR")
    hinted = only(geocoder.mentions("Power is back in Paris", "en", country_hint="US"), "Paris")
    assert hinted.country_code == "US"


def test_mentions_many_matches_mentions(geocoder: Geocoder) -> None:
    texts = ["Flooding in Quito", "زلزله در کرمانشاه", "", "nothing here"]
    langs: list[str | None] = ["en", "fa", None, None]
    assert geocoder.mentions_many(texts, langs) == [
        geocoder.mentions(t, lang) for t, lang in zip(texts, langs, strict=True)
    ]


def test_fold_aligned_keeps_offsets() -> None:
    folded, positions = fold_aligned("#Puerto_Rico")
    assert folded == "#puerto rico" and positions is None
    folded, positions = fold_aligned("تِهران")
    assert folded == "تهران" and positions == [0, 2, 3, 4, 5, 6]
    assert "puertorico" in name_keys("Puerto Rico")


def _post(**fields: object) -> Post:
    base: dict[str, object] = {
        "uid": "x:1",
        "platform": "x",
        "native_id": "1",
        "kind": "original",
        "collected_at": datetime(2024, 1, 1, tzinfo=UTC),
        "provenance": Provenance(source="test", software="test"),
    }
    base.update(fields)
    return Post(**base)  # type: ignore[arg-type]


def test_place_source_order(geocoder: Geocoder) -> None:
    text = "Flooding in Shiraz"
    mentions = geocoder.mentions(text, "en")
    author = Author(location="Tabriz, Iran")
    point = Geo(precision="point", source="coordinates", lat=35.7, lon=51.4)
    place = Geo(precision="place", source="place", place_name="Mashhad", bbox=(59.4, 36.2, 59.8, 36.4))
    named = Geo(precision="text", source="place", place_name="Isfahan")

    placed = geocoder.place(_post(text=text, geo=point, author=author), mentions)
    assert placed is not None and (placed.source, placed.precision) == ("geotag", "point")
    placed = geocoder.place(_post(text=text, geo=place, author=author), mentions)
    assert placed is not None and placed.source == "place" and abs(placed.lat - 36.3) < 0.01
    placed = geocoder.place(_post(text=text, geo=named, author=author), mentions)
    assert placed is not None and (placed.source, placed.name) == ("place", "Isfahan")
    placed = geocoder.place(_post(text=text, author=author), mentions)
    assert placed is not None and (placed.source, placed.name, placed.precision) == ("text", "Shiraz", "city")
    placed = geocoder.place(_post(text="no place here", author=author), [])
    assert placed is not None and (placed.source, placed.name) == ("profile", "Tabriz")
    assert geocoder.place(_post(text="no place here"), []) is None
    confidences = [
        geocoder.place(_post(text=text, geo=point), mentions),
        geocoder.place(_post(text=text), mentions),
        geocoder.place(_post(text="", author=author), []),
    ]
    values = [c.confidence for c in confidences if c is not None]
    assert values == sorted(values, reverse=True) and len(values) == 3


def test_evaluate_idrisi_fixture() -> None:
    report = evaluate_idrisi(FIXTURES / "idrisi")
    assert report["n"] == 6
    assert report["mention_f1_en"] == 1.0 and report["mention_f1_ar"] == 1.0
    assert report["geocoded_mentions"] == 5
    assert 0.0 <= report["acc_161km"] <= 1.0
    assert set(report["per_event"]) == {"AR:rain_z", "EN:quake_y", "EN:storm_x"}
    assert evaluate_idrisi(FIXTURES / "idrisi", split="train")["n"] == 1


def test_evaluate_idrisi_names_the_bad_file(tmp_path: Path) -> None:
    (tmp_path / "mentions_gold.csv").write_text("lang,event,text\nEN,x,hello\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"mentions_gold\.csv: missing column"):
        evaluate_idrisi(tmp_path)


def test_evaluate_parstwiner_fixture() -> None:
    sentences = read_conll_locations(FIXTURES / "parstwiner.txt")
    assert sentences[1] == ("سفر به ایالات متحده و کانادا", {(7, 19), (22, 28)})
    report = evaluate_parstwiner(FIXTURES / "parstwiner.txt")
    assert report["n"] == 4 and report["gold_mentions"] == 5
    assert report["mention_f1"] == 1.0


def test_cli_prints_one_json_object() -> None:
    group = click.Group("eval")
    group.add_command(geo_eval_command)
    runner = CliRunner()
    result = runner.invoke(group, ["geo", "--dataset", "parstwiner", str(FIXTURES / "parstwiner.txt")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dataset"] == "parstwiner" and "mention_f1" in report
    result = runner.invoke(group, ["geo", "--dataset", "idrisi", str(FIXTURES / "idrisi")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["mention_f1_en"] == 1.0
    result = runner.invoke(group, ["geo", "--dataset", "idrisi", str(FIXTURES / "parstwiner.txt")])
    assert result.exit_code != 0
