"""Offline language identification for short, noisy crisis posts.

``detect_language(text, platform_lang)`` returns a :class:`LanguageGuess`: an ISO 639-1 code (``"fa"``,
``"ar"``, ``"en"``, ...), ``"fa-Latn"`` for Finglish (Persian written in Latin letters, BCP 47 style), or
``None`` for *unknown*; a confidence in [0, 1]; and which evidence decided (``"platform"``, ``"model"`` or
``"script"``). ``detect_many`` is the batch form the pipeline should call: the work is vectorised over the
whole batch with numpy.

How it decides, in order:

1. **Cleaning.** Links, @mentions (also ``user@instance.social``), HTML entities and the ``RT`` marker are
   removed; ``#`` and ``_`` of hashtags become spaces (the tag's words are kept: ``#مهسا_امینی`` is Persian
   evidence); Arabic diacritics, tatweel and zero-width/bidi characters are removed; digits, punctuation and
   emoji become spaces; case is folded. Raw text and text already normalised by
   :func:`groundspeed.text.normalise` give the same answer (the model is trained on both forms).
2. **Script.** Letters are counted per script. The script with most letters is the post's script; its share
   of the letters (``share``) scales the confidence, so mixed-script posts are less certain. Scripts that
   identify a language on their own decide it (``source="script"``): Hangul ko, kana ja (Han with any kana is
   ja, Han alone zh), Thai th, Greek el, Hebrew he, Georgian ka, Armenian hy, Bengali bn, Devanagari hi,
   Cyrillic ru (uk when і ї є ґ appear). In Arabic script, Urdu letters (ٹ ڈ ڑ ں ے) give ur and Sorani
   letters (ێ ۆ ڵ ڕ) give ckb; these are rules, not measured on data.
3. **Model.** Otherwise a multinomial naive Bayes over hashed character 1-4-grams (2**16 buckets, words
   padded with spaces) chooses among the languages trained for that script: Arabic script fa / ar; Latin
   script en, es, pt, it, fr, tl, id and fa-Latn. Scores are divided by a temperature fitted on held-out
   training data and turned into probabilities over the script's languages; ``confidence = p_max * share``.
   Weights live in ``data/language.npz`` (``scripts/train_language.py`` rebuilds it).
4. **Unknown.** Fewer than :data:`MIN_LETTERS` letters, or ``confidence < THRESHOLD`` (0.6), gives
   ``lang=None`` (the confidence of the best guess is still reported). Other Latin-script languages (de, nl,
   ...) are not in the model: they come out as unknown or, with lower confidence, as the nearest language.
5. **Platform tag.** A platform tag (Twitter ``lang``, Mastodon ``language``, Bluesky ``langs[0]``) is kept
   (``source="platform"``) unless it is missing or a non-language code (``und``, ``zxx``, ``qme``, ``art``, ...)
   or its script contradicts the text's script (a ``"en"`` tag on Persian script text). Twitter tags Finglish
   as en/in/tl/und, so a Latin-script post the model calls Finglish with probability >= 0.9 is ``fa-Latn``
   whatever the (Latin-language) tag says, and a ``"fa"`` tag on Latin-script text is ``fa-Latn``. Platform
   tags report ``max(PLATFORM_CONFIDENCE, model confidence)`` when the model agrees, ``PLATFORM_CONFIDENCE``
   otherwise. Old Twitter codes are mapped (``in``→id, ``iw``→he, ``fil``→tl, ``zh-cn``→zh).
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "FINGLISH",
    "MIN_LETTERS",
    "PLATFORM_CONFIDENCE",
    "THRESHOLD",
    "LanguageGuess",
    "LanguageIdentifier",
    "LanguageModel",
    "clean",
    "detect_language",
    "detect_many",
    "hashed_ngrams",
]

Source = Literal["platform", "model", "script"]
FINGLISH = "fa-Latn"
THRESHOLD = 0.6  # below this confidence the language is unknown (None)
FINGLISH_OVERRIDE = 0.9  # model probability of fa-Latn that overrides a Latin-language platform tag
PLATFORM_CONFIDENCE = 0.9
MIN_LETTERS = 3
NGRAM_ORDERS = (1, 2, 3, 4)
_CHUNK_CHARS = 200_000  # code points scored at once (bounds the (chars x languages) work array)


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """A post's language: ``lang`` None means unknown; ``source`` says what decided."""

    lang: str | None
    confidence: float
    source: Source


# --- scripts -------------------------------------------------------------------------------------------

SPACE, LATIN, ARABIC, CYRILLIC, GREEK, HEBREW, DEVANAGARI, BENGALI, THAI, HANGUL, KANA, HAN = range(12)
GEORGIAN, ARMENIAN, OTHER = 12, 13, 14
N_SCRIPTS = 15
_SCRIPT_RANGES: dict[int, list[tuple[int, int]]] = {
    LATIN: [(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x1E00, 0x1EFF), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)],
    ARABIC: [(0x600, 0x6FF), (0x750, 0x77F), (0x8A0, 0x8FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
    CYRILLIC: [(0x400, 0x52F)],
    GREEK: [(0x370, 0x3FF), (0x1F00, 0x1FFF)],
    HEBREW: [(0x590, 0x5FF)],
    DEVANAGARI: [(0x900, 0x97F)],
    BENGALI: [(0x980, 0x9FF)],
    THAI: [(0xE00, 0xE7F)],
    HANGUL: [(0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)],
    KANA: [(0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)],
    HAN: [(0x3400, 0x4DBF), (0x4E00, 0x9FFF)],
    GEORGIAN: [(0x10A0, 0x10FF)],
    ARMENIAN: [(0x530, 0x58F)],
}
_SCRIPT_LANG = {
    GREEK: "el",
    HEBREW: "he",
    DEVANAGARI: "hi",
    BENGALI: "bn",
    THAI: "th",
    HANGUL: "ko",
    GEORGIAN: "ka",
    ARMENIAN: "hy",
}
# The script a platform's language tag implies; codes not listed are taken as Latin script.
_TAG_SCRIPT: dict[str, int] = {
    **dict.fromkeys(("ar", "fa", "ur", "ps", "ckb", "sd", "ug", "ku"), ARABIC),
    **dict.fromkeys(("ru", "uk", "bg", "sr", "mk", "be", "kk", "ky", "mn", "tg"), CYRILLIC),
    **dict.fromkeys(("ja", "zh"), HAN),
    "el": GREEK,
    "he": HEBREW,
    "yi": HEBREW,
    **dict.fromkeys(("hi", "mr", "ne"), DEVANAGARI),
    "bn": BENGALI,
    "th": THAI,
    "ko": HANGUL,
    "ka": GEORGIAN,
    "hy": ARMENIAN,
    **dict.fromkeys(("am", "ta", "te", "kn", "ml", "gu", "pa", "si", "my", "km", "lo", "bo", "dv", "or"), OTHER),
}
_UNTRUSTED_TAGS = frozenset(("", "und", "zxx", "qme", "qht", "qam", "qst", "qct", "art", "mul", "mis", "xx"))
_OLD_TAGS = {"in": "id", "iw": "he", "ji": "yi", "jw": "jv", "fil": "tl", "pes": "fa", "prs": "fa", "arb": "ar"}
# Letters that tell a language within its script; a regex search scans a text in C without
# building a set of its characters (frozenset.intersection did, at ~6 µs a Persian post).
_URDU = re.compile("[ٹڈڑںے]")
_SORANI = re.compile("[ێۆڵڕ]")
_UKRAINIAN = re.compile("[іїєґ]")


def _script_table() -> npt.NDArray[np.uint8]:
    table = np.full(0x10000, OTHER, dtype=np.uint8)
    table[32] = SPACE
    for script, ranges in _SCRIPT_RANGES.items():
        for start, end in ranges:
            table[start : end + 1] = script
    return table


_SCRIPTS = _script_table()


# --- cleaning and features -----------------------------------------------------------------------------

_STRIP_RE = re.compile(
    r"https?://\S*|www\.\S*|[@＠]\w+(?:@[\w\-]+(?:\.[\w\-]+)+)?|&#?\w+;|\bRT\b|(?i:^\s*rt\b)|(?i:\brt(?=\s*[@:]))"
)
_DROP_RE = re.compile("[\u064b-\u065f\u0670\u0640\u06d6-\u06ed\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad]+")
_NONLETTER_RE = re.compile(r"[\W\d_]+")


def _may_strip(text: str) -> bool:
    """Whether ``_STRIP_RE`` could find anything: substring tests run in C at a fraction of the
    regex's cost, which tries each of its alternatives at every position (~12 µs a Persian post)."""
    return (
        "://" in text
        or "www." in text
        or "@" in text
        or "＠" in text
        or "&" in text
        or "rt" in text
        or "RT" in text
        or "Rt" in text
        or "rT" in text
    )


def clean(text: str) -> str:
    """The letters the model sees: lower-case words separated by single spaces, with a space either side.

    Links, mentions, entities and ``RT`` are removed; digits, punctuation, emoji become spaces."""
    if _may_strip(text):
        text = _STRIP_RE.sub(" ", text)
    if not text.isascii():
        text = _DROP_RE.sub("", text)
    words = _NONLETTER_RE.sub(" ", text.lower()).strip()
    return f" {words} " if words else ""


_MULTIPLIER = np.uint64(1_000_003)
_FIBONACCI = np.uint64(0x9E3779B97F4A7C15)


def hashed_ngrams(
    codepoints: npt.NDArray[np.uint32], ends: npt.NDArray[np.int64], bits: int
) -> list[npt.NDArray[np.int64]]:
    """Bucket of each character n-gram (n in NGRAM_ORDERS) starting at each position of ``codepoints``.

    ``ends[i]`` is where the post holding position i ends; an n-gram that would run past it gets the bucket
    ``2**bits`` (a zero row in the weights). One array of len(codepoints) buckets per order."""
    size = len(codepoints)
    padded = np.zeros(size + max(NGRAM_ORDERS), dtype=np.uint64)
    padded[:size] = codepoints
    positions = np.arange(size, dtype=np.int64)
    shift = np.uint64(64 - bits)
    invalid = 1 << bits
    out: list[npt.NDArray[np.int64]] = []
    rolling = padded[:size].copy()
    for order in range(1, max(NGRAM_ORDERS) + 1):
        if order > 1:
            rolling = rolling * _MULTIPLIER ^ padded[order - 1 : order - 1 + size]
        if order in NGRAM_ORDERS:
            buckets = ((rolling + np.uint64(order)) * _FIBONACCI >> shift).astype(np.int64)
            buckets[positions + order > ends] = invalid
            out.append(buckets)
    return out


def _encode(cleaned: Sequence[str]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """All cleaned texts as one code point array, and each text's end offset."""
    codepoints = np.frombuffer("".join(cleaned).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ends = np.cumsum(np.fromiter(map(len, cleaned), dtype=np.int64, count=len(cleaned)))
    return codepoints, ends


def script_counts(codepoints: npt.NDArray[np.uint32], ends: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Letters per script for each text: shape (texts, N_SCRIPTS)."""
    lengths = np.diff(ends, prepend=0)
    owner = np.repeat(np.arange(len(ends), dtype=np.int64), lengths)
    scripts = _SCRIPTS[np.minimum(codepoints, 0xFFFF)].astype(np.int64)
    counts = np.bincount(owner * N_SCRIPTS + scripts, minlength=len(ends) * N_SCRIPTS)
    return counts.reshape(len(ends), N_SCRIPTS)


# --- the model ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageModel:
    """Naive Bayes log-probabilities per hashed n-gram bucket and language (plus a zero row)."""

    languages: tuple[str, ...]
    scripts: tuple[int, ...]  # the script each language is written in (LATIN or ARABIC)
    weights: npt.NDArray[np.float32]  # (2**bits + 1, languages)
    bias: npt.NDArray[np.float32]  # (languages,)
    temperature: float
    bits: int

    @classmethod
    def load(cls, path: str | Path | None = None) -> LanguageModel:
        """The trained weights from ``path``, or the ones shipped in the package."""
        if path is None:
            data = resources.files("groundspeed.understand").joinpath("data/language.npz").read_bytes()
        else:
            data = Path(path).read_bytes()
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            weights = npz["weights"].astype(np.float32)
            weights = np.vstack([weights, np.zeros((1, weights.shape[1]), dtype=np.float32)])
            return cls(
                languages=tuple(str(x) for x in npz["languages"]),
                scripts=tuple(int(x) for x in npz["scripts"]),
                weights=weights,
                bias=npz["bias"].astype(np.float32),
                temperature=float(npz["temperature"]),
                bits=int(npz["bits"]),
            )

    def scores(self, codepoints: npt.NDArray[np.uint32], ends: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Summed log-probabilities per text and language, shape (texts, languages), before temperature."""
        total = np.zeros((len(codepoints), len(self.languages)), dtype=np.float32)
        for buckets in hashed_ngrams(codepoints, np.repeat(ends, np.diff(ends, prepend=0)), self.bits):
            total += self.weights[buckets]
        starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        sums = np.zeros((len(ends), len(self.languages)), dtype=np.float64)
        filled = ends > starts
        if filled.any():
            sums[filled] = np.add.reduceat(total, starts[filled], axis=0)
        return sums + self.bias


@functools.cache
def _default_model() -> LanguageModel:
    return LanguageModel.load()


def _platform_code(tag: str | None) -> str | None:
    """The platform's tag as an ISO 639-1 code (or fa-Latn), None when it is no language."""
    if tag is None:
        return None
    lowered = tag.strip().lower().replace("_", "-")
    if lowered == "fa-latn":
        return FINGLISH
    primary = lowered.split("-", 1)[0]
    if primary in _UNTRUSTED_TAGS:
        return None
    return _OLD_TAGS.get(primary, primary)


class LanguageIdentifier:
    """Language identification with an injectable model and threshold (``detect_many`` is the batch form)."""

    def __init__(self, model: LanguageModel | None = None, threshold: float = THRESHOLD) -> None:
        self._model = model
        self.threshold = threshold

    @property
    def model(self) -> LanguageModel:
        if self._model is None:
            self._model = _default_model()
        return self._model

    def detect(self, text: str, platform_lang: str | None = None) -> LanguageGuess:
        return self.detect_many([text], [platform_lang])[0]

    def detect_many(
        self, texts: Iterable[str], platform_langs: Iterable[str | None] | None = None
    ) -> list[LanguageGuess]:
        cleaned = [clean(text) for text in texts]
        tags: list[str | None] = [None] * len(cleaned) if platform_langs is None else list(platform_langs)
        if len(tags) != len(cleaned):
            msg = f"{len(cleaned)} texts but {len(tags)} platform languages"
            raise ValueError(msg)
        guesses: list[LanguageGuess] = []
        start = 0
        while start < len(cleaned):
            size = 0
            stop = start
            while stop < len(cleaned) and (stop == start or size + len(cleaned[stop]) <= _CHUNK_CHARS):
                size += len(cleaned[stop])
                stop += 1
            guesses.extend(self._detect_chunk(cleaned[start:stop], tags[start:stop]))
            start = stop
        return guesses

    def _detect_chunk(self, cleaned: list[str], tags: list[str | None]) -> list[LanguageGuess]:
        model = self.model
        codepoints, ends = _encode(cleaned)
        counts = script_counts(codepoints, ends)
        rows = np.arange(len(cleaned))
        letters = counts[:, 1:].sum(axis=1)
        script = counts[:, 1:].argmax(axis=1) + 1
        japanese = (script == HAN) | (script == KANA)
        in_script = np.where(japanese, counts[:, HAN] + counts[:, KANA], counts[rows, script])
        share = in_script / np.maximum(letters, 1)
        # Probabilities over the languages of each post's script (-inf elsewhere).
        allowed = np.asarray(model.scripts)[None, :] == script[:, None]
        scaled = np.where(allowed, self._scores(codepoints, ends, tags, script) / model.temperature, -np.inf)
        top = scaled.max(axis=1, keepdims=True)
        exp = np.exp(scaled - np.where(np.isfinite(top), top, 0.0))
        probs = exp / np.maximum(exp.sum(axis=1, keepdims=True), 1e-300)
        best = probs.argmax(axis=1)
        finglish = model.languages.index(FINGLISH) if FINGLISH in model.languages else None
        p_finglish = probs[:, finglish] if finglish is not None else np.zeros(len(cleaned))
        languages = model.languages
        guesses: list[LanguageGuess] = []
        for text, tag, n_letters, text_script, text_share, best_index, p_best, p_fin in zip(
            cleaned,
            tags,
            letters.tolist(),
            script.tolist(),
            share.tolist(),
            best.tolist(),
            probs[rows, best].tolist(),
            p_finglish.tolist(),
            strict=True,
        ):
            guess = self._guess(text, text_script, text_share, n_letters, languages[best_index], p_best)
            code = _platform_code(tag)
            if code is not None:
                guess = self._with_platform(guess, code, text_script, n_letters, p_fin)
            guesses.append(guess)
        return guesses

    def _scores(
        self,
        codepoints: npt.NDArray[np.uint32],
        ends: npt.NDArray[np.int64],
        tags: Sequence[str | None],
        script: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.float64]:
        """The model's scores, computed only for the posts whose answer depends on them.

        A post whose platform tag is a language written in a non-Latin script, and whose letters
        are in that script, keeps the tag whatever the model says (see ``_with_platform``): the
        model is not run for it (a Persian-tagged Persian post, an Arabic-tagged Arabic one). Its
        row is left at zero, so its model guess is uncertain and the tag decides. Latin-script
        posts always need the model: a tag of en or und may hide Finglish."""
        model = self.model
        settled = np.fromiter(
            (
                (code := _platform_code(tag)) is not None and code != FINGLISH and _TAG_SCRIPT.get(code, LATIN) != LATIN
                for tag in tags
            ),
            dtype=bool,
            count=len(tags),
        )
        settled &= script == np.fromiter(
            (_TAG_SCRIPT.get(_platform_code(tag) or "", LATIN) for tag in tags), dtype=np.int64, count=len(tags)
        )
        if not settled.any():
            return model.scores(codepoints, ends)
        scores = np.zeros((len(ends), len(model.languages)), dtype=np.float64)
        needed = ~settled
        if needed.any():
            lengths = np.diff(ends, prepend=0)
            keep = np.repeat(needed, lengths)
            scores[needed] = model.scores(codepoints[keep], np.cumsum(lengths[needed]))
        return scores

    def _guess(self, text: str, script: int, share: float, letters: int, best: str, p_best: float) -> LanguageGuess:
        if letters < MIN_LETTERS:
            return LanguageGuess(None, 0.0, "script")
        lang: str | None
        if script in (HAN, KANA):
            lang = "ja" if any("\u3040" <= c <= "\u30ff" for c in text) else "zh"
        elif script == CYRILLIC:
            lang = "uk" if _UKRAINIAN.search(text) else "ru"
        elif script == ARABIC and _URDU.search(text):
            lang = "ur"
        elif script == ARABIC and _SORANI.search(text):
            lang = "ckb"
        else:
            lang = _SCRIPT_LANG.get(script)
        if lang is not None or script not in self.model.scripts:
            confidence = share if lang is not None else 0.0
            return LanguageGuess(lang if confidence >= self.threshold else None, confidence, "script")
        confidence = p_best * share
        return LanguageGuess(best if confidence >= self.threshold else None, confidence, "model")

    def _with_platform(
        self, guess: LanguageGuess, tag: str, script: int, letters: int, p_finglish: float
    ) -> LanguageGuess:
        if letters < MIN_LETTERS:
            return LanguageGuess(tag, PLATFORM_CONFIDENCE, "platform")
        expected = LATIN if tag == FINGLISH else _TAG_SCRIPT.get(tag, LATIN)
        if expected == HAN and script == KANA:
            expected = KANA
        if tag == "fa" and script == LATIN:  # Persian by the platform, Latin letters: Finglish if plausible
            return LanguageGuess(FINGLISH, PLATFORM_CONFIDENCE, "platform") if p_finglish >= 0.5 else guess
        if expected != script:
            return guess  # the tag contradicts the letters
        if expected == LATIN and tag != FINGLISH and p_finglish >= FINGLISH_OVERRIDE:
            return guess if guess.lang == FINGLISH else LanguageGuess(FINGLISH, p_finglish, "model")
        if guess.lang == tag:
            return LanguageGuess(tag, max(PLATFORM_CONFIDENCE, guess.confidence), "platform")
        return LanguageGuess(tag, PLATFORM_CONFIDENCE, "platform")


_DEFAULT = LanguageIdentifier()


def detect_language(text: str, platform_lang: str | None = None) -> LanguageGuess:
    """The language of one post (raw or normalised text); ``platform_lang`` is the platform's own tag."""
    return _DEFAULT.detect(text, platform_lang)


def detect_many(texts: Iterable[str], platform_langs: Iterable[str | None] | None = None) -> list[LanguageGuess]:
    """The language of each post, vectorised over the batch (the form the pipeline calls)."""
    return _DEFAULT.detect_many(texts, platform_langs)
