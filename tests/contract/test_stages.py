"""The contract every understanding stage keeps, checked on each of them the same way.

A stage takes a batch and gives one answer per item, in order; it takes an empty batch; its
answers do not depend on how the posts were batched (so a replay, a reprocess or a resumed run
give the same insights); it gives the same answer twice; and odd or hostile text (empty, huge,
control characters, lone surrogates, bidi overrides, emoji, mixed scripts) never makes it raise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from groundspeed.model import Author, Geo, Post, Provenance
from groundspeed.understand.classify import Classifier, ClassifyInput
from groundspeed.understand.geo import Geocoder
from groundspeed.understand.insights import Understanding
from groundspeed.understand.language import LanguageIdentifier

# Written for these tests.
TEXTS = [
    "Flooding on the main road in Quito, water up to the cars",
    "زلزله شدید در کرمانشاه، خانه‌ها آسیب دیده‌اند",
    "انقطاع الكهرباء في عمّان بسبب السيول",
    "emshab sedaye tir az meydoon azadi miad",
    "RT @someone: https://t.co/x #MahsaAmini @a @b",
    "",
    " ",
    "🔥🔥🔥",
    "\u202eevil reversed\u202c and \u200bzero\u200cwidth",
    "a\x00b\x07c\x1b[31m",
    "lone \ud800 surrogate",
    "Tehran " * 3000,
    "تهران Tehran طهران tahroon 東京 Москва",
    "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
]
LANGS: list[str | None] = ["en", "fa", "ar", "en", None, None, "und", "zxx", "en", None, None, "en", None, "en"]


def post_of(index: int, text: str, lang: str | None) -> Post:
    return Post(
        uid=f"test:{index}",
        platform="test",
        native_id=str(index),
        kind="original",
        collected_at=datetime(2031, 1, 1, tzinfo=UTC),
        provenance=Provenance(source="test", software="test"),
        original_text=text,
        text=text.lower(),
        lang=lang,
        author=Author(handle=f"user{index}", location="Shiraz, Iran" if index % 3 == 0 else None),
        geo=Geo(precision="point", source="coordinates", lat=35.7, lon=51.4) if index % 4 == 0 else None,
    )


POSTS = [post_of(index, text, lang) for index, (text, lang) in enumerate(zip(TEXTS, LANGS, strict=True))]


@functools.cache
def understanding() -> Understanding:
    return Understanding()


def run_language(items: Sequence[Post]) -> list[Any]:
    return LanguageIdentifier().detect_many([p.original_text or "" for p in items], [p.lang for p in items])


def run_classifier(items: Sequence[Post]) -> list[Any]:
    return Classifier.load().classify_many([ClassifyInput(text=p.original_text or "", lang=p.lang) for p in items])


def run_mentions(items: Sequence[Post]) -> list[Any]:
    return Geocoder.load().mentions_many([p.original_text or "" for p in items], [p.lang for p in items])


def run_understanding(items: Sequence[Post]) -> list[Any]:
    return understanding().understand_many(items)


STAGES: dict[str, Callable[[Sequence[Post]], list[Any]]] = {
    "language": run_language,
    "classifier": run_classifier,
    "place mentions": run_mentions,
    "understanding (all)": run_understanding,
}


@pytest.mark.parametrize("name", STAGES)
def test_one_answer_per_item_in_order_and_an_empty_batch(name: str) -> None:
    stage = STAGES[name]
    assert stage([]) == []
    answers = stage(POSTS)
    assert len(answers) == len(POSTS)
    # In order: each item alone gets the answer it got in the batch.
    for post, answer in zip(POSTS, answers, strict=True):
        assert stage([post]) == [answer], post.original_text


@pytest.mark.parametrize("name", STAGES)
def test_answers_do_not_depend_on_batching_and_repeat(name: str) -> None:
    stage = STAGES[name]
    whole = stage(POSTS)
    assert stage(POSTS) == whole
    halves = stage(POSTS[:5]) + stage(POSTS[5:])
    assert halves == whole
    assert stage(list(reversed(POSTS))) == list(reversed(whole))


def test_understanding_answers_are_in_range() -> None:
    for post, insight in zip(POSTS, run_understanding(POSTS), strict=True):
        classification = insight.classification
        assert 0.0 <= classification.informative <= 1.0
        assert 0.0 <= classification.eyewitness <= 1.0
        assert abs(sum(classification.info_types.values()) - 1.0) < 1e-6
        assert 0.0 <= insight.language.confidence <= 1.0
        text = post.original_text or ""
        for mention in insight.mentions:
            assert 0 <= mention.start < mention.end <= len(text)
            assert text[mention.start : mention.end] == mention.text
            assert 0.0 <= mention.confidence <= 1.0
        if insight.placement is not None:
            assert -90 <= insight.placement.lat <= 90 and -180 <= insight.placement.lon <= 180
            assert insight.placement.source in ("geotag", "place", "text", "profile")
