"""Language identification on self-written example posts (no dataset text)."""

from __future__ import annotations

import pytest

from groundspeed.text import normalise
from groundspeed.understand import LanguageGuess, detect_language, detect_many
from groundspeed.understand.language import FINGLISH, THRESHOLD, LanguageIdentifier, LanguageModel, clean

PERSIAN = [
    "الان در خیابان انقلاب صدای تیراندازی می‌آید، مردم فرار می‌کنند",
    "اینترنت موبایل از دیشب قطع شده و هیچ خبری از خانواده‌ام ندارم",
    "نیروهای یگان ویژه جلوی دانشگاه ایستاده‌اند، لطفا پخش کنید",
]
ARABIC = [
    "انقطاع التيار الكهربائي في أغلب مناطق المدينة بعد العاصفة",
    "الدفاع المدني يطلب من السكان عدم الخروج من منازلهم بسبب السيول",
    "هناك عائلات محاصرة في الطابق الثاني ونحتاج إلى مساعدة عاجلة",
]
ENGLISH = [
    "The bridge on the main road has collapsed, please avoid the area",
    "We can hear explosions near the airport right now, stay safe everyone",
    "Volunteers needed at the shelter tonight, bring blankets and water",
]
FINGLISH_POSTS = [
    "alan too khiaboon hastam, mardom daran shoar midan",
    "internet ghat shode, kheili negaranam, kasi khabar dare?",
    "emshab sedaye tir az samte meydoon miad, movazeb bashid",
]


@pytest.mark.parametrize(
    ("texts", "lang"), [(PERSIAN, "fa"), (ARABIC, "ar"), (ENGLISH, "en"), (FINGLISH_POSTS, FINGLISH)]
)
def test_languages_of_ordinary_posts(texts: list[str], lang: str) -> None:
    for text in texts:
        guess = detect_language(text)
        assert guess.lang == lang, text
        assert guess.source == "model"
        assert THRESHOLD <= guess.confidence <= 1.0


@pytest.mark.parametrize("text", [*PERSIAN, *ARABIC, *ENGLISH, *FINGLISH_POSTS])
def test_raw_and_normalised_text_agree(text: str) -> None:
    assert detect_language(normalise(text)).lang == detect_language(text).lang


def test_arabic_spelling_folded_by_normalise_is_still_arabic() -> None:
    # normalise folds ة→ه and ي→ی, the letters that most distinguish Arabic from Persian spelling.
    text = "المدرسة القريبة من الجامعة مغلقة اليوم"
    assert "ة" not in normalise(text)
    assert detect_language(normalise(text)).lang == "ar"


@pytest.mark.parametrize(
    "text",
    ["RT @someone: https://t.co/abc123", "@reza_1 @news_desk", "https://example.org/path?q=1 www.example.com", "RT"],
)
def test_retweet_marker_mentions_and_links_alone_are_unknown(text: str) -> None:
    assert detect_language(text) == LanguageGuess(None, 0.0, "script")


@pytest.mark.parametrize("text", ["😭😭🔥", "🙏🏽❤️", "!!! ... ???", "1401 / 2022", ""])
def test_emoji_digits_and_punctuation_are_unknown(text: str) -> None:
    assert detect_language(text).lang is None


def test_mentions_and_links_do_not_decide_the_language() -> None:
    text = "@breaking_news_en @world_report https://news.example.com/english-story مردم در خیابان آزادی تجمع کرده‌اند"
    assert detect_language(text).lang == "fa"


def test_retweet_of_english_post_is_english() -> None:
    assert detect_language("RT @witness_22: Smoke rising from the refinery, roads closed http://t.co/x").lang == "en"


def test_very_short_posts_are_unknown_rather_than_guessed() -> None:
    assert detect_language("ok").lang is None
    assert detect_language("sos").lang is None  # three letters, no language in particular


def test_short_post_with_a_distinctive_word_is_identified() -> None:
    assert detect_language("زلزله اومد!!").lang == "fa"
    assert detect_language("flooding everywhere").lang == "en"


def test_mixed_script_post_takes_the_main_script_with_lower_confidence() -> None:
    pure = detect_language(PERSIAN[0])
    mixed = detect_language(PERSIAN[0] + " breaking news")
    assert mixed.lang == "fa"
    assert mixed.confidence < pure.confidence


def test_hashtag_words_count_as_text() -> None:
    assert detect_language("#مهسا_امینی #زن_زندگی_آزادی #اعتصابات_سراسری").lang == "fa"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("地震で家が揺れています", "ja"),
        ("北京今天下大雨", "zh"),
        ("지진이 발생했습니다", "ko"),
        ("Взрыв метеорита над городом", "ru"),
        ("Вибух у місті, всі в укритті, їжі немає", "uk"),
        ("Σεισμός στην Αθήνα", "el"),
        ("پنجاب میں سیلاب کی صورتحال خراب ہے اور لوگ پریشان ہیں", "ur"),
    ],
)
def test_scripts_that_decide_the_language(text: str, lang: str) -> None:
    guess = detect_language(text)
    assert (guess.lang, guess.source) == (lang, "script")


def test_trusted_platform_tag_is_kept() -> None:
    guess = detect_language("Volunteers needed at the shelter", "en")
    assert (guess.lang, guess.source) == ("en", "platform")
    # The model is unsure about Spanish this short, the platform decides.
    assert detect_language("hay heridos", "es") == LanguageGuess("es", 0.9, "platform")


@pytest.mark.parametrize("tag", ["und", "zxx", "qme", "", None])
def test_non_language_platform_tags_are_ignored(tag: str | None) -> None:
    assert detect_language(ENGLISH[0], tag).source == "model"


def test_platform_tag_that_contradicts_the_script_is_ignored() -> None:
    guess = detect_language(PERSIAN[1], "en")
    assert (guess.lang, guess.source) == ("fa", "model")


def test_finglish_overrides_a_latin_platform_tag() -> None:
    # Twitter tags Finglish as en, in or tl: the Finglish model wins when it is sure.
    guess = detect_language(FINGLISH_POSTS[1], "in")
    assert (guess.lang, guess.source) == (FINGLISH, "model")


def test_persian_tag_on_latin_letters_is_finglish() -> None:
    assert detect_language(FINGLISH_POSTS[0], "fa") == LanguageGuess(FINGLISH, 0.9, "platform")
    assert detect_language(ENGLISH[0], "fa").lang == "en"  # a Persian speaker writing English


def test_old_twitter_codes_are_mapped() -> None:
    assert detect_language("Banjir di Jakarta", "in").lang == "id"
    assert detect_language("ok", "iw").lang == "he"


def test_batch_matches_single_posts_and_keeps_order() -> None:
    texts = [*PERSIAN, "", *ARABIC, "😭", *ENGLISH, *FINGLISH_POSTS]
    tags = [None] * len(texts)
    tags[0] = "fa"
    assert detect_many(texts, tags) == [detect_language(t, g) for t, g in zip(texts, tags, strict=True)]
    assert detect_many([]) == []


def test_batch_rejects_mismatched_platform_tags() -> None:
    with pytest.raises(ValueError, match="2 texts but 1"):
        detect_many(["a", "b"], ["en"])


def test_batches_split_into_chunks_give_the_same_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    import groundspeed.understand.language as language

    texts = [*PERSIAN, *ARABIC, *ENGLISH, *FINGLISH_POSTS] * 3
    whole = detect_many(texts)
    monkeypatch.setattr(language, "_CHUNK_CHARS", 50)
    assert detect_many(texts) == whole


def test_threshold_is_injectable() -> None:
    strict = LanguageIdentifier(LanguageModel.load(), threshold=0.999)
    assert strict.detect("hay heridos").lang is None
    assert strict.detect("hay heridos").confidence > 0


def test_clean_strips_what_is_not_language() -> None:
    assert clean("RT @user_1: Hello&amp;bye https://t.co/x #Tag_two 42!") == " hello bye tag two "
    assert clean("rt @user: سلام") == " سلام "
    assert clean("می‌آید") == " میآید "  # ZWNJ joined, as normalise does
    assert clean("😭 https://x.y") == ""
