"""Tracker rules: what each kind of rule matches, the filters and exclusions, and the matcher's
entry points agreeing with one another and with a plain regular-expression reference."""

from __future__ import annotations

import pickle
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundspeed.model import Author, Geo, Post, Provenance
from groundspeed.text import normalise
from groundspeed.track.rules import (
    Matcher,
    PostFields,
    RuleError,
    RuleSet,
    Tracker,
    TrackerMatch,
    compile_tracker,
    language_key,
    post_fields,
    text_rule,
)

NOW = datetime(2009, 6, 13, tzinfo=UTC)


def make_post(
    text: str = "",
    *,
    hashtags: tuple[str, ...] = (),
    handle: str | None = None,
    author_id: str | None = None,
    lang: str | None = None,
    geo: Geo | None = None,
    location: str | None = None,
    uid: str = "x:1",
) -> Post:
    return Post(
        uid=uid,
        platform="x",
        native_id=uid.partition(":")[2],
        kind="original",
        collected_at=NOW,
        provenance=Provenance(source="test", software="test"),
        text=normalise(text),
        lang=lang,
        author=Author(id=author_id, handle=handle, location=location),
        hashtags=hashtags,
        geo=geo,
    )


def tracker(
    name: str = "t", *, unknown_language: bool = True, exclude: RuleSet | None = None, **rules: object
) -> Tracker:
    return Tracker(name, include=RuleSet(**rules), exclude=exclude or RuleSet(), unknown_language=unknown_language)  # type: ignore[arg-type]


def rules_of(matcher: Matcher, text: str = "", **fields: object) -> tuple[str, ...] | None:
    """The rule ids of the only tracker's match, or None when the post is not in it."""
    matches = matcher.match(make_post(text, **fields))  # type: ignore[arg-type]
    assert len(matches) <= 1
    return matches[0].rules if matches else None


# -- words and phrases ---------------------------------------------------------------------------


def test_keywords_match_whole_words_in_every_script() -> None:
    matcher = Matcher([tracker(keywords=("ایران", "Tehran", "بغداد"))])
    assert rules_of(matcher, "خبر فوری از ایران، امشب") == ("keyword:ایران",)
    assert rules_of(matcher, "مردم ایرانی") is None  # Iranian, not Iran
    assert rules_of(matcher, "ایرانها") is None
    assert rules_of(matcher, "TEHRAN tonight") == ("keyword:tehran",)
    assert rules_of(matcher, "tehrani food") is None
    assert rules_of(matcher, "(بغداد)") == ("keyword:بغداد",)


def test_star_matches_word_beginnings_and_endings() -> None:
    matcher = Matcher([tracker(keywords=("تهران*", "*آباد"))])
    assert rules_of(matcher, "بچه‌های تهرانی") == ("keyword:تهران*",)
    assert rules_of(matcher, "تهران") == ("keyword:تهران*",)
    assert rules_of(matcher, "خرم‌آباد") == ("keyword:*آباد",)  # ZWNJ removed: خرمآباد
    assert rules_of(matcher, "آبادان") is None  # starts with آباد but the rule wants words ending in it


def test_letter_variants_and_half_spaces_are_folded() -> None:
    matcher = Matcher([tracker(keywords=("كيهان",), phrases=("احمدی‌نژاد",))])
    assert rules_of(matcher, "روزنامه کیهان") == ("keyword:کیهان",)  # Arabic kaf and yeh in the rule
    for spelling in ("احمدی‌نژاد", "احمدی نژاد", "احمدینژاد"):
        assert rules_of(matcher, f"سخنرانی {spelling} امروز") == ("phrase:احمدینژاد",), spelling


def test_alternative_spellings_are_one_rule() -> None:
    matcher = Matcher([tracker(keywords=("Mousavi|moosavi|موسوی",))])
    for text in ("mousavi won", "MOOSAVI!", "حامیان موسوی"):
        assert rules_of(matcher, text) == ("keyword:mousavi|moosavi|موسوی",)
    assert rules_of(matcher, "mousavian") is None


def test_phrases_need_the_words_in_order() -> None:
    matcher = Matcher([tracker(phrases=("green movement",))])
    assert rules_of(matcher, "The Green  Movement marches") == ("phrase:green movement",)
    assert rules_of(matcher, "movement green") is None
    assert rules_of(matcher, "green movements") is None


def test_underscores_count_as_spaces_so_words_match_inside_hashtags() -> None:
    matcher = Matcher([tracker(keywords=("آزادی",), phrases=("زن زندگی آزادی",))])
    assert rules_of(matcher, "#زن_زندگی_آزادی") == ("keyword:آزادی", "phrase:زن زندگی آزادی")


def test_keywords_also_match_hashtags_and_mentions_in_the_text() -> None:
    matcher = Matcher([tracker(keywords=("mousavi",))])
    assert rules_of(matcher, "#Mousavi") == ("keyword:mousavi",)
    assert rules_of(matcher, "RT @mousavi: hello") == ("keyword:mousavi",)


# -- hashtags ------------------------------------------------------------------------------------


def test_hashtags_match_whole_tags_in_any_case() -> None:
    matcher = Matcher([tracker(hashtags=("#IranElection",))])
    assert rules_of(matcher, "vote #iranelection now") == ("hashtag:iranelection",)
    assert rules_of(matcher, "#IRANELECTION") == ("hashtag:iranelection",)
    assert rules_of(matcher, "#iranelection2009") is None
    assert rules_of(matcher, "iranelection without a hash") is None


def test_hashtag_prefix_and_underscores() -> None:
    matcher = Matcher([tracker(hashtags=("iran*", "زن_زندگی_آزادی"))])
    assert rules_of(matcher, "#IranElection") == ("hashtag:iran*",)
    assert rules_of(matcher, "#iran_election") == ("hashtag:iran*",)
    assert rules_of(matcher, "#زن_زندگی_آزادی") == ("hashtag:زن_زندگی_آزادی",)
    assert rules_of(matcher, "#زن زندگی آزادی") is None  # spaces end a hashtag
    assert rules_of(matcher, "#زن_زندگی_آزادی_ایران") is None


def test_an_exact_hashtag_does_not_match_a_longer_tag_joined_by_underscore() -> None:
    matcher = Matcher([tracker(hashtags=("iran",))])
    assert rules_of(matcher, "#iran_election") is None
    assert rules_of(matcher, "#iran, #iran_election") == ("hashtag:iran",)


def test_hashtags_from_the_post_count_when_the_text_lost_them() -> None:
    matcher = Matcher([tracker(hashtags=("IranElection",))])
    truncated = "RT @someone: a long retweet cut short at the end #Iran…"
    assert rules_of(matcher, truncated, hashtags=("IranElection",)) == ("hashtag:iranelection",)
    assert rules_of(matcher, truncated, hashtags=("#IRANELECTION",)) == ("hashtag:iranelection",)
    assert rules_of(matcher, truncated, hashtags=("IranElections",)) is None


def test_persian_hashtags_fold_like_text() -> None:
    matcher = Matcher([tracker(hashtags=("مهسا_امینی",))])
    assert rules_of(matcher, "", hashtags=("مهسا_اميني",)) == ("hashtag:مهسا_امینی",)  # Arabic yeh


# -- accounts --------------------------------------------------------------------------------------


def test_accounts_match_the_author_by_handle_or_id() -> None:
    matcher = Matcher([tracker(accounts=("@PersianKiwi", "id:12345"))])
    assert rules_of(matcher, "hi", handle="persiankiwi") == ("account:persiankiwi",)
    assert rules_of(matcher, "hi", handle="@PERSIANKIWI") == ("account:persiankiwi",)
    assert rules_of(matcher, "hi", handle="someone", author_id="12345") == ("account:id:12345",)
    assert rules_of(matcher, "hi @persiankiwi", handle="someone") is None  # a mention is not the author


# -- languages -----------------------------------------------------------------------------------


def test_language_filter_and_unknown_languages() -> None:
    keep_unknown = Matcher([tracker(keywords=("tehran",), languages=("fa", "en"))])
    assert rules_of(keep_unknown, "tehran", lang="en") == ("keyword:tehran", "lang:en")
    assert rules_of(keep_unknown, "tehran", lang="fa-IR") == ("keyword:tehran", "lang:fa")
    assert rules_of(keep_unknown, "tehran", lang="ar") is None
    assert rules_of(keep_unknown, "tehran", lang=None) == ("keyword:tehran",)
    assert rules_of(keep_unknown, "tehran", lang="und") == ("keyword:tehran",)
    skip_unknown = Matcher([tracker(keywords=("tehran",), languages=("fa",), unknown_language=False)])
    assert rules_of(skip_unknown, "tehran", lang=None) is None
    assert rules_of(skip_unknown, "tehran", lang="fa") == ("keyword:tehran", "lang:fa")


def test_a_tracker_of_languages_alone_holds_every_post_in_them() -> None:
    matcher = Matcher([tracker(languages=("fa",))])
    assert rules_of(matcher, "هر چیزی", lang="fa") == ("lang:fa",)
    assert rules_of(matcher, "anything", lang="en") is None
    assert rules_of(matcher, "هر چیزی", lang=None) is None  # the language is what picks posts here


def test_language_key() -> None:
    assert language_key("FA_ir") == "fa"
    assert language_key("und") is None
    assert language_key("") is None


# -- places and boxes -------------------------------------------------------------------------------


def point(lat: float, lon: float, **extra: object) -> Geo:
    return Geo(precision="point", source="coordinates", lat=lat, lon=lon, **extra)  # type: ignore[arg-type]


def test_bbox_matches_coordinates_inside_it() -> None:
    matcher = Matcher([tracker(bboxes=((44.0, 25.0, 63.3, 39.8),))])
    assert rules_of(matcher, "x", geo=point(35.7, 51.4)) == ("bbox:44.0,25.0,63.3,39.8",)
    assert rules_of(matcher, "x", geo=point(48.85, 2.35)) is None
    assert rules_of(matcher, "x") is None


def test_a_box_across_the_180th_meridian() -> None:
    matcher = Matcher([tracker(bboxes=((170.0, -20.0, -170.0, -10.0),))])
    assert rules_of(matcher, "x", geo=point(-15.0, 178.0)) is not None
    assert rules_of(matcher, "x", geo=point(-15.0, -175.0)) is not None
    assert rules_of(matcher, "x", geo=point(-15.0, 0.0)) is None


def test_places_match_coordinates_in_a_city_radius() -> None:
    matcher = Matcher([tracker(places=("تهران",))])
    assert rules_of(matcher, "x", geo=point(35.70, 51.42)) == ("place:tehran",)
    assert rules_of(matcher, "x", geo=point(36.30, 59.60)) is None  # Mashhad


def test_places_match_place_text_in_persian_and_english() -> None:
    matcher = Matcher([tracker(places=("Tehran",))])
    assert rules_of(matcher, "x", location="Tehran, Iran") == ("place:tehran",)
    assert rules_of(matcher, "x", location="تهران") == ("place:tehran",)
    assert rules_of(matcher, "x", geo=Geo(precision="text", source="place", place_name="TEHRAN")) == ("place:tehran",)
    assert rules_of(matcher, "x", location="Tehranpars") is None
    assert rules_of(matcher, "x", location="Toronto") is None


def test_a_country_includes_its_major_cities_and_provinces_by_name() -> None:
    matcher = Matcher([tracker(places=("Iran",))])
    assert rules_of(matcher, "x", location="Saqqez") == ("place:iran",)
    assert rules_of(matcher, "x", location="استان کردستان") == ("place:iran",)
    assert rules_of(matcher, "x", location="نور") is None  # a small town, and the word for light
    province = Matcher([tracker(places=("Kurdistan province",))])
    assert rules_of(province, "x", location="سقز") == ("place:kurdistan-province",)
    assert rules_of(province, "x", location="Tabriz") is None


def test_coordinates_of_a_whole_region_are_not_used() -> None:
    matcher = Matcher([tracker(places=("Tehran",))])
    country = Geo(precision="place", source="place", lat=35.7, lon=51.4, bbox=(44.0, 25.0, 63.3, 39.8))
    city = Geo(precision="place", source="place", lat=35.7, lon=51.4, bbox=(51.1, 35.5, 51.6, 35.8))
    assert rules_of(matcher, "x", geo=country) is None
    assert rules_of(matcher, "x", geo=city) == ("place:tehran",)


# -- exclusions and several trackers -----------------------------------------------------------------


def test_exclusions_of_every_kind_leave_posts_out() -> None:
    exclude = RuleSet(
        keywords=("football",),
        hashtags=("spam",),
        accounts=("bot",),
        bboxes=((-10.0, 35.0, 30.0, 60.0),),
        languages=("ar",),
    )
    matcher = Matcher([tracker(keywords=("iran",), exclude=exclude)])
    assert rules_of(matcher, "iran news") == ("keyword:iran",)
    assert rules_of(matcher, "iran football") is None
    assert rules_of(matcher, "iran #spam") is None
    assert rules_of(matcher, "iran", handle="Bot") is None
    assert rules_of(matcher, "iran", geo=point(48.85, 2.35)) is None
    assert rules_of(matcher, "iran", lang="ar") is None


def test_each_tracker_gets_its_own_rules_in_tracker_order() -> None:
    first = tracker("first", keywords=("tehran", "protest"))
    second = tracker("second", hashtags=("iranelection",), keywords=("tehran",), exclude=RuleSet(keywords=("fake",)))
    third = tracker("third", keywords=("kabul",))
    matcher = Matcher([first, second, third])
    assert matcher.match(make_post("protest in tehran #IranElection")) == [
        TrackerMatch("first", ("keyword:tehran", "keyword:protest")),
        TrackerMatch("second", ("hashtag:iranelection", "keyword:tehran")),
    ]
    assert matcher.match(make_post("fake protest in tehran")) == [
        TrackerMatch("first", ("keyword:tehran", "keyword:protest"))
    ]


def test_duplicate_rules_are_recorded_once() -> None:
    matcher = Matcher([tracker(keywords=("Tehran", "tehran", "TEHRAN|tehran"))])
    assert rules_of(matcher, "tehran") == ("keyword:tehran",)


# -- entry points --------------------------------------------------------------------------------------


def test_match_fields_and_match_many_agree_with_match() -> None:
    matcher = Matcher(
        [
            tracker("a", keywords=("tehran", "تهران*"), hashtags=("iran*",), languages=("fa", "en")),
            tracker("b", accounts=("witness",), places=("Tehran",), exclude=RuleSet(keywords=("spam",))),
        ]
    )
    posts = [
        make_post(text, handle=handle, lang=lang, geo=geo, location=location, hashtags=tags, uid=f"x:{i}")
        for i, (text, handle, lang, geo, location, tags) in enumerate(
            [
                ("tehran tonight", "witness", "en", None, None, ()),
                ("تهرانیها #iranelection", None, "fa", None, "Tehran", ()),
                ("spam tehran", "witness", "ar", point(35.7, 51.4), None, ("IranNews",)),
                ("nothing here", None, None, None, None, ()),
            ]
            * 700  # more than one internal batch
        )
    ]
    one_by_one = [matcher.match(post) for post in posts]
    assert matcher.match_many(posts) == one_by_one
    assert matcher.match_fields_many([post_fields(post) for post in posts]) == one_by_one
    assert [matcher.match_fields(*post_fields(post)[:8], location=post.author.location) for post in posts[:8]] == (
        one_by_one[:8]
    )
    assert one_by_one[0] == [TrackerMatch("a", ("keyword:tehran", "lang:en")), TrackerMatch("b", ("account:witness",))]


def test_no_phrase_spans_two_posts_of_a_batch() -> None:
    matcher = Matcher([tracker(phrases=("green movement",))])
    posts = [make_post("the green", uid="x:1"), make_post("movement is here", uid="x:2")]
    assert matcher.match_many(posts) == [[], []]


def test_a_post_without_text_matches_on_its_other_fields() -> None:
    matcher = Matcher([tracker(keywords=("x",), accounts=("a",))])
    assert matcher.match_fields(None, handle="a") == [TrackerMatch("t", ("account:a",))]
    assert matcher.match_fields_many([PostFields(None)]) == [[]]


# -- checking rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"keywords": ("te*ran",)}, "'*' can only start or end"),
        ({"keywords": ("",)}, "keyword is empty"),
        ({"keywords": ("mousavi||x",)}, "empty spelling"),
        ({"keywords": ("https://example.com",)}, "empty once normalised"),
        ({"hashtags": ("iran election",)}, "only letters, digits and _"),
        ({"hashtags": ("*election",)}, "can only end a hashtag"),
        ({"accounts": ("two words",)}, "without spaces"),
        ({"bboxes": ((44.0, 25.0, 63.3),)}, "four numbers"),
        ({"bboxes": ((44.0, 40.0, 63.3, 39.8),)}, "south below north"),
        ({"bboxes": ((44.0, 25.0, 190.0, 39.8),)}, "between -180 and 180"),
        ({"places": ("Tehrn",)}, "did you mean 'tehran'"),
        ({"languages": ("farsi language",)}, "language code"),
        ({}, "has no rules"),
    ],
)
def test_bad_rules_are_refused_with_the_tracker_and_rule_named(rules: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError, match=re.escape(message)) as error:
        compile_tracker(tracker("Iran election 2009", **rules))
    assert "tracker 'Iran election 2009'" in str(error.value)


def test_tracker_names_must_differ_and_be_tidy() -> None:
    with pytest.raises(RuleError, match="two trackers are called 'a'"):
        Matcher([tracker("a", keywords=("x",)), tracker("a", keywords=("y",))])
    with pytest.raises(RuleError, match="without spaces around it"):
        compile_tracker(tracker(" a", keywords=("x",)))


def test_fingerprint_follows_the_definition() -> None:
    base = tracker(keywords=("tehran",))
    assert base.fingerprint() == tracker(keywords=("tehran",)).fingerprint()
    assert base.fingerprint() != tracker(keywords=("tehran", "tabriz")).fingerprint()
    assert base.fingerprint() != tracker(keywords=("tehran",), languages=("fa",)).fingerprint()


def test_rule_ids_use_the_normalised_spellings() -> None:
    assert text_rule("keyword", "Mousavi | موسوي").id == "keyword:mousavi|موسوی"
    assert text_rule("hashtag", "#Iran*").id == "hashtag:iran*"
    assert text_rule("phrase", "Green   Movement").id == "phrase:green movement"


# -- a property: the matcher agrees with a regular-expression reference --------------------------

WORDS = ["tehran", "tehrani", "iran", "green", "movement", "ایران", "ایرانی", "تهران", "آزادی", "x1"]
SEPARATORS = [" ", ", ", " #", " @", "_", "(", ") ", ". ", "!", "«"]
TERMS = ["tehran", "iran*", "*ani", "green movement", "ایران", "تهران*", "آزادی", "x1", "iran|تهران"]


def reference_match(term: str, text: str) -> bool:
    """Whole-word matching with ``re``: the spelling with word boundaries, '*' opening a side."""
    spaced = text.replace("_", " ")
    for spelling in term.split("|"):
        core = re.escape(normalise(spelling.strip("*")))
        left = "" if spelling.startswith("*") else r"(?<!\w)"
        right = "" if spelling.endswith("*") else r"(?!\w)"
        if re.search(left + core + right, spaced):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=8),
    terms=st.lists(st.sampled_from(TERMS), min_size=1, max_size=4, unique=True),
)
def test_keywords_agree_with_a_regex_reference(pieces: list[tuple[str, str]], terms: list[str]) -> None:
    text = normalise("".join(word + separator for word, separator in pieces))
    matcher = Matcher([tracker(keywords=tuple(terms))])
    found = set(rules_of(matcher, text) or ())
    expected = {text_rule("keyword", term).id for term in terms if reference_match(term, text)}
    assert found == expected, text


def test_a_matcher_travels_to_worker_processes() -> None:
    """Parse workers get the matcher by pickling; the copy matches the same and stays small."""
    matcher = Matcher([tracker(keywords=("تهران*",), places=("Iran",), accounts=("a",))])
    copy = pickle.loads(pickle.dumps(matcher))
    post = make_post("تهرانیها", handle="A", location="Saqqez")
    assert copy.match(post) == matcher.match(post) == [TrackerMatch("t", ("keyword:تهران*", "account:a", "place:iran"))]
    assert len(pickle.dumps(matcher)) < 100_000  # the gazetteer is not carried along
