"""The understanding stage: what each stored post is (language, information type, first-hand or
not) and where it is about, in batches, after the posts are stored.

It runs over posts in the order they were stored (``posts.id``), like the story stage, so an
import is not slowed by it and a crash or a stop only means the next run goes on where this one
stopped. A repost whose original is stored is not read again: it inherits the original's insight
(the same words, the same place; see :mod:`groundspeed.store.insights`).

The three models are injectable (tests pass small fakes); by default the ones shipped in the
package are loaded on first use. :attr:`Understanding.models` names them by a hash of their files,
so that a newer model makes the store recompute every post's insight.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from .. import __version__
from ..model import Post
from .classify import Classification, Classifier, ClassifyInput
from .geo import Geocoder, Placement, PlaceMention
from .language import LanguageGuess, LanguageIdentifier


@dataclass(frozen=True, slots=True)
class Insight:
    """What the stage made of one post."""

    language: LanguageGuess
    classification: Classification
    is_informative: bool  # above the model's threshold
    is_eyewitness: bool
    mentions: tuple[PlaceMention, ...]
    placement: Placement | None


def _model_files_digest() -> str:
    """A short hash of every file the shipped models are made of (and the software version, whose
    code turns their numbers into answers)."""
    digest = hashlib.sha256(__version__.encode())
    folder = resources.files("groundspeed.understand").joinpath("data")
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.is_file() and not entry.name.startswith(("README", ".")):
            digest.update(entry.name.encode())
            digest.update(entry.read_bytes())
    return digest.hexdigest()[:16]


class Understanding:
    """Language, information type, first-hand score and place for batches of posts."""

    def __init__(
        self,
        languages: LanguageIdentifier | None = None,
        classifier: Classifier | None = None,
        geocoder: Geocoder | None = None,
        *,
        models: str | None = None,
    ) -> None:
        self._languages = languages
        self._classifier = classifier
        self._geocoder = geocoder
        self._models = models

    @property
    def models(self) -> str:
        """Names the models in use: stored with every insight, and compared on each run."""
        if self._models is None:
            self._models = "shipped:" + _model_files_digest()
        return self._models

    @property
    def languages(self) -> LanguageIdentifier:
        if self._languages is None:
            self._languages = LanguageIdentifier()
        return self._languages

    @property
    def classifier(self) -> Classifier:
        if self._classifier is None:
            self._classifier = Classifier.load()
        return self._classifier

    @property
    def geocoder(self) -> Geocoder:
        if self._geocoder is None:
            self._geocoder = Geocoder.load()
        return self._geocoder

    def understand_texts(
        self, texts: Sequence[str], platform_langs: Sequence[str | None] | None = None
    ) -> list[Insight]:
        """Insights from texts alone (``groundspeed annotate``): no geotag, media or profile."""
        guesses = self.languages.detect_many(texts, platform_langs)
        inputs = [
            ClassifyInput(text=text, lang=guess.lang, links=text.count("://"))
            for text, guess in zip(texts, guesses, strict=True)
        ]
        return self._finish(texts, guesses, inputs, None)

    def understand_many(self, posts: Sequence[Post]) -> list[Insight]:
        """Insights for stored posts, vectorised over the batch."""
        texts = [post.original_text or post.text or "" for post in posts]
        guesses = self.languages.detect_many(texts, [post.lang for post in posts])
        inputs = [_post_input(post, text, guess) for post, text, guess in zip(posts, texts, guesses, strict=True)]
        return self._finish(texts, guesses, inputs, posts)

    def _finish(
        self,
        texts: Sequence[str],
        guesses: Sequence[LanguageGuess],
        inputs: Sequence[ClassifyInput],
        posts: Sequence[Post] | None,
    ) -> list[Insight]:
        classifier = self.classifier
        geocoder = self.geocoder
        classified = classifier.classify_many(inputs)
        found = geocoder.mentions_many(texts, [guess.lang for guess in guesses])
        informative_at, eyewitness_at = thresholds(classifier)
        insights: list[Insight] = []
        for index, (guess, classification, mentions) in enumerate(zip(guesses, classified, found, strict=True)):
            placement = (
                geocoder.place(posts[index], mentions) if posts is not None else geocoder.place_from_text(mentions)
            )
            insights.append(
                Insight(
                    language=guess,
                    classification=classification,
                    is_informative=classification.informative >= informative_at,
                    is_eyewitness=classification.eyewitness >= eyewitness_at,
                    mentions=tuple(mentions),
                    placement=placement,
                )
            )
        return insights


def thresholds(classifier: Classifier) -> tuple[float, float]:
    """(informative, eyewitness): the probabilities above which the shipped model says yes."""
    return float(classifier.informative_threshold), float(classifier.eyewitness_threshold)


def _post_input(post: Post, text: str, guess: LanguageGuess) -> ClassifyInput:
    geo = post.geo
    return ClassifyInput(
        text=text,
        lang=guess.lang,
        media=len(post.media),
        geotagged=geo is not None and geo.precision == "point",
        links=len(post.urls),
        repost=post.kind == "repost",
    )


def mention_record(mention: PlaceMention) -> dict[str, object]:
    """A place mention as JSON (stored with the post, written by ``annotate``)."""
    return {
        "start": mention.start,
        "end": mention.end,
        "text": mention.text,
        "name": mention.name,
        "kind": mention.kind,
        "lat": mention.lat,
        "lon": mention.lon,
        "country_code": mention.country_code,
        "confidence": round(mention.confidence, 3),
    }
