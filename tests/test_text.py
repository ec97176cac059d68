"""Text normalisation: properties over arbitrary text, and the Persian/Arabic folds by example."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from groundspeed.text import (
    URL_RE,
    clean_text,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    fold,
    normalise,
    normalise_tag,
)

# -- strategies ----------------------------------------------------------------------------------

# Pieces that make the steps interact: entities, links, joiners, marks, forms NFKC rewrites,
# letters case folding decomposes, and the Arabic and Persian letters that fold.
FRAGMENTS = [
    "&amp;",
    "&amp;amp;",
    "&Amp;",
    "&lt;",
    "&#39;",
    "&#x627;",
    "&eacute;",
    "&",
    "amp;",
    "＆ａｍｐ；",
    "http://",
    "HTTPS://",
    "Http://x.com/a?b=1&amp;c=2",
    "ｈｔｔｐ：／／ｘ．ｃｏｍ",
    "www.",
    "WwW.example.org",
    "awww.",
    "⑴",
    "\u200c",
    "\u200d",
    "\u200b",
    "\u200f",
    "\u202b",
    "\u2067",
    "\ufeff",
    "\ufe0f",
    "\u00ad",
    "\u00a0",
    "\u3000",
    "\u0301",
    "\u0653",
    "\u0654",
    "\u064e",
    "\u0651",
    "\u0640",
    "\u0345",
    "ǰ",
    "ΐ",
    "İ",
    "ß",
    "ﬁ",
    "Ⅻ",
    "½",
    "™",
    "ﻙ",
    "ﻵ",
    "ﷲ",
    "ﱞ",
    "ك",
    "ي",
    "ى",
    "ة",
    "ۀ",
    "أ",
    "إ",
    "آ",
    "ا",
    "ٱ",
    "ؤ",
    "ئ",
    "۱۴۰۱",
    "١٤٠١",
    "٫",
    "،",
    "👨",
    "👩",
    "👧",
    "🏳",
    "🌈",
    "🏽",
    "❤",
    "#",
    "＃",
    "@",
    " ",
    "\t",
    "\n",
    "_",
    "e",
    "E",
    "Ｔ",
]
_ALPHABET = st.characters(codec="utf-8") | st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
_PIECE = st.sampled_from(FRAGMENTS) | st.text(alphabet=_ALPHABET, min_size=1, max_size=3)
MIXED_TEXT = st.lists(_PIECE, max_size=12).map("".join)
ANY_TEXT = st.text() | MIXED_TEXT

ZERO_WIDTH_AND_BIDI = set(
    "\u200b\u200c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2060\ufeff\u00ad\u061c"
)
ARABIC_MARKS = {chr(cp) for cp in [*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, 0x0640]}
EASTERN_DIGITS = {chr(cp) for cp in [*range(0x06F0, 0x06FA), *range(0x0660, 0x066A)]}

# -- normalise: properties -----------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
@example("ǰ")  # case folding decomposes it; NFKC composes it again
@example("＆ａｍｐ；ｌｔ；")  # NFKC makes an entity
@example("&Amp;")  # lower-casing makes an entity
@example("ｈｔｔｐ：／／ｘ．ｃｏｍ")  # NFKC makes a link
@example("⑴www.x")  # NFKC puts a bracket before www.
@example("Http://x.com")
@example("e\u200b\u0301")  # a mark that composes once the zero-width space has gone
@example("ا\u200c\u0653")
@example("™\u200d👩")  # NFKC turns the pictograph into letters, so the joiner must go
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
def test_normalise_output_is_clean(text: str) -> None:
    out = normalise(text)
    assert out == out.strip()
    assert "  " not in out
    assert not any(c.isspace() and c != " " for c in out)
    assert not set(out) & ZERO_WIDTH_AND_BIDI
    assert not set(out) & ARABIC_MARKS
    assert not set(out) & EASTERN_DIGITS
    assert "\ufe0f" not in out
    assert unicodedata.normalize("NFKC", out.casefold()) == out  # no upper case left
    assert URL_RE.search(out) is None
    for index, char in enumerate(out):
        if char == "\u200d":  # kept only between pictographs: never in a word, nor at an edge
            assert 0 < index < len(out) - 1
            for neighbour in (out[index - 1], out[index + 1]):
                assert unicodedata.category(neighbour)[0] in "SNP", (out, neighbour)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, categories=["Cs", "Co", "Cn", "Cc", "Cf", "Mn", "Zs"])))
def test_normalise_never_raises_even_on_surrogates_and_unassigned(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_fast_path_matches_the_general_path(text: str) -> None:
    # Appending a non-ASCII letter forces the general path; the ASCII part must come out the same.
    assert normalise(text + " é").removesuffix("é").rstrip() == normalise(text)


# -- normalise: examples -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("كتاب", "کتاب"),  # Arabic kaf / Persian keheh
        ("علي", "علی"),  # Arabic yeh / Farsi yeh
        ("مستشفى", "مستشفی"),  # alef maksura
        ("مدرسة", "مدرسه"),  # teh marbuta
        ("خانۀ", "خانه"),
        ("أحمد", "احمد"),
        ("إيران", "ایران"),
        ("مؤمن", "مومن"),
        ("می\u200cروم", "میروم"),  # ZWNJ joined, not spaced
        ("کتاب\u200cها", "کتابها"),
        ("۱۴۰۱", "1401"),
        ("١٤٠١", "1401"),
        ("مُحَمَّد", "محمد"),  # diacritics
        ("ایــــران", "ایران"),  # tatweel
        ("\ufedb\ufe98\ufe8e\ufe8f", "کتاب"),  # presentation forms
        ("ﻙ", "ک"),
        ("Ｔｅｈｒａｎ", "tehran"),  # full width
        ("TEHRAN", "tehran"),
        ("Straße", "strasse"),
        ("A &amp; B", "a & b"),
        ("A &amp;amp; B", "a & b"),  # double escaped
        ("&lt;3", "<3"),
        ("\u202bسلام\u202c", "سلام"),  # bidi embedding
        ("\u200fسلام\u200e", "سلام"),
        ("\ufeffhello", "hello"),
        ("ا\u0653زادی", "آزادی"),  # madda typed as a mark composes to آ, which is kept
        ("ي\u0654", "ئ"),  # hamza typed as a mark folds like the precomposed letter
        ("❤\ufe0f", "❤"),  # emoji variation selector
        ("  hello \n\t world  ", "hello world"),
        ("a\u00a0b\u3000c", "a b c"),
        ("؟،؛", "?,;"),
    ],
)
def test_variants_fold_together(left: str, right: str) -> None:
    assert normalise(left) == normalise(right)
    assert fold(left.strip()) == fold(right.strip()) or "&" in left or " " in left


def test_persian_keeps_alef_madda() -> None:
    assert normalise("آزادی") == "آزادی"
    assert normalise("آزادی") != normalise("ازادی")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Protests in Tehran https://t.co/abc123 #IranProtests", "protests in tehran #iranprotests"),
        ("see www.example.org/page now", "see now"),
        ("HTTPS://EXAMPLE.COM/X done", "done"),
        ("awww... so cute", "awww... so cute"),  # not a link
        ("@User said hi", "@user said hi"),
        ("زن زندگی آزادی https://t.co/x", "زن زندگی آزادی"),
        ("ｈｔｔｐ：／／ｘ．ｃｏｍ after", "after"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_examples(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_emoji_zwj_sequences_stay_whole() -> None:
    family = "👨\u200d👩\u200d👧"
    assert normalise(family) == family
    assert normalise("🏳\ufe0f\u200d🌈") == "🏳\u200d🌈"
    assert normalise("🧑🏽\u200d🚀") == "🧑🏽\u200d🚀"
    # a joiner beside anything but emoji is dropped, so Persian words are untouched by it
    assert normalise("سلا\u200dم") == "سلام"
    assert normalise("👨\u200d a") == "👨 a"
    assert normalise("a\u200d👨") == "a👨"


def test_persian_tweet() -> None:
    text = "ما همه با هم هستیم‌! #زن_زندگی_آزادی #مهسا_امینی ۱۴۰۱ https://t.co/Xyz"
    assert normalise(text) == "ما همه با هم هستیم! #زن_زندگی_ازادی #مهسا_امینی 1401".replace("ازادی", "آزادی")


# -- hashtags, mentions, links -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#زن_زندگی_آزادی", ("زن_زندگی_آزادی",)),
        ("نه به اعدام #مهسا_امینی.", ("مهسا_امینی",)),
        ("#می\u200cروم با ZWNJ", ("می\u200cروم",)),
        ("#العربية و #مصر", ("العربية", "مصر")),
        ("#Iran #iran #Iran2022", ("Iran", "iran", "Iran2022")),
        ("#۱۴۰۱_اعتراض", ("۱۴۰۱_اعتراض",)),
        ("#1401 #1 #__", ()),  # digits or underscores alone are not tags
        ("#مُحَمَّد", ("مُحَمَّد",)),  # diacritics are part of the tag
        ("#café and #नमस्ते", ("café", "नमस्ते")),  # composed/combining marks in other scripts
        ("＃تهران", ("تهران",)),  # full-width number sign
        ("it&#39;s &#x627; fine", ()),  # entities
        ("https://example.com/page#section and #real", ("real",)),
        ("www.example.com/#frag", ()),
        ("a#b c##d", ()),
        ("#tag_ #tag\u200c", ("tag",)),
        ("#Iran, #Iran! #Iran", ("Iran",)),
        ("no tags here", ()),
    ],
)
def test_extract_hashtags(text: str, expected: tuple[str, ...]) -> None:
    assert extract_hashtags(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@user hi", ("user",)),
        ("hi @user_1, and @Other.", ("user_1", "Other")),
        ("@alice@mastodon.social said", ("alice@mastodon.social",)),
        ("cc @bob@fosstodon.org.", ("bob@fosstodon.org",)),
        ("@first.last@example.social", ("first.last@example.social",)),
        ("mail me@example.com", ()),  # an e-mail address is not a mention
        ("https://mastodon.social/@carol", ()),  # nor a profile link
        ("سلام @user_fa!", ("user_fa",)),
        ("@a @a", ("a",)),
        ("＠wide", ("wide",)),
        ("@ nobody", ()),
    ],
)
def test_extract_mentions(text: str, expected: tuple[str, ...]) -> None:
    assert extract_mentions(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://t.co/abc.", ("https://t.co/abc",)),
        ("(https://example.com/x)", ("https://example.com/x",)),
        ("https://en.wikipedia.org/wiki/Foo_(bar), ok", ("https://en.wikipedia.org/wiki/Foo_(bar)",)),
        ("«https://x.com/a»، بعد", ("https://x.com/a",)),
        ("https://fa.wikipedia.org/wiki/مهسا_امینی؟", ("https://fa.wikipedia.org/wiki/مهسا_امینی",)),
        ('"http://a.b/c?d=1&e=2"!', ("http://a.b/c?d=1&e=2",)),
        ("www.example.org!", ("www.example.org",)),
        ("HTTPS://EXAMPLE.COM", ("HTTPS://EXAMPLE.COM",)),
        ("truncated https://t.co/abc…", ("https://t.co/abc",)),
        ("awww... and http:// alone", ()),
        ("x https://a.b y https://a.b", ("https://a.b",)),
    ],
)
def test_extract_urls(text: str, expected: tuple[str, ...]) -> None:
    assert extract_urls(text) == expected


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_extractors_never_raise_and_return_written_text(text: str) -> None:
    for tag in extract_hashtags(text):
        assert tag
        assert tag in text
    for handle in extract_mentions(text):
        assert handle in text
    for url in extract_urls(text):
        assert url in text
        assert not url.endswith((".", ",", ")", "،"))


def test_normalise_tag() -> None:
    assert normalise_tag("#زن_زندگی_آزادی") == normalise_tag("زن_زندگي_آزادي")
    assert normalise_tag("#Iran") == "iran"
    assert normalise_tag("＃ＩＲＡＮ") == "iran"
    assert normalise_tag("@User") == "user"
    assert normalise_tag("#می\u200cروم") == "میروم"


def test_clean_text_decodes_once_and_unifies_line_endings() -> None:
    assert clean_text("a &amp; b\r\nc\rd") == "a & b\nc\nd"
    assert clean_text("&amp;amp;") == "&amp;"  # the readable text keeps what the user typed
    assert clean_text("می\u200cروم 👨\u200d👩") == "می\u200cروم 👨\u200d👩"
