"""Information type, informativeness and first-hand (eyewitness) scores for crisis posts.

``Classifier.load().classify_many(items)`` returns one :class:`Classification` per :class:`ClassifyInput`:

* ``informative``: the probability that a post is *related and informative* in the CrisisLexT26 sense
  (it tells something useful about the crisis, not only sympathy, jokes or unrelated chatter);
* ``eyewitness``: the probability that the author reports what they saw, heard or lived themselves
  (CrisisLexT26 ``Eyewitness``, TREC-IS ``FirstPartyObservation``, Joplin "informative direct");
* ``info_types``: a probability for every label of :data:`INFO_TYPES` (they sum to 1).

How it works. A post is cleaned (links and mentions removed, lower case, Arabic and Persian letter
variants folded, digits written as 0) and turned into hashed features: word unigrams and word pairs,
character n-grams (:data:`CHAR_ORDERS`), a few structural facts (links, photos/videos, geotag, repost,
length, mentions, hashtags, ``?``/``!``, numbers, "short without a link" as in the USGS tweet earthquake
detector) and *cue concepts* from a hand-written English/Arabic/Persian lexicon, with Spanish, Italian,
Portuguese, French and Tagalog cues (``data/classify_cues.txt``:
first person, perception verbs, "here/now", casualties, damage, needs, protest ...). One linear layer maps
them to logits for the three heads; it is trained by ``scripts/train_classifier.py`` on the development data
and shipped as ``data/classify.npz`` (weights in float16, no text).

Languages. English, Arabic (Kawarith) and the Spanish/Italian/Portuguese posts of CrisisLexT26 are in the
training data. Persian has no labelled crisis corpus, so Persian posts (``lang`` ``fa`` or ``fa-Latn``, or
Arabic-script posts with Persian letters when ``lang`` is None) are scored by a second, language-independent
layer that sees only the structural features and the cue concepts, trained on the same data: what the
English and Arabic cues taught it is carried to Persian through the Persian cues.

Probabilities are calibrated on posts of events the model had not seen (leave-events-out predictions
during training): ``informative`` and ``eyewitness`` with Platt scaling, the types with a temperature.
The thresholds above which a post counts as informative or eyewitness are fixed in the weights file too
(``Classifier.informative_threshold`` and ``Classifier.eyewitness_threshold``): they maximise F1 on
those held-out predictions. Type probabilities get a fixed per-label offset (logit adjustment) that
lifts rare labels, also chosen on held-out predictions. Only the first :data:`MAX_CHARS` characters of
a post are read.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "CHAR_ORDERS",
    "INFO_TYPES",
    "STRUCTURE",
    "Classification",
    "Classifier",
    "ClassifierModel",
    "ClassifyInput",
    "Features",
    "Featuriser",
    "concepts",
]

INFO_TYPES: tuple[str, ...] = (
    "casualties",  # people injured or killed
    "missing_found",  # people missing, trapped, found, rescued
    "displaced_evacuation",  # evacuations, shelters, people who lost their home
    "infrastructure_damage",  # damage to buildings, roads, power, water, internet
    "needs_requests",  # urgent needs and requests for help
    "donations_volunteering",  # donations, volunteering, relief and rescue efforts
    "caution_advice",  # warnings, advice, official instructions, forecasts
    "sympathy_support",  # prayers, condolences, emotional support
    "opinion_criticism",  # opinions and criticism (of authorities, of the response)
    "other_relevant",  # other useful information about the crisis
    "not_relevant",  # not about the crisis, or of no use
)
HEADS = ("informative", "eyewitness")  # binary heads, the first columns of the weights
CHAR_ORDERS = (4,)
BITS = 17
PERSIAN_LANGS = frozenset(("fa", "fa-Latn"))
# Structural features, one reserved weight row each (documented in the module docstring).
STRUCTURE: tuple[str, ...] = (
    "links_0",
    "links_1",
    "links_2+",
    "media",
    "geotag",
    "repost",
    "mentions_1",
    "mentions_2+",
    "hashtags_1-2",
    "hashtags_3+",
    "words_0-5",
    "words_6-12",
    "words_13-20",
    "words_21+",
    "question",
    "exclamation",
    "number",
    "short_no_link",  # at most 10 words, no link, not a repost: the USGS "eyewitness" heuristic
    "arabic_script",
)
_CUES_FILE = "data/classify_cues.txt"
_MODEL_FILE = "data/classify.npz"


class ClassifyInput(NamedTuple):
    """What the classifier reads from a post."""

    text: str  # the post's readable text (as posted)
    lang: str | None = None  # detected language code ("fa", "ar", "en", "fa-Latn", ...) or None
    media: int = 0  # number of photos/videos attached
    geotagged: bool = False  # has a point geotag
    links: int = 0  # number of links
    repost: bool = False


@dataclass(frozen=True, slots=True)
class Classification:
    """Calibrated probabilities for one post."""

    informative: float  # P(informative)
    eyewitness: float  # P(first-hand report)
    info_types: dict[str, float]  # every label of INFO_TYPES -> probability (they sum to 1)

    @property
    def info_type(self) -> str:
        """The most likely label of :data:`INFO_TYPES`."""
        return max(self.info_types, key=self.info_types.__getitem__)


# --- cleaning ---------------------------------------------------------------------------------------------

_SEP = "\x01"  # joins the batch into one string so that each step runs once per batch, not once per post
# links, @mentions (also user@instance.social) and HTML entities, removed in one pass
_STRIP_RE = re.compile(r"https?://\S*|www\.\S+|[@＠]\w+(?:@[\w\-]+(?:\.[\w\-]+)+)?|&(?:amp|lt|gt|quot|#\d+);")
_SPACE, _MARK, _DROP = 32, 1, 0
MAX_CHARS = 1000


def _fold_table() -> npt.NDArray[np.uint32]:
    """What each BMP code point becomes: itself (a letter), a space (not a letter or digit), 0 (dropped)."""
    table = np.array([c if chr(c).isalnum() else _SPACE for c in range(0x10000)], dtype=np.uint32)
    for digits in ("0123456789", "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"):
        table[[ord(char) for char in digits]] = ord("0")  # that a number is there counts, not its value
    folds = {"ك": "ک", "ي": "ی", "ى": "ی", "ة": "ه", "ۀ": "ه", "أ": "ا", "إ": "ا", "ٱ": "ا", "آ": "ا", "ؤ": "و"}
    for source, target in folds.items():
        table[ord(source)] = ord(target)  # Arabic and Persian spellings of the same word meet
    dropped = [*range(0x064B, 0x0660), 0x0670, 0x0640, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0xFEFF, 0x27, 0x2019]
    table[dropped] = _DROP  # diacritics, tatweel, zero-width marks (ZWNJ joins the word), apostrophes
    table[_MARK] = _MARK
    return table


@functools.cache
def _fold() -> npt.NDArray[np.uint32]:
    return _fold_table()


class Cleaned(NamedTuple):
    """The batch's words as one code point array: post i is ``codepoints[ends[i-1]:ends[i]]``, written
    `` w1 w2 ... `` (one space between words and either side; a lone space when it has none); and counts
    per post, taken from the text as typed, of the :data:`_COUNTED` characters (columns in that order)."""

    codepoints: npt.NDArray[np.uint64]
    ends: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]  # (posts, len(_COUNTED))


# Characters counted in the text as typed: links (each "://"), @mentions, hashtags, question and
# exclamation marks, and letters Persian writes and Arabic does not (ک and ی, not the Arabic ك and ي,
# which the folding makes equal).
_COUNTED = ("://", "@", "#", "?", "!", "persian")


@functools.cache
def _count_table() -> npt.NDArray[np.int8]:
    table = np.full(0x10000, -1, dtype=np.int8)
    for column, chars in enumerate(("", "@＠", "#＃", "?؟", "!", "پچژگکی")):
        for char in chars:
            table[ord(char)] = column
    return table


def _per_post(mask: npt.NDArray[np.bool_], bounds: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """How many marked positions each post has; post i ends at ``bounds[i]`` (exclusive)."""
    cumulative = np.concatenate([[0], np.cumsum(mask)])
    return np.diff(cumulative[bounds], prepend=0)


def clean_batch(texts: Sequence[str]) -> Cleaned:
    """Links, mentions and entities removed, lower case, letters folded, everything else a space.

    Only the first :data:`MAX_CHARS` characters of a post are read: what it is about is said early, and
    it bounds the time a very long post costs."""
    joined = f" {_SEP} ".join(text[:MAX_CHARS].replace(_SEP, " ") for text in texts)
    typed = np.frombuffer(f"{joined} ".encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    typed_bounds = np.append(np.flatnonzero(typed == _MARK), len(typed)).astype(np.int64)
    kinds = _count_table()[np.minimum(typed, 0xFFFF)]
    scheme = np.zeros(len(typed), dtype=np.bool_)
    scheme[:-2] = (typed[:-2] == ord(":")) & (typed[1:-1] == ord("/")) & (typed[2:] == ord("/"))
    counts = np.stack(
        [_per_post(scheme, typed_bounds)]
        + [_per_post(kinds == column, typed_bounds) for column in range(1, len(_COUNTED))],
        axis=1,
    )
    joined = _STRIP_RE.sub(" ", joined).lower()
    raw = np.frombuffer(f" {joined} ".encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    folded = _fold()[np.minimum(raw, 0xFFFF)]
    folded[raw > 0xFFFF] = _SPACE  # emoji and other astral characters
    folded = folded[folded != _DROP]
    repeated = (folded == _SPACE) & (np.concatenate([[0], folded[:-1]]) == _SPACE)
    folded = folded[~repeated]
    marks = np.flatnonzero(folded == _MARK)
    codepoints = np.delete(folded, marks).astype(np.uint64)
    ends = np.append(marks - np.arange(len(marks)), len(codepoints)).astype(np.int64)
    return Cleaned(codepoints, ends, counts)


def clean_many(texts: Sequence[str]) -> list[str]:
    """The words the model sees, as strings (for reading and tests; the model uses :func:`clean_batch`)."""
    cleaned = clean_batch(texts)
    text = cleaned.codepoints.astype(np.uint32).tobytes().decode("utf-32-le")
    starts = np.concatenate([[0], cleaned.ends[:-1]])
    return [text[a:b] for a, b in zip(starts.tolist(), cleaned.ends.tolist(), strict=True)]


# --- hashing ----------------------------------------------------------------------------------------------

_RADIX = 1_000_003  # odd, so it has an inverse modulo 2**64
_RADIX_INV = pow(_RADIX, -1, 1 << 64)
_FIBONACCI = np.uint64(0x9E3779B97F4A7C15)
_PAIR = np.uint64(0xC2B2AE3D27D4EB4F)
_SALT_WORD, _SALT_PAIR = np.uint64(0x51), np.uint64(0x7F4A7C15)


@functools.cache
def _powers(size: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """RADIX**i and RADIX**-i modulo 2**64 for i < size (numpy's uint64 products wrap, as wanted)."""
    with np.errstate(over="ignore"):
        forward = np.cumprod(np.full(size, _RADIX, dtype=np.uint64))
        backward = np.cumprod(np.full(size, _RADIX_INV, dtype=np.uint64))
    one = np.ones(1, dtype=np.uint64)
    return np.concatenate([one, forward[:-1]]).astype(np.uint64), np.concatenate([one, backward[:-1]]).astype(np.uint64)


def _bucket(hashes: npt.NDArray[np.uint64], bits: int) -> npt.NDArray[np.int64]:
    with np.errstate(over="ignore"):
        mixed = (hashes ^ (hashes >> np.uint64(29))) * _FIBONACCI
    return (mixed >> np.uint64(64 - bits)).astype(np.int64)


class Words(NamedTuple):
    """Hash and post of every word and of every pair of neighbouring words."""

    words: npt.NDArray[np.uint64]
    word_owner: npt.NDArray[np.int64]
    pairs: npt.NDArray[np.uint64]
    pair_owner: npt.NDArray[np.int64]


def word_hashes(cleaned: Cleaned) -> Words:
    codepoints, ends = cleaned.codepoints, cleaned.ends
    size = len(codepoints)
    if size == 0:
        empty_u, empty_i = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        return Words(empty_u, empty_i, empty_u, empty_i)
    letter = codepoints != _SPACE
    before = np.concatenate([[False], letter[:-1]])
    after = np.concatenate([letter[1:], [False]])
    starts = np.flatnonzero(letter & ~before)
    stops = np.flatnonzero(letter & ~after) + 1
    forward, backward = _powers(1 << max(12, (size - 1).bit_length()))
    with np.errstate(over="ignore"):
        prefix = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(codepoints * forward[:size])])
        # sum of c_j * R**(j - start) over the word: the same wherever the word sits in the batch
        words = (prefix[stops] - prefix[starts]) * backward[starts] + _SALT_WORD
        owner = np.searchsorted(ends, starts, side="right").astype(np.int64)
        same = owner[1:] == owner[:-1]
        pairs = (words[:-1] * _PAIR + words[1:] + _SALT_PAIR)[same]
    return Words(words, owner, pairs, owner[:-1][same])


class Features(NamedTuple):
    """A batch as a sparse matrix: row ``owner[j]`` has a 1 in column ``index[j]``. Hashed features come
    as families (words, word pairs, each n-gram order), each sorted by owner; hashed columns of a row are
    scaled by ``scale[row]``, reserved ones (structure, cue concepts) are not."""

    hashed: tuple[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]], ...]  # (index, owner) per family
    reserved_index: npt.NDArray[np.int64]
    reserved_owner: npt.NDArray[np.int64]
    scale: npt.NDArray[np.float32]
    persian: npt.NDArray[np.bool_]


def concepts(path: str | Path | None = None) -> dict[str, list[str]]:
    """The cue lexicon: concept -> cues (all languages), in file order."""
    if path is None:
        text = resources.files("groundspeed.understand").joinpath(_CUES_FILE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    lexicon: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        head, _, cues = line.partition(":")
        concept = head.split()[0]
        lexicon.setdefault(concept, []).extend(cue.strip() for cue in cues.split(",") if cue.strip())
    return lexicon


class Featuriser:
    """Turns posts into :class:`Features` (shared by inference and training, so both see the same)."""

    def __init__(self, bits: int = BITS, char_orders: tuple[int, ...] = CHAR_ORDERS) -> None:
        self.bits = bits
        self.char_orders = char_orders
        self.lexicon = concepts()
        self.concept_names = tuple(self.lexicon)
        self.n_reserved = len(STRUCTURE) + len(self.concept_names)
        self.n_columns = (1 << bits) + self.n_reserved
        keys: list[int] = []
        values: list[int] = []
        for number, concept in enumerate(self.concept_names):
            for cue in self.lexicon[concept]:
                found = word_hashes(clean_batch([cue]))
                hashes = found.pairs if len(found.words) == 2 else found.words
                if len(hashes) == 1:
                    keys.append(int(hashes[0]))
                    values.append(len(STRUCTURE) + number)
        order = np.argsort(np.asarray(keys, dtype=np.uint64), kind="stable")
        self._cue_keys = np.asarray(keys, dtype=np.uint64)[order]
        self._cue_values = np.asarray(values, dtype=np.int64)[order]
        self._cue_prefix = np.zeros(1 << 16, dtype=np.bool_)
        self._cue_prefix[(self._cue_keys >> np.uint64(48)).astype(np.int64)] = True

    def featurise(self, items: Sequence[ClassifyInput]) -> Features:
        n = len(items)
        cleaned = clean_batch([item.text for item in items])
        codepoints, ends = cleaned.codepoints, cleaned.ends
        found = word_hashes(cleaned)
        lengths = np.diff(ends, prepend=0)
        hashed = [_bucket(found.words, self.bits), _bucket(found.pairs, self.bits)]
        owners = [found.word_owner, found.pair_owner]
        size = len(codepoints)
        if size and self.char_orders:
            position_owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
            room = ends[position_owner] - np.arange(size, dtype=np.int64)  # characters left in the post
            padded = np.concatenate([codepoints, np.zeros(max(self.char_orders), dtype=np.uint64)])
            rolling = codepoints.copy()
            with np.errstate(over="ignore"):
                for order in range(2, max(self.char_orders) + 1):
                    rolling = rolling * np.uint64(_RADIX) ^ padded[order - 1 : order - 1 + size]
                    if order in self.char_orders:
                        keep = room >= order
                        hashed.append(_bucket(rolling[keep] + np.uint64(order), self.bits))
                        owners.append(position_owner[keep])
        counts = np.zeros(n, dtype=np.int64)
        for owner in owners:
            counts += np.bincount(owner, minlength=n)
        scale = (1.0 / np.sqrt(np.maximum(counts, 1))).astype(np.float32)
        cue_index, cue_owner = self._cues(
            np.concatenate([found.words, found.pairs]), np.concatenate([found.word_owner, found.pair_owner])
        )
        structure_owner, structure_index = self._structure(items, cleaned, found.word_owner)
        reserved_owner = np.concatenate([structure_owner, cue_owner])
        by_owner = np.argsort(reserved_owner, kind="stable")
        reserved_index = (np.concatenate([structure_index, cue_index]) + (1 << self.bits))[by_owner]
        return Features(
            tuple(zip(hashed, owners, strict=True)),
            reserved_index,
            reserved_owner[by_owner],
            scale,
            self._persian(items, cleaned),
        )

    def _cues(
        self, hashes: npt.NDArray[np.uint64], owner: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        if not len(self._cue_keys) or not len(hashes):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # a cheap first look (top 16 bits of the hash) leaves few hashes for the binary search
        candidates = np.flatnonzero(self._cue_prefix[(hashes >> np.uint64(48)).astype(np.int64)])
        hashes, owner = hashes[candidates], owner[candidates]
        where = np.minimum(np.searchsorted(self._cue_keys, hashes), len(self._cue_keys) - 1)
        hit = self._cue_keys[where] == hashes
        # one feature per concept and post, however many cues of the concept it holds
        pairs = np.unique(owner[hit] * self.n_reserved + self._cue_values[where[hit]])
        return pairs % self.n_reserved, pairs // self.n_reserved

    @staticmethod
    def _per_post(cleaned: Cleaned, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """How many positions of each post ``mask`` marks."""
        cumulative = np.concatenate([[0], np.cumsum(mask)])
        return np.diff(cumulative[cleaned.ends], prepend=0)

    def _structure(
        self, items: Sequence[ClassifyInput], cleaned: Cleaned, word_owner: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(owner, column) of every structural feature that is on."""
        n = len(items)
        n_words = np.bincount(word_owner, minlength=n)
        counted = cleaned.counts
        links = np.maximum(np.fromiter((item.links for item in items), np.int64, n), counted[:, 0])
        media = np.fromiter((item.media for item in items), np.int64, n)
        geotag = np.fromiter((item.geotagged for item in items), np.int64, n)
        repost = np.fromiter((item.repost or item.text[:3].lower() == "rt " for item in items), np.int64, n)
        mentions, hashtags, question, exclaim = counted[:, 1], counted[:, 2], counted[:, 3], counted[:, 4]
        codepoints = cleaned.codepoints
        number = self._per_post(cleaned, codepoints == ord("0")) > 0
        arabic = self._per_post(cleaned, (codepoints >= 0x600) & (codepoints <= 0x6FF)) > 0
        flags = np.stack(
            [
                links == 0,
                links == 1,
                links >= 2,
                media > 0,
                geotag > 0,
                repost > 0,
                mentions == 1,
                mentions >= 2,
                (hashtags >= 1) & (hashtags <= 2),
                hashtags >= 3,
                n_words <= 5,
                (n_words >= 6) & (n_words <= 12),
                (n_words >= 13) & (n_words <= 20),
                n_words >= 21,
                question > 0,
                exclaim > 0,
                number,
                (n_words <= 10) & (links == 0) & (repost == 0),
                arabic,
            ],
            axis=1,
        )
        owner, column = np.nonzero(flags)
        return owner.astype(np.int64), column.astype(np.int64)

    @staticmethod
    def _persian(items: Sequence[ClassifyInput], cleaned: Cleaned) -> npt.NDArray[np.bool_]:
        """Posts the language-independent layer scores: Persian by ``lang``, or by its letters when None."""
        langs = [item.lang for item in items]
        tagged = np.fromiter((lang in PERSIAN_LANGS for lang in langs), np.bool_, len(items))
        unknown = np.fromiter((lang is None for lang in langs), np.bool_, len(items))
        return tagged | (unknown & (cleaned.counts[:, _COUNTED.index("persian")] > 0))


# --- the model ------------------------------------------------------------------------------------------


def segment_sum(values: npt.NDArray[np.float32], owner: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.float32]:
    """Sum of the rows of ``values`` per owner (owners sorted ascending), shape (n, columns)."""
    out = np.zeros((n, values.shape[1]), dtype=np.float32)
    if len(owner) == 0:
        return out
    boundaries = np.flatnonzero(np.concatenate([[True], owner[1:] != owner[:-1]]))
    out[owner[boundaries]] = np.add.reduceat(values, boundaries, axis=0)
    return out


@dataclass(frozen=True)
class ClassifierModel:
    """The trained weights: ``weights`` (hashed + reserved columns, heads) for the full model,
    ``concept_weights`` (reserved columns, heads) for the language-independent one used on Persian posts."""

    weights: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]
    concept_weights: npt.NDArray[np.float32]
    concept_bias: npt.NDArray[np.float32]
    platt: npt.NDArray[np.float64]  # (model 0 full / 1 concept, head, [a, b]): p = sigmoid(a * logit + b)
    temperature: npt.NDArray[np.float64]  # (model,) for the type softmax
    type_offset: npt.NDArray[np.float64]  # (model, types) added to the type logits: lifts rare types
    thresholds: dict[str, float]
    bits: int
    char_orders: tuple[int, ...]

    @classmethod
    def load(cls, path: str | Path | None = None) -> ClassifierModel:
        """The trained weights from ``path``, or the ones shipped in the package."""
        if path is None:
            data = resources.files("groundspeed.understand").joinpath(_MODEL_FILE).read_bytes()
        else:
            data = Path(path).read_bytes()
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            labels = tuple(str(x) for x in npz["labels"])
            if labels != HEADS + INFO_TYPES:
                msg = f"classifier weights are for labels {labels}, this code expects {HEADS + INFO_TYPES}"
                raise ValueError(msg)
            return cls(
                weights=npz["weights"].astype(np.float32),
                bias=npz["bias"].astype(np.float32),
                concept_weights=npz["concept_weights"].astype(np.float32),
                concept_bias=npz["concept_bias"].astype(np.float32),
                platt=npz["platt"].astype(np.float64),
                temperature=npz["temperature"].astype(np.float64),
                type_offset=npz["type_offset"].astype(np.float64),
                thresholds={str(k): float(v) for k, v in zip(npz["threshold_names"], npz["thresholds"], strict=True)},
                bits=int(npz["bits"]),
                char_orders=tuple(int(x) for x in npz["char_orders"]),
            )

    def logits(self, features: Features, n: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Raw logits of the full and of the concept model, each (n, heads)."""
        hashed = np.zeros((n, self.weights.shape[1]), dtype=np.float32)
        for index, owner in features.hashed:
            # np.take is several times faster than fancy indexing for gathering rows
            hashed += segment_sum(np.take(self.weights, index, axis=0), owner, n)
        reserved = segment_sum(np.take(self.weights, features.reserved_index, axis=0), features.reserved_owner, n)
        start = 1 << self.bits
        concept_rows = np.take(self.concept_weights, features.reserved_index - start, axis=0)
        concept = segment_sum(concept_rows, features.reserved_owner, n)
        full_logits = hashed * features.scale[:, None] + reserved + self.bias
        return full_logits, concept + self.concept_bias

    def probabilities(self, features: Features, n: int) -> npt.NDArray[np.float64]:
        """Calibrated (n, heads) probabilities: the binary heads, then the type distribution."""
        full, concept = self.logits(features, n)
        out = np.empty((n, full.shape[1]), dtype=np.float64)
        for model, raw in enumerate((full, concept)):
            rows = features.persian if model == 1 else ~features.persian
            if not rows.any():
                continue
            logits = raw[rows].astype(np.float64)
            binary = self.platt[model, :, 0] * logits[:, : len(HEADS)] + self.platt[model, :, 1]
            types = (logits[:, len(HEADS) :] + self.type_offset[model]) / self.temperature[model]
            types = np.exp(types - types.max(axis=1, keepdims=True))
            out[rows, : len(HEADS)] = 1.0 / (1.0 + np.exp(-binary))
            out[rows, len(HEADS) :] = types / types.sum(axis=1, keepdims=True)
        return out


@functools.cache
def _shipped() -> Classifier:
    return Classifier(ClassifierModel.load())


class Classifier:
    """Scores posts with a :class:`ClassifierModel` (``load()`` gives the shipped one, cached)."""

    def __init__(self, model: ClassifierModel) -> None:
        self.model = model
        self.featuriser = Featuriser(model.bits, model.char_orders)
        if model.weights.shape[0] != self.featuriser.n_columns:
            msg = "classifier weights do not match the cue lexicon (data/classify_cues.txt changed?): retrain them"
            raise ValueError(msg)
        self.informative_threshold = model.thresholds.get("informative", 0.5)
        self.eyewitness_threshold = model.thresholds.get("eyewitness", 0.5)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Classifier:
        """The shipped model (cached), or the weights in ``path``."""
        return _shipped() if path is None else cls(ClassifierModel.load(path))

    def probabilities(self, items: Sequence[ClassifyInput]) -> npt.NDArray[np.float64]:
        """(posts, 2 + len(INFO_TYPES)): P(informative), P(eyewitness), then P(type) per INFO_TYPES."""
        return self.model.probabilities(self.featuriser.featurise(items), len(items))

    def classify_many(self, items: Sequence[ClassifyInput]) -> list[Classification]:
        """One :class:`Classification` per item, computed for the whole batch at once."""
        if not items:
            return []
        probs = self.probabilities(items)
        heads = len(HEADS)
        types = probs[:, heads:].tolist()
        return [
            Classification(informative, eyewitness, dict(zip(INFO_TYPES, row)))  # noqa: B905 (same length)
            for informative, eyewitness, row in zip(probs[:, 0].tolist(), probs[:, 1].tolist(), types)  # noqa: B905
        ]
